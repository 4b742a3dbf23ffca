// app.js — the moderator console: sign-in, the claimed queue, the spam
// folder, history and rules, decisions with a short undo window, bulk
// decisions and the keyboard. It speaks only the public API (api.md):
// /v1/whoami, /v1/queue/claim|renew|release, /v1/queue?status=spam,
// /v1/comments/{id}/decision, /v1/decisions (wave and feed), /v1/rules,
// /v1/authors/decision (trust or block a comment's author), /v1/authors
// (the commenter panel's details) and /v1/queue (which items other
// moderators hold: shown below one's own, marked, never selectable).
import { api, q, token, ApiError } from "./api.js";
import { h, clear, $, $$ } from "./dom.js";
import { t, setLang, getLang, statusWord } from "./i18n.js";
import { card } from "./card.js";
import { showHistory, showRules } from "./panels.js";

// Tunables; a test may shorten them through sessionStorage.
const knob = (name, def) => Number(sessionStorage.getItem(`raqib.${name}`)) || def;
const PAGE = knob("page", 20);            // items held at once
const LEASE = knob("lease", 300);         // seconds per claim
const UNDO_MS = knob("undoMs", 5000);     // a decision waits this long for an undo
const POLL_MS = knob("pollMs", 4000);     // how often new comments are looked for
const RENEW_MS = Math.max(1000, (LEASE * 1000) / 4);
const IDLE_MS = 10 * 60 * 1000;           // no key or click for this long: leases lapse

const state = {
  me: null, site: "default", view: "queue",
  items: new Map(), order: [], cards: new Map(), sel: null, bulk: new Set(),
  staged: null, decided: new Set(), timers: [], leaseUntil: new Map(), lastActive: Date.now(),
  held: new Map(), heldCards: new Map(),      // items other moderators hold (GET /v1/queue's held_by)
  records: new Map(), open: new Set(),        // commenters' full records, and whose details are open
};

/* ---- sign-in ------------------------------------------------------------ */

async function start() {
  setLang(localStorage.getItem("raqib.lang") || (navigator.language?.startsWith("ar") ? "ar" : "en"));
  wireStatic();
  try {
    enter(await api("GET", "/v1/whoami"));
  } catch (e) {
    showLogin(e.status === 401 ? "" : t("server_down") + e.message);
  }
}

function showLogin(message) {
  stopTimers();
  $("#app").hidden = true;
  $("#nav").hidden = true;
  $("#logout").hidden = true;
  $("#who").textContent = "";
  $("#login").hidden = false;
  $("#login-error").textContent = message || "";
  $("#token").value = "";
  $("#token").focus();
}

async function login(ev) {
  ev.preventDefault();
  const value = $("#token").value.trim();
  if (!value) return;
  try {
    const me = await api("GET", "/v1/whoami", undefined, { token: value });
    token.set(value);
    enter(me);
  } catch (e) {
    showLogin(e.status === 401 ? t("bad_token") : t("server_down") + e.message);
  }
}

function enter(me) {
  if (me.role !== "moderate" && me.role !== "admin") {
    token.clear();
    showLogin(t("low_role"));
    return;
  }
  state.me = me;
  const sites = Array.isArray(me.sites) && me.sites.length ? me.sites : ["default"];
  const saved = sessionStorage.getItem("raqib.site");
  state.site = sites.includes(saved) ? saved : sites[0];
  const select = clear($("#site"));
  for (const s of sites) select.append(h("option", { value: s, text: s, selected: s === state.site }));
  $("#site-picker").hidden = sites.length < 2;
  $("#login").hidden = true;
  $("#app").hidden = false;
  $("#nav").hidden = false;
  $("[data-view=rules]").hidden = me.role !== "admin";
  $("#logout").hidden = !!me.development;
  $("#devnote").hidden = !me.development;
  $("#who").textContent = `${me.name} · ${me.role}`;
  startTimers();
  show("queue");
}

async function logout() {
  await flushStaged();
  stopTimers();
  await api("POST", "/v1/queue/release", { site: state.site }).catch(() => {});
  token.clear();
  resetList();
  showLogin("");
}

/* ---- views ---------------------------------------------------------------- */

async function show(view) {
  if (view !== state.view) await flushStaged();
  state.view = view;
  for (const b of $$("[data-view]")) b.setAttribute("aria-current", b.dataset.view === view ? "page" : "false");
  resetList();
  const listed = view === "queue" || view === "spam";
  $("#list").hidden = !listed;
  $("#panel").hidden = listed;
  $("#lease").hidden = view !== "queue";
  announce("");
  try {
    if (view === "queue") await openQueue();
    else if (view === "spam") await openSpam();
    else if (view === "history") await showHistory($("#panel"), state.site);
    else if (view === "rules") await showRules($("#panel"), state.site);
  } catch (e) { failed(e); }
}

function resetList() {
  state.items.clear();
  state.order = [];
  state.cards.clear();
  state.bulk.clear();
  state.sel = null;
  state.leaseUntil.clear();
  state.held.clear();
  state.heldCards.clear();
  renderHeld();
  clear($("#list"));
  clear($("#panel"));
  renderBulk();
}

// Held items first (a reloaded page finds its claims again), then a claim
// tops the page up.
async function openQueue() {
  const held = await api("POST", "/v1/queue/renew", { site: state.site, lease_seconds: LEASE });
  addItems(held.items);
  await topUp(false);
  render();
  await refreshHeld();
}

// Poll: claim into the free room, then see what the others hold.
async function poll() {
  if (state.view !== "queue") return;
  await topUp(true);
  await refreshHeld();
}

// The pending items another moderator holds (GET /v1/queue says who and
// until when). One of ours that someone else now holds (our lease lapsed)
// leaves our page and is shown as theirs: marked, not silently gone.
async function refreshHeld() {
  const r = await api("GET", `/v1/queue?${q({ site: state.site, limit: 200 })}`);
  if (state.view !== "queue") return;
  const now = Date.now(), held = new Map();
  for (const it of r.items || [])
    if (it.held_by && it.held_by !== state.me.name && Date.parse(it.lease_until) > now) held.set(it.id, it);
  const lost = state.order.filter((id) => held.has(id));
  for (const id of lost) takeOut(id);
  if (lost.length) { announce(t("lost")); render(); }
  state.held = held;
  renderHeld();
}

// The "held by others" section below one's own page; its cards have no
// buttons and are not in state.order, so j/k and the decision keys skip them.
function renderHeld() {
  for (const id of [...state.heldCards.keys()]) if (!state.held.has(id)) state.heldCards.delete(id);
  for (const [id, it] of state.held)
    if (state.heldCards.get(id)?.querySelector(".held-mark")?.dataset.heldBy !== it.held_by)
      state.heldCards.set(id, card(it, "held", {}));
  $("#held-section").hidden = state.held.size === 0;
  $("#held-title").textContent = t("held_title", state.held.size);
  $("#held").replaceChildren(...state.heldCards.values());
}

// Each second: count the others' leases down; a lease that ended takes its
// mark away at once (the next poll may claim the item into our page).
function tickHeld() {
  let ended = false;
  for (const [id, it] of state.held) {
    const secs = Math.ceil((Date.parse(it.lease_until) - Date.now()) / 1000);
    if (!(secs > 0)) { state.held.delete(id); ended = true; continue; }
    const el = state.heldCards.get(id)?.querySelector(".held-secs");
    if (el) el.textContent = t("secs_left", secs);
  }
  if (ended) renderHeld();
}

async function topUp(announceNew) {
  const want = PAGE - state.order.length - (state.staged ? 1 : 0);
  if (want <= 0 || state.view !== "queue") return;
  const got = await api("POST", "/v1/queue/claim", { site: state.site, limit: want, lease_seconds: LEASE });
  if (state.view !== "queue") return;   // switched away meanwhile: the next visit's renew finds them
  const added = addItems(got.items);
  if (added && announceNew) announce(t("new_items", added));
  if (added) render();
}

async function openSpam() {
  const r = await api("GET", `/v1/queue?${q({ site: state.site, status: "spam", limit: 100 })}`);
  addItems(r.items);
  render();
}

// Add the items not shown yet at the end, in the order given (the queue
// never reorders under the moderator); returns how many.
function addItems(items) {
  let n = 0;
  for (const it of items || []) {
    if (it.lease_until) state.leaseUntil.set(it.id, Date.parse(it.lease_until));
    if (state.items.has(it.id) || state.decided.has(it.id) || state.staged?.id === it.id) continue;
    state.items.set(it.id, it);
    state.order.push(it.id);
    n++;
  }
  return n;
}

function render() {
  const list = $("#list");
  for (const id of state.order)
    if (!state.cards.has(id))
      state.cards.set(id, cardOf(state.items.get(id)));
  if (!state.order.length) {
    list.replaceChildren(h("p", { class: "empty", text: t(state.view === "spam" ? "empty_spam" : "empty_queue") }));
  } else {
    list.replaceChildren(...state.order.map((id) => state.cards.get(id)));
  }
  if (!state.sel || !state.items.has(state.sel)) state.sel = state.order[0] ?? null;
  markSelection(false);
  renderBulk();
  $("#count-queue").textContent = state.view === "queue" && state.order.length ? String(state.order.length) : "";
  $("#count-spam").textContent = state.view === "spam" && state.order.length ? String(state.order.length) : "";
  showLease();
}

const handlers = { pick: setPick, select, decide, author: markAuthor, commenter: toggleCommenter };

// A card of ours, with its commenter's record and open details when known.
function cardOf(item) {
  const hash = item.author_history?.author;
  return card(item, state.view, handlers, { record: state.records.get(hash) ?? null, open: state.open.has(hash) });
}

function markSelection(scroll) {
  for (const [id, el] of state.cards) {
    const on = id === state.sel;
    el.classList.toggle("selected", on);
    el.setAttribute("aria-selected", on ? "true" : "false");
    el.classList.toggle("picked", state.bulk.has(id));
    el.querySelector(".pick").checked = state.bulk.has(id);
    if (on && scroll) { el.scrollIntoView({ block: "nearest" }); el.focus({ preventScroll: true }); }
  }
}

function select(id) {
  state.sel = id;
  markSelection(true);
}

function move(step) {
  if (!state.order.length) return;
  const i = state.order.indexOf(state.sel);
  const next = Math.min(state.order.length - 1, Math.max(0, (i < 0 ? 0 : i + step)));
  select(state.order[next]);
}

/* ---- decisions: one at a time, with an undo window ------------------------ */

function decide(id, status) {
  const item = state.items.get(id);
  if (!item) return;
  flushStaged();
  const index = state.order.indexOf(id);
  takeOut(id);
  state.sel = state.order[Math.min(index, state.order.length - 1)] ?? null;
  render();
  markSelection(true);
  const staged = { id, status, item, index, site: state.site, view: state.view };
  staged.timer = setTimeout(() => send(staged), UNDO_MS);
  state.staged = staged;
  toast(t("decided", statusWord(status)), true);
}

function takeOut(id) {
  state.items.delete(id);
  state.order = state.order.filter((x) => x !== id);
  state.cards.delete(id);
  state.bulk.delete(id);
}

function undo() {
  const s = state.staged;
  if (!s) return;
  clearTimeout(s.timer);
  state.staged = null;
  if (s.view === state.view && s.site === state.site) putBack(s, "");
  toast("", false);
}

function putBack(s, error) {
  state.items.set(s.id, s.item);
  state.order.splice(Math.min(s.index, state.order.length), 0, s.id);
  render();
  const el = state.cards.get(s.id);
  if (el) el.querySelector(".item-error").textContent = error;
  select(s.id);
}

// Send the waiting decision now (another decision, a view switch, sign-out).
function flushStaged() {
  const s = state.staged;
  if (!s) return Promise.resolve();
  clearTimeout(s.timer);
  return send(s);
}

async function send(s, keepalive = false) {
  if (state.staged === s) state.staged = null;
  try {
    await api("POST", `/v1/comments/${encodeURIComponent(s.id)}/decision`, { site: s.site, status: s.status }, { keepalive });
    state.decided.add(s.id);
    if (!state.staged) toast(t("sent", statusWord(s.status)), false, 2500);
  } catch (e) {
    toast("", false);
    const why = e.status === 409 ? t("already", statusWord(e.body.status)) : e.message;
    if (s.view === state.view && s.site === state.site) putBack(s, t("failed") + why);
    if (e.status === 409) state.decided.add(s.id);
  }
}

/* ---- the author ------------------------------------------------------------ */

// Trust, block or clear the author of comment id; the card is redrawn with
// the record the server answers (every card of that author, in fact).
async function markAuthor(id, action) {
  try {
    const rec = await api("POST", "/v1/authors/decision", { site: state.site, comment_id: id, action });
    adoptRecord(rec);
    toast(t(action === "clear" ? "author_cleared" : action === "trust" ? "author_trusted" : "author_blocked"), false, 2500);
  } catch (e) {
    failed(e);
  }
}

// A commenter's full record from the server: every card of theirs is
// redrawn with it (counts, state, details).
function adoptRecord(rec) {
  state.records.set(rec.author, rec);
  for (const it of state.items.values()) {
    if (it.author_history?.author !== rec.author) continue;
    const { author, approved, rejected, spam, mark } = rec;
    it.author_history = { ...it.author_history, author, approved, rejected, spam, mark };
  }
  redrawAuthor(rec.author);
}

function redrawAuthor(hash) {
  for (const [id, it] of state.items) if (it.author_history?.author === hash) state.cards.delete(id);
  render();
}

// Open or close the commenter details of comment id's author; opening
// reads the record afresh (GET /v1/authors), so the counts are current.
async function toggleCommenter(id) {
  const hash = state.items.get(id)?.author_history?.author;
  if (typeof hash !== "string") return;
  if (state.open.has(hash)) { state.open.delete(hash); redrawAuthor(hash); return; }
  state.open.add(hash);
  state.records.delete(hash);          // "Loading…" until the answer
  redrawAuthor(hash);
  try {
    const rec = await api("GET", `/v1/authors?${q({ site: state.site, author: hash })}`);
    if (state.open.has(hash)) adoptRecord(rec);
  } catch (e) { failed(e); }
}

/* ---- bulk ------------------------------------------------------------------ */

function setPick(id, on) {
  if (on) state.bulk.add(id); else state.bulk.delete(id);
  markSelection(false);
  renderBulk();
}

function renderBulk() {
  $("#bulk").hidden = state.bulk.size === 0;
  $("#bulk-count").textContent = t("selected", state.bulk.size);
  for (const b of $$("[data-bulk]")) b.hidden = state.view === "spam" && b.dataset.bulk === "spam";
}

async function decideBulk(status) {
  const ids = state.order.filter((id) => state.bulk.has(id));
  if (!ids.length) return;
  await flushStaged();
  let r;
  try {
    r = await api("POST", "/v1/decisions", { site: state.site, decisions: ids.map((id) => ({ id, status })) });
  } catch (e) { failed(e); return; }
  let ok = 0, bad = 0;
  for (const res of r.results || []) {
    if (res.ok) { ok++; state.decided.add(res.id); takeOut(res.id); continue; }
    bad++;
    const el = state.cards.get(res.id);
    const why = res.error === "already_decided" ? t("already", statusWord(res.status)) : res.error;
    if (el) el.querySelector(".item-error").textContent = t("failed") + why;
  }
  render();
  toast(t("bulk_done", ok, bad), false, 4000);
}

/* ---- leases, polling, renewal ---------------------------------------------- */

function startTimers() {
  stopTimers();
  state.timers.push(setInterval(() => poll().catch(() => {}), POLL_MS));
  state.timers.push(setInterval(renew, RENEW_MS));
  state.timers.push(setInterval(() => { showLease(); tickHeld(); }, 1000));
}

function stopTimers() {
  for (const id of state.timers) clearInterval(id);
  state.timers = [];
}

// Renew while the moderator works; an item whose claim ended elsewhere goes.
async function renew() {
  if (state.view !== "queue" || Date.now() - state.lastActive > IDLE_MS) return;
  let r;
  try { r = await api("POST", "/v1/queue/renew", { site: state.site, lease_seconds: LEASE }); } catch { return; }
  if (state.view !== "queue") return;
  const held = new Set((r.items || []).map((it) => it.id));
  for (const it of r.items || []) state.leaseUntil.set(it.id, Date.parse(it.lease_until));
  const lost = state.order.filter((id) => !held.has(id) && !state.decided.has(id));
  for (const id of lost) takeOut(id);
  if (lost.length) { announce(t("lost")); render(); }
}

function showLease() {
  const el = $("#lease");
  const ends = state.order.map((id) => state.leaseUntil.get(id)).filter(Number.isFinite);
  if (!ends.length) { el.textContent = t("claim_none"); el.classList.remove("short"); return; }
  const secs = Math.max(0, Math.round((Math.min(...ends) - Date.now()) / 1000));
  el.textContent = `${t("claim_ends")} ${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, "0")}`;
  el.classList.toggle("short", secs < 60);
}

/* ---- messages ------------------------------------------------------------- */

let toastTimer = null;
function toast(text, withUndo, ms = UNDO_MS) {
  clearTimeout(toastTimer);
  $("#toast-text").textContent = text;
  $("#undo").hidden = !withUndo;
  $("#toast").hidden = !text;
  if (text) toastTimer = setTimeout(() => { $("#toast").hidden = true; }, ms);
}

function announce(text) { $("#announce").textContent = text; }

function failed(e) {
  if (e instanceof ApiError && e.status === 401) { token.clear(); showLogin(t("bad_token")); return; }
  announce(t("server_down") + e.message);
}

/* ---- keyboard ---------------------------------------------------------------- */

const KEYS = [["j", "key_j"], ["k", "key_k"], ["a", "key_a"], ["r", "key_r"], ["s", "key_s"], ["x", "key_x"],
  ["z", "key_z"], ["c", "key_c"], ["?", "key_help"], ["Esc", "key_esc"], ["🖱", "key_click"]];

function onKey(e) {
  state.lastActive = Date.now();
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === "Escape") { state.bulk.clear(); markSelection(false); renderBulk(); return; }
  if (e.target.closest?.("input, textarea, select, [contenteditable]") || $("#help").open || $("#app").hidden) return;
  const listed = state.view === "queue" || state.view === "spam";
  const act = { a: "approved", r: "rejected", s: state.view === "queue" ? "spam" : null };
  if (e.key === "?") { openHelp(); }
  else if (!listed) return;
  else if (e.key === "j") move(1);
  else if (e.key === "k") move(-1);
  else if (e.key in act && act[e.key] && state.sel) decide(state.sel, act[e.key]);
  else if (e.key === "x" && state.sel) setPick(state.sel, !state.bulk.has(state.sel));
  else if (e.key === "c" && state.sel) toggleCommenter(state.sel);
  else if (e.key === "z") undo();
  else return;
  e.preventDefault();
}

function openHelp() {
  const dl = clear($("#keylist"));
  for (const [k, word] of KEYS) dl.append(h("dt", {}, h("kbd", { text: k })), h("dd", { text: t(word) }));
  $("#help").showModal();
}

/* ---- wiring ------------------------------------------------------------------- */

function wireStatic() {
  $("#login-form").addEventListener("submit", login);
  $("#logout").addEventListener("click", logout);
  $("#undo").addEventListener("click", undo);
  $("#help-btn").addEventListener("click", openHelp);
  $("#help-close").addEventListener("click", () => $("#help").close());
  $("#bulk-clear").addEventListener("click", () => { state.bulk.clear(); markSelection(false); renderBulk(); });
  for (const b of $$("[data-bulk]")) b.addEventListener("click", () => decideBulk(b.dataset.bulk));
  for (const b of $$("[data-view]")) b.addEventListener("click", () => show(b.dataset.view));
  $("#site").addEventListener("change", async (e) => {
    await flushStaged();
    await api("POST", "/v1/queue/release", { site: state.site }).catch(() => {});
    state.site = e.target.value;
    sessionStorage.setItem("raqib.site", state.site);
    show(state.view);
  });
  $("#lang").addEventListener("click", () => {
    setLang(getLang() === "ar" ? "en" : "ar");
    localStorage.setItem("raqib.lang", getLang());
    toast("", false);
    state.cards.clear();
    state.heldCards.clear();
    renderHeld();
    if (state.me && !$("#app").hidden) {
      if (state.view === "queue" || state.view === "spam") render();
      else show(state.view);
    }
  });
  document.addEventListener("keydown", onKey);
  document.addEventListener("pointerdown", () => { state.lastActive = Date.now(); });
  // Leaving the page sends a waiting decision rather than dropping it.
  window.addEventListener("pagehide", () => {
    const s = state.staged;
    if (s) { clearTimeout(s.timer); send(s, true); }
  });
}

start();
