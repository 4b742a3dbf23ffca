#!/bin/sh
# checkhalf.sh — the honest figures: the rules scored on the check half of
# every development set (tests/rules/split.py: a comment's half follows
# the hash of its text), the half no regex rule or threshold is tuned on.
#
#   tests/rules/checkhalf.sh [RULES_DIR] [DATA_DIR] [HALF]
#
# Prints two tables in measure.sh's columns for HALF (default check; pass
# tune to see the half you may look at):
#   1. the regex rules alone (RULES_DIR without 90-learned.rules and
#      91-learned-abuse.rules);
#   2. the whole rule set with both models retrained (train-models.sh) on
#      the tuning half only, so neither rules nor models saw these comments.
# The shipped models are trained on all of the development data and are
# left as they are; they are not what table 2 measures.
# RAQIB names the binary (default build/raqib). About a minute on one core.
set -eu
RAQIB=${RAQIB:-build/raqib}
RULES=${1:-rules}
DATA=${2:-../shared/data}
HALF=${3:-check}
HERE=$(dirname "$0")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
python3 "$HERE/split.py" "$DATA" "$T/split" >/dev/null
cp -r "$RULES" "$T/regex"
rm -f "$T/regex/90-learned.rules" "$T/regex/91-learned-abuse.rules"
echo "Regex rules alone, $HALF half:"
echo
RAQIB=$RAQIB "$HERE/measure.sh" "$T/regex" "$T/split/$HALF"
cp -r "$RULES" "$T/all"
RAQIB=$RAQIB "$HERE/train-models.sh" "$T/split/tune" "$T/all/models" >&2
echo
echo "All rules, models trained on the tuning half, $HALF half:"
echo
RAQIB=$RAQIB "$HERE/measure.sh" "$T/all" "$T/split/$HALF"
