#!/bin/bash
# unikctl run as a user meets it: it waits until the VM has settled and
# reports one that died at once, with its last console lines; Ctrl-C on
# run --attach --rm stops the VM and removes it, a second Ctrl-C kills it.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

start_unikd
ukrun() {	# NAME [options] -- GUEST ARGS
	local name=$1
	shift
	uk run --name "$name" --tender solo5-spt --image "$IMG" "$@"
}

info "run reports a VM that dies at once"
ukrun dies -- --exit-after=0.1 --exit-code=4 >"$T/out" 2>"$T/err"
assert_eq "$?" 4 "exit code of run of a VM that exits 4 at once"
assert_contains "$(cat "$T/err")" "vm 'dies' exited: failed 4" "run's message"
assert_contains "$(cat "$T/out")" "testguest: exiting with code 4" \
    "the last console lines"
ukrun loops --restart on-failure -- --exit-after=0.1 --exit-code=3 \
    >/dev/null 2>"$T/err"
assert_eq "$?" 3 "exit code of run of a VM that fails and restarts"
assert_contains "$(cat "$T/err")" "restarting" "run's message for loops"
uk stop loops >/dev/null

info "run of a VM that keeps running waits for it to settle"
t0=$(date +%s%N)
ukrun steady -- --print-every=100 >/dev/null || fail "run steady"
t1=$(date +%s%N)
(((t1 - t0) / 1000000 >= 900)) || fail "run returned before the 1 s settle"
assert_eq "$(vm_field steady state)" running "steady after run"
ukrun quick --settle 0 -- --print-every=100 >/dev/null || fail "run --settle 0"
ukrun job -- --exit-after=0.1 >/dev/null 2>"$T/err"
assert_eq "$?" 0 "exit code of run of a job that ended well at once"
ukrun x --settle=soon -- >/dev/null 2>&1
assert_eq "$?" 2 "exit code of --settle=soon"
uk inspect x >/dev/null 2>&1 && fail "x was created with a bad --settle"

info "Ctrl-C on run --attach --rm stops the VM and removes it"
"$top_builddir/unikctl" -s "$SOCK" run --name att --tender solo5-spt \
    --image "$IMG" --attach --rm -- --print-every=100 >"$T/att" 2>&1 &
apid=$!
wait_for 10 "att to tick" grep -q "testguest: tick" "$T/att"
kill -INT "$apid"
timeout 15 tail --pid="$apid" -f /dev/null || fail "run --attach ignored SIGINT"
wait "$apid"
assert_eq "$?" 0 "exit code of the interrupted run (the VM stopped)"
uk inspect att >/dev/null 2>&1 && fail "att was not removed"
assert_contains "$(cat "$T/att")" "testguest: SIGTERM, halting" \
    "att stopped gracefully"

info "a second Ctrl-C kills a VM that does not stop"
"$top_builddir/unikctl" -s "$SOCK" run --name stub --tender solo5-spt \
    --image "$IMG" --stop-timeout 60 --attach --rm -- --ignore-term \
    --print-every=100 >"$T/stub" 2>&1 &
spid=$!
wait_for 10 "stub to tick" grep -q "testguest: tick" "$T/stub"
kill -TERM "$spid"
wait_state stub stopping 10
sleep 0.5
alive "$spid" || fail "run ended before the VM stopped"
kill -INT "$spid"
timeout 15 tail --pid="$spid" -f /dev/null || fail "run ignored the second Ctrl-C"
wait "$spid"
assert_eq "$?" 137 "exit code of a run whose VM was killed"
uk inspect stub >/dev/null 2>&1 && fail "stub was not removed"
echo "PASS"
