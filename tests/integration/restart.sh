#!/bin/bash
# Restart policies: on-failure restarts a killed tender; it gives up after
# max_retries with an increasing backoff; a clean exit and a stop through
# the API are never restarted. Backoff in the config: 100 ms, cap 400 ms.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

start_unikd

# events_of VM: the VM's events as NDJSON, straight from the API.
events_of() {
	curl -sS --max-time 10 --unix-socket "$SOCK" \
	    "http://localhost/v1/events?vm=$1" || fail "GET /v1/events?vm=$1"
}

info "on-failure restarts a tender killed with SIGKILL"
run_vm r1 --restart on-failure:3 -- --print-every=100
wait_state r1 running
pid1=$(vm_field r1 pid)
assert_eq "$(vm_field r1 restarts)" 0 "r1 restarts at first"
assert_eq "$(vm_get r1 'd["restart"]["policy"]')" on-failure "r1 policy"
assert_eq "$(vm_get r1 'd["restart"]["max_retries"]')" 3 "r1 max_retries"
kill -9 "$pid1"
restarted() {
	local p
	p=$(vm_field r1 pid)
	[ "$(vm_field r1 state)" = running ] && [ "$p" != null ] &&
	    [ "$p" != "$pid1" ]
}
wait_for 10 "r1 to be restarted with a new pid" restarted
pid2=$(vm_field r1 pid)
alive "$pid2" || fail "r1's new tender $pid2 is not alive"
assert_eq "$(vm_field r1 restarts)" 1 "r1 restarts after one kill"
assert_eq "$(comm_of "$(ppid_of "$pid2")")" unikd-monitor \
    "parent of r1's new tender"
ev=$(events_of r1)
assert_eq "$(echo "$ev" | jlines 'e["exit_reason"] if e["type"] == "vm.exited" else None')" \
    "killed by SIGKILL" "exit_reason in r1's vm.exited"
assert_eq "$(echo "$ev" | jlines 'e["type"]' | grep -c vm.restarting)" 1 \
    "vm.restarting events of r1"

info "on-failure:2 gives up after two restarts"
t0=$(date +%s)
run_vm r2 --restart on-failure:2 -- --exit-after=0.1 --exit-code=3
wait_state r2 failed 15
t1=$(date +%s)
assert_eq "$(vm_field r2 restarts)" 2 "r2 restarts"
assert_eq "$(vm_field r2 exit_status)" 3 "r2 exit_status"
assert_eq "$(vm_field r2 exit_reason)" "failed 3" "r2 exit_reason"
assert_eq "$(vm_field r2 restart_at)" null "r2 restart_at once failed"
((t1 - t0 <= 10)) || fail "r2 took $((t1 - t0))s to fail"
ev=$(events_of r2)
echo "$ev" | jlines 'e["type"] + " " + str(e.get("attempt")) + " " + str(e.get("delay_ms"))' |
    grep '^vm.restarting' >"$T/restarting" || fail "no vm.restarting event for r2"
cat "$T/restarting"
assert_eq "$(wc -l <"$T/restarting")" 2 "vm.restarting events of r2"
awk 'NR > 1 && ($2 <= a || $3 <= d) { exit 1 } { a = $2; d = $3 }' \
    "$T/restarting" || fail "attempt and delay_ms do not increase"
awk '$3 < 100 || $3 > 400 { exit 1 }' "$T/restarting" ||
    fail "delay_ms outside the configured backoff (100..400 ms)"
types=$(echo "$ev" | jlines 'e["type"]' | tr '\n' ' ')
assert_contains "$types" "vm.failed" "r2's events"
assert_eq "$(echo "$types" | grep -o 'vm.running' | wc -l)" 3 \
    "vm.running events of r2 (first run + 2 restarts)"
assert_eq "$(uk logs r2 | grep -c 'testguest: ready')" 3 \
    "boots in r2's console"
timeout 10 "$top_builddir/unikctl" -s "$SOCK" wait r2
assert_eq "$?" 3 "exit code of wait on failed r2"

info "on-failure does not restart a clean exit"
run_vm r3 --restart on-failure -- --exit-after=0.2
wait_state r3 exited
sleep 1
assert_eq "$(vm_field r3 state)" exited "r3 state 1s after its exit"
assert_eq "$(vm_field r3 restarts)" 0 "r3 restarts"
assert_eq "$(vm_field r3 exit_reason)" "exited 0" "r3 exit_reason"
assert_eq "$(events_of r3 | jlines 'e["type"]' | grep -c vm.restarting)" 0 \
    "vm.restarting events of r3"

info "always does not restart a VM stopped through the API"
run_vm r4 --restart always -- --print-every=100
wait_state r4 running
uk stop r4 || fail "stop r4"
wait_state r4 exited
sleep 1
assert_eq "$(vm_field r4 state)" exited "r4 state 1s after stop"
assert_eq "$(vm_field r4 restarts)" 0 "r4 restarts"
assert_eq "$(vm_field r4 restart_at)" null "r4 restart_at"

info "always restarts a clean exit"
run_vm r5 --restart always -- --exit-after=0.2
more_than_one() { [ "$(vm_field r5 restarts)" -ge 2 ] 2>/dev/null; }
wait_for 10 "r5 to be restarted twice" more_than_one
uk rm -f r5 >/dev/null || fail "rm -f of r5 (restart pending or running)"
uk inspect r5 >/dev/null 2>&1 && fail "r5 still exists after rm -f"
r5_gone() {
	local p
	for p in $(procs_under_t); do
		grep -qaF -- "--exit-after=0.2" "/proc/$p/cmdline" 2>/dev/null &&
		    return 1
	done
	return 0
}
wait_for 5 "r5's tender to end after rm -f" r5_gone
sleep 0.5
r5_gone || fail "r5 was started again after rm -f"

info "restart of a running VM"
pid=$(vm_field r1 pid)
uk restart r1 >/dev/null || fail "restart r1"
new_pid() {
	local p
	p=$(vm_field r1 pid)
	[ "$(vm_field r1 state)" = running ] && [ "$p" != null ] &&
	    [ "$p" != "$pid" ]
}
wait_for 10 "r1 to run again after restart" new_pid
assert_contains "$(uk logs r1)" "testguest: SIGTERM, halting" "r1 console"
info "a monitor killed with SIGKILL takes its tender with it"
run_vm r6 -- --print-every=100
wait_state r6 running
pid=$(vm_field r6 pid)
mpid=$(vm_field r6 monitor_pid)
kill -9 "$mpid"
wait_state r6 exited 5
assert_eq "$(vm_field r6 exit_reason)" "monitor lost" "r6 exit_reason"
wait_for 5 "r6's tender to end with its monitor" eval "! alive $pid"

info "a pending restart and its streak outlive unikd killed with SIGKILL"
# a backoff of 2 s, so that unikd can be killed during each delay
kill9_unikd
sed -i 's/^restart_backoff = .*/restart_backoff = 2000/;
    s/^restart_backoff_max = .*/restart_backoff_max = 2000/' "$CONF"
start_unikd
run_vm r7 --restart on-failure:3 -- --exit-after=0 --exit-code=3
r7_pending() {
	[ "$(vm_field r7 state)" = restarting ] &&
	    [ "$(vm_field r7 restart_at)" != null ]
}
r7_restarts_at_least() { [ "$(vm_field r7 restarts)" -ge "$1" ] 2>/dev/null; }
wait_for 5 "r7 to exit with a restart pending" r7_pending
assert_eq "$(vm_field r7 restarts)" 0 "r7 restarts before unikd is killed"
kill9_unikd
start_unikd
wait_for 10 "r7 to be restarted by the new unikd" r7_restarts_at_least 1
# killed again in the second delay: one restart is counted in the streak
wait_for 5 "r7 to exit with its second restart pending" r7_pending
assert_eq "$(vm_field r7 restarts)" 1 "r7 restarts before the second kill"
kill9_unikd
start_unikd
wait_state r7 failed 20
assert_eq "$(vm_field r7 restarts)" 3 \
    "r7 restarts (on-failure:3 across unikd restarts)"
assert_eq "$(vm_field r7 restart_at)" null "r7 restart_at once failed"
assert_eq "$(vm_field r7 exit_reason)" "failed 3" "r7 exit_reason"
echo "PASS"
