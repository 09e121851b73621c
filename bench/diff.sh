#!/usr/bin/env bash
# Time and peak memory of `rdsports diff` and `report --diff` on synthetic farms: the planning
# benchmark's deployment (`synthetic -- N`) against itself with `rdp_port = 3390`, which
# changes every RDP flow.
#
#   bench/diff.sh [SESSION_HOSTS...]     (default: 2000 9950)
#
# Builds the release binary; each measurement runs once under /usr/bin/time (wall time and
# peak resident memory in MiB). Files go to target/bench-diff.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=target/bench-diff
mkdir -p "$dir"
cargo build -q --release
bin=target/release/rdsports
[ $# -eq 0 ] && set -- 2000 9950
printf '%-8s %-22s %10s %9s %10s\n' hosts command wall_s peak_MiB out_lines
for n in "$@"; do
  cargo run -q --release -p rdsports-core --example synthetic -- "$n" > "$dir/old-$n.toml"
  sed '0,/^\[options\]$/s//[options]\nrdp_port = 3390/' "$dir/old-$n.toml" > "$dir/new-$n.toml"
  for cmd in "diff -f csv" "report --diff"; do
    case $cmd in
      diff*) args=(diff "$dir/old-$n.toml" "$dir/new-$n.toml" -f csv) ;;
      *) args=(report "$dir/new-$n.toml" --diff "$dir/old-$n.toml") ;;
    esac
    /usr/bin/time -f '%e %M' -o "$dir/time" "$bin" "${args[@]}" > "$dir/out" 2>/dev/null || true
    read -r wall kib < "$dir/time"
    printf '%-8s %-22s %10s %9s %10s\n' "$n" "$cmd" "$wall" "$((kib / 1024))" "$(wc -l < "$dir/out")"
  done
done
