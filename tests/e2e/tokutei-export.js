// Central's 特定健診 section in real headless Chromium: the central admin signs in, enters the
// period, lists its insurers, checks the 国保 (the failures table names the resident and each
// missing item; download stays disabled), checks the 協会けんぽ (OK) and downloads its zip —
// first with the network down (the failure shown beside the button), then again.
// axe-core finds nothing on the page in either state; every control is at least 48 px high.
// Usage: node tokutei-export.js BASE_URL DAY REFUSED_INSURER GOOD_INSURER RESIDENT ZIP_OUT SCREENSHOT_DIR
"use strict";
const fs = require("fs");
const path = require("path");
const { launch, axe } = require("./lib");

const [base, day, refusedInsurer, goodInsurer, resident, zipOut, shots] = process.argv.slice(2);

async function clean(page, when) {
  const v = await axe(page);
  if (v.length) throw new Error("axe (" + when + "): " + JSON.stringify(v, null, 1));
}

(async () => {
  const browser = await launch();
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "ja-JP", acceptDownloads: true });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => { page.scriptError = page.scriptError || String(e); });
  await page.goto(base + "/");
  await page.fill("#sid", "C001");
  await page.fill("#pin", "1234");
  await page.click('[data-testid="signin"]');
  await page.waitForFunction(() => document.getElementById("who").textContent.includes("central_admin"));

  // Every control of the section: a label and a large target.
  const small = await page.evaluate(() => Array.from(document.querySelectorAll("#tokutei input, #tokutei select, #tokutei button"))
    .filter((e) => e.getBoundingClientRect().height < 48).map((e) => e.id || e.textContent));
  if (small.length) throw new Error("touch targets under 48px: " + small.join(", "));

  await page.fill("#tk-from", day);
  await page.fill("#tk-to", day);
  await page.click('[data-testid="tk-insurers"]');
  await page.waitForFunction(() => document.querySelectorAll("#tk-insurer option[value]:not([value=''])").length > 0, null, { timeout: 10000 });
  const options = await page.$$eval("#tk-insurer option", (os) => os.map((o) => o.value));
  if (!options.includes(refusedInsurer) || !options.includes(goodInsurer)) throw new Error("insurers: " + options);

  // The insurer with a failing record: the failures, and no download.
  await page.selectOption("#tk-insurer", refusedInsurer);
  await page.click('[data-testid="tk-check"]');
  await page.waitForSelector("#tk-failures td", { timeout: 60000 });
  const table = await page.textContent("#tk-failures");
  for (const needle of [resident, "9N701000000000011", "9N736000000000011"]) {
    if (!table.includes(needle)) throw new Error("failures table without " + needle + ": " + table);
  }
  const status = await page.textContent("#tk-status");
  if (!status.includes("不備")) throw new Error("status: " + status);
  if (!(await page.isDisabled('[data-testid="tk-download"]'))) throw new Error("download enabled with failures");
  await clean(page, "failures");
  await page.locator("#tokutei").screenshot({ path: path.join(shots, "10-central-tokutei-failures.png") });

  // The insurer whose records pass: OK, then the download.
  await page.selectOption("#tk-insurer", goodInsurer);
  if (!(await page.isDisabled('[data-testid="tk-download"]'))) throw new Error("download enabled before the check");
  await page.click('[data-testid="tk-check"]');
  await page.waitForFunction(() => document.getElementById("tk-status").textContent.includes("問題ありません"), null, { timeout: 60000 });
  if ((await page.$$("#tk-failures td")).length) throw new Error("failures shown for a passing insurer");
  await clean(page, "ok");
  // The network drops as the clerk presses download: the failure is said beside the button
  // (where she is looking), and pressing again once back online downloads.
  await ctx.setOffline(true);
  await page.click('[data-testid="tk-download"]');
  await page.waitForFunction(() => document.getElementById("tk-status").textContent.includes("ダウンロードできません"), null, { timeout: 10000 });
  await ctx.setOffline(false);
  const [download] = await Promise.all([page.waitForEvent("download"), page.click('[data-testid="tk-download"]')]);
  const name = download.suggestedFilename();
  if (!name.startsWith("1312345678_" + goodInsurer + "_") || !name.endsWith(".zip")) throw new Error("file name: " + name);
  await download.saveAs(zipOut);
  await page.waitForFunction(() => document.getElementById("tk-status").textContent.includes("ダウンロードしました"));
  await page.locator("#tokutei").screenshot({ path: path.join(shots, "10-central-tokutei-ok.png") });
  if (page.scriptError) throw new Error("script error: " + page.scriptError);
  await browser.close();
  console.log("file " + name + " (" + fs.statSync(zipOut).size + " bytes)");
  console.log("tokutei export complete");
})().catch((e) => { console.error(e); process.exit(1); });
