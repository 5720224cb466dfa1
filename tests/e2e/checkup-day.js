// A checkup day in real headless Chromium: roster import → reception taps a virtual card →
// session opens → measurement station → blood pressure station (two readings) → 問診 (the
// required questions asked) → the other stations → the doctor sees everything → the board shows the resident finished.
// Usage: node checkup-day.js BASE_URL SCREENSHOT_DIR [SPKI_SHA256]
// With SPKI_SHA256 (base64 SHA-256 of the box certificate's public key) the box is reached
// over HTTPS and Chromium accepts exactly that certificate, as a tablet that trusts the
// municipality's CA would.
"use strict";
const lib = require("./lib");
const path = require("path");

const [base, shots, spki] = process.argv.slice(2);
const RESIDENT = "0000777123";
const CSV = "resident_id,name,name_kana,birth_date,sex,address,course,booked_at\n" +
  `${RESIDENT},髙橋　一郎,タカハシ　イチロウ,1955-07-07,male,みどり市中央2丁目3番4号,特定健診,09:30\n`;

const signIn = (browser, id, pin) => lib.signIn(browser, base, id, pin, { width: 1280, height: 900 });

// Each screen photographed is also checked by axe-core: a violation fails the day.
async function shot(page, name) {
  await page.screenshot({ path: path.join(shots, name + ".png"), fullPage: true });
  const v = await lib.axe(page);
  if (v.length) { throw new Error(`axe on ${name} (${page.url()}): ${JSON.stringify(v)}`); }
}

async function stationRecord(page, station, values) {
  await page.goto(base + "/station/" + station);
  const pick = `#due button.pick`;
  await page.waitForSelector(pick, { timeout: 10000 });
  await page.click(pick);
  await page.waitForTimeout(300); // last year's values arrive
  for (const [code, v] of Object.entries(values)) {
    const sel = `#item-${code}`;
    // A finding's code (採血時間, 既往歴 …) is one of its answer buttons.
    if (!(await page.$(sel))) await page.click(`label[for="item-${code}-${v}"]`);
    else if ((await page.$eval(sel, (e) => e.tagName)) === "SELECT") await page.selectOption(sel, v);
    else await page.fill(sel, String(v));
  }
  await page.click("#save");
  await page.waitForFunction(() => document.getElementById("entry-status").textContent.includes("保存しました"), null, { timeout: 10000 });
}

// 問診: the nurse asks the four required questions (服薬 1–3, 喫煙), saves, and completes,
// confirming the questions left unanswered in the page's dialog.
async function questionnaire(page) {
  await page.goto(base + "/station/questionnaire");
  await page.waitForSelector("#due button.pick", { timeout: 10000 });
  await page.click("#due button.pick");
  await page.waitForSelector("#q-list .q-answer b", { timeout: 10000 });
  for (const [item, answer] of [["9N701000000000011", "2"], ["9N706000000000011", "2"], ["9N711000000000011", "2"], ["9N736000000000011", "3"]]) {
    await page.click(`label[for="item-${item}-${answer}"]`);
  }
  await page.click("#save");
  await page.waitForFunction(() => document.getElementById("entry-status").textContent.includes("保存しました"), null, { timeout: 10000 });
  await page.click("#done");
  await page.waitForSelector("dialog#ce-dialog[open]", { timeout: 10000 });
  await page.click("dialog#ce-dialog .ce-ok");
  await page.waitForSelector("#entry", { state: "hidden", timeout: 10000 });
}

(async () => {
  const browser = await lib.launch(spki);
  try {
    // 1. The venue admin imports the roster.
    const admin = await signIn(browser, "A001", "9991");
    const imported = await admin.evaluate(async (csv) => {
      const r = await fetch("/api/roster/import", { method: "POST", body: csv });
      return r.json();
    }, CSV);
    if (imported.added + imported.unchanged + imported.updated !== 1) throw new Error("roster import: " + JSON.stringify(imported));
    const history = await admin.evaluate(async (csv) => {
      const r = await fetch("/api/roster/history", { method: "POST", body: csv });
      return r.json();
    }, `resident_id,item_code,value,unit,date\n${RESIDENT},9N006000000000001,63.0,kg,2025-11-21\n`);
    if (history.rows !== 1) throw new Error("history import: " + JSON.stringify(history));

    // 2. Reception: the resident's card is tapped, the PIN typed, the match confirmed.
    const reception = await signIn(browser, "R001", "1111");
    await reception.goto(base + "/reception");
    await reception.waitForTimeout(300);
    await reception.evaluate(async (id) => {
      await fetch("/api/demo/tap", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ resident_id: id, card: "mynumber" }) });
    }, RESIDENT);
    await reception.waitForSelector("#pin-pad:not([hidden])", { timeout: 15000 });
    await shot(reception, "1-reception-pin");
    for (const d of RESIDENT.slice(-4)) await reception.click(`.key[data-key="${d}"]`);
    await reception.click('.key[data-key="OK"]');
    await reception.waitForSelector("#candidates:not([hidden]) button.check-in", { timeout: 10000 });
    await reception.click("#candidates button.check-in");
    await reception.waitForFunction(() => document.getElementById("checked-in-title").textContent.includes("受付しました"), null, { timeout: 10000 });
    await shot(reception, "2-reception-checked-in");

    // 3. Body measurement.
    const measure = await signIn(browser, "S001", "2221");
    await stationRecord(measure, "measurement", { "9N001000000000001": 168.2, "9N006000000000001": 64.5, "9N016160100000001": 82.0 });
    const lastYear = await measure.textContent("#last-9N006000000000001");
    if (!lastYear.includes("63.0")) throw new Error("last year's weight not shown: " + lastYear);
    const bmi = await measure.textContent("#bmi");
    if (!bmi.includes("22.8")) throw new Error("BMI not derived: " + bmi);
    // The waist was misread: corrected as a new event, with a reason asked in the page.
    await measure.waitForSelector('button.correct[data-code="9N016160100000001"]', { timeout: 10000 });
    await measure.click('button.correct[data-code="9N016160100000001"]');
    await measure.fill("#item-9N016160100000001", "83.5");
    await measure.click("#save");
    await measure.waitForSelector("dialog#ce-dialog[open] #ce-dialog-reason", { timeout: 10000 });
    await measure.fill("#ce-dialog-reason", "巻尺がずれていた / tape slipped");
    await measure.click("dialog#ce-dialog .ce-ok");
    await measure.waitForFunction(() => ((document.getElementById("record-fields") || {}).textContent || "").includes("83.5"), null, { timeout: 10000 });
    await shot(measure, "3-measurement");

    // 4. Blood pressure, two readings.
    const bp = await signIn(browser, "S002", "2222");
    await stationRecord(bp, "blood_pressure", { "9A751000000000001": 128, "9A761000000000001": 82, "9A752000000000001": 124, "9A762000000000001": 80 });
    await shot(bp, "4-blood-pressure");

    // 5. The nurse's stations: the questionnaire's required questions asked and the rest
    //    left confirmed, urine chosen explicitly (nothing is preselected) and blood recorded.
    const nurse = await signIn(browser, "N001", "3331");
    await questionnaire(nurse);
    await stationRecord(nurse, "urine", { "1A020000000191111": "-", "1A010000000191111": "±" });
    await stationRecord(nurse, "blood_draw", { "3D046000001999902": 5.6, "3D010000001999901": 98, "9N141000000000011": "2" });

    // 6. The doctor sees all of it, then signs off.
    const doctor = await signIn(browser, "D001", "4441");
    await doctor.goto(base + "/station/doctor");
    await doctor.waitForSelector("#due button.pick", { timeout: 10000 });
    await doctor.click("#due button.pick");
    await doctor.waitForSelector("#record-fields dd", { timeout: 10000 });
    const record = await doctor.textContent("#record-fields");
    // The questionnaire's answers as texts, not codes (喫煙: 3).
    for (const v of ["168.2", "64.5", "83.5", "訂正あり", "128", "124", "5.6", "±", "22.8", "いいえ（吸ったことがない）"]) {
      if (!record.includes(v)) throw new Error("doctor does not see " + v + ": " + record);
    }
    // The doctor's findings (既往歴, 自覚症状, 他覚症状) and 診断, required before signing off.
    await doctor.click('label[for="item-9N056000000000011-2"]');
    await doctor.click('label[for="item-9N061000000000011-2"]');
    await doctor.click('label[for="item-9N066000000000011-2"]');
    await doctor.fill("#item-9N511000000000049", "異常なし");
    await doctor.click("#save");
    await doctor.waitForFunction(() => document.getElementById("entry-status").textContent.includes("保存しました"), null, { timeout: 10000 });
    await shot(doctor, "5-doctor");
    await doctor.click("#done");
    await doctor.waitForSelector("#entry", { state: "hidden", timeout: 10000 });

    // 7. The board (open since before) shows the resident finished, live.
    const board = await signIn(browser, "A001", "9991");
    await board.waitForSelector("#sessions tr.finished", { timeout: 10000 });
    const row = await board.textContent("#sessions tr.finished");
    if (!row.includes("髙橋")) throw new Error("board row: " + row);
    await shot(board, "6-board-finished");
    console.log("checkup day complete (" + lib.axe.runs + " axe runs)");
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e); process.exit(1); });
