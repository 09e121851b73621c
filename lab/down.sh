#!/usr/bin/env bash
# Tears the lab down: ends every process inside the lab namespaces by PID, deletes the
# namespaces (their veths and bridge go with them), /etc/netns/<ns>, and the lab directory.
# Idempotent: safe to run when the lab is partly up or not up at all.
#
#   lab/down.sh [--quiet]           (root; KEEP_LAB=1 keeps the lab directory for reading logs)
#
# Only processes this lab started live in its namespaces, so `ip netns pids` names exactly
# them; nothing is ended by name.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

QUIET=
[[ ${1:-} == --quiet ]] && QUIET=1
[[ $(id -u) -eq 0 ]] || { echo "lab/down.sh needs root" >&2; exit 1; }

t0=$(now)
lab_pids() {
  local ns
  for ns in "${ALL_NS[@]}"; do ip netns pids "$P-$ns" 2>/dev/null; done | sort -un
}
pids=$(lab_pids)
if [[ -n $pids ]]; then
  # shellcheck disable=SC2086  # one PID per word
  kill $pids 2>/dev/null
  for _ in $(seq 1 50); do
    pids=$(lab_pids)
    [[ -z $pids ]] && break
    sleep 0.1
  done
  # shellcheck disable=SC2086
  [[ -n $pids ]] && kill -9 $pids 2>/dev/null
  for _ in $(seq 1 20); do [[ -z $(lab_pids) ]] && break; sleep 0.1; done
fi
# Also the recorded wrappers (an `ip netns exec` that died before entering its namespace).
if [[ -d $LAB/pid ]]; then
  for f in "$LAB"/pid/*; do
    [[ -f $f ]] || continue
    pid=$(cat "$f")
    # only if it is still a process started for the lab: its command line names the lab dir
    # or a lab namespace
    if [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -e "$LAB" -e "$P-"; then
      kill "$pid" 2>/dev/null
    fi
  done
fi
n=0
for ns in "${ALL_NS[@]}"; do
  if ip netns del "$P-$ns" 2>/dev/null; then n=$((n + 1)); fi
  rm -rf "/etc/netns/$P-$ns"
done
rmdir /etc/netns 2>/dev/null
# The mount points up.sh had to create (lab/up.sh, make_mount_points), empty by now.
if [[ -f $LAB/created ]]; then
  while read -r d; do rmdir "$d" 2>/dev/null; done <"$LAB/created"
  rm -f "$LAB/created"
fi
# Stray veths would only exist when a namespace move failed half-way.
for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^$P-" || true); do
  ip link del "$l" 2>/dev/null
done
if [[ -z ${KEEP_LAB:-} ]]; then rm -rf "$LAB"; fi
[[ -n $QUIET && $n -eq 0 ]] || log "down in $(since "$t0") s: $n namespaces deleted${KEEP_LAB:+, files kept in $LAB}"
exit 0
