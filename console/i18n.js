// i18n.js — the console's words in English and Arabic. Arabic lays the
// whole page right to left (dir on <html>); comment text keeps dir="auto",
// so each comment reads in its own direction inside either layout.
const words = {
  en: {
    title: "Raqib — moderation", brand: "Raqib", login_title: "Sign in to moderate",
    login_hint: "Paste your moderator token. It stays in this tab only (sessionStorage) and is gone when the tab closes.",
    token: "Token", sign_in: "Sign in", sign_out: "Sign out", bad_token: "This token was not accepted.",
    low_role: "This token may submit comments but not moderate them.", server_down: "The server did not answer: ",
    queue: "Queue", spam: "Spam folder", history: "History", rules: "Rules", site: "Site", language: "العربية",
    keys: "Keys", dev_mode: "development mode: no tokens configured",
    claim_ends: "Your claim ends in", claim_none: "Nothing claimed", renewing: "renewing…",
    empty_queue: "The queue is empty. New comments appear here by themselves.",
    empty_spam: "The spam folder is empty.", empty_history: "No decisions yet.",
    new_items: (n) => `${n} new comment${n === 1 ? "" : "s"} arrived below`,
    approve: "Approve", reject: "Reject", mark_spam: "Spam", not_spam: "Not spam — approve",
    approved: "approved", rejected: "rejected", spam_s: "spam", pending: "pending",
    score: "score", post: "post", why: "Why it is here",
    no_rule: "No rule hit: held because every comment is reviewed before it is published.",
    matched: "matched", field: "in", undo: "Undo", decided: (s) => `Marked ${s}.`,
    sent: (s) => `Sent: ${s}.`, selected: (n) => `${n} selected`, clear: "Clear",
    bulk_done: (ok, bad) => `${ok} decided${bad ? `, ${bad} failed` : ""}.`,
    failed: "Not recorded: ", already: (s) => `another moderator already decided it: ${s}`,
    author_history: "Author's history", trust: "Trust", block: "Block", untrust: "Stop trusting",
    unblock: "Unblock", trusted: "trusted", blocked: "blocked", author_trusted: "Author trusted: their comments are approved unless a rule hits.",
    author_blocked: "Author blocked: their comments go to spam.", author_cleared: "Mark cleared.", reload_rules: "Reload rules", reloaded: (n) => `Reloaded: ${n} rules.`,
    reload_failed: "Reload refused, the running rules stay:",
    rule: "Rule", description: "Description", where: "File", hits: "Hits", precision: "Precision",
    overruled: "Overruled", decisions: "Moderators' decisions", when: "When", status: "Decision",
    by: "By", reason: "Reason", comment: "Comment", rules_note: "Hits since start; precision = rejected or spam / all decided.",
    help_title: "Keyboard", close: "Close",
    key_j: "next comment", key_k: "previous comment", key_a: "approve", key_r: "reject", key_s: "spam",
    key_x: "add to / remove from the bulk selection", key_z: "undo the last decision (a few seconds)",
    key_help: "this list", key_esc: "close, clear the bulk selection", key_click: "click a comment to select it",
    url: "website", email: "e-mail", ip: "IP", lost: "Your claim on this comment ended; another moderator may have it.",
    ago: "", loading: "Loading…",
    commenter: "Commenter", unmarked: "not marked", details: "Details", hide_details: "Hide details",
    last_decided: "Last decided:", no_decisions: "no decision yet", marked_by: "marked by",
    held_by: "held by", secs_left: (n) => `${n} s left`, held_title: (n) => `Held by other moderators (${n})`,
    key_c: "the commenter's details: when last decided, who marked them and why",
  },
  ar: {
    title: "رقيب — الإشراف", brand: "رقيب", login_title: "تسجيل الدخول للإشراف",
    login_hint: "الصق رمز المشرف. يبقى في هذا التبويب وحده (sessionStorage) ويزول عند إغلاقه.",
    token: "الرمز", sign_in: "دخول", sign_out: "خروج", bad_token: "لم يُقبل هذا الرمز.",
    low_role: "هذا الرمز يرسل التعليقات ولا يشرف عليها.", server_down: "لم يجب الخادم: ",
    queue: "قائمة المراجعة", spam: "مجلد المزعج", history: "السجل", rules: "القواعد", site: "الموقع",
    language: "English", keys: "المفاتيح", dev_mode: "وضع التطوير: لا رموز مضبوطة",
    claim_ends: "ينتهي حجزك بعد", claim_none: "لا شيء محجوز", renewing: "يُجدَّد…",
    empty_queue: "لا تعليقات بانتظار المراجعة. تظهر الجديدة هنا تلقائيًا.",
    empty_spam: "مجلد المزعج فارغ.", empty_history: "لا قرارات بعد.",
    new_items: (n) => `وصل ${n} ${n === 1 ? "تعليق جديد" : "تعليقات جديدة"} في الأسفل`,
    approve: "قبول", reject: "رفض", mark_spam: "مزعج", not_spam: "ليس مزعجًا — اقبله",
    approved: "مقبول", rejected: "مرفوض", spam_s: "مزعج", pending: "معلّق",
    score: "النقاط", post: "المقال", why: "سبب وجوده هنا",
    no_rule: "لم تطابقه أي قاعدة: كل تعليق يُراجع قبل نشره.",
    matched: "طابق", field: "في", undo: "تراجع", decided: (s) => `صُنّف: ${s}.`,
    sent: (s) => `أُرسل: ${s}.`, selected: (n) => `${n} محدد`, clear: "إلغاء التحديد",
    bulk_done: (ok, bad) => `حُسم ${ok}${bad ? `، وتعذّر ${bad}` : ""}.`,
    failed: "لم يُسجَّل: ", already: (s) => `حسمه مشرف آخر: ${s}`,
    author_history: "سجل الكاتب", trust: "ثق به", block: "احظره", untrust: "ألغِ الثقة",
    unblock: "ألغِ الحظر", trusted: "موثوق", blocked: "محظور", author_trusted: "وُثق الكاتب: تُقبل تعليقاته ما لم تنطبق عليها قاعدة.",
    author_blocked: "حُظر الكاتب: تذهب تعليقاته إلى المزعج.", author_cleared: "أُلغيت العلامة.", reload_rules: "أعد تحميل القواعد", reloaded: (n) => `أُعيد التحميل: ${n} قاعدة.`,
    reload_failed: "رُفض التحميل، وبقيت القواعد العاملة:",
    rule: "القاعدة", description: "الوصف", where: "الملف", hits: "المطابقات", precision: "الدقة",
    overruled: "نُقض", decisions: "قرارات المشرفين", when: "الوقت", status: "القرار",
    by: "المشرف", reason: "السبب", comment: "التعليق", rules_note: "المطابقات منذ التشغيل؛ الدقة = المرفوض والمزعج ÷ كل ما حُسم.",
    help_title: "لوحة المفاتيح", close: "إغلاق",
    key_j: "التعليق التالي", key_k: "التعليق السابق", key_a: "قبول", key_r: "رفض", key_s: "مزعج",
    key_x: "إضافة إلى التحديد الجماعي أو إزالة منه", key_z: "التراجع عن آخر قرار (ثوانٍ قليلة)",
    key_help: "هذه القائمة", key_esc: "إغلاق، ومسح التحديد الجماعي", key_click: "انقر تعليقًا لتحديده",
    url: "الموقع", email: "البريد", ip: "IP", lost: "انتهى حجزك لهذا التعليق؛ قد يكون عند مشرف آخر.",
    ago: "", loading: "جارٍ التحميل…",
    commenter: "الكاتب", unmarked: "بلا علامة", details: "التفاصيل", hide_details: "إخفاء التفاصيل",
    last_decided: "آخر قرار:", no_decisions: "لا قرار بعد", marked_by: "وضع العلامة",
    held_by: "يراجعه", secs_left: (n) => `بقي ${n} ث`, held_title: (n) => `محجوزة لدى مشرفين آخرين (${n})`,
    key_c: "تفاصيل الكاتب: آخر قرار، ومن وضع العلامة ولماذا",
  },
};

let lang = "en";

export function setLang(l) {
  lang = words[l] ? l : "en";
  document.documentElement.lang = lang;
  document.documentElement.dir = lang === "ar" ? "rtl" : "ltr";
  document.title = t("title");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
}

export function getLang() { return lang; }

// A word, or a sentence built from args; the English word when Arabic lacks one.
export function t(key, ...args) {
  const w = words[lang][key] ?? words.en[key] ?? key;
  return typeof w === "function" ? w(...args) : w;
}

// "3 minutes ago" in the UI's language.
export function ago(iso) {
  const secs = (Date.parse(iso) - Date.now()) / 1000;
  if (!Number.isFinite(secs)) return "";
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
  const abs = Math.abs(secs);
  if (abs < 60) return rtf.format(Math.round(secs), "second");
  if (abs < 3600) return rtf.format(Math.round(secs / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(secs / 3600), "hour");
  return rtf.format(Math.round(secs / 86400), "day");
}

export function statusWord(s) {
  return t({ approved: "approved", rejected: "rejected", spam: "spam_s", pending: "pending" }[s] ?? s);
}
