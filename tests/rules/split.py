#!/usr/bin/python3
"""split.py — cut every labeled development set into a tuning half and a
check half, once and for all, so rules can be tuned on one half and judged
on comments they were never tuned on.

A comment goes to the check half when the first 8 hex digits of the SHA-256
of its text (the `content` field, else `text`, as UTF-8 bytes, unchanged)
read as a number are odd, to the tuning half when even. The rule depends on
the text alone: it is stable across runs, machines and file orders, a new
line never moves an old one, and copies of one text (the sets hold a few,
some with conflicting labels) always land in the same half, so the check
half never holds a comment the tuning half showed verbatim.

    tests/rules/split.py [DATA_DIR] [OUT_DIR]

DATA_DIR defaults to ../shared/data, OUT_DIR to build/split; every
DATA_DIR/*.jsonl becomes OUT_DIR/tune/NAME and OUT_DIR/check/NAME, lines
in their original order. The halves are written under build/ (not
committed): the data stays in shared/. Standard library only.
"""
import glob
import hashlib
import json
import os
import sys


def half(line):
    """'check' or 'tune' for one JSON line, from the hash of its text."""
    obj = json.loads(line)
    text = obj.get("content") or obj.get("text") or ""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return "check" if int(digest[:8], 16) % 2 else "tune"


def split_file(path, out_dir):
    """Write one file's halves; return (tune lines, check lines)."""
    name = os.path.basename(path)
    counts = {"tune": 0, "check": 0}
    outs = {h: open(os.path.join(out_dir, h, name), "w", encoding="utf-8") for h in counts}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                h = half(line)
                outs[h].write(line if line.endswith("\n") else line + "\n")
                counts[h] += 1
    finally:
        for f in outs.values():
            f.close()
    return counts["tune"], counts["check"]


def main():
    data = sys.argv[1] if len(sys.argv) > 1 else "../shared/data"
    out = sys.argv[2] if len(sys.argv) > 2 else "build/split"
    files = sorted(glob.glob(os.path.join(data, "*.jsonl")))
    if not files:
        sys.exit("split.py: no *.jsonl in %s" % data)
    for h in ("tune", "check"):
        os.makedirs(os.path.join(out, h), exist_ok=True)
    for path in files:
        tune, check = split_file(path, out)
        print("%s: %d tuning, %d check" % (os.path.basename(path), tune, check))


if __name__ == "__main__":
    main()
