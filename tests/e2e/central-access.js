// Central's staff page as its users, in real headless Chromium, three tablets at once: the
// district nurse H001 reads a resident of her district, then one of another district — the
// page asks for the purpose beside the record and reads once she has written one; she
// raises a 特定妊婦 flag and the caseworker K001, signed in on her own tablet, sees it
// appear without reloading (the time from the nurse's press to the row is printed); the
// health 係長 H010 reviews the out-of-district read with its purpose; the auditor A001
// produces the resident's access report (開示請求) with H001's reads. axe-core finds
// nothing on any of these pages and every control is at least 48 px high.
// Usage: node central-access.js BASE_URL SCREENSHOT_DIR
"use strict";
const path = require("path");
const { launch, axe, api } = require("./lib");

const [base, shots] = process.argv.slice(2);

async function clean(page, when) {
  const v = await axe(page);
  if (v.length) throw new Error("axe (" + when + "): " + JSON.stringify(v, null, 1));
  const small = await page.evaluate(() => Array.from(document.querySelectorAll("input, select, button"))
    .filter((e) => e.offsetParent !== null && e.getBoundingClientRect().height < 48).map((e) => e.id || e.textContent));
  if (small.length) throw new Error("touch targets under 48px (" + when + "): " + small.join(", "));
  if (page.scriptError) throw new Error("script error (" + when + "): " + page.scriptError);
}

// A tablet of its own (cookies) signed in on the staff page as `id`.
async function tablet(browser, id, pin) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "ja-JP" });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => { page.scriptError = page.scriptError || String(e); });
  page.on("dialog", (d) => { page.nativeDialog = d.message(); d.dismiss(); });
  await page.goto(base + "/");
  await page.fill("#sid", id);
  await page.fill("#pin", pin);
  await page.click('[data-testid="signin"]');
  await page.waitForFunction((id) => document.getElementById("who").textContent.includes(id), id, { timeout: 10000 });
  return page;
}

// Find `id` by its number as a nurse does and open the record.
async function open(page, id) {
  await page.fill("#q", id);
  await page.click('[data-testid="search"]');
  await page.waitForFunction((id) => document.getElementById("found").textContent.includes(id), id, { timeout: 10000 });
  await page.click("#found button");
}

(async () => {
  const browser = await launch();
  const nurse = await tablet(browser, "H001", "1357");
  const worker = await tablet(browser, "K001", "2468");
  await worker.waitForFunction(() => document.getElementById("fl-status").textContent.includes("すぐ"), null, { timeout: 10000 });

  // Residents of her district (中央) and of another (北), from the register.
  const all = await api(nurse, "GET", "/v1/residents?q=");
  if (all.status !== 200) throw new Error("search: " + JSON.stringify(all));
  const mine = all.body.residents.find((r) => r.district === "中央");
  const other = all.body.residents.find((r) => r.district === "北");
  const mother = all.body.residents.filter((r) => r.district === "中央" && r.sex === "female").pop() || mine;
  if (!mine || !other) throw new Error("no residents of 中央 and 北: " + JSON.stringify(all.body).slice(0, 300));

  // Her district: the record at once.
  await open(nurse, mine.resident_id);
  await nurse.waitForFunction((id) => document.querySelector("#rec h3") && document.querySelector("#rec h3").textContent.includes(id), mine.resident_id, { timeout: 10000 });

  // Another district: the purpose is asked beside the record, nothing of the record shown.
  await open(nurse, other.resident_id);
  await nurse.waitForFunction(() => document.getElementById("rec-status").textContent.includes("目的"), null, { timeout: 10000 });
  const rec = await nurse.textContent("#rec");
  if (rec.includes(other.resident_id) || rec.includes(mine.resident_id)) throw new Error("a record shown before the purpose: " + rec);
  const focused = await nurse.evaluate(() => document.activeElement && document.activeElement.id);
  if (focused !== "purpose") throw new Error("the purpose field is not focused: " + focused);
  await clean(nurse, "purpose asked");
  await nurse.locator("#record").screenshot({ path: path.join(shots, "central-access-purpose.png") });
  const purpose = "転入者の継続支援（前任地区からの引継ぎ）";
  await nurse.fill("#purpose", purpose);
  await nurse.click('[data-testid="purpose-read"]');
  await nurse.waitForFunction((id) => document.querySelector("#rec h3") && document.querySelector("#rec h3").textContent.includes(id), other.resident_id, { timeout: 10000 });
  if ((await nurse.inputValue("#purpose")) !== "") throw new Error("the purpose stays for the next resident");
  await clean(nurse, "record read with a purpose");

  // The flag: the caseworker's list grows without reloading; time from press to row.
  await worker.evaluate((rid) => {
    window.flagSeenAt = null;
    new MutationObserver(() => {
      if (window.flagSeenAt === null && document.getElementById("flag-list").textContent.includes(rid)) {
        window.flagSeenAt = performance.timeOrigin + performance.now();
      }
    }).observe(document.getElementById("flag-list"), { childList: true, subtree: true, characterData: true });
  }, mother.resident_id);
  const loads = await worker.evaluate(() => performance.getEntriesByType("navigation").length);
  await nurse.fill("#fl-resident", mother.resident_id);
  await nurse.selectOption("#fl-kind", "specified_pregnancy");
  await nurse.fill("#fl-note", "妊娠届出時、支援者がいないと話す。若年・経済的な不安あり");
  const pressed = Date.now();
  await nurse.click('[data-testid="flag"]');
  await worker.waitForFunction(() => window.flagSeenAt !== null, null, { timeout: 10000, polling: 20 });
  const seenAt = await worker.evaluate(() => window.flagSeenAt);
  const row = await worker.textContent('[data-testid="flag-row"]');
  if (!row.includes("特定妊婦") || !row.includes(mother.resident_id)) throw new Error("flag row: " + row);
  if ((await worker.evaluate(() => performance.getEntriesByType("navigation").length)) !== loads) throw new Error("reloaded");
  await nurse.waitForFunction(() => document.getElementById("fl-status").textContent.includes("フラグを付けました"), null, { timeout: 10000 });
  await clean(worker, "flag shown");
  await worker.locator("#flags").screenshot({ path: path.join(shots, "central-access-flag-live.png") });
  console.log("flag from the nurse's press to the caseworker's row: " + Math.round(seenAt - pressed) + " ms");

  // The health 係長 reviews the reads outside duty.
  const chief = await tablet(browser, "H010", "3579");
  await chief.click('[data-testid="flagged"]');
  await chief.waitForFunction(() => document.getElementById("access-list").textContent.includes("H001"), null, { timeout: 10000 });
  const review = await chief.textContent("#access-list");
  if (!review.includes(other.resident_id) || !review.includes(purpose)) throw new Error("review: " + review);
  await clean(chief, "review");
  await chief.locator("#access").screenshot({ path: path.join(shots, "central-access-review.png") });

  // The auditor: the resident's access report names H001's read and why.
  const auditor = await tablet(browser, "A001", "9753");
  await auditor.fill("#ar-resident", other.resident_id);
  await auditor.click('[data-testid="access-report"]');
  await auditor.waitForFunction(() => document.getElementById("access-list").textContent.includes("H001"), null, { timeout: 10000 });
  const report = await auditor.textContent("#access-list");
  if (!report.includes(purpose) || !report.includes("地区 保子")) throw new Error("report: " + report);
  await clean(auditor, "access report");
  await auditor.locator("#access").screenshot({ path: path.join(shots, "central-access-report.png") });

  // A resident number with quotes in it (the register is data from elsewhere) stays data:
  // the row opens that resident, no script of it runs.
  const admin = await tablet(browser, "C001", "1234");
  const odd = "Q1');document.title='pwned';//\"";
  const csv = "resident_id,name,name_kana,birth_date,sex,address,district\n\"" + odd.replace(/"/g, '""') + "\",引用　符子,インヨウ,1980-01-01,female,みどり市本町1丁目,中央\n";
  const imported = await admin.evaluate(async (csv) => (await fetch("/v1/residents", { method: "POST", headers: { "content-type": "text/csv" }, body: csv })).json(), csv);
  if (imported.imported !== 1) throw new Error("import: " + JSON.stringify(imported));
  await admin.fill("#q", "インヨウ");
  await admin.click('[data-testid="search"]');
  await admin.waitForFunction(() => document.getElementById("found").textContent.includes("引用"), null, { timeout: 10000 });
  await admin.click("#found button");
  await admin.waitForFunction((id) => document.querySelector("#rec h3") && document.querySelector("#rec h3").textContent.includes(id), odd, { timeout: 10000 });
  if ((await admin.title()).includes("pwned")) throw new Error("a resident number ran as script");

  for (const p of [nurse, worker, chief, auditor, admin]) {
    if (p.nativeDialog) throw new Error("native dialog: " + p.nativeDialog);
  }
  if (process.env.FULL_SHOTS) { for (const [n, p] of [["nurse", nurse], ["worker", worker], ["chief", chief], ["auditor", auditor]]) { await p.screenshot({ path: process.env.FULL_SHOTS + "/" + n + ".png", fullPage: true }); } }
  await browser.close();
  console.log("central access walk complete");
})().catch((e) => { console.error(e); process.exit(1); });
