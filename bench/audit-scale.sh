#!/usr/bin/env bash
# The audit at scale and on hostile rule sets, end to end: time and peak resident memory of
# `rdsports audit` (`/usr/bin/time`) on generated exports, against the built-in example
# deployment (`--host sh01` for the Windows formats).
#
#   bench/audit-scale.sh [PATTERN] [OUT_DIR]
#
# PATTERN (an extended regular expression, default: every case) picks cases by name;
# RDSPORTS_RUNS=N runs each N times and shows the fastest run (its peak memory with it);
# RDSPORTS_BIN runs another binary (for a before/after comparison: build the old commit and
# point RDSPORTS_BIN at it); RDSPORTS_TIMEOUT (seconds, default 300) ends a run that takes
# longer (exit 124). Files are generated into OUT_DIR (default: target/audit-scale), the same
# every run (a fixed seed). Addresses: 198.18.0.0/15 (RFC 2544) and the example's own
# documentation networks. Nothing is probed.
#
# Cases:
#   goto-self.ipt, goto-pair.ipt, goto-pair.nft.json, jump-self.ipt  loops of chains
#   diamond-L.ipt, diamond-L.nft.json     L chains, each jumping twice to the next
#   aerleon-diamond-L/                   L networks and services, each naming the next twice
#   ipt-same-N                           N identical iptables rules
#   FORMAT-same-100k, FORMAT-distinct-100k  100,000 rules of every reader (netsh: 30,000, as
#                                        100,000 of its verbose blocks exceed the 64 MiB cap;
#                                        aerleon: 15,000 terms, its YAML reader's node limit)
#   ipt-1m                               a million-line iptables-save (999,994 rules)
#   nft-64m                              an nft -j export just under 64 MiB (one rule a line)
set -euo pipefail
cd "$(dirname "$0")/.."
pattern="${1:-.}"
out="${2:-target/audit-scale}"
mkdir -p "$out"
if [ -z "${RDSPORTS_BIN:-}" ]; then
  cargo build -q --release --bin rdsports
  bin="$PWD/target/release/rdsports"
else
  bin="$RDSPORTS_BIN"
fi
python3 - "$out" "$pattern" <<'PY'
import json, os, re, sys
out, pattern = sys.argv[1], re.compile(sys.argv[2])
x = 0x9E3779B97F4A7C15
def rnd(n):
    global x
    x ^= (x << 13) & (2**64 - 1); x ^= x >> 7; x ^= (x << 17) & (2**64 - 1)
    return x % n
def want(name):
    return pattern.search(name) is not None
def write(name, text):
    if want(name) and not os.path.exists(f"{out}/{name}"):
        with open(f"{out}/{name}", "w") as f:
            f.write(text)

IPT_HEAD = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
# Loops of chains (the kernel refuses them; an export may still hold them).
write("goto-self.ipt", "*filter\n:FORWARD DROP [0:0]\n:A - [0:0]\n-A FORWARD -j A\n-A A -g A\nCOMMIT\n")
write("jump-self.ipt", "*filter\n:FORWARD DROP [0:0]\n:A - [0:0]\n-A FORWARD -j A\n-A A -j A\nCOMMIT\n")
write("goto-pair.ipt", "*filter\n:FORWARD DROP [0:0]\n:A - [0:0]\n:B - [0:0]\n"
      "-A FORWARD -j A\n-A A -g B\n-A B -g A\nCOMMIT\n")
def nft(items):
    return '{"nftables": [\n' + ",\n".join(json.dumps(i) for i in items) + "\n]}\n"
def nft_head(user):
    h = [{"metainfo": {"version": "1.0.9", "json_schema_version": 1}},
         {"table": {"family": "inet", "name": "filter", "handle": 1}},
         {"chain": {"family": "inet", "table": "filter", "name": "forward", "handle": 1,
                    "type": "filter", "hook": "forward", "prio": 0, "policy": "drop"}}]
    return h + [{"chain": {"family": "inet", "table": "filter", "name": c}} for c in user]
def nrule(chain, *expr):
    return {"rule": {"family": "inet", "table": "filter", "chain": chain, "expr": list(expr)}}
def m(proto, field, right):
    return {"match": {"op": "==", "left": {"payload": {"protocol": proto, "field": field}},
                      "right": right}}
write("goto-pair.nft.json", nft(nft_head(["a", "b"]) + [
    nrule("forward", {"jump": {"target": "a"}}),
    nrule("a", {"goto": {"target": "b"}}),
    nrule("b", {"goto": {"target": "a"}})]))
# Diamonds: chain k jumps twice to chain k + 1; the last accepts TCP 3389.
for L in (22, 30, 64):
    s = IPT_HEAD + "".join(f":C{k} - [0:0]\n" for k in range(L)) + "-A FORWARD -j C0\n"
    for k in range(L - 1):
        s += f"-A C{k} -j C{k + 1}\n-A C{k} -j C{k + 1}\n"
    s += f"-A C{L - 1} -p tcp -m tcp --dport 3389 -j ACCEPT\nCOMMIT\n"
    write(f"diamond-{L}.ipt", s)
    items = nft_head([f"c{k}" for k in range(L)]) + [nrule("forward", {"jump": {"target": "c0"}})]
    for k in range(L - 1):
        items += [nrule(f"c{k}", {"jump": {"target": f"c{k + 1}"}})] * 2
    items.append(nrule(f"c{L - 1}", m("tcp", "dport", 3389), {"accept": None}))
    write(f"diamond-{L}.nft.json", nft(items))
def aerleon(name, terms, nets="", svcs=""):
    if not want(name) or os.path.exists(f"{out}/{name}"):
        return
    os.makedirs(f"{out}/{name}/policies/pol", exist_ok=True)
    os.makedirs(f"{out}/{name}/def", exist_ok=True)
    with open(f"{out}/{name}/policies/pol/p.yaml", "w") as f:
        f.write("filters:\n  - header:\n      targets:\n        srx: from-zone perimeter to-zone internal\n"
                "    terms:\n" + terms)
    with open(f"{out}/{name}/def/networks.yaml", "w") as f:
        f.write("networks:\n  GW:\n    values:\n      - address: 198.51.100.10/32\n" + nets)
    with open(f"{out}/{name}/def/services.yaml", "w") as f:
        f.write("services:\n  RDP:\n    - port: 3389\n      protocol: tcp\n" + svcs)
for L in (24, 30):
    nets = "".join(f"  N{k}:\n    values:\n      - name: N{k + 1}\n      - name: N{k + 1}\n" for k in range(L))
    nets += f"  N{L}:\n    values:\n      - address: 192.0.2.0/24\n"
    svcs = "".join(f"  S{k}:\n    - name: S{k + 1}\n    - name: S{k + 1}\n" for k in range(L))
    svcs += f"  S{L}:\n    - port: 3389\n      protocol: tcp\n"
    aerleon(f"aerleon-diamond-{L}",
            "      - name: t\n        source-address: GW\n        destination-address: N0\n"
            "        protocol: tcp\n        destination-port: S0\n        action: accept\n", nets, svcs)

# Identical and distinct rules, per reader.
def addr(i):
    return f"198.{18 + ((i >> 16) & 1)}.{(i >> 8) & 255}.{i & 255}"
def rules(n, same):
    """(source, destination, port, accept) for n rules."""
    for i in range(n):
        if same:
            yield ("198.51.100.10", "192.0.2.21", 3389, True)
        else:
            yield (addr(rnd(1 << 22)), f"192.0.2.{1 + rnd(254)}", 1 + rnd(65535), rnd(7) != 0)
def ipt(n, same):
    return IPT_HEAD + "".join(
        f"-A FORWARD -s {s}/32 -d {d}/32 -p tcp -m tcp --dport {p} -j {'ACCEPT' if a else 'DROP'}\n"
        for s, d, p, a in rules(n, same)) + "COMMIT\n"
for n in (20000, 40000, 80000):
    write(f"ipt-same-{n // 1000}k", ipt(n, True))
def nftr(n, same):
    items = nft_head([])
    for s, d, p, a in rules(n, same):
        items.append(nrule("forward", m("ip", "saddr", s), m("ip", "daddr", d),
                           m("tcp", "dport", p), {"accept" if a else "drop": None}))
    return nft(items)
def winjson(n, same):
    rs = []
    for i, (s, d, p, a) in enumerate(rules(n, same)):
        rs.append({"Name": f"r{i}", "DisplayName": f"rule {i}", "Enabled": "True",
                   "Direction": "Inbound", "Action": "Allow" if a else "Block", "Profile": "Any",
                   "Protocol": "TCP", "LocalPort": [str(p)], "RemotePort": ["Any"],
                   "LocalAddress": ["Any"], "RemoteAddress": [s], "Program": "Any",
                   "Service": "Any", "InterfaceType": "Any"})
    doc = {"rdsports_windows_export": 1, "ComputerName": "SH01",
           "Profiles": [{"Name": p, "Enabled": "True", "DefaultInboundAction": "Block",
                         "DefaultOutboundAction": "Allow"} for p in ("Domain", "Private", "Public")],
           "Rules": rs}
    return '{"rdsports_windows_export": 1, "ComputerName": "SH01", "Profiles": ' + \
        json.dumps(doc["Profiles"]) + ', "Rules": [\n' + ",\n".join(json.dumps(r) for r in rs) + "\n]}\n"
def gpo(n, same):
    return "".join(
        f"v2.10|Action={'Allow' if a else 'Block'}|Active=TRUE|Dir=In|Protocol=6|Profile=Domain|"
        f"LPort={p}|RA4={s}|Name=r{i}|\n" for i, (s, d, p, a) in enumerate(rules(n, same)))
def netsh(n, same):
    return "".join(
        f"\nRule Name:                            r{i}\n" + "-" * 70 + "\n"
        "Enabled:                              Yes\nDirection:                            In\n"
        "Profiles:                             Domain,Private,Public\n"
        f"LocalIP:                              Any\nRemoteIP:                             {s}/32\n"
        f"Protocol:                             TCP\nLocalPort:                            {p}\n"
        "RemotePort:                           Any\nEdge traversal:                       No\n"
        f"Action:                               {'Allow' if a else 'Block'}\n"
        for i, (s, d, p, a) in enumerate(rules(n, same)))
def azure(n, same):
    rs = []
    for i, (s, d, p, a) in enumerate(rules(n, same)):
        rs.append({"name": f"r{i}", "priority": 100 + i, "direction": "Inbound",
                   "access": "Allow" if a else "Deny", "protocol": "Tcp",
                   "sourceAddressPrefix": s, "sourcePortRange": "*",
                   "destinationAddressPrefix": d, "destinationPortRange": str(p)})
    return '[{"name": "nsg", "securityRules": [\n' + ",\n".join(json.dumps(r) for r in rs) + "\n]}]\n"
def awssg(n, same):
    ps = [{"FromPort": p, "ToPort": p, "IpProtocol": "tcp", "IpRanges": [{"CidrIp": f"{s}/32"}],
           "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}
          for s, d, p, a in rules(n, same)]
    return ('{"SecurityGroups": [{"GroupId": "sg-1", "GroupName": "g", "IpPermissionsEgress": [], '
            '"IpPermissions": [\n' + ",\n".join(json.dumps(q) for q in ps) + "\n]}]}\n")
def nacl(n, same):
    es = [{"CidrBlock": f"{s}/32", "Egress": i % 2 == 1, "PortRange": {"From": p, "To": p},
           "Protocol": "6", "RuleAction": "allow" if a else "deny", "RuleNumber": i + 1}
          for i, (s, d, p, a) in enumerate(rules(n, same))]
    return ('{"NetworkAcls": [{"NetworkAclId": "acl-1", "Entries": [\n' +
            ",\n".join(json.dumps(e) for e in es) + "\n]}]}\n")
def asa(n, same):
    return ("interface Gi0/0\n nameif perimeter\n security-level 50\n"
            "interface Gi0/1\n nameif internal\n security-level 100\n" + "".join(
                f"access-list perimeter_access_in extended {'permit' if a else 'deny'} tcp "
                f"host {s} host {d} eq {p}\n" for s, d, p, a in rules(n, same)) +
            "access-group perimeter_access_in in interface perimeter\n")
def aerleon_rules(name, n, same):
    terms = "".join(
        f"      - name: t{i}\n        source-address: H{i if not same else 0}\n"
        f"        destination-address: D{i if not same else 0}\n        protocol: tcp\n"
        f"        destination-port: P{i if not same else 0}\n"
        f"        action: {'accept' if a else 'deny'}\n"
        for i, (s, d, p, a) in enumerate(rules(n, same)))
    nets = "".join(f"  H{i}:\n    values:\n      - address: {s}/32\n  D{i}:\n    values:\n      - address: {d}/32\n"
                   for i, (s, d, p, a) in enumerate(rules(1 if same else n, same)))
    svcs = "".join(f"  P{i}:\n    - port: {p}\n      protocol: tcp\n"
                   for i, (s, d, p, a) in enumerate(rules(1 if same else n, same)))
    aerleon(name, terms, nets, svcs)
N = int(os.environ.get("AUDIT_SCALE_N", 100000))
for same in (True, False):
    kind = "same" if same else "distinct"
    for fmt, gen, n in (("ipt", ipt, N), ("nft", nftr, N), ("winjson", winjson, N),
                        ("gpo", gpo, N), ("netsh", netsh, min(N, 30000)), ("azure", azure, N),
                        ("awssg", awssg, N), ("nacl", nacl, N), ("asa", asa, N)):
        name = f"{fmt}-{kind}-{n // 1000}k"
        if want(name) and not os.path.exists(f"{out}/{name}"):
            x = 0x9E3779B97F4A7C15
            write(name, gen(n, same))
    # Aerleon: 15,000 terms (the YAML reader allows 250,000 nodes, about 16 per term).
    x = 0x9E3779B97F4A7C15
    n = min(N, 15000)
    aerleon_rules(f"aerleon-{kind}-{n // 1000}k", n, same)
# A million-line iptables-save, and an nft -j export just under the 64 MiB cap.
if want("ipt-1m") and not os.path.exists(f"{out}/ipt-1m"):
    # In a user chain F, without -d, to stay under the 64 MiB cap (about 61 bytes a line).
    x = 0x9E3779B97F4A7C15
    write("ipt-1m", IPT_HEAD + ":F - [0:0]\n-A FORWARD -j F\n" + "".join(
        f"-A F -s {s}/32 -p tcp -m tcp --dport {p} -j {'ACCEPT' if a else 'DROP'}\n"
        for s, d, p, a in rules(1000000 - 7, False)) + "COMMIT\n")
if want("nft-64m") and not os.path.exists(f"{out}/nft-64m"):
    x = 0x9E3779B97F4A7C15
    items, size = nft_head([]), 0
    for s, d, p, a in rules(10 ** 7, False):
        r = nrule("forward", m("ip", "saddr", s), m("ip", "daddr", d),
                  m("tcp", "dport", p), {"accept" if a else "drop": None})
        size += len(json.dumps(r)) + 2
        if size > 63 * 2 ** 20:
            break
        items.append(r)
    write("nft-64m", nft(items))
PY
printf '%-24s %10s %6s %9s %10s %s\n' input bytes exit seconds "peak RSS" "stdout lines"
for f in "$out"/*; do
  name=$(basename "$f")
  [[ "$name" =~ $pattern ]] || continue
  case "$name" in
    time.txt | stdout.txt | stderr.txt) continue ;;
    aerleon-*) rules="$f/policies/pol/p.yaml"; extra=() ;;
    winjson-* | gpo-* | netsh-*) rules="$f"; extra=(--host sh01) ;;
    *) rules="$f"; extra=() ;;
  esac
  bytes=$(du -sb "$f" | cut -f1)
  best=""
  for _ in $(seq "${RDSPORTS_RUNS:-1}"); do
    set +e
    /usr/bin/time -f "%e %M" -o "$out/time.txt" timeout "${RDSPORTS_TIMEOUT:-300}" \
      "$bin" audit -r "$rules" "${extra[@]}" >"$out/stdout.txt" 2>"$out/stderr.txt"
    code=$?
    set -e
    read -r s k < <(tail -1 "$out/time.txt")
    if [ -z "$best" ] || awk -v a="$s" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=$s secs=$s kb=$k
    fi
    [ "$code" = 124 ] && break
  done
  printf '%-24s %10s %6s %9s %7d MB %s\n' "$name" "$bytes" "$code" "$secs" "$((kb / 1024))" \
    "$(wc -l < "$out/stdout.txt")"
done
