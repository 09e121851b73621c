#!/usr/bin/env bash
# Benchmark of the probe engine (rdsports-net): 10,000 TCP probes inside a private network
# namespace, a third to listening ports, a third to closed ports (refused) and a third
# dropped by an nftables rule; compared with the floor and with `nmap -sT`.
#
#   bench/net-probe.sh [TIMEOUT_MS] [RETRIES] [CONCURRENCY]     (defaults: 1000 1 1000)
#
# Targets: 198.18.0.1-10 (on the namespace's loopback) x 1,000 ports:
#   10001-10334 listening (3,340 probes), 20001-20333 closed (3,330), 30001-30333 dropped
#   (3,330). Nothing leaves the namespace (`unshare -rn`: a new user and network
#   namespace; the host's interfaces and firewall are untouched).
#
# Floor = ceil(dropped / concurrency) x timeout x (retries + 1) + the open-and-refused work
# (measured by a run over those targets alone). Needs: unshare, ip, nft; nmap and
# /usr/bin/time are used when installed. Reports wall time and peak RSS.
set -euo pipefail

TIMEOUT_MS=${1:-1000}
RETRIES=${2:-1}
CONCURRENCY=${3:-1000}
HOSTS=198.18.0.1-10
OPEN=10001-10334
CLOSED=20001-20333
DROPPED=30001-30333
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET_DIR/release/examples/probe_many

if [[ -z ${RDSPORTS_BENCH_INSIDE:-} ]]; then
    for tool in unshare ip nft; do
        command -v "$tool" >/dev/null || { echo "net-probe.sh: $tool is required" >&2; exit 2; }
    done
    (cd "$ROOT" && cargo build --quiet --release -p rdsports-net --example probe_many)
    echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
    echo "settings: timeout ${TIMEOUT_MS} ms, retries ${RETRIES}, concurrency ${CONCURRENCY}"
    exec unshare -rn env RDSPORTS_BENCH_INSIDE=1 CARGO_TARGET_DIR="$TARGET_DIR" \
        "$0" "$TIMEOUT_MS" "$RETRIES" "$CONCURRENCY"
fi

# Inside the namespace from here on.
ulimit -n "$(ulimit -Hn)"
ip link set lo up
for i in $(seq 1 10); do ip addr add "198.18.0.$i/32" dev lo; done
nft -f - <<EOF
table ip rdsports_bench {
    chain input {
        type filter hook input priority 0; policy accept;
        tcp dport $DROPPED drop
    }
}
EOF

"$BIN" serve "$OPEN" >/dev/null &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true' EXIT
sleep 1

TIME=()
if [[ -x /usr/bin/time ]]; then TIME=(/usr/bin/time -v); fi

run() { # label, command...
    local label=$1; shift
    local log
    log=$(mktemp)
    local start end
    start=$(date +%s.%N)
    "${TIME[@]}" "$@" >"$log.out" 2>"$log.err" || { cat "$log.err" >&2; return 1; }
    end=$(date +%s.%N)
    local rss
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f MB", $2/1024}' "$log.err")
    printf '%-28s wall %6.2f s  peak RSS %s\n' "$label" "$(awk "BEGIN {print $end - $start}")" "${rss:-n/a}"
    sed -n '1,5s/^/    /p' "$log.out"
    rm -f "$log" "$log.out" "$log.err"
}

echo "== open + refused only (the work part of the floor)"
run "rdsports (no drops)" "$BIN" probe "$HOSTS" "$OPEN,$CLOSED" "$TIMEOUT_MS" "$RETRIES" "$CONCURRENCY"

echo "== all 10,000"
run "rdsports" "$BIN" probe "$HOSTS" "$OPEN,$CLOSED,$DROPPED" "$TIMEOUT_MS" "$RETRIES" "$CONCURRENCY"

DROPPED_COUNT=3330
WAVES=$(( (DROPPED_COUNT + CONCURRENCY - 1) / CONCURRENCY ))
echo "floor (without the work part): ${WAVES} waves x ${TIMEOUT_MS} ms x $((RETRIES + 1)) attempts = $(awk "BEGIN {printf \"%.2f\", $WAVES * $TIMEOUT_MS * ($RETRIES + 1) / 1000}") s"

if command -v nmap >/dev/null; then
    echo "== nmap -sT, same timeout (min = initial = max RTT timeout), retries and parallelism"
    NORMAL=$(mktemp)
    run "nmap -sT" nmap -sT -Pn -n --max-retries "$RETRIES" \
        --min-rtt-timeout "${TIMEOUT_MS}ms" --initial-rtt-timeout "${TIMEOUT_MS}ms" \
        --max-rtt-timeout "${TIMEOUT_MS}ms" \
        --min-parallelism "$CONCURRENCY" --max-parallelism "$CONCURRENCY" \
        --min-hostgroup 10 -p "$OPEN,$CLOSED,$DROPPED" "$HOSTS" -oN "$NORMAL"
    awk '/^[0-9]+\/tcp +open /     { st["open"]++ }
         /^[0-9]+\/tcp +closed /   { st["closed"]++ }
         /^[0-9]+\/tcp +filtered / { st["filtered"]++ }
         /^Not shown:/ { sub(/^Not shown: /, ""); n = split($0, part, ", ");
                         for (i = 1; i <= n; i++) { split(part[i], w, " "); st[w[2]] += w[1] } }
         END { printf "    nmap verdicts: open %d, closed %d, filtered %d\n", st["open"], st["closed"], st["filtered"] }' "$NORMAL"
    rm -f "$NORMAL"
else
    echo "nmap not installed: comparison skipped"
fi
