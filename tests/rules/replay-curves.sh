#!/bin/sh
# replay-curves.sh — the learning curves of `raqib replay` on comments the
# models never saw: both models are trained on the tuning half of every
# development set (tests/rules/split.py), then each set's check half is
# replayed in file order as one site whose moderators decide every held
# comment by its label. Last, the news-comment target: MPOLD's check half
# with the moderators deciding only its first 60 %.
#
#   tests/rules/replay-curves.sh [RULES_DIR] [DATA_DIR] [WINDOW]
#
# RAQIB names the binary (default build/raqib). A few minutes on one core.
set -eu
RAQIB=${RAQIB:-build/raqib}
RULES=${1:-rules}
DATA=${2:-../shared/data}
WINDOW=${3:-500}
HERE=$(dirname "$0")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
python3 "$HERE/split.py" "$DATA" "$T/split" >/dev/null
cp -r "$RULES" "$T/rules"
RAQIB=$RAQIB "$HERE/train-models.sh" "$T/split/tune" "$T/rules/models" >&2
for f in "$T"/split/check/*.jsonl; do
    echo "## $(basename "$f" .jsonl) (check half)"
    echo
    "$RAQIB" replay --rules "$T/rules" --window "$WINDOW" < "$f" 2>/dev/null | tail -n +2
    echo
done
echo "## mpold_ar_news_comments (check half), moderators decide the first 60 %"
echo
"$RAQIB" replay --rules "$T/rules" --window "$WINDOW" --decide-first 60 \
    < "$T/split/check/mpold_ar_news_comments.dev.jsonl" 2>/dev/null | tail -n +2
