// The venue admin's 「練習モード」 section: start a rehearsal beside this box, follow its
// link, stop it; kept live from GET /api/training every few seconds.
(() => {
  "use strict";
  const root = document.getElementById("training-switch");
  if (!root) { return; }
  const $ = (id) => document.getElementById(id);
  const en = document.documentElement.lang === "en";
  const t = (ja, e) => (en ? e : ja);
  let busy = false;

  function say(text) {
    const m = $("training-message");
    m.textContent = text || "";
    m.hidden = !text;
  }

  function show(s) {
    root.dataset.running = s.running ? "1" : "0";
    $("training-running").hidden = !s.running;
    $("training-form").hidden = s.running;
    if (s.running && s.url) {
      const a = $("training-link");
      a.href = s.url;
      a.textContent = s.url;
      const o = s.options || {};
      const since = s.started_at ? new Date(s.started_at).toLocaleTimeString(en ? "en-GB" : "ja-JP") : "";
      $("training-since").textContent = t(
        `${since} 開始 · ${o.residents} 人 · ×${o.speed}${o.autopilot ? " · 自動操作" : ""}`,
        `Started ${since} · ${o.residents} residents · ×${o.speed}${o.autopilot ? " · autopilot" : ""}`);
    }
    if (s.last_summary && !s.running) {
      $("training-summary").hidden = false;
      $("training-summary-text").textContent = s.last_summary;
    }
  }

  async function refresh() {
    if (busy) { return; }
    try {
      const r = await fetch("/api/training", { credentials: "same-origin" });
      if (r.ok) { show(await r.json()); }
    } catch (e) { /* the offline banner says so */ }
  }

  $("training-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const button = $("training-start");
    const label = button.textContent;
    const body = {
      residents: Number(form.residents.value),
      speed: Number((form.querySelector("input[name=speed]:checked") || { value: "1" }).value),
      autopilot: form.autopilot.checked,
    };
    busy = true;
    button.disabled = true;
    button.textContent = t("起動しています…", "Starting…");
    say("");
    try {
      const r = await fetch("/api/training/start", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      const j = await r.json().catch(() => ({}));
      if (r.ok) { show(j); } else { say(j.message || String(r.status)); }
    } catch (e) {
      say(t("端末に接続できません", "Cannot reach the box"));
    } finally {
      busy = false;
      button.disabled = false;
      button.textContent = label;
    }
  });

  $("training-stop").addEventListener("click", async () => {
    const button = $("training-stop");
    busy = true;
    button.disabled = true;
    say("");
    try {
      const r = await fetch("/api/training/stop", { method: "POST", credentials: "same-origin" });
      const j = await r.json().catch(() => ({}));
      if (!r.ok) { say(j.message || String(r.status)); }
      else if (j.summary) {
        $("training-summary").hidden = false;
        $("training-summary").open = true;
        $("training-summary-text").textContent = j.summary;
      }
    } catch (e) {
      say(t("端末に接続できません", "Cannot reach the box"));
    } finally {
      busy = false;
      button.disabled = false;
      refresh();
    }
  });

  refresh();
  setInterval(refresh, 3000);
})();
