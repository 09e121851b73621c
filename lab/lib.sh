# Shared by lab/up.sh, lab/down.sh and lab/run.sh (sourced, not run).
#
# The lab: one router namespace joins an internet, a perimeter and an internal zone. Every
# address is inside 198.18.0.0/15 (RFC 2544 benchmarking range); nothing touches the machine's
# real interfaces. The internal hosts hang off a bridge in a switch namespace, so traffic
# between them never crosses the router (as on a real internal switch).
#
#   rdl-inet 198.18.1.10 ─┐
#   rdl-dmz  198.18.2.10 ─┼─ rdl-rtr (.1 on each side, forwarding, the rules under test)
#                          └─ lan ── rdl-sw (bridge) ─┬─ rdl-dc  198.18.3.10  dc01
#                                                      ├─ rdl-sh  198.18.3.20  sh01
#                                                      ├─ rdl-sh2 198.18.3.21  sh02 (RDP on 3390)
#                                                      ├─ rdl-cb  198.18.3.30  cb01
#                                                      └─ rdl-pki 198.18.3.40  pki01
# shellcheck shell=bash disable=SC2034  # the names are used by the scripts that source this

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
P=${RDL_PREFIX:-rdl}
LAB=${RDL_DIR:-/tmp/rdsports-lab}
REALM=LAB.TEST
DOMAIN=LAB
DNSDOMAIN=lab.test
ADMIN_PASS='Lab-Admin-Pass-2024'
RADIUS_SECRET='lab-radius-secret'
RADIUS_USER=labuser
RADIUS_PASS=labpass
FTP_PASV=30000-30009      # vsftpd's passive range = ftp_passive_range in lab.toml
SH02_RDP=3390             # sh02's own RDP port: rdp_port on its [[host]] in lab.toml
RPC_RANGE=50000-50099     # rpc_range in lab.toml; Samba's dynamic RPC range too

# Host namespaces: namespace suffix -> "address zone deployment-host".
declare -A HOSTS=(
  [inet]="198.18.1.10 inet clients"
  [dmz]="198.18.2.10 dmz gw01"
  [dc]="198.18.3.10 lan dc01"
  [sh]="198.18.3.20 lan sh01"
  [sh2]="198.18.3.21 lan sh02"
  [cb]="198.18.3.30 lan cb01"
  [pki]="198.18.3.40 lan pki01"
)
HOST_NS=(inet dmz dc sh sh2 cb pki)
ALL_NS=(rtr sw "${HOST_NS[@]}")
# Router side of each zone.
declare -A ZONE_NET=([inet]=198.18.1 [dmz]=198.18.2 [lan]=198.18.3)

addr_of() { local a; read -r a _ _ <<<"${HOSTS[$1]}"; echo "$a"; }
zone_of() { local z; read -r _ z _ <<<"${HOSTS[$1]}"; echo "$z"; }
host_of() { local h; read -r _ _ h <<<"${HOSTS[$1]}"; echo "$h"; }
ns_of_host() { # deployment host name -> namespace suffix
  local ns
  for ns in "${HOST_NS[@]}"; do [[ $(host_of "$ns") == "$1" ]] && { echo "$ns"; return 0; }; done
  return 1
}

IN() { local ns=$1; shift; ip netns exec "$P-$ns" "$@"; }
log() { printf '[lab %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# bg NAME NS CMD...: start a server in a namespace, output to $LAB/log/NAME.log. Each server
# gets its own session (setsid): some (Samba, FreeRADIUS) signal their whole process group when
# they stop, which must never reach the script that stops them.
bg() {
  local name=$1 ns=$2; shift 2
  setsid ip netns exec "$P-$ns" "$@" >"$LAB/log/$name.log" 2>&1 </dev/null &
  echo $! >"$LAB/pid/$name"
}

# wait_port NS tcp|udp PORT [SECONDS]: until something listens on PORT in NS.
wait_port() {
  local ns=$1 proto=$2 port=$3 secs=${4:-30} i flag=-Hltn
  [[ $proto == udp ]] && flag=-Hlun
  for ((i = 0; i < secs * 10; i++)); do
    IN "$ns" ss "$flag" "sport = :$port" | grep -q . && return 0
    sleep 0.1
  done
  log "timeout: nothing listens on $proto/$port in $P-$ns after ${secs}s"
  return 1
}

# The rdsports binary: $RDSPORTS, else the release build of this tree.
rdsports_bin() {
  if [[ -n ${RDSPORTS:-} ]]; then echo "$RDSPORTS"; return; fi
  local t=${CARGO_TARGET_DIR:-$LAB_SRC/../target}
  echo "$t/release/rdsports"
}

# has_cmd SUBCOMMAND: the binary knows the subcommand (its --help exits 0).
has_cmd() { "$(rdsports_bin)" "$1" --help >/dev/null 2>&1; }

now() { date +%s.%N; }
since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e - s}'; }
