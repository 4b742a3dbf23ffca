#!/usr/bin/env bash
# run.sh BUILD — `make bench`: raqibd against a bare evhttp server and rspamd.
#
# Starts its own redis-server (AOF, everysec) and raqibd on free loopback
# ports, first with the shipped rules/ (one worker, then one per core:
# what users run, and the ratio to the generated sets), then with rule sets
# of 10, 1,000 and 10,000 generated rules
# (engine_bench gen), drives them with wrk (post.lua: a distinct e-mail and
# text on every request; raqibd runs with --flood_seconds 0) and prints one
# table: req/s, p50 and p99 for /v1/comments and /v1/check, keep-alive and
# `Connection: close`, the bare server (bare.c) the same way (with libevent's
# defaults and with the epoll changelist raqibd uses), the ratios (the
# shipped rules' to the bare server also side by side, alternating), rspamd on
# the same 1,000 patterns when it is installed, the rule engine
# alone (comments/s per core, Hyperscan vs PCRE2), the fold (MB/s), memory
# per idle connection and RSS at 10,000 rules. Servers are pinned to CPU 0
# and wrk to CPU 1 (taskset) when there are two cores or more.
#
# Env: BENCH_SECONDS (wrk run length, default 6), BENCH_CONNS (default 50),
# BENCH_RULES ("10 1000 10000"), BENCH_RSPAMD=0 skips rspamd, BENCH_REDIS_ARGS
# (more redis-server options), SBS_ROUNDS (side-by-side rounds, default 3),
# BENCH_ENGINE_MAX (1000: the engine alone is measured up to this many rules,
# since a 10,000-rule Hyperscan build takes minutes and raqibd already pays it).
# Everything it starts is stopped by PID on exit; files go to a temp dir.
set -euo pipefail

BUILD=${1:-build}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
SECS=${BENCH_SECONDS:-6}
CONNS=${BENCH_CONNS:-50}
RULE_COUNTS=${BENCH_RULES:-"10 1000 10000"}
NAME=bench
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

note() { echo "# $*" >&2; }
command -v wrk >/dev/null || { echo "make bench needs wrk (apt-get install wrk)"; exit 1; }
[ -x "$BUILD/raqibd" ] || { echo "no $BUILD/raqibd: run make first"; exit 1; }

if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    SRV="taskset -c 0"; LOAD="taskset -c 1"
    PINNING="servers pinned to CPU 0, wrk and redis-server to CPU 1 (taskset)"
else
    SRV=""; LOAD=""
    PINNING="no pinning (fewer than 2 cores)"
fi

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

# ---- build the helpers ------------------------------------------------------
# the pure modules, as the Makefile lists them (server modules need libevent and hiredis)
PURE_OBJS=$(make -s --no-print-directory BUILD="$BUILD" print-pure-objs)
HS_LIBS=""
nm "$BUILD/obj/prefilter.o" 2>/dev/null | grep -q hs_scan && HS_LIBS=$(pkg-config --libs libhs)
cc -O2 -g -std=c11 -D_GNU_SOURCE -Iinclude tests/bench/engine_bench.c $PURE_OBJS \
   $(pkg-config --libs libpcre2-8 jansson libutf8proc) $HS_LIBS -lm -lpthread -o "$T/engine_bench"
cc -O2 -g -std=c11 tests/bench/bare.c $(pkg-config --cflags --libs libevent) -o "$T/bare"
"$T/engine_bench" comment | perl -0777 -pe 's/(["\\])/\\$1/g; s/\n/\\n/g' > "$T/text.json"
BYTES=$("$T/engine_bench" comment | wc -c)
export BENCH_TEXT="$T/text.json"

# ---- wrk --------------------------------------------------------------------
# run_wrk PORT PATH CLOSE CONNS [DELAY_MS] -> "rps p50 p99"
run_wrk() {
    local out
    out=$(BENCH_RUN="$(date +%s%N)" BENCH_PATH=$2 BENCH_CLOSE=$3 BENCH_DELAY_MS=${5:-0} $LOAD wrk -t1 -c"$4" -d"${SECS}s" --latency \
          -s tests/bench/post.lua "http://127.0.0.1:$1$2" 2>&1) || { echo "wrk failed: $out" >&2; exit 1; }
    local line
    line=$(grep '^RESULT' <<<"$out") || { echo "wrk said: $out" >&2; exit 1; }
    if ! grep -q 'errors=0 non2xx=0' <<<"$line"; then note "errors during the run: $line"; fi
    sed -E 's/.*rps=([0-9.]+) p50_ms=([0-9.]+) p99_ms=([0-9.]+).*/\1 \2 \3/' <<<"$line"
}

# Two seconds of load before a server's first measured run, discarded, so
# that start-up effects (page faults, first allocations, the previous
# server's closed connections still in TIME_WAIT) stay out of the figures:
# the first measured run came out lowest in several runs here.
warm_up() {
    BENCH_RUN="$(date +%s%N)" BENCH_PATH=/v1/check BENCH_CLOSE=0 $LOAD wrk -t1 -c"$CONNS" -d2s \
        -s tests/bench/post.lua "http://127.0.0.1:$1/v1/check" >/dev/null 2>&1 || true
}

# teach PORT N: N moderator decisions (half spam, half approved) on new
# comments of the default site, then a wait for the learner to apply them:
# a site that moderates scores with its own counts beside the models'
# (live learning), which is what a deployed raqibd does after a day.
teach() {
    local port=$1 n=$2 id status
    for i in $(seq 1 "$n"); do
        id=$(curl -s -X POST "http://127.0.0.1:$port/v1/comments" -H 'Content-Type: application/json' \
            -d "{\"post_id\":\"t\",\"author\":\"T $i\",\"email\":\"t$i.$RANDOM@example.com\",\"content\":\"$(cat "$BENCH_TEXT") teach $i $RANDOM\"}" |
            sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
        status=$([ $((i % 2)) = 0 ] && echo spam || echo approved)
        [ -n "$id" ] && curl -s -o /dev/null -X POST "http://127.0.0.1:$port/v1/comments/$id/decision" \
            -H 'Content-Type: application/json' -d "{\"status\":\"$status\"}"
    done
    sleep 2
}

declare -A R   # R[name]="rps p50 p99"
row() { printf '%-44s %10s %9s %9s\n' "$1" "$2" "$3" "$4"; }
show() { local v=(${R[$2]}); row "$1" "${v[0]}" "${v[1]}" "${v[2]}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
first() { local v=(${R[$1]:-0}); echo "${v[0]}"; }

# ---- redis ------------------------------------------------------------------
RPORT=$(free_port)
# BENCH_REDIS_ARGS adds redis-server options (e.g. "--auto-aof-rewrite-percentage 0").
# shellcheck disable=SC2086
# docker/redis.conf: the settings Raqib ships (AOF everysec, no RDB saves, ...).
$LOAD redis-server "$ROOT/docker/redis.conf" --port "$RPORT" --bind 127.0.0.1 --dir "$T" \
             --logfile "$T/redis.log" ${BENCH_REDIS_ARGS:-} &
PIDS+=($!)
wait_port "$RPORT"

# ---- the bare server --------------------------------------------------------
# bare_run NAME [changelist]: R[NAME_ka] and R[NAME_close] of the bare server.
bare_run() {
    note "bare evhttp server ${2:-}"
    local port pid
    port=$(free_port)
    $SRV "$T/bare" "$port" ${2:-} &
    pid=$!
    PIDS+=($pid)
    wait_port "$port"
    warm_up "$port"
    R[$1_ka]=$(run_wrk "$port" /v1/check 0 "$CONNS")
    R[$1_close]=$(run_wrk "$port" /v1/check 1 "$CONNS")
    kill "$pid"; wait "$pid" 2>/dev/null || true
}
bare_run bare               # libevent's defaults: the floor the targets are set against
bare_run bare_cl changelist # the same with the epoll changelist raqibd's workers use

# ---- raqibd ------------------------------------------------------------------
HS_NOTE="Hyperscan: not in this build"
declare -A HSN RSS   # per rule set: the Hyperscan line, RSS in KB once loaded and warm
RSS10K=""; IDLE_CONN=""
# wait_hyperscan LOG: until raqibd's background Hyperscan build is done.
wait_hyperscan() {
    for _ in $(seq 1 1800); do
        grep -q -E 'Hyperscan ready|PCRE2 runs every' "$1" && return 0
        sleep 0.5
    done
}

# raqibd_run NAME RULES THREADS [short]: R[*_NAME] for both endpoints,
# keep-alive and close (and, unless short, half of peak); the last rule set
# also measures memory per idle connection. With more than one thread the
# server is not pinned (it shares the cores with wrk, as it would a box).
raqibd_run() {
    local name=$1 rules=$2 threads=$3 short=${4:-}
    note "raqibd: $name ($rules, --threads $threads)"
    PORT=$(free_port)
    local srv=$SRV
    [ "$threads" -gt 1 ] && srv=""
    $srv "$BUILD/raqibd" --listen "127.0.0.1:$PORT" --rules "$rules" --threads "$threads" --flood_seconds 0 \
        --redis "redis://127.0.0.1:$RPORT/0" --spool "$T/spool$name" 2>"$T/raqibd$name.log" &
    PID=$!
    PIDS+=($PID)
    wait_port "$PORT"
    if [ -n "$HS_LIBS" ]; then
        wait_hyperscan "$T/raqibd$name.log"
        HSN[$name]=$(grep -o -E 'Hyperscan ready.*' "$T/raqibd$name.log" | head -1)
        HS_NOTE=${HSN[$name]}
        note "$HS_NOTE"
    fi
    warm_up "$PORT"
    RSS[$name]=$(rss_kb "$PID")
    # /v1/check first: it never touches Redis, so Redis's own work after
    # the /v1/comments runs (AOF fsync and rewrite) cannot weigh on it.
    R[check_ka_$name]=$(run_wrk "$PORT" /v1/check 0 "$CONNS")
    R[check_close_$name]=$(run_wrk "$PORT" /v1/check 1 "$CONNS")
    if [ "$name" = shipped ]; then
        teach "$PORT" 40
        R[check_ka_taught]=$(run_wrk "$PORT" /v1/check 0 "$CONNS")
    fi
    R[comments_ka_$name]=$(run_wrk "$PORT" /v1/comments 0 "$CONNS")
    R[comments_close_$name]=$(run_wrk "$PORT" /v1/comments 1 "$CONNS")
    if [ -z "$short" ]; then
        # Half of the keep-alive peak, paced: each of CONNS connections waits
        # CONNS * 1000 / (peak / 2) ms between requests.
        half_delay=$(awk -v c="$CONNS" -v p="$(first comments_ka_$name)" 'BEGIN { if (p > 0) printf "%d", c * 1000 / (p / 2); else print 0 }')
        R[comments_half_$name]=$(run_wrk "$PORT" /v1/comments 0 "$CONNS" "$half_delay")
    fi
    if [ "$name" = "$(echo $RULE_COUNTS | awk '{ print $NF }')" ]; then
        RSS10K=$(rss_kb "$PID")
        IDLE_CONN=$(perl -MIO::Socket::INET -e '
            my ($port, $pid) = @ARGV; my @s;
            sub rss { open my $f, "<", "/proc/$pid/status" or die; while (<$f>) { return $1 if /^VmRSS:\s+(\d+)/ } }
            my $before = rss();
            for (1 .. 1000) {
                my $c = IO::Socket::INET->new("127.0.0.1:$port") or die "connect: $!";
                print $c "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"; push @s, $c;
            }
            for my $c (@s) { my $buf; sysread $c, $buf, 4096 }
            select undef, undef, undef, 0.5;
            printf "%.1f", (rss() - $before) * 1024 / 1000;' "$PORT" "$PID")
        RSS_RULES=$name
    fi
    kill "$PID"; wait "$PID" 2>/dev/null || true
}

# The rules users run first (rules/: several views, word lists, two
# learned models), one worker then one per core; then the generated sets.
NCPU=$(nproc)
SHIPPED_RULES=$(cat rules/*.rules | grep -c '^rule ')
raqibd_run shipped "$ROOT/rules" 1
[ "$NCPU" -gt 1 ] && raqibd_run shipped_mt "$ROOT/rules" "$NCPU" short

# ---- side by side: the shipped rules and the bare server, alternating ------
# On a shared machine a server's speed drifts by tens of percent within
# minutes (the bare server alone: 28,000 to 40,000 req/s in one evening), and
# the rows above are minutes apart. Here the bare server and raqibd (shipped
# rules, one worker) run at once on the same core and /v1/check is measured
# on each in turn, SBS_ROUNDS rounds (default 3): the rounds' ratios and
# their median are the steadier figure against the 0.6 target.
side_by_side() {
    local bport sport bpid spid b s
    note "side by side: bare and shipped, alternating"
    bport=$(free_port)
    $SRV "$T/bare" "$bport" &
    bpid=$!
    PIDS+=($bpid)
    sport=$(free_port)
    $SRV "$BUILD/raqibd" --listen "127.0.0.1:$sport" --rules "$ROOT/rules" --threads 1 --flood_seconds 0 \
        --redis "redis://127.0.0.1:$RPORT/0" --spool "$T/spool_sbs" 2>"$T/raqibd_sbs.log" &
    spid=$!
    PIDS+=($spid)
    wait_port "$bport"
    wait_port "$sport"
    [ -n "$HS_LIBS" ] && wait_hyperscan "$T/raqibd_sbs.log"
    warm_up "$bport"
    warm_up "$sport"
    SBS=()
    for _ in $(seq 1 "${SBS_ROUNDS:-3}"); do
        b=$(run_wrk "$bport" /v1/check 0 "$CONNS")
        s=$(run_wrk "$sport" /v1/check 0 "$CONNS")
        SBS+=("$(ratio "${s%% *}" "${b%% *}")")
    done
    kill "$bpid" "$spid"
    wait "$bpid" "$spid" 2>/dev/null || true
}
side_by_side
for n in $RULE_COUNTS; do
    mkdir -p "$T/r$n"
    "$T/engine_bench" gen "$n" "$T/r$n"
    raqibd_run "$n" "$T/r$n" 1
done

# ---- Redis Cluster: /v1/comments past one Redis core ---------------------------
# The same raqibd (CL_THREADS workers, the fewest rules) on one redis-server
# and on a Cluster of three masters, 16 sites spread over them, unpinned: the
# row needs cores enough for three redis-servers, the workers and wrk
# (nproc >= 8; BENCH_CLUSTER=1 runs it anyway, to try the script).
CLUSTER_NOTE="Redis Cluster row: skipped, $(nproc) cores (it needs 8: three redis-servers, raqibd's workers and wrk each want their own)"
if [ "$(nproc)" -ge 8 ] || [ "${BENCH_CLUSTER:-0}" = 1 ]; then
    CL_THREADS=$(( $(nproc) - 4 > 8 ? 8 : ( $(nproc) > 5 ? $(nproc) - 4 : 1 ) ))
    CL_RULES=$(echo $RULE_COUNTS | awk '{ print $1 }')
    CL=()
    for port in $(free_port) $(free_port) $(free_port) $(free_port); do
        mkdir -p "$T/cl$port"
        args=(--cluster-enabled yes --cluster-config-file nodes.conf)
        [ ${#CL[@]} = 3 ] && args=()   # the fourth: one plain redis-server to compare with
        redis-server --port "$port" --bind 127.0.0.1 --dir "$T/cl$port" --appendonly yes --appendfsync everysec \
            --save "" --logfile "$T/cl$port/redis.log" "${args[@]}" &
        PIDS+=($!)
        wait_port "$port"
        CL+=("$port")
    done
    redis-cli --cluster create "127.0.0.1:${CL[0]}" "127.0.0.1:${CL[1]}" "127.0.0.1:${CL[2]}" \
        --cluster-replicas 0 --cluster-yes >/dev/null
    for _ in $(seq 1 100); do redis-cli -p "${CL[0]}" cluster info | grep -q cluster_state:ok && break; sleep 0.1; done
    for url in "redis://127.0.0.1:${CL[3]}/0" "redis-cluster://127.0.0.1:${CL[0]}"; do
        note "raqibd --threads $CL_THREADS on $url"
        PORT=$(free_port)
        "$BUILD/raqibd" --listen "127.0.0.1:$PORT" --rules "$T/r$CL_RULES" --threads "$CL_THREADS" --flood_seconds 0 \
            --redis "$url" --spool "$T/spoolcl$PORT" 2>"$T/raqibdcl$PORT.log" &
        PID=$!
        PIDS+=($PID)
        wait_port "$PORT"
        for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
        warm_up "$PORT"
        R[cluster_${url%%:*}]=$(BENCH_SITES=16 LOAD="" run_wrk "$PORT" /v1/comments 0 "$CONNS")
        kill "$PID"; wait "$PID" 2>/dev/null || true
    done
    CLUSTER_NOTE="Redis Cluster rows: raqibd --threads $CL_THREADS, $CL_RULES rules, 16 sites, nothing pinned;"
    CLUSTER_NOTE+=" three masters / one Redis: $(ratio "$(first cluster_redis-cluster)" "$(first cluster_redis)")"
fi

# ---- rspamd on the same 1,000 patterns --------------------------------------
PEER="$ROOT/../shared/bench/rspamd-peer/run.sh"
RSPAMD_LINE=""
if [ "${BENCH_RSPAMD:-1}" = 0 ]; then
    RSPAMD_NOTE="rspamd: skipped (BENCH_RSPAMD=0)"
elif ! command -v rspamd >/dev/null; then
    RSPAMD_NOTE="rspamd: not installed (apt-get install rspamd jq), skipped"
elif [ ! -f "$PEER" ]; then
    RSPAMD_NOTE="rspamd: $PEER not found, skipped"
else
    note "rspamd (shared/bench/rspamd-peer, n1000, one run)"
    RSPAMD_LINE=$(CASES=n1000 REPEAT=1 DURATION="${SECS}s" RSPAMD_PEER_DIR="$T/rspamd" bash "$PEER" 2>"$T/rspamd.err" | grep '^rspamd' | tail -1 || true)
    if [ -n "$RSPAMD_LINE" ]; then
        R[rspamd]=$(sed -E 's/.*req\/s=([0-9.]+) p50_ms=([0-9.]+) p99_ms=([0-9.]+).*/\1 \2 \3/' <<<"$RSPAMD_LINE")
        RSPAMD_NOTE="rspamd 1,000 regexp rules, /checkv2, 1 KB Arabic: $RSPAMD_LINE"
    else
        RSPAMD_NOTE="rspamd: the peer script failed (see its stderr), skipped"
    fi
fi

# ---- the engine alone -------------------------------------------------------
declare -A E
ENGINE_MAX=${BENCH_ENGINE_MAX:-1000}
note "engine micro-benchmark, shipped rules"
out=$(ENGINE_BENCH_HS_CACHE="$ROOT/var/hs-cache" $SRV "$T/engine_bench" hyperscan "$ROOT/rules" 2 2>/dev/null)
E[hs_shipped]=$(sed -n 's/^hyperscan_per_s=//p' <<<"$out")
PARTS=$(ENGINE_BENCH_HS_CACHE="$ROOT/var/hs-cache" $SRV "$T/engine_bench" parts "$ROOT/rules" 1 2>/dev/null |
        sed -n 's/^\([a-z_]*\)_us=\([0-9.]*\).*/\1 \2/p')
part() { awk -v k="$1" '$1 == k { print $2 }' <<<"$PARTS"; }
for n in $RULE_COUNTS; do
    if [ "$n" -gt "$ENGINE_MAX" ]; then
        note "engine micro-benchmark, $n rules: skipped (its Hyperscan build takes minutes; BENCH_ENGINE_MAX=$n runs it)"
        continue
    fi
    note "engine micro-benchmark, $n rules"
    out=$($SRV "$T/engine_bench" run "$T/r$n" 2 2>/dev/null)
    E[hs_$n]=$(sed -n 's/^hyperscan_per_s=//p' <<<"$out")
    E[pcre_$n]=$(sed -n 's/^pcre2_per_s=//p' <<<"$out")
    E[load_$n]=$(sed -n 's/^load_seconds=\([0-9.]*\).*/\1/p' <<<"$out")
    E[fold]=$(sed -n 's/^fold_mb_per_s=\([0-9.]*\).*/\1/p' <<<"$out")
    E[fold_norm]=$(sed -n 's/^fold_norm_mb_per_s=\([0-9.]*\).*/\1/p' <<<"$out")
    E[learned]=$(sed -n 's/^learned_per_s=\([0-9.]*\).*/\1/p' <<<"$out")
done

# ---- the table ----------------------------------------------------------------
echo
echo "raqib bench — $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "$PINNING; raqibd --threads 1 --flood_seconds 0, Redis AOF everysec; wrk 1 thread, ${SECS} s per run"
echo "comment: $BYTES bytes of Arabic with some English; every request a new e-mail and text"
echo "$HS_NOTE"
echo
row "HTTP (wrk -c $CONNS unless noted)" "req/s" "p50 ms" "p99 ms"
show "bare evhttp 202, keep-alive" bare_ka
show "bare evhttp 202, Connection: close" bare_close
show "bare evhttp 202 + changelist, keep-alive" bare_cl_ka
show "bare evhttp 202 + changelist, close" bare_cl_close
show "POST /v1/check, shipped rules, keep-alive" check_ka_shipped
show "POST /v1/check, shipped rules, close" check_close_shipped
show "POST /v1/check, shipped, 40 decisions taught" check_ka_taught
show "POST /v1/comments, shipped rules, keep-alive" comments_ka_shipped
show "POST /v1/comments, shipped rules, close" comments_close_shipped
show "POST /v1/comments, shipped, half of peak" comments_half_shipped
if [ -n "${R[check_ka_shipped_mt]:-}" ]; then
    show "POST /v1/check, shipped, $NCPU workers, k-a" check_ka_shipped_mt
    show "POST /v1/check, shipped, $NCPU workers, close" check_close_shipped_mt
    show "POST /v1/comments, shipped, $NCPU workers, k-a" comments_ka_shipped_mt
    show "POST /v1/comments, shipped, $NCPU workers, close" comments_close_shipped_mt
fi
for n in $RULE_COUNTS; do
    show "POST /v1/comments, $n rules, keep-alive" comments_ka_$n
    show "POST /v1/comments, $n rules, close" comments_close_$n
    show "POST /v1/check, $n rules, keep-alive" check_ka_$n
    show "POST /v1/check, $n rules, close" check_close_$n
    show "POST /v1/comments, $n rules, half of peak" comments_half_$n
done
[ -n "${R[rspamd]:-}" ] && show "rspamd /checkv2, 1000 rules (-c 50)" rspamd
[ -n "${R[cluster_redis]:-}" ] && show "POST /v1/comments, $CL_THREADS workers, one Redis" cluster_redis
[ -n "${R[cluster_redis-cluster]:-}" ] && show "POST /v1/comments, $CL_THREADS workers, Cluster x3" cluster_redis-cluster
echo "$CLUSTER_NOTE"
echo
echo "ratios"
mid=$(echo $RULE_COUNTS | awk '{ print $(NF > 1 ? 2 : 1) }')
echo "  shipped rules ($SHIPPED_RULES) / bare, /v1/check keep-alive:    $(ratio "$(first check_ka_shipped)" "$(first bare_ka)")   (target >= 0.6)"
echo "    side by side, ${#SBS[@]} alternating rounds: ${SBS[*]}; median $(printf '%s\n' "${SBS[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
echo "  shipped rules / bare, /v1/comments keep-alive:      $(ratio "$(first comments_ka_shipped)" "$(first bare_ka)")   (target >= 0.4)"
echo "  cost of shipped rules / $mid generated, /v1/check:  $(ratio "$(first check_ka_$mid)" "$(first check_ka_shipped)")   (target <= 2)"
echo "  cost of shipped rules / $mid generated, /v1/comments: $(ratio "$(first comments_ka_$mid)" "$(first comments_ka_shipped)")"
if [ -n "${R[check_ka_shipped_mt]:-}" ]; then
    echo "  shipped, $NCPU workers / 1, /v1/check keep-alive:  $(ratio "$(first check_ka_shipped_mt)" "$(first check_ka_shipped)")   (wrk shares the cores)"
fi
lo=$(echo $RULE_COUNTS | awk '{ print $1 }'); hi=$(echo $RULE_COUNTS | awk '{ print $NF }')
for n in $RULE_COUNTS; do
    echo "  /v1/check, $n rules / bare (keep-alive):       $(ratio "$(first check_ka_$n)" "$(first bare_ka)")   (target >= 0.7)"
done
echo "  /v1/check, $lo rules / bare (close):         $(ratio "$(first check_close_$lo)" "$(first bare_close)")"
echo "  /v1/check, $lo rules / bare + changelist (keep-alive): $(ratio "$(first check_ka_$lo)" "$(first bare_cl_ka)")" \
     "  (like for like: both loops batch their epoll changes)"
if [ -n "${R[rspamd]:-}" ]; then
    echo "  /v1/comments, $mid rules / rspamd $mid rules:   $(ratio "$(first comments_ka_$mid)" "$(first rspamd)")   (target >= 10)"
else
    echo "  /v1/comments vs rspamd: $RSPAMD_NOTE"
    echo "    (field figure for rspamd 3.4, one worker, 1,000 rules: ~1,900 req/s ->" \
         "$(ratio "$(first comments_ka_$mid)" 1900) x, not measured in this run)"
fi
echo "  cost of $hi rules / $lo rules, /v1/comments:  $(ratio "$(first comments_ka_$lo)" "$(first comments_ka_$hi)")   (target <= 2)"
echo "  cost of $hi rules / $lo rules, /v1/check:     $(ratio "$(first check_ka_$lo)" "$(first check_ka_$hi)")"
echo
row "rule engine alone (one core)" "HS c/s" "PCRE2 c/s" "HS load s"
row "  shipped rules ($SHIPPED_RULES)" "${E[hs_shipped]:-?}" "-" "-"
for n in $RULE_COUNTS; do
    row "  $n rules" "${E[hs_$n]:-skipped}" "${E[pcre_$n]:-skipped}" "${E[load_$n]:-skipped}"
done
echo "shipped rules, µs per comment: engine $(part engine); in it the content fold $(part fold_content)," \
     "spam model $(part model_spam) ($(part model_spam_site) with a site's counts, $(part model_spam_joint) indexed)," \
     "abuse model $(part model_abuse) ($(part model_abuse_site) with a site's counts, $(part model_abuse_joint) indexed)"
echo "fold (norm_text_build, every view of the comment, flags counted): ${E[fold]:-?} MB/s"
echo "fold (the norm view alone, as the bench rules read it): ${E[fold_norm]:-?} MB/s"
echo "learned model (rules/models/spam.model) scoring the folded comment: ${E[learned]:-?} comments/s"
echo "memory: RSS with $RSS_RULES rules ${RSS10K:-?} KB; ${IDLE_CONN:-?} bytes per idle keep-alive connection (1,000 opened)"
echo -n "memory: RSS once loaded and warm (one worker), KB:"
for n in shipped $RULE_COUNTS; do echo -n " $n ${RSS[$n]:-?};"; done
echo
echo "Hyperscan, shipped rules: ${HSN[shipped]:-not in this build}"
echo "redis: $(redis-cli -p "$RPORT" info commandstats | tr -d '\r' | sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),usec=[0-9]*,usec_per_call=\([0-9.]*\).*/EVALSHA (the submit script) \1 calls, \2 µs per call (wall time in Redis, which shares CPU 1 with wrk)/p')"
echo "half of peak: each of the $CONNS connections paced (post.lua delay) to offer half the keep-alive req/s"
echo "  (wrk counts latency from the send, so these p99s are service times at that load)"
