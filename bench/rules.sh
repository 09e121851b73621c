#!/usr/bin/env bash
# Benchmark of the firewall generators (rdsports-policy): every target for a generated
# deployment of 10,032 hosts (9,950 session hosts; about 2.9 million planned flows).
#
#   bench/rules.sh
#
# Prints the plan and policy times, then per target the rendering time (best of three), the
# rules before and after aggregation, and the files and bytes written. Addresses come from
# 198.18.0.0/15 (RFC 2544); nothing is probed.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench -q -p rdsports-policy --bench generate
