// Police notice intake in real headless Chromium, across two boxes of one venue:
// a nurse is refused every child-welfare page and API (403); the clerk on box 1 uploads a
// scanned notice, reviews each field beside its crop (low-confidence fields highlighted and
// confirmed; a name printed with a Latin letter flagged 「要確認」 with its reason), corrects
// one by typing and saves it as a case; a caseworker signed in on box 2 sees the case
// appear live (no reload); a PDF dropped in box 1's scanner folder shows up in the clerk's
// inbox by itself; the venue admin's log withholds the case.
// Usage: node notice-intake.js BOX1_URL BOX2_URL NOTICE_PNG SCREENSHOT_DIR CHILD_NAME
"use strict";
const { chromium } = require("playwright-core");
const lib = require("./lib");
const path = require("path");

const [box1, box2, notice, shots, childName] = process.argv.slice(2);

async function signIn(browser, base, id, pin) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 }, locale: "ja-JP" });
  const page = await ctx.newPage();
  await page.goto(base + "/login");
  await page.fill("#staff_id", id);
  await page.fill("#pin", pin);
  await Promise.all([page.waitForNavigation(), page.click("form.login button")]);
  return page;
}

function check(cond, what) { if (!cond) throw new Error(what); }
// axe-core on the page in `state`: zero violations.
async function axe(page, state) {
  const v = await lib.axe(page);
  check(v.length === 0, `axe on ${state} (${page.url()}): ${JSON.stringify(v)}`);
}

(async () => {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });

  // A checkup role gets 403 on every child-welfare page and API.
  const nurse = await signIn(browser, box1, "N1", "1111");
  for (const p of ["/intake", "/cases"]) {
    const r = await nurse.goto(box1 + p);
    check(r.status() === 403, `nurse ${p}: ${r.status()}`);
  }
  const apis = await nurse.evaluate(async () => {
    const out = {};
    for (const p of ["/api/intake/scans", "/api/cases", "/api/intake/events", "/api/cases/events"]) {
      out[p] = (await fetch(p)).status;
    }
    out.upload = (await fetch("/api/intake/scans?name=x.png", { method: "POST", body: "x" })).status;
    return out;
  });
  for (const [p, s] of Object.entries(apis)) check(s === 403, `nurse ${p}: ${s}`);

  // The caseworker on box 2 watches the case list.
  const worker = await signIn(browser, box2, "K1", "2468");
  check(worker.url().endsWith("/cases"), "caseworker lands on /cases: " + worker.url());
  await worker.waitForFunction(() => document.getElementById("cases-state").textContent.includes("0"));

  // The clerk on box 1: upload, review, correct, save.
  const clerk = await signIn(browser, box1, "C1", "5551");
  check(clerk.url().endsWith("/intake"), "clerk lands on /intake: " + clerk.url());
  await clerk.setInputFiles("#upload", notice);
  const row = `#scans tr[data-status="ready"]:has(td:text-is("${path.basename(notice)}")) button`;
  await clerk.waitForSelector(row, { timeout: 60000 });
  await clerk.click(row);
  await clerk.waitForSelector('.field[data-field="child_name"] img.crop:not([hidden])', { timeout: 10000 });
  const read = await clerk.$$eval("#review-form .field[data-field]", (divs) => divs.map((d) => ({
    name: d.dataset.field, value: d.querySelector("input,textarea,select").value, low: d.classList.contains("low"),
    crop: !d.querySelector("img.crop").hidden })));
  check(read.filter((f) => f.crop).length >= 6, "crops beside the fields: " + JSON.stringify(read));
  // The guardian's name was printed with a Latin letter (山田Ａ子): the box flags it, and the
  // page shows 「要確認」 with the reason beside the field, whatever the confidence.
  const flag = await clerk.$eval('.field[data-field="guardian_name"]', (d) => {
    const li = d.querySelector('ul.flags:not([hidden]) li[data-flag="foreign_chars"]');
    return { low: d.classList.contains("low"), text: li ? li.textContent : null,
      visible: !!li && li.getBoundingClientRect().height > 0, confirm: !!d.querySelector("input[data-confirm]") };
  });
  check(flag.low && flag.visible && flag.confirm && flag.text.startsWith("要確認") && flag.text.includes("英字"),
    "guardian name flagged: " + JSON.stringify(flag) + " " + JSON.stringify(read));
  await clerk.screenshot({ path: path.join(shots, "8-intake-review.png"), fullPage: true });
  await axe(clerk, "notice review with a flagged value");
  // Low-confidence fields cannot be saved unconfirmed.
  const low = read.filter((f) => f.low);
  if (low.length) {
    await clerk.click('[data-testid="save-case"]');
    await clerk.waitForFunction(() => !document.getElementById("save-message").hidden);
  }
  // The clerk corrects the guardian's name by typing (with a space: stored without).
  await clerk.fill("#f-guardian_name", "山田 恵美子");
  await clerk.fill("#f-child_name", childName);
  for (const cb of await clerk.$$("input[data-confirm]")) await cb.check();
  await clerk.click('[data-testid="save-case"]');
  await clerk.waitForFunction(() => document.getElementById("upload-message").textContent.includes("保存しました"), null, { timeout: 10000 });

  // Box 2's caseworker sees it live.
  await worker.waitForSelector(`#cases tbody tr.new:has(td:text-is("${childName}"))`, { timeout: 20000 });
  await worker.click(`#cases tbody tr:has(td:text-is("${childName}"))`);
  const detail = await worker.textContent("#case-fields");
  check(detail.includes("山田恵美子") && detail.includes("訂正"), "case detail: " + detail);
  await worker.screenshot({ path: path.join(shots, "9-cases-live.png"), fullPage: true });
  await axe(worker, "case list and detail, live");

  // The scanner's PDF arrives in the clerk's inbox by itself.
  await clerk.waitForSelector('#scans tr[data-status="ready"]:has(td:text-is("scanner-0001.pdf"))', { timeout: 60000 });

  // The venue admin reads the log of box 2: the case is withheld.
  const admin = await signIn(browser, box2, "A1", "9999");
  const log = await admin.evaluate(async () => (await fetch("/api/events?limit=10000")).json());
  check(log.withheld >= 1, "withheld: " + log.withheld);
  check(!JSON.stringify(log.events).includes(childName), "the admin's log shows the child");

  await browser.close();
  console.log("notice intake complete (" + lib.axe.runs + " axe runs)");
})().catch((e) => { console.error(e); process.exit(1); });
