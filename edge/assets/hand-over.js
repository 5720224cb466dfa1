// The 「タブレットで回答（本人）」 button of staff pages: hands this tablet to the resident of the
// session at hand (resident mode: the box then opens only their questionnaire on it).
(function () {
  "use strict";
  var box = document.getElementById("hand-over");
  var button = document.getElementById("hand-over-button");
  var msg = document.getElementById("hand-over-message");
  var session = null;
  // The page names the resident at hand (null: nobody, the button hides).
  window.ceHandOverFor = function (id) {
    session = id || null;
    box.hidden = !session;
    msg.hidden = true;
  };
  // On a station page: the resident picked in the list of residents due.
  document.addEventListener("click", function (e) {
    var row = e.target.closest && e.target.closest("#due [data-session]");
    if (row) { window.ceHandOverFor(row.dataset.session); }
  });
  button.addEventListener("click", function () {
    if (!session) { return; }
    fetch("/api/resident-mode", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ session_id: session })
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (b) { return { ok: r.ok, body: b }; });
    }).then(function (a) {
      if (a.ok) { location.href = a.body.page || "/resident"; return; }
      msg.textContent = window.ceMessage ? window.ceMessage((a.body && a.body.error) || "unknown") : "できませんでした";
      msg.hidden = false;
    }).catch(function () {
      msg.textContent = window.ceMessage ? window.ceMessage("offline") : "通信できません";
      msg.hidden = false;
    });
  });
})();
