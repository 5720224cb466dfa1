// Pre-answers on the resident's phone, end to end in headless Chromium: central's admin
// issues one-time links; three residents answer on central's /q/ page at a phone viewport,
// in English, Simplified Chinese and Korean (the Chinese one loses the connection mid-send,
// then the response to a send that did arrive); the venue box fetches the answers; reception
// sees 事前回答あり and checks each in; the session holds the answers via phone in the
// resident's language. At the 問診 station the nurse picks each resident: every one of the
// 22 answers is shown in Japanese with 「スマートフォン（事前回答）」 and the resident's
// language, nothing is left to ask, and the nurse confirms and completes the station.
// axe-core on the /q/ page in all eight languages, on the link_used and link_invalid pages
// and on the station page with phone answers.
// Usage: node pre-answers.js CENTRAL_URL BOX_URL SCREENSHOT_DIR CHECKUP ID=BIRTH ID=BIRTH ID=BIRTH
"use strict";
const path = require("path");
const { launch, axe, signIn, api } = require("./lib");

const [central, box, shots, checkup, ...people] = process.argv.slice(2);
const ids = people.map((p) => p.split("=")[0]);
const births = people.map((p) => p.split("=")[1]);
const LANGS = ["ja", "ja-easy", "en", "zh-Hans", "ko", "vi", "pt-BR", "tl"];
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const RESIDENTS = [
  { id: ids[0], birth: births[0], lang: "en", html: "en" },
  { id: ids[1], birth: births[1], lang: "zh-Hans", html: "zh-Hans" },
  { id: ids[2], birth: births[2], lang: "ko", html: "ko" },
];

function clean(where, v) {
  if (v.length) { throw new Error("axe on " + where + ": " + JSON.stringify(v, null, 1)); }
}

(async () => {
  const browser = await launch();
  // Central's admin issues the links.
  const adminCtx = await browser.newContext({ locale: "ja-JP" });
  const admin = await adminCtx.newPage();
  await admin.goto(central + "/");
  const login = await api(admin, "POST", "/v1/login", { staff_id: "C001", pin: "1234" });
  if (login.status !== 200) throw new Error("central login: " + JSON.stringify(login));
  const issued = await api(admin, "POST", "/v1/questionnaire/invitations", RESIDENTS.map((r) => ({ resident_id: r.id, checkup })));
  if (issued.status !== 200) throw new Error("invitations: " + JSON.stringify(issued));
  RESIDENTS.forEach((r, i) => { r.path = issued.body.invitations[i].path; });
  if (!issued.body.invitations[0].qr_svg.includes("<svg")) throw new Error("no QR code");

  // Each resident on their own phone (a fresh context: no staff cookie).
  for (const r of RESIDENTS) {
    const ctx = await browser.newContext(Object.assign({ locale: "ja-JP" }, PHONE));
    const page = await ctx.newPage();
    page.on("pageerror", (e) => { throw e; });
    await page.goto(central + r.path);
    // Japanese first, the chooser in every language's own name.
    if ((await page.getAttribute("html", "lang")) !== "ja") throw new Error("not Japanese first");
    if (r === RESIDENTS[0]) {
      for (const tag of LANGS) {
        await page.goto(central + r.path + "?lang=" + encodeURIComponent(tag));
        clean("/q/ " + tag, await axe(page));
      }
      await page.goto(central + r.path);
    }
    await page.click('.langs a[href="?lang=' + r.lang + '"]');
    await page.waitForFunction((l) => document.documentElement.lang === l, r.html);
    // Large touch targets.
    const small = await page.evaluate(() => Array.from(document.querySelectorAll(".ans, .langs a, button"))
      .filter((e) => e.offsetParent !== null && (e.getBoundingClientRect().height < 44 || e.getBoundingClientRect().width < 44)).length);
    if (small) throw new Error(small + " touch targets under 44 px");
    // Answer every question: the second answer where there is one.
    const n = await page.$$eval("fieldset.q", (sets) => sets.length);
    if (n !== 22) throw new Error(n + " questions");
    for (let i = 1; i <= 22; i++) {
      const answers = await page.$$("#q" + i + " .ans");
      await answers[Math.min(1, answers.length - 1)].tap();
    }
    await page.click("#review-btn");
    await page.waitForSelector("#review:not([hidden])");
    if (r === RESIDENTS[0]) await page.screenshot({ path: path.join(shots, "16-pre-answers-review.png") });
    if (r === RESIDENTS[1]) {
      // The phone loses its connection as the resident sends: the page says so and keeps
      // every answer; back online, a second press sends them.
      await ctx.setOffline(true);
      await page.click("#send-btn");
      await page.waitForSelector('#result[data-state="failed"]', { timeout: 10000 });
      if (await page.isHidden("#qform")) throw new Error("the form went away with the failed send");
      const kept = await page.$$eval("fieldset.q input:checked", (l) => l.length);
      if (kept !== 22) throw new Error("answers kept after the failed send: " + kept);
      await ctx.setOffline(false);
      // Then the answer reaches central but its response is lost on the way back: pressed
      // again, the same answers are taken as already stored, not refused as a used link.
      let arrived;
      const lost = new Promise((res) => { arrived = res; });
      await page.route("**/api/q/*/answers", async (route) => {
        const resp = await route.fetch();
        await route.abort("connectionreset");
        arrived(resp.status());
      }, { times: 1 });
      await page.click("#send-btn");
      const status = await lost;
      if (status !== 200) throw new Error("the send whose response was lost: " + status);
      await page.waitForFunction(() => !document.getElementById("send-btn").disabled && document.getElementById("result").textContent !== "", null, { timeout: 10000 });
      if ((await page.getAttribute("#result", "data-state")) !== "failed") throw new Error("a lost response was not shown as failed");
    }
    await page.click("#send-btn");
    await page.waitForSelector('#result[data-state="thanks"]', { timeout: 10000 });
    if (r === RESIDENTS[0]) {
      await page.screenshot({ path: path.join(shots, "16-pre-answers-thanks.png") });
      // The link is used up: the page says so, and is clean.
      await page.goto(central + r.path + "?lang=en");
      await page.waitForSelector('[data-state="used"]');
      clean("link_used", await axe(page));
      await page.goto(central + "/q/" + "0".repeat(64) + "?lang=ko");
      await page.waitForSelector('[data-state="invalid"]');
      clean("link_invalid", await axe(page));
      // With the resident page's context, the staff APIs answer 401.
      const staff = await page.evaluate(async () => (await fetch("/v1/residents?q=0")).status);
      if (staff !== 401) throw new Error("staff API from the resident page: " + staff);
    }
    await ctx.close();
  }

  // The box fetches (the venue admin's button).
  const boxAdmin = await signIn(browser, box, "A001", "9991");
  const fetched = await api(boxAdmin, "POST", "/api/roster/pre-answers/fetch");
  if (fetched.status !== 200 || fetched.body.stored !== 3) throw new Error("fetch: " + JSON.stringify(fetched));

  // Reception sees 事前回答あり and checks each in.
  const desk = await signIn(browser, box, "R001", "1111");
  await desk.goto(box + "/reception");
  for (const r of RESIDENTS) {
    const one = await api(boxAdmin, "GET", "/api/roster/search?q=&birth=" + r.birth);
    const entry = one.body.residents.find((x) => x.resident_id === r.id);
    if (!entry || entry.pre_answered !== true) throw new Error("search flag: " + JSON.stringify(one.body));
    await desk.fill("#search-birth", entry.birth_date);
    await desk.click('#search-form button[type="submit"]');
    await desk.waitForSelector('.pre-answered[data-resident="' + r.id + '"]');
    const [resp] = await Promise.all([
      desk.waitForResponse((x) => x.url().endsWith("/api/reception/check-in")),
      desk.click('button.check-in[data-resident="' + r.id + '"]'),
    ]);
    const checked = await resp.json();
    await desk.waitForSelector("#checked-in-pre:not([hidden])");
    const note = await desk.textContent("#checked-in-pre");
    if (!note.includes("事前回答あり")) throw new Error("reception note: " + note);
    if (r === RESIDENTS[0]) await desk.screenshot({ path: path.join(shots, "16-pre-answers-reception.png") });
    const s = await api(desk, "GET", "/api/sessions/" + checked.session_id);
    const results = s.body.session.results;
    let phone = 0;
    Object.keys(results).forEach((code) => {
      const e = results[code][results[code].length - 1];
      if (e.answered && e.answered.via === "phone" && e.answered.lang === r.lang) phone++;
    });
    if (phone !== 22) throw new Error(r.id + ": " + phone + " answers via phone in " + r.lang + ": " + JSON.stringify(results));
    r.sid = checked.session_id;
  }

  // The 問診 station: the nurse sees every phone answer in Japanese, with where and in which
  // language it was given, and completes the station with nothing left to ask.
  const LANG_JA = { en: "英語", "zh-Hans": "中国語", ko: "韓国語" };
  const nurse = await signIn(browser, box, "N001", "3331");
  await nurse.goto(box + "/");
  const ja = (await api(nurse, "GET", "/api/questionnaire?lang=ja")).body.items;
  if (ja.length !== 22) throw new Error("questionnaire in Japanese: " + ja.length);
  for (const r of RESIDENTS) {
    await nurse.goto(box + "/station/questionnaire");
    await nurse.waitForSelector('#due button.pick[data-session="' + r.sid + '"]', { timeout: 10000 });
    await nurse.click('#due button.pick[data-session="' + r.sid + '"]');
    await nurse.waitForSelector("#q-list li.q b", { timeout: 10000 });
    await nurse.waitForFunction(() => (document.querySelector("#q-summary") || {}).textContent.includes("22 / 22"), null, { timeout: 10000 })
      .catch(async () => { throw new Error("station summary: " + await nurse.textContent("#q-summary")); });
    for (const q of ja) {
      // The resident chose the second answer where there is one.
      const want = q.answers[Math.min(1, q.answers.length - 1)];
      const line = (await nurse.textContent("#ans-" + q.code)) || "";
      const value = (await nurse.textContent("#ans-" + q.code + " .q-value")) || "";
      if (value.trim() !== want.text) {
        throw new Error(r.lang + " " + q.code + ": shown " + JSON.stringify(value) + ", want the Japanese " + JSON.stringify(want.text));
      }
      if (!line.includes("スマートフォン（事前回答）") || !line.includes(LANG_JA[r.lang])) {
        throw new Error(r.lang + " " + q.code + ": source not shown: " + JSON.stringify(line));
      }
    }
    const shown = await nurse.textContent("#q-list");
    if (/[\uac00-\ud7af]/.test(shown)) throw new Error("Korean text on the Japanese station page");
    if (r === RESIDENTS[0]) {
      await nurse.screenshot({ path: path.join(shots, "16-pre-answers-station.png"), fullPage: true });
      clean("問診 with phone answers", await axe(nurse));
    }
    // Nothing left to ask: the nurse confirms and completes without a dialog.
    await nurse.click("#done");
    await nurse.waitForFunction(() => (document.querySelector("#done-status") || {}).textContent.includes("完了しました"), null, { timeout: 10000 })
      .catch(async () => { throw new Error("completion: " + await nurse.textContent("#done-status") + " / " + await nurse.textContent("#entry-message")); });
    const s = (await api(nurse, "GET", "/api/sessions/" + r.sid)).body;
    if (!s.session.visited.questionnaire || s.remaining.includes("questionnaire")) throw new Error("問診 not complete: " + JSON.stringify(s.session.visited));
  }
  await browser.close();
  console.log("axe pages: " + axe.runs);
  console.log("pre-answers complete");
})().catch((e) => { console.error(e); process.exit(1); });

