// Finding one's way, reception, the board and intake as staff meet them, in real headless
// Chromium against a demo box, with axe-core (run inside the page) on every page and state
// visited: zero violations.
//
// - Every role lands on its own page after sign-in, in one frame: who is signed in, the
//   pages the role may open, sign-out; the auditor gets a page, not a 403; a station tile on
//   the board is a link only for staff who work there; 403 and 404 are styled pages with a
//   way back; the favicon is served.
// - Reception on a landscape 1024×768 tablet: the whole PIN pad and the wrong-PIN message
//   visible without scrolling; after a search check-in the screen is cleared for the next
//   resident; a resident already checked in is not offered 受付する; an offline search says so.
// - The board on a 1920×1080 TV: full width, large numbers, each station once, 受付済 live,
//   待ち = residents whose next station it is, full English with ?lang=en, and it says when it
//   is not live (offline) and when it is again.
// - Intake: sex and abuse type shown as words; a case with required fields empty is refused
//   by the page and by the box; a saved case is titled by child and date, not by its UUID.
//
// Screenshots of every role's main page at 1024×768 and of the board at 1920×1080 go to
// SCREENSHOT_DIR. Usage: node wayfinding.js BASE_URL SCREENSHOT_DIR [SPKI_SHA256]
"use strict";
const lib = require("./lib");
const path = require("path");
const fs = require("fs");
const os = require("os");

const [base, shots, spki] = process.argv.slice(2);
const TABLET = { width: 1024, height: 768 };
const TV = { width: 1920, height: 1080 };
const JAPANESE = /[\u3040-\u30ff\u3400-\u9fff]/;

const failures = [];
function check(cond, what) {
  if (!cond) { failures.push(what); console.error("FAIL: " + what); }
}

// axe-core on the page in `state`: any violation is a failure naming the page, the state
// and the nodes.
async function axe(page, state) {
  const v = await lib.axe(page);
  check(v.length === 0, `axe on ${state} (${page.url()}): ${JSON.stringify(v)}`);
}

async function shot(page, name, fullPage) {
  await page.screenshot({ path: path.join(shots, name + ".png"), fullPage: !!fullPage });
}

async function signIn(browser, id, pin, viewport) {
  const page = await lib.signIn(browser, base, id, pin, viewport || TABLET);
  page.on("pageerror", (e) => check(false, `script error on ${page.url()}: ${e.message}`));
  return page;
}

// The frame every staff page has: who, the role's pages, sign-out.
async function frame(page, who, links) {
  const f = await page.evaluate(() => ({
    who: (document.querySelector('[data-testid="who"]') || {}).textContent || "",
    links: Array.from(document.querySelectorAll("header nav.pages a")).map((a) => a.getAttribute("href")),
    logout: !!document.querySelector('header form[action="/logout"] button'),
    icon: (document.querySelector('link[rel="icon"]') || {}).href || "",
  }));
  check(f.who.includes(who), `${page.url()}: who is signed in (${who}): ${JSON.stringify(f)}`);
  for (const l of links) check(f.links.includes(l), `${page.url()}: link to ${l}: ${JSON.stringify(f.links)}`);
  check(f.logout, `${page.url()}: a sign-out button`);
  check(f.icon.endsWith("/favicon.svg"), `${page.url()}: favicon link: ${f.icon}`);
  return f;
}

// Whether an element is wholly inside the viewport (seen without scrolling).
async function inView(page, sel) {
  return page.$eval(sel, (e) => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth;
  });
}

async function wayfinding(browser) {
  // Each role lands on its own page, framed.
  const roles = [
    ["R001", "1111", "/reception", "受付", ["/reception", "/"], "reception"],
    ["S001", "2221", "/station/measurement", "検査担当", ["/station/measurement", "/"], "station"],
    ["N001", "3331", "/", "看護師", ["/", "/station/questionnaire", "/station/urine"], "nurse"],
    ["D001", "4441", "/station/doctor", "医師", ["/station/doctor", "/"], "doctor"],
    ["A001", "9991", "/", "会場管理者", ["/", "/reception"], "venue-admin"],
    ["C001", "5551", "/intake", "児童福祉担当事務", ["/intake", "/cases"], "clerk"],
    ["K001", "2468", "/cases", "児童福祉司", ["/cases"], "caseworker"],
    ["U001", "8881", "/", "監査", ["/"], "auditor"],
  ];
  for (const [id, pin, home, role, links, name] of roles) {
    const page = await signIn(browser, id, pin);
    const url = new URL(page.url());
    check(url.pathname === home, `${id} lands on ${home}: ${page.url()}`);
    const r = await page.goto(base + home);
    check(r.status() === 200, `${id} ${home}: ${r.status()}`);
    await frame(page, role, links);
    await page.waitForTimeout(300); // live lists arrive
    await axe(page, `${name} main page`);
    await shot(page, `role-${name}-1024x768`);
    if (id === "R001") {
      // The language switch works on reception too (and is remembered until switched back).
      await page.goto(base + "/reception?lang=en");
      check((await page.textContent("header form.logout button")).trim() === "Sign out", "reception in English: sign-out");
      await axe(page, "reception (en)");
      await page.goto(base + "/reception?lang=ja");
      check((await page.textContent("header form.logout button")).trim() === "ログアウト", "reception back in Japanese");
      // The board as reception: a way back to reception, no link into a station.
      await page.goto(base + "/");
      await frame(page, role, ["/reception"]);
      check(await page.$$eval("ul.stations a", (a) => a.length) === 0, "reception's board links stations it cannot open");
      // A station's address anyway: a styled 403 with the way back.
      const f = await page.goto(base + "/station/measurement");
      check(f.status() === 403, "reception at a station: " + f.status());
      check(await page.$('link[rel="stylesheet"]') !== null, "403 page styled");
      const text = await page.textContent("main");
      check(text.includes("権限がありません") && /not open/i.test(text), "403 says why, Japanese and English: " + text);
      await frame(page, role, ["/reception"]);
      await axe(page, "403");
      await shot(page, "403-1024x768");
      await Promise.all([page.waitForNavigation(), page.click('[data-testid="way-back"]')]);
      check(new URL(page.url()).pathname === "/reception", "403 way back: " + page.url());
      // An unknown address: a styled 404 with the way back.
      const nf = await page.goto(base + "/no/such/page");
      check(nf.status() === 404, "unknown page: " + nf.status());
      const nft = await page.textContent("main");
      check(nft.includes("ページが見つかりません") && /does not exist/i.test(nft), "404 says so: " + nft);
      await axe(page, "404");
      await shot(page, "404-1024x768");
      await Promise.all([page.waitForNavigation(), page.click('[data-testid="way-back"]')]);
      check(new URL(page.url()).pathname === "/reception", "404 way back: " + page.url());
      // The favicon is served from the box.
      const icon = await page.evaluate(async () => { const r = await fetch("/favicon.svg"); return [r.status, r.headers.get("content-type"), (await r.text()).slice(0, 4)]; });
      check(icon[0] === 200 && icon[1].startsWith("image/svg+xml") && icon[2] === "<svg", "favicon: " + icon);
      // Sign-out from reception.
      await Promise.all([page.waitForNavigation(), page.click('header form[action="/logout"] button')]);
      check(new URL(page.url()).pathname === "/login", "reception signs out: " + page.url());
    }
    if (id === "A001") {
      const f = await page.goto(base + "/station/blood_pressure");
      check(f.status() === 403, "admin at a station: " + f.status());
      await axe(page, "403 (admin)");
      check(await page.$$eval("ul.stations a", (a) => a.length) === 0, "admin's 403 page has no station links");
    }
    if (id === "U001") {
      const body = await page.textContent("main");
      check(body.includes("本庁"), "the auditor's page says where audit work is done: " + body);
    }
    await page.context().close();
  }
  // Not signed in: an unknown page is still a page, leading to sign-in.
  const ctx = await browser.newContext({ viewport: TABLET, locale: "ja-JP" });
  const anon = await ctx.newPage();
  const nf = await anon.goto(base + "/nowhere");
  check(nf.status() === 404, "404 signed out: " + nf.status());
  check((await anon.getAttribute('[data-testid="way-back"]', "href")) === "/login", "404 signed out leads to sign-in");
  await axe(anon, "404 signed out");
  await anon.goto(base + "/login");
  await axe(anon, "sign-in page");
  await shot(anon, "login-1024x768");
  // The API still answers JSON for an unknown route.
  const api = await anon.evaluate(async () => { const r = await fetch("/api/nothing"); return [r.status, (await r.json()).error]; });
  check(api[0] === 404 && api[1] === "no_such_route", "API 404: " + api);
  await ctx.close();
}

async function reception(browser) {
  const page = await signIn(browser, "R001", "1111", TABLET);
  const residents = await page.$$eval("#demo button.tap[data-card=mynumber]", (b) => b.map((x) => x.dataset.resident));
  check(residents.length >= 3, "demo residents: " + residents.length);
  const [first, second] = residents;
  const secondName = await page.$eval(`#demo button.tap[data-resident="${second}"]`, (b) => b.parentElement.textContent.split(" (")[0].trim());
  // A My Number card on the reader: the whole PIN pad in view at 1024×768.
  await page.evaluate(async (id) => {
    await fetch("/api/demo/tap", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ resident_id: id, card: "mynumber" }) });
  }, first);
  await page.waitForSelector("#pin-pad:not([hidden])", { timeout: 15000 });
  for (const k of ["1", "3", "7", "9", "消", "0", "OK"]) {
    check(await inView(page, `.key[data-key="${k}"]`), `PIN key ${k} visible without scrolling at 1024×768`);
  }
  const keySize = await page.$eval('.key[data-key="OK"]', (e) => { const r = e.getBoundingClientRect(); return [r.width, r.height]; });
  check(keySize[0] >= 44 && keySize[1] >= 44, "PIN keys are touch targets: " + keySize);
  await axe(page, "reception PIN pad");
  await shot(page, "role-reception-pin-1024x768");
  // A wrong PIN: the message in view beside the pad.
  const pin = first.slice(-4);
  const wrong = pin === "0000" ? "1111" : "0000";
  for (const d of wrong) await page.click(`.key[data-key="${d}"]`);
  await page.click('.key[data-key="OK"]');
  await page.waitForFunction(() => document.getElementById("status-title").textContent.includes("暗証番号が違います"), null, { timeout: 10000 });
  check(await inView(page, "#status-title"), "wrong-PIN message visible without scrolling");
  check(await inView(page, '.key[data-key="OK"]'), "PIN pad still in view after a wrong PIN");
  check(await page.evaluate(() => window.scrollY) === 0, "the page did not scroll");
  // The resident reads the pad: the answer in やさしい日本語 too, in view.
  check((await page.textContent("#pin-easy")).includes("ばんごうが ちがいます"), "wrong PIN not said in easy Japanese: " + await page.textContent("#pin-easy"));
  check(await inView(page, "#pin-easy"), "the easy-Japanese line is out of view");
  await axe(page, "reception wrong PIN");
  for (const d of pin) await page.click(`.key[data-key="${d}"]`);
  await page.click('.key[data-key="OK"]');
  await page.waitForSelector("#result:not([hidden])", { timeout: 10000 });
  await page.waitForSelector("#candidates:not([hidden]) button.check-in", { timeout: 10000 });
  await axe(page, "reception card read");
  // Another resident without a card, found by search and checked in.
  await page.fill("#search-q", secondName.replace(/[\s　]/g, "").slice(0, 3));
  await page.click('#search-form button[type="submit"]');
  const btn = `#candidate-list button.check-in[data-resident="${second}"]`;
  await page.waitForSelector(btn, { timeout: 10000 });
  await page.click(btn);
  await page.waitForFunction(() => !document.getElementById("checked-in").hidden && document.getElementById("checked-in-title").textContent.includes("受付しました:"), null, { timeout: 10000 });
  // The screen is the next resident's: no earlier reading, candidates or search left.
  const after = await page.evaluate(() => ({
    status: document.getElementById("status-title").textContent,
    result: !document.getElementById("result").hidden ? document.getElementById("result-fields").textContent : "",
    candidates: !document.getElementById("candidates").hidden ? document.getElementById("candidate-list").textContent : "",
    q: document.getElementById("search-q").value,
  }));
  check(!after.status.includes("読み取りました") && after.result === "" && after.candidates === "" && after.q === "",
    "screen cleared for the next resident after check-in: " + JSON.stringify(after));
  check(await inView(page, "#checked-in-title"), "受付しました in view");
  await axe(page, "reception checked in");
  await shot(page, "reception-checked-in-1024x768");
  // The same resident again: not offered 受付する.
  await page.fill("#search-q", secondName.replace(/[\s　]/g, "").slice(0, 3));
  await page.click('#search-form button[type="submit"]');
  await page.waitForSelector(`#candidate-list [data-resident="${second}"]`, { timeout: 10000 });
  check(await page.$(btn) === null, "a resident already checked in is offered 受付する again");
  const note = await page.textContent(`#candidate-list .checked-in-note[data-resident="${second}"]`).catch(() => "");
  check(note.includes("受付済み"), "already checked in is said: " + note);
  await axe(page, "reception search, already checked in");
  // Offline: the search says so (no silent failure, no script error).
  await page.context().setOffline(true);
  await page.fill("#search-q", "佐藤");
  await page.click('#search-form button[type="submit"]');
  await page.waitForSelector("#search-message:not([hidden])", { timeout: 10000 });
  const off = await page.textContent("#search-message");
  check(off.includes("通信できません"), "offline search message: " + off);
  check(await inView(page, "#search-message"), "offline search message in view");
  await axe(page, "reception offline search");
  await page.context().setOffline(false);
  await page.context().close();
  return second;
}

async function board(browser) {
  const admin = await signIn(browser, "A001", "9991", TV);
  await admin.waitForSelector('#live[data-live="true"]', { timeout: 10000 });
  // Full width, readable from across the hall.
  const dims = await admin.evaluate(() => ({
    stations: document.querySelector("ul.stations").getBoundingClientRect().width,
    count: parseFloat(getComputedStyle(document.querySelector("li.station b.w")).fontSize),
    summary: parseFloat(getComputedStyle(document.querySelector('[data-testid="opened"]')).fontSize),
    kinds: Array.from(document.querySelectorAll("li.station")).map((l) => l.dataset.kind),
  }));
  check(dims.stations >= 1700, "board uses the TV's width: " + dims.stations);
  check(dims.count >= 64 && dims.summary >= 64, "numbers readable at 5 m (≥ 64 px): " + JSON.stringify(dims));
  check(new Set(dims.kinds).size === dims.kinds.length, "each station once: " + dims.kinds);
  // 受付済 live, 待ち = residents whose next station it is.
  const opened0 = Number(await admin.textContent('[data-testid="opened"]'));
  const resident = await admin.evaluate(async () => {
    const r = await fetch("/api/roster/search?q=" + encodeURIComponent("佐藤"));
    const j = await r.json();
    const free = j.residents.filter((x) => !(j.checked_in || []).includes(x.resident_id))[0];
    const c = await fetch("/api/reception/check-in", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ id: window.ceUuid7 ? window.ceUuid7() : crypto.randomUUID(), resident_id: free.resident_id, mynumber: false }) });
    return [c.status, free.resident_id, await c.json()];
  });
  check(resident[0] === 201 || resident[0] === 200, "check-in from the board's box: " + JSON.stringify(resident));
  await admin.waitForFunction((n) => Number(document.querySelector('[data-testid="opened"]').textContent) === n + 1, opened0, { timeout: 10000 })
    .catch(() => check(false, "受付済 does not update live"));
  await admin.waitForFunction(() => document.querySelectorAll("#sessions tbody tr").length >= 2, null, { timeout: 10000 });
  const counts = await admin.evaluate(() => ({
    waiting: Array.from(document.querySelectorAll("li.station b.w")).reduce((a, b) => a + Number(b.textContent), 0),
    rows: document.querySelectorAll("#sessions tbody tr:not(.finished)").length,
    open: Number(document.querySelector('[data-testid="open"]').textContent),
  }));
  check(counts.waiting === counts.rows, "待ち counts each resident once, at their next station: " + JSON.stringify(counts));
  check(counts.open === counts.rows, "受診中 counts the residents not finished: " + JSON.stringify(counts));
  // That resident through every station (the doctor signs each off): finished, and no
  // longer counted in 受診中 or in any station's 待ち.
  const doctor = await signIn(browser, "D001", "4441", TABLET);
  const opened = resident[2];
  const done = await doctor.evaluate(async ([o, rid]) => {
    const out = [];
    // Each sign-off confirms and lists what it leaves missing, as the page's dialog does.
    const signOff = (st, missing) => fetch("/api/events", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ id: window.ceUuid7(), body: { kind: "station_visited",
        payload: { session_id: o.session_id, resident_id: rid, station: st, confirmed: true, missing } } }) });
    // 問診 is never signed off without its required answers: asked first.
    const ask = (item) => fetch("/api/events", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ id: window.ceUuid7(), body: { kind: "measurement_recorded", payload: { session_id: o.session_id,
        resident_id: rid, station: "questionnaire", item_code: item, value: "1", unit: "", answered: { via: "interview", lang: "ja" } } } }) });
    for (const item of ["9N701000000000011", "9N706000000000011", "9N711000000000011", "9N736000000000011"]) {
      if (o.stations.includes("questionnaire")) { out.push((await ask(item)).status); }
    }
    // 診察 is never signed off without the doctor's findings and 診断: recorded first.
    const find = (item, value) => fetch("/api/events", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ id: window.ceUuid7(), body: { kind: "measurement_recorded", payload: { session_id: o.session_id,
        resident_id: rid, station: "doctor", item_code: item, value: value, unit: "" } } }) });
    for (const [item, value] of [["9N056000000000011", "2"], ["9N061000000000011", "2"], ["9N066000000000011", "2"], ["9N511000000000049", "異常なし"]]) {
      if (o.stations.includes("doctor")) { out.push((await find(item, value)).status); }
    }
    for (const st of o.stations) {
      let r = await signOff(st, []);
      if (r.status === 422) {
        const j = await r.json();
        if (j.error === "incomplete_station" && j.missing) { r = await signOff(st, j.missing); }
      }
      out.push(r.status);
    }
    return out;
  }, [opened, resident[1]]);
  check(done.every((s) => s === 201), "the doctor signs every station off: " + done);
  await doctor.context().close();
  await admin.waitForSelector("#sessions tbody tr.finished", { timeout: 10000 })
    .catch(() => check(false, "the finished resident is not shown finished"));
  const later = await admin.evaluate(() => ({
    waiting: Array.from(document.querySelectorAll("li.station b.w")).reduce((a, b) => a + Number(b.textContent), 0),
    rows: document.querySelectorAll("#sessions tbody tr:not(.finished)").length,
    finished: document.querySelectorAll("#sessions tbody tr.finished").length,
    open: Number(document.querySelector('[data-testid="open"]').textContent),
  }));
  check(later.finished === 1 && later.open === later.rows && later.waiting === later.rows,
    "受診中 and 待ち without the finished: " + JSON.stringify(later));
  await axe(admin, "board (ja)");
  await shot(admin, "board-1920x1080");
  // Offline: the board says it is not live, then live again.
  await admin.context().setOffline(true);
  await admin.waitForSelector('#live[data-live="false"]', { timeout: 10000 })
    .catch(() => check(false, "the board does not say it is offline"));
  const down = await admin.textContent("#live");
  check(down.includes("更新が止まっています") && !down.includes("接続中"), "offline board: " + down);
  await axe(admin, "board offline");
  await shot(admin, "board-offline-1920x1080");
  await admin.context().setOffline(false);
  await admin.waitForSelector('#live[data-live="true"]', { timeout: 15000 })
    .catch(() => check(false, "the board does not say it is live again"));
  // English, all of it (the venue's and residents' names are names).
  await admin.goto(base + "/?lang=en");
  await admin.waitForSelector('#live[data-live="true"]', { timeout: 10000 });
  await admin.waitForSelector("#sessions tbody tr", { timeout: 10000 });
  const en = await admin.evaluate(() => {
    const parts = [];
    document.querySelectorAll("header nav.pages, header form, .summary, #live, ul.stations, #sessions thead, #board-sessions h2, #link").forEach((e) => parts.push(e.innerText));
    document.querySelectorAll("#sessions tbody tr").forEach((tr) => Array.from(tr.cells).slice(1).forEach((td) => parts.push(td.innerText)));
    return parts.join(" | ");
  });
  check(!JAPANESE.test(en), "board in English has Japanese: " + en.match(new RegExp(JAPANESE.source + "+", "g")));
  check(await admin.getAttribute("html", "lang") === "en", "lang=en");
  await axe(admin, "board (en)");
  await shot(admin, "board-en-1920x1080");
  await admin.goto(base + "/?lang=ja");
  await admin.context().close();
}

async function intake(browser) {
  const clerk = await signIn(browser, "C001", "5551", TABLET);
  check(await clerk.$eval("#f-child_sex", (e) => e.tagName) === "SELECT", "sex is chosen from words");
  const words = await clerk.$$eval("#f-child_sex option, #f-abuse_type option", (o) => o.map((x) => x.textContent));
  for (const w of ["男", "女", "身体的虐待", "心理的虐待", "ネグレクト", "性的虐待"]) check(words.includes(w), `word ${w}: ${words}`);
  check(!words.some((w) => /^(male|female|physical|psychological|neglect|sexual)$/.test(w)), "codes shown as codes: " + words);
  // A scan with nothing readable on it: every field typed in by the clerk.
  const png = await clerk.evaluate(() => {
    const c = document.createElement("canvas"); c.width = 600; c.height = 800;
    const x = c.getContext("2d"); x.fillStyle = "#fff"; x.fillRect(0, 0, c.width, c.height);
    return c.toDataURL("image/png").split(",")[1];
  });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "wayfinding-")), "blank-notice.png");
  fs.writeFileSync(file, Buffer.from(png, "base64"));
  await clerk.setInputFiles("#upload", file);
  const row = `#scans tr:has(td:text-is("blank-notice.png")) button`;
  await clerk.waitForSelector(row, { timeout: 60000 });
  await clerk.waitForFunction(() => Array.from(document.querySelectorAll("#scans tr")).some((tr) => tr.textContent.includes("blank-notice.png") && tr.dataset.status !== "reading"), null, { timeout: 60000 });
  await clerk.click(row);
  await clerk.waitForSelector("#review:not([hidden])");
  await axe(clerk, "intake review");
  for (const cb of await clerk.$$("input[data-confirm]")) await cb.check();
  await clerk.click('[data-testid="save-case"]');
  await clerk.waitForSelector("#save-message:not([hidden])", { timeout: 10000 });
  const msg = await clerk.textContent("#save-message");
  check(msg.includes("必須") && msg.includes("児童氏名"), "empty required fields refused by the page: " + msg);
  await axe(clerk, "intake refused");
  // The box refuses them too, with a clear message.
  const scanId = await clerk.evaluate(async () => {
    const j = await (await fetch("/api/intake/scans")).json();
    return j.scans.filter((s) => s.file === "blank-notice.png")[0].id;
  });
  const refused = await clerk.evaluate(async (id) => {
    const r = await fetch("/api/intake/scans/" + id + "/case", { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ fields: { summary: "画像と照らして確認しました" } }) });
    return [r.status, await r.json()];
  }, scanId);
  check(refused[0] === 422 && refused[1].error === "missing_fields" && refused[1].message.includes("児童氏名"), "the box refuses empty required fields: " + JSON.stringify(refused));
  const unreadable = await clerk.evaluate(async (id) => {
    const r = await fetch("/api/intake/scans/" + id + "/case", { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ fields: { notice_date: "日年月日", child_name: "日年月日", child_birth_date: "日年月日", abuse_type: "neglect" } }) });
    return [r.status, await r.json()];
  }, scanId);
  check(unreadable[0] === 422 && unreadable[1].error === "invalid_field" && unreadable[1].message.includes("生年月日"), "the box refuses an unreadable date: " + JSON.stringify(unreadable));
  // Typed in properly: saved, and titled by child and date.
  await clerk.fill("#f-notice_date", "2026-11-20");
  await clerk.fill("#f-child_name", "緑川みどり");
  await clerk.fill("#f-child_birth_date", "平成30年4月1日");
  await clerk.selectOption("#f-child_sex", "female");
  await clerk.selectOption("#f-abuse_type", "psychological");
  await clerk.click('[data-testid="save-case"]');
  await clerk.waitForFunction(() => document.getElementById("upload-message").textContent.includes("保存しました"), null, { timeout: 10000 });
  await clerk.goto(base + "/cases");
  const caseRow = '#cases tbody tr:has(td:text-is("緑川みどり"))';
  await clerk.waitForSelector(caseRow, { timeout: 10000 });
  await clerk.click(caseRow);
  const title = await clerk.textContent("#case-title");
  check(title.includes("緑川みどり") && title.includes("2026-11-20"), "case titled by child and date: " + title);
  check(!/[0-9a-f]{8}-[0-9a-f]{4}-/.test(title), "case titled by its UUID: " + title);
  const detail = await clerk.textContent("#case-fields");
  check(detail.includes("心理的虐待") && detail.includes("女") && !/psychological|female/.test(detail), "case in words: " + detail);
  await axe(clerk, "case detail");
  await clerk.context().close();
}

(async () => {
  const browser = await lib.launch(spki);
  try {
    for (const [name, run] of [["wayfinding", wayfinding], ["reception", reception], ["board", board], ["intake", intake]]) {
      try { await run(browser); } catch (e) { check(false, `${name}: ${e.stack || e}`); }
    }
  } finally {
    await browser.close();
  }
  console.log(`axe-core runs: ${lib.axe.runs}`);
  if (failures.length) {
    console.error(`${failures.length} failures`);
    process.exit(1);
  }
  console.log("wayfinding complete");
})().catch((e) => { console.error(e); process.exit(1); });
