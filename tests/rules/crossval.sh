#!/bin/sh
# crossval.sh — what the rules with a learned model catch on comments the
# model never saw: each dataset is split in two halves (odd and even
# lines); the model is trained on one half of every dataset and the rules
# folder, with that model, scores the other half; then the halves swap.
# The counts of both runs are summed into the table measure.sh prints.
#
#   tests/rules/crossval.sh [RULES_DIR] [DATA_DIR]
#
# RULES_DIR (default rules) must read its models from models/spam.model and
# models/abuse.model (the ones train-models.sh builds).
set -eu
RAQIB=${RAQIB:-build/raqib}
RULES=${1:-rules}
DATA=${2:-../shared/data}
HERE=$(dirname "$0")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/half1" "$T/half2"
for f in "$DATA"/*.jsonl; do
    awk 'NR % 2 == 1' "$f" > "$T/half1/$(basename "$f")"
    awk 'NR % 2 == 0' "$f" > "$T/half2/$(basename "$f")"
done
for test_half in half1 half2; do
    train_half=half2; [ "$test_half" = half2 ] && train_half=half1
    rm -rf "$T/rules" && cp -r "$RULES" "$T/rules"
    RAQIB=$RAQIB "$HERE/train-models.sh" "$T/$train_half" "$T/rules/models" >&2
    RAQIB=$RAQIB "$HERE/measure.sh" "$T/rules" "$T/$test_half" | tail -n +3
done | awk -F' *[|] *' '
    function n(cell) { split(cell, a, " "); return a[1] }
    function pct(x, of) { return of ? sprintf("%d (%.1f%%)", x, 100 * x / of) : sprintf("%d (0.0%%)", x) }
    { name = $2; if (!(name in pos)) order[++k] = name
      pos[name] += $3; neg[name] += $4; cs[name] += n($5); ms[name] += n($6); pf[name] += n($7); nf[name] += n($8) }
    END {
        print "| dataset | positives | negatives | pos. caught as spam | neg. marked spam | pos. flagged | neg. flagged |"
        print "|---|---|---|---|---|---|---|"
        for (i = 1; i <= k; i++) { d = order[i]
            printf "| %s | %d | %d | %s | %s | %s | %s |\n", d, pos[d], neg[d], pct(cs[d], pos[d]),
                   pct(ms[d], neg[d]), pct(pf[d], pos[d]), pct(nf[d], neg[d]) }
    }'
