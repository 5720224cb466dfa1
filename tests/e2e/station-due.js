// The station's list of residents due, in real headless Chromium against a demo box:
// 1. 「ここで受ける方」 lists the residents in the order reception checked them in (oldest
//    first), not by number, name or kana, and stays live: a check-in while the page is open
//    appears at the end without a reload;
// 2. a search box narrows it by name, kana (typed in hiragana or katakana) or resident
//    number; its rows are large touch targets (≥ 44 px) and still select the resident;
// 3. the page follows the page language: Japanese first (with English beside it), English
//    with ?lang=en and after the header's language link; the box's API lists the same order;
// 4. axe-core finds no violation on the page in either language;
// 5. 採血 asks 採血時間（食後） as large answer buttons (Japanese first, English beside it),
//    saved and shown; 診察 asks 既往歴・自覚症状・他覚症状 as large buttons and the texts as
//    labelled text areas, refuses the sign-off while they are missing, then the doctor
//    records 既往歴 なし, 自覚症状 あり with its text, 他覚症状 なし and the 診断, sees them
//    saved and completes; axe-core finds no violation on either page.
// Usage: node station-due.js BASE_URL [SPKI_SHA256]
"use strict";
const lib = require("./lib");

const [base, spki] = process.argv.slice(2);
const JAPANESE = /[\u3040-\u30ff\u3400-\u9fff]/;
// Arrival order differs from number, name and kana order.
const ROSTER = [
  { id: "0000777003", name: "和田　花子", kana: "ワダ　ハナコ" },
  { id: "0000777001", name: "鈴木　一郎", kana: "スズキ　イチロウ" },
  { id: "0000777004", name: "青木　次郎", kana: "アオキ　ジロウ" },
  { id: "0000777002", name: "鈴木　三郎", kana: "スズキ　サブロウ" },
];
const ARRIVAL = ROSTER.slice(0, 3).map((r) => r.id);
const LATE = ROSTER[3].id;
const CSV = "resident_id,name,name_kana,birth_date,sex,address,course,booked_at\n" +
  ROSTER.map((r, i) => `${r.id},${r.name},${r.kana},1955-02-0${i + 1},female,みどり市北町${i + 1}番,特定健診,09:30`).join("\n") + "\n";

function check(cond, what) { if (!cond) throw new Error(what); }

const signIn = (browser, id, pin) => lib.signIn(browser, base, id, pin);

const api = lib.api;

async function checkIn(reception, resident) {
  const a = await api(reception, "POST", "/api/reception/check-in", { id: await reception.evaluate(() => window.ceUuid7()), resident_id: resident });
  check(a.status === 201, "check-in " + resident + ": " + JSON.stringify(a));
  return a.body.session_id;
}

// Our residents as the visible due list shows them, top to bottom.
async function listed(page) {
  return page.$$eval("#due button.pick", (bs, ours) => bs.filter((b) => b.offsetParent !== null)
    .map((b) => b.dataset.resident || "").filter((r) => ours.includes(r)), ROSTER.map((r) => r.id));
}
async function waitListed(page, want, what) {
  try {
    await page.waitForFunction(([want, ours]) => {
      const got = Array.from(document.querySelectorAll("#due button.pick")).filter((b) => b.offsetParent !== null)
        .map((b) => b.dataset.resident || "").filter((r) => ours.includes(r));
      return JSON.stringify(got) === JSON.stringify(want);
    }, [want, ROSTER.map((r) => r.id)], { timeout: 10000 });
  } catch (e) {
    throw new Error(`${what}: want ${JSON.stringify(want)}, listed ${JSON.stringify(await listed(page))}`);
  }
}
async function search(page, q) {
  await page.fill("#due-search", q);
}

// axe-core on the page in `state`: any violation is a failure naming the page, the state
// and the nodes.
async function axe(page, state) {
  const v = await lib.axe(page);
  check(v.length === 0, `axe on ${state} (${page.url()}): ${JSON.stringify(v)}`);
}

(async () => {
  const browser = await lib.launch(spki);
  try {
    const admin = await signIn(browser, "A001", "9991");
    const imported = await admin.evaluate(async (csv) => (await fetch("/api/roster/import", { method: "POST", body: csv })).json(), CSV);
    check(imported.added + imported.unchanged + imported.updated === ROSTER.length, "roster import: " + JSON.stringify(imported));
    const reception = await signIn(browser, "R001", "1111");
    await reception.goto(base + "/reception");
    const sids = {};
    for (const r of ARRIVAL) {
      sids[r] = await checkIn(reception, r);
      // Apart in time, as residents arrive.
      await reception.waitForTimeout(30);
    }

    // 1. Arrival order, in Japanese first.
    const nurse = await signIn(browser, "N001", "3331");
    await nurse.goto(base + "/station/urine");
    check((await nurse.getAttribute("html", "lang")) === "ja", "station page not lang=ja");
    const dueTitle = (await nurse.textContent("#due-section h2")) || "";
    check(dueTitle.includes("ここで受ける方") && dueTitle.indexOf("ここで受ける方") < dueTitle.indexOf("Residents due"),
      "Japanese heading first, English beside it: " + dueTitle);
    await waitListed(nurse, ARRIVAL, "due list not in arrival order");
    const fromApi = (await api(nurse, "GET", "/api/station/urine/due")).body;
    check(fromApi && JSON.stringify(fromApi.residents.map((r) => r.resident_id).filter((r) => ARRIVAL.includes(r))) === JSON.stringify(ARRIVAL),
      "the box's due list not in arrival order: " + JSON.stringify(fromApi));
    const times = fromApi.residents.map((r) => r.checked_in_ms);
    check(times.every((t, i) => i === 0 || times[i - 1] <= t), "check-in times not oldest first: " + JSON.stringify(times));
    // Live: a check-in while the page is open appears at the end.
    sids[LATE] = await checkIn(reception, LATE);
    const all = ARRIVAL.concat([LATE]);
    await waitListed(nurse, all, "a new check-in did not appear live at the end");

    // 2. Search: name, kana in hiragana or katakana, resident number; large rows.
    const box = await nurse.$("#due-search");
    check(box, "no search box");
    const boxSize = await box.boundingBox();
    check(boxSize && boxSize.height >= 44, "search box smaller than 44 px: " + JSON.stringify(boxSize));
    const labelled = await nurse.$eval("#due-search", (e) => !!(e.labels && e.labels.length && e.labels[0].textContent.trim()));
    check(labelled, "search box has no label");
    await search(nurse, "すずき");
    await waitListed(nurse, [ROSTER[1].id, ROSTER[3].id], "search by kana (hiragana)");
    await search(nurse, "スズキ サブ");
    await waitListed(nurse, [ROSTER[3].id], "search by kana with a space");
    await search(nurse, "和田");
    await waitListed(nurse, [ROSTER[0].id], "search by name");
    await search(nurse, "777004");
    await waitListed(nurse, [ROSTER[2].id], "search by resident number");
    await search(nurse, "該当なし");
    await waitListed(nurse, [], "search matching no one");
    check(await nurse.isVisible("#due-empty"), "no 「該当する方はいません」 when nothing matches");
    await search(nurse, "");
    await waitListed(nurse, all, "clearing the search does not list everyone again");
    const rows = await nurse.$$eval("#due button.pick", (bs) => bs.map((b) => { const r = b.getBoundingClientRect(); return [r.width, r.height]; }));
    check(rows.length >= all.length && rows.every(([w, h]) => w >= 44 && h >= 44), "rows smaller than 44 px: " + JSON.stringify(rows));
    await axe(nurse, "station (ja)");
    await search(nurse, "わだ");
    await waitListed(nurse, [ROSTER[0].id], "search by kana before selecting");
    await nurse.click(`#due button.pick[data-session="${sids[ROSTER[0].id]}"]`);
    await nurse.waitForSelector("#entry:not([hidden])", { timeout: 5000 });
    check(((await nurse.textContent("#entry-title")) || "").includes(ROSTER[0].name), "a searched row does not select its resident");
    await axe(nurse, "station (ja, searched and selected)");

    // 3. English with ?lang=en (remembered), and through the header's language link.
    await nurse.goto(base + "/station/urine?lang=en");
    check((await nurse.getAttribute("html", "lang")) === "en", "station page with ?lang=en not lang=en");
    await waitListed(nurse, all, "due list in English not in arrival order");
    const statics = await nurse.$$eval("h1, h2:not(#entry-title), label[for=due-search], #save, #done, .done-row .hint", (es) => es.map((e) => e.textContent.trim()));
    check(statics.length >= 5, "English page lacks its headings: " + JSON.stringify(statics));
    check(statics.every((s) => s && !JAPANESE.test(s)), "Japanese in the English page's headings: " + JSON.stringify(statics));
    check(statics.some((s) => s.includes("Residents due here")), "no English 'Residents due here': " + JSON.stringify(statics));
    check(statics.some((s) => s.includes("Urine")), "no English station name: " + JSON.stringify(statics));
    check(((await nurse.textContent("#due-count")) || "").includes("resident"), "count not in English");
    check(((await nurse.textContent("#due button.pick")) || "").includes("Checked in"), "row not in English");
    await search(nurse, "すずき");
    await waitListed(nurse, [ROSTER[1].id, ROSTER[3].id], "search in English");
    await axe(nurse, "station (en, searched)");
    await search(nurse, "");
    await axe(nurse, "station (en)");
    // The language is remembered (cookie) and switched back by the header's link.
    await nurse.goto(base + "/station/urine");
    check((await nurse.getAttribute("html", "lang")) === "en", "English not remembered");
    const link = await nurse.$("header a.lang");
    check(link, "no language link in the station page's header");
    await Promise.all([nurse.waitForNavigation(), link.click()]);
    check((await nurse.getAttribute("html", "lang")) === "ja", "language link did not switch to Japanese");
    check(((await nurse.textContent("#due-section h2")) || "").includes("ここで受ける方"), "Japanese heading after switching back");
    await waitListed(nurse, all, "due list after switching back");
    check(!nurse.scriptError, "script error on the station page: " + nurse.scriptError);

    // 5. 採血時間 at the blood draw, then the doctor's findings.
    const sid = sids[ROSTER[1].id];
    const saved = (page) => page.waitForFunction(() => document.getElementById("entry-status").textContent.includes("保存しました"), null, { timeout: 10000 });
    const recordHas = (page, texts, what) => page.waitForFunction((texts) => {
      const r = (document.getElementById("record-fields") || {}).textContent || "";
      return texts.every((x) => r.includes(x));
    }, texts, { timeout: 10000 }).catch(async () => {
      throw new Error(what + ": " + texts.join(", ") + " not in " + await page.textContent("#record"));
    });
    const bigButtons = async (page, code, n) => {
      const ls = await page.$$eval(`#choices-${code} label.choice`, (ls) => ls.map((l) => {
        const r = l.getBoundingClientRect(); return [l.textContent, r.width, r.height];
      }));
      check(ls.length === n && ls.every(([, w, h]) => w >= 44 && h >= 44), code + ": answer buttons " + JSON.stringify(ls));
      return ls.map((l) => l[0]);
    };
    const MEAL = "9N141000000000011";
    await nurse.goto(base + "/station/blood_draw");
    await nurse.waitForSelector(`#due button.pick[data-session="${sid}"]`, { timeout: 10000 });
    await nurse.click(`#due button.pick[data-session="${sid}"]`);
    await nurse.waitForSelector(`#choices-${MEAL}`, { timeout: 5000 });
    const meal = await bigButtons(nurse, MEAL, 3);
    check(meal[0].includes("食後10時間以上") && meal[0].indexOf("食後") < meal[0].indexOf("after a meal"),
      "採血時間 in Japanese first: " + JSON.stringify(meal));
    check(((await nurse.textContent(`#field-${MEAL} legend`)) || "").includes("採血時間"), "採血時間 has no legend");
    await nurse.click(`label[for="item-${MEAL}-3"]`);
    await nurse.click("#save");
    await saved(nurse);
    await recordHas(nurse, ["採血時間", "食後3.5時間以上10時間未満"], "採血時間 not shown saved");
    await axe(nurse, "blood draw (ja, 採血時間 saved)");

    const HISTORY = "9N056000000000011", HISTORY_TEXT = "9N056160400000049";
    const SYMPTOMS = "9N061000000000011", SYMPTOMS_TEXT = "9N061160800000049";
    const SIGNS = "9N066000000000011", DIAGNOSIS = "9N511000000000049";
    const doctor = await signIn(browser, "D001", "4441");
    await doctor.goto(base + "/station/doctor");
    await doctor.waitForSelector(`#due button.pick[data-session="${sid}"]`, { timeout: 10000 });
    await doctor.click(`#due button.pick[data-session="${sid}"]`);
    await doctor.waitForSelector(`#choices-${HISTORY}`, { timeout: 5000 });
    for (const code of [HISTORY, SYMPTOMS, SIGNS]) {
      const b = await bigButtons(doctor, code, 2);
      check(b[0].includes("特記すべきことあり") && b[1].includes("特記すべきことなし"), code + ": " + JSON.stringify(b));
    }
    for (const code of [HISTORY_TEXT, SYMPTOMS_TEXT, DIAGNOSIS]) {
      const label = await doctor.$eval(`#item-${code}`, (e) => e.tagName + ":" + (e.labels && e.labels.length ? e.labels[0].textContent : ""));
      check(label.startsWith("TEXTAREA:") && JAPANESE.test(label), code + ": not a labelled text area: " + label);
    }
    await axe(doctor, "doctor (ja)");
    // Completing with nothing recorded: refused, naming the required items.
    await doctor.click("#done");
    await doctor.waitForFunction(() => document.getElementById("entry-message").textContent.includes("既往歴"), null, { timeout: 10000 });
    check(!(await doctor.isHidden("#entry")), "the doctor left the resident with findings missing");
    await doctor.click(`label[for="item-${HISTORY}-2"]`);
    await doctor.click(`label[for="item-${SYMPTOMS}-1"]`);
    await doctor.click(`label[for="item-${SIGNS}-2"]`);
    await doctor.fill(`#item-${SYMPTOMS_TEXT}`, "  時々頭痛がある ");
    await doctor.fill(`#item-${DIAGNOSIS}`, "異常なし\n1年後に再受診");
    await doctor.click("#save");
    await saved(doctor);
    await recordHas(doctor, ["特記すべきことなし", "特記すべきことあり", "時々頭痛がある", "1年後に再受診", "食後3.5時間以上10時間未満"],
      "the doctor's findings not shown saved");
    const stored = (await api(doctor, "GET", "/api/sessions/" + sid)).body;
    const cur = (c) => stored.current && stored.current[c] && stored.current[c].value;
    check(cur(HISTORY) === "2" && cur(SYMPTOMS) === "1" && cur(SIGNS) === "2" && cur(SYMPTOMS_TEXT) === "時々頭痛がある" &&
      cur(DIAGNOSIS) === "異常なし\n1年後に再受診" && cur(MEAL) === "3", "stored: " + JSON.stringify(stored.current));
    await axe(doctor, "doctor (ja, findings saved)");
    // The other stations are not done: the page names them; the doctor confirms.
    await doctor.click("#done");
    await doctor.waitForSelector("dialog#ce-dialog[open]", { timeout: 10000 });
    await doctor.click("dialog#ce-dialog .ce-ok");
    await doctor.waitForSelector("#entry", { state: "hidden", timeout: 10000 });
    check(!doctor.scriptError, "script error on the doctor's page: " + doctor.scriptError);
    check(lib.axe.runs === 7, "axe ran " + lib.axe.runs + " times");
    console.log("station due list complete (" + lib.axe.runs + " axe runs)");
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e && e.stack || e); process.exit(1); });
