#!/usr/bin/env bash
# Benchmark of the real `rdsports check` command: 10,000 TCP flows (10 hosts x 1,000 ports:
# a third listening, a third closed, a third dropped) in two network namespaces of its own,
# side by side with `nmap -sT` at its defaults and pinned to the same timeout, with and
# without a delay line (200 ms +- 50 ms on the replies, 1 % loss each way).
#
#   bench/check.sh [CONCURRENCY]     (default 1000; run as root; RDSPORTS_BENCH_NMAP=0
#                                     leaves nmap out, RDSPORTS_BENCH_RUSTSCAN=0 RustScan;
#                                     RDSPORTS_BENCH_KEEP=DIR keeps every output there and
#                                     the delay line's packet log, delay-line.log;
#                                     RDSPORTS_BENCH_REPEAT=N runs the adaptive command N
#                                     times; RDSPORTS_BENCH_ONLY=direct|delayed one setting)
#
# Namespaces r11-cli (the prober) and r11-srv (the targets, 198.18.0.1-10 on its loopback,
# listeners on 10001-10334, nothing on 20001-20333, an nftables drop on 30001-30333). The
# prober is 198.18.11.1. "direct": a veth pair. "delayed": the kernel here has no tc netem
# (CONFIG_NET_SCH_NETEM is off), so bench/delay-line.py forwards between two TUN devices
# with the delay, jitter and loss netem would add. Nothing leaves the namespaces; they are
# deleted at the end, whatever happens.
#
# rdsports runs twice per setting: adaptive (no --timeout, the default) and pinned
# (--timeout 1000 --retries 1); then pinned on the listening and closed ports alone, the
# work the pinned setting does besides waiting (the floor below plus that work is the
# floor as bench/net-probe.sh and the issue measure it). nmap runs at its defaults (-sT -Pn
# -n, adaptive timing, up to 10 retries) and pinned (min = initial = max RTT timeout 1000 ms, 1 retry, the same
# parallelism). The floor of the pinned setting: ceil(3,330 dropped / concurrency) waves x
# 1000 ms x 2 attempts. Wrong verdicts are counted port by port against the truth.
# RustScan runs when target/rustscan/bin/rustscan exists (`cargo install rustscan --locked
# --root target/rustscan`, about 4 minutes here), at its defaults (batch 4500, 1500 ms,
# 1 try) and pinned (batch = concurrency, 1000 ms, 2 tries); it reports open ports only, so
# its wrong verdicts count listening ports it missed and others it called open.
set -euo pipefail

CONCURRENCY=${1:-1000}
OPEN=10001-10334
CLOSED=20001-20333
DROPPED=30001-30333
PORTS="$OPEN,$CLOSED,$DROPPED"
TARGETS=$(seq -s, -f '198.18.0.%g' 1 10)
NMAP_TARGETS=198.18.0.1-10
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
RDSPORTS=$TARGET_DIR/release/rdsports
SERVE=$TARGET_DIR/release/examples/probe_many
RUSTSCAN=${RUSTSCAN:-$ROOT/target/rustscan/bin/rustscan}
PORT_LIST=$( { seq 10001 10334; seq 20001 20333; seq 30001 30333; } | paste -sd, -)
CLI=r11-cli
SRV=r11-srv
WORK=$(mktemp -d)
PIDS=()

cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    ip netns del "$CLI" 2>/dev/null || true
    ip netns del "$SRV" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in ip nft jq python3; do
    command -v "$tool" >/dev/null || { echo "check.sh: $tool is required" >&2; exit 2; }
done
(cd "$ROOT" && cargo build --quiet --release --bin rdsports && cargo build --quiet --release -p rdsports-net --example probe_many)
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "flows: 10 hosts x 1,000 ports (3,340 open, 3,330 refused, 3,330 dropped), concurrency $CONCURRENCY"

in_cli() { ip netns exec "$CLI" "$@"; }
in_srv() { ip netns exec "$SRV" "$@"; }

ip netns add "$SRV"
ip netns add "$CLI"
for ns in "$SRV" "$CLI"; do
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done
for i in $(seq 1 10); do in_srv ip addr add "198.18.0.$i/32" dev lo; done
in_srv nft -f - <<NFT
table ip r11_bench {
    chain input {
        type filter hook input priority 0; policy accept;
        tcp dport $DROPPED drop
    }
}
NFT
# Not through in_srv: a function run in the background is a subshell, and its PID is not
# the server's (killing it would leave the server running).
ip netns exec "$SRV" bash -c "ulimit -n \$(ulimit -Hn); exec '$SERVE' serve '$OPEN'" >/dev/null &
PIDS+=($!)
sleep 1

link_direct() {
    ip link add r11-c netns "$CLI" type veth peer name r11-s netns "$SRV"
    in_cli ip addr add 198.18.11.1/24 dev r11-c
    in_srv ip addr add 198.18.11.2/24 dev r11-s
    in_cli ip link set r11-c up
    in_srv ip link set r11-s up
    in_cli ip route add 198.18.0.0/24 via 198.18.11.2 src 198.18.11.1
}

link_delayed() {
    in_cli ip link del r11-c 2>/dev/null || true
    local log=()
    [[ -n ${RDSPORTS_BENCH_KEEP:-} ]] && mkdir -p "$RDSPORTS_BENCH_KEEP" &&
        log=("$RDSPORTS_BENCH_KEEP/delay-line.log")
    python3 "$ROOT/bench/delay-line.py" "$CLI" r11-d0 "$SRV" r11-d1 200 50 1 11 "${log[@]}" \
        >"$WORK/line.out" &
    PIDS+=($!)
    for _ in $(seq 1 50); do grep -q ready "$WORK/line.out" 2>/dev/null && break; sleep 0.1; done
    in_cli ip addr add 198.18.11.1/32 dev r11-d0
    in_cli ip link set r11-d0 up
    in_srv ip link set r11-d1 up
    in_cli ip route add 198.18.0.0/24 dev r11-d0 src 198.18.11.1
    in_srv ip route add 198.18.11.0/24 dev r11-d1
}

# Packets the delay line's TUN devices dropped because their queue was full (the kernel
# counts them as tx_dropped): loss the bench did not ask for, printed when there is any.
queue_drops() {
    local total=0 n
    for dev in "$CLI r11-d0" "$SRV r11-d1"; do
        set -- $dev
        n=$(ip netns exec "$1" cat "/sys/class/net/$2/statistics/tx_dropped" 2>/dev/null || echo 0)
        total=$((total + n))
    done
    echo "$total"
}
drops_since() { # before
    local now
    now=$(queue_drops)
    (( now > $1 )) && echo "; $((now - $1)) packets dropped by the delay line's full queue"
    return 0
}

# Wrong verdicts of an rdsports JSON document or an nmap -oG file, port by port.
score() { # kind file
    python3 - "$1" "$2" <<'PY'
import json, re, sys
kind, path = sys.argv[1:3]
def truth(port):
    if 10001 <= port <= 10334: return "open"
    if 20001 <= port <= 20333: return "closed"
    return "filtered"
spans = ((10001, 10334), (20001, 20333)) + (() if kind == "work" else ((30001, 30333),))
ports = [p for r in spans for p in range(r[0], r[1] + 1)]
hosts = [f"198.18.0.{i}" for i in range(1, 11)]
seen = {}
if kind == "rustscan":
    # Greppable output: "ADDRESS -> [PORT,PORT,...]"; what is not listed is not open.
    listed = set()
    for line in open(path):
        addr, _, rest = line.partition(" -> ")
        for p in rest.strip().strip("[]").split(","):
            if p.strip():
                listed.add((addr.strip(), int(p)))
    def truth(port):
        return "open" if 10001 <= port <= 10334 else "not open"
    for h in hosts:
        for p in ports:
            seen[(h, p)] = "open" if (h, p) in listed else "not open"
elif kind in ("rdsports", "work"):
    doc = json.load(open(path))
    names = {"refused": "closed"}
    for r in doc["results"]:
        seen[(r["address"], r["port"])] = names.get(r["verdict"], r["verdict"])
else:
    # nmap -oX: listed ports, and the collapsed ones with their ranges (nmap >= 7.90).
    import xml.etree.ElementTree as ET
    def ranges(text):
        for part in text.split(","):
            lo, _, hi = part.partition("-")
            yield from range(int(lo), int(hi or lo) + 1)
    for host in ET.parse(path).getroot().iter("host"):
        addr = host.find("address").get("addr")
        for port in host.iter("port"):
            seen[(addr, int(port.get("portid")))] = port.find("state").get("state")
        for extra in host.iter("extraports"):
            for reason in extra.iter("extrareasons"):
                for p in ranges(reason.get("ports", "")) if reason.get("ports") else []:
                    seen[(addr, p)] = extra.get("state")
wrong = sum(1 for h in hosts for p in ports if seen.get((h, p)) != truth(p))
counts = {}
for v in seen.values(): counts[v] = counts.get(v, 0) + 1
print(f"wrong {wrong}; " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
PY
}

run() { # label kind command...
    local label=$1 kind=$2; shift 2
    local out=$WORK/out err=$WORK/err start end
    local before
    before=$(queue_drops)
    start=$(date +%s.%N)
    in_cli bash -c 'ulimit -n "$(ulimit -Hn)"; exec "$@"' _ /usr/bin/time -v "$@" >"$out" 2>"$err" || true
    end=$(date +%s.%N)
    local rss
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f MB", $2/1024}' "$err")
    local file=$out
    [[ $kind == nmap ]] && file=$WORK/nmap.xml
    if [[ -n ${RDSPORTS_BENCH_KEEP:-} ]]; then
        local kept
        kept=$RDSPORTS_BENCH_KEEP/$(tr -c 'A-Za-z0-9\n' _ <<<"$SETTING $label")
        mkdir -p "$RDSPORTS_BENCH_KEEP"
        cp "$file" "$kept"
        echo "$start $end" >"$kept.time"
    fi
    WALL=$(awk "BEGIN {printf \"%.2f\", $end - $start}")
    printf '  %-34s wall %7.2f s  peak RSS %-9s %s%s\n' "$label" "$WALL" "${rss:-n/a}" \
        "$(score "$kind" "$file")" "$(drops_since "$before")"
}

bench() { # setting
    SETTING=${1%% *}
    echo "== $1"
    local adaptive=0 n repeat=${RDSPORTS_BENCH_REPEAT:-1}
    for n in $(seq 1 "$repeat"); do
        run "rdsports check (adaptive)$( ((repeat > 1)) && echo " #$n")" rdsports "$RDSPORTS" check \
            --target "$TARGETS" --port "$PORTS" --concurrency "$CONCURRENCY" --format json
        adaptive=$(awk -v a="$adaptive" -v w="$WALL" -v r="$repeat" 'BEGIN {printf "%.4f", a + w / r}')
    done
    run "rdsports check --timeout 1000" rdsports "$RDSPORTS" check --target "$TARGETS" --port "$PORTS" \
        --concurrency "$CONCURRENCY" --timeout 1000 --retries 1 --format json
    # The work beside the floor: the pinned setting on the listening and closed ports alone
    # (the same timeout, retries and concurrency), as bench/net-probe.sh measures it.
    run "  the open and refused work alone" work "$RDSPORTS" check --target "$TARGETS" \
        --port "$OPEN,$CLOSED" --concurrency "$CONCURRENCY" --timeout 1000 --retries 1 --format json
    local work=$WALL
    if command -v nmap >/dev/null && [[ ${RDSPORTS_BENCH_NMAP:-1} != 0 ]]; then
        run "nmap -sT (defaults)" nmap nmap -sT -Pn -n -p "$PORTS" "$NMAP_TARGETS" -oX "$WORK/nmap.xml"
        run "nmap -sT (pinned 1000 ms, 1 retry)" nmap nmap -sT -Pn -n --max-retries 1 \
            --min-rtt-timeout 1000ms --initial-rtt-timeout 1000ms --max-rtt-timeout 1000ms \
            --min-parallelism "$CONCURRENCY" --max-parallelism "$CONCURRENCY" --min-hostgroup 10 \
            -p "$PORTS" "$NMAP_TARGETS" -oX "$WORK/nmap.xml"
    fi
    if [[ -x $RUSTSCAN && ${RDSPORTS_BENCH_RUSTSCAN:-1} != 0 ]]; then
        run "rustscan (defaults)" rustscan "$RUSTSCAN" -n --no-banner -g --scripts none \
            -a "$TARGETS" -p "$PORT_LIST"
        run "rustscan (pinned 1000 ms, 2 tries)" rustscan "$RUSTSCAN" -n --no-banner -g \
            --scripts none -b "$CONCURRENCY" -t 1000 --tries 2 -a "$TARGETS" -p "$PORT_LIST"
    fi
    local waves=$(( (3330 + CONCURRENCY - 1) / CONCURRENCY ))
    echo "  floor of the pinned setting: $waves waves x 1000 ms x 2 attempts = $((waves * 2)) s (+ the open and refused work)"
    awk -v a="$adaptive" -v f="$((waves * 2))" -v w="$work" -v r="$repeat" 'BEGIN {
        runs = ""; if (r > 1) runs = " (mean of " r " runs)"
        printf "  adaptive%s: %.2fx of the floor, %.2fx of the floor + work (%.2f s)\n", runs, a / f, a / (f + w), f + w }'
}

ONLY=${RDSPORTS_BENCH_ONLY:-}
link_direct
[[ -z $ONLY || $ONLY == direct ]] && bench "direct (veth)"
if [[ -z $ONLY || $ONLY == delayed ]]; then
    link_delayed
    bench "delayed (200 ms +- 50 ms replies, 1 % loss each way)"
fi
