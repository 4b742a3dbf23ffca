#!/bin/sh
# measure.sh — score the labeled datasets of ../shared/data with the rules
# and print the table README.md quotes. Not part of `make test`: the data
# lives outside the product.
#
#   tests/rules/measure.sh [RULES_DIR] [DATA_DIR]
#
# RAQIB names the binary (default build/raqib). `raqib rules test` reads
# `text` when a line has no `content`, so the files are fed as they are.
# Columns: positives caught as spam, negatives marked spam, positives
# flagged, negatives flagged ("flagged": some rule with a positive score hit,
# so the comment reaches the moderator with a visible reason).
set -eu
RAQIB=${RAQIB:-build/raqib}
RULES=${1:-rules}
DATA=${2:-../shared/data}
[ -x "$RAQIB" ] || { echo "measure.sh: $RAQIB not built (make)" >&2; exit 2; }
ls "$DATA"/*.jsonl >/dev/null 2>&1 || { echo "measure.sh: no *.jsonl in $DATA" >&2; exit 2; }
printf '| dataset | positives | negatives | pos. caught as spam | neg. marked spam | pos. flagged | neg. flagged |\n'
printf '|---|---|---|---|---|---|---|\n'
for f in "$DATA"/*.jsonl; do
    "$RAQIB" rules test --quiet "$RULES" < "$f" | awk -v name="$(basename "$f" .jsonl)" '
        /^# labeled:/ { pos = $3; neg = $6 }
        /^# positives caught as spam:/ { cs = $6 " " $7; ms = $11 " " $12 }
        /^# positives flagged:/ { pf = $4 " " $5; nf = $8 " " $9 }
        END { printf "| %s | %s | %s | %s | %s | %s | %s |\n", name, pos, neg, cs, ms, pf, nf }'
done
