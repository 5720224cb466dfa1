// Resident mode in real headless Chromium against a demo box: staff hand their tablet to the
// resident at hand, the resident answers the questionnaire themselves in their language, and
// a staff PIN takes the tablet back.
//
// - Reception checks a resident in and hands the tablet over (「タブレットで回答（本人）」 after
//   受付しました); a nurse hands hers over from the 問診 station for the resident picked there.
// - Three residents answer, one each in Tiếng Việt, Português (Brasil) and やさしい日本語: the
//   language chooser names each language in itself, the page's `lang` follows the choice, an
//   answer the session already held (handed on from paper) is shown chosen and changed, the
//   review names unanswered questions, submit thanks them and asks for the tablet back.
// - The handed-over tablet reaches no staff page by URL (sent back to /resident) and no staff
//   API (403 `resident_mode`).
// - A wrong PIN is refused on the pad, the right one brings the staff member's page back.
// - The box holds every answer with `answered.via == "tablet"` and the language chosen.
// - Touch targets ≥ 56 px; axe-core finds no violation on the resident page in every one of
//   the eight languages, on the chooser, the review and the thanks.
//
// Screenshots go to SCREENSHOT_DIR. Usage: node resident-mode.js BASE_URL SCREENSHOT_DIR [SPKI]
"use strict";
const lib = require("./lib");
const path = require("path");

const [base, shots, spki] = process.argv.slice(2);
const TABLET = { width: 1024, height: 768 };
const LANGS = ["ja", "ja-easy", "en", "zh-Hans", "ko", "vi", "pt-BR", "tl"];
const ROSTER = [
  { id: "0000888001", name: "阮　文安", kana: "グエン　ヴァンアン", lang: "vi", by: "reception" },
  { id: "0000888002", name: "佐野　マリア", kana: "サノ　マリア", lang: "pt-BR", by: "station" },
  { id: "0000888003", name: "森　太郎", kana: "モリ　タロウ", lang: "ja-easy", by: "reception" },
];
const CSV = "resident_id,name,name_kana,birth_date,sex,address,course,booked_at\n" +
  ROSTER.map((r, i) => `${r.id},${r.name},${r.kana},1970-03-0${i + 1},female,みどり市南町${i + 1}番,特定健診,10:00`).join("\n") + "\n";
const Q1 = "9N701000000000011";

function check(cond, what) { if (!cond) throw new Error(what); }
const api = lib.api;

async function shot(page, name) {
  await page.screenshot({ path: path.join(shots, name + ".png") });
}

async function axe(page, state) {
  const v = await lib.axe(page);
  check(v.length === 0, `axe on ${state} (${page.url()}): ${JSON.stringify(v)}`);
}

async function signIn(browser, id, pin) {
  const page = await lib.signIn(browser, base, id, pin, TABLET);
  return page;
}

// Every visible button, link and answer of the page is at least 56 px high.
async function bigTargets(page, state) {
  const small = await page.evaluate(() => Array.from(document.querySelectorAll("main button, main a, label.choice, #staff-exit, header a"))
    .filter((e) => e.offsetParent !== null)
    .map((e) => [e.id || e.className || e.tagName, Math.round(e.getBoundingClientRect().height)])
    .filter((x) => x[1] < 56));
  check(small.length === 0, `touch targets under 56 px on ${state}: ${JSON.stringify(small)}`);
}

// The session of a resident, from the 問診 station's list (as the nurse sees it).
async function sessionOf(nurse, resident) {
  const due = await api(nurse, "GET", "/api/station/questionnaire/due");
  const r = (due.body.residents || []).find((x) => x.resident_id === resident);
  check(r, "not due at 問診: " + resident + " " + JSON.stringify(due));
  return r.session_id;
}

async function waitVisible(page, selector) {
  await page.waitForSelector(selector, { state: "visible", timeout: 10000 });
}

// Answer every question on the screen-per-question page: the code `pick(k, codes)` returns
// for screen k (null: leave it unanswered).
async function answerAll(page, pick) {
  const n = await page.$$eval("section.q", (s) => s.length);
  check(n === 22, "22 questions, got " + n);
  for (let k = 0; k < n; k++) {
    const sel = `section.q[data-index="${k}"]`;
    await waitVisible(page, sel);
    const codes = await page.$$eval(`${sel} input[type=radio]`, (rs) => rs.map((r) => r.value));
    const want = pick(k, codes);
    const checked = await page.$eval(sel, (s) => { const c = s.querySelector("input:checked"); return c ? c.value : null; });
    if (want === null || want === checked) {
      await page.click(`${sel} button.next`);
    } else {
      await page.click(`${sel} label.choice:has(input[value="${want}"])`);
    }
    const next = k + 1 < n ? `section.q[data-index="${k + 1}"]` : "#review";
    await waitVisible(page, next);
  }
}

(async () => {
  const browser = await lib.launch(spki);
  try {
    const admin = await signIn(browser, "A001", "9991");
    const imported = await admin.evaluate(async (csv) => (await fetch("/api/roster/import", { method: "POST", body: csv })).json(), CSV);
    check(imported.added + imported.unchanged + imported.updated === ROSTER.length, "roster import: " + JSON.stringify(imported));
    const nurse = await signIn(browser, "N001", "3331");
    const given = {};

    for (const [i, r] of ROSTER.entries()) {
      // Staff check the resident in and hand the tablet over.
      let tablet, home;
      if (r.by === "reception") {
        tablet = await signIn(browser, "R001", "1111");
        home = "/reception";
        await tablet.goto(base + "/reception");
        await tablet.fill("#search-q", r.name.replace(/[\s　]/g, "").slice(0, 2));
        await tablet.click('#search-form button[type="submit"]');
        const btn = `#candidate-list button.check-in[data-resident="${r.id}"]`;
        await tablet.waitForSelector(btn, { timeout: 10000 });
        await tablet.click(btn);
        await waitVisible(tablet, "#hand-over-button");
        if (i === 0) { await shot(tablet, "resident-hand-over-reception-1024x768"); await axe(tablet, "reception with the hand-over button"); }
      } else {
        const reception = await signIn(browser, "R002", "1112");
        const a = await api(reception, "POST", "/api/reception/check-in", { id: await reception.evaluate(() => window.ceUuid7()), resident_id: r.id });
        check(a.status === 201, "check-in: " + JSON.stringify(a));
        await reception.context().close();
        tablet = await signIn(browser, "N001", "3331");
        home = "/";
        await tablet.goto(base + "/station/questionnaire");
        const row = `#due [data-resident="${r.id}"]`;
        await tablet.waitForSelector(row, { timeout: 10000 });
        await tablet.click(row);
        await waitVisible(tablet, "#hand-over-button");
      }
      const sid = await sessionOf(nurse, r.id);
      if (i === 1) {
        // An answer the session holds already (handed on from paper): shown chosen.
        const a = await api(nurse, "POST", `/api/questionnaire/sessions/${sid}/answers`, { via: "paper", lang: "ja", answers: [{ item_code: Q1, code: "2" }] });
        check(a.status === 200 && a.body.recorded === 1, "paper answer: " + JSON.stringify(a));
      }
      await Promise.all([tablet.waitForURL(base + "/resident", { timeout: 10000 }), tablet.click("#hand-over-button")]);

      // The language chooser: every language named in itself, nothing personal.
      const langs = await tablet.$$eval("ul.langs a", (as) => as.map((a) => [a.dataset.lang, a.getAttribute("lang"), a.querySelector(".name").textContent]));
      check(JSON.stringify(langs.map((l) => l[0])) === JSON.stringify(LANGS), "languages offered: " + JSON.stringify(langs));
      check(langs.find((l) => l[0] === "vi")[2] === "Tiếng Việt" && langs.find((l) => l[0] === "ko")[2] === "한국어", "names in themselves: " + JSON.stringify(langs));
      const text = await tablet.textContent("body");
      check(!text.includes(r.name) && !text.includes(r.id) && !text.includes(r.kana), "the resident page shows personal data");
      check(await tablet.$("nav.pages") === null && await tablet.$("form.logout") === null, "staff navigation on the resident page");
      if (i === 0) {
        await axe(tablet, "language chooser");
        await bigTargets(tablet, "language chooser");
        await shot(tablet, "resident-language-1024x768");
      }
      await Promise.all([tablet.waitForNavigation(), tablet.click(`ul.langs a[data-lang="${r.lang}"]`)]);
      const htmlLang = await tablet.getAttribute("html", "lang");
      check(htmlLang === (r.lang === "ja-easy" ? "ja" : r.lang), `html lang for ${r.lang}: ${htmlLang}`);
      check(await tablet.getAttribute("html", "dir") === "ltr", "dir");
      await bigTargets(tablet, "question 1 in " + r.lang);
      if (i === 1) {
        check(await tablet.$eval(`input[name="${Q1}"][value="2"]`, (e) => e.checked), "the held answer is not shown chosen");
      }
      if (i === 0) { await shot(tablet, "resident-question-vi-1024x768"); }

      // Answers: the last answer of each question for the first resident, the first for
      // the others; the third leaves question 1 for the review to name.
      const pick = (k, codes) => (i === 2 && k === 0 ? null : i === 0 ? codes[codes.length - 1] : codes[0]);
      await answerAll(tablet, pick);
      const expect = {};
      const all = await tablet.$$eval("section.q", (ss) => ss.map((s) => [s.dataset.code, Array.from(s.querySelectorAll("input")).map((x) => x.value)]));
      all.forEach(([code, codes], k) => { const c = pick(k, codes); if (c !== null) { expect[code] = c; } });
      if (i === 2) {
        await waitVisible(tablet, "#unanswered");
        await axe(tablet, "review with a question unanswered (" + r.lang + ")");
        await tablet.click(`#review-list button[data-code="${Q1}"]`);
        await waitVisible(tablet, 'section.q[data-index="0"]');
        await tablet.click('section.q[data-index="0"] label.choice:has(input[value="1"])');
        expect[Q1] = "1";
        await waitVisible(tablet, 'section.q[data-index="1"]');
        for (let k = 1; k < 22; k++) {
          await tablet.click(`section.q[data-index="${k}"] button.next`);
          await waitVisible(tablet, k + 1 < 22 ? `section.q[data-index="${k + 1}"]` : "#review");
        }
        check(await tablet.$eval("#unanswered", (e) => e.hidden), "still unanswered after answering");
      }
      await waitVisible(tablet, "#review");
      const reviewed = await tablet.$$eval("#review-list button", (bs) => bs.length);
      check(reviewed === 22, "review lists " + reviewed);
      await axe(tablet, "review in " + r.lang);
      await bigTargets(tablet, "review in " + r.lang);
      if (i === 1) { await shot(tablet, "resident-review-pt-BR-1024x768"); }
      await tablet.click("#submit");
      await waitVisible(tablet, "#thanks");
      const thanks = await tablet.textContent("#thanks h2");
      const want = (await api(tablet, "GET", "/api/questionnaire?lang=" + r.lang)).body.ui.thanks_tablet;
      check(thanks.trim() === want, `thanks in ${r.lang}: ${thanks}`);
      await axe(tablet, "thanks in " + r.lang);

      // Staff pages by URL: sent back to the resident's page; staff APIs refused.
      for (const p of ["/reception", "/station/questionnaire", "/", "/intake", "/login"]) {
        await tablet.goto(base + p);
        check(new URL(tablet.url()).pathname === "/resident", `${p} reached from the handed-over tablet: ${tablet.url()}`);
      }
      for (const p of ["/api/board", "/api/events", `/api/sessions/${sid}`, "/api/station/questionnaire/due"]) {
        const a = await api(tablet, "GET", p);
        check(a.status === 403 && a.body && a.body.error === "resident_mode", `${p} from the handed-over tablet: ${JSON.stringify(a)}`);
      }
      const smuggled = await api(tablet, "POST", `/api/questionnaire/sessions/${sid}/answers`, { via: "tablet", lang: "en", answers: [{ item_code: Q1, code: "1" }] });
      check(smuggled.status === 403, "the staff answers route from the tablet: " + JSON.stringify(smuggled));

      // Back to staff: a wrong PIN is refused on the pad, the right one brings their page.
      const staffId = r.by === "reception" ? "R001" : "N001";
      const pin = r.by === "reception" ? "1111" : "3331";
      await tablet.click("#staff-exit");
      await waitVisible(tablet, "#exit-dialog");
      await tablet.fill("#exit-staff", staffId);
      for (const d of "0000") { await tablet.click(`#exit-dialog .key[data-key="${d}"]`); }
      await tablet.click("#exit-ok");
      await waitVisible(tablet, "#exit-message");
      check((await tablet.textContent("#exit-message")).includes("違います"), "wrong PIN message: " + await tablet.textContent("#exit-message"));
      if (i === 0) {
        await axe(tablet, "staff PIN pad");
        await shot(tablet, "resident-staff-pin-1024x768");
        const inView = await tablet.$eval("#exit-ok", (e) => { const r = e.getBoundingClientRect(); return r.bottom <= innerHeight && r.top >= 0; });
        check(inView, "the PIN pad's button is out of view at 1024×768");
      }
      check(new URL(tablet.url()).pathname === "/resident", "a wrong PIN let the tablet go");
      for (const d of pin) { await tablet.click(`#exit-dialog .key[data-key="${d}"]`); }
      await Promise.all([tablet.waitForURL(base + home, { timeout: 10000 }), tablet.click("#exit-ok")]);
      const who = await tablet.textContent('[data-testid="who"]');
      check(who && who.length > 0, "signed in again as staff");
      const board = await api(tablet, "GET", "/api/board");
      check(board.status === 200, "staff API after the exit: " + board.status);
      check(!tablet.scriptError, "script error: " + tablet.scriptError);
      await tablet.context().close();
      given[sid] = { lang: r.lang, expect };
    }

    // The box holds every answer as given on the tablet, in the language chosen.
    for (const [sid, g] of Object.entries(given)) {
      const rec = await api(nurse, "GET", `/api/sessions/${sid}`);
      check(rec.status === 200, "record " + sid);
      check(Object.keys(g.expect).length === 22, `${g.lang}: ${Object.keys(g.expect).length} answers expected`);
      for (const [code, value] of Object.entries(g.expect)) {
        const entries = rec.body.session.results[code] || [];
        const last = entries[entries.length - 1];
        check(last && last.value === value, `${g.lang} ${code}: ${JSON.stringify(last)} want ${value}`);
        check(last.answered && last.answered.via === "tablet" && last.answered.lang === g.lang, `${g.lang} ${code} answered: ${JSON.stringify(last.answered)}`);
      }
    }
    const paper = (await api(nurse, "GET", `/api/sessions/${Object.keys(given)[1]}`)).body.session.results[Q1];
    check(paper.length === 2 && paper[0].answered.via === "paper" && paper[1].corrects === paper[0].event_id, "the paper answer was corrected by the resident: " + JSON.stringify(paper));

    // axe in every language, on a tablet handed over once more.
    const reception = await signIn(browser, "R001", "1111");
    const extra = await api(reception, "POST", "/api/reception/check-in", { id: await reception.evaluate(() => window.ceUuid7()), resident_id: "0000888001" });
    check(extra.status === 409, "checked in twice? " + JSON.stringify(extra));
    const sid = Object.keys(given)[0];
    const handed = await api(reception, "POST", "/api/resident-mode", { session_id: sid });
    check(handed.status === 200, "hand over: " + JSON.stringify(handed));
    for (const l of LANGS) {
      await reception.goto(base + "/resident?lang=" + encodeURIComponent(l));
      check(await reception.getAttribute("html", "lang") === (l === "ja-easy" ? "ja" : l), "lang of " + l);
      await axe(reception, "resident page in " + l);
      await bigTargets(reception, "resident page in " + l);
    }
    check(lib.axe.runs >= 8 + 1 + 1 + 3 * 2 + 1 + 1, "axe ran " + lib.axe.runs + " times");
    console.log("resident mode complete (" + lib.axe.runs + " axe runs)");
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e && e.stack || e); process.exit(1); });
