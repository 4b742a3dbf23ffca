// card.js — one comment as a card: who wrote it where and when, its score,
// its text (dir="auto", matched words marked), every rule that hit it with
// the rule's description, the author's history when the item carries it
// (with trust/block when the author is known by a hash), and the decision
// buttons. Everything untrusted goes in as text (dom.js).
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
  return [
    c.mark ? h("span", { class: `pill mark ${c.mark}`, dataset: { mark: c.mark }, text: t(c.mark) }) : null,
    ...acts.map(([action, word]) => h("button", { type: "button", class: `author-act ${action}`, dataset: { authorAction: action },
      onclick: (e) => { e.stopPropagation(); on.author(item.id, action); } }, t(word))),
  ];
}

function history(item, on) {
  const c = authorCounts(item);
  if (!c) return null;
  return h("div", { class: "author-history" },
    h("span", { class: "label", text: t("author_history") }),
    ...["approved", "rejected", "spam"].map((k) =>
      h("span", { class: `pill ${k}`, dataset: { count: k }, text: `${t(k === "spam" ? "spam_s" : k)} ${c[k] ?? 0}` })),
    ...authorActions(item, c, on));
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
export function card(item, view, on) {
  const matches = Array.isArray(item.matches) ? item.matches : [];
  const needles = matches.map((m) => m.matched).filter((s) => typeof s === "string" && s);
  const el = h("article", { class: "item", role: "listitem", tabindex: "-1", dataset: { commentId: item.id } },
    h("header", { class: "meta" },
      h("input", { type: "checkbox", class: "pick", "aria-label": "bulk", onchange: (e) => on.pick(item.id, e.target.checked) }),
      h("bdi", { class: "author", text: item.author ?? "" }),
      item.url ? h("span", { class: "url", dir: "ltr", title: t("url"), text: item.url }) : null,
      item.email ? h("span", { class: "email", dir: "ltr", title: t("email"), text: item.email }) : null,
      item.ip ? h("span", { class: "ip", dir: "ltr", title: t("ip"), text: item.ip }) : null,
      h("span", { class: "post" }, `${t("post")} `, h("bdi", { text: item.post_id ?? "" })),
      h("time", { datetime: item.created_at, title: item.created_at, text: ago(item.created_at) }),
      h("span", { class: `score ${scoreClass(item.score)}`, dir: "ltr", text: `${t("score")} ${item.score ?? 0}` })),
    h("div", { class: "content", dir: "auto" }, highlighted(String(item.content ?? ""), needles)),
    history(item, on),
    reasons(matches),
    h("div", { class: "actions" },
      ...(ACTIONS[view] || ACTIONS.queue).map(([status, word, key]) =>
        h("button", { type: "button", class: status, dataset: { action: status }, onclick: (e) => { e.stopPropagation(); on.decide(item.id, status); } },
          t(word), h("kbd", { text: key })))),
    h("p", { class: "item-error", role: "alert" }));
  el.addEventListener("click", (e) => { if (!e.target.closest("input, button")) on.select(item.id); });
  return el;
}
