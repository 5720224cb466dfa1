// The resident's questionnaire page in resident mode: one question per screen, a review,
// submit (the box records it for the session this tablet is locked to), and the staff PIN
// pad that ends resident mode.
(function () {
  "use strict";
  function $(id) { return document.getElementById(id); }
  var form = $("answers");

  // Keep the handed-over session alive while the resident reads (idle sign-out otherwise).
  var lastPing = Date.now();
  function ping() {
    if (Date.now() - lastPing < 60000) { return; }
    lastPing = Date.now();
    fetch("/api/resident-mode", { cache: "no-store" }).catch(function () {});
  }

  if (form) {
    var screens = Array.prototype.slice.call(form.querySelectorAll("section.q"));
    var at = 0;
    var show = function (i) {
      at = i;
      screens.forEach(function (s, k) { s.hidden = k !== i; });
      $("review").hidden = i !== screens.length;
      $("thanks").hidden = true;
      if (i === screens.length) { review(); }
      var shown = i === screens.length ? $("review") : screens[i];
      var h = shown.querySelector("h2");
      if (h) { h.setAttribute("tabindex", "-1"); h.focus({ preventScroll: true }); }
      window.scrollTo(0, 0);
      ping();
    };
    var chosen = function (s) {
      var c = s.querySelector("input[type=radio]:checked");
      return c ? { code: c.value, text: c.parentNode.querySelector(".text").textContent } : null;
    };
    var review = function () {
      var list = $("review-list");
      list.textContent = "";
      var missingRequired = false;
      screens.forEach(function (s, k) {
        var li = document.createElement("li");
        var b = document.createElement("button");
        b.type = "button";
        var c = chosen(s);
        if (!c) { b.className = "missing"; if (s.dataset.required === "true") { missingRequired = true; } }
        var qn = document.createElement("span");
        qn.textContent = (k + 1) + ". " + s.querySelector("h2").firstChild.textContent;
        var a = document.createElement("span");
        a.className = "a";
        a.textContent = c ? c.text : "—";
        b.appendChild(qn); b.appendChild(a);
        b.dataset.code = s.dataset.code;
        b.addEventListener("click", function () { show(k); });
        li.appendChild(b);
        list.appendChild(li);
      });
      $("unanswered").hidden = !missingRequired;
    };
    screens.forEach(function (s, k) {
      s.querySelector(".next").addEventListener("click", function () { show(k + 1); });
      s.querySelector(".back").addEventListener("click", function () { if (k > 0) { show(k - 1); } });
      // Choosing an answer moves on (after a moment to see it chosen).
      s.querySelectorAll("input[type=radio]").forEach(function (r) {
        r.addEventListener("change", function () { setTimeout(function () { if (at === k) { show(k + 1); } }, 350); });
      });
    });
    $("review-back").addEventListener("click", function () { show(screens.length - 1); });
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    var sending = false;
    $("submit").addEventListener("click", function () {
      if (sending) { return; }
      sending = true;
      $("send-failed").hidden = true;
      var answers = [];
      screens.forEach(function (s) {
        var c = chosen(s);
        if (c) { answers.push({ item_code: s.dataset.code, code: c.code }); }
      });
      fetch("/api/resident-mode/answers", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ lang: form.dataset.lang, answers: answers })
      }).then(function (r) {
        return r.json().catch(function () { return null; }).then(function (b) { return { ok: r.ok, body: b }; });
      }).then(function (a) {
        sending = false;
        if (!a.ok) { $("send-failed").hidden = false; return; }
        $("review").hidden = true;
        $("thanks").hidden = false;
        form.dataset.sent = "true";
        var h = $("thanks").querySelector("h2");
        h.setAttribute("tabindex", "-1"); h.focus();
      }).catch(function () { sending = false; $("send-failed").hidden = false; });
    });
  }

  // The staff PIN pad: a checkup staff member's id and PIN end resident mode.
  var dialog = $("exit-dialog");
  var pin = $("exit-pin");
  $("staff-exit").addEventListener("click", function () {
    $("exit-message").hidden = true;
    pin.value = "";
    dialog.showModal();
    $("exit-staff").focus();
  });
  $("exit-cancel").addEventListener("click", function () { dialog.close(); });
  dialog.querySelectorAll(".key").forEach(function (k) {
    k.addEventListener("click", function () {
      if (k.dataset.key === "消") { pin.value = pin.value.slice(0, -1); } else { pin.value += k.dataset.key; }
    });
  });
  $("exit-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var msg = $("exit-message");
    fetch("/api/resident-mode/exit", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ staff_id: $("exit-staff").value, pin: pin.value })
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (b) { return { status: r.status, body: b }; });
    }).then(function (a) {
      if (a.status === 200 && a.body && a.body.home) { location.href = a.body.home; return; }
      pin.value = "";
      var code = a.body && a.body.error;
      msg.textContent = code === "locked"
        ? "暗証番号の誤りが続いたため、しばらく受け付けません（" + ((a.body && a.body.retry_after_secs) || 30) + "秒）"
        : code === "forbidden_role" ? "この職員IDでは戻せません（健診の係員のみ）"
        : code === "not_signed_in" ? "端末のサインインが切れました。係員がサインインし直してください"
        : "職員IDまたは暗証番号が違います";
      msg.hidden = false;
      if (code === "not_signed_in") { location.href = "/login"; }
    }).catch(function () { msg.textContent = "通信できません。もう一度お試しください"; msg.hidden = false; });
  });
})();
