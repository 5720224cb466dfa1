// Station page: residents due here (live board stream), item entry with limits, save with
// a stable event id per attempt, station sign-off; the doctor also sees the whole record.
(function () {
  "use strict";
  var cfg = JSON.parse(document.body.dataset.config);
  var $ = function (id) { return document.getElementById(id); };
  var current = null;          // the selected session {session_id, resident_id, name}
  var pending = {};            // item code -> event id of the unsaved value (stable across retries)
  var lastYear = {};           // item code -> {value, unit, date}
  var uuid7 = window.ceUuid7;

  function post(body, attempt) {
    return fetch("/api/events", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, status: r.status, body: j }; }); })
      .catch(function () {
        // The tablet lost the network: retry the very same event (same id) — never doubled.
        if ((attempt || 0) < 5) { return new Promise(function (res) { setTimeout(res, 400); }).then(function () { return post(body, (attempt || 0) + 1); }); }
        return { ok: false, status: 0, body: { message: "通信できません / offline" } };
      });
  }
  function message(text) { var m = $("entry-message"); m.textContent = text || ""; m.hidden = !text; }
  function renderDue(board) {
    var ul = $("due"); ul.textContent = "";
    board.sessions.filter(function (s) { return s.remaining.indexOf(cfg.station) >= 0; }).forEach(function (s) {
      var li = document.createElement("li");
      li.textContent = s.name + " (" + s.resident_id + ") ";
      var b = document.createElement("button");
      b.type = "button"; b.className = "pick"; b.dataset.session = s.session_id;
      b.textContent = "選択 / Select";
      b.addEventListener("click", function () { select(s); });
      li.appendChild(b); ul.appendChild(li);
    });
  }
  function select(s) {
    current = s; pending = {};
    $("entry").hidden = false;
    $("entry-title").textContent = s.name + " (" + s.resident_id + ")";
    message("");
    var form = $("items"); form.textContent = "";
    cfg.items.forEach(function (it) {
      var label = document.createElement("label");
      label.textContent = it.name + " " + (it.unit ? "(" + it.unit + ")" : "") + " / " + it.name_en;
      label.htmlFor = "item-" + it.code;
      var input;
      if (it.limits.values) {
        input = document.createElement("select");
        it.limits.values.forEach(function (v) { var o = document.createElement("option"); o.value = v; o.textContent = v; input.appendChild(o); });
      } else {
        input = document.createElement("input");
        input.type = "number"; input.step = "any"; input.inputMode = "decimal";
        input.min = it.limits.min; input.max = it.limits.max;
      }
      input.id = "item-" + it.code; input.dataset.code = it.code;
      input.addEventListener("input", bmi);
      var prev = document.createElement("span");
      prev.className = "last-year"; prev.id = "last-" + it.code;
      form.appendChild(label); form.appendChild(prev); form.appendChild(input);
    });
    lastYear = {};
    fetch("/api/residents/" + encodeURIComponent(s.resident_id) + "/history").then(function (r) { return r.json(); }).then(function (j) {
      (j.values || []).forEach(function (h) {
        lastYear[h.item_code] = h;
        var el = $("last-" + h.item_code);
        if (el) { el.textContent = "前年 / last year: " + h.value + " " + h.unit + "（" + h.date + "）"; }
      });
    });
    bmi();
    loadRecord();
  }
  function loadRecord() {
    var s = current;
    var rec = $("record"); rec.textContent = "";
    // Reading the record is audited on the box (record_viewed).
    fetch("/api/sessions/" + s.session_id).then(function (r) { return r.json(); }).then(function (j) {
      var cur = j.current || {};
      var results = (j.session && j.session.results) || {};
      var dl = document.createElement("dl"); dl.id = "record-fields";
      var codes = cfg.doctor ? Object.keys(cur) : cfg.items.map(function (it) { return it.code; }).filter(function (c) { return cur[c]; });
      codes.forEach(function (code) {
        var dt = document.createElement("dt"); dt.textContent = cfg.names[code] || code;
        var dd = document.createElement("dd"); dd.textContent = cur[code].value + " " + cur[code].unit + " ";
        var entries = results[code] || [];
        if (entries.length > 1) { dd.appendChild(document.createTextNode("（訂正あり / corrected） ")); }
        var item = cfg.items.filter(function (it) { return it.code === code; })[0];
        if (item && entries.length) {
          var fix = document.createElement("button");
          fix.type = "button"; fix.className = "correct"; fix.dataset.code = code;
          fix.textContent = "訂正 / Correct";
          fix.addEventListener("click", function () { correct(item, entries[entries.length - 1]); });
          dd.appendChild(fix);
        }
        dl.appendChild(dt); dl.appendChild(dd);
      });
      var h = cur["9N001000000000001"], w = cur["9N006000000000001"];
      if (h && w) {
        var dt = document.createElement("dt"); dt.textContent = "BMI（自動計算 / derived）";
        var dd = document.createElement("dd"); dd.textContent = Math.round(w.value / Math.pow(h.value / 100, 2) * 10) / 10;
        dl.appendChild(dt); dl.appendChild(dd);
      }
      rec.appendChild(dl);
    });
  }
  function correct(item, entry) {
    var raw = window.prompt(item.name + " の正しい値 / correct value", entry.value);
    if (raw === null || raw === "") { return; }
    var reason = window.prompt("訂正の理由（必須） / Reason (required)", "");
    if (!reason) { message("理由が必要です / A reason is required"); return; }
    var v = item.limits.values ? raw : parseFloat(raw);
    var confirmed = !item.limits.values && (v < item.limits.soft_min || v >= item.limits.soft_max);
    post({ id: uuid7(), body: { kind: "measurement_corrected", payload: {
      session_id: current.session_id, resident_id: current.resident_id, corrects: entry.event_id,
      item_code: item.code, value: v, unit: item.unit, reason: reason, confirmed: confirmed } } })
      .then(function (r) { if (r.ok) { message(""); loadRecord(); } else { message(r.body.message); } });
  }
  function value(code) { var el = $("item-" + code); return el ? el.value : ""; }
  function bmi() {
    var h = parseFloat(value("9N001000000000001")), w = parseFloat(value("9N006000000000001"));
    $("bmi").textContent = (h > 0 && w > 0) ? "BMI（自動計算 / derived）: " + (Math.round(w / Math.pow(h / 100, 2) * 10) / 10) : "";
  }
  function save() {
    if (!current) { return; }
    message("");
    var jobs = cfg.items.filter(function (it) { return value(it.code) !== ""; }).map(function (it) {
      var raw = value(it.code);
      var v = it.limits.values ? raw : parseFloat(raw);
      if (!it.limits.values && (isNaN(v) || v < it.limits.min || v > it.limits.max)) {
        return Promise.resolve({ item: it, ok: false, body: { message: it.name + ": " + raw + " は範囲外です（" + it.limits.min + "–" + it.limits.max + "）" } });
      }
      var confirmed = false;
      var prev = lastYear[it.code] && parseFloat(lastYear[it.code].value);
      var farFromLastYear = it.code === "9N006000000000001" && prev > 0 && Math.abs(v - prev) / prev > 0.2;
      if (!it.limits.values && (v < it.limits.soft_min || v >= it.limits.soft_max || farFromLastYear)) {
        confirmed = window.confirm(it.name + " " + v + " " + it.unit + " — 確認しましたか？ / Confirm this unusual value?");
        if (!confirmed) { return Promise.resolve({ item: it, ok: false, body: { message: it.name + ": 未確認 / not confirmed" } }); }
      }
      pending[it.code] = pending[it.code] || uuid7();
      var body = { id: pending[it.code], body: { kind: "measurement_recorded", payload: {
        session_id: current.session_id, resident_id: current.resident_id, station: cfg.station,
        item_code: it.code, value: v, unit: it.unit, confirmed: confirmed } } };
      return post(body).then(function (r) { r.item = it; return r; });
    });
    return Promise.all(jobs).then(function (results) {
      var failed = results.filter(function (r) { return !r.ok; });
      results.filter(function (r) { return r.ok; }).forEach(function (r) { delete pending[r.item.code]; $("item-" + r.item.code).value = ""; });
      message(failed.map(function (r) { return r.body.message; }).join(" / "));
      if (!failed.length) { $("entry-title").textContent = current.name + " — 保存しました / Saved"; }
      loadRecord();
      return failed.length === 0;
    });
  }
  $("save").hidden = cfg.items.length === 0;
  $("save").addEventListener("click", save);
  $("done").addEventListener("click", function () {
    if (!current) { return; }
    var s = current;
    function signOff(confirmed) {
      var payload = { session_id: s.session_id, resident_id: s.resident_id, station: cfg.station };
      if (confirmed) { payload.confirmed = true; }
      return post({ id: uuid7(), body: { kind: "station_visited", payload: payload } })
        .then(function (r) {
          if (r.ok) { $("entry").hidden = true; current = null; message(""); return; }
          // Something is missing: the box names it; staff confirm explicitly or go back.
          if (r.body.error === "incomplete_station" && !confirmed &&
              window.confirm(r.body.message + "\n\nこのまま完了しますか？ / Sign off anyway?")) {
            return signOff(true);
          }
          message(r.body.message);
        });
    }
    signOff(false);
  });
  // A venue card tapped on this box's reader selects its resident.
  var cards = new EventSource("/api/card/events");
  cards.onmessage = function (m) {
    var e = JSON.parse(m.data);
    if (e.type !== "card_present") { return; }
    fetch("/api/station/tap", { method: "POST" }).then(function (r) { return r.json().then(function (j) { return [r.ok, j]; }); })
      .then(function (res) { if (res[0]) { select(res[1]); } else { $("entry").hidden = false; message(res[1].message); } });
  };
  var es = new EventSource("/api/board/events");
  es.onmessage = function (m) { renderDue(JSON.parse(m.data)); };
})();
