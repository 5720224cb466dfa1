// Training mode: EVERY page of a training box carries the 「練習モード」 band at the top and
// the title prefix, whoever opens it (every role, and nobody signed in), in real headless
// Chromium. The pages are enumerated from the box's own OpenAPI document: every GET route
// whose 200 answer is text/html, path parameters filled (a route with a parameter this
// script does not know fails the test, so a new page cannot slip by), plus the 404 page.
// Then the venue admin ends the session from the trainer's summary (a second step
// confirms it) and the end page shows the final summary.
//
// Screenshots of reception and the trainer's summary go to SCREENSHOT_DIR.
// Usage: node training-mark.js BASE_URL SCREENSHOT_DIR [SPKI_SHA256]
"use strict";
const lib = require("./lib");
const path = require("path");

const [base, shots, spki] = process.argv.slice(2);
const failures = [];
function check(cond, what) {
  if (!cond) { failures.push(what); console.error("FAIL: " + what); }
}

const STAFF = [
  ["A001", "9991"], ["R001", "1111"], ["S001", "2221"], ["S002", "2222"], ["N001", "3331"],
  ["D001", "4441"], ["C001", "5551"], ["K001", "2468"], ["U001", "8881"],
];

async function band(page) {
  return page.evaluate(() => {
    const b = document.querySelector("#training-band");
    if (!b) { return null; }
    const r = b.getBoundingClientRect();
    const s = getComputedStyle(b);
    return {
      top: r.top, height: r.height, width: r.width,
      visible: s.display !== "none" && s.visibility !== "hidden" && s.opacity !== "0",
      text: b.textContent, title: document.title,
      // Nothing covers it: the element at its centre is the band or inside it.
      onTop: b.contains(document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)),
    };
  });
}

(async () => {
  const browser = await lib.launch(spki);
  try {
    // The route table, as the box documents it.
    const anonCtx = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: "ja-JP" });
    const anon = await anonCtx.newPage();
    await anon.goto(base + "/login");
    const doc = await anon.evaluate(async () => (await fetch("/openapi.json")).json());
    const templates = Object.entries(doc.paths)
      .filter(([, ops]) => ops.get && ops.get.responses && ops.get.responses["200"]
        && ops.get.responses["200"].content && ops.get.responses["200"].content["text/html"])
      .map(([p]) => p);
    check(templates.length >= 8, `page routes found: ${templates}`);
    check(templates.includes("/training/summary"), "the summary page is a documented page");

    // A session to fill {session_id}: reception checks a training resident in.
    const reception = await lib.signIn(browser, base, "R001", "1111");
    const checkin = await lib.api(reception, "POST", "/api/reception/check-in",
      { id: crypto.randomUUID(), resident_id: "9900000002" });
    check(checkin.status === 200 || checkin.status === 201, `check-in: ${JSON.stringify(checkin)}`);
    const session = checkin.body && checkin.body.session_id;
    const fill = {
      kind: ["measurement", "blood_pressure", "urine", "doctor", "questionnaire"],
      session_id: [session],
    };
    const urls = [];
    for (const t of templates) {
      let variants = [t];
      for (const m of t.matchAll(/\{([^}]+)\}/g)) {
        const values = fill[m[1]];
        check(values !== undefined, `page ${t}: no value for {${m[1]}} (teach this test the new page)`);
        if (!values) { variants = []; break; }
        variants = variants.flatMap((v) => values.map((x) => v.replace(m[0], x)));
      }
      urls.push(...variants);
    }
    urls.push("/no-such-page");
    console.log("pages: " + urls.join(" "));

    let checked = 0;
    let refusals = 0;
    const visitors = [["(nobody)", anon]];
    for (const [id, pin] of STAFF) {
      visitors.push([id, id === "R001" ? reception : await lib.signIn(browser, base, id, pin)]);
    }
    for (const [who, page] of visitors) {
      for (const url of urls) {
        const r = await page.goto(base + url);
        const where = `${url} as ${who} (→ ${page.url()}, ${r ? r.status() : "?"})`;
        const type = r ? (r.headers()["content-type"] || "") : "";
        if (!type.startsWith("text/html")) {
          // Not a page: the API's JSON refusal (e.g. a printable form asked for without a
          // session). It must be a refusal, never content.
          check(r && r.status() >= 400 && type.startsWith("application/json"), `not a page and not a refusal: ${where} ${type}`);
          refusals += 1;
          continue;
        }
        const b = await band(page);
        check(b !== null, `no training band on ${where}`);
        if (b) {
          check(b.visible && b.height >= 40 && b.width >= 900, `band not plainly visible on ${where}: ${JSON.stringify(b)}`);
          check(b.top <= 1, `band not at the top on ${where}: ${b.top}`);
          check(b.onTop, `band covered by something on ${where}`);
          check(b.text.includes("練習モード") && b.text.includes("Training mode"), `band text on ${where}: ${b.text}`);
          check(b.title.startsWith("【練習モード Training】"), `title on ${where}: ${b.title}`);
        }
        checked += 1;
      }
      if (who === "R001") {
        await page.goto(base + "/reception");
        await page.screenshot({ path: path.join(shots, "training-reception-1024x768.png") });
        // The cards offered on the virtual reader are the training roster's, never a
        // real-looking demo resident's.
        const rtext = await page.evaluate(() => document.body.innerText);
        check(/練習|見本|模擬|試行|例題|仮名/.test(rtext) && rtext.includes("(99"), `training residents on reception: ${rtext.slice(0, 300)}`);
        check(!rtext.includes("(00010"), "a demo resident on a training box's reception page");
      }
    }

    // The trainer's summary names the trainee who checked a resident in, and ends the session.
    const admin = visitors.find(([w]) => w === "A001")[1];
    await admin.goto(base + "/training/summary");
    const text = await admin.evaluate(() => document.body.innerText);
    check(text.includes("R001") && text.includes("session_opened"), `summary: ${text.slice(0, 400)}`);
    await admin.screenshot({ path: path.join(shots, "training-summary-1024x768.png"), fullPage: true });
    // One tap never ends it: a second step says what is wiped, going back is offered first.
    await Promise.all([admin.waitForNavigation(), admin.click('form[action="/training/end"] button')]);
    check(await admin.isVisible("#training-end-confirm") && await admin.isVisible("#training-end-back"), "no confirmation before ending");
    check(!(await admin.evaluate(() => document.body.innerText)).includes("練習を終了しました"), "one tap ended the session");
    await admin.goto(base + "/training/summary");  // still running
    await Promise.all([admin.waitForNavigation(), admin.click('form[action="/training/end"] button')]);
    await Promise.all([admin.waitForNavigation(), admin.click("#training-end-confirm")]);
    const ended = await band(admin);
    check(ended !== null, "the end page carries the band too");
    const endText = await admin.evaluate(() => document.body.innerText);
    check(endText.includes("練習を終了しました"), "the session ended");
    check(endText.includes("R001") && endText.includes("session_opened"), `the end page shows no summary: ${endText.slice(0, 400)}`);
    console.log(`training mark on ${checked} page visits (${urls.length} pages × ${visitors.length} visitors; ${refusals} JSON refusals, not pages)`);
  } finally {
    await browser.close();
  }
  if (failures.length > 0) {
    console.error(`${failures.length} failure(s)`);
    process.exit(1);
  }
  console.log("training-mark complete");
})().catch((e) => { console.error(e); process.exit(1); });
