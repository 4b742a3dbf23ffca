#!/usr/bin/env bash
# verdicts.sh BUILD — `make verdicts`: every shipped rule's verdict over all
# of ../shared/data is the same however the engine gets there.
#
#   1. Hyperscan (superset forms, gates: prefilter.c, hsform.c) against
#      PCRE2 alone (RAQIB_NO_HYPERSCAN=1), with this build's raqib;
#   2. with VERDICTS_BASE=REF (a git ref, e.g. main): this build's PCRE2-alone
#      verdicts against REF's, built from `git archive REF` in a temp dir, so
#      a change to the fold, the learned models or the engine is shown to
#      change no verdict (decision, score, rules hit, match-limit hits).
#
# Not part of `make test`: the data lives outside the product. Prints the
# first differing lines and exits 1 on any difference. RULES (default rules)
# and DATA (default ../shared/data) may be set; compiled Hyperscan databases
# are kept in BUILD/hs-cache.
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
RULES=${RULES:-rules}
DATA=${DATA:-../shared/data}
RAQIB="$BUILD/raqib"
[ -x "$RAQIB" ] || { echo "verdicts.sh: $RAQIB not built (make)" >&2; exit 2; }
ls "$DATA"/*.jsonl >/dev/null 2>&1 || { echo "verdicts.sh: no *.jsonl in $DATA" >&2; exit 2; }
T=$(mktemp -d /tmp/raqib-verdicts.XXXXXX)
trap 'rm -rf "$T"' EXIT
cat "$DATA"/*.jsonl > "$T/all.jsonl"
lines=$(wc -l < "$T/all.jsonl")

# same NAME A B: compare two outputs, show the first differences.
same() {
    if cmp -s "$2" "$3"; then
        echo "verdicts: $1: identical on $lines comments"
    else
        echo "verdicts: $1: DIFFERENT ($(diff "$2" "$3" | grep -c '^<') lines)"
        diff "$2" "$3" | head -20
        exit 1
    fi
}

t0=$(date +%s)
RAQIB_NO_HYPERSCAN=1 "$RAQIB" rules test --json "$RULES" < "$T/all.jsonl" > "$T/pcre2.out"
"$RAQIB" rules test --json --hs-cache "$BUILD/hs-cache" "$RULES" < "$T/all.jsonl" > "$T/hs.out"
same "Hyperscan vs PCRE2 alone" "$T/pcre2.out" "$T/hs.out"

if [ -n "${VERDICTS_BASE:-}" ]; then
    mkdir -p "$T/base"
    git archive "$VERDICTS_BASE" | tar -x -C "$T/base"
    make -s -C "$T/base" BUILD=build build/raqib >/dev/null
    # the base's rules are this tree's: only the engine differs
    RAQIB_NO_HYPERSCAN=1 "$T/base/build/raqib" rules test --json "$(cd "$RULES" && pwd)" < "$T/all.jsonl" > "$T/base.out"
    same "this build vs $VERDICTS_BASE (PCRE2 alone)" "$T/base.out" "$T/pcre2.out"
    # the learned models' scores to the last bit, alone and with a site's counts
    libs="$(pkg-config --libs libpcre2-8 jansson libutf8proc) $(pkg-config --libs libhs 2>/dev/null || true) -lm -lpthread"
    # joint-index scores too, when both trees have joint indexes
    joint=-DLEARNED_SCORES_JOINT
    grep -q learn_model_joint_index "$T/base/include/raqib/learn.h" || joint=
    for tree in "$ROOT" "$T/base"; do
        pure=$(cd "$tree" && make -s BUILD=build print-pure-objs | tr ' ' '\n' | sed "s|^|$tree/|" | tr '\n' ' ')
        [ "$tree" = "$ROOT" ] && pure=$(make -s BUILD="$BUILD" print-pure-objs)
        out=$([ "$tree" = "$ROOT" ] && echo this || echo base)
        cc -O2 -std=c11 -D_GNU_SOURCE $joint -I"$tree/include" tests/rules/learned_scores.c $pure $libs -o "$T/scores_$out"
        "$T/scores_$out" "$RULES"/models/*.model < "$T/all.jsonl" > "$T/scores_$out.out"
    done
    same "learned scores, this build vs $VERDICTS_BASE (alone, with a site's counts${joint:+, through a joint index}, %a)" \
        "$T/scores_base.out" "$T/scores_this.out"
fi
echo "verdicts: $(( $(date +%s) - t0 )) s"
