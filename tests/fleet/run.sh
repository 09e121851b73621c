#!/usr/bin/env bash
# Fleet check through Ansible, proven on one Linux machine (root):
#
#   RDSPORTS=target/debug/rdsports tests/fleet/run.sh
#
# A controller namespace holds a bridge (198.18.50.1/24); four host namespaces hang on it.
# Three run an OpenSSH server of their own (own host key, ListenAddress on their address);
# ls01 runs none (unreachable). Every host runs `rdsports listen --as HOST` so that check finds
# its flows open; dc01 drops TCP 389 from sh01 with an nft rule (a blocked flow). ansible-core
# (PyPI, in a venv under target/) runs contrib/ansible/rdsports-check.yml twice from the
# controller namespace with the inventory from `rdsports fleet inventory --os linux`:
# every reachable host returns a result, ls01 is unreachable, the second run reports
# changed=0; `rdsports fleet summary` and `report --check-dir` show sh01 blocked and ls01 not
# run (exit 1); a result edited to another digest is refused (exit 2). The Windows play passes
# --syntax-check with the `ansible` package's collections. Everything is torn down by PID and
# by namespace name, also when a step fails. Without root: skipped (a failure when CI=true).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
RDSPORTS=${RDSPORTS:-$root/target/debug/rdsports}
RDSPORTS=$(readlink -f "$RDSPORTS")

if [[ $(id -u) -ne 0 ]]; then
  if [[ ${CI:-} == true ]]; then
    echo "fleet: needs root (network namespaces), and CI=true" >&2
    exit 1
  fi
  echo "fleet: skipped (needs root for network namespaces)"
  exit 0
fi

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
expect() { # expect DESCRIPTION COMMAND...: passes when the command succeeds
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}

# --- what the test needs ----------------------------------------------------------------
need=()
command -v sshd >/dev/null 2>&1 || [[ -x /usr/sbin/sshd ]] || need+=(openssh-server)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
command -v nft >/dev/null 2>&1 || [[ -x /usr/sbin/nft ]] || need+=(nftables)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
dpkg -s python3-venv >/dev/null 2>&1 || need+=(python3-venv)
if ((${#need[@]})); then
  echo "fleet: installing ${need[*]}"
  [[ -e /usr/sbin/policy-rc.d ]] || printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
venv=$root/target/ansible
if ! "$venv/bin/ansible-playbook" --version >/dev/null 2>&1; then
  echo "fleet: installing ansible 12.3.0 (ansible-core 2.19) into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check ansible==12.3.0
fi

# --- the topology -------------------------------------------------------------------------
work=$root/target/fleet-test
ns_ctl=rfl-ctl
hosts=(gw01 sh01 dc01 ls01)
declare -A addr=([gw01]=198.18.50.11 [sh01]=198.18.50.12 [dc01]=198.18.50.13 [ls01]=198.18.50.14)
pids=()
# Ends what the test started: the PIDs it recorded, then every process still inside its
# namespaces (sshd's per-connection children and ssh's ControlPersist masters outlive the
# processes started here, and keep a deleted namespace alive), then the namespaces.
clean_namespaces() {
  local ns p
  for ns in "$ns_ctl" "${hosts[@]/#/rfl-}"; do
    { ip netns pids "$ns" 2>/dev/null || true; } | while read -r p; do kill "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
}
teardown() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  clean_namespaces
}
trap teardown EXIT
# Leftovers of an earlier run that was killed.
clean_namespaces
rm -rf "$work"
mkdir -p "$work/stage" "$work/results"
# sshd refuses to start without its privilege separation directory; a package installed
# without starting its service leaves none behind.
mkdir -p /run/sshd
chmod 0755 /run/sshd

ip netns add "$ns_ctl"
ip -n "$ns_ctl" link set lo up
ip -n "$ns_ctl" link add br0 type bridge
ip -n "$ns_ctl" addr add 198.18.50.1/24 dev br0
ip -n "$ns_ctl" link set br0 up
for h in "${hosts[@]}"; do
  ns=rfl-$h
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add "rfl-$h-a" netns "$ns" type veth peer name "rfl-$h-b" netns "$ns_ctl"
  ip -n "$ns" link set "rfl-$h-a" name eth0
  ip -n "$ns" addr add "${addr[$h]}/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns_ctl" link set "rfl-$h-b" master br0 up
done

cat >"$work/fleet.toml" <<TOML
# The fleet test's deployment: every address in 198.18.50.0/24 (RFC 2544), inside the test's
# own namespaces.
name = "fleet-lab"

[options]
rpc_range = "50000-50099"
domain_baseline = false

[[host]]
name = "clients"
address = "0.0.0.0/0"
roles = ["client"]

[[host]]
name = "gw01"
address = "${addr[gw01]}"
roles = ["gateway"]

[[host]]
name = "sh01"
address = "${addr[sh01]}"
roles = ["session-host"]

[[host]]
name = "dc01"
address = "${addr[dc01]}"
roles = ["domain-controller", "dns"]

[[host]]
name = "ls01"
address = "${addr[ls01]}"
roles = ["licensing"]
TOML

# Stand-in listeners on every host, dc01 dropping LDAP from sh01.
for h in "${hosts[@]}"; do
  ip netns exec "rfl-$h" "$RDSPORTS" listen "$work/fleet.toml" --as "$h" --for 10m \
    >"$work/listen-$h.log" 2>&1 &
  pids+=($!)
done
ip netns exec rfl-dc01 nft -f - <<NFT
table inet rfltest {
  chain input {
    type filter hook input priority 0; policy accept;
    ip saddr ${addr[sh01]} tcp dport 389 drop
  }
}
NFT

# OpenSSH on gw01, sh01 and dc01 (not ls01), each with its own host key and address.
ssh-keygen -q -t ed25519 -N '' -f "$work/id" >/dev/null
cp "$work/id.pub" "$work/authorized_keys"
for h in gw01 sh01 dc01; do
  ssh-keygen -q -t ed25519 -N '' -f "$work/hostkey-$h" >/dev/null
  cat >"$work/sshd-$h.conf" <<CONF
ListenAddress ${addr[$h]}
Port 22
HostKey $work/hostkey-$h
PidFile $work/sshd-$h.pid
AuthorizedKeysFile $work/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
Subsystem sftp internal-sftp
CONF
  ip netns exec "rfl-$h" /usr/sbin/sshd -D -e -f "$work/sshd-$h.conf" >"$work/sshd-$h.log" 2>&1 &
  pids+=($!)
done
for _ in $(seq 50); do
  up=0
  for h in gw01 sh01 dc01; do
    ip netns exec "$ns_ctl" bash -c "exec 3<>/dev/tcp/${addr[$h]}/22" 2>/dev/null && up=$((up + 1))
  done
  ((up == 3)) && break
  sleep 0.1
done
expect "sshd listens in the 3 namespaces that run it" test "$up" -eq 3

# --- inventory and the playbook -------------------------------------------------------------
"$RDSPORTS" fleet inventory "$work/fleet.toml" --os linux >"$work/inventory.json" 2>"$work/inventory.err"
expect "the inventory holds the 4 machines" \
  test "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["all"]["hosts"]))' "$work/inventory.json")" -eq 4
expect "the inventory says the population was left out" grep -q "left out: clients" "$work/inventory.err"
cat >"$work/vars.json" <<JSON
{"ansible_user": "root",
 "ansible_ssh_private_key_file": "$work/id",
 "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5",
 "ansible_python_interpreter": "/usr/bin/python3",
 "rdsports_binary_linux": "$RDSPORTS",
 "rdsports_deployment_file": "$work/fleet.toml",
 "rdsports_results_dir": "$work/results",
 "rdsports_stage_linux": "$work/stage/{{ inventory_hostname }}",
 "rdsports_check_args": ["--timeout", "400", "--retries", "0"]}
JSON
play() {
  local log=$1
  local start end rc=0
  start=$(date +%s.%N)
  # The SSH control sockets live in the test's folder: never shared with another run.
  ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_NOCOLOR=1 ANSIBLE_FORKS=8 ANSIBLE_PIPELINING=True \
    ANSIBLE_SSH_CONTROL_PATH_DIR="$work/cp" ANSIBLE_LOCAL_TEMP="$work/ansible-tmp" \
    ip netns exec "$ns_ctl" "$venv/bin/ansible-playbook" -i "$work/inventory.json" \
    -e "@$work/vars.json" "$root/contrib/ansible/rdsports-check.yml" >"$log" 2>&1 || rc=$?
  end=$(date +%s.%N)
  awk "BEGIN {printf \"%.2f\", $end - $start}" >"$log.seconds"
  return $rc
}
rc1=0
play "$work/play1.log" || rc1=$?
rc2=0
play "$work/play2.log" || rc2=$?
# ansible-playbook exits 4 when a host is unreachable (ls01) and nothing failed.
expect "first run: exit 4 (one host unreachable, no task failed)" test "$rc1" -eq 4
expect "second run: exit 4" test "$rc2" -eq 4
for h in gw01 sh01 dc01; do
  expect "$h returned a result" test -s "$work/results/$h.json"
  expect "second run: $h changed=0" grep -Eq "^$h +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0" "$work/play2.log"
done
expect "ls01 is unreachable" grep -Eq "^ls01 +: ok=0 +changed=0 +unreachable=1" "$work/play2.log"
expect "ls01 has no result" test ! -e "$work/results/ls01.json"

# --- merged results -----------------------------------------------------------------------
set +e
"$RDSPORTS" fleet summary "$work/results" "$work/fleet.toml" --format json >"$work/summary.json"
rc=$?
set -e
expect "fleet summary exits 1 (a blocked host, a host that did not report)" test "$rc" -eq 1
status() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print({h["host"]: h["status"] for h in d["hosts"]}[sys.argv[2]])' "$work/summary.json" "$1"; }
expect "gw01 ok" test "$(status gw01)" = ok
expect "dc01 ok" test "$(status dc01)" = ok
expect "sh01 blocked" test "$(status sh01)" = blocked
expect "ls01 not run" test "$(status ls01)" = not_run
expect "sh01's blocked flow is LDAP to dc01" grep -q "dc01 tcp/389 filtered" "$work/summary.json"
set +e
"$RDSPORTS" report "$work/fleet.toml" --check-dir "$work/results" -o "$work/report.html" 2>"$work/report.err"
rc=$?
set -e
expect "report --check-dir exits 1" test "$rc" -eq 1
expect "the report lists ls01 as not run" grep -q "ls01</td><td><span class=\"badge v-filtered\">not run / unreachable" "$work/report.html"
mkdir -p "$work/stale"
sed 's/"deployment_digest": "sha256:[0-9a-f]*"/"deployment_digest": "sha256:0000"/' "$work/results/gw01.json" >"$work/stale/gw01.json"
set +e
"$RDSPORTS" fleet summary "$work/stale" "$work/fleet.toml" >/dev/null 2>"$work/stale.err"
rc=$?
set -e
expect "a result of another deployment file is refused (exit 2)" test "$rc" -eq 2
expect "the refusal names both digests" grep -q "sha256:0000" "$work/stale.err"

# --- the Windows play and the timing ------------------------------------------------------
cat >"$work/windows-inventory.json" <<JSON
{"all": {"vars": {"ansible_connection": "psrp"}, "hosts": {"sh01": {"ansible_host": "198.18.50.12"}}}}
JSON
expect "the playbook (Windows tasks included) passes --syntax-check" \
  "$venv/bin/ansible-playbook" -i "$work/windows-inventory.json" --syntax-check "$root/contrib/ansible/rdsports-check.yml"
expect "the ansible package provides ansible.windows" \
  bash -c "'$venv/bin/ansible-doc' ansible.windows.win_copy >/dev/null 2>&1"
checks=$(python3 -c '
import json, sys, datetime
total = 0.0
for f in sys.argv[1:]:
    d = json.load(open(f))
    a = datetime.datetime.fromisoformat(d["started_utc"].replace("Z", "+00:00"))
    b = datetime.datetime.fromisoformat(d["finished_utc"].replace("Z", "+00:00"))
    total += (b - a).total_seconds()
print(f"{total / len(sys.argv[1:]):.1f}")' "$work"/results/*.json)
echo "fleet timing: playbook run 1 $(cat "$work/play1.log.seconds") s, run 2 $(cat "$work/play2.log.seconds") s, 4 hosts (1 unreachable); check itself ${checks} s per host (whole seconds of the hosts' clocks)"

echo "fleet: $passed passed, $failed failed"
((failed == 0))
