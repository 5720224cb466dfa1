// Child-welfare cases, live: every case saved on any box of the venue appears as soon as it
// is replicated here. New arrivals since the page opened are marked.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("cases-config").textContent);
  var en = cfg.lang === "en";
  function t(ja, e) { return en ? e : ja; }
  var ABUSE = { physical: t("身体的虐待", "Physical"), psychological: t("心理的虐待", "Psychological"),
    neglect: t("ネグレクト", "Neglect"), sexual: t("性的虐待", "Sexual") };
  var SEX = { male: t("男", "Male"), female: t("女", "Female") };
  var known = null;

  function v(c, k) { return (c.fields[k] && c.fields[k].value) || ""; }

  function detail(c) {
    document.getElementById("case").hidden = false;
    // Titled by child and notice date (the case id is no name for a person).
    var date = v(c, "notice_date") || new Date(c.saved_ms).toISOString().slice(0, 10);
    document.getElementById("case-title").textContent = (v(c, "child_name") || t("（氏名なし）", "(no name)")) +
      t("　" + date + " 通告", " — notice of " + date);
    var dl = document.getElementById("case-fields");
    dl.textContent = "";
    cfg.fields.forEach(function (f) {
      var dt = document.createElement("dt"); dt.textContent = en ? f.en : f.ja;
      var dd = document.createElement("dd");
      var val = v(c, f.name);
      dd.textContent = (f.name === "abuse_type" ? (ABUSE[val] || val) : f.name === "child_sex" ? (SEX[val] || val) : val) +
        (c.fields[f.name] && c.fields[f.name].corrected ? t("（訂正）", " (corrected)") : "");
      dl.appendChild(dt); dl.appendChild(dd);
    });
  }

  function render(list) {
    var tb = document.querySelector("#cases tbody");
    tb.textContent = "";
    var first = known === null;
    var ids = {};
    list.forEach(function (c) {
      ids[c.case_id] = true;
      var tr = document.createElement("tr");
      tr.dataset.case = c.case_id;
      if (!first && !known[c.case_id]) { tr.className = "new"; }
      [new Date(c.saved_ms).toLocaleString(en ? "en-GB" : "ja-JP"), v(c, "child_name"), v(c, "child_birth_date"),
       ABUSE[v(c, "abuse_type")] || v(c, "abuse_type"), v(c, "reporting_agency"), c.node].forEach(function (x) {
        var td = document.createElement("td"); td.textContent = x; tr.appendChild(td);
      });
      tr.addEventListener("click", function () { detail(c); });
      tb.appendChild(tr);
    });
    known = ids;
    document.getElementById("cases-state").textContent = t("事案 ", "Cases: ") + list.length +
      t("件（自動更新中）", " (updating live)");
  }

  var es = new EventSource("/api/cases/events");
  es.onmessage = function (m) { render(JSON.parse(m.data).cases); };
  es.onerror = function () { document.getElementById("cases-state").textContent = t("再接続中…", "Reconnecting…"); };
})();
