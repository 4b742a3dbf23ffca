// panels.js — the read-mostly views: the site's recent decisions (the
// decisions feed, newest first, with the comment each one decided) and,
// for admins, the rules with their live hits, how moderators decided what
// each rule hit, and a reload button that shows a broken file's file:line.
import { api, q } from "./api.js";
import { h, clear } from "./dom.js";
import { t, ago, statusWord } from "./i18n.js";

export async function showHistory(panel, site) {
  clear(panel).append(h("p", { class: "muted", text: t("loading") }));
  const feed = await api("GET", `/v1/decisions?${q({ site, order: "newest", limit: 50 })}`);
  const list = feed.decisions || [];
  // The comments themselves, for who wrote what (one read each, in parallel).
  const comments = await Promise.all(list.map((d) =>
    api("GET", `/v1/comments/${encodeURIComponent(d.id)}?${q({ site })}`).catch(() => null)));
  clear(panel);
  if (!list.length) { panel.append(h("p", { class: "empty", text: t("empty_history") })); return; }
  panel.append(h("table", { class: "history" },
    h("thead", {}, h("tr", {}, ...["when", "status", "by", "comment", "reason"].map((k) => h("th", { text: t(k) })))),
    h("tbody", {}, ...list.map((d, i) => {
      const c = comments[i];
      return h("tr", { dataset: { commentId: d.id, status: d.status } },
        h("td", {}, h("time", { datetime: d.decided_at, title: d.decided_at, text: ago(d.decided_at) })),
        h("td", {}, h("span", { class: `badge ${d.status}`, text: statusWord(d.status) })),
        h("td", {}, h("bdi", { class: "decided-by", text: d.decided_by ?? "" })),
        h("td", { class: "snippet" },
          c ? h("bdi", { class: "author", text: c.author ?? "" }) : null,
          c ? h("div", { class: "content", dir: "auto", text: String(c.content ?? "").slice(0, 280) }) : h("code", { dir: "ltr", text: d.id })),
        h("td", {}, h("bdi", { text: d.reason ?? "" })));
    }))));
}

function pct(p) { return p === null || p === undefined ? "—" : `${Math.round(p * 100)}%`; }

export async function showRules(panel, site) {
  clear(panel).append(h("p", { class: "muted", text: t("loading") }));
  const r = await api("GET", `/v1/rules?${q({ site })}`);
  const result = h("p", { class: "reload-result", role: "status" });
  const reload = h("button", { type: "button", class: "primary", id: "reload", onclick: async () => {
    reload.disabled = true;
    clear(result).className = "reload-result";
    try {
      const ok = await api("POST", "/v1/rules/reload", {});
      result.textContent = t("reloaded", ok.rules);
      result.classList.add("ok");
    } catch (e) {
      result.classList.add("error");
      const where = e.body.file ? `${e.body.file}${e.body.line ? `:${e.body.line}` : ""}` : "";
      result.append(`${t("reload_failed")} `, h("code", { class: "where", dir: "ltr", text: where }), " ",
        h("span", { dir: "ltr", text: e.message }));
    }
    reload.disabled = false;
  } }, t("reload_rules"));
  clear(panel).append(h("div", { class: "rules-head" }, reload, result, h("p", { class: "muted", text: t("rules_note") })),
    h("table", { class: "rules" },
      h("thead", {}, h("tr", {}, ...["rule", "description", "where", "score", "hits", "approved", "rejected", "spam_s", "overruled", "precision"]
        .map((k) => h("th", { text: t(k) })))),
      h("tbody", {}, ...(r.rules || []).map((x) => h("tr", { dataset: { rule: x.name } },
        h("td", {}, h("code", { dir: "ltr", text: x.name })),
        h("td", { dir: "auto", text: x.description ?? "" }),
        h("td", {}, h("code", { dir: "ltr", text: `${x.file}:${x.line}` })),
        h("td", { class: "num", text: x.score }),
        h("td", { class: "num hits", text: x.hits }),
        h("td", { class: "num", text: x.decisions?.approved ?? 0 }),
        h("td", { class: "num", text: x.decisions?.rejected ?? 0 }),
        h("td", { class: "num", text: x.decisions?.spam ?? 0 }),
        h("td", { class: "num", text: x.decisions?.overruled ?? 0 }),
        h("td", { class: "num precision", text: pct(x.precision) }))))));
}
