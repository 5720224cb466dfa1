// Venue board: live over server-sent events (every committed event updates it), in the
// page's language, saying plainly when it is not live (stream broken or the device offline).
(function () {
  "use strict";
  var en = document.documentElement.lang === "en";
  var t = function (ja, e) { return en ? e : ja; };
  var LABEL = { questionnaire: ["問診", "Questionnaire"], measurement: ["身体計測", "Body measurement"],
    blood_pressure: ["血圧", "Blood pressure"], urine: ["尿検査", "Urine"], blood_draw: ["採血", "Blood draw"],
    ecg: ["心電図", "ECG"], fundus: ["眼底", "Fundus"], doctor: ["診察", "Doctor"] };
  var label = function (k) { var l = LABEL[k]; return l ? t(l[0], l[1]) : k; };
  var live = document.getElementById("live");
  var lastUpdate = null;
  function setLive(on, why) {
    if (!live) { return; }
    live.dataset.live = on ? "true" : "false";
    live.classList.toggle("down", !on);
    if (on) {
      live.textContent = t("ライブ（自動更新中）", "Live (updating)");
    } else {
      var at = lastUpdate ? t("　最終更新 ", " — last update ") + lastUpdate.toLocaleTimeString(en ? "en-GB" : "ja-JP") : "";
      live.textContent = why + at;
    }
  }
  function setText(sel, v) { var e = document.querySelector(sel); if (e) { e.textContent = v; } }
  function render(b) {
    b.stations.forEach(function (s) {
      document.querySelectorAll('li.station[data-kind="' + s.kind + '"]').forEach(function (li) {
        li.querySelector("b.w").textContent = s.waiting;
        li.querySelector("b.d").textContent = s.done;
        var m = li.querySelector("span.m");
        if (m) { m.textContent = s.median_ms == null ? "—" : Math.max(1, Math.round(s.median_ms / 60000)) + t(" 分", " min"); }
      });
    });
    var tb = document.querySelector("#sessions tbody");
    tb.textContent = "";
    b.sessions.forEach(function (s) {
      var tr = document.createElement("tr");
      tr.dataset.session = s.session_id;
      [s.name || s.resident_id,
       s.remaining.map(label).join(t("・", ", ")) || "—",
       s.next ? label(s.next) : "—",
       s.finished ? t("完了", "Finished") : (s.conflicts.length ? t("要確認", "Check conflict") : t("受診中", "In progress"))].forEach(function (x) {
        var td = document.createElement("td"); td.textContent = x; tr.appendChild(td);
      });
      if (s.finished) { tr.className = "finished"; }
      tb.appendChild(tr);
    });
    var link = document.getElementById("link-state");
    if (link && b.replication) {
      var r = b.replication;
      var boxes = (r.boxes || []).map(function (x) {
        return x.node + (x.this_box ? t("（この端末）", " (this box)") : "") + ": " + x.held + "/" + x.head + (x.lag ? t("（遅れ ", " (behind ") + x.lag + t("）", ")") : "");
      }).join("　");
      var rej = r.rejected.foreign + r.rejected.malformed + r.rejected.unauthenticated + r.rejected.impersonation;
      var via = r.broker ? t("　ブローカー: ", " — broker: ") + (r.serving_broker ? t("この端末", "this box") : (r.broker_node || r.broker)) : "";
      var state = r.connected ? t("他の端末と接続中", "Linked to the other boxes") : (r.broker ? t("他の端末と切断中", "Not linked to the other boxes") : t("単独", "Standalone"));
      var f = b.forwarding || {};
      var fw = f.enabled ? t("　本庁送信: 未送信 ", " — to central: unsent ") + f.queue_depth + (f.last_error ? t("（エラー）", " (error)") : "") + (f.disk_alarm ? t("　容量警告", " — disk almost full") : "") : "";
      link.textContent = state + via + "　" + boxes + (rej ? t("　拒否 ", " — rejected ") + rej : "") + fw;
    }
    if (typeof b.opened === "number") { setText('[data-testid="opened"]', b.opened); }
    if (typeof b.in_progress === "number") { setText('[data-testid="open"]', b.in_progress); }
    lastUpdate = new Date();
    if (navigator.onLine !== false) { setLive(true); }
  }
  var es = null;
  function connect() {
    if (es) { es.close(); }
    es = new EventSource("/api/board/events");
    es.onopen = function () { if (navigator.onLine !== false) { setLive(true); } };
    es.onmessage = function (m) { render(JSON.parse(m.data)); };
    // The browser reconnects by itself; until a board arrives again it is not live.
    es.onerror = function () { setLive(false, t("更新が止まっています（会場の端末と通信できません）", "Not live: cannot reach the venue box")); };
  }
  connect();
  window.addEventListener("offline", function () { setLive(false, t("更新が止まっています（ネットワークがありません）", "Not live: no network")); });
  // A fresh stream when the network returns: the old one may be stuck after the outage.
  window.addEventListener("online", connect);
})();
