// The stations' clinical safety, the tablet outbox and honest feedback, in real headless
// Chromium against a demo box:
// 1. urine results start empty; an empty save records nothing; the box refuses an empty value;
// 2. a new value for a saved item is a correction: an in-page dialog asks its reason; the box
//    refuses a second recorded value and a correction without a reason;
// 3. systolic ≤ diastolic is refused by the page and by the box, in Japanese (English with
//    ?lang=en); the blood pressure fields are in the order they are taken;
// 4. completing with items missing needs an in-page confirmation naming them, going back
//    its default; typed but unsaved values are named and saved first, never dropped; a
//    refused value keeps the typed values and is marked; the box refuses a completion
//    that does not list what is missing;
// 5. writes go through an outbox: offline saves, sign-offs and check-ins are kept (「未送信」),
//    survive a reload, are sent when the network returns, and a lost answer is never
//    applied twice; an offline banner shows;
// 6. 「保存しました」 only after the box answered; stale messages cleared; refusals shown
//    from their codes in the page language, never raw English.
// Usage: node station-safety.js BASE_URL [SPKI_SHA256]
"use strict";
const lib = require("./lib");

const [base, spki] = process.argv.slice(2);
const H = "9N001000000000001", W = "9N006000000000001", WAIST = "9N016160100000001";
const SYS1 = "9A751000000000001", DIA1 = "9A761000000000001", SYS2 = "9A752000000000001", DIA2 = "9A762000000000001";
const SUGAR = "1A020000000191111", PROTEIN = "1A010000000191111";
const RES = ["0000888001", "0000888002", "0000888003", "0000888004", "0000888005", "0000888006", "0000888007", "0000888008"];
const NAMES = ["安全　一郎", "安全　二郎", "安全　三郎", "安全　四郎", "安全　五郎", "安全　六郎", "安全　七郎", "安全　八郎"];
const CSV = "resident_id,name,name_kana,birth_date,sex,address,course,booked_at\n" +
  RES.map((r, i) => `${r},${NAMES[i]},アンゼン　タロウ,1950-01-0${i + 1},male,みどり市中央1丁目${i + 1}番,特定健診,10:00`).join("\n") + "\n";

function check(cond, what) { if (!cond) throw new Error(what); }

const signIn = (browser, id, pin) => lib.signIn(browser, base, id, pin);

const api = lib.api;
// axe-core on the page in `state`: any violation fails the run, naming page, state, nodes.
async function axe(page, state) {
  const v = await lib.axe(page);
  check(v.length === 0, `axe on ${state} (${page.url()}): ${JSON.stringify(v)}`);
}

async function open(page, station, sid, query) {
  await page.goto(base + "/station/" + station + (query || ""));
  const pick = `#due button.pick[data-session="${sid}"]`;
  await page.waitForSelector(pick, { timeout: 10000 });
  await page.click(pick);
  await page.waitForTimeout(300);
}

async function text(page, sel) { return (await page.textContent(sel)) || ""; }
async function visibleText(page, sel) { return (await page.isVisible(sel)) ? text(page, sel) : ""; }
async function results(page, sid) { return (await api(page, "GET", "/api/sessions/" + sid)).body.session; }
async function waitStatus(page, s) {
  await page.waitForFunction((s) => { const e = document.getElementById("entry-status"); return e && !e.hidden && e.textContent.includes(s); }, s, { timeout: 15000 });
}
async function waitMessage(page, s) {
  await page.waitForFunction((s) => { const e = document.getElementById("entry-message"); return e && !e.hidden && e.textContent.includes(s); }, s, { timeout: 15000 });
}
function recorded(sid, item, value, unit, station, confirmed) {
  return { body: { kind: "measurement_recorded", payload: { session_id: sid, resident_id: null, station, item_code: item, value, unit, confirmed: !!confirmed } } };
}

(async () => {
  const browser = await lib.launch(spki);
  try {
    const admin = await signIn(browser, "A001", "9991");
    const imported = await admin.evaluate(async (csv) => (await fetch("/api/roster/import", { method: "POST", body: csv })).json(), CSV);
    check(imported.added + imported.unchanged + imported.updated === RES.length, "roster import: " + JSON.stringify(imported));
    const reception = await signIn(browser, "R001", "1111");
    await reception.goto(base + "/reception");
    const sids = {};
    for (const r of RES.slice(0, 6)) {
      const a = await api(reception, "POST", "/api/reception/check-in", { id: await reception.evaluate(() => window.ceUuid7()), resident_id: r });
      check(a.status === 201, "check-in " + r + ": " + JSON.stringify(a));
      sids[r] = a.body.session_id;
    }
    const withResident = (b, r) => { b.body.payload.resident_id = r; return b; };

    // 1. Urine: nothing recorded by default.
    const nurse = await signIn(browser, "N001", "3331");
    await open(nurse, "urine", sids[RES[0]]);
    check(await nurse.$eval(`#item-${SUGAR}`, (e) => e.value) === "", "尿糖 does not start empty");
    check(await nurse.$eval(`#item-${PROTEIN}`, (e) => e.value) === "", "尿蛋白 does not start empty");
    await nurse.click("#save");
    await waitMessage(nurse, "値が入力されていません");
    await axe(nurse, "urine station, empty save refused");
    check(!(await visibleText(nurse, "#entry-status")).includes("保存しました"), "empty save says saved");
    check(!(await text(nurse, "#entry-title")).includes("保存しました"), "empty save says saved (title)");
    let s = await results(nurse, sids[RES[0]]);
    check(!s.results[SUGAR] && !s.results[PROTEIN], "an empty save recorded urine: " + JSON.stringify(s.results));
    const empty = await api(nurse, "POST", "/api/events", withResident(recorded(sids[RES[0]], SUGAR, "", "", "urine"), RES[0]));
    check(empty.status === 422 && empty.body.error, "the box took an empty urine value: " + JSON.stringify(empty));
    await nurse.selectOption(`#item-${SUGAR}`, "-");
    await nurse.click("#save");
    await waitStatus(nurse, "保存しました");
    check((await nurse.$eval(`#item-${PROTEIN}`, (e) => e.value)) === "", "尿蛋白 chosen by itself");
    s = await results(nurse, sids[RES[0]]);
    check(s.results[SUGAR] && !s.results[PROTEIN], "only 尿糖 recorded: " + JSON.stringify(s.results));

    // 2. A new value for a saved item is a correction with a reason; two tablets.
    const measure = await signIn(browser, "S001", "2221");
    const measure2 = await signIn(browser, "S001", "2221");
    await open(measure, "measurement", sids[RES[1]]);
    await open(measure2, "measurement", sids[RES[1]]);
    await measure.fill(`#item-${WAIST}`, "82");
    await measure.click("#save");
    await waitStatus(measure, "保存しました");
    await measure.waitForFunction(() => (document.getElementById("record-fields") || {}).textContent.includes("82"), null, { timeout: 10000 });
    // Stale feedback is cleared by the next action; a refusal never stands beside 「保存しました」.
    await measure.fill(`#item-${WAIST}`, "999");
    await measure.click("#save");
    await waitMessage(measure, "範囲外");
    check(!(await visibleText(measure, "#entry-status")).includes("保存しました"), "「保存しました」 stays beside a refusal");
    check(!/impossible|invalid/i.test(await text(measure, "#entry-message")), "raw English reaches staff");
    await measure.fill(`#item-${WAIST}`, "83.5");
    await measure.click("#save");
    await measure.waitForSelector("dialog#ce-dialog[open] #ce-dialog-reason", { timeout: 5000 });
    check((await text(measure, "dialog#ce-dialog")).includes("82"), "the dialog names the saved value");
    await axe(measure, "correction dialog");
    // No reason: the dialog will not save.
    await measure.click("dialog#ce-dialog .ce-ok");
    check(await measure.isVisible("dialog#ce-dialog[open]"), "a correction was saved without a reason");
    await measure.click("dialog#ce-dialog .ce-cancel");
    await waitMessage(measure, "訂正を取りやめました");
    s = await results(measure, sids[RES[1]]);
    check(s.results[WAIST].length === 1, "a cancelled correction changed the record");
    await measure.fill(`#item-${WAIST}`, "83.5");
    await measure.click("#save");
    await measure.waitForSelector("dialog#ce-dialog[open] #ce-dialog-reason", { timeout: 5000 });
    await measure.fill("#ce-dialog-reason", "巻尺がずれていた");
    await measure.click("dialog#ce-dialog .ce-ok");
    await waitStatus(measure, "保存しました");
    s = await results(measure, sids[RES[1]]);
    check(s.results[WAIST].length === 2 && s.results[WAIST][1].reason === "巻尺がずれていた", "correction not stored with its reason: " + JSON.stringify(s.results[WAIST]));
    // The second tablet still shows no waist: its save is refused by the box, in Japanese.
    await measure2.fill(`#item-${WAIST}`, "90");
    await measure2.click("#save");
    await waitMessage(measure2, "すでに保存されています");
    check(!/already|invalid/i.test(await text(measure2, "#entry-message")), "raw English on the second tablet");
    s = await results(measure, sids[RES[1]]);
    check(s.results[WAIST].length === 2, "the second tablet replaced the value silently");
    // The box: a second recorded value and a correction without a reason are refused.
    const again = await api(measure, "POST", "/api/events", withResident(recorded(sids[RES[1]], WAIST, 84, "cm", "measurement"), RES[1]));
    check(again.status === 422 && again.body.error === "correction_required", "second value: " + JSON.stringify(again));
    const noReason = await api(measure, "POST", "/api/events", { body: { kind: "measurement_corrected", payload: {
      session_id: sids[RES[1]], resident_id: RES[1], corrects: s.results[WAIST][1].event_id, item_code: WAIST, value: 84, unit: "cm", reason: " " } } });
    check(noReason.status === 422 && noReason.body.error === "reason_required", "correction without reason: " + JSON.stringify(noReason));
    check(!measure.nativeDialog && !measure2.nativeDialog, "a native dialog was used: " + (measure.nativeDialog || measure2.nativeDialog));

    // 3. Blood pressure: fields in the order taken; systolic above diastolic, page and box.
    const bp = await signIn(browser, "S002", "2222");
    await open(bp, "blood_pressure", sids[RES[2]]);
    const order = await bp.$$eval("#items input", (l) => l.map((e) => e.dataset.code));
    check(JSON.stringify(order) === JSON.stringify([SYS1, DIA1, SYS2, DIA2]), "blood pressure order: " + order);
    // Save and complete are clearly apart: far from each other and not alike.
    const apart = await bp.evaluate(() => {
      const a = document.getElementById("save").getBoundingClientRect(), b = document.getElementById("done").getBoundingClientRect();
      const bg = (id) => getComputedStyle(document.getElementById(id)).backgroundColor;
      return { gap: b.top - a.bottom, alike: bg("save") === bg("done") };
    });
    check(apart.gap >= 40 && !apart.alike, "save and complete look alike or sit together: " + JSON.stringify(apart));
    await bp.fill(`#item-${SYS1}`, "70");
    await bp.fill(`#item-${DIA1}`, "120");
    await bp.click("#save");
    await waitMessage(bp, "収縮期血圧（70）は拡張期血圧（120）より高く");
    await axe(bp, "blood pressure, 70/120 refused");
    check(!(await bp.isVisible("dialog#ce-dialog[open]")), "a generic confirmation instead of a refusal");
    s = await results(bp, sids[RES[2]]);
    check(!s.results[SYS1] && !s.results[DIA1], "70/120 recorded: " + JSON.stringify(s.results));
    const dia = await api(bp, "POST", "/api/events", withResident(recorded(sids[RES[2]], DIA1, 120, "mmHg", "blood_pressure", true), RES[2]));
    check(dia.status === 201, "diastolic alone: " + JSON.stringify(dia));
    const sys = await api(bp, "POST", "/api/events", withResident(recorded(sids[RES[2]], SYS1, 70, "mmHg", "blood_pressure", true), RES[2]));
    check(sys.status === 422 && sys.body.error === "systolic_not_above_diastolic", "the box took 70/120: " + JSON.stringify(sys));
    // In English with ?lang=en.
    await open(bp, "blood_pressure", sids[RES[2]], "?lang=en");
    await bp.fill(`#item-${SYS2}`, "80");
    await bp.fill(`#item-${DIA2}`, "95");
    await bp.click("#save");
    await waitMessage(bp, "Systolic (80) must be above diastolic (95)");
    await axe(bp, "blood pressure in English, refused");
    check(!/[\u3040-\u30ff]/.test(await text(bp, "#entry-message")), "Japanese in the English message");
    check(!bp.nativeDialog, "a native dialog was used: " + bp.nativeDialog);

    // 4. Completing with items missing: an in-page dialog naming them; the box enforces it.
    await open(measure, "measurement", sids[RES[3]]);
    await measure.fill(`#item-${H}`, "170");
    await measure.click("#save");
    await waitStatus(measure, "保存しました");
    await measure.click("#done");
    await measure.waitForSelector("dialog#ce-dialog[open]", { timeout: 10000 });
    const dlg = await text(measure, "dialog#ce-dialog");
    check(dlg.includes("体重") && dlg.includes("腹囲") && !dlg.includes("身長"), "the dialog does not name what is missing: " + dlg);
    await axe(measure, "completion dialog naming what is missing");
    await measure.click("dialog#ce-dialog .ce-cancel");
    check(await measure.isVisible("#entry"), "going back closed the entry");
    s = await results(measure, sids[RES[3]]);
    check(!s.visited || !s.visited.measurement, "completed without confirmation");
    const unlisted = await api(measure, "POST", "/api/events", { body: { kind: "station_visited", payload: {
      session_id: sids[RES[3]], resident_id: RES[3], station: "measurement", confirmed: true } } });
    check(unlisted.status === 422 && unlisted.body.error === "incomplete_station" &&
      JSON.stringify(unlisted.body.missing) === JSON.stringify([W, WAIST]), "the box took an unlisted completion: " + JSON.stringify(unlisted));
    await measure.click("#done");
    await measure.waitForSelector("dialog#ce-dialog[open]", { timeout: 10000 });
    await measure.click("dialog#ce-dialog .ce-ok");
    await measure.waitForSelector("#entry", { state: "hidden", timeout: 10000 });
    s = await results(measure, sids[RES[3]]);
    check(s.visited && s.visited.measurement, "not completed after confirmation: " + JSON.stringify(s.visited));
    check(!measure.nativeDialog, "a native dialog was used: " + measure.nativeDialog);

    // 4b. A refused value keeps every typed value in its field; completing then names the
    // typed-but-unsaved items, and the dialog's default choice saves, never completes.
    await open(measure, "measurement", sids[RES[5]]);
    await measure.fill(`#item-${H}`, "158.0");
    await measure.fill(`#item-${W}`, "523");
    await measure.fill(`#item-${WAIST}`, "75");
    await measure.click("#save");
    await waitMessage(measure, "523 は範囲外です");
    const kept = await measure.evaluate((c) => c.map((x) => document.getElementById("item-" + x).value), [H, W, WAIST]);
    check(JSON.stringify(kept) === JSON.stringify(["158.0", "523", "75"]), "a refused save cleared typed values: " + JSON.stringify(kept));
    check(await measure.$eval(`#item-${W}`, (e) => e.getAttribute("aria-invalid")) === "true", "the refused weight is not marked");
    await measure.click("#done");
    await measure.waitForSelector("dialog#ce-dialog[open]", { timeout: 10000 });
    const unsaved = await text(measure, "dialog#ce-dialog");
    check(unsaved.includes("保存されていない") && ["身長", "体重", "腹囲"].every((n) => unsaved.includes(n)), "the dialog does not name the unsaved items: " + unsaved);
    const dflt = await measure.evaluate(() => { const a = document.activeElement; return a ? a.className + "|" + a.textContent : ""; });
    check(!dflt.includes("完了") && dflt.includes("保存"), "the dialog's default choice is not saving: " + dflt);
    await axe(measure, "completion dialog naming typed but unsaved items");
    await measure.keyboard.press("Enter");  // the default choice: save (refused again)
    await waitMessage(measure, "523 は範囲外です");
    s = await results(measure, sids[RES[5]]);
    check((!s.visited || !s.visited.measurement) && !s.results[H], "completed or saved with a refused value: " + JSON.stringify(s));
    // Nothing typed, items missing: going back is the default; completing is the secondary choice.
    for (const c of [H, W, WAIST]) { await measure.fill(`#item-${c}`, ""); }
    await measure.click("#done");
    await measure.waitForSelector("dialog#ce-dialog[open]", { timeout: 10000 });
    const back = await measure.evaluate(() => document.activeElement && document.activeElement.className);
    check(back.includes("ce-cancel") && (await measure.$eval("dialog#ce-dialog .ce-ok", (e) => e.className)).includes("secondary"),
      "completing without values is the default: " + back);
    await measure.keyboard.press("Enter");
    await measure.waitForSelector("dialog#ce-dialog", { state: "detached", timeout: 5000 });
    s = await results(measure, sids[RES[5]]);
    check(!s.visited || !s.visited.measurement, "the default choice completed without values");

    // 5. The outbox. A short outage at the measurement station.
    const ctx = measure.context();
    await open(measure, "measurement", sids[RES[4]]);
    await ctx.setOffline(true);
    await measure.waitForSelector("#ce-offline:not([hidden])", { timeout: 5000 });
    check((await text(measure, "#ce-offline")).includes("オフライン — 保存は未送信として保持しています"), "offline banner");
    await measure.fill(`#item-${H}`, "171.5");
    await measure.click("#save");
    await measure.waitForFunction(() => document.getElementById("ce-outbox").textContent.includes("未送信 1件"), null, { timeout: 5000 });
    check((await text(measure, "#record-fields")).includes("171.5"), "the unsent value vanished from the screen");
    check(!(await visibleText(measure, "#entry-status")).includes("保存しました"), "「保存しました」 while offline");
    await axe(measure, "offline, a save held in the outbox");
    await measure.waitForTimeout(5000);
    check((await text(measure, "#record-fields")).includes("171.5"), "the unsent value vanished during the outage");
    await ctx.setOffline(false);
    await waitStatus(measure, "保存しました");
    await measure.waitForSelector("#ce-outbox", { state: "hidden", timeout: 10000 });
    await measure.waitForSelector("#ce-offline", { state: "hidden", timeout: 10000 });
    s = await results(measure, sids[RES[4]]);
    check(s.results[H] && s.results[H].length === 1, "the outage save: " + JSON.stringify(s.results[H]));

    // The box stores but its answer is lost; the page is reloaded while the box is out of
    // reach: the write is still held, then sent again with its id and applied once.
    await open(measure, "measurement", sids[RES[4]]);
    let cut = true;
    await measure.route("**/api/events", async (route) => {
      if (!cut) return route.continue();
      await route.fetch().catch(() => null);  // reaches the box...
      return route.abort("connectionreset");   // ...but the answer never reaches the tablet
    });
    await measure.fill(`#item-${W}`, "66.2");
    await measure.click("#save");
    await measure.waitForFunction(() => document.getElementById("ce-outbox").textContent.includes("未送信 1件"), null, { timeout: 10000 });
    await measure.reload();
    await measure.waitForFunction(() => document.getElementById("ce-outbox").textContent.includes("未送信 1件"), null, { timeout: 10000 });
    const held = await measure.evaluate(() => JSON.parse(localStorage.getItem("ce-outbox:" + document.querySelector("[data-staff]").getAttribute("data-staff"))).map((e) => e.body.body.payload.value));
    check(JSON.stringify(held) === "[66.2]", "outbox after reload: " + JSON.stringify(held));
    cut = false;
    await measure.waitForSelector("#ce-outbox", { state: "hidden", timeout: 15000 });
    s = await results(measure, sids[RES[4]]);
    check(s.results[W] && s.results[W].length === 1 && s.results[W][0].value === 66.2, "applied once: " + JSON.stringify(s.results[W]));
    await measure.unroute("**/api/events");

    // A sign-off during an outage (every question answered first: nothing is missing).
    const quest = nurse;
    const questions = (await api(quest, "GET", "/api/questionnaire")).body.items.map((q) => q.code);
    check(questions.length === 22, "the questionnaire: " + questions.length);
    for (const item of questions) {
      const a = await api(quest, "POST", "/api/events", { id: await quest.evaluate(() => window.ceUuid7()), body: { kind: "measurement_recorded", payload: {
        session_id: sids[RES[4]], resident_id: RES[4], station: "questionnaire", item_code: item, value: "1", unit: "",
        answered: { via: "interview", lang: "ja" } } } });
      check(a.status === 201, "answer " + item + ": " + JSON.stringify(a));
    }
    await open(quest, "questionnaire", sids[RES[4]]);
    await quest.context().setOffline(true);
    await quest.click("#done");
    await quest.waitForFunction(() => document.getElementById("ce-outbox").textContent.includes("未送信 1件"), null, { timeout: 5000 });
    await waitMessage(quest, "未送信として保持");
    check(await quest.isVisible("#entry"), "the sign-off looked done while offline");
    await quest.context().setOffline(false);
    await quest.waitForSelector("#entry", { state: "hidden", timeout: 15000 });
    s = await results(quest, sids[RES[4]]);
    check(s.visited && s.visited.questionnaire, "the offline sign-off was lost");

    // An offline check-in at reception.
    await reception.goto(base + "/reception");
    await reception.fill("#search-q", NAMES[6].replace("　", ""));
    await reception.click("#search-form button[type=submit]");
    await reception.waitForSelector(`#candidates:not([hidden]) button.check-in[data-resident="${RES[6]}"]`, { timeout: 10000 });
    await reception.context().setOffline(true);
    await reception.waitForSelector("#ce-offline:not([hidden])", { timeout: 5000 });
    await reception.click(`button.check-in[data-resident="${RES[6]}"]`);
    await reception.waitForFunction(() => document.getElementById("ce-outbox").textContent.includes("未送信 1件"), null, { timeout: 5000 });
    check((await text(reception, "#checked-in-title")).includes("未送信"), "the offline check-in says nothing: " + await text(reception, "#checked-in-title"));
    await axe(reception, "reception offline, a check-in held");
    await reception.waitForTimeout(3000);
    check((await text(reception, "#checked-in-title")).includes("未送信"), "the offline check-in gave up");
    await reception.context().setOffline(false);
    await reception.waitForFunction(() => document.getElementById("checked-in-title").textContent.includes("受付しました"), null, { timeout: 15000 });
    const board = (await api(admin, "GET", "/api/board")).body;
    const opened = board.sessions.filter((x) => x.resident_id === RES[6]);
    check(opened.length === 1, "the offline check-in: " + JSON.stringify(opened));

    // What one person left unsent is never sent under the next person's sign-in on the
    // same tablet: it waits for its author.
    await reception.fill("#search-q", NAMES[7].replace("　", ""));
    await reception.click("#search-form button[type=submit]");
    await reception.waitForSelector(`#candidates:not([hidden]) button.check-in[data-resident="${RES[7]}"]`, { timeout: 10000 });
    await reception.context().setOffline(true);
    await reception.click(`button.check-in[data-resident="${RES[7]}"]`);
    await reception.waitForFunction(() => document.getElementById("ce-outbox").textContent.includes("未送信 1件"), null, { timeout: 5000 });
    await reception.route("**/api/reception/check-in", (route) => route.abort("connectionreset"));
    await reception.context().setOffline(false);
    await reception.waitForTimeout(500);
    await reception.goto(base + "/reception");  // the page's own write is still held
    await Promise.all([reception.waitForNavigation(), reception.click("header form.logout button")]);
    await reception.unroute("**/api/reception/check-in");
    await reception.goto(base + "/login");
    await reception.fill("#staff_id", "A001");
    await reception.fill("#pin", "9991");
    await Promise.all([reception.waitForNavigation(), reception.click("form.login button")]);
    await reception.goto(base + "/reception");
    await reception.waitForTimeout(5000);  // longer than the outbox's retry period
    check(!(await reception.isVisible("#ce-outbox")), "another person's unsent write is shown to the admin");
    let b = (await api(admin, "GET", "/api/board")).body;
    check(!b.sessions.some((x) => x.resident_id === RES[7]), "reception's held check-in went out under the admin's sign-in");
    await Promise.all([reception.waitForNavigation(), reception.click("header form.logout button")]);
    await reception.goto(base + "/login");
    await reception.fill("#staff_id", "R001");
    await reception.fill("#pin", "1111");
    await Promise.all([reception.waitForNavigation(), reception.click("form.login button")]);
    await reception.goto(base + "/reception");
    await reception.waitForSelector("#ce-outbox", { state: "hidden", timeout: 15000 });
    b = (await api(admin, "GET", "/api/board")).body;
    check(b.sessions.filter((x) => x.resident_id === RES[7]).length === 1, "reception's held check-in, sent by its author: " + JSON.stringify(b.sessions.filter((x) => x.resident_id === RES[7])));
    check(!reception.nativeDialog && !quest.nativeDialog, "a native dialog was used");
    check(lib.axe.runs === 8, "axe ran " + lib.axe.runs + " times");
    console.log("station safety complete (" + lib.axe.runs + " axe runs)");
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e); process.exit(1); });
