// A child case's photos on central's staff page, in real headless Chromium: the caseworker
// assigned to the case opens it and sees its two photos as thumbnails (loaded, captioned in
// Japanese, each a link to the photo) and the photo answered `no-store`; a caseworker not
// on the case opens the same case and gets the case's fields but no photo, only the rule in
// Japanese and English. axe-core finds nothing and every control is at least 48 px high.
// Usage: node central-case-photos.js BASE_URL SCREENSHOT_DIR CASE_ID
"use strict";
const path = require("path");
const { launch, axe, api } = require("./lib");

const [base, shots, caseId] = process.argv.slice(2);

async function clean(page, when) {
  const v = await axe(page);
  if (v.length) throw new Error("axe (" + when + "): " + JSON.stringify(v, null, 1));
  const small = await page.evaluate(() => Array.from(document.querySelectorAll("input, select, button, #case-photos a"))
    .filter((e) => e.offsetParent !== null && e.getBoundingClientRect().height < 48).map((e) => e.id || e.textContent));
  if (small.length) throw new Error("touch targets under 48px (" + when + "): " + small.join(", "));
  if (page.scriptError) throw new Error("script error (" + when + "): " + page.scriptError);
}

async function tablet(browser, id, pin) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "ja-JP" });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => { page.scriptError = page.scriptError || String(e); });
  await page.goto(base + "/");
  await page.fill("#sid", id);
  await page.fill("#pin", pin);
  await page.click('[data-testid="signin"]');
  await page.waitForFunction((id) => document.getElementById("who").textContent.includes(id), id, { timeout: 10000 });
  return page;
}

// Open the intake queue and the case.
async function openCase(page) {
  await page.click('[data-testid="cases"]');
  const button = page.locator(`#case-list button[data-case="${caseId}"]`);
  await button.waitFor({ timeout: 10000 });
  await button.click();
  await page.waitForFunction(() => {
    const el = document.getElementById("case-photos");
    return el && !el.textContent.includes("読み込み中");
  }, null, { timeout: 10000 });
}

(async () => {
  const browser = await launch();

  // The assigned caseworker: two thumbnails, loaded, captioned, linking to the photos.
  const mine = await tablet(browser, "K001", "2468");
  await openCase(mine);
  await mine.waitForFunction(() => {
    const imgs = Array.from(document.querySelectorAll('[data-testid="case-photo"] img'));
    return imgs.length === 2 && imgs.every((i) => i.complete && i.naturalWidth > 0);
  }, null, { timeout: 10000 });
  const sizes = await mine.evaluate(() => Array.from(document.querySelectorAll('[data-testid="case-photo"] img')).map((i) => [i.naturalWidth, i.naturalHeight]));
  if (JSON.stringify(sizes) !== "[[640,480],[320,240]]") throw new Error("photos as loaded: " + JSON.stringify(sizes));
  const text = await mine.textContent("#case-photos");
  if (!text.includes("右上腕のあざ") || !text.includes("640×480")) throw new Error("captions: " + text);
  const href = await mine.getAttribute('[data-testid="case-photo"] a', "href");
  const headers = await mine.evaluate(async (u) => { const r = await fetch(u); return [r.status, r.headers.get("cache-control"), r.headers.get("content-type")]; }, href);
  if (JSON.stringify(headers) !== '[200,"no-store","image/jpeg"]') throw new Error("the photo answered " + JSON.stringify(headers));
  await clean(mine, "case photos shown");
  await mine.locator("#cases").screenshot({ path: path.join(shots, "central-case-photos.png") });

  // Not on the case: the case's fields, no photo, the rule in Japanese and English.
  const other = await tablet(browser, "K002", "1470");
  await openCase(other);
  const refused = await other.textContent("#case-photos");
  if (!refused.includes("担当ケースワーカー") || !refused.includes("caseworkers")) throw new Error("refusal shown as: " + refused);
  if (await other.locator("#case-photos img").count()) throw new Error("a photo shown to a caseworker not on the case");
  const direct = await api(other, "GET", href);
  if (direct.status !== 403 || direct.body.error !== "not_on_case") throw new Error("the photo's address: " + JSON.stringify(direct));
  await clean(other, "case photos refused");
  await other.locator("#cases").screenshot({ path: path.join(shots, "central-case-photos-refused.png") });

  await browser.close();
  console.log("axe runs: " + axe.runs);
  console.log("central case photos walk complete");
})().catch((e) => { console.error(e); process.exit(1); });
