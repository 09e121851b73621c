#!/usr/bin/env bash
# The lab driver: proves rdsports's rules and checks end to end against real servers behind a
# real firewall, then tears the lab down (also when a step fails).
#
#   lab/run.sh                      (root; without root it says why it skipped)
#
# What it proves, pass by pass (lab/README.md has the details); every pass uses the default
# (enforcing) output, no flags:
#   nftables  `rdsports rules --target nftables` loaded into the router; `rdsports check` from
#             every host finds every planned flow open (and the real servers identified as the
#             services the flows expect); nmap -sT/-sU agrees port by port; sampled unplanned
#             ports, reachable with the router open, are now blocked; sh02, the session host
#             on its own RDP port (per-host rdp_port = 3390), answers RDP on 3390 through the
#             router and 3389 to it is blocked; `rdsports audit` of the
#             export per boundary: 0 missing, 0 too broad. Mutated (one accept removed, one
#             turned into a reject, a shadowing drop and a broad accept inserted): exactly
#             those flows filtered and refused, and audit names exactly those flows and rules.
#   iptables  the same with `--target iptables` (iptables-restore), mutations and audit too.
#   merge     the router already has the admin's own table (input: policy drop but SSH;
#             forward: policy drop); `--into inet filter forward` merged into it, applied twice
#             with the header's jump command (ruleset unchanged); the checks as above, a tcp
#             1-1024 nmap sweep per boundary pair finds only planned ports, SSH still answers;
#             audit of the whole ruleset per boundary: 0 missing, 0 too broad.
#   merge-ipt the same admin firewall in iptables, `--target iptables --merge` through
#             `iptables-restore --noflush` and the header's jump commands, twice.
#   host      `--host-variant --host dc01` loaded into dc01's own input chain, the router open:
#             every flow to dc01 open, nmap agrees, unplanned ports to dc01 blocked from every host;
#             audit --host dc01: 0 missing, too broad only the unfiltered output hook.
#
# Environment: RDSPORTS (the binary; default: `cargo build` of this tree), RDL_DIR, RDL_PREFIX
# (see lab/lib.sh), RDL_KEEP=1 (leave the lab up afterwards), RDL_NO_INSTALL=1 (do not run
# lab/install.sh for missing tools), RDL_VERBOSE=1 (one line per passing assertion too),
# RDL_BUDGET (seconds the lab may take from up to down, default 300; install and build are
# not counted), RDL_SWEEP_TOP (the merge pass sweeps tcp 1-N, default 1024), CI=true (a skip
# is a failure). It first removes what an earlier run may have left (lab/down.sh).
set -uo pipefail
source "$(dirname "$0")/lib.sh"

if [[ $(id -u) -ne 0 ]]; then
  echo "lab skipped: needs root (network namespaces)"
  [[ ${CI:-} == true ]] && { echo "lab: CI=true, so a skipped lab is a failure" >&2; exit 1; }
  exit 0
fi

T_START=$(now)
SWEEP_TOP=${RDL_SWEEP_TOP:-1024}   # the merge pass sweeps tcp 1-SWEEP_TOP per host pair
TOML=$LAB_SRC/lab.toml
LABTOOL=(python3 "$LAB_SRC/labtool.py")
[[ -n ${RDL_VERBOSE:-} ]] && LABTOOL+=(-v)
OUT=$LAB/out
export LABTOOL_COUNTS=$LAB/counts
declare -a TIMES=()
FAILS=0
PHASE=
PHASE_T=

phase() { # NAME: what it proves
  end_phase
  PHASE=$1
  PHASE_T=$(now)
  printf '\n== %s: %s\n' "$1" "$2"
}
end_phase() {
  [[ -n $PHASE ]] && TIMES+=("$(printf '%-10s %6s s' "$PHASE" "$(since "$PHASE_T")")")
  PHASE=
}
passed() { # MESSAGE: a passing assertion outside labtool's, counted with them
  echo "  ok    $*"
  echo "1 0" >>"$LABTOOL_COUNTS"
}
failed() { # MESSAGE: a failure outside labtool's counted assertions
  echo "  FAIL  $*"
  FAILS=$((FAILS + 1))
}

finish() {
  local rc=$? passed=0 failed_n=$FAILS p f
  end_phase
  if [[ -f $LABTOOL_COUNTS ]]; then
    while read -r p f; do passed=$((passed + p)); failed_n=$((failed_n + f)); done <"$LABTOOL_COUNTS"
  fi
  ((rc != 0 && failed_n == 0)) && failed_n=1
  if [[ -n ${RDL_KEEP:-} ]]; then
    echo "lab left up (RDL_KEEP): lab/down.sh removes it"
  else
    local t
    t=$(now)
    # on failure keep the files (logs, rdsports output, nmap XML) to read
    if ((failed_n)); then KEEP_LAB=1 "$LAB_SRC/down.sh" --quiet; else "$LAB_SRC/down.sh" --quiet; fi
    TIMES+=("$(printf '%-10s %6s s' down "$(since "$t")")")
  fi
  printf '\ntimings:\n'
  printf '  %s\n' "${TIMES[@]}"
  printf '  %-10s %6s s\n' total "$(since "$T_START")"
  if [[ -n ${T_LAB:-} ]]; then
    local lab_s
    lab_s=$(since "$T_LAB")
    if awk -v t="$lab_s" -v b="${RDL_BUDGET:-300}" 'BEGIN {exit !(t > b)}'; then
      echo "  FAIL  the lab (up to down) took $lab_s s, over its budget of ${RDL_BUDGET:-300} s"
      failed_n=$((failed_n + 1))
    fi
  fi
  ((failed_n)) && [[ -d $LAB ]] && echo "lab files kept in $LAB (logs in log/, rdsports and nmap output in out/)"
  echo "lab: $passed passed, $failed_n failed"
  ((failed_n)) && exit 1
  exit 0
}
trap finish EXIT
trap 'failed "interrupted by a signal"; exit 130' INT TERM

# ---------------------------------------------------------------- tools and the binary
need=(ip nft iptables-restore nmap python3 jq curl nc samba xrdp freeradius nginx vsftpd smbd ldapsearch kinit radtest)
missing=()
for t in "${need[@]}"; do command -v "$t" >/dev/null || missing+=("$t"); done
if ((${#missing[@]})); then
  if [[ -n ${RDL_NO_INSTALL:-} ]]; then
    failed "missing tools: ${missing[*]} (run lab/install.sh)"
    exit 1
  fi
  phase install "the Debian packages the lab needs (missing: ${missing[*]})"
  "$LAB_SRC/install.sh" || { failed "lab/install.sh"; exit 1; }
fi
phase build "the rdsports binary"
if [[ -z ${RDSPORTS:-} ]]; then
  (cd "$LAB_SRC/.." && cargo build --quiet --bin rdsports) || { failed "cargo build"; exit 1; }
  RDSPORTS=${CARGO_TARGET_DIR:-$LAB_SRC/../target}/debug/rdsports
fi
export RDSPORTS
for c in plan rules check listen; do
  has_cmd "$c" || failed "$RDSPORTS has no \`$c\` command"
done
((FAILS)) && exit 1
echo "  $RDSPORTS"

# The lab itself, from here to the end of down, must stay within the budget. First what an
# earlier run may have left (namespaces, /etc/netns entries, mount points it created, the lab
# directory): the lab never depends on it.
T_LAB=$(now)
"$LAB_SRC/down.sh" --quiet
phase up "namespaces, router, real servers (each asked a question in its protocol), listeners"
"$LAB_SRC/up.sh" || { failed "lab/up.sh"; exit 1; }
mkdir -p "$OUT"/{ss,baseline,nft,ipt,host,merge/sweep}

# What listens where (real servers and rdsports listeners), the plan, the hosts.
for ns in "${HOST_NS[@]}"; do IN "$ns" ss -Hlntup >"$OUT/ss/$ns.txt"; done
"${LABTOOL[@]}" listen "$OUT"/ss/*.txt >"$OUT/listen.json" || { failed "reading listeners"; exit 1; }
"$RDSPORTS" plan "$TOML" --format json >"$OUT/plan.json" || { failed "rdsports plan"; exit 1; }
{
  echo "{"
  sep=
  for ns in "${HOST_NS[@]}"; do
    printf '%s "%s": {"ns": "%s", "address": "%s", "zone": "%s"}' "$sep" "$(host_of "$ns")" "$ns" "$(addr_of "$ns")" "$(zone_of "$ns")"
    sep=,
  done
  echo "}"
} >"$OUT/hosts.json"
printf '  plan: %s flows; listening: %s\n' "$(jq '.flows | length' "$OUT/plan.json")" \
  "$(jq -r 'to_entries | map("\(.key) \(.value | length)") | join(", ")' "$OUT/listen.json")"

# ---------------------------------------------------------------- helpers
# Source/destination pairs whose unplanned ports are sampled: every boundary (source and
# destination in different zones) for the zone firewall; every other host to dc01 for the
# host firewall.
ZONE_PAIRS=
HOST_PAIRS=
for s in "${HOST_NS[@]}"; do
  for d in "${HOST_NS[@]}"; do
    [[ $s == "$d" ]] && continue
    [[ $(zone_of "$s") != "$(zone_of "$d")" ]] && ZONE_PAIRS+="${ZONE_PAIRS:+,}$s:$(host_of "$d")"
    [[ $d == dc ]] && HOST_PAIRS+="${HOST_PAIRS:+,}$s:dc01"
  done
done
for kind in zone host; do
  pairs=$ZONE_PAIRS
  [[ $kind == host ]] && pairs=$HOST_PAIRS
  "${LABTOOL[@]}" sample --plan "$OUT/plan.json" --hosts "$OUT/hosts.json" --listen "$OUT/listen.json" \
    --pairs "$pairs" >"$OUT/sample-$kind.json" || { failed "sampling unplanned ports"; exit 1; }
done
jq -s 'add | unique' "$OUT/sample-zone.json" "$OUT/sample-host.json" >"$OUT/sample-all.json"

# scan NS DIR SAMPLE [CHECK.json] [HOST]: nmap -sT and -sU from NS on the ports its check
# probed (to HOST only) plus its share of the unplanned SAMPLE, one XML file per destination
# and protocol.
scan() {
  local ns=$1 dir=$2 sample=$3 check=${4:-} to=${5:-} args=()
  [[ -n $check && -f $check ]] && args+=(--check "$check")
  [[ -n $to ]] && args+=(--to "$to")
  "${LABTOOL[@]}" targets "${args[@]}" --sample "$sample" --src-ns "$ns" | {
    local addr tcp udp base
    while read -r addr tcp udp; do
      base="$dir/nmap-$ns-$addr"
      [[ $tcp != - ]] && IN "$ns" nmap -n -Pn -sT -T4 --max-retries 1 --host-timeout 120s \
        -p "$tcp" -oX "$base-tcp.xml" "$addr" >/dev/null 2>&1 &
      [[ $udp != - ]] && IN "$ns" nmap -n -Pn -sU -T4 --max-retries 1 --host-timeout 120s \
        -p "$udp" -oX "$base-udp.xml" "$addr" >/dev/null 2>&1 &
    done
    wait
  }
}

# check_all DIR [--to HOST] NS...: `rdsports check --from HOST --format json` inside each
# namespace at once; DIR/check-HOST.json and .rc.
check_all() {
  local dir=$1 to_args=() ns h
  shift
  if [[ $1 == --to ]]; then to_args=(--to "$2"); shift 2; fi
  for ns in "$@"; do
    h=$(host_of "$ns")
    (
      IN "$ns" "$RDSPORTS" check "$TOML" --from "$h" --format json --strict-udp --radius-secret "$RADIUS_SECRET" \
        "${to_args[@]}" >"$dir/check-$h.json" 2>"$dir/check-$h.err"
      echo $? >"$dir/check-$h.rc"
    ) &
  done
  wait
  for ns in "$@"; do
    h=$(host_of "$ns")
    jq -e .results "$dir/check-$h.json" >/dev/null 2>&1 ||
      failed "rdsports check --from $h wrote no JSON (exit $(cat "$dir/check-$h.rc")): $(head -c 300 "$dir/check-$h.err")"
  done
}

# sources NS...: namespaces whose host is the source of at least one planned flow (to HOST).
sources() {
  local ns h to=${1:-}
  for ns in "${HOST_NS[@]}"; do
    h=$(host_of "$ns")
    if jq -e --arg h "$h" --arg t "$to" '[.flows[] | select(.from == $h and ($t == "" or .to == $t))] | length > 0' \
      "$OUT/plan.json" >/dev/null; then echo "$ns"; fi
  done
}

# prove_ftp_data DIR: `check` probes no FTP passive data range (a server opens a data port
# per transfer), so for each planned ftp-data flow the lab downloads the CRL in passive mode
# from the source host and records the data port the server chose: it must be in the flow's
# range, and the transfer crossed the firewall under test. Writes DIR/proven.json.
prove_ftp_data() {
  local dir=$1 from to ports ns addr port lo hi entries=()
  while read -r from to ports; do
    ns=$(ns_of_host "$from") || continue
    addr=$(jq -r --arg h "$to" '.[$h].address' "$OUT/hosts.json")
    port=$(IN "$ns" curl -sS -v --max-time 10 --ftp-pasv "ftp://$addr/crl/lab.crl" -o "$dir/ftp-$from-$to.crl" 2>&1 |
      sed -n 's/.*Connecting to [0-9.]* ([0-9.]*) port \([0-9]*\).*/\1/p' | tail -1)
    lo=${ports%-*} hi=${ports#*-}
    if [[ -n $port ]] && ((port >= lo && port <= hi)) && grep -q "lab CRL" "$dir/ftp-$from-$to.crl"; then
      entries+=("$(jq -cn --arg f "$from" --arg t "$to" --arg p "$ports" --arg how "passive FTP download through data port $port" \
        '{from: $f, to: $t, protocol: "tcp", ports: $p, how: $how}')")
    else
      echo "  (passive FTP download $from -> $to failed or used port '${port}' outside $ports)"
    fi
  done < <(jq -r '.flows[] | select(.service == "ftp-data") | "\(.from) \(.to) \(.ports)"' "$OUT/plan.json")
  printf '%s\n' "${entries[@]}" | jq -s . >"$dir/proven.json"
}

# verify DIR SAMPLE [--to HOST] NS...: the checks, then nmap on the same ports, then the
# unplanned ports of SAMPLE.
verify() {
  local dir=$1 sample=$2 to_args=() to='' ns files=() xml=()
  shift 2
  if [[ $1 == --to ]]; then to_args=(--to "$2"); to=$2; shift 2; fi
  for ns in "$@"; do files+=("$dir/check-$(host_of "$ns").json"); done
  prove_ftp_data "$dir"
  echo "-- rdsports check: every planned flow open, real servers identified"
  "${LABTOOL[@]}" checks --plan "$OUT/plan.json" --hosts "$OUT/hosts.json" --listen "$OUT/listen.json" \
    --proven "$dir/proven.json" "${to_args[@]}" "${files[@]}"
  for ns in "${HOST_NS[@]}"; do scan "$ns" "$dir" "$sample" "$dir/check-$(host_of "$ns").json" "$to" & done
  wait
  shopt -s nullglob
  xml=("$dir"/nmap-*.xml)
  echo "-- nmap -sT/-sU on the same ports: agrees with rdsports"
  "${LABTOOL[@]}" nmap --hosts "$OUT/hosts.json" --checks "${files[@]}" --xml "${xml[@]}"
  echo "-- unplanned ports (reachable with the router open) are blocked"
  "${LABTOOL[@]}" blocked --sample "$sample" --baseline "$OUT"/baseline/*.xml --xml "${xml[@]}"
}

rtr_open() { IN rtr nft flush ruleset; }

# own_port DIR: sh02 sets its own RDP port (rdp_port = 3390 on its [[host]] in lab.toml, xrdp
# listens there; a stale service listens on the deployment's 3389). With the generated rules
# in the router: every RDP flow to sh02 is planned on 3390; check from gw01 finds tcp/3390
# open and identifies RDP (xrdp), and probes no 3389 to sh02; an RDP handshake from gw01
# crosses the router; 3389 to sh02 does not (from gw01 and from the clients).
own_port() {
  local dir=$1 sh2 got c=$1/check-gw01.json
  sh2=$(addr_of sh2)
  echo "-- sh02's own RDP port ($SH02_RDP, per-host rdp_port): open on it, the deployment's 3389 blocked"
  got=$(jq -r '[.flows[] | select(.to == "sh02" and .service == "rdp") | "\(.from) \(.protocol)/\(.ports)"] | join(", ")' "$OUT/plan.json")
  if [[ -n $got ]] && jq -e --arg p "$SH02_RDP" '[.flows[] | select(.to == "sh02" and .service == "rdp")] | all(.ports == $p)' "$OUT/plan.json" >/dev/null; then
    passed "plan: every RDP flow to sh02 is on $SH02_RDP ($got)"
  else
    failed "plan: the RDP flows to sh02 are not all on $SH02_RDP: ${got:-none}"
  fi
  if jq -e --argjson p "$SH02_RDP" '[.results[] | select(.to == "sh02" and .protocol == "tcp" and .port == $p and .verdict == "open" and .service_matches == true)] | length == 1' "$c" >/dev/null 2>&1; then
    passed "check gw01 -> sh02 tcp/$SH02_RDP: open, $(jq -r --argjson p "$SH02_RDP" '.results[] | select(.to == "sh02" and .protocol == "tcp" and .port == $p) | "\(.service) (expected \(.expected_service))"' "$c")"
  else
    failed "check gw01 -> sh02 tcp/$SH02_RDP is not open with RDP identified: $(jq -c --argjson p "$SH02_RDP" '[.results[] | select(.to == "sh02" and .port == $p)]' "$c" 2>&1 | head -c 300)"
  fi
  if jq -e '[.results[] | select(.to == "sh02" and .port == 3389)] | length == 0' "$c" >/dev/null 2>&1; then
    passed "check gw01 probes no 3389 to sh02 (not planned)"
  else
    failed "check gw01 probed 3389 to sh02, which no flow needs"
  fi
  if IN dmz timeout 15 python3 "$LAB_SRC/probes/rdp.py" "$sh2" "$SH02_RDP" 2>&1 | grep -q '^rdp: TLS'; then
    passed "gw01 -> sh02 tcp/$SH02_RDP: the X.224/TLS handshake with xrdp crosses the router"
  else
    failed "gw01 -> sh02 tcp/$SH02_RDP: no RDP handshake through the router"
  fi
  local ns
  for ns in dmz inet; do
    if IN "$ns" timeout 4 nc -z -w 2 "$sh2" 3389; then
      failed "$(host_of "$ns") -> sh02 tcp/3389 answers through the router (its stale service): the deployment's port leaked to sh02"
    else
      passed "$(host_of "$ns") -> sh02 tcp/3389 (the deployment's port; a stale service listens) blocked"
    fi
  done
}

# The boundaries the router enforces: every pair of lab.toml's three zones (internet and
# internal have no planned flow between them: audit must find nothing allowed there).
BOUNDARIES=(internet:perimeter perimeter:internal internet:internal)

# audit_all DIR EXPORT [EXPECT [SCOPE...]]: `rdsports audit --boundary B --format json` of
# the router's exported rule set (EXPORT: `nft -j list ruleset` or `iptables-save -c`, taken
# after the checks, so the counters have seen their traffic) for every boundary (or each
# SCOPE: Z1:Z2, or host=H for `--host H`), judged by labtool against EXPECT (the mutations;
# empty: 0 missing, nothing too broad, shadowed or redundant) and against DIR's check
# results, flow port by flow port.
audit_all() {
  local dir=$1 export=$2 expect=${3:-} b base n args=() checks=() scopes=("${BOUNDARIES[@]}") sa
  [[ -n $expect ]] && args+=(--expect "$expect")
  (($# > 3)) && scopes=("${@:4}")
  shopt -s nullglob
  checks=("$dir"/check-*.json)
  if [[ $export == *.json ]]; then n=$(jq '[.nftables[] | select(.rule)] | length' "$export"); else n=$(grep -c '^\[' "$export"); fi
  echo "-- rdsports audit of the router's export (${export##*/}, $n rules), per boundary: agrees with the plan and with check"
  for b in "${scopes[@]}"; do
    base="$dir/audit-${b/[:=]/-}"
    sa=(--boundary "$b")
    [[ $b == host=* ]] && sa=(--host "${b#host=}")
    "$RDSPORTS" audit "$TOML" --rules "$export" "${sa[@]}" --format json >"$base.json" 2>"$base.err"
    echo $? >"$base.rc"
    "$RDSPORTS" audit "$TOML" --rules "$export" "${sa[@]}" >"$base.txt" 2>&1
    if jq -e .schema_version "$base.json" >/dev/null 2>&1; then
      "${LABTOOL[@]}" audit --audit "$base.json" "${sa[@]}" --plan "$OUT/plan.json" --rules "$n" \
        "${args[@]}" --checks "${checks[@]}"
    else
      failed "rdsports audit ${sa[*]} wrote no JSON (exit $(cat "$base.rc")): $(head -c 300 "$base.err")"
    fi
  done
}

# mutated_checks DIR: check from every source on the mutated router against DIR/expect.json,
# nmap on the same ports, and the broad accept's unplanned port answering through it.
mutated_checks() {
  local m=$1 ns mx=()
  jq -r '[.[] | "\(.from)->\(.to) \(.protocol)/\(.port) => \(.verdict)"] | unique | "  expect: " + join(", ")' "$m/expect.json"
  check_all "$m" "${SRC[@]}"
  prove_ftp_data "$m"
  "${LABTOOL[@]}" checks --plan "$OUT/plan.json" --hosts "$OUT/hosts.json" --listen "$OUT/listen.json" \
    --expect "$m/expect.json" --proven "$m/proven.json" "$m"/check-*.json
  for ns in "${SRC[@]}"; do scan "$ns" "$m" /dev/null "$m/check-$(host_of "$ns").json" & done
  wait
  shopt -s nullglob
  mx=("$m"/nmap-*.xml)
  echo "-- nmap agrees on the mutated router too"
  "${LABTOOL[@]}" nmap --hosts "$OUT/hosts.json" --checks "$m"/check-*.json --xml "${mx[@]}"
  # No flow needs clients -> sh01 tcp/445 (smbd listens there): only the broad accept passes it.
  if IN inet timeout 4 nc -z -w 2 "$(addr_of sh)" 445; then
    passed "clients -> sh01 tcp/445 (unplanned, smbd) answers through the broad accept"
  else
    failed "clients -> sh01 tcp/445 does not answer: the broad accept did not go in"
  fi
}

# ipt_mutate CHAIN X: the nftables pass's mutations (X: its audit-expect.json names the rules
# by comment) in iptables: the removed accept deleted, the rejected one replaced by a REJECT,
# a DROP copy of the shadowed one inserted before it, the broad accept before the closing LOG.
ipt_rules() { IN rtr iptables -S "$1" | grep -- '^-A'; }
ipt_pos() { ipt_rules "$1" | grep -n -F -- "$2" | head -1 | cut -d: -f1; }
ipt_mutate() {
  local chain=$1 x=$2 c pos line args=() i
  c=$(jq -r .mutations.removed "$x")
  pos=$(ipt_pos "$chain" "--comment \"$c\"")
  [[ -n $pos ]] && IN rtr iptables -D "$chain" "$pos" || return 1
  c=$(jq -r .mutations.rejected "$x")
  pos=$(ipt_pos "$chain" "--comment \"$c\"")
  line=$(ipt_rules "$chain" | sed -n "${pos}p")
  [[ -n $pos && $line == *" -j ACCEPT" ]] || return 1
  eval "args=(${line% -j ACCEPT})"
  IN rtr iptables -R "$chain" "$pos" "${args[@]:2}" -j REJECT --reject-with tcp-reset || return 1
  c=$(jq -r '.mutations.shadowed[0]' "$x")
  pos=$(ipt_pos "$chain" "--comment \"$c\"")
  line=$(ipt_rules "$chain" | sed -n "${pos}p")
  [[ -n $pos && $line == *" -j ACCEPT" ]] || return 1
  eval "args=(${line% -j ACCEPT})"
  for i in "${!args[@]}"; do [[ ${args[i]} == "$c" ]] && args[i]=$(jq -r '.mutations.shadowed[1]' "$x"); done
  IN rtr iptables -I "$chain" "$pos" "${args[@]:2}" -j DROP || return 1
  pos=$(ipt_pos "$chain" "-j LOG")
  [[ -n $pos ]] || return 1
  IN rtr iptables -I "$chain" "$pos" -p "$(jq -r '.mutations.broad[0]' "$x")" --dport "$(jq -r '.mutations.broad[1]' "$x")" \
    -m comment --comment "$(jq -r '.mutations.broad[2]' "$x")" -j ACCEPT
}

# ---------------------------------------------------------------- baseline
phase baseline "with the router open, which sampled unplanned ports are reachable (nmap)"
for ns in "${HOST_NS[@]}"; do scan "$ns" "$OUT/baseline" "$OUT/sample-all.json" & done
wait
echo "  $(jq length "$OUT/sample-all.json") unplanned (source, destination, port) samples scanned"

# ---------------------------------------------------------------- pass 1: nftables
phase nftables "generated nftables rules in the router"
D=$OUT/nft
if "$RDSPORTS" rules "$TOML" --target nftables --out "$D/rules" 2>"$D/rules.err"; then
  f=("$D"/rules/*.nft)
  if IN rtr nft -c -f "${f[0]}" && IN rtr nft -f "${f[0]}"; then
    echo "  loaded ${f[0]##*/} into $P-rtr ($(grep -c ' accept comment "r' "${f[0]}") accept rules)"
    IN rtr nft -j list ruleset >"$D/ruleset.json"
    "${LABTOOL[@]}" attribute --ruleset "$D/ruleset.json" --plan "$OUT/plan.json" --hosts "$OUT/hosts.json" \
      --chain forward >"$D/attrib.json"
    bad=$(jq -r '[.[] | select(.verdict != "accept") | "\(.from)->\(.to) \(.protocol)/\(.port)"] | unique | join(" ")' "$D/attrib.json")
    [[ -z $bad ]] || failed "flows the generated ruleset does not accept: $bad"
    mapfile -t SRC < <(sources)
    check_all "$D" "${SRC[@]}"
    verify "$D" "$OUT/sample-zone.json" "${SRC[@]}"
    own_port "$D"
    IN rtr nft -j list ruleset >"$D/export.json"
    audit_all "$D" "$D/export.json"

    echo "-- mutation: one accept removed, one turned into a reject, a shadowing drop and a broad accept inserted"
    M=$D/mutated
    mkdir -p "$M"
    if "${LABTOOL[@]}" mutate --ruleset "$D/ruleset.json" --hosts "$OUT/hosts.json" --attrib "$D/attrib.json" \
      --remove gw01,sh01,tcp,3389 --reject clients,gw01,tcp,443 --shadow cb01,gw01,tcp,5985 --broad tcp,445 \
      --commands "$M/commands.json" --audit-expect "$M/audit-expect.json" >"$M/expect.json" &&
      IN rtr nft -j -f "$M/commands.json"; then
      mutated_checks "$M"
      IN rtr nft -j list ruleset >"$M/export.json"
      audit_all "$M" "$M/export.json" "$M/audit-expect.json"
    else
      failed "mutating the nftables ruleset"
    fi
  else
    failed "nft rejected the generated file ${f[0]}"
  fi
else
  failed "rdsports rules --target nftables: $(head -c 300 "$D/rules.err")"
fi
rtr_open

# ---------------------------------------------------------------- pass 2: iptables
phase iptables "generated iptables rules (iptables-restore) in the router"
D=$OUT/ipt
if "$RDSPORTS" rules "$TOML" --target iptables --out "$D/rules" 2>"$D/rules.err"; then
  f=("$D"/rules/*)
  if IN rtr iptables-restore --test "${f[0]}" && IN rtr iptables-restore "${f[0]}"; then
    echo "  loaded ${f[0]##*/} into $P-rtr ($(grep -c -- '-j ACCEPT' "${f[0]}") ACCEPT rules)"
    mapfile -t SRC < <(sources)
    check_all "$D" "${SRC[@]}"
    verify "$D" "$OUT/sample-zone.json" "${SRC[@]}"
    own_port "$D"
    IN rtr iptables-save -c >"$D/export.txt"
    audit_all "$D" "$D/export.txt"

    echo "-- mutation: the nftables pass's four, in iptables (-D, -R ... REJECT, -I ... DROP, -I ... ACCEPT)"
    M=$D/mutated
    X=$OUT/nft/mutated
    mkdir -p "$M"
    if [[ -f $X/audit-expect.json ]] && ipt_mutate FORWARD "$X/audit-expect.json"; then
      cp "$X/expect.json" "$X/audit-expect.json" "$M/"
      mutated_checks "$M"
      IN rtr iptables-save -c >"$M/export.txt"
      audit_all "$M" "$M/export.txt" "$M/audit-expect.json"
    else
      failed "mutating the iptables rules (the nftables pass's mutation must have run)"
    fi
  else
    failed "iptables-restore rejected the generated file ${f[0]}"
  fi
else
  failed "rdsports rules --target iptables: $(head -c 300 "$D/rules.err")"
fi
IN rtr iptables -F 2>/dev/null
rtr_open

# ---------------------------------------------------------------- pass 3: merged into the admin's table
phase merge "the admin's own filtering table in the router, the rules merged into it (--into)"
D=$OUT/merge
# The admin's firewall before rdsports: the router's own input drops all but SSH (and
# loopback, replies), forwarding drops everything. A small SSH banner server stands in for sshd.
IN rtr nft -f - <<'NFT'
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		ct state established,related accept
		tcp dport 22 accept comment "admin: ssh to the router"
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
	}
}
NFT
# (from a subshell: a server must not be a child of this script, whose `wait`s would wait for it)
(bg ssh-rtr rtr python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 22))
s.listen(16)
while True:
    c, _ = s.accept()
    c.sendall(b"SSH-2.0-rdsports-lab\r\n")
    c.close()')
wait_port rtr tcp 22 10 || failed "the SSH stand-in in $P-rtr did not start"
# ssh_works WHEN: from every zone, SSH to the router's address on that side answers.
ssh_works() {
  local ns
  for ns in inet dmz sh; do
    if IN "$ns" timeout 5 nc -w 3 "${ZONE_NET[$(zone_of "$ns")]}.1" 22 </dev/null | grep -q '^SSH-2.0-'; then
      passed "$(host_of "$ns") -> router ssh/22 answers ($1)"
    else
      failed "$(host_of "$ns") -> router ssh/22 does not answer ($1): the admin's SSH rule broke"
    fi
  done
}
ssh_works "the admin's table alone"
if IN inet timeout 4 nc -z -w 2 "$(addr_of dmz)" 443; then
  failed "clients -> gw01 tcp/443 passes the admin's table before the merge (its forward policy should drop it)"
else
  passed "clients -> gw01 tcp/443 dropped by the admin's table before the merge"
fi
if "$RDSPORTS" rules "$TOML" --target nftables --into inet filter forward --out "$D/rules" 2>"$D/rules.err"; then
  f=("$D"/rules/*.nft)
  # The jump command, exactly as the file's header gives it.
  jump=$(sed -n 's/^#  \(nft list chain .*\)$/\1/p' "${f[0]}")
  if [[ -z $jump ]]; then
    failed "the merge file names no jump command"
  elif IN rtr nft -c -f "${f[0]}" && IN rtr nft -f "${f[0]}" && IN rtr sh -c "$jump"; then
    IN rtr nft list ruleset >"$D/ruleset-once.nft"
    # Applied again (a new plan is applied the same way): nothing doubles.
    IN rtr nft -f "${f[0]}" && IN rtr sh -c "$jump"
    IN rtr nft list ruleset >"$D/ruleset-twice.nft"
    if cmp -s "$D/ruleset-once.nft" "$D/ruleset-twice.nft"; then
      passed "the merge file and its jump applied twice leave the ruleset as once ($(grep -c 'jump rdsports-forward' "$D/ruleset-twice.nft") jump)"
    else
      failed "applying the merge file twice changed the ruleset (diff $D/ruleset-once.nft $D/ruleset-twice.nft)"
    fi
    if grep -q 'admin: ssh to the router' "$D/ruleset-twice.nft"; then
      passed "the admin's SSH rule is still in its input chain after the merge"
    else
      failed "the admin's SSH rule is gone after the merge"
    fi
    echo "  merged ${f[0]##*/} into the admin's table inet filter (chain rdsports-forward, jumped to from forward)"
    mapfile -t SRC < <(sources)
    check_all "$D" "${SRC[@]}"
    verify "$D" "$OUT/sample-zone.json" "${SRC[@]}"
    echo "-- nmap sweep: tcp 1-$SWEEP_TOP from every host to every host across a boundary: only planned ports reachable"
    for ns in "${HOST_NS[@]}"; do
      addrs=()
      for d in "${HOST_NS[@]}"; do [[ $(zone_of "$d") != "$(zone_of "$ns")" ]] && addrs+=("$(addr_of "$d")"); done
      # Namespaces on one machine answer within a millisecond: a short timeout and a floor
      # on the rate keep a sweep of dropped ports from crawling (an open or closed port
      # answers at once; the sweep must also find every planned port open, below).
      IN "$ns" nmap -n -Pn -sT -T4 --max-retries 1 --max-rtt-timeout 200ms --min-rate 2000 \
        --host-timeout 120s -p "1-$SWEEP_TOP" \
        -oX "$D/sweep/nmap-$ns-sweep-tcp.xml" "${addrs[@]}" >/dev/null 2>&1 &
    done
    wait
    "${LABTOOL[@]}" sweep --plan "$OUT/plan.json" --hosts "$OUT/hosts.json" --pairs "$ZONE_PAIRS" --xml "$D"/sweep/*.xml
    ssh_works "after the merge"
    # The admin's table is audited with the merged rules: its forward policy drop and the
    # jump decide with them (0 missing); its SSH accept is in the input hook (the router's
    # own traffic), outside a boundary's scope, so nothing is too broad.
    IN rtr nft -j list ruleset >"$D/export.json"
    audit_all "$D" "$D/export.json"
  else
    failed "nft rejected the merge file ${f[0]} or its jump command"
  fi
else
  failed "rdsports rules --into inet filter forward: $(head -c 300 "$D/rules.err")"
fi
rtr_open

# ---------------------------------------------------------------- pass 4: merged into the admin's iptables rules
phase merge-ipt "the admin's own iptables rules in the router, the rules merged (--merge, iptables-restore --noflush)"
D=$OUT/merge-ipt
mkdir -p "$D"
# The same admin firewall in iptables: INPUT drops all but SSH, FORWARD drops everything.
IN rtr iptables -P FORWARD DROP
IN rtr iptables -P INPUT DROP
IN rtr iptables -A INPUT -i lo -j ACCEPT
IN rtr iptables -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
IN rtr iptables -A INPUT -p tcp --dport 22 -m comment --comment "admin: ssh to the router" -j ACCEPT
ssh_works "the admin's iptables rules alone"
# ipt_save: the router's filter and raw tables without counters and iptables-save's stamps.
ipt_save() { { IN rtr iptables-save -t filter; IN rtr iptables-save -t raw; } | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'; }
if "$RDSPORTS" rules "$TOML" --target iptables --merge --out "$D/rules" 2>"$D/rules.err"; then
  f=("$D"/rules/*.rules)
  jumps=$(sed -n 's/^#  \(iptables .* || .*\)$/\1/p' "${f[0]}")
  if [[ -z $jumps ]]; then
    failed "the iptables merge file names no jump command"
  elif IN rtr iptables-restore --test --noflush "${f[0]}" && IN rtr iptables-restore --noflush "${f[0]}" &&
    IN rtr sh -c "$jumps"; then
    ipt_save >"$D/save-once.txt"
    IN rtr iptables-restore --noflush "${f[0]}" && IN rtr sh -c "$jumps"
    ipt_save >"$D/save-twice.txt"
    if cmp -s "$D/save-once.txt" "$D/save-twice.txt"; then
      passed "the merge file and its jumps applied twice leave iptables-save as once ($(grep -c -- '-j RDSPORTS-FWD$' "$D/save-twice.txt") jump to RDSPORTS-FWD)"
    else
      failed "applying the iptables merge file twice changed the tables (diff $D/save-once.txt $D/save-twice.txt)"
    fi
    if grep -q 'admin: ssh to the router' "$D/save-twice.txt" && grep -q '^:FORWARD DROP' "$D/save-twice.txt"; then
      passed "the admin's SSH rule and FORWARD policy DROP are still there after the merge"
    else
      failed "the admin's rules changed with the merge"
    fi
    echo "  merged ${f[0]##*/} with iptables-restore --noflush (RDSPORTS-FWD, jumped to from FORWARD)"
    mapfile -t SRC < <(sources)
    check_all "$D" "${SRC[@]}"
    verify "$D" "$OUT/sample-zone.json" "${SRC[@]}"
    ssh_works "after the iptables merge"
    IN rtr iptables-save -c >"$D/export.txt"
    audit_all "$D" "$D/export.txt"
  else
    failed "iptables-restore --noflush rejected the merge file ${f[0]} or its jump commands"
  fi
else
  failed "rdsports rules --target iptables --merge: $(head -c 300 "$D/rules.err")"
fi
kill "$(cat "$LAB/pid/ssh-rtr")" 2>/dev/null
IN rtr iptables -F 2>/dev/null
rtr_open

# ---------------------------------------------------------------- pass 5: host firewall
phase host "the host variant (input chain) in dc01, router open"
D=$OUT/host
if "$RDSPORTS" rules "$TOML" --target nftables --host-variant --host dc01 --out "$D/rules" \
  2>"$D/rules.err"; then
  f=("$D"/rules/*.nft)
  if IN dc nft -c -f "${f[0]}" && IN dc nft -f "${f[0]}"; then
    echo "  loaded ${f[0]##*/} into $P-dc's input chain"
    mapfile -t SRC < <(sources dc01)
    check_all "$D" --to dc01 "${SRC[@]}"
    verify "$D" "$OUT/sample-host.json" --to dc01 "${SRC[@]}"
    # audit --host dc01 judges the flows to dc01 (input) and from it (output): the host
    # variant filters only what comes in, so its output hook (no chain: everything passes)
    # is reported too broad, and that alone.
    IN dc nft -j list ruleset >"$D/export.json"
    echo '{"missing": [], "too_broad": ["no chain on this hook (output hook)"], "shadowed": [], "redundant": []}' >"$D/audit-expect.json"
    audit_all "$D" "$D/export.json" "$D/audit-expect.json" host=dc01
  else
    failed "nft rejected the generated host file ${f[0]}"
  fi
else
  failed "rdsports rules --host-variant --host dc01: $(head -c 300 "$D/rules.err")"
fi
IN dc nft flush ruleset
end_phase
