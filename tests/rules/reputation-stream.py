#!/usr/bin/env python3
"""reputation-stream.py — a labeled comment stream with synthetic commenters,
for `raqib replay` to measure what commenter reputation saves moderators.

A news site's comments: SHARE (default 0.7) of them come from a pool of
returning commenters whose own comments are clean (drawn from the clean
lines of the Arabic news and tweet sets), the rest from one-off addresses
drawn from everything, spam and abuse included, in the proportion of the
sets. With --dirty P, each regular's comment is, with probability P, drawn
from the abusive lines instead (a regular who turns nasty): what the
`approve` rules must not publish unless no rule hits it. Deterministic
(--seed). Writes JSON lines {content, label, email} to stdout.

    tests/rules/reputation-stream.py ../shared/data > /tmp/stream.jsonl
    build/raqib replay --window 1000 < /tmp/stream.jsonl
"""
import argparse
import json
import os
import random


def lines(path, labels):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            if o.get("label") in labels and (o.get("text") or o.get("content")):
                out.append({"content": o.get("text") or o.get("content"), "label": o["label"]})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data", help="the labeled data folder (../shared/data)")
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--share", type=float, default=0.7, help="comments by returning commenters")
    ap.add_argument("--regulars", type=int, default=300)
    ap.add_argument("--dirty", type=float, default=0.0, help="chance a regular's comment is abusive")
    ap.add_argument("--seed", type=int, default=19)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    d = a.data
    clean = lines(os.path.join(d, "mpold_ar_news_comments.dev.jsonl"), {"clean"}) + \
        lines(os.path.join(d, "osact2020_ar.dev.jsonl"), {"clean"}) + \
        lines(os.path.join(d, "lhsab_ar.dev.jsonl"), {"clean"})
    abusive = lines(os.path.join(d, "mpold_ar_news_comments.dev.jsonl"), {"abusive"}) + \
        lines(os.path.join(d, "osact2020_ar.dev.jsonl"), {"abusive"}) + \
        lines(os.path.join(d, "lhsab_ar.dev.jsonl"), {"abusive"})
    spam = lines(os.path.join(d, "arabic_lowquality_spam.dev.jsonl"), {"spam"}) + \
        lines(os.path.join(d, "arabic_spam_tweets.dev.jsonl"), {"spam"})
    ham = lines(os.path.join(d, "arabic_spam_tweets.dev.jsonl"), {"ham"})
    everything = clean + abusive + spam + ham
    for pool in (clean, abusive, everything):
        rnd.shuffle(pool)
    ci = ai = ei = 0
    for i in range(a.n):
        if rnd.random() < a.share:
            who = "regular%d@example.com" % rnd.randrange(a.regulars)
            if rnd.random() < a.dirty:
                c, ai = abusive[ai % len(abusive)], ai + 1
            else:
                c, ci = clean[ci % len(clean)], ci + 1
        else:
            who = "once%d@example.net" % i
            c, ei = everything[ei % len(everything)], ei + 1
        print(json.dumps({"content": c["content"], "label": c["label"], "email": who}, ensure_ascii=False))


if __name__ == "__main__":
    main()
