// Shared by the tablet pages: event ids, the page language, messages from the box's stable
// error codes, the outbox every write goes through, the offline banner and in-page dialogs.
(function () {
  "use strict";
  // ceUuid7: a UUIDv7 (48-bit ms timestamp, random rest) chosen on the tablet, so a retried
  // write carries the same event id and the box stores it once.
  window.ceUuid7 = function () {
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    var t = Date.now();
    for (var i = 5; i >= 0; i--) { b[i] = t % 256; t = Math.floor(t / 256); }
    b[6] = (b[6] & 0x0f) | 0x70; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  };

  // The page language: ?lang=, else the lang cookie, else the page's own (Japanese first).
  var q = new URLSearchParams(location.search).get("lang");
  var cookie = (document.cookie.match(/(?:^|;\s*)lang=(ja|en)/) || [])[1];
  var lang = q === "en" || q === "ja" ? q : (cookie || (document.documentElement.lang === "en" ? "en" : "ja"));
  window.ceLang = lang;
  function t(ja, en) { return lang === "en" ? en : ja; }
  window.ceT = t;

  // Messages for the box's stable error codes (and the page's own), in the page language.
  // {name}, {min}, {max}, {missing}, {systolic}, {diastolic}, {code} are filled from `vars`.
  var MESSAGES = {
    nothing_to_save: ["値が入力されていません。保存するものがありません", "Nothing entered: there is nothing to save"],
    out_of_range: ["{name}: {value} は範囲外です（{min}〜{max}）", "{name}: {value} is outside {min}–{max}"],
    not_confirmed: ["確認されなかったため保存していません", "Not saved: the values were not confirmed"],
    correction_cancelled: ["訂正を取りやめました。何も保存していません", "Correction cancelled: nothing was saved"],
    unsent_item: ["{name} は未送信の値があります。送信されてから訂正してください", "{name} has an unsent value: correct it once it is sent"],
    systolic_not_above_diastolic: ["収縮期血圧（{systolic}）は拡張期血圧（{diastolic}）より高くなければなりません。測り直してください",
      "Systolic ({systolic}) must be above diastolic ({diastolic}): measure again"],
    correction_required: ["{name}はすでに保存されています。画面を読み込み直し、訂正として理由を添えてください",
      "{name} is already saved: reload and correct it with a reason"],
    reason_required: ["訂正には理由が必要です", "A correction needs a reason"],
    required_missing: ["必須の質問が未回答です（{missing}）。聞き取って回答を保存してから完了してください",
      "Required questions are unanswered ({missing}): ask, save the answers, then complete"],
    incomplete_station: ["未入力があります（{missing}）。確認のうえ完了してください", "Missing: {missing}. Confirm to complete anyway"],
    confirmation_required: ["{name}: 通常と大きく異なる値です。確認のうえ保存してください", "{name}: an unusual value; confirm it to save"],
    invalid_payload: ["{name}: この値は受け付けられません", "{name}: this value is not accepted"],
    session_not_open: ["この方の受診は開いていません（終了済みか、まだ受付されていません）", "This resident's visit is not open (finished, or not checked in)"],
    forbidden_role: ["この操作の権限がありません", "Your role may not do this"],
    not_signed_in: ["サインインが切れました。サインインし直してください（未送信の記録は保持しています）", "Signed out: sign in again (unsent records are kept)"],
    not_booked: ["本日の予約がありません", "Not booked today"],
    already_checked_in: ["この方はすでに受付済みです", "This resident is already checked in"],
    card_in_use: ["この会場カードは別の方に使用中です", "This venue card is in use for another resident"],
    unknown_course: ["コースが登録されていません。管理者に連絡してください", "Unknown course: call the venue admin"],
    conflict: ["同じ記録番号が別の内容で使われています。画面を読み込み直してください", "This record id was used for something else: reload the page"],
    store_unavailable: ["箱が一時的に保存できません。未送信として保持し、再送します", "The box cannot store right now: kept as unsent and retried"],
    shutting_down: ["箱が停止中です。未送信として保持し、再送します", "The box is shutting down: kept as unsent and retried"],
    offline: ["通信できません。未送信として保持し、通信が戻ったら送ります", "Offline: kept as unsent, sent when the network is back"],
    unknown: ["保存できませんでした（{code}）", "Not saved ({code})"]
  };
  window.ceMessage = function (code, vars) {
    var m = MESSAGES[code] || MESSAGES.unknown;
    var v = Object.assign({ code: code, name: "" }, vars || {});
    return t(m[0], m[1]).replace(/\{(\w+)\}/g, function (_, k) { return v[k] === undefined ? "" : String(v[k]); })
      .replace(/^: /, "");
  };

  // The banner and the outbox count, first on the page.
  var bar = document.createElement("div");
  bar.className = "ce-status";
  var banner = document.createElement("p");
  banner.id = "ce-offline"; banner.className = "ce-offline"; banner.setAttribute("role", "status"); banner.hidden = true;
  banner.textContent = "オフライン — 保存は未送信として保持しています / Offline — saves are kept as unsent";
  var count = document.createElement("p");
  count.id = "ce-outbox"; count.className = "ce-outbox"; count.setAttribute("role", "status"); count.hidden = true;
  bar.appendChild(banner); bar.appendChild(count);
  document.body.insertBefore(bar, document.body.firstChild);

  // The outbox: every write is kept in localStorage (with its client-made id) until the box
  // answers it, sent in order, retried when the network returns and every few seconds, and
  // kept across a reload. The box stores an id once, so a retry is never applied twice.
  // One outbox per staff member: a write is only ever sent under its author's session, so
  // what one person left unsent waits for them, not for whoever signs in next.
  var staff = document.querySelector("[data-staff]");
  var KEY = "ce-outbox" + (staff ? ":" + staff.getAttribute("data-staff") : "");
  var waiting = {};   // entry id -> resolve functions of this page
  var sending = false, reachable = navigator.onLine;
  function load() { try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; } }
  function save(list) { localStorage.setItem(KEY, JSON.stringify(list)); render(); }
  function render() {
    var n = load().length;
    count.hidden = n === 0;
    count.textContent = "未送信 " + n + "件 / " + n + " unsent";
    banner.hidden = reachable && navigator.onLine;
  }
  function settle(entry, answer) {
    save(load().filter(function (e) { return e.id !== entry.id; }));
    (waiting[entry.id] || []).forEach(function (f) { f(answer); });
    var had = !!waiting[entry.id];
    delete waiting[entry.id];
    window.dispatchEvent(new CustomEvent("ce-outbox", { detail: { entry: entry, answer: answer, waited: had } }));
  }
  // Answers that mean "not now" (keep and retry), not "no".
  var RETRY = [401, 408, 425, 429, 500, 502, 503, 504];
  function pump() {
    if (sending) { return; }
    var list = load();
    if (!list.length) { render(); return; }
    var entry = list[0];
    sending = true;
    fetch(entry.url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(entry.body) })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) { return { ok: r.ok, status: r.status, body: j }; });
      })
      .then(function (a) {
        sending = false; reachable = true;
        if (RETRY.indexOf(a.status) >= 0) {
          render();
          window.dispatchEvent(new CustomEvent("ce-outbox-held", { detail: { entry: entry, answer: a } }));
          return;
        }
        settle(entry, a);
        pump();
      }, function () {
        // No answer (offline, or the answer was lost): kept; the same id is sent again.
        sending = false; reachable = false; render();
        window.dispatchEvent(new CustomEvent("ce-outbox-held", { detail: { entry: entry, answer: { ok: false, status: 0, body: { error: "offline" } } } }));
      });
  }
  window.ceOutbox = {
    // Queue a write; the promise settles when the box answers it ({ok, status, body}).
    send: function (url, body, meta) {
      var entry = { id: body.id, url: url, body: body, meta: meta || {}, at: Date.now() };
      var list = load();
      if (!list.some(function (e) { return e.id === entry.id; })) { list.push(entry); save(list); }
      var p = new Promise(function (resolve) { (waiting[entry.id] = waiting[entry.id] || []).push(resolve); });
      pump();
      return p;
    },
    // Entries not yet answered, optionally only those matching `pred`.
    pending: function (pred) { return load().filter(pred || function () { return true; }); },
    online: function () { return reachable && navigator.onLine; },
    flush: pump
  };
  window.addEventListener("online", function () { reachable = true; render(); pump(); });
  window.addEventListener("offline", function () { reachable = false; render(); });
  window.addEventListener("storage", function (e) { if (e.key === KEY) { render(); } });
  setInterval(pump, 4000);
  render();
  pump();

  // In-page dialog (never the browser's confirm/prompt). Returns a promise of
  // {ok, text}; with `reason` a required text field.
  window.ceDialog = function (o) {
    var d = document.createElement("dialog");
    d.className = "ce-dialog"; d.id = "ce-dialog";
    var h = document.createElement("h2"); h.textContent = o.title; d.appendChild(h);
    (o.lines || []).forEach(function (l) { var p = document.createElement("p"); p.textContent = l; d.appendChild(p); });
    if (o.list && o.list.length) {
      var ul = document.createElement("ul"); ul.className = "ce-list";
      o.list.forEach(function (l) { var li = document.createElement("li"); li.textContent = l; ul.appendChild(li); });
      d.appendChild(ul);
    }
    var area = null;
    if (o.reason) {
      var lab = document.createElement("label"); lab.htmlFor = "ce-dialog-reason"; lab.textContent = o.reason;
      area = document.createElement("textarea"); area.id = "ce-dialog-reason"; area.rows = 2; area.required = true;
      d.appendChild(lab); d.appendChild(area);
    }
    var err = document.createElement("p"); err.className = "error"; err.hidden = true; err.setAttribute("role", "alert"); d.appendChild(err);
    var row = document.createElement("div"); row.className = "ce-dialog-buttons";
    // `safe: "cancel"`: going back is the highlighted, focused choice and the dialog's own
    // action (completing without values, say) is the secondary one; `safe: "ok"` focuses it.
    var ok = document.createElement("button"); ok.type = "button"; ok.className = "ce-ok"; ok.textContent = o.ok;
    var no = document.createElement("button"); no.type = "button"; no.className = "ce-cancel secondary"; no.textContent = o.cancel || t("戻る", "Back");
    if (o.safe === "cancel") { no.className = "ce-cancel ce-default"; ok.className = "ce-ok secondary risky"; }
    if (o.safe === "ok") { ok.className = "ce-ok ce-default"; }
    row.appendChild(no); row.appendChild(ok); d.appendChild(row);
    document.body.appendChild(d);
    return new Promise(function (resolve) {
      function close(answer) { d.close(); d.remove(); resolve(answer); }
      ok.addEventListener("click", function () {
        if (area && !area.value.trim()) { err.textContent = window.ceMessage("reason_required"); err.hidden = false; area.focus(); return; }
        close({ ok: true, text: area ? area.value.trim() : "" });
      });
      no.addEventListener("click", function () { close({ ok: false }); });
      d.addEventListener("cancel", function (ev) { ev.preventDefault(); close({ ok: false }); });
      d.showModal();
      if (area) { area.focus(); } else if (o.safe === "ok") { ok.focus(); } else { no.focus(); }
    });
  };
})();
