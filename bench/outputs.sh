#!/usr/bin/env bash
# End-to-end time and peak memory of the commands that write a large plan's outputs, on the
# planning benchmark's farm: 10,032 hosts (9,950 session hosts), 2,944,077 flows.
#
#   bench/outputs.sh [BINARY...]
#
# Without arguments it builds the release binary and measures target/release/rdsports; give
# several binaries (a copy of the binary before a change, and after) to compare them, run for
# run. The deployment is generated with the core example (`synthetic -- 9950`) into
# target/bench-outputs. Each command runs RDSPORTS_BENCH_RUNS times (default 3) under
# /usr/bin/time, the binaries taking turns; the table gives the best wall time, every wall
# time, and the largest peak resident memory of the runs (MiB: /usr/bin/time's KiB / 1024).
# Output goes to /dev/null (plan), a file (report) or a fresh directory (rules --out) under
# RDSPORTS_BENCH_SCRATCH (default /dev/shm, so that creating 10,030 files measures the
# command rather than the disk).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=target/bench-outputs
mkdir -p "$dir"
if [ $# -eq 0 ]; then
  cargo build -q --release
  set -- target/release/rdsports
fi
cargo run -q --release -p rdsports-core --example synthetic -- 9950 > "$dir/big.toml"
big="$dir/big.toml"
runs="${RDSPORTS_BENCH_RUNS:-3}"
scratch="$(mktemp -d "${RDSPORTS_BENCH_SCRATCH:-/dev/shm}/rdsports-outputs.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
commands=(
  "plan (table)|plan $big"
  "plan --format json|plan $big --format json"
  "plan --format csv|plan $big --format csv"
  "plan --format markdown|plan $big --format markdown"
  "report -o FILE|report $big -o $scratch/big.html"
  "rules --target windows --out DIR|rules $big --target windows --out $scratch/rules"
)
echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $runs runs each"
echo
echo "| command | binary | best wall | walls | peak RSS |"
echo "|---|---|---:|---|---:|"
for entry in "${commands[@]}"; do
  name="${entry%%|*}"
  read -r -a args <<< "${entry#*|}"
  declare -A walls=() peaks=() best=()
  for ((r = 1; r <= runs; r++)); do
    for bin in "$@"; do
      rm -rf "$scratch/rules" "$scratch/big.html"
      /usr/bin/time -f "%e %M" -o "$scratch/time" "$bin" "${args[@]}" > /dev/null 2> /dev/null
      read -r wall kb < "$scratch/time"
      walls[$bin]="${walls[$bin]:-}${walls[$bin]:+ }$wall"
      if [ -z "${best[$bin]:-}" ] || awk "BEGIN { exit !($wall < ${best[$bin]}) }"; then
        best[$bin]=$wall
      fi
      if [ "$kb" -gt "${peaks[$bin]:-0}" ]; then
        peaks[$bin]=$kb
      fi
    done
  done
  for bin in "$@"; do
    printf '| `%s` | %s | %s s | %s | %s MiB |\n' "$name" "$bin" "${best[$bin]}" \
      "${walls[$bin]}" "$(awk "BEGIN { printf \"%.1f\", ${peaks[$bin]} / 1024 }")"
  done
  unset walls peaks best
done
