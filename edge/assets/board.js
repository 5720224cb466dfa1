// Venue board: live over server-sent events (every committed event updates it).
(function () {
  "use strict";
  var LABEL = { questionnaire: "問診", measurement: "身体計測", blood_pressure: "血圧", urine: "尿検査",
    blood_draw: "採血", ecg: "心電図", fundus: "眼底", doctor: "診察" };
  function render(b) {
    b.stations.forEach(function (s) {
      document.querySelectorAll('li.station[data-kind="' + s.kind + '"]').forEach(function (li) {
        li.querySelector("b.w").textContent = s.waiting;
        li.querySelector("b.d").textContent = s.done;
        var m = li.querySelector("span.m");
        if (m) { m.textContent = s.median_ms == null ? "—" : Math.max(1, Math.round(s.median_ms / 60000)) + " 分 min"; }
      });
    });
    var tb = document.querySelector("#sessions tbody");
    tb.textContent = "";
    b.sessions.forEach(function (s) {
      var tr = document.createElement("tr");
      tr.dataset.session = s.session_id;
      [s.name || s.resident_id,
       s.remaining.map(function (k) { return LABEL[k] || k; }).join("・"),
       s.next ? (LABEL[s.next] || s.next) : "—",
       s.finished ? "完了 finished" : (s.conflicts.length ? "要確認 conflict" : "受診中")].forEach(function (t) {
        var td = document.createElement("td"); td.textContent = t; tr.appendChild(td);
      });
      if (s.finished) { tr.className = "finished"; }
      tb.appendChild(tr);
    });
    var link = document.getElementById("link-state");
    if (link && b.replication) {
      var r = b.replication;
      var boxes = (r.boxes || []).map(function (x) {
        return x.node + (x.this_box ? "（この端末）" : "") + ": " + x.held + "/" + x.head + (x.lag ? "（遅れ " + x.lag + "）" : "");
      }).join("　");
      var rej = r.rejected.foreign + r.rejected.malformed + r.rejected.unauthenticated + r.rejected.impersonation;
      var via = r.broker ? "　ブローカー broker: " + (r.serving_broker ? "この端末 this box" : (r.broker_node || r.broker)) : "";
      var state = r.connected ? "接続中 connected" : (r.broker ? "切断中 disconnected" : "単独 standalone");
      var f = b.forwarding || {};
      var fw = f.enabled ? "　本庁送信 central: 未送信 " + f.queue_depth + (f.last_error ? "（エラー error）" : "") + (f.disk_alarm ? "　容量警告 disk almost full" : "") : "";
      link.textContent = state + via + "　" + boxes + (rej ? "　拒否 rejected " + rej : "") + fw;
    }
    var open = document.querySelector('[data-testid="open"]');
    if (open) { open.textContent = b.sessions.length; }
  }
  var es = new EventSource("/api/board/events");
  es.onmessage = function (m) { render(JSON.parse(m.data)); };
})();
