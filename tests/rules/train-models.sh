#!/bin/sh
# train-models.sh — build the learned models the default rules read
# (rules/models/*.model) from labeled comment files, so the shipped model
# can be rebuilt by anyone from the same data:
#
#   tests/rules/train-models.sh [DATA_DIR] [MODELS_DIR]
#
# DATA_DIR (default ../shared/data) holds *.jsonl lines with "text" or
# "content" and "label". spam.model learns spam against everything that is
# not spam (ham, clean and abusive comments: abuse is not advertising);
# abuse.model learns abusive comments against everything that is not
# abusive (clean, ham and spam comments: advertising is not an insult),
# with character n-grams (--char-ngrams): insults come in more spellings,
# feminine, plural and clitic forms than a word list or a light stem covers.
# RAQIB names the binary (default build/raqib); MIN_COUNT (default 2) drops
# tokens seen in fewer comments. A site should rather learn from its own
# moderators: raqib rules train --redis URL --site S rules/models/spam.model
# (and --positive rejected --negative approved for abuse.model).
set -eu
RAQIB=${RAQIB:-build/raqib}
DATA=${1:-../shared/data}
OUT=${2:-rules/models}
[ -x "$RAQIB" ] || { echo "train-models.sh: $RAQIB not built (make)" >&2; exit 2; }
ls "$DATA"/*.jsonl >/dev/null 2>&1 || { echo "train-models.sh: no *.jsonl in $DATA" >&2; exit 2; }
mkdir -p "$OUT"
cat "$DATA"/*.jsonl | "$RAQIB" rules train --positive spam --negative ham,clean,abusive \
    --min-count "${MIN_COUNT:-2}" "$OUT/spam.model"
cat "$DATA"/*.jsonl | "$RAQIB" rules train --positive abusive --negative clean,ham,spam --char-ngrams \
    --min-count "${MIN_COUNT:-2}" "$OUT/abuse.model"
