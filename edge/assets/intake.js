// Police notice intake (child-welfare clerk): upload, the live inbox, review beside the
// image crops with low-confidence or flagged fields highlighted, each flag's reason shown
// (each must be confirmed or corrected), save as a case.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("intake-config").textContent);
  var en = cfg.lang === "en";
  function t(ja, e) { return en ? e : ja; }
  var STATUS = { reading: t("読み取り中", "Reading"), ready: t("確認待ち", "To review"),
    failed: t("読み取れず", "Unreadable"), saved: t("保存済", "Saved") };
  var REVIEW_BELOW = 0.8;
  var REQUIRED = ["notice_date", "child_name", "child_birth_date", "abuse_type"];
  var current = null;

  function show(el, text) { el.textContent = text || ""; el.hidden = !text; }

  function renderScans(list) {
    var tb = document.querySelector("#scans tbody");
    tb.textContent = "";
    list.forEach(function (s) {
      var tr = document.createElement("tr");
      tr.dataset.scan = s.id;
      tr.dataset.status = s.status;
      var when = new Date(s.received_ms).toLocaleString(en ? "en-GB" : "ja-JP");
      [s.file, when, STATUS[s.status] + (s.origin === "hot_folder" ? t("（スキャナー）", " (scanner)") : "")]
        .forEach(function (x) { var td = document.createElement("td"); td.textContent = x; tr.appendChild(td); });
      var td = document.createElement("td");
      if (s.status === "ready" || s.status === "failed") {
        var b = document.createElement("button");
        b.type = "button"; b.textContent = t("確認する", "Review");
        b.dataset.testid = "review";
        b.addEventListener("click", function () { open(s.id); });
        td.appendChild(b);
      }
      tr.appendChild(td);
      tb.appendChild(tr);
    });
  }

  function listen() {
    var es = new EventSource("/api/intake/events");
    es.onmessage = function (m) { renderScans(JSON.parse(m.data).scans); };
  }

  async function upload(file) {
    var msg = document.getElementById("upload-message");
    show(msg, "");
    try {
      var r = await fetch("/api/intake/scans?name=" + encodeURIComponent(file.name), {
        method: "POST", headers: { "content-type": "application/octet-stream" }, body: file });
      var b = await r.json().catch(function () { return {}; });
      if (!r.ok) { show(msg, t("受け付けできません: ", "Not accepted: ") + (b.message || r.status)); }
    } catch (e) {
      show(msg, t("送信できません（通信）: ", "Could not send (network): ") + e.message);
    }
  }

  async function open(id) {
    var r = await fetch("/api/intake/scans/" + id);
    if (!r.ok) { return; }
    var s = await r.json();
    current = s;
    var sec = document.getElementById("review");
    sec.hidden = false;
    document.getElementById("review-title").textContent = s.file;
    show(document.getElementById("review-error"), s.error ? t("読み取れませんでした。手入力してください: ", "Could not be read; type it in: ") + s.error.message : "");
    show(document.getElementById("save-message"), "");
    var fields = (s.result && s.result.fields) || {};
    cfg.fields.forEach(function (f) {
      var div = document.querySelector('.field[data-field="' + f.name + '"]');
      var input = document.getElementById("f-" + f.name);
      var got = fields[f.name] || { value: null, confidence: 0, review: true };
      var value = got.value == null ? "" : String(got.value);
      if (input.tagName === "SELECT" && value && !Array.prototype.some.call(input.options, function (o) { return o.value === value; })) {
        // A reading that is no code: shown as read, to be chosen again (the box refuses it).
        var o = document.createElement("option");
        o.value = value; o.textContent = value + t("（読み取りのまま）", " (as read)"); o.dataset.read = "1";
        input.appendChild(o);
      }
      input.value = value;
      input.dataset.read = input.value;
      var flags = got.flags || [];
      var low = got.review || got.confidence < REVIEW_BELOW || flags.length > 0;
      div.classList.toggle("low", low);
      div.querySelector(".conf").textContent = " " + Math.round((got.confidence || 0) * 100) + "%" + (low ? t("　要確認", "  check") : "");
      // The box's reasons (label text read into the value, characters foreign to the
      // field …): shown whatever the confidence.
      var ul = div.querySelector("ul.flags");
      ul.textContent = "";
      flags.forEach(function (fl) {
        var li = document.createElement("li");
        li.dataset.flag = fl.code;
        li.textContent = t("要確認: ", "Check: ") + (en ? fl.en : fl.ja);
        ul.appendChild(li);
      });
      ul.hidden = flags.length === 0;
      var old = div.querySelector("label.confirm");
      if (old) { old.remove(); }
      if (low) {
        var lab = document.createElement("label");
        lab.className = "confirm";
        var cb = document.createElement("input");
        cb.type = "checkbox"; cb.dataset.confirm = f.name;
        lab.appendChild(cb);
        lab.appendChild(document.createTextNode(t(" 画像と照らして確認しました", " Checked against the image")));
        div.appendChild(lab);
        input.addEventListener(input.tagName === "SELECT" ? "change" : "input", function () { cb.checked = true; }, { once: true });
      }
      var img = div.querySelector("img.crop");
      img.hidden = true;
      img.onload = function () { img.hidden = false; };
      img.onerror = function () { img.hidden = true; };
      img.src = "/api/intake/scans/" + s.id + "/crops/" + f.name;
    });
    var res = (s.result && s.result.resident_id) || "";
    document.getElementById("f-resident").value = res;
    var m = s.result && s.result.match;
    document.getElementById("review-match").textContent = res
      ? t("住民記録と一致: ", "Matched in the register: ") + res + (m && m.matched_on ? "（" + m.matched_on + "）" : "")
      : t("住民記録との一致なし", "No match in the register");
    sec.scrollIntoView({ behavior: "smooth" });
  }

  async function save() {
    var msg = document.getElementById("save-message");
    if (!current) { return; }
    var open = Array.prototype.filter.call(document.querySelectorAll("input[data-confirm]"), function (c) { return !c.checked; });
    if (open.length) {
      show(msg, t("要確認の項目を確認してください: ", "Check the highlighted fields first: ") +
        open.map(function (c) { var f = cfg.fields.filter(function (x) { return x.name === c.dataset.confirm; })[0]; return en ? f.en : f.ja; }).join("、"));
      return;
    }
    var fields = {};
    cfg.fields.forEach(function (f) { fields[f.name] = document.getElementById("f-" + f.name).value; });
    // Required before sending (the box refuses them too).
    var empty = REQUIRED.filter(function (k) { return !fields[k].trim(); }).map(function (k) {
      var f = cfg.fields.filter(function (x) { return x.name === k; })[0]; return en ? f.en : f.ja; });
    if (empty.length) { show(msg, t("必須の項目が空です: ", "Required fields are empty: ") + empty.join(t("、", ", "))); return; }
    var body = { fields: fields, resident_id: document.getElementById("f-resident").value };
    try {
      var r = await fetch("/api/intake/scans/" + current.id + "/case", {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      var b = await r.json().catch(function () { return {}; });
      if (!r.ok) { show(msg, t("保存できません: ", "Not saved: ") + (b.message || r.status)); return; }
      show(msg, "");
      document.getElementById("review").hidden = true;
      current = null;
      var up = document.getElementById("upload-message");
      up.classList.remove("error");
      show(up, t("事案として保存しました。", "Saved as a case."));
    } catch (e) {
      show(msg, t("送信できません（通信）。もう一度保存してください: ", "Could not send (network); save again: ") + e.message);
    }
  }

  document.getElementById("upload").addEventListener("change", function (e) {
    Array.prototype.forEach.call(e.target.files, upload);
    e.target.value = "";
  });
  document.getElementById("save-case").addEventListener("click", save);
  listen();
})();
