# lib.sh — what the bench scripts (run.sh, aof-p99.sh) share: a temp dir
# removed on exit with every process started into PIDS stopped, a free
# loopback port, and waiting for one to listen. Sourced, after NAME is set
# (the temp dir's name: /tmp/raqib-NAME.XXXXXX).
T=$(mktemp -d "/tmp/raqib-$NAME.XXXXXX")
PIDS=()

cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1:0")->sockport'; }

# wait_port PORT: until something listens on it (20 s), else exit 1.
wait_port() {
    for _ in $(seq 1 400); do
        perl -MIO::Socket::INET -e 'exit(IO::Socket::INET->new("127.0.0.1:'"$1"'") ? 0 : 1)' && return 0
        sleep 0.05
    done
    echo "nothing listens on port $1"; exit 1
}
