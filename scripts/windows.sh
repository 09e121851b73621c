#!/usr/bin/env bash
# Builds rdsports.exe for Windows and runs the test suite under Wine. See CONTRIBUTING.md,
# "The Windows build and Wine", and docs/windows.md.
#
#   ./scripts/windows.sh            install (as root), build, set up Wine, run the tests
#   ./scripts/windows.sh build      install and build target/x86_64-pc-windows-gnu/release/rdsports.exe only
#   ./scripts/windows.sh clippy     install and run clippy for the Windows target only
#
# On a fresh Debian 12 machine, as root, it installs what it needs: Debian's rustc-web,
# cargo-web and rust-web-src (1.96, bookworm-security: the only way here to get a Windows
# standard library, which rustup cannot fetch), gcc-mingw-w64-x86-64 (linker) and wine64.
# The Debian compiler is used for the Windows target only; the project's Linux toolchain stays
# rustup's stable. Without root a missing piece is reported and the script stops (exit 1 under
# CI=true, else 0 with the reason), like the lab.
#
# After it ran, `WINEPREFIX=$PWD/target/wine/prefix wine target/x86_64-pc-windows-gnu/release/rdsports.exe plan`
# works: the Wine prefix is under target/ and holds the ProcessPrng shim (scripts/windows/).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
mode=${1:-test}
ci=false
[[ ${CI:-} == true ]] && ci=true

say() { echo "windows.sh: $*" >&2; }
missing_piece() {
  say "$1"
  if $ci; then
    say "CI=true: a missing piece is a failure"
    exit 1
  fi
  say "skipped: the Windows build and the tests under Wine did not run"
  exit 0
}

# --- Debian packages ------------------------------------------------------------------------
packages=(rustc-web cargo-web rust-web-src rust-web-clippy gcc-mingw-w64-x86-64 wine64 wine util-linux iproute2 jq)
need=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if ((${#need[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    missing_piece "missing ${need[*]} and not root"
  fi
  say "installing ${need[*]}"
  [[ -e /usr/sbin/policy-rc.d ]] || printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  lock=(); command -v flock >/dev/null && lock=(flock /tmp/apt.lock)
  "${lock[@]}" apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive "${lock[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
for tool in /usr/bin/rustc /usr/bin/cargo x86_64-w64-mingw32-gcc /usr/lib/wine/wine64 wineserver; do
  command -v "$tool" >/dev/null || missing_piece "$tool not found after installing"
done

# --- the build: Debian's rustc 1.96 with build-std (its std source is rust-web-src) -------
# rustup's cargo comes first on PATH: name Debian's explicitly. RUSTC_BOOTSTRAP=1 lets the
# stable Debian compiler take -Zbuild-std; the std's own dependencies come from crates.io.
target=x86_64-pc-windows-gnu
export RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
cargo_win=(/usr/bin/cargo)
build_flags=(--release -Zbuild-std=std,panic_abort --target "$target")
exe=target/$target/release/rdsports.exe
mkdir -p target
start=$(date +%s)
"${cargo_win[@]}" build "${build_flags[@]}" --bin rdsports
say "built $exe in $(($(date +%s) - start)) s ($(/usr/bin/rustc --version))"

# Clippy for the Windows target, every warning an error (the cfg(windows) code is checked
# nowhere else). Debian's cargo-clippy: rustup's, first on PATH, cannot see this std.
if [[ $mode != build ]]; then
  PATH=/usr/bin:$PATH "${cargo_win[@]}" clippy --workspace --all-targets "${build_flags[@]}" -- -D warnings
  say "clippy for $target: no warnings"
  [[ $mode == clippy ]] && exit 0
fi

# --- Wine: a prefix under target/ with the ProcessPrng shim --------------------------------
export WINEPREFIX=$root/target/wine/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
wine=/usr/lib/wine/wine64
if [[ ! -f $WINEPREFIX/system.reg ]]; then
  say "creating the Wine prefix $WINEPREFIX"
  # Wine makes the prefix itself but not its parent (on a fresh clone target/wine does not
  # exist yet: "wine: chdir to .../prefix: No such file or directory").
  mkdir -p "$(dirname "$WINEPREFIX")"
  "$wine" wineboot --init >target/wine-boot.log 2>&1 || true
  wineserver -w
  if [[ ! -d $WINEPREFIX/drive_c/windows/system32 ]]; then
    tail -20 target/wine-boot.log >&2
    echo "windows.sh: wineboot did not create $WINEPREFIX" >&2
    exit 1
  fi
fi
# Wine 8 has no bcryptprimitives.dll, whose ProcessPrng Rust's std imports: a shim over
# RtlGenRandom, for Wine only (real Windows has the DLL).
mkdir -p target/wine
x86_64-w64-mingw32-gcc -O2 -shared -Wl,--kill-at -o target/wine/bcryptprimitives.dll \
  scripts/windows/processprng.c scripts/windows/bcryptprimitives.def -ladvapi32
cp target/wine/bcryptprimitives.dll "$WINEPREFIX/drive_c/windows/system32/"

if [[ $mode != build ]]; then
  # The test binaries, built for Windows (after the .exe: the workspace's feature set may
  # relink it, so it is stripped below, last).
  "${cargo_win[@]}" test --workspace "${build_flags[@]}" --no-run --message-format=json \
    2>target/wine/test-build.log \
    | jq -r 'select(.reason == "compiler-artifact" and .profile.test == true and .executable != null)
             | "\(.target.name)\t\(.manifest_path | sub("/Cargo.toml$"; ""))\t\(.executable)"' \
    > target/wine/test-binaries.tsv || { tail -30 target/wine/test-build.log; exit 1; }
  say "$(wc -l < target/wine/test-binaries.tsv) test binaries built for Windows"
fi

# Release builds keep line tables (Cargo.toml) for Linux backtraces; the Windows .exe ships
# without debug information or symbols: 56 MB with them, 9 MB without (docs/benchmarks.md).
# Stripped after the build (a profile setting would apply to Linux too, and rustflags for the
# target alone would rebuild the std and every dependency a second time for the tests).
before=$(stat -c %s "$exe")
x86_64-w64-mingw32-strip "$exe"
say "stripped $exe: $before -> $(stat -c %s "$exe") bytes; sha256 $(sha256sum "$exe" | cut -d' ' -f1)"
"$wine" "$exe" --version
if [[ $mode == build ]]; then
  exit 0
fi
# The Linux binary the Windows output is compared with (rules byte for byte, check verdicts),
# built by the project's own toolchain (rustup's cargo, first on PATH).
env -u RUSTC -u RUSTC_BOOTSTRAP cargo build --bin rdsports
linux_exe=$root/target/debug/rdsports

# --- under Wine, in a network namespace with only loopback ----------------------------------
# Wine binds UDP to 0.0.0.0 when asked for 127.0.0.x and accepts non-local bind addresses:
# in a namespace with only `lo`, nothing can leave the machine whatever it binds.
if ! unshare -n true 2>/dev/null; then
  missing_piece "unshare -n (network namespaces) does not work here: it needs root"
fi
WINE=$wine EXE=$root/$exe LINUX_EXE=$linux_exe unshare -n bash scripts/windows/wine-tests.sh
