// The venue admin's 「練習モード」 switch on a real (demo) box, in headless Chromium: the
// admin signs in, chooses the options, presses 「練習を始める」, follows the link to the
// rehearsal in a new tab (served with the box's own certificate: trusted as the box is),
// sees the 「練習モード」 band there and none on the box's own page, then stops it from the
// page and sees its summary. The switch's buttons are large (≥ 48 px).
//
// Screenshots of the switch (running) and of the rehearsal go to SCREENSHOT_DIR.
// Usage: node training-switch.js BASE_URL SCREENSHOT_DIR [SPKI_SHA256]
"use strict";
const lib = require("./lib");
const path = require("path");

const [base, shots, spki] = process.argv.slice(2);
const failures = [];
function check(cond, what) {
  if (!cond) { failures.push(what); console.error("FAIL: " + what); }
}

(async () => {
  const browser = await lib.launch(spki);
  try {
    // Reception's board has no switch.
    const reception = await lib.signIn(browser, base, "R001", "1111");
    await reception.goto(base + "/");
    check(await reception.$("#training-switch") === null, "reception sees no training switch");

    const admin = await lib.signIn(browser, base, "A001", "9991");
    check(admin.url() === base + "/", `the admin lands on the board: ${admin.url()}`);
    const sw = await admin.$("#training-switch");
    check(sw !== null, "the admin's page has the 練習モード section");
    const start = await admin.$("#training-start");
    const box = await start.boundingBox();
    check(box && box.height >= 48 && box.width >= 48, `start button is large: ${JSON.stringify(box)}`);
    check((await start.innerText()).includes("練習を始める"), "the start button says 練習を始める");
    const band = await admin.$("#training-band");
    check(band === null, "no 練習モード band on the real box");

    await sw.screenshot({ path: path.join(shots, "training-switch-form.png") });
    await admin.fill("#training-residents", "8");
    await admin.click("label.switch-choice:has(input[value='60'])");
    await admin.click("#training-start");
    await admin.waitForSelector("#training-running:not([hidden])", { timeout: 120000 });
    const href = await admin.getAttribute("#training-link", "href");
    check(/^https:\/\/127\.0\.0\.1:\d+\/$/.test(href) && !href.startsWith(base + "/"), `the link: ${href}`);
    check((await admin.getAttribute("#training-link", "target")) === "_blank", "the link opens a new tab");
    const stop = await (await admin.$("#training-stop")).boundingBox();
    check(stop && stop.height >= 48, `stop button is large: ${JSON.stringify(stop)}`);
    await admin.screenshot({ path: path.join(shots, "training-switch-1024x768.png"), fullPage: true });

    // Follow the link: a new tab, the rehearsal, the band.
    const [tab] = await Promise.all([admin.context().waitForEvent("page"), admin.click("#training-link")]);
    await tab.waitForLoadState("load");
    check(tab.url().startsWith(href), `the new tab: ${tab.url()}`);
    const b = await tab.evaluate(() => {
      const el = document.querySelector("#training-band");
      if (!el) { return null; }
      const r = el.getBoundingClientRect();
      return { top: r.top, height: r.height, text: el.textContent, title: document.title };
    });
    check(b !== null && b.height >= 40 && b.top <= 1, `the band in the rehearsal: ${JSON.stringify(b)}`);
    check(b && b.text.includes("練習モード") && b.title.startsWith("【練習モード"), `band text: ${JSON.stringify(b)}`);
    // A trainee signs in to the rehearsal in that tab.
    await tab.fill("#staff_id", "R001");
    await tab.fill("#pin", "1111");
    await Promise.all([tab.waitForNavigation(), tab.click("form.login button")]);
    const rtext = await tab.evaluate(() => document.body.innerText);
    check(rtext.includes("練習: カードをタップ"), "the rehearsal's reader panel says 練習");
    check(!rtext.includes("デモ: カードをタップ"), "no デモ wording in a rehearsal");
    await tab.screenshot({ path: path.join(shots, "training-switch-rehearsal-1024x768.png") });
    console.log(`rehearsal at ${href}`);

    // Stop it from the page: the summary is shown, the start button is back.
    await admin.bringToFront();
    const t0 = Date.now();
    const [stopped] = await Promise.all([
      admin.waitForResponse((r) => r.url().endsWith("/api/training/stop"), { timeout: 90000 }),
      admin.click("#training-stop"),
    ]);
    console.log(`stopped in ${Date.now() - t0} ms: ${stopped.status()}`);
    await admin.waitForSelector("#training-form:not([hidden])", { timeout: 90000 });
    await admin.waitForSelector("#training-summary:not([hidden])", { timeout: 10000 });
    const summary = await admin.textContent("#training-summary-text");
    check(summary.includes("研修のまとめ"), `the summary: ${summary.slice(0, 200)}`);
    const gone = await admin.evaluate(async (u) => {
      try { await fetch(u, { mode: "no-cors" }); return false; } catch (e) { return true; }
    }, href);
    check(gone, "nothing answers at the rehearsal's address");
    check(!admin.scriptError, `script error: ${admin.scriptError}`);
  } finally {
    await browser.close();
  }
  if (failures.length > 0) {
    console.error(`${failures.length} failure(s)`);
    process.exit(1);
  }
  console.log("training-switch complete");
})().catch((e) => { console.error(e); process.exit(1); });
