#!/usr/bin/env bash
# The worst case of each deployment shape, end to end: time and peak resident memory of the
# release binary (`/usr/bin/time`), for the shapes that once exhausted the machine.
#
#   bench/hostile.sh [OUT_DIR]
#
# Shapes: hosts × roles (every host has every role), mixed hosts, zones × hosts (one host per
# zone), the planning benchmark's farm (10,032 hosts, 2.9 M flows), plus the inputs that made
# diagnostics quadratic. Files are generated into OUT_DIR (default: target/hostile);
# addresses come from 198.18.0.0/15 (RFC 2544). Nothing is probed: only plan, rules,
# diagram and report run.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/hostile}"
mkdir -p "$out"
cargo build -q --release
bin="$PWD/target/release/rdsports"
python3 - "$out" <<'PY'
import sys
out = sys.argv[1]
roles = ["client", "gateway", "web-access", "connection-broker", "session-host",
         "virtualization-host", "virtual-desktop", "licensing", "domain-controller", "dns",
         "nps", "crl", "sql", "file-server", "management", "clearinghouse", "reverse-proxy"]
def addr(i): return f"198.{18 + i // 65536}.{(i // 256) % 256}.{i % 256}"
def host(name, a, rs):
    return f'[[host]]\nname = "{name}"\naddress = "{a}"\nroles = [{", ".join(chr(34) + r + chr(34) for r in rs)}]\n'
def write(name, text):
    open(f"{out}/{name}.toml", "w").write(text)
for n in (50, 3000):
    write(f"every-{n}", 'name = "every"\n' + "".join(host(f"h{i}", addr(i), roles) for i in range(n)))
x = 0x9E3779B97F4A7C15
s = 'name = "mixed"\n'
for i in range(20000):
    rs = []
    for _ in range(i % 4 + 1):
        x ^= (x << 13) & (2**64 - 1); x ^= x >> 7; x ^= (x << 17) & (2**64 - 1)
        r = roles[x % 17]
        if r not in rs: rs.append(r)
    s += host(f"h{i}", addr(i), rs)
write("mixed-20000", s)
turn = ["session-host", "connection-broker", "gateway", "domain-controller", "web-access", "licensing"]
for n in (30, 100, 300, 1000, 2000):
    s = 'name = "zones"\n' + "".join(f'[[zone]]\nname = "z{i}"\nnetworks = ["{addr(i)}/32"]\n' for i in range(n))
    s += "".join(host(f"h{i}", addr(i), [turn[i % 6]]) for i in range(n))
    write(f"zones-{n}", s)
write("dup-roles-100000", 'name = "d"\n' + host("a", addr(1), ["gateway"] * 100000))
s = 'name = "u"\n'
for i in range(20000):
    s += host(f"h{i}", addr(i), [f"role{i}"])
write("unknown-roles-20000", s)
s = 'name = "cjk"\n' + "".join(host(chr(0x4E00 + i) * 2, addr(10 + i), ["session-host"]) for i in range(8000))
write("cjk-8000", s + host("gw", addr(1), ["gateway"]))
PY
# The planning benchmark's farm (10,032 hosts).
cargo run -q --release -p rdsports-core --example synthetic -- 9950 > "$out/farm-10032.toml"
printf '%-22s %-34s %5s %8s %9s %s\n' file command exit seconds "peak RSS" "stderr bytes"
for f in "$out"/*.toml; do
  name=$(basename "$f" .toml)
  extra=()
  for cmd in "plan --format csv" "rules --target nftables" "report -o /dev/null" "diagram"; do
    read -r -a words <<<"$cmd"
    set +e
    /usr/bin/time -f "%e %M" -o "$out/time.txt" timeout 300 "$bin" "${words[0]}" "$f" \
      "${words[@]:1}" "${extra[@]}" >/dev/null 2>"$out/stderr.txt"
    code=$?
    set -e
    read -r secs kb < <(tail -1 "$out/time.txt")
    printf '%-22s %-34s %5s %8s %6d MB %s\n' "$name" "$cmd ${extra[*]}" "$code" "$secs" \
      "$((kb / 1024))" "$(wc -c < "$out/stderr.txt")"
  done
done
