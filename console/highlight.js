// highlight.js — mark in a comment's raw text the words its rules matched.
// The rules match a folded view of the text (arabic.md: diacritics and
// tatweel dropped, alef/yeh/teh marbuta variants unified, case folded; the
// squash view also drops spaces and punctuation), and report what they
// matched in that view. So both are folded the same way here, with a map
// back to the raw text's positions, and the raw characters are marked.
// The result is built from text nodes and <mark> elements only.
import { h } from "./dom.js";

const DROP = /[\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED\u0640\u200B-\u200F\u202A-\u202E\u2066-\u2069\u061C\uFEFF\u00AD]/;
const MAP = { "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ئ": "ي", "ؤ": "و", "ة": "ه", "ک": "ك", "ی": "ي" };
const WORDISH = /[\p{L}\p{N}]/u;

// Fold text; squash also drops whatever is not a letter or digit. Returns
// the folded string and, for each of its UTF-16 units, the raw index.
function fold(text, squash) {
  let out = "";
  const at = [];
  for (let i = 0; i < text.length; i++) {
    let ch = text[i];
    if (DROP.test(ch)) continue;
    if (squash && !WORDISH.test(ch)) continue;
    ch = MAP[ch] ?? ch.toLowerCase();
    for (let k = 0; k < ch.length; k++) { out += ch[k]; at.push(i); }
  }
  return { out, at };
}

// Raw [start, end) ranges where any needle occurs, merged.
export function ranges(text, needles) {
  const found = [];
  const views = [fold(text, false), null];
  for (const needle of needles) {
    for (const squash of [false, true]) {
      const n = fold(needle, squash).out;
      if (n.length < 2 && !/[0-9]/.test(n)) continue;
      const v = squash ? (views[1] ??= fold(text, true)) : views[0];
      let hits = 0;
      for (let p = v.out.indexOf(n); p >= 0; p = v.out.indexOf(n, p + n.length)) {
        found.push([v.at[p], v.at[p + n.length - 1] + 1]);
        hits++;
      }
      if (hits) break;
    }
  }
  found.sort((a, b) => a[0] - b[0]);
  const merged = [];
  for (const r of found) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([...r]);
  }
  return merged;
}

// The text as nodes, the matched parts inside <mark>.
export function highlighted(text, needles) {
  const frag = document.createDocumentFragment();
  let pos = 0;
  for (const [a, b] of ranges(text, needles)) {
    if (a > pos) frag.append(document.createTextNode(text.slice(pos, a)));
    frag.append(h("mark", { text: text.slice(a, b) }));
    pos = b;
  }
  if (pos < text.length) frag.append(document.createTextNode(text.slice(pos)));
  return frag;
}
