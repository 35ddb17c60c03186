#!/bin/bash
# logs -f and events -f survive unikd killed with SIGKILL under them: they
# connect again once it is back and go on from the last byte / event they
# printed, with no gap and nothing twice.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

start_unikd
run_vm tk -- --print-every=50
wait_state tk running
ctl="$top_builddir/unikctl"
"$ctl" -s "$SOCK" logs -f tk >"$T/logs" 2>"$T/logs.err" &
lpid=$!
"$ctl" -s "$SOCK" logs -f -n 2 tk >"$T/tail" 2>/dev/null &
tpid=$!
"$ctl" -s "$SOCK" --json events -f --vm tk >"$T/events" 2>"$T/events.err" &
epid=$!
ticked() { [ "$(ticks <"$T/logs" | tail -n 1)" -ge "$1" ] 2>/dev/null; }
wait_for 10 "logs -f to print ticks" ticked 5
# all three are connected before unikd goes (a first connection that fails
# is an error, not a retry)
wait_for 10 "logs -f -n 2 to print" test -s "$T/tail"
wait_for 10 "events -f to print tk's events" test -s "$T/events"

info "unikd killed with SIGKILL under the followers, then started again"
kill9_unikd
sleep 1.5
alive "$lpid" || fail "logs -f ended when unikd was killed"
alive "$epid" || fail "events -f ended when unikd was killed"
start_unikd
n=$(ticks <"$T/logs" | tail -n 1)
wait_for 15 "logs -f to print ticks again" ticked $((n + 10))
uk stop tk >/dev/null || fail "stop tk"
timeout 15 tail --pid="$lpid" -f /dev/null || fail "logs -f did not end with the VM"
wait "$lpid"
assert_eq "$?" 0 "exit code of logs -f"
wait "$tpid"

info "logs -f printed the console log once, byte for byte"
uk logs tk >"$T/whole" || fail "logs tk"
cmp "$T/logs" "$T/whole" || fail "logs -f differs from the log"
ticks <"$T/logs" | assert_consecutive "ticks of logs -f"
assert_contains "$(cat "$T/logs.err")" "following again" "logs -f's note"
assert_contains "$(tail -c 200 "$T/logs")" "SIGTERM, halting" "the end of logs -f"
info "logs -f -n 2 printed a tail of it, then the rest, once"
"$PY" -c 'import sys; w = open(sys.argv[1], "rb").read(); t = open(sys.argv[2], "rb").read(); sys.exit(0 if t and w.endswith(t) and t.count(b"\n") > 20 else 1)' \
    "$T/whole" "$T/tail" || fail "logs -f -n 2 is not the end of the log"

info "events -f printed every event of tk once, in order"
wait_for 10 "events -f to see the stop" grep -q '"vm.exited"' "$T/events"
kill "$epid"
wait "$epid" 2>/dev/null
got=$(jlines 'str(e["seq"])' <"$T/events" | tr '\n' ' ')
want=$(curl -sS --unix-socket "$SOCK" 'http://localhost/v1/events?vm=tk' |
    jlines 'str(e["seq"])' | tr '\n' ' ')
assert_eq "$got" "$want" "seqs printed by events -f"
assert_contains "$(cat "$T/events.err")" "following again" "events -f's note"
echo "PASS"
