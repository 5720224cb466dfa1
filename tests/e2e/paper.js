// The paper questionnaire walked by the nurse at 問診, in real headless Chromium against a
// demo box, for three residents (English, Korean, Tagalog):
// 1. the nurse picks the resident, chooses the form's language in 「紙の質問票」 and opens
//    the print page; Chromium prints it to A4 PDF and pdftoppm renders it at 200 dpi;
// 2. `paper-mark` fills every item in image space (light, heavy and crossed ticks, a box
//    filled in to cancel it with another ticked, one item ticked twice, one faint tick) and
//    scans the pages (skew, shift, blur, noise);
// 3. (a picture that is not the form is refused with the reason, nothing taken;) the
//    pages are given to the page's file input: the summary counts the answers taken,
//    the review list holds exactly the double-ticked and the faint item with their reasons
//    in Japanese (English with ?lang=en for the Korean resident), axe-core finds nothing;
//    the station page reloaded (as another tablet would open it): the same two items are
//    listed from the session on the box, without the upload's summary;
// 4. the nurse resolves both with the large answer buttons and signs off; the session holds
//    every answer with the planned code: via paper in the form's language for the clear
//    ones, via interview (the nurse's decision) for the two resolved.
// Before that, the printable form of a session in each of the 8 languages: axe-core finds
// nothing.
// Usage: node paper.js BASE_URL SCREENSHOT_DIR PAPER_MARK_BIN [SPKI_SHA256]
"use strict";
const lib = require("./lib");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { execFileSync } = require("child_process");

const [base, shots, markBin, spki] = process.argv.slice(2);
const LANGS = ["ja", "ja-easy", "en", "zh-Hans", "ko", "vi", "pt-BR", "tl"];
const RESIDENTS = [
  { lang: "en", id: "0000777001", name: "スミス　ジョン", page: "?lang=ja" },
  { lang: "ko", id: "0000777002", name: "キム　ミンジュン", page: "?lang=en" },
  { lang: "tl", id: "0000777003", name: "サントス　マリア", page: "?lang=ja" },
];
const CSV = "resident_id,name,name_kana,birth_date,sex,address,course,booked_at\n" +
  RESIDENTS.map((r, i) => `${r.id},${r.name},${r.name},1975-0${i + 1}-15,${i % 2 ? "male" : "female"},みどり市北町${i + 1}番,特定健診,10:0${i}\n`).join("");

const signIn = (browser, id, pin) => lib.signIn(browser, base, id, pin, { width: 1280, height: 900 });
const api = lib.api;
function check(cond, what) { if (!cond) throw new Error(what); }
async function axe(page, state) {
  const v = await lib.axe(page);
  check(v.length === 0, `axe on ${state} (${page.url()}): ${JSON.stringify(v)}`);
}
async function text(page, sel) { return (await page.textContent(sel)) || ""; }
async function waitText(page, sel, want, what, timeout) {
  try {
    await page.waitForFunction(([sel, want]) => {
      const e = document.querySelector(sel);
      return e && !e.hidden && e.textContent.includes(want);
    }, [sel, want], { timeout: timeout || 10000 });
  } catch (e) {
    const errors = await page.textContent("#paper-errors").catch(() => null);
    throw new Error(`${what}: ${sel} says ${JSON.stringify(await page.textContent(sel).catch(() => null))}, want ${want}` +
      (errors ? ` (paper errors: ${errors})` : ""));
  }
}
async function size(page, sel) {
  return page.$eval(sel, (e) => { const r = e.getBoundingClientRect(); return [r.width, r.height]; });
}

// Every item marked: answer `want`, with the kinds of marks spread over the items; the
// resident's index moves the double-ticked, faint and cancelled items.
function plan(questions, i) {
  const marks = {}, want = {}, review = {};
  const double = (2 + 5 * i) % 22, faint = (9 + 5 * i) % 22, cancelled = (15 + 5 * i) % 22;
  questions.forEach((q, n) => {
    const codes = q.answers.map((a) => a.code);
    const a = codes[(n + i) % codes.length], other = codes[(n + i + 1) % codes.length];
    want[q.code] = a;
    if (n === double) { marks[q.code] = [[a, "tick"], [other, "heavy"]]; review[q.code] = "several_ticked"; }
    else if (n === faint) { marks[q.code] = [[a, "faint"]]; review[q.code] = "faint"; }
    else if (n === cancelled) { marks[q.code] = [[other, "fill"], [a, "heavy"]]; }
    else { marks[q.code] = [[a, ["tick", "heavy", "cross"][n % 3]]]; }
  });
  return { marks, want, review };
}

(async () => {
  const browser = await lib.launch(spki);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "paper-e2e-"));
  try {
    const admin = await signIn(browser, "A001", "9991");
    const imported = await admin.evaluate(async (csv) => (await fetch("/api/roster/import", { method: "POST", body: csv })).json(), CSV);
    check(imported.added + imported.unchanged + imported.updated === RESIDENTS.length, "roster import: " + JSON.stringify(imported));
    const reception = await signIn(browser, "R001", "1111");
    await reception.goto(base + "/reception");
    for (const r of RESIDENTS) {
      const opened = await api(reception, "POST", "/api/reception/check-in", { id: await reception.evaluate(() => window.ceUuid7()), resident_id: r.id });
      check(opened.status === 201, "check-in " + r.id + ": " + JSON.stringify(opened));
      r.sid = opened.body.session_id;
    }
    const nurse = await signIn(browser, "N001", "3331");
    await nurse.goto(base + "/");
    const questions = (await api(nurse, "GET", "/api/questionnaire")).body.items;
    check(questions.length === 22, "22 questions: " + questions.length);
    const numberOf = {};
    questions.forEach((q, n) => { numberOf[q.code] = q.number || n + 1; });

    // The printable form in every language: axe-core finds nothing.
    const printTab = await nurse.context().newPage();
    for (const lang of LANGS) {
      const res = await printTab.goto(`${base}/questionnaire/paper/${RESIDENTS[0].sid}?lang=${encodeURIComponent(lang)}`);
      check(res.status() === 200, `the printable form in ${lang}: ${res.status()}`);
      check(await printTab.$eval("html", (e) => e.lang) !== "", `the printable form in ${lang} names no language`);
      await axe(printTab, `the printable form (${lang})`);
    }
    await printTab.close();

    for (const [i, r] of RESIDENTS.entries()) {
      const en = r.page === "?lang=en";
      // 1. The resident at hand; the form printed in their language.
      await nurse.goto(base + "/station/questionnaire" + r.page);
      await nurse.waitForSelector(`#due button.pick[data-session="${r.sid}"]`, { timeout: 10000 });
      await nurse.click(`#due button.pick[data-session="${r.sid}"]`);
      await nurse.waitForSelector("#q-list li.q b", { timeout: 10000 });
      await waitText(nurse, "#paper-title", en ? "Paper questionnaire" : "紙の質問票", "the paper block");
      check(await nurse.$eval("#paper-file", (e) => e.accept) === "image/*,application/pdf", "the file input's accept");
      await nurse.selectOption("#paper-lang", r.lang);
      const href = await nurse.$eval("#paper-print", (e) => e.getAttribute("href"));
      check(href === `/questionnaire/paper/${r.sid}?lang=${r.lang}`, "the print link: " + href);
      for (const sel of ["#paper-print", "#paper-lang", "#paper-file"]) {
        const b = await size(nurse, sel);
        check(b[1] >= 44, `${sel} is ${b} px`);
      }
      const [print] = await Promise.all([nurse.context().waitForEvent("page"), nurse.click("#paper-print")]);
      await print.waitForLoadState("load");
      check(print.url().endsWith(href), "the print page: " + print.url());
      const pdf = path.join(work, `${r.lang}.pdf`);
      await print.pdf({ path: pdf, format: "A4", printBackground: true });
      await print.close();
      execFileSync("pdftoppm", ["-r", "200", "-gray", "-png", pdf, path.join(work, `${r.lang}-print`)]);
      const rendered = fs.readdirSync(work).filter((f) => f.startsWith(`${r.lang}-print-`) && f.endsWith(".png"))
        .sort((a, b) => parseInt(a.split("-").pop(), 10) - parseInt(b.split("-").pop(), 10)).map((f) => path.join(work, f));
      check(rendered.length >= 1, "pages rendered: " + rendered.length);

      // 2. Filled in and scanned.
      const p = plan(questions, i);
      const planFile = path.join(work, `${r.lang}-plan.json`);
      fs.writeFileSync(planFile, JSON.stringify(p.marks));
      const outDir = path.join(work, `${r.lang}-scan`);
      fs.mkdirSync(outDir);
      const scans = execFileSync(markBin, [planFile, r.lang, String(41 + i), outDir].concat(rendered)).toString().trim().split("\n");
      check(scans.length === rendered.length, "scans: " + scans.length);

      // A picture that is not the form: the page names the reason, nothing is recorded.
      if (i === 0) {
        const wrong = path.join(work, "not-a-form.png");
        await nurse.screenshot({ path: wrong });
        await nurse.setInputFiles("#paper-file", [wrong]);
        await waitText(nurse, "#paper-errors", "質問票として読めませんでした", "an unreadable picture", 60000);
        check((await text(nurse, "#paper-summary")).includes("紙から 0問"), "answers from an unreadable picture");
        check(!(await nurse.$("#paper-review")), "a review list from an unreadable picture");
      }

      // 3. The pages given to the page; the answers taken and the review list.
      await nurse.setInputFiles("#paper-file", scans);
      await waitText(nurse, "#paper-summary", en ? "Answers taken from paper: 20" : "紙から 20問の回答を記録しました", "the summary", 120000);
      check(!(await nurse.$("#paper-errors")), "page errors: " + await text(nurse, "#paper-result"));
      const listed = await nurse.$$eval("#paper-review li.paper-item", (l) => l.map((e) => e.dataset.code));
      check(JSON.stringify(listed.slice().sort()) === JSON.stringify(Object.keys(p.review).sort()),
        `review list ${listed} (want ${Object.keys(p.review)})`);
      for (const [code, reason] of Object.entries(p.review)) {
        const item = await text(nurse, `#pr-${code}`);
        const q = questions.find((x) => x.code === code);
        const wantReason = { several_ticked: en ? "More than one box is ticked" : "複数の□に✓があります", faint: en ? "A faint mark" : "薄い記入があります" }[reason];
        for (const want of [en ? "Q" + numberOf[code] : "問" + numberOf[code], wantReason]) {
          check(item.includes(want), `review item ${code} does not show ${want}: ${item}`);
        }
        check(q.answers.length === await nurse.$$eval(`#pr-${code} button.paper-choice`, (l) => l.length), "one button per answer");
        const b = await size(nurse, `#pr-${code} button.paper-choice`);
        check(b[0] >= 44 && b[1] >= 44, `the answer button is ${b} px`);
      }
      await waitText(nurse, "#paper-review-title", en ? "(2 left)" : "残り 2問", "two to check");
      if (i === 0) {
        await nurse.$eval("#paper", (e) => e.scrollIntoView({ block: "start" }));
        await nurse.locator("#paper").screenshot({ path: path.join(shots, "paper-review.png") });
      }
      await axe(nurse, `the review list (${r.lang})`);
      // The 問診 list shows the paper answers with their channel and language.
      const taken = Object.keys(p.want).find((c) => !p.review[c]);
      const row = await text(nurse, `#ans-${taken}`);
      check(row.includes(en ? "paper" : "紙"), `the answer of ${taken} is not shown as from paper: ${row}`);

      // The items to check are the session's: the page reloaded lists them again, with no
      // upload in its memory.
      await nurse.reload();
      await nurse.waitForSelector(`#due button.pick[data-session="${r.sid}"]`, { timeout: 10000 });
      await nurse.click(`#due button.pick[data-session="${r.sid}"]`);
      await nurse.waitForSelector("#paper-review li.paper-item", { timeout: 10000 });
      const again = await nurse.$$eval("#paper-review li.paper-item", (l) => l.map((e) => e.dataset.code));
      check(JSON.stringify(again.slice().sort()) === JSON.stringify(Object.keys(p.review).sort()),
        `after a reload the review list is ${again} (want ${Object.keys(p.review)})`);
      check(!(await nurse.$("#paper-summary")), "the upload's summary outlived the page");
      await waitText(nurse, "#paper-review-title", en ? "(2 left)" : "残り 2問", "two to check after a reload");
      for (const [code, reason] of Object.entries(p.review)) {
        const wantReason = { several_ticked: en ? "More than one box is ticked" : "複数の□に✓があります", faint: en ? "A faint mark" : "薄い記入があります" }[reason];
        check((await text(nurse, `#pr-${code}`)).includes(wantReason), `after a reload ${code} does not say ${wantReason}`);
      }
      check(await nurse.$eval("#q-lang", (e) => e.value) === r.lang, "the language asked in is not the form's after a reload");

      // 4. The nurse resolves both and signs off.
      for (const code of Object.keys(p.review)) {
        await nurse.click(`#pr-${code} button.paper-choice[data-answer="${p.want[code]}"]`);
        await nurse.waitForSelector(`#pr-${code}.resolved`, { timeout: 20000 });
      }
      await waitText(nurse, "#paper-review-title", en ? "(0 left)" : "残り 0問", "none left");
      await waitText(nurse, "#q-summary", en ? "22 of 22" : "22 / 22", "all answered");
      await nurse.click("#done");
      await waitText(nurse, "#done-status", en ? "Completed" : "完了しました", "signed off", 20000);
      const s = (await api(nurse, "GET", "/api/sessions/" + r.sid)).body;
      check(s.session.visited.questionnaire, "not signed off: " + JSON.stringify(s.session.visited));
      for (const q of questions) {
        const entries = s.session.results[q.code] || [];
        check(entries.length === 1, `${q.code}: ${JSON.stringify(entries)}`);
        const e = entries[0];
        const via = p.review[q.code] ? "interview" : "paper";
        check(String(e.value) === p.want[q.code] && e.answered && e.answered.via === via && e.answered.lang === r.lang,
          `${r.lang} ${q.code}: ${JSON.stringify(e)}, want ${p.want[q.code]} via ${via}`);
      }
      console.log(`${r.lang}: ${rendered.length} pages, 20 from paper, 2 resolved`);
    }
    check(!nurse.nativeDialog, "a native dialog was used: " + nurse.nativeDialog);
    check(!nurse.scriptError, "script error: " + nurse.scriptError);
    console.log("paper complete (" + lib.axe.runs + " axe runs)");
  } finally {
    await browser.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
})().catch((e) => { console.error(e); process.exit(1); });
