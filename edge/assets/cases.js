// Child-welfare cases, live: every case saved on any box of the venue appears as soon as it
// is replicated here. New arrivals since the page opened are marked. The open case shows its
// photos (to its caseworkers and 係長 and above), a photo taken on any box appearing as soon
// as it is replicated; a caseworker takes one with the tablet's camera or chooses a file.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("cases-config").textContent);
  var en = cfg.lang === "en";
  function t(ja, e) { return en ? e : ja; }
  var ABUSE = { physical: t("身体的虐待", "Physical"), psychological: t("心理的虐待", "Psychological"),
    neglect: t("ネグレクト", "Neglect"), sexual: t("性的虐待", "Sexual") };
  var SEX = { male: t("男", "Male"), female: t("女", "Female") };
  var known = null;
  var open = null; // the case shown below the list
  var shown = {}; // photo id → its figure (each image is fetched, and audited, once)

  function v(c, k) { return (c.fields[k] && c.fields[k].value) || ""; }

  function photos(c) {
    var box = document.getElementById("case-photos");
    if (box.dataset.case !== c.case_id) { box.textContent = ""; box.dataset.case = c.case_id; shown = {}; }
    (c.photos || []).forEach(function (p) {
      if (shown[p.photo_id]) { return; }
      var fig = document.createElement("figure");
      fig.dataset.photo = p.photo_id;
      fig.dataset.added = Date.now();
      var img = document.createElement("img");
      img.alt = (p.note || t("事案の写真", "Case photo")) + " (" + p.taken_by + ")";
      img.src = p.url;
      img.addEventListener("load", function () { fig.dataset.loaded = Date.now(); });
      var cap = document.createElement("figcaption");
      cap.textContent = (p.note ? p.note + " — " : "") + new Date(p.taken_ms).toLocaleString(en ? "en-GB" : "ja-JP") +
        " " + p.taken_by + (p.location ? t("（位置 ", " (at ") + p.location.lat.toFixed(5) + ", " + p.location.lon.toFixed(5) + ")" : "");
      fig.appendChild(img); fig.appendChild(cap);
      box.appendChild(fig);
      shown[p.photo_id] = fig;
    });
    document.getElementById("photo-state").textContent = c.photo_count === 0 ? t("写真はまだありません", "No photos yet") :
        (c.photos || []).length === 0 ? t("写真 " + c.photo_count + "枚（担当の児童福祉司と係長以上が見られます）",
          c.photo_count + " photo(s): for the case's caseworkers and 係長 and above") : "";
  }

  function detail(c) {
    open = c.case_id;
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
    photos(c);
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
       ABUSE[v(c, "abuse_type")] || v(c, "abuse_type"), v(c, "reporting_agency"), c.node,
       String(c.photo_count)].forEach(function (x) {
        var td = document.createElement("td"); td.textContent = x; tr.appendChild(td);
      });
      tr.addEventListener("click", function () { detail(c); });
      tb.appendChild(tr);
      if (open === c.case_id) { photos(c); }
    });
    known = ids;
    document.getElementById("cases-state").textContent = t("事案 ", "Cases: ") + list.length +
      t("件（自動更新中）", " (updating live)");
  }

  var input = document.getElementById("photo-input");
  if (input) {
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file || !open) { return; }
      var msg = document.getElementById("photo-message");
      msg.classList.remove("error");
      msg.textContent = t("送信中…", "Sending…");
      var note = document.getElementById("photo-note").value;
      fetch("/api/cases/" + open + "/photos?note=" + encodeURIComponent(note), { method: "POST", body: file })
        .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
        .then(function (a) {
          msg.dataset.answered = Date.now();
          if (a.ok) {
            msg.textContent = t("保存しました", "Saved") + (a.j.metadata_removed ? t("（位置情報・機種情報を削除）", " (location and camera details removed)") : "");
            document.getElementById("photo-note").value = "";
          } else {
            msg.classList.add("error");
            msg.textContent = a.j.message || a.j.error;
          }
          input.value = "";
        })
        .catch(function () {
          msg.classList.add("error");
          msg.textContent = t("送信できませんでした。もう一度お試しください", "Not sent: try again");
        });
    });
  }

  var es = new EventSource("/api/cases/events");
  es.onmessage = function (m) { render(JSON.parse(m.data).cases); };
  es.onerror = function () { document.getElementById("cases-state").textContent = t("再接続中…", "Reconnecting…"); };
})();
