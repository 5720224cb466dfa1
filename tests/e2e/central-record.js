// Central's staff page in real headless Chromium: sign in, import the register, search a
// resident by kana, open the record (健康かるて) with a corrected value and its history, and
// download a season's CSV export.
// Usage: node central-record.js BASE_URL SCREENSHOT_DIR
"use strict";
const { chromium } = require("playwright-core");
const path = require("path");

const [base, shots] = process.argv.slice(2);

(async () => {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "ja-JP", acceptDownloads: true });
  const page = await ctx.newPage();
  await page.goto(base + "/");
  // Before signing in, a search is refused with a message.
  await page.fill("#q", "タカハシ");
  await page.click('[data-testid="search"]');
  await page.waitForFunction(() => document.getElementById("msg").textContent.length > 0);
  await page.fill("#sid", "C001");
  await page.fill("#pin", "1234");
  await page.click('[data-testid="signin"]');
  await page.waitForFunction(() => document.getElementById("who").textContent.includes("central_admin"));
  // The register, as the municipality exports it.
  const imported = await page.evaluate(async () => {
    const r = await fetch("/v1/residents", { method: "POST", headers: { "content-type": "text/csv" },
      body: "resident_id,name,name_kana,birth_date,sex,address\n0000000042,髙橋　一郎,タカハシ　イチロウ,1955-07-07,male,みどり市中央2丁目3番4号\n" });
    return r.json();
  });
  if (imported.imported !== 1) throw new Error("import: " + JSON.stringify(imported));
  await page.fill("#q", "タカハシ");
  await page.fill("#birth", "1955-07-07");
  await page.click('[data-testid="search"]');
  await page.waitForSelector("#found td", { timeout: 10000 });
  await page.click("#found button");
  await page.waitForFunction(() => document.getElementById("rec").textContent.includes("156.2"), null, { timeout: 10000 });
  const rec = await page.textContent("#rec");
  if (!rec.includes("165.2") || !rec.includes("転記ミス")) throw new Error("record without history: " + rec);
  await page.screenshot({ path: path.join(shots, "7-central-record.png"), fullPage: true });
  await page.fill("#from", "2026-04-01");
  await page.fill("#to", "2027-03-31");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click('[data-testid="export"]')]);
  const file = await download.path();
  const csv = require("fs").readFileSync(file, "utf8");
  if (!csv.includes("0000000042,9N001000000000001,156.2,cm,2026-11-25,demo-venue")) throw new Error("export: " + csv);
  await browser.close();
  console.log("central record complete");
})().catch((e) => { console.error(e); process.exit(1); });
