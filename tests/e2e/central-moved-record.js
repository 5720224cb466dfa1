// Central's staff page in real headless Chromium: a resident's record with checkups
// imported from the municipality they moved from. Sign in, find the resident, open the
// record: each imported checkup is marked 「転入前の記録（E市保健センターから）」 with the
// English beside it, year over year; axe-core finds nothing in the record section.
// Usage: node central-moved-record.js BASE_URL SCREENSHOT_DIR
"use strict";
const fs = require("fs");
const path = require("path");
const { launch } = require("./lib");

const [base, shots] = process.argv.slice(2);

(async () => {
  const browser = await launch();
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "ja-JP" });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => { page.scriptError = page.scriptError || String(e); });
  await page.goto(base + "/");
  await page.fill("#sid", "C1");
  await page.fill("#pin", "1234");
  await page.click('[data-testid="signin"]');
  await page.waitForFunction(() => document.getElementById("who").textContent.includes("central_admin"));
  await page.fill("#q", "M-7781");
  await page.click('[data-testid="search"]');
  await page.waitForSelector("#found td", { timeout: 10000 });
  await page.click("#found button");
  await page.waitForSelector('[data-testid="origin"]', { timeout: 10000 });
  const marks = await page.$$eval('[data-testid="origin"]', (els) => els.map((e) => e.textContent));
  if (marks.length !== 2) throw new Error("two imported checkups expected: " + JSON.stringify(marks));
  for (const m of marks) {
    if (!m.includes("転入前の記録（E市保健センターから）") || !m.includes("Before moving here (from E市保健センター)")) {
      throw new Error("origin mark: " + m);
    }
    if (m.indexOf("転入前") > m.indexOf("Before")) throw new Error("Japanese first: " + m);
  }
  const heads = await page.$$eval("#rec h4", (els) => els.map((e) => e.textContent));
  if (!heads[0].startsWith("2025-06-10") || !heads[1].startsWith("2026-06-09")) throw new Error("year over year: " + JSON.stringify(heads));
  const rec = await page.textContent("#rec");
  if (!rec.includes("79") || !rec.includes("82.5")) throw new Error("the imported waist values: " + rec);
  const source = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
  await page.addScriptTag({ content: source });
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run("#record", { resultTypes: ["violations"] });
    return r.violations.map((x) => ({ id: x.id, impact: x.impact, nodes: x.nodes.map((n) => n.target.join(" ")).slice(0, 5) }));
  });
  if (violations.length) throw new Error("axe: " + JSON.stringify(violations));
  if (page.scriptError) throw new Error("script error: " + page.scriptError);
  await page.screenshot({ path: path.join(shots, "7b-central-moved-record.png"), fullPage: true });
  await browser.close();
  console.log("moved record complete");
})().catch((e) => { console.error(e); process.exit(1); });
