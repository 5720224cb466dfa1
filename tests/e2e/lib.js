// Shared by the browser tests: Debian's Chromium launched to trust the box's certificate by
// its pinned key (and nothing else), and axe-core run inside a page.
const fs = require("fs");
const { chromium } = require("playwright-core");

// Chromium for a box whose certificate's public key hashes (SHA-256, base64) to `spki`.
function launch(spki) {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
      .concat(spki ? [`--ignore-certificate-errors-spki-list=${spki}`] : []),
  });
}

// axe-core inside the page: every rule axe runs by default (WCAG 2.x A/AA and best
// practices). Returns the violations (none when clean), each with its nodes; `axe.runs`
// counts the pages checked.
let source = null;
async function axe(page) {
  if (source === null) { source = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8"); }
  await page.addScriptTag({ content: source });
  const v = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((x) => ({ id: x.id, impact: x.impact, nodes: x.nodes.map((n) => n.target.join(" ")).slice(0, 5) }));
  });
  axe.runs += 1;
  return v;
}
axe.runs = 0;

// A new browser context (its own cookies and storage: one tablet) signed in at `base` as
// staff `id`. The page records a native dialog (`page.nativeDialog`; dismissed: every
// question must be asked in the page) and its first script error (`page.scriptError`).
async function signIn(browser, base, id, pin, viewport) {
  const ctx = await browser.newContext({ viewport: viewport || { width: 1024, height: 768 }, locale: "ja-JP" });
  const page = await ctx.newPage();
  page.on("dialog", (d) => { page.nativeDialog = d.message(); d.dismiss(); });
  page.on("pageerror", (e) => { page.scriptError = page.scriptError || String(e); });
  await page.goto(base + "/login");
  await page.fill("#staff_id", id);
  await page.fill("#pin", pin);
  await Promise.all([page.waitForNavigation(), page.click("form.login button")]);
  return page;
}

// `fetch` from inside the page (its session cookie): { status, body (JSON or null) }.
async function api(page, method, url, body) {
  return page.evaluate(async ([method, url, body]) => {
    const r = await fetch(url, { method, headers: { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, body: await r.json().catch(() => null) };
  }, [method, url, body]);
}

module.exports = { launch, axe, signIn, api };
