// card.js — one comment as a card: who wrote it where and when, its score,
// its text (dir="auto", matched words marked), every rule that hit it with
// the rule's description, the commenter panel when the item carries the
// author's history (counts, trusted/blocked, trust/block, details), and the
// decision buttons. A card of an item another moderator holds ("held")
// says who and for how long, and has no buttons. Everything untrusted goes
// in as text (dom.js).
import { h } from "./dom.js";
import { highlighted } from "./highlight.js";
import { t, ago } from "./i18n.js";

// The author's counts {approved, rejected, spam}, when the item carries
// them (commenter reputation); in any of the shapes it may come in.
function authorCounts(item) {
  for (const c of [item.author_counts, item.author_history, item.reputation?.counts, item.reputation,
    typeof item.author === "object" ? item.author : null]) {
    if (c && typeof c === "object" && ["approved", "rejected", "spam"].some((k) => Number.isFinite(c[k]))) return c;
  }
  return null;
}

// Trust / block (or clear a mark) for an author known by a hash: the
// server names the author by this comment's id, never by e-mail.
function authorActions(item, c, on) {
  if (!on.author || typeof c.author !== "string") return [];
  const acts = c.mark ? [["clear", c.mark === "trusted" ? "untrust" : "unblock"]] : [["trust", "trust"], ["block", "block"]];
  return acts.map(([action, word]) => h("button", { type: "button", class: `author-act ${action}`, dataset: { authorAction: action },
    onclick: (e) => { e.stopPropagation(); on.author(item.id, action); } }, t(word)));
}

// The full record's details (GET /v1/authors): when moderators last
// decided on this commenter, and who marked them, when and why. Every
// value is the server's or a moderator's text: inserted as text only.
function commenterMore(rec) {
  if (!rec) return [h("p", { class: "muted", text: t("loading") })];
  const m = rec.marked && typeof rec.marked === "object" ? rec.marked : null;
  return [
    h("p", { class: "last-decided" }, `${t("last_decided")} `, rec.last_decided_at
      ? h("time", { datetime: rec.last_decided_at, title: rec.last_decided_at, text: ago(rec.last_decided_at) })
      : t("no_decisions")),
    m ? h("p", { class: "marked-by" }, `${t(m.mark === "trusted" ? "trusted" : "blocked")} · ${t("marked_by")} `,
      h("bdi", { class: "by", text: m.by ?? "" }), " ",
      m.at ? h("time", { datetime: m.at, title: m.at, text: ago(m.at) }) : null,
      m.reason ? h("span", { class: "why" }, ` — ${t("reason")}: `, h("q", { dir: "auto", text: m.reason })) : null) : null,
  ];
}

// The commenter panel: this commenter's counts on this site (approved,
// rejected, spam), their trusted/blocked state, trust/block, and a
// Details toggle that loads the full record (on.commenter). rec is that
// record once loaded (app.js keeps it), open whether the details show.
export function commenter(item, on, rec = null, open = false) {
  const c = rec ? { ...authorCounts(item), ...rec } : authorCounts(item);
  if (!c) return null;
  const state = c.mark === "trusted" || c.mark === "blocked" ? c.mark : null;
  const known = typeof c.author === "string";
  return h("section", { class: "commenter author-history", dataset: { author: known ? c.author : "" }, "aria-label": t("commenter") },
    h("div", { class: "commenter-head" },
      h("span", { class: "label", text: t("commenter") }),
      h("span", { class: `pill state ${state ?? "none"}`, dataset: { state: state ?? "none", ...(state ? { mark: state } : {}) },
        text: state ? t(state) : t("unmarked") }),
      ...["approved", "rejected", "spam"].map((k) =>
        h("span", { class: `pill ${k}`, dataset: { count: k }, text: `${t(k === "spam" ? "spam_s" : k)} ${c[k] ?? 0}` })),
      ...authorActions(item, c, on),
      known && on.commenter ? h("button", { type: "button", class: "ghost commenter-toggle", "aria-expanded": open ? "true" : "false",
        onclick: (e) => { e.stopPropagation(); on.commenter(item.id); } }, t(open ? "hide_details" : "details"), h("kbd", { text: "c" })) : null),
    open ? h("div", { class: "commenter-more" }, ...commenterMore(rec)) : null);
}

// "held by NAME · N s left": an item another moderator has claimed.
function heldMark(item) {
  const secs = Math.max(0, Math.ceil((Date.parse(item.lease_until) - Date.now()) / 1000));
  return h("span", { class: "pill held-mark", dataset: { heldBy: item.held_by } },
    `${t("held_by")} `, h("bdi", { class: "holder", text: item.held_by }), " · ",
    h("span", { class: "held-secs", dir: "ltr", text: t("secs_left", Number.isFinite(secs) ? secs : 0) }));
}

function reasons(matches) {
  if (!matches.length) return h("p", { class: "reasons none", text: t("no_rule") });
  return h("ul", { class: "reasons", "aria-label": t("why") },
    ...matches.map((m) => h("li", { class: "reason" },
      h("code", { class: "rule", dir: "ltr", text: m.rule }),
      h("span", { class: "rule-score", dir: "ltr", text: `${m.score > 0 ? "+" : ""}${m.score}` }),
      h("span", { class: "rule-desc", dir: "auto", text: m.description || "" }),
      m.matched ? h("span", { class: "rule-matched" }, `${t("matched")} `, h("q", { dir: "auto", text: m.matched })) : null,
      m.field && m.field !== "content" ? h("span", { class: "rule-field", text: `${t("field")} ${m.field}` }) : null)));
}

function scoreClass(score) {
  return score >= 5 ? "high" : score > 0 ? "mid" : "low";
}

const ACTIONS = {
  queue: [["approved", "approve", "a"], ["rejected", "reject", "r"], ["spam", "mark_spam", "s"]],
  spam: [["approved", "not_spam", "a"], ["rejected", "reject", "r"]],
};

// The card; on.pick(id, checked), on.select(id), on.decide(id, status)
// and on.author(id, action) are the console's handlers.
export function card(item, view, on, extra = {}) {
  const matches = Array.isArray(item.matches) ? item.matches : [];
  const needles = matches.map((m) => m.matched).filter((s) => typeof s === "string" && s);
  const held = view === "held";
  const el = h("article", { class: held ? "item held" : "item", role: "listitem", tabindex: "-1",
    "aria-disabled": held ? "true" : null, dataset: { commentId: item.id } },
    h("header", { class: "meta" },
      held ? heldMark(item)
        : h("input", { type: "checkbox", class: "pick", "aria-label": "bulk", onchange: (e) => on.pick(item.id, e.target.checked) }),
      h("bdi", { class: "author", text: item.author ?? "" }),
      item.url ? h("span", { class: "url", dir: "ltr", title: t("url"), text: item.url }) : null,
      item.email ? h("span", { class: "email", dir: "ltr", title: t("email"), text: item.email }) : null,
      item.ip ? h("span", { class: "ip", dir: "ltr", title: t("ip"), text: item.ip }) : null,
      h("span", { class: "post" }, `${t("post")} `, h("bdi", { text: item.post_id ?? "" })),
      h("time", { datetime: item.created_at, title: item.created_at, text: ago(item.created_at) }),
      h("span", { class: `score ${scoreClass(item.score)}`, dir: "ltr", text: `${t("score")} ${item.score ?? 0}` })),
    h("div", { class: "content", dir: "auto" }, highlighted(String(item.content ?? ""), needles)),
    commenter(item, held ? {} : on, extra.record, extra.open),
    reasons(matches),
    held ? null : h("div", { class: "actions" },
      ...(ACTIONS[view] || ACTIONS.queue).map(([status, word, key]) =>
        h("button", { type: "button", class: status, dataset: { action: status }, onclick: (e) => { e.stopPropagation(); on.decide(item.id, status); } },
          t(word), h("kbd", { text: key })))),
    h("p", { class: "item-error", role: "alert" }));
  if (!held) el.addEventListener("click", (e) => { if (!e.target.closest("input, button")) on.select(item.id); });
  return el;
}
