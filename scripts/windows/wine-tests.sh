#!/usr/bin/env bash
# The tests under Wine, run by scripts/windows.sh inside `unshare -n` (a network namespace
# with only loopback). Needs WINE (the wine64 loader), EXE (rdsports.exe), LINUX_EXE (the
# Linux rdsports it is compared with), WINEPREFIX, and target/wine/test-binaries.tsv.
#
# 1. every test binary of the workspace, built for Windows, skipping by name only the tests
#    that need a Linux facility or hit a Wine bug (each with its reason, printed);
# 2. the command line: --help, ports, plan on every example, rules for every target and
#    example (byte-identical to the Linux output), report, check against listen on 127.0.0.x;
# 3. the windows-netsh .cmd files run by Wine's cmd.exe with a stub netsh.exe that records
#    its arguments, compared with the argument lists the generator wrote.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
work=$root/target/wine/run
rm -rf "$work" && mkdir -p "$work"
failures=0
fail() { echo "wine: FAIL: $*" >&2; failures=$((failures + 1)); }
winpath() { printf 'Z:%s' "${1//\//\\}"; }

ip link set lo up
# Wine's server sometimes quits between programs: keep one up for the whole run (-p), and
# end it at the end (-k), also when a step fails.
wineserver -p &
server=$!
cleanup() {
  [[ -n ${listen_pid:-} ]] && kill "$listen_pid" 2>/dev/null
  wineserver -k 2>/dev/null
  kill "$server" 2>/dev/null
  wait 2>/dev/null
}
trap cleanup EXIT
win() { "$WINE" "$@"; }

# --- 1. the test binaries -------------------------------------------------------------------
# name<TAB>reason: skipped under Wine. Everything else runs.
skips=$(cat <<'EOF'
listen::tests::bind_addresses	Wine bug: accepts a bind to a non-local address, so "which host am I" by bind reads wrong
a_listener_answers_the_prober_over_tcp_and_udp	Wine bug: binds UDP to 0.0.0.0 when asked for 127.0.0.x (replies come from 127.0.0.1)
a_source_that_is_not_local_is_not_probed	Wine bug: accepts a bind to a non-local address
the_udp_responder_never_amplifies	Wine bug: binds UDP to 0.0.0.0 when asked for 127.0.0.x (replies come from 127.0.0.1)
engine::mixed_targets_come_back_in_order	Wine bug: a closed UDP port gives no WSAECONNRESET, so it reads open|filtered
registry::udp_services_on_closed_ports_are_closed	Wine bug: a closed UDP port gives no WSAECONNRESET, so it reads open|filtered
udp::a_closed_port_is_closed	Wine bug: a closed UDP port gives no WSAECONNRESET, so it reads open|filtered
perimeter_report_in_chromium	Chromium cannot be started from Wine
hostile_names_stay_text_in_chromium	Chromium cannot be started from Wine
check::ad_hoc_tcp_and_udp	Wine bugs (closed UDP ports, UDP source addresses) in check's end-to-end tests: check is compared with Linux below instead
check::blocked_flows_exit_1_with_the_json_contract	Wine bugs (closed UDP ports, UDP source addresses) in check's end-to-end tests: check is compared with Linux below instead
check::from_must_be_one_local_host	Wine bugs (closed UDP ports, UDP source addresses) in check's end-to-end tests: check is compared with Linux below instead
check::junit_and_table_formats	Wine bugs (closed UDP ports, UDP source addresses) in check's end-to-end tests: check is compared with Linux below instead
check::the_rpc_range_is_not_probed_when_the_mapper_is_closed	Wine bugs (closed UDP ports, UDP source addresses) in check's end-to-end tests: check is compared with Linux below instead
a_web_server_on_the_session_hosts_rdp_port_is_a_wrong_service	Wine bug: a closed UDP port gives no WSAECONNRESET (the test's closed UDP flow reads open|filtered)
hostile::endless_and_oversized_inputs_are_refused_at_once	Linux facilities: reads /dev/zero and /dev/stdin through bash
hostile::plans_that_would_exhaust_the_machine_are_refused_with_their_size	Linux facilities: runs the binary under bash's ulimit -v
hostile::zone_pairs_beyond_the_limits_are_refused	Linux facilities: runs the binary under bash's ulimit -v
lint::sarif_validates_against_the_sarif_2_1_0_schema	runs the Linux Python validator (jsonschema) on the output
listen::listen_and_check_end_to_end_on_loopback	Wine's UDP sockets (0.0.0.0 binds, no WSAECONNRESET): listen and check are compared with Linux below instead
listen::the_demo_runs_as_an_ordinary_user	Linux facilities: unprivileged user and network namespaces (unshare)
listen::the_demo_without_a_namespace_uses_a_stated_port_offset	Wine's UDP sockets: the demo's UDP flows read open|filtered under Wine
listen::the_udp_responder_never_answers_garbage_and_never_amplifies	Wine bug: binds UDP to 0.0.0.0 when asked for 127.0.0.x (replies come from 127.0.0.1)
a_udp_request_flood_leaves_room_for_a_new_source	Wine bug: binds UDP to 0.0.0.0 when asked for 127.0.0.x (the new source's reply comes from 127.0.0.1)
udp_replies_are_rate_limited	Wine bug: binds UDP to 0.0.0.0 when asked for 127.0.0.x (replies come from 127.0.0.1)
a_flood_of_idle_connections_does_not_lock_out_a_genuine_check	too slow under Wine: 2,000 sockets through wineserver exceed the 300 s budget; runs on Linux
EOF
)
run=0; passed=0; failed=0; ignored=0; skipped=0
skip_args=()
while IFS=$'\t' read -r name reason; do
  [[ -n $name ]] && skip_args+=(--skip "$name")
done <<< "$skips"

while IFS=$'\t' read -r test_name dir exe; do
  log=$work/test-$test_name-$(basename "$exe" .exe).log
  # Which tests the skips hit, for the printed list.
  listed=$(cd "$dir" && win "$exe" --list --format terse 2>/dev/null | tr -d '\r' | sed -n 's/: test$//p')
  while IFS=$'\t' read -r name reason; do
    [[ -z $name ]] && continue
    while read -r t; do
      [[ -n $t ]] && { echo "wine: skipped $test_name::$t: $reason"; skipped=$((skipped + 1)); }
    done < <(grep -F -- "$name" <<< "$listed")
  done <<< "$skips"
  (cd "$dir" && env -u CI -u RDSPORTS_PYTOOLS RDSPORTS_UNDER_WINE=1 timeout 300 "$WINE" "$exe" "${skip_args[@]}" --test-threads 2) > "$log" 2>&1
  status=$?
  result=$(tr -d '\r' < "$log" | grep '^test result:' | tail -1)
  p=$(awk '{print $4}' <<< "$result"); f=$(awk '{print $6}' <<< "$result"); i=$(awk '{print $8}' <<< "$result")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); ignored=$((ignored + ${i:-0}))
  run=$((run + ${p:-0} + ${f:-0}))
  if ((status != 0)); then
    fail "$test_name ($exe): exit $status: ${result:-no result line}"
    tr -d '\r' < "$log" | grep -E '^test .* FAILED$|panicked' | head -20 >&2
  fi
done < target/wine/test-binaries.tsv
echo "wine: test binaries: $run tests run ($passed passed, $failed failed, $ignored ignored), $skipped skipped by name"

# --- 2. the command line --------------------------------------------------------------------
export COLUMNS=100 NO_COLOR=1
cli=0
same() { # what, linux output file, wine output file
  cli=$((cli + 1))
  if ! cmp -s "$2" "$3"; then
    fail "$1: the Windows output differs from Linux"
    diff "$2" "$3" | head -10 >&2
  fi
}
win "$EXE" --help > "$work/help.txt" 2>&1 && grep -q "Remote Desktop Services" "$work/help.txt" \
  || fail "--help"
cli=$((cli + 1))
"$LINUX_EXE" ports > "$work/ports.linux"; win "$EXE" ports > "$work/ports.wine"
same "ports" "$work/ports.linux" "$work/ports.wine"
targets=$("$LINUX_EXE" rules --help | sed -n 's/^ *- \([a-z-]*\):.*/\1/p' | sort -u)
[[ -z $targets ]] && targets="windows windows-netsh nftables iptables azure-nsg aws-sg cisco-asa aerleon"
for example in examples/*.toml; do
  name=$(basename "$example" .toml)
  # The note on stderr names the file as given: compare stdout only.
  "$LINUX_EXE" plan "$example" 2>/dev/null > "$work/plan-$name.linux"
  win "$EXE" plan "$(winpath "$root/$example")" 2>/dev/null > "$work/plan-$name.wine"
  same "plan $name" "$work/plan-$name.linux" "$work/plan-$name.wine"
  for t in $targets; do
    mkdir -p "$work/rules-$name-$t.linux" "$work/rules-$name-$t.wine"
    "$LINUX_EXE" rules "$example" --target "$t" --out "$work/rules-$name-$t.linux" >/dev/null 2>&1
    ls=$?
    win "$EXE" rules "$(winpath "$root/$example")" --target "$t" --out "$(winpath "$work/rules-$name-$t.wine")" >/dev/null 2>&1
    ws=$?
    cli=$((cli + 1))
    if ((ls != ws)); then
      fail "rules $name --target $t: exit $ws under Wine, $ls on Linux"
    elif ! diff -r "$work/rules-$name-$t.linux" "$work/rules-$name-$t.wine" >/dev/null; then
      fail "rules $name --target $t: the files differ from Linux"
      diff -r "$work/rules-$name-$t.linux" "$work/rules-$name-$t.wine" | head -10 >&2
    fi
  done
done
"$LINUX_EXE" report -o "$work/report.linux.html" 2>/dev/null
win "$EXE" report -o "$(winpath "$work/report.wine.html")" 2>/dev/null
same "report" "$work/report.linux.html" "$work/report.wine.html"

# check against listen on loopback. The listening host is 127.0.0.1: Wine binds UDP to
# 0.0.0.0 when asked for 127.0.0.x, so its replies come from 127.0.0.1 whatever the host.
port=23389
cat > "$work/loop.toml" <<EOF
name = "loop"
[options]
rdp_port = $port
domain_baseline = false
[[host]]
name = "gw01"
address = "127.0.0.2"
roles = ["gateway"]
[[host]]
name = "sh01"
address = "127.0.0.1"
roles = ["session-host"]
EOF
loop=$(winpath "$work/loop.toml")
verdicts() { jq -r '.results[] | "\(.protocol) \(.port) \(.verdict)"' "$1" | sort; }
# Nothing listening: TCP refused on both; time the refused connect under Wine.
start=$(date +%s%N)
win "$EXE" check "$loop" --from gw01 --to sh01 --timeout 300 --format json > "$work/check-none.wine" 2>/dev/null
echo "wine: check with nothing listening took $((($(date +%s%N) - start) / 1000000)) ms in all; TCP refused after $(jq -r '.results[] | select(.protocol == "tcp") | .rtt_ms' "$work/check-none.wine") ms"
"$LINUX_EXE" check "$work/loop.toml" --from gw01 --to sh01 --timeout 300 --format json > "$work/check-none.linux" 2>/dev/null
cli=$((cli + 1))
[[ $(verdicts "$work/check-none.wine" | grep tcp) == "tcp $port refused" && $(verdicts "$work/check-none.linux" | grep tcp) == "tcp $port refused" ]] \
  || fail "check with nothing listening: TCP: $(verdicts "$work/check-none.wine" | grep tcp) under Wine, $(verdicts "$work/check-none.linux" | grep tcp) on Linux"
echo "wine: skipped check UDP closed: Wine bug: a closed UDP port gives no WSAECONNRESET ($(verdicts "$work/check-none.wine" | grep udp) under Wine, $(verdicts "$work/check-none.linux" | grep udp) on Linux)"
# A Wine listener, checked by Wine and by Linux: open, with the listener's handshake.
win "$EXE" listen "$loop" --as sh01 --for 30s > "$work/listen.out" 2>&1 &
listen_pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$work/listen.out" 2>/dev/null && break
  sleep 0.1
done
win "$EXE" check "$loop" --from gw01 --to sh01 --timeout 1000 --format json > "$work/check-listen.wine" 2>/dev/null
"$LINUX_EXE" check "$work/loop.toml" --from gw01 --to sh01 --timeout 1000 --format json > "$work/check-listen.linux" 2>/dev/null
cli=$((cli + 1))
want="tcp $port open
udp $port open"
[[ $(verdicts "$work/check-listen.wine") == "$want" ]] || fail "check (Wine) against listen (Wine): $(verdicts "$work/check-listen.wine" | tr '\n' ' ')"
[[ $(verdicts "$work/check-listen.linux") == "$want" ]] || fail "check (Linux) against listen (Wine): $(verdicts "$work/check-listen.linux" | tr '\n' ' ')"
[[ $(jq -r '[.results[].service] | unique | join(",")' "$work/check-listen.wine") == rdsports-listener ]] \
  || fail "check (Wine) did not recognise the listener's handshake"
kill "$listen_pid" 2>/dev/null; wait "$listen_pid" 2>/dev/null; listen_pid=
grep -q "New-NetFirewallRule .* -Program 'Z:" "$work/listen.out" || fail "listen printed no Windows Firewall line"
echo "wine: command line: $cli comparisons with Linux"

# --- 3. the netsh .cmd files under cmd.exe ----------------------------------------------------
stubdir=$work/netsh
mkdir -p "$stubdir"
x86_64-w64-mingw32-gcc -O2 -o "$stubdir/netsh.exe" scripts/windows/netsh-stub.c || fail "building the netsh stub"
cmds=0
for example in examples/*.toml scripts/windows/hostile.toml; do
  name=$(basename "$example" .toml)
  out=$stubdir/$name
  mkdir -p "$out"
  "$LINUX_EXE" rules "$example" --target windows-netsh --out "$out" >/dev/null 2>&1 || { fail "rules $name --target windows-netsh"; continue; }
  for file in "$out"/*.cmd; do
    log=$file.log
    # What the generator intended: each netsh line, split as the C runtime splits a command
    # line (spaces outside double quotes; the quotes removed), redirections left to cmd.exe.
    tr -d '\r' < "$file" | sed -n 's/^netsh \(.*\)$/\1/p' | sed 's/ >nul.*$//' \
      | python3 -c '
import shlex, sys
for line in sys.stdin:
    lex = shlex.shlex(line.rstrip("\n"), posix=True)
    lex.whitespace_split = True
    lex.quotes = "\""
    lex.escape = ""
    for arg in lex:
        print("ARG " + arg)
    print("END")' > "$file.want"
    # Wine 8's cmd.exe runs the right side of `||` even when the left side succeeded (Wine
    # bug: `cmd /c exit 0 || echo x` prints x), so the copy it runs has no `|| exit /b 1`;
    # instead every netsh line is followed by `if errorlevel 1 exit /b 9`, so that a netsh
    # that did not run (the stub failed, or Wine could not start it) ends the script with
    # exit 9 instead of going unseen before the script's own `exit /b 0`.
    sed -e 's/ || exit \/b 1\r$/\r/' -e 's/^\(netsh .*\)\r$/\1\r\nif errorlevel 1 exit \/b 9\r/' \
      "$file" > "$file.wine.cmd"
    run_cmd() {
      rm -f "$log"
      (cd "$stubdir" && NETSH_LOG=$(winpath "$log") win cmd /c "$(winpath "$file.wine.cmd")" >/dev/null 2>&1)
    }
    run_cmd
    status=$?
    if ((status != 0)); then
      # A program Wine could not start is Wine's, not the script's: seen once in CI on a
      # loaded machine (the last netsh of one script never ran). Run the script once more;
      # a wrong argument list (exit 0, a different log) is never retried.
      echo "wine: $name/$(basename "$file") ended with exit $status (a netsh did not run): running it once more" >&2
      run_cmd
      status=$?
    fi
    cmds=$((cmds + 1))
    if ((status != 0)); then
      fail "cmd.exe ran $name/$(basename "$file") with exit $status"
    elif ! tr -d '\r' < "$log" | cmp -s - "$file.want"; then
      fail "$name/$(basename "$file"): the arguments netsh received differ from the generated ones"
      diff <(tr -d '\r' < "$log") "$file.want" | head -10 >&2
    fi
  done
done
echo "wine: netsh: $cmds .cmd files run by cmd.exe, every argument list as generated"

echo "wine: $run tests run under Wine ($skipped skipped by name), $cli command-line comparisons, $cmds netsh scripts; $failures failure(s)"
((failures == 0))
