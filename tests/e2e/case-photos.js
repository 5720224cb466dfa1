// Injury photos on a child case in real headless Chromium, across two boxes of one venue:
// a nurse is refused the case page and every photo API (403); the caseworker on box 1 opens
// the case and takes photos (the camera input, given a phone's JPEG with GPS, make, model
// and serial); the 係長 on box 2, with the same case open, sees each photo appear without a
// reload; what either receives has no metadata left; a file that is no photo is refused with
// a Japanese message and nothing shown is lost. Offline, the form says photos are not held
// and keeps the one chosen for 「もう一度送る」, which sends it when the network is back; a
// send whose answer is lost and is sent again is kept once (its Idempotency-Key). The latency of each photo — from the
// caseworker handing the file to her page to the image loaded on the supervisor's — is
// printed (`photo latency ms: …`), never asserted.
// Usage: node case-photos.js BOX1_URL BOX2_URL CASE_ID CHILD_NAME SCREENSHOT_DIR NOT_A_PHOTO PHOTO...
"use strict";
const lib = require("./lib");
const fs = require("fs");
const path = require("path");

const [box1, box2, caseId, childName, shots, notPhoto, ...photos] = process.argv.slice(2);

function check(cond, what) { if (!cond) throw new Error(what); }
async function axe(page, state) {
  const v = await lib.axe(page);
  check(v.length === 0, `axe on ${state} (${page.url()}): ${JSON.stringify(v)}`);
}

// Bytes of a JPEG fetched in the page: what of a camera's metadata is left (names).
async function metadataLeft(page, url) {
  return page.evaluate(async (url) => {
    const r = await fetch(url);
    const b = new Uint8Array(await r.arrayBuffer());
    const text = new TextDecoder("latin1").decode(b);
    const left = [];
    if (!(b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff)) left.push("not a JPEG (" + r.status + ")");
    for (const [name, s] of [["Exif", "Exif\0\0"], ["XMP", "http://ns.adobe.com/xap"], ["make", "CheckupTestCam"],
      ["model", "InjuryCam"], ["serial", "SN-4242"], ["GPS", "GPS"], ["maker note", "MAKERNOTE"]]) {
      if (text.includes(s)) left.push(name);
    }
    // An APP1 segment (EXIF or XMP) anywhere before the image data.
    for (let i = 2; i + 3 < b.length && b[i] === 0xff && b[i + 1] !== 0xda; i += 2 + (b[i + 2] << 8 | b[i + 3])) {
      if (b[i + 1] === 0xe1) left.push("APP1 segment");
    }
    return left;
  }, url);
}

(async () => {
  const browser = await lib.launch();

  // A checkup role: 403 on the case page and on every photo API.
  const nurse = await lib.signIn(browser, box2, "N2", "1111");
  const r = await nurse.goto(box2 + "/cases");
  check(r.status() === 403, "nurse /cases: " + r.status());
  const refused = await nurse.evaluate(async (caseId) => {
    const out = {};
    out.list = (await fetch(`/api/cases/${caseId}/photos`)).status;
    out.photo = (await fetch(`/api/cases/${caseId}/photos/${caseId}`)).status;
    out.upload = (await fetch(`/api/cases/${caseId}/photos`, { method: "POST", body: "x" })).status;
    return out;
  }, caseId);
  for (const [k, s] of Object.entries(refused)) check(s === 403, `nurse ${k}: ${s}`);

  // The 係長 on box 2 opens the case (replicated from box 1): no photo yet.
  const chief = await lib.signIn(browser, box2, "L1", "2468", { width: 1024, height: 1100 });
  check(chief.url().endsWith("/cases"), "chief lands on /cases: " + chief.url());
  const row = `#cases tbody tr[data-case="${caseId}"]`;
  await chief.waitForSelector(row, { timeout: 20000 });
  await chief.click(row);
  await chief.waitForFunction(() => document.getElementById("photo-state").textContent.includes("まだ"));

  // The caseworker on box 1 opens the same case.
  const worker = await lib.signIn(browser, box1, "K1", "1357", { width: 1024, height: 1100 });
  await worker.waitForSelector(row, { timeout: 20000 });
  await worker.click(row);
  const input = await worker.$("#photo-input");
  check(input !== null, "the caseworker has the camera input");
  const attrs = await input.evaluate((i) => ({ accept: i.accept, capture: i.getAttribute("capture") }));
  check(attrs.accept === "image/*" && attrs.capture === "environment", "camera input: " + JSON.stringify(attrs));

  // Each photo: taken on box 1, shown on box 2.
  const latencies = [];
  for (let i = 0; i < photos.length; i++) {
    await worker.fill("#photo-note", `あざ ${i + 1}`);
    const t0 = await worker.evaluate(() => Date.now());
    await worker.setInputFiles("#photo-input", photos[i]);
    const shown = await chief.waitForFunction((n) => {
      const figs = document.querySelectorAll("#case-photos figure[data-loaded]");
      return figs.length >= n && Number(figs[n - 1].dataset.loaded);
    }, i + 1, { timeout: 20000 });
    const t1 = await shown.jsonValue();
    latencies.push(t1 - t0);
    await worker.waitForFunction(() => document.getElementById("photo-message").textContent.includes("保存しました"));
    // Where the time went: the upload's answer on box 1, the list's arrival on box 2.
    const answered = Number(await worker.$eval("#photo-message", (m) => m.dataset.answered));
    const added = Number(await chief.$eval(`#case-photos figure:nth-of-type(${i + 1})`, (f) => f.dataset.added));
    console.log(`photo ${i + 1}: answered ${answered - t0} ms, listed on box 2 ${added - t0} ms, loaded ${t1 - t0} ms`);
    const msg = await worker.textContent("#photo-message");
    check(msg.includes("位置情報"), "the caseworker is told the metadata went: " + msg);
  }
  console.log("photo latency ms: " + latencies.join(" "));
  const sorted = latencies.slice().sort((a, b) => a - b);
  console.log("photo latency median ms: " + sorted[Math.floor(sorted.length / 2)] + ", max ms: " + sorted[sorted.length - 1]);

  // What the supervisor sees: the caption, and a JPEG with nothing of the camera left.
  const figs = await chief.$$eval("#case-photos figure", (f) => f.map((x) => ({
    caption: x.querySelector("figcaption").textContent, src: x.querySelector("img").getAttribute("src"),
    w: x.querySelector("img").naturalWidth })));
  check(figs.length === photos.length, "photos shown: " + JSON.stringify(figs));
  check(figs[0].caption.includes("あざ 1") && figs[0].caption.includes("K1"), "caption: " + figs[0].caption);
  check(figs.every((f) => f.w > 0), "every image decoded: " + JSON.stringify(figs));
  for (const f of figs) {
    const left = await metadataLeft(chief, f.src);
    check(left.length === 0, `metadata left in ${f.src}: ${left}`);
  }
  await chief.screenshot({ path: path.join(shots, "9b-case-photos-live.png"), fullPage: true });
  await axe(chief, "case with photos, supervisor");

  // A file that is no photo: refused in Japanese; the photos stay.
  await worker.setInputFiles("#photo-input", notPhoto);
  await worker.waitForSelector("#photo-message.error", { timeout: 10000 });
  const err = await worker.textContent("#photo-message");
  check(err.includes("写真（JPEGまたはPNG）ではありません"), "refusal: " + err);
  await worker.screenshot({ path: path.join(shots, "9c-case-photo-refused.png"), fullPage: true });
  await axe(worker, "case page with a refused file, caseworker");
  const kept = await worker.evaluate(async (caseId) => (await (await fetch(`/api/cases/${caseId}/photos`)).json()).photos.length, caseId);
  check(kept === photos.length, "photos kept after the refusal: " + kept);

  // Offline: the photo form says photos are not held; the photo chosen is kept in the page
  // and the large 「もう一度送る」 button sends it once the network is back.
  const count = () => worker.evaluate(async (caseId) => (await (await fetch(`/api/cases/${caseId}/photos`)).json()).photos.length, caseId);
  await worker.context().setOffline(true);
  await worker.waitForSelector("#photo-offline", { state: "visible", timeout: 10000 });
  await worker.setInputFiles("#photo-input", photos[0]);
  await worker.waitForSelector("#photo-retry", { state: "visible", timeout: 10000 });
  check((await worker.textContent("#photo-message")).includes("オフライン"), "offline message: " + await worker.textContent("#photo-message"));
  check(await worker.$eval("#photo-input", (i) => i.value === ""), "the file input is emptied after a failed send");
  const box = await worker.$eval("#photo-retry", (b) => { const r = b.getBoundingClientRect(); return [r.width, r.height]; });
  check(box[0] >= 48 && box[1] >= 48, "Send again is a large target: " + box);
  await worker.screenshot({ path: path.join(shots, "9d-case-photo-offline.png"), fullPage: true });
  await axe(worker, "case page offline with a photo kept, caseworker");
  await worker.context().setOffline(false);
  await worker.waitForSelector("#photo-offline", { state: "hidden", timeout: 10000 });
  await worker.click("#photo-retry");
  await worker.waitForFunction(() => document.getElementById("photo-message").textContent.includes("保存しました"), null, { timeout: 20000 });
  check(await worker.isHidden("#photo-retry"), "Send again hidden once sent");
  let n = await count();
  check(n === photos.length + 1, "the photo kept after Send again: " + n);

  // The answer lost: the photo reaches the box, the page hears nothing. Send again is
  // answered with the photo already kept (its Idempotency-Key): still one photo.
  let lost = 0;
  const upload = (url) => url.pathname.endsWith("/photos");
  await worker.route(upload, async (route) => {
    if (route.request().method() === "POST" && lost === 0) {
      lost += 1;
      // The page's body is a File, which interception does not carry: the same bytes.
      const a = await route.fetch({ postData: fs.readFileSync(photos[1]) });
      check(a.status() === 201, "the photo reached the box: " + a.status());
      return route.abort("connectionreset");
    }
    return route.continue();
  });
  await worker.setInputFiles("#photo-input", photos[1]);
  await worker.waitForSelector("#photo-retry", { state: "visible", timeout: 20000 });
  check(lost === 1, "the first send was cut");
  check((await count()) === n + 1, "the box kept the photo whose answer was lost");
  await worker.click("#photo-retry");
  await worker.waitForFunction(() => document.getElementById("photo-message").textContent.includes("保存しました"), null, { timeout: 20000 });
  await worker.unroute(upload);
  n = await count();
  check(n === photos.length + 2, "sent again after a lost answer, kept once: " + n);
  console.log("send again: offline photo sent once back online; lost answer kept once");

  check(!worker.scriptError && !chief.scriptError, "script errors: " + (worker.scriptError || chief.scriptError));
  await browser.close();
  console.log("case photos complete (" + lib.axe.runs + " axe runs, child " + childName + ")");
})().catch((e) => { console.error(e); process.exit(1); });
