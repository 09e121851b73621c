#!/usr/bin/env bash
# Benchmark of the Cisco ASA and AWS network ACL readers end to end (`rdsports audit` of the
# built-in example): a generated ASA configuration of N access-list entries on one interface,
# and a network ACL of N entries (half inbound, half outbound), read and audited.
#
#   bench/audit-readers.sh [N]        (default 10000; needs hyperfine)
#
# Entries name hosts of 198.51.100.0/24 and 192.0.2.0/24 (documentation ranges), random
# ports (awk's generator with a fixed seed: the same files every run). Nothing is probed.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000}"
out=target/bench-audit-readers
mkdir -p "$out"
cargo build -q --release --bin rdsports
awk -v n="$n" 'BEGIN {
  srand(12)
  print "interface Gi0/0\n nameif perimeter\n security-level 50"
  print "interface Gi0/1\n nameif internal\n security-level 100"
  for (i = 0; i < n; i++) {
    act = (i % 7) ? "permit" : "deny"; p = (rand() < 0.5) ? "tcp" : "udp"
    printf "access-list perimeter_access_in extended %s %s host 198.51.100.%d host 192.0.2.%d eq %d\n",
      act, p, 1 + int(rand() * 254), 1 + int(rand() * 254), 1 + int(rand() * 65535)
  }
  print "access-group perimeter_access_in in interface perimeter"
}' > "$out/asa.txt"
awk -v n="$n" 'BEGIN {
  srand(12)
  printf "{\"NetworkAcls\": [{\"NetworkAclId\": \"acl-1\", \"Entries\": ["
  for (i = 1; i <= n; i++) {
    q = 1 + int(rand() * 65535)
    printf "%s{\"CidrBlock\": \"198.51.100.%d/32\", \"Egress\": %s, \"PortRange\": {\"From\": %d, \"To\": %d}, \"Protocol\": \"%s\", \"RuleAction\": \"%s\", \"RuleNumber\": %d}",
      (i > 1 ? ", " : ""), int(rand() * 256), (i % 2 ? "true" : "false"), q, q,
      (rand() < 0.5 ? "6" : "17"), (i % 5 ? "allow" : "deny"), i
  }
  print "]}]}"
}' > "$out/nacl.json"
bin=target/release/rdsports
hyperfine -w 1 -r 5 -i \
  "$bin audit -r $out/asa.txt" \
  "$bin audit -r $out/nacl.json"
for f in asa.txt nacl.json; do
  /usr/bin/time -f "$f: max RSS %M KiB" "$bin" audit -r "$out/$f" > /dev/null || true
done
