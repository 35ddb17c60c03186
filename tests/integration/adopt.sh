#!/bin/bash
# Re-adoption: VMs outlive unikd. kill -9 of unikd loses no VM, no console
# byte and no exit status (one VM exits while unikd is down); a graceful
# SIGTERM of unikd leaves the VMs running too; the new unikd controls the
# adopted VMs (logs -f, stop).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

start_unikd

run_vm a1 -- --print-every=100
run_vm a2 -- --print-every=100
run_vm a3 -- --exit-after=5 --exit-code=5
for vm in a1 a2 a3; do
	wait_state "$vm" running
done
declare -A pid mpid
for vm in a1 a2 a3; do
	pid[$vm]=$(vm_field "$vm" pid)
	mpid[$vm]=$(vm_field "$vm" monitor_pid)
done
has_ticks() { uk logs a1 | grep -q 'testguest: tick 5'; }
wait_for 5 "a1 to tick" has_ticks

info "kill -9 unikd"
kill9_unikd
before=$(cat "$T"/state/vms/a1/console.log* 2>/dev/null | ticks | sort -n |
    tail -n 1)
for vm in a1 a2 a3; do
	alive "${pid[$vm]}" ||
	    fail "$vm's tender ${pid[$vm]} died with unikd"
	alive "${mpid[$vm]}" ||
	    fail "$vm's monitor ${mpid[$vm]} died with unikd"
done
uk info >/dev/null 2>&1
assert_eq "$?" 3 "exit code of unikctl with unikd down"

sleep 6
alive "${pid[a3]}" && fail "a3 did not exit while unikd was down"

info "start unikd again"
start_unikd
ps_out=$(uk ps -a) || fail "unikctl ps -a"
echo "$ps_out"
for vm in a1 a2; do
	assert_eq "$(vm_field "$vm" state)" running "$vm state after re-adoption"
	assert_eq "$(vm_field "$vm" pid)" "${pid[$vm]}" "$vm pid after re-adoption"
	assert_eq "$(vm_field "$vm" monitor_pid)" "${mpid[$vm]}" \
	    "$vm monitor_pid after re-adoption"
	line=$(echo "$ps_out" | grep -w "$vm") || fail "ps does not list $vm"
	assert_contains "$line" running "ps line of $vm"
	assert_contains "$line" "${pid[$vm]}" "ps line of $vm"
done
assert_eq "$(vm_field a3 state)" exited "a3 state (it exited while unikd was down)"
assert_eq "$(vm_field a3 exit_status)" 5 "a3 exit_status"
assert_eq "$(vm_field a3 exit_reason)" "failed 5" "a3 exit_reason"
[ "$(vm_field a3 finished_at)" != null ] || fail "a3 has no finished_at"
assert_contains "$(uk logs a3)" "testguest: exiting with code 5" "a3 console"
timeout 10 "$top_builddir/unikctl" -s "$SOCK" wait a3
assert_eq "$?" 5 "exit code of wait on a3"
alive "${mpid[a3]}" && {
	wait_for 5 "a3's monitor to end" eval "! alive ${mpid[a3]}"
}

info "the console of a1 has no gap"
sleep 1
logs=$(uk logs a1) || fail "logs a1"
after=$(echo "$logs" | ticks | tail -n 1)
echo "# last tick before the kill: $before, now: $after"
[ -n "$before" ] || fail "no tick in a1's console before the kill"
((after >= before + 30)) ||
    fail "a1 ticked only from $before to $after over 4s with unikd down"
echo "$logs" | ticks | assert_consecutive "a1's console across the kill"
assert_eq "$(echo "$logs" | ticks | head -n 1)" 1 "first tick of a1"

info "logs -f streams after re-adoption"
last=$(uk logs a1 | ticks | tail -n 1)
out=$(timeout 2 "$top_builddir/unikctl" -s "$SOCK" logs -f a1)
assert_eq "$?" 124 "logs -f a1 must still be following after 2s"
new=$(echo "$out" | ticks | awk -v l="$last" '$1 > l' | wc -l)
((new >= 10)) || fail "logs -f showed $new new ticks in 2s (expected >= 10)"
echo "$out" | ticks | assert_consecutive "ticks streamed by logs -f"

info "events after re-adoption"
ev=$(curl -sS --max-time 10 --unix-socket "$SOCK" \
    "http://localhost/v1/events?vm=a3" | jlines 'e["type"]' | tr '\n' ' ')
assert_contains "$ev" "vm.exited" "a3's events"
assert_eq "$(echo "$ev" | grep -o vm.exited | wc -l)" 1 \
    "vm.exited events of a3"

info "graceful SIGTERM of unikd leaves the VMs running"
stop_unikd
for vm in a1 a2; do
	alive "${pid[$vm]}" ||
	    fail "$vm's tender died on SIGTERM of unikd"
done
[ -e "$SOCK" ] && ! uk info >/dev/null 2>&1 && info "(stale socket file left)"
start_unikd
for vm in a1 a2; do
	assert_eq "$(vm_field "$vm" state)" running "$vm after the 2nd restart"
	assert_eq "$(vm_field "$vm" pid)" "${pid[$vm]}" "$vm pid after the 2nd restart"
done

info "stop and rm of an adopted VM"
uk stop a1 || fail "stop of adopted a1"
wait_state a1 exited 10
assert_eq "$(vm_field a1 exit_reason)" stopped "a1 exit_reason"
alive "${pid[a1]}" && fail "a1's tender still alive after stop"
assert_contains "$(uk logs -n 1 a1)" "SIGTERM, halting" "a1 console after stop"
uk logs a1 | ticks | assert_consecutive "a1's whole console"
uk rm -f a2 >/dev/null || fail "rm -f of adopted a2"
wait_for 5 "a2's tender to end" eval "! alive ${pid[a2]}"
wait_for 5 "a2's monitor to end" eval "! alive ${mpid[a2]}"
echo "PASS"
