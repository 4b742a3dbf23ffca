#!/usr/bin/env bash
# aof-p99.sh BUILD — /v1/comments p99 at half of peak while Redis rewrites
# its AOF, with Redis's defaults and with the settings Raqib ships
# (docker/redis.conf), on one redis-server pinned as make bench pins it.
#
# Why: make bench's half-of-peak row had its p99 spoiled (20–40 ms) by the
# automatic AOF rewrite: the fork, its child's CPU on the core Redis shares,
# its disk writes against the parent's fsync. Here the rewrite is started
# on purpose (BGREWRITEAOF) a second into a paced run, over a dataset made
# by the submit script itself (AOF_P99_ITEMS comments), so each setting is
# measured on the same event; each row is also measured without a rewrite.
# Settings are switched with CONFIG SET between runs on the same Redis; the
# runs write to db 1, emptied after each, so every rewrite has the same
# dataset (db 0, filled once). "child on CPU 0" moves Redis's main thread to
# CPU 0 for the instant of the fork, so the child runs where
# `aof-rewrite-cpulist 0` would put it (that setting cannot change at run
# time), then back to CPU 1.
#
# Env: AOF_P99_ITEMS (300000 comments before the runs), AOF_P99_SECONDS
# (10 per run), AOF_P99_RULES (rules/), AOF_P99_ROUNDS (2), AOF_P99_TRY
# ("name=setting value ...;name=..." more rows, each on top of the
# defaults, to measure one setting alone). ~3 minutes.
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
ITEMS=${AOF_P99_ITEMS:-150000}
SECS=${AOF_P99_SECONDS:-10}
RULES=${AOF_P99_RULES:-$ROOT/rules}
ROUNDS=${AOF_P99_ROUNDS:-2}
CONNS=50
[ -x "$BUILD/raqibd" ] || { echo "no $BUILD/raqibd: run make first"; exit 1; }
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 1; }
if [ "$(nproc)" -ge 2 ]; then SRV="taskset -c 0"; LOAD="taskset -c 1"; else SRV=""; LOAD=""; fi
NAME=aof-p99
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Redis as make bench starts it (AOF everysec, no RDB saves), no automatic
# rewrite: this bench starts the one it measures.
RPORT=$(free_port)
$LOAD redis-server --port "$RPORT" --bind 127.0.0.1 --dir "$T" --appendonly yes --appendfsync everysec \
    --save "" --auto-aof-rewrite-percentage 0 --logfile "$T/redis.log" &
PIDS+=($!)
wait_port "$RPORT"
cli() { redis-cli -p "$RPORT" "$@"; }

# The dataset: ITEMS submissions through the submit script (pending, 1.2 KB).
echo "# filling Redis with $ITEMS comments through the submit script" >&2
SHA=$(cli script load "$(perl tests/bench/extract-script.pl src/store.c submit_script)")
TEXT=$(perl -CS -e 'my @w = ("مقال", "رائع", "شكرا", "great", "article", "thanks", "للكاتب", "on", "the", "topic");
    my $s = ""; while (length(do { use bytes; $s }) < 1200) { $s .= $w[int rand @w] . " " } print $s')
S='{fill}'
redis-benchmark -p "$RPORT" -c 4 -P 16 -n "$ITEMS" -r 1000000000 -q EVALSHA "$SHA" 8 "raqib:$S:c:__rand_int__" \
    "raqib:$S:review" "raqib:$S:idem:-" "raqib:$S:dup:__rand_int__" "raqib:$S:flood:ip:-" "raqib:$S:flood:email:-" \
    "raqib:$S:spam" "raqib:$S:decisions" __rand_int__ pending 0 2592000 86400 2592000 1764806400000 '{}' 0 0 0 \
    id __rand_int__ site fill post_id p1 author "Reader __rand_int__" email "r__rand_int__@example.com" \
    content "$TEXT __rand_int__" status pending score 0 matches "[]" created_at 1764806400000 >/dev/null
# What a rewrite costs per comment, on an idle Redis: the AOF written per
# comment, the base the rewrite leaves per comment, the rewrite's time.
AOF_BYTES=$(cat "$T"/appendonlydir/*.incr.aof | wc -c)
t0=$(date +%s%N)
cli bgrewriteaof >/dev/null
for _ in $(seq 1 6000); do [ "$(cli info persistence | tr -d '\r' | sed -n 's/^aof_rewrite_in_progress://p')" = 0 ] && break; sleep 0.05; done
REWRITE_MS=$((($(date +%s%N) - t0) / 1000000))
BASE_BYTES=$(cat "$T"/appendonlydir/*.base.* | wc -c)
MEM=$(cli info memory | tr -d '\r' | sed -n 's/^used_memory_human://p')

engine_comment() {   # the bench's comment text, JSON-escaped, for post.lua
    perl -e 'my $t = "تعليق عادي على المقال، شكرا للكاتب على هذا الموضوع المفيد. " x 12; print $t' |
        perl -0777 -pe 's/(["\\])/\\$1/g; s/\n/\\n/g'
}
engine_comment >"$T/text.json"
export BENCH_TEXT="$T/text.json"

PORT=$(free_port)
$SRV "$BUILD/raqibd" --listen "127.0.0.1:$PORT" --rules "$RULES" --threads 1 --flood_seconds 0 \
    --redis "redis://127.0.0.1:$RPORT/1" --spool "$T/spool" 2>"$T/raqibd.log" &
PIDS+=($!)
wait_port "$PORT"
for _ in $(seq 1 1800); do grep -q -E 'Hyperscan ready|PCRE2 runs every|Hyperscan: not' "$T/raqibd.log" && break; sleep 0.5; done

# wrk_run SECONDS DELAY_MS -> "rps p50 p99"
wrk_run() {
    local out
    out=$(BENCH_RUN="$(date +%s%N)" BENCH_PATH=/v1/comments BENCH_CLOSE=0 BENCH_DELAY_MS=$2 $LOAD wrk -t1 -c"$CONNS" \
          -d"$1s" --latency -s tests/bench/post.lua "http://127.0.0.1:$PORT/v1/comments" 2>&1)
    sed -E -n 's/^RESULT rps=([0-9.]+) p50_ms=([0-9.]+) p99_ms=([0-9.]+).*/\1 \2 \3/p' <<<"$out"
}
wrk_run 2 0 >/dev/null   # warm-up
read -r PEAK _ < <(wrk_run 5 0)
DELAY=$(awk -v c="$CONNS" -v p="$PEAK" 'BEGIN { printf "%d", c * 1000 / (p / 2) }')

# Settings: "defaults" is Redis 7's; "shipped" is docker/redis.conf's
# runtime-settable lines (comments and blank lines dropped).
DEFAULTS=(no-appendfsync-on-rewrite no rdbcompression yes rdbchecksum yes activerehashing yes hz 10)
mapfile -t SHIPPED < <(grep -v -E '^\s*(#|$)' docker/redis.conf | grep -v -E '^(appendonly|appendfsync|save|auto-aof)' | tr -s ' ' '\n')
apply() { [ $# -eq 0 ] || cli config set "$@" >/dev/null; }

# measure NAME REWRITE -> prints a row; REWRITE=1 starts BGREWRITEAOF 1 s in
measure() {
    local name=$1 rw=$2 res trigger=""
    if [ "$rw" = 1 ]; then
        (sleep 1
         [ -z "${CHILD_CPU:-}" ] || taskset -p -c "$CHILD_CPU" "${PIDS[0]}" >/dev/null
         cli bgrewriteaof >/dev/null
         [ -z "${CHILD_CPU:-}" ] || taskset -p -c 1 "${PIDS[0]}" >/dev/null) &
        trigger=$!
    fi
    res=$(wrk_run "$SECS" "$DELAY")
    [ -n "$trigger" ] && wait "$trigger"
    local fork="" took="" cow=""
    if [ "$rw" = 1 ]; then
        for _ in $(seq 1 600); do [ "$(cli info persistence | tr -d '\r' | sed -n 's/^aof_rewrite_in_progress://p')" = 0 ] && break; sleep 0.2; done
        fork=$(cli info stats | tr -d '\r' | sed -n 's/^latest_fork_usec://p')
        took=$(cli info persistence | tr -d '\r' | sed -n 's/^aof_last_rewrite_time_sec://p')
        cow=$(cli info persistence | tr -d '\r' | sed -n 's/^aof_last_cow_size://p')
    fi
    printf '%-34s %8s %8s %8s %10s %8s %8s\n' "$name" $res "${fork:+$((fork / 1000)) ms}" "${took:+$took s}" \
        "${cow:+$((cow >> 20)) MB}"
    cli -n 1 flushdb >/dev/null   # the run's comments: the next run starts from the same dataset
    sleep 1
}
echo "/v1/comments at half of peak (peak $PEAK req/s keep-alive, $CONNS connections paced), one raqibd worker on CPU 0,"
echo "redis-server and wrk on CPU 1; Redis holds $ITEMS comments ($MEM); BGREWRITEAOF 1 s into each 'rewrite' run of $SECS s"
printf '%-34s %8s %8s %8s %10s %8s %8s\n' "" "req/s" "p50 ms" "p99 ms" "fork" "rewrite" "CoW"
for r in $(seq 1 "$ROUNDS"); do
    apply "${DEFAULTS[@]}"
    measure "Redis defaults, no rewrite" 0
    measure "Redis defaults, rewrite" 1
    apply "${SHIPPED[@]}"
    measure "docker/redis.conf, no rewrite" 0
    measure "docker/redis.conf, rewrite" 1
    CHILD_CPU=0 measure "docker/redis.conf, child on CPU 0" 1
    IFS=';' read -r -a TRY <<<"${AOF_P99_TRY:-}"
    for t in "${TRY[@]}"; do
        apply "${DEFAULTS[@]}"
        # shellcheck disable=SC2086
        apply ${t#*=}
        measure "${t%%=*}, rewrite" 1
    done
done
echo "docker/redis.conf's run-time settings: ${SHIPPED[*]:-(none beyond AOF everysec and no RDB saves)}"
echo "per comment (the fill, idle Redis): $((AOF_BYTES / ITEMS)) bytes of AOF, $((BASE_BYTES / ITEMS)) bytes of rewritten base," \
     "rewrite $REWRITE_MS ms for $ITEMS comments"
# A rewrite starts when the AOF has grown by P % of the base, and takes time
# in proportion to the base: the share of time spent rewriting at a steady
# r comments/s is rewrite_s_per_comment * aof_bytes * r / (P/100 * base_bytes),
# whatever the dataset's size.
for pct in 100 400 1000; do
    awk -v ms="$REWRITE_MS" -v n="$ITEMS" -v a="$AOF_BYTES" -v b="$BASE_BYTES" -v r="$(awk -v p="$PEAK" 'BEGIN { print p / 2 }')" -v p="$pct" \
        'BEGIN { printf "  auto-aof-rewrite-percentage %4d: Redis rewrites %.1f %% of the time at %d comments/s (half of peak)\n", p, 100 * (ms / 1000 / n) * (a / n) * r / (p / 100 * b / n), r }'
done
echo "Redis logged 'fsync is taking too long' $(grep -c 'fsync is taking too long' "$T/redis.log" || true) times (the parent waiting on the disk)"
