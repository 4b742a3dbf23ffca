#!/usr/bin/env bash
# redis-cost.sh — Redis's cost per submission: the submit script as raqibd
# sends it (src/store.c, extracted by extract-script.pl) against the script
# before issue 15 (tests/bench/submit-before.lua), with the same KEYS and
# ARGV, on a private redis-server pinned to a core of its own (taskset).
#
# Why a bench of its own: make bench measures the script under wrk with
# redis-server sharing a core, where the noise is larger than the script.
# Here redis-benchmark drives EVALSHA directly (random ids, e-mails and
# IPs, so no call answers dup/flood), and the figure is Redis's own
# `INFO commandstats` usec_per_call of EVALSHA (the script's execution,
# inner commands included) plus Redis's whole CPU per call from /proc
# (parsing, replies, the AOF write). Before and after alternate, ROUNDS
# times; the fastest run and the median are printed (on a shared machine
# the fastest is the least disturbed). Floors: an EVALSHA of `return {'ok'}` with
# the same arguments, and a bare HSET of the item's fields.
#
# Env: REDIS_COST_N (calls per run, default 20000), REDIS_COST_ROUNDS (5),
# REDIS_COST_CPU (the core for redis-server, default the last one; the
# client runs on the others). Takes about 3 minutes.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
N=${REDIS_COST_N:-20000}
ROUNDS=${REDIS_COST_ROUNDS:-5}
NCPU=$(nproc)
RCPU=${REDIS_COST_CPU:-$((NCPU - 1))}
if [ "$NCPU" -ge 2 ]; then
    RPIN="taskset -c $RCPU"
    CPIN="taskset -c $(seq -s, 0 $((NCPU - 1)) | tr ',' '\n' | grep -vx "$RCPU" | paste -sd,)"
else
    RPIN=""; CPIN=""
fi
T=$(mktemp -d /tmp/raqib-redis-cost.XXXXXX)
RPID=""
cleanup() { [ -n "$RPID" ] && kill "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$(perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1:0")->sockport')
# AOF everysec as make run ships it; no automatic rewrite here: its fork
# is another subject (docs/performance.md, "AOF rewrite") and only noise.
$RPIN redis-server --port "$PORT" --bind 127.0.0.1 --dir "$T" --appendonly yes --appendfsync everysec \
    --save "" --auto-aof-rewrite-percentage 0 --logfile "$T/redis.log" &
RPID=$!
cli() { redis-cli -p "$PORT" "$@"; }
for _ in $(seq 1 100); do cli ping >/dev/null 2>&1 && break; sleep 0.05; done

perl tests/bench/extract-script.pl src/store.c submit_script >"$T/after.lua"
SHA_BEFORE=$(cli script load "$(cat tests/bench/submit-before.lua)")
SHA_AFTER=$(cli script load "$(cat "$T/after.lua")")
SHA_EMPTY=$(cli script load "return {'ok'}")

# A 1.2 KB mixed Arabic/English comment, like make bench's.
TEXT=$(perl -CS -e 'my @w = ("مقال", "رائع", "شكرا", "great", "article", "thanks", "للكاتب", "on", "the", "topic");
    my $s = ""; my $i = 0; while (length(do { use bytes; $s }) < 1200) { $s .= $w[$i++ % @w] . " " } print $s')
S='{bench}'
KEYS=("raqib:$S:c:__rand_int__" "raqib:$S:review" "raqib:$S:idem:__rand_int__" "raqib:$S:dup:__rand_int__"
      "raqib:$S:flood:ip:10.0.__rand_int__" "raqib:$S:flood:email:r__rand_int__@example.com"
      "raqib:$S:spam" "raqib:$S:decisions")
# fields STATUS: the item's field/value pairs as intake.c writes them.
fields() {
    local f=(id __rand_int__ site bench post_id p17 author "Reader 42" email "r42@example.com" content "$TEXT"
             ip 10.0.0.42 status "$1" score 0 matches "[]" created_at 1764806400000 author_hash 0123456789abcdef)
    [ "$1" != pending ] && f+=(decided_at 1764806400000 decided_by rules)
    printf '%s\0' "${f[@]}"
}
# args STATUS FLOOD_MS IDEM: ARGV 1..11 then the fields (store_submit's order).
args() {
    local a=(__rand_int__ "$1" "$2" 2592000 86400 2592000 1764806400000 '{"id":"x","status":"pending"}'
             "$3" 1 1)
    printf '%s\0' "${a[@]}"
    fields "$1"
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$RPID/stat"; }
minflt() { awk '{ print $10 }' "/proc/$RPID/stat"; }
TICK=$(getconf CLK_TCK)

# run CMD... -> "usec_per_call cpu_us_per_call page_faults_per_call" of the
# command's stats line (Redis's CPU and minor faults from /proc)
run() {
    local cmd=$1; shift
    cli flushall >/dev/null
    cli config resetstat >/dev/null
    local t0 f0 t1 f1; t0=$(cpu_ticks); f0=$(minflt)
    $CPIN redis-benchmark -p "$PORT" -c 2 -P 8 -n "$N" -r 1000000000 -q "$@" >/dev/null
    t1=$(cpu_ticks); f1=$(minflt)
    cli info commandstats | tr -d '\r' | awk -F'[=,:]' -v c="cmdstat_$cmd" -v n="$N" -v dt=$((t1 - t0)) -v tick="$TICK" \
        -v flt=$((f1 - f0)) '$1 == c { printf "%.2f %.2f %.2f\n", $7, dt * 1e6 / tick / n, flt / n }'
}
# scenario NAME STATUS FLOOD_MS IDEM: before and after, ROUNDS times alternating.
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# minmed VALUES... -> "fastest/median"
minmed() { printf '%s/%s' "$(printf '%s\n' "$@" | sort -n | head -1)" "$(printf '%s\n' "$@" | median)"; }
scenario() {
    local name=$1 b=() a=() bc=() ac=() af=()
    mapfile -d '' -t ARGS < <(args "$2" "$3" "$4")
    for _ in $(seq 1 "$ROUNDS"); do
        read -r u c f < <(run evalsha EVALSHA "$SHA_BEFORE" 8 "${KEYS[@]}" "${ARGS[@]}"); b+=("$u"); bc+=("$c")
        read -r u c f < <(run evalsha EVALSHA "$SHA_AFTER" 8 "${KEYS[@]}" "${ARGS[@]}"); a+=("$u"); ac+=("$c"); af+=("$f")
    done
    printf '%-34s %13s %13s   %13s %13s %6s\n' "$name" "$(minmed "${b[@]}")" "$(minmed "${a[@]}")" \
        "$(minmed "${bc[@]}")" "$(minmed "${ac[@]}")" "$(printf '%s\n' "${af[@]}" | median)"
}

echo "redis-server $(redis-server --version | grep -o 'v=[0-9.]*') on CPU ${RCPU} of $NCPU, $N calls per run, fastest/median of $ROUNDS"
printf '%-34s %13s %13s   %13s %13s %6s\n' "submit script, µs per call" before after "cpu before" "cpu after" faults
scenario "pending, flood + dup (defaults)" pending 15000 0
scenario "approved (decisions feed)" approved 15000 0
scenario "spam (spam folder)" spam 15000 0
scenario "pending, Idempotency-Key" pending 15000 1
scenario "pending, no flood (make bench)" pending 0 0

mapfile -d '' -t ARGS < <(args pending 15000 0)
mapfile -d '' -t FIELDS < <(fields pending)
echo "  (before/after: commandstats usec_per_call of EVALSHA; cpu: Redis's whole CPU per call, µs;"
echo "   faults: Redis's minor page faults per call, fresh memory for the new keys)"
echo "floors (fastest of $ROUNDS: µs per call, Redis CPU µs per call, faults per call)"
# floor CMD... -> the fastest of ROUNDS runs, each figure on its own
floor() { for _ in $(seq 1 "$ROUNDS"); do run "$@"; done | sort -n | awk 'NR == 1 { u = $1; c = $2; f = $3 }
    { if ($2 < c) c = $2; if ($3 < f) f = $3 } END { print u, c, f }'; }
echo "  EVALSHA of return {'ok'}, same args:   $(floor evalsha EVALSHA "$SHA_EMPTY" 8 "${KEYS[@]}" "${ARGS[@]}")"
echo "  HSET of the item's fields, no script:  $(floor hset HSET "raqib:$S:c:__rand_int__" "${FIELDS[@]}")"
# What each part costs: the current script without it (each removal
# alternates with the whole script, ROUNDS times): the difference is the
# part's cost with its Lua call and arguments, which commandstats' own
# figure for the inner command leaves out.
echo "  a fresh 4 KB page (fault + zeroing), on Redis's core: $($RPIN perl -MTime::HiRes=time -e \
    'my $t = time; my $x = "\0" x (256 << 20); printf "%.2f µs", (time - $t) * 1e6 / 65536')"
echo "parts of the current script (pending, defaults): fastest µs per call with and without it, the difference"
variant() { perl -0777 -pe "$1" "$T/after.lua"; }
part() {
    local name=$1 sha w=() f=()
    sha=$(cli script load "$(variant "$2")")
    for _ in $(seq 1 "$ROUNDS"); do
        read -r u _ _ < <(run evalsha EVALSHA "$SHA_AFTER" 8 "${KEYS[@]}" "${ARGS[@]}"); f+=("$u")
        read -r u _ _ < <(run evalsha EVALSHA "$sha" 8 "${KEYS[@]}" "${ARGS[@]}"); w+=("$u")
    done
    local fm wm   # the fastest of each: the least disturbed
    fm=$(printf '%s\n' "${f[@]}" | sort -n | head -1); wm=$(printf '%s\n' "${w[@]}" | sort -n | head -1)
    printf '  %-38s %8s %8s  %6s\n' "$name" "$fm" "$wm" "$(awk -v a="$fm" -v b="$wm" 'BEGIN { printf "%.2f", a - b }')"
}
printf '  %-38s %8s %8s  %6s\n' "" whole without part
part "the EXISTS probe" "s/redis.call\('EXISTS', unpack\(probe\)\) > 0/false/"
part "the review XADD" "s/redis.call\('XADD', KEYS\[2\], '\*', 'id', ARGV\[1\]\)/'0-1'/"
part "the item HSET" "s/redis.call\('HSET'[^\n]*\n//g"
part "the SETs (dup, flood ip, flood e-mail)" "s/redis.call\('SET'[^\n]*\) end\n/end\n/g"
echo "inside the current script (pending, defaults): commandstats usec_per_call of each command"
run evalsha EVALSHA "$SHA_AFTER" 8 "${KEYS[@]}" "${ARGS[@]}" >/dev/null
cli info commandstats | tr -d '\r' | awk -F'[=,:]' '/^cmdstat_/ && $1 !~ /cmdstat_(info|config|script|flushall)/ { sub("cmdstat_", "", $1); printf "  %-12s %8s calls %8s µs\n", $1, $3, $7 }'
