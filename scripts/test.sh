#!/usr/bin/env bash
# Runs every test of rdsports. Installs what the tests need first (apt packages, Python tools),
# so that it works on a fresh machine. See README.md, "Run every test".
set -euo pipefail
cd "$(dirname "$0")/.."

# --- tools the tests need ------------------------------------------------------------------
apt_packages=(nftables iptables chromium)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "test.sh: installing ${missing[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "test.sh: missing ${missing[*]} and not root: tests that need them will say they were skipped" >&2
  fi
fi

# --- the tests ----------------------------------------------------------------------------
cargo test --workspace
