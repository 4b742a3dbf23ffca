// console.js — drive the moderator console in headless Chromium (Debian's
// chromium through puppeteer-core) against the real raqibd that
// tests/browser/console.t started, and check each result through the API.
// Prints one JSON line per check: {"name","ok","diag"}; console.t turns them
// into TAP. Env: RAQIB_BASE, RAQIB_DEV_BASE, TOKENS (JSON), RULES_DIR, OUT.
"use strict";
const puppeteer = require("puppeteer-core");
const fs = require("fs");
const path = require("path");

const BASE = process.env.RAQIB_BASE;
const DEV = process.env.RAQIB_DEV_BASE;
const TOK = JSON.parse(process.env.TOKENS);
const OUT = process.env.OUT;
const UNDO_MS = 600, POLL_MS = 700, PAGE = 4;

function check(name, ok, diag) {
  console.log(JSON.stringify({ name, ok: !!ok, diag: ok ? undefined : diag === undefined ? null : diag }));
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function call(method, p, body, who = "backend") {
  const res = await fetch(BASE + p, {
    method, headers: { Authorization: `Bearer ${TOK[who]}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}
async function post(content, extra = {}) {
  const r = await call("POST", "/v1/comments", { post_id: extra.post_id ?? 7, author: extra.author ?? "Reader",
    email: "reader@example.com", content, ...extra });
  if (r.status !== 202) throw new Error(`seed failed: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}
const statusOf = async (id) => (await call("GET", `/v1/comments/${id}`, undefined, "boss")).json;
async function until(what, fn, ms = 8000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) { last = await fn(); if (last) return last; await sleep(100); }
  return last;
}

// A console in its own browser context (its own sessionStorage), tuned for
// the test: short undo window and poll, a page of PAGE items.
async function openConsole(browser, base = BASE) {
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  const dialogs = [], errors = [];
  page.on("dialog", async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  page.on("pageerror", (e) => errors.push(String(e)));
  // 401s of a wrong token show as "Failed to load resource": expected here.
  page.on("console", (m) => { if (m.type() === "error" && !/Failed to load resource/.test(m.text())) errors.push(m.text()); });
  await page.evaluateOnNewDocument((u, p, n) => {
    sessionStorage.setItem("raqib.undoMs", u); sessionStorage.setItem("raqib.pollMs", p); sessionStorage.setItem("raqib.page", n);
  }, String(UNDO_MS), String(POLL_MS), String(PAGE));
  await page.setViewport({ width: 1100, height: 900 });
  await page.goto(base + "/console/", { waitUntil: "networkidle0" });
  return { ctx, page, dialogs, errors };
}
async function login(page, t) {
  await page.waitForSelector("input[type=password]", { visible: true });
  await page.type("input[type=password]", t);
  await page.keyboard.press("Enter");
}
const ids = (page) => page.$$eval("#list [data-comment-id]", (els) => els.map((e) => e.dataset.commentId));
const selectedId = (page) => page.$eval("#list [aria-selected=true]", (e) => e.dataset.commentId).catch(() => null);

async function main() {
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--font-render-hinting=none"],
  });
  try { await run(browser); } finally { await browser.close(); }
}

async function run(browser) {
  // Seeds: an Arabic insult (held, with reasons), hostile markup, English.
  const xss = '<img src=x onerror="alert(\'img\')"><script>alert("script")</script> please read';
  const ar = await post("أنت غبي جدا ولا تفهم شيئا", { author: "سالم" });
  const evil = await post(xss, { author: '<b onmouseover="alert(1)">Eve</b>', url: "https://evil.example/x?a=<b>" });
  const en = [];
  for (let i = 1; i <= 6; i++) en.push(await post(`English comment number ${i}, about the budget`, { author: `Reader ${i}` }));
  const spam = await post("شيخ روحاني لجلب الحبيب واتساب 00966551234567", { author: "Spammer" });
  const pest = await post("شيخ روحاني لجلب الحبيب واتساب 00966551234568", { author: "Pest", email: "pest@example.com" });
  check("seeded: the Arabic insult is held with reasons, the sorcery ad is spam",
    ar.status === "pending" && ar.matches.length > 0 && spam.status === "spam", { ar, spam });

  // The admin holds every pending comment for a few seconds: layla's
  // console must show them as held by boss, counting down, none hers.
  const bossHeld = (await call("POST", "/v1/queue/claim", { limit: 50, lease_seconds: 4 }, "boss")).json.items.map((i) => i.id);
  const bossUntil = Date.now() + 4000;

  // --- a moderator signs in --------------------------------------------------
  const A = await openConsole(browser);
  check("login form: a password field", await A.page.$("input[type=password]"));
  await login(A.page, TOK.layla);
  await A.page.waitForSelector("#held .held-mark", { timeout: 3000 }).catch(() => null);
  const heldView = await A.page.evaluate(() => ({
    ids: [...document.querySelectorAll("#held [data-comment-id]")].map((e) => e.dataset.commentId),
    by: [...document.querySelectorAll("#held .held-mark")].map((e) => e.dataset.heldBy),
    text: document.querySelector("#held .held-mark")?.textContent ?? "", mine: document.querySelectorAll("#list [data-comment-id]").length,
    buttons: document.querySelectorAll("#held button, #held input").length, title: document.querySelector("#held-title").textContent,
  }));
  const secsShown = Number((/(\d+) s left/.exec(heldView.text) || [])[1]);
  check("items another moderator holds are listed, marked 'held by boss, N s left'",
    Date.now() < bossUntil && bossHeld.length >= PAGE && bossHeld.every((id) => heldView.ids.includes(id)) &&
    heldView.by.every((b) => b === "boss") && heldView.text.includes("held by boss") && secsShown >= 1 && secsShown <= 4 &&
    heldView.title.includes(String(bossHeld.length)), { bossHeld, heldView });
  check("held items have no decision buttons and are not in one's own page", heldView.buttons === 0 && heldView.mine === 0, heldView);
  await A.page.keyboard.press("j");
  await A.page.keyboard.press("a");
  check("j and a do nothing to a held item", (await selectedId(A.page)) === null &&
    (await statusOf(bossHeld[0])).status === "pending", await selectedId(A.page));
  await A.page.waitForSelector("#list [data-comment-id]", { timeout: 10000 });
  const freed = await until("marks gone", async () =>
    (await A.page.$$eval("#held .held-mark", (els) => els.length)) === 0 && (await A.page.$eval("#held-section", (e) => e.hidden)));
  check("when the lease ends the marks go and the console claims the items", freed && Date.now() >= bossUntil);
  const aIds = await ids(A.page);
  check(`queue shows ${PAGE} claimed comments`, aIds.length === PAGE, aIds);
  check("token only in sessionStorage: not in the URL, no cookie",
    !A.page.url().includes(TOK.layla) && (await A.page.evaluate(() => document.cookie)) === "" &&
    (await A.page.evaluate(() => sessionStorage.getItem("raqib.token"))) === TOK.layla, A.page.url());
  check("who: the moderator's name", (await A.page.$eval("#who", (e) => e.textContent)).includes("layla"));
  check("moderate role: no rules view", await A.page.$eval("[data-view=rules]", (e) => e.hidden));

  const card = (id) => `#list [data-comment-id="${id}"]`;
  const arCard = await A.page.$(card(ar.id));
  check("the Arabic comment is in the first page", arCard, aIds);
  const reasons = await A.page.$$eval(`${card(ar.id)} .reason`, (els) => els.map((e) => e.textContent));
  check("its card lists every matched rule with its description",
    reasons.length === ar.matches.length && ar.matches.every((m, i) => reasons[i].includes(m.rule) && reasons[i].includes(m.description)),
    reasons);
  const marks = await A.page.$$eval(`${card(ar.id)} .content mark`, (els) => els.map((e) => e.textContent));
  check("the matched words are highlighted", marks.some((m) => m.includes("غبي")), marks);
  const dir = await A.page.$eval(`${card(ar.id)} .content`, (e) => [e.getAttribute("dir"), getComputedStyle(e).direction]);
  check("Arabic text: dir=auto computes direction rtl", dir[0] === "auto" && dir[1] === "rtl", dir);
  const enCard = aIds.find((id) => en.some((c) => c.id === id));
  const enDir = await A.page.$eval(`${card(enCard)} .content`, (e) => getComputedStyle(e).direction);
  check("English text computes direction ltr", enDir === "ltr", enDir);

  // --- hostile markup stays text ----------------------------------------------
  const evilCard = await A.page.$(card(evil.id));
  check("the hostile comment is shown", evilCard, aIds);
  const shown = await A.page.$eval(`${card(evil.id)}`, (e) => ({
    text: e.querySelector(".content").textContent, author: e.querySelector(".author").textContent,
    elements: e.querySelectorAll(".content img, .content script, .author b, img, script").length,
    links: e.querySelectorAll("a").length,
  }));
  check("<img onerror> and <script> shown as text", shown.text.includes("<img src=x onerror=") && shown.text.includes("<script>alert"), shown);
  check("the author's markup is text too", shown.author === '<b onmouseover="alert(1)">Eve</b>', shown);
  check("no element was made from them, and the URL is not a link", shown.elements === 0 && shown.links === 0, shown);
  await A.page.hover(`${card(evil.id)} .author`);
  await sleep(300);
  check("nothing ran: no dialog, no page error", A.dialogs.length === 0 && A.errors.length === 0, { dialogs: A.dialogs, errors: A.errors });
  // Positive control: the same markup through innerHTML on a page without our
  // CSP does fire, so the detector above would have seen it.
  const ctl = await browser.newPage();
  const fired = [];
  ctl.on("dialog", async (d) => { fired.push(d.message()); await d.dismiss(); });
  await ctl.goto("about:blank");
  await ctl.evaluate((s) => { document.body.innerHTML = s; }, xss);
  await until("control dialog", async () => fired.length > 0, 3000);
  check("positive control: the same markup via innerHTML fires", fired.includes("img"), fired);
  await ctl.close();

  // --- decide by button, by key; undo -------------------------------------------
  await A.page.click(`${card(enCard)} [data-action=approved]`);
  const byButton = await until("approved", async () => (await statusOf(enCard)).status === "approved" && (await statusOf(enCard)));
  check("decided by button: approved, by layla, through the API", byButton && byButton.decided_by === "layla", byButton);

  await A.page.click(`${card(ar.id)} .content`);
  check("click selects the comment", (await selectedId(A.page)) === ar.id);
  await A.page.keyboard.press("r");
  const byKey = await until("rejected", async () => (await statusOf(ar.id)).status === "rejected" && (await statusOf(ar.id)));
  check("decided by key r: rejected", byKey && byKey.decided_by === "layla", byKey);

  await A.page.waitForSelector(card(evil.id));
  await A.page.click(`${card(evil.id)} .meta time`);
  await A.page.keyboard.press("s");
  await A.page.keyboard.press("z");
  await sleep(UNDO_MS + 500);
  check("undo (z) within the window: the comment is back and nothing was sent",
    (await A.page.$(card(evil.id))) && (await statusOf(evil.id)).status === "pending", await statusOf(evil.id));
  const order = await ids(A.page);
  await A.page.click(`${card(order[0])} .content`);
  await A.page.keyboard.press("j");
  const afterJ = await selectedId(A.page);
  await A.page.keyboard.press("k");
  check("j moves down, k moves up", afterJ === order[1] && (await selectedId(A.page)) === order[0], { order, afterJ });
  await A.page.keyboard.press("?");
  check("? lists the keys", await A.page.$eval("#help", (d) => d.open && d.textContent.includes("approve")));
  await A.page.keyboard.press("Escape");

  // --- a second moderator never sees the same claimed item ------------------------
  const B = await openConsole(browser);
  await login(B.page, TOK.omar);
  await B.page.waitForSelector("#list [data-comment-id]", { timeout: 8000 });
  const aNow = await until("A tops up", async () => { const x = await ids(A.page); return x.length === PAGE && x; });
  const bNow = await ids(B.page);
  check("two moderators in two contexts hold disjoint items",
    aNow && bNow.length > 0 && !bNow.some((id) => aNow.includes(id)), { a: aNow, b: bNow });
  const bHeld = await until("B sees layla's", async () => {
    const m = await B.page.$$eval("#held .held-mark", (els) => els.map((e) => [e.closest("[data-comment-id]").dataset.commentId, e.dataset.heldBy]));
    return aNow.every((id) => m.some(([x, by]) => x === id && by === "layla")) && m;
  });
  check("the second moderator sees the first one's items marked 'held by layla'", bHeld, bHeld);
  const visits = [];
  await B.page.click(`${card(bNow[0])} .content`);
  for (let i = 0; i < bNow.length + 2; i++) { visits.push(await selectedId(B.page)); await B.page.keyboard.press(i % 3 === 2 ? "k" : "j"); }
  const bOwn = await ids(B.page), bHeldIds = await B.page.$$eval("#held [data-comment-id]", (els) => els.map((e) => e.dataset.commentId));
  check("j/k never land on an item another moderator holds", bHeldIds.length >= PAGE &&
    visits.every((id) => bOwn.includes(id) && !bHeldIds.includes(id)) && !(await B.page.$("#held [aria-selected=true]")),
    { visits, bOwn, bHeldIds });

  // --- a new comment appears without a reload ------------------------------------------
  await B.page.click(`${card(bNow[0])} [data-action=approved]`);    // make room in B
  await sleep(UNDO_MS + 200);
  const fresh = await post("A brand new comment, posted after both signed in", { author: "Latecomer" });
  const seen = await until("new comment", async () =>
    ((await A.page.$(card(fresh.id))) || (await B.page.$(card(fresh.id)))) ? true : false, 10000);
  check("a comment posted after login appears in one console without reload", seen);
  check("and its arrival is announced", (await A.page.$eval("#announce", (e) => e.textContent)) + (await B.page.$eval("#announce", (e) => e.textContent)) !== "");

  // --- bulk, with a per-item failure --------------------------------------------------------
  const bulkIds = (await ids(A.page)).slice(0, 3);
  for (const id of bulkIds) {
    await A.page.click(`${card(id)} .content`);
    await A.page.keyboard.press("x");
  }
  check("x puts three in the bulk selection", (await A.page.$eval("#bulk-count", (e) => e.textContent)).includes("3"));
  await call("POST", `/v1/comments/${bulkIds[2]}/decision`, { status: "approved" }, "omar");   // decided elsewhere meanwhile
  await A.page.click("[data-bulk=rejected]");
  const bulkDone = await until("bulk", async () => {
    const s = await Promise.all(bulkIds.slice(0, 2).map(statusOf));
    return s.every((c) => c.status === "rejected") && s;
  });
  check("bulk: one POST /v1/decisions decided the others", bulkDone, bulkDone);
  const failNote = await until("failure shown", async () =>
    A.page.$eval(`${card(bulkIds[2])} .item-error`, (e) => e.textContent).catch(() => ""), 3000);
  check("bulk: the item that failed stays, with why", /already|omar|approved/.test(failNote || ""), failNote);

  // --- the commenter panel: fresh counts on demand -----------------------------------------------
  const readerHash = (await call("GET", `/v1/authors?comment_id=${en[0].id}`, undefined, "layla")).json.author;
  const readerCard = await until("a reader card", async () => A.page.$eval(`#list .commenter[data-author="${readerHash}"]`,
    (e) => e.closest("[data-comment-id]").dataset.commentId).catch(() => null));
  await A.page.click(`${card(readerCard)} .content`);
  await A.page.keyboard.press("c");
  await A.page.waitForSelector(`${card(readerCard)} .commenter-more .last-decided time`, { timeout: 5000 }).catch(() => null);
  const panel = await A.page.$eval(`${card(readerCard)} .commenter`, (e) => ({
    counts: Object.fromEntries([...e.querySelectorAll("[data-count]")].map((p) => [p.dataset.count, Number(p.textContent.replace(/\D+/g, ""))])),
    state: e.querySelector("[data-state]").dataset.state, more: e.querySelector(".commenter-more")?.textContent ?? "" }));
  const readerRec = (await call("GET", `/v1/authors?author=${readerHash}`, undefined, "layla")).json;
  check("commenter panel (key c): this commenter's counts as the API has them now, not when claimed",
    readerRec.approved + readerRec.rejected >= 3 && panel.counts.approved === readerRec.approved &&
    panel.counts.rejected === readerRec.rejected && panel.counts.spam === readerRec.spam && panel.state === "none" &&
    /Last decided/.test(panel.more), { panel, readerRec });

  // --- spam folder rescue ------------------------------------------------------------------------
  await A.page.click("[data-view=spam]");
  await A.page.waitForSelector(card(spam.id), { timeout: 5000 });
  await A.page.click(`${card(spam.id)} [data-action=approved]`);
  const rescued = await until("rescued", async () => (await statusOf(spam.id)).status === "approved" && (await statusOf(spam.id)));
  check("spam folder: a false positive rescued (approved)", rescued && rescued.decided_by === "layla", rescued);

  // --- the author: block and unblock from the card ---------------------------------------------------
  const mark = async () => (await call("GET", `/v1/authors?comment_id=${pest.id}`, undefined, "layla")).json?.mark ?? null;
  await A.page.waitForSelector(`${card(pest.id)} [data-author-action=block]`, { timeout: 5000 });
  await A.page.click(`${card(pest.id)} [data-author-action=block]`);
  const blocked = await until("blocked", async () => (await mark()) === "blocked");
  const pill = await until("pill", async () => A.page.$(`${card(pest.id)} [data-mark=blocked]`));
  check("block from the card: the author is blocked through the API, and the card says so", blocked && pill, await mark());
  await A.page.click(`${card(pest.id)} [data-author-action=clear]`);
  const cleared = await until("cleared", async () => (await mark()) === null && (await A.page.$(`${card(pest.id)} [data-author-action=block]`)));
  check("unblock from the card: the mark is cleared", cleared, await mark());
  // Another moderator blocks Pest with a hostile reason: the details say who and why, as text.
  const why = '<img src=x onerror="alert(\'reason\')"> spam links';
  await call("POST", "/v1/authors/decision", { site: "default", comment_id: pest.id, action: "block", reason: why }, "omar");
  await A.page.click(`${card(pest.id)} .commenter-toggle`);
  await A.page.waitForSelector(`${card(pest.id)} .commenter-more .marked-by`, { timeout: 5000 }).catch(() => null);
  const pestPanel = await A.page.$eval(`${card(pest.id)} .commenter`, (e) => ({
    state: e.querySelector("[data-state]").dataset.state, by: e.querySelector(".marked-by .by")?.textContent,
    reason: e.querySelector(".marked-by q")?.textContent, imgs: e.querySelectorAll("img").length }));
  check("commenter details: blocked, by omar, with the reason shown as text", pestPanel.state === "blocked" &&
    pestPanel.by === "omar" && pestPanel.reason === why && pestPanel.imgs === 0 && A.dialogs.length === 0, pestPanel);
  await call("POST", "/v1/authors/decision", { site: "default", comment_id: pest.id, action: "clear" }, "omar");

  // --- history -------------------------------------------------------------------------------------
  await A.page.click("[data-view=history]");
  await A.page.waitForSelector(`.history [data-comment-id="${spam.id}"]`, { timeout: 5000 });
  const hist = await A.page.$eval(`.history [data-comment-id="${ar.id}"]`, (e) => e.textContent).catch(() => "");
  check("history: recent decisions with who decided", hist.includes("layla"), hist);

  // --- Arabic UI, screenshot (a few more Arabic comments first) -----------------------
  await post("كلام فارغ يا حمار، ارجع إلى مدرستك", { author: "أبو خالد", post_id: 12 });
  await post("مقال رائع، شكرا على التحليل الدقيق للميزانية", { author: "ليلى", post_id: 12 });
  await post("Thanks for the translation, very clear.", { author: "Sam", post_id: 12 });
  await A.page.click("[data-view=queue]");
  await A.page.waitForSelector("#list [data-comment-id]");
  await A.page.click("#lang");
  await A.page.waitForFunction(() => document.documentElement.dir === "rtl");
  const rtl = await A.page.evaluate(() => [document.documentElement.lang, getComputedStyle(document.body).direction,
    document.querySelector("[data-view=queue]").textContent]);
  check("Arabic UI: the whole page is right to left", rtl[0] === "ar" && rtl[1] === "rtl" && rtl[2].includes("قائمة"), rtl);
  const enInAr = await A.page.$$eval("#list .content", (els) => els.map((e) => getComputedStyle(e).direction));
  check("English comments still read left to right inside it", enInAr.includes("ltr"), enInAr);
  const insult = await A.page.$$eval("#list [data-comment-id]", (els) =>
    (els.find((e) => e.querySelector("mark")) || els[0]).dataset.commentId);
  await A.page.click(`${card(insult)} .content`);
  await sleep(1200);   // the lease countdown ticks once
  fs.mkdirSync(OUT, { recursive: true });
  await A.page.screenshot({ path: path.join(OUT, "console-queue-ar.png") });
  check("screenshot saved", fs.statSync(path.join(OUT, "console-queue-ar.png")).size > 10000);

  // --- sign-out releases the claims ---------------------------------------------------------------
  const layla = async () => B.page.$$eval(".held-mark[data-held-by=layla]", (els) => els.length);
  const beforeOut = await until("B sees layla's", layla);
  await A.page.click("#logout");
  await A.page.waitForSelector("input[type=password]", { visible: true });
  const held = await call("POST", "/v1/queue/renew", { lease_seconds: 60 }, "layla");
  check("sign-out: the token is gone and the claims are released",
    (await A.page.evaluate(() => sessionStorage.getItem("raqib.token"))) === null && held.json.items.length === 0, held.json);
  const afterOut = await until("marks gone", async () => (await layla()) === 0);
  check("released: the other console's 'held by layla' marks go", beforeOut > 0 && afterOut, { beforeOut });

  // --- a submit token may not moderate -----------------------------------------------------------
  await login(A.page, TOK.backend);
  await A.page.waitForFunction(() => document.querySelector("#login-error").textContent !== "");
  check("a submit-role token is refused by the console", await A.page.$eval("#app", (e) => e.hidden));
  await A.page.type("input[type=password]", "wrong-token");
  await A.page.keyboard.press("Enter");
  await sleep(300);
  check("a wrong token is refused", await A.page.$eval("#app", (e) => e.hidden));

  // --- admin: rules and reload ----------------------------------------------------------------------
  const C = await openConsole(browser);
  await login(C.page, TOK.boss);
  await C.page.waitForSelector("[data-view=rules]:not([hidden])", { timeout: 5000 });
  await C.page.click("[data-view=rules]");
  await C.page.waitForSelector("table.rules [data-rule=AR_INSULT_WORDS]", { timeout: 5000 });
  const row = await C.page.$eval("table.rules [data-rule=AR_INSULT_WORDS]", (e) => ({
    hits: Number(e.querySelector(".hits").textContent), precision: e.querySelector(".precision").textContent }));
  check("rules: live hits and moderators' precision", row.hits >= 1 && row.precision === "100%", row);
  const broken = path.join(process.env.RULES_DIR, "zz-broken.rules");
  fs.writeFileSync(broken, "rule BROKEN\n  match content /(unclosed/\n  score 1\n");
  await C.page.click("#reload");
  await C.page.waitForSelector(".reload-result.error", { timeout: 5000 });
  const err = await C.page.$eval(".reload-result", (e) => e.textContent);
  check("reload shows file:line of a broken rule file", /zz-broken\.rules:\d+/.test(err), err);
  fs.unlinkSync(broken);
  await C.page.click("#reload");
  await C.page.waitForSelector(".reload-result.ok", { timeout: 5000 });
  check("reload of good rules says so", true);
  check("the site picker is offered when several sites are configured",
    await C.page.$eval("#site-picker", (e) => !e.hidden && e.querySelectorAll("option").length === 2));

  // --- development mode: no login -------------------------------------------------------------------
  const D = await openConsole(browser, DEV);
  await D.page.waitForSelector("#app:not([hidden])", { timeout: 5000 });
  check("development mode opens without a login", await D.page.$eval("#login", (e) => e.hidden));

  check("no page errors in any console", [A, B, C, D].every((x) => x.errors.length === 0),
    [A, B, C, D].map((x) => x.errors));
}

main().catch((e) => { check("the driver finished", false, String(e.stack || e)); process.exit(1); });
