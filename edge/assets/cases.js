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
    // The Send-again button belongs to the case its photo was chosen for.
    showRetry(!!(pending && pending.caseId === c.case_id));
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

  // Sending a photo. Each photo chosen gets one random key (Idempotency-Key): a resend after
  // a lost answer is kept once by the box. A photo not sent (no network, no answer) is kept
  // in memory with its key and offered again by the 「もう一度送る」 button; the file input is
  // emptied after every outcome, so choosing the same file again is a choice too.
  var input = document.getElementById("photo-input");
  var pending = null; // { file, key, caseId } of the photo not yet sent
  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  function sameFile(a, b) { return a.name === b.name && a.size === b.size && a.lastModified === b.lastModified; }
  function offlineNote() {
    var p = document.getElementById("photo-offline");
    if (p) { p.hidden = !!(window.ceOutbox ? window.ceOutbox.online() : navigator.onLine); }
  }
  function showRetry(on) {
    var b = document.getElementById("photo-retry");
    if (b) { b.hidden = !on; }
  }
  function send(p) {
    var msg = document.getElementById("photo-message");
    msg.classList.remove("error");
    msg.textContent = t("送信中…", "Sending…");
    showRetry(false);
    var note = document.getElementById("photo-note").value;
    fetch("/api/cases/" + p.caseId + "/photos?note=" + encodeURIComponent(note),
        { method: "POST", headers: { "Idempotency-Key": p.key }, body: p.file })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) { return { ok: r.ok, status: r.status, j: j }; });
      })
      .then(function (a) {
        msg.dataset.answered = Date.now();
        offlineNote();
        if (a.ok) {
          pending = null;
          msg.textContent = t("保存しました", "Saved") + (a.j.metadata_removed ? t("（位置情報・機種情報を削除）", " (location and camera details removed)") : "");
          document.getElementById("photo-note").value = "";
        } else if (a.status >= 500 || a.status === 408 || a.status === 429) {
          // Not now (the box busy or stopping): the photo is kept for the button.
          msg.classList.add("error");
          msg.textContent = (a.j.message || t("送信できませんでした", "Not sent")) + t("。「もう一度送る」を押してください", ": press Send again");
          showRetry(true);
        } else {
          // A refusal (too large, not a photo…): sending it again would not help.
          pending = null;
          msg.classList.add("error");
          msg.textContent = a.j.message || a.j.error || t("送れませんでした（" + a.status + "）", "Refused (" + a.status + ")");
        }
      }, function () {
        msg.dataset.answered = Date.now();
        msg.classList.add("error");
        var offline = !navigator.onLine;
        msg.textContent = offline ?
          t("オフラインです。写真は接続が戻ってから「もう一度送る」で送ってください", "Offline: send the photo with Send again when the connection is back") :
          t("送信できませんでした。「もう一度送る」を押してください（写真は保持しています）", "Not sent: press Send again (the photo is kept)");
        offlineNote();
        showRetry(true);
      });
  }
  if (input) {
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      input.value = ""; // the same file chosen again fires `change` again
      if (!file || !open) { return; }
      // The same photo chosen again after a failed send keeps its key (kept once if the
      // first send did reach the box); another photo gets its own.
      var key = pending && pending.caseId === open && sameFile(pending.file, file) ? pending.key : newKey();
      pending = { file: file, key: key, caseId: open };
      send(pending);
    });
    var retry = document.getElementById("photo-retry");
    if (retry) { retry.addEventListener("click", function () { if (pending) { send(pending); } }); }
    window.addEventListener("offline", offlineNote);
    window.addEventListener("online", offlineNote);
    setInterval(offlineNote, 2000); // the outbox learns of an unreachable box by trying
    offlineNote();
  }

  // Back online: the list comes anew on the stream (opened again if it gave up), and the
  // thumbnails that failed to load while offline are fetched again.
  window.addEventListener("online", function () {
    if (es.readyState === EventSource.CLOSED) { connect(); }
    var box = document.getElementById("case-photos");
    if (!box) { return; }
    Array.prototype.forEach.call(box.querySelectorAll("img"), function (img) {
      if (!img.complete || img.naturalWidth === 0) {
        var url = img.src.split("#")[0].split("?")[0];
        img.src = url + "?r=" + Date.now();
      }
    });
  });

  var es = null;
  function connect() {
    es = new EventSource("/api/cases/events");
    es.onmessage = function (m) { render(JSON.parse(m.data).cases); };
    es.onerror = function () { document.getElementById("cases-state").textContent = t("再接続中…", "Reconnecting…"); };
  }
  connect();
})();
