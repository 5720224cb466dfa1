// Reception page: live reader events (SSE), PIN pad, card reading, search, check-in (the
// screen cleared for the next resident; no second check-in offered), demo taps.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var pin = "";
  var SEX = { male: "男性 male", female: "女性 female", other: "その他 other" };
  var reader = null;
  // `easy`: the same in やさしい日本語, when the resident is the one to read it.
  function status(ja, en, easy) {
    $("status-title").textContent = ja; $("status-detail").textContent = en;
    $("status-easy").textContent = easy || ""; $("status-easy").hidden = !easy;
  }
  // The PIN pad's line in やさしい日本語 (easy Japanese): the resident reads it.
  var EASY_ASK = "カードの ひみつの ばんごう（すうじ 4つ）を おしてください";
  function easy(text) { $("pin-easy").textContent = text; }
  function showPin(show) { $("pin-pad").hidden = !show; pin = ""; dots(); if (show) { easy(EASY_ASK); } }
  function dots() { $("pin-dots").textContent = "●●●●".slice(0, pin.length) + "○○○○".slice(pin.length); }
  function showResult(fields) {
    var dl = $("result-fields");
    dl.textContent = "";
    fields.forEach(function (f) {
      var dt = document.createElement("dt"); dt.textContent = f[0];
      var dd = document.createElement("dd"); dd.textContent = f[1];
      dl.appendChild(dt); dl.appendChild(dd);
    });
    $("result").hidden = false;
  }
  var cardUid = null, viaMyNumber = false;
  var newId = window.ceUuid7;

  var pendingIds = {};   // resident id -> check-in id not yet answered (a re-press resends it)
  // Check-ins go through the outbox: kept (with their id) until the box answers, retried
  // when the network returns, never opened twice (the box stores an id once).
  function checkIn(r) {
    var id = pendingIds[r.resident_id] || newId();
    pendingIds[r.resident_id] = id;
    var body = { id: id, resident_id: r.resident_id, mynumber: viaMyNumber };
    if (cardUid) { body.card_uid = cardUid; }
    // The card read was used for this resident: never carried to the next.
    cardUid = null;
    $("result").hidden = true;
    $("candidates").hidden = true;
    $("checked-in").hidden = false;
    $("checked-in-title").textContent = "送信中… / Sending…";
    $("checked-in-stations").textContent = "";
    $("checked-in-pre").hidden = true;
    if (window.ceHandOverFor) { window.ceHandOverFor(null); }
    var sent = window.ceOutbox.send("/api/reception/check-in", body, { resident: r.resident_id, name: r.name });
    if (!window.ceOutbox.online()) { held(r); }
    sent.then(function (a) { answered(r, a); });
  }
  function held(r) {
    $("checked-in-title").textContent = "受付は未送信です: " + r.name + " / Check-in not sent yet";
    $("checked-in-stations").textContent = window.ceMessage("offline");
  }
  function answered(r, a) {
    delete pendingIds[r.resident_id];
    $("checked-in").hidden = false;
    if (a.ok) {
      checkedIn[r.resident_id] = true;
      nextResident();
      $("checked-in").hidden = false;
      $("checked-in-title").textContent = "受付しました: " + r.name + " / Checked in";
      $("checked-in-stations").textContent = "回る検査: " + (a.body.station_labels || []).join(" → ");
      var pre = $("checked-in-pre");
      pre.hidden = !a.body.pre_answered;
      pre.textContent = a.body.pre_answered ? "事前回答あり（スマートフォン） / Questionnaire answered on the phone" : "";
      if (window.ceHandOverFor && (a.body.stations || []).indexOf("questionnaire") >= 0) { window.ceHandOverFor(a.body.session_id); }
    } else {
      $("checked-in-pre").hidden = true;
      $("checked-in-title").textContent = "受付できません: " + r.name + " / Not checked in";
      $("checked-in-stations").textContent = window.ceMessage((a.body && a.body.error) || "unknown");
    }
  }
  window.addEventListener("ce-outbox-held", function (e) {
    var m = e.detail.entry.meta || {};
    if (m.resident && pendingIds[m.resident]) { held({ name: m.name }); }
  });
  // A check-in answered after a reload (nobody on this page waited for it).
  window.addEventListener("ce-outbox", function (e) {
    var m = e.detail.entry.meta || {};
    if (!e.detail.waited && m.resident) { answered({ resident_id: m.resident, name: m.name }, e.detail.answer); }
  });
  // Residents with an open session (from the box's answers, and those checked in here).
  var checkedIn = {};
  function noteCheckedIn(ids) { (ids || []).forEach(function (id) { checkedIn[id] = true; }); }
  // Residents who answered the questionnaire on their phone before the day.
  var preAnswered = {};
  function notePreAnswered(ids) { (ids || []).forEach(function (id) { preAnswered[id] = true; }); }
  // The screen cleared for the next resident: no reading, no candidates, no search left.
  function nextResident() {
    showPin(false);
    $("result").hidden = true;
    $("result-fields").textContent = "";
    $("candidates").hidden = true;
    $("candidate-list").textContent = "";
    $("search-form").reset();
    $("search-message").hidden = true;
    viaMyNumber = false;
    status("次の方のカードをかざしてください", "Next resident: tap the card on the reader");
  }
  function showCandidates(list) {
    var ul = $("candidate-list");
    ul.textContent = "";
    list.forEach(function (r) {
      var li = document.createElement("li");
      li.textContent = r.name + "（" + r.name_kana + "） " + r.birth_date + " " + r.address + " ";
      if (r.pre_answered || preAnswered[r.resident_id]) {
        var pre = document.createElement("span");
        pre.className = "pre-answered"; pre.dataset.resident = r.resident_id;
        pre.textContent = "事前回答あり / Pre-answered";
        li.appendChild(pre);
        li.appendChild(document.createTextNode(" "));
      }
      if (checkedIn[r.resident_id]) {
        // Never offered twice: the box would refuse a second session anyway.
        var note = document.createElement("span");
        note.className = "checked-in-note"; note.dataset.resident = r.resident_id;
        note.textContent = "受付済みです / Already checked in";
        li.appendChild(note);
      } else {
        var b = document.createElement("button");
        b.type = "button"; b.className = "check-in"; b.dataset.resident = r.resident_id;
        b.textContent = "受付する / Check in";
        b.addEventListener("click", function () { checkIn(r); });
        li.appendChild(b);
      }
      ul.appendChild(li);
    });
    $("candidates").hidden = list.length === 0;
    $("checked-in").hidden = true;
  }
  function read(body) {
    status("読み取り中…", "Reading the card…");
    fetch("/api/card/read", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (j) { return [r.ok, j]; }); })
      .then(function (res) {
        var ok = res[0], j = res[1];
        if (ok && j.kind === "mynumber") {
          showPin(false);
          status("読み取りました", "Card read");
          viaMyNumber = true; cardUid = null;
          showResult([["氏名 Name", j.name], ["住所 Address", j.address], ["生年月日 Birth date", j.birth_date], ["性別 Sex", SEX[j.sex] || j.sex]]);
          noteCheckedIn(j.checked_in);
          notePreAnswered(j.pre_answered);
          var m = j.match || { outcome: "not_found" };
          if (m.outcome === "exact") { showCandidates([m.candidate.resident]); }
          else if (m.outcome === "choose") {
            status("候補から選んでください", "Several residents match: choose");
            showCandidates(m.candidates.map(function (c) { return c.resident; }));
          } else { status("予約が見つかりません。検索してください", "Not on today's roster: search"); showCandidates([]); }
        } else if (ok && j.kind === "contactless") {
          status("会場カードです。本人を検索して受付してください", "Venue card: find the resident, then check in");
          viaMyNumber = false; cardUid = j.uid;
          showResult([["カードID Card ID", j.uid]]);
        } else if (j.error === "pin_required") {
          showPin(true);
          status("マイナンバーカードです", "My Number card: enter the PIN");
        } else if (j.error === "wrong_pin") {
          showPin(true);
          $("last-try").hidden = j.tries_left !== 1;
          status("暗証番号が違います（残り" + j.tries_left + "回）", "Wrong PIN: " + j.tries_left + " tries left");
          easy("ばんごうが ちがいます。あと " + j.tries_left + "かい おせます");
        } else if (j.error === "one_try_left") {
          showPin(true);
          $("last-try").hidden = false;
          status("残り1回です。確認のうえ送信してください", "One try left: staff must confirm");
          easy("あと 1かい だけ おせます。かかりの ひとが いっしょに たしかめます");
        } else if (j.error === "pin_blocked") {
          showPin(false);
          status("暗証番号がロックされています。市役所で解除が必要です", "PIN blocked: the city office must unblock it",
            "この カードの ばんごうは いま つかえません。しやくしょで なおせます。かかりの ひとに いってください");
        } else {
          showPin(false);
          status("読み取れませんでした（" + (j.error || "error") + "）", j.message || "Could not read the card");
        }
      })
      .catch(function () { status("通信エラー", "Network error: try again"); });
  }
  document.querySelectorAll(".key").forEach(function (b) {
    b.addEventListener("click", function () {
      var k = b.dataset.key;
      if (k === "消") { pin = pin.slice(0, -1); }
      else if (k === "OK") { if (pin.length === 4) { read({ reader: reader, pin: pin, confirm_last_try: $("confirm-last-try").checked }); pin = ""; } }
      else if (pin.length < 4) { pin += k; }
      dots();
    });
  });
  document.querySelectorAll(".tap").forEach(function (b) {
    b.addEventListener("click", function () {
      fetch("/api/demo/tap", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ resident_id: b.dataset.resident, card: b.dataset.card }) });
    });
  });
  $("search-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var q = encodeURIComponent($("search-q").value), birth = encodeURIComponent($("search-birth").value);
    var msg = $("search-message");
    var say = function (text) { msg.textContent = text; msg.hidden = !text; };
    say("");
    fetch("/api/roster/search?q=" + q + "&birth=" + birth)
      .then(function (r) { return r.json(); })
      .then(function (j) {
        if (j.residents) {
          // A reading of an earlier My Number card is not this resident's: hide it.
          if (!cardUid) { viaMyNumber = false; $("result").hidden = true; }
          noteCheckedIn(j.checked_in);
          showCandidates(j.residents);
          if (j.residents.length === 0) { say("該当する予約者はいません / No booked resident matches"); }
        } else if (j.error === "malformed_request") {
          say("氏名を2文字以上、または生年月日を入れてください / Enter two characters of the name, or the birth date");
        } else {
          say("検索できません / Search failed: " + window.ceMessage(j.error || "unknown"));
        }
      })
      .catch(function () {
        say("通信できません。ネットワークを確かめて、もう一度検索してください / Cannot reach the box: check the network and search again");
      });
  });
  var untap = $("untap");
  if (untap) { untap.addEventListener("click", function () { fetch("/api/demo/untap", { method: "POST" }); }); }
  var es = new EventSource("/api/card/events");
  es.onmessage = function (m) {
    var e = JSON.parse(m.data);
    if (e.type === "card_present") {
      reader = e.reader;
      $("result").hidden = true;
      // Ask without a PIN first: a venue card is read at once; a My Number card answers
      // pin_required without spending a try, and the PIN pad opens.
      read({ reader: reader });
    } else if (e.type === "card_removed") {
      showPin(false);
      cardUid = null;
      $("result").hidden = true;
      status("カードをかざしてください", "Tap the resident's card on the reader");
    } else if (e.type === "snapshot" && e.readers.length === 0) {
      status("カードリーダーが見つかりません", "No card reader connected");
    }
  };
})();
