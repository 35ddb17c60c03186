#!/bin/bash
# The life cycle of VMs through unikctl: run, ps, inspect, logs, stop
# (graceful and by SIGKILL after the timeout), rm, run --attach, wait,
# events. The tender is the test guest under the solo5-spt driver.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

start_unikd

info "three running VMs"
for vm in vm1 vm2 vm3; do
	run_vm "$vm" -- --print-every=100
done
for vm in vm1 vm2 vm3; do
	wait_state "$vm" running
done

ps_out=$(uk ps) || fail "unikctl ps failed"
echo "$ps_out"
nobody_uid=$(id -u nobody)
for vm in vm1 vm2 vm3; do
	pid=$(vm_field "$vm" pid)
	mpid=$(vm_field "$vm" monitor_pid)
	[[ "$pid" =~ ^[0-9]+$ ]] || fail "$vm: pid is '$pid'"
	line=$(echo "$ps_out" | grep -w "$vm") || fail "ps does not list $vm"
	assert_contains "$line" running "ps line of $vm"
	assert_contains "$line" "$pid" "ps line of $vm"
	alive "$pid" || fail "$vm: tender $pid is not alive"
	ppid=$(ppid_of "$pid")
	assert_eq "$(comm_of "$ppid")" unikd-monitor "parent of $vm's tender"
	assert_eq "$ppid" "$mpid" "$vm: monitor_pid vs the tender's parent"
	assert_eq "$(uid_of "$pid")" "$nobody_uid" "$vm: tender uid"
	assert_eq "$(vm_field "$vm" tender)" solo5-spt "$vm: tender"
	assert_eq "$(vm_field "$vm" image)" "$IMG" "$vm: image"
	assert_eq "$(vm_field "$vm" memory)" 64 "$vm: default memory"
done
json_pids=$(uk --json ps | jlines 'e["name"] + " " + str(e["pid"])' | sort)
assert_eq "$(echo "$json_pids" | wc -l)" 3 "ps --json: number of VMs"

info "logs"
has_ready() { uk logs vm1 | grep -q 'testguest: ready'; }
wait_for 5 "'testguest: ready' in the console of vm1" has_ready
logs=$(uk logs vm1)
assert_contains "$logs" "testguest: booting image /dev/fd/97 (file $IMG)" "logs vm1"
assert_contains "$logs" "testguest: arg[0]=--print-every=100" "logs vm1"
has_ticks() { uk logs vm1 | grep -q 'testguest: tick 3'; }
wait_for 5 "ticks in the console of vm1" has_ticks
assert_eq "$(uk logs -n 1 vm1 | wc -l)" 1 "lines of logs -n 1"
assert_contains "$(uk logs -n 1 vm1)" "testguest: tick" "logs -n 1"
uk logs vm1 | ticks | assert_consecutive "ticks of vm1"

info "graceful stop"
vm1_pid=$(vm_field vm1 pid)
uk stop vm1 || fail "stop vm1"
wait_state vm1 exited 10
assert_eq "$(vm_field vm1 exit_status)" 0 "vm1 exit_status"
assert_eq "$(vm_field vm1 exit_reason)" stopped "vm1 exit_reason"
assert_eq "$(vm_field vm1 tender_status)" 0 "vm1 tender_status"
assert_eq "$(vm_field vm1 pid)" null "vm1 pid after exit"
alive "$vm1_pid" && fail "vm1's tender $vm1_pid still alive"
[ "$(vm_field vm1 finished_at)" != null ] || fail "vm1 has no finished_at"
assert_contains "$(uk logs vm1)" "testguest: SIGTERM, halting" "logs of stopped vm1"
assert_contains "$(uk logs -n 1 vm1)" "SIGTERM, halting" "logs -n 1 of stopped vm1"

info "stop falls back to SIGKILL"
run_vm vm4 -- --ignore-term --print-every=100
wait_state vm4 running
t0=$(date +%s%N)
uk stop -t 1 vm4 || fail "stop -t 1 vm4"
wait_state vm4 exited 10
t1=$(date +%s%N)
assert_eq "$(vm_field vm4 exit_reason)" "stopped (SIGKILL)" "vm4 exit_reason"
assert_eq "$(vm_field vm4 exit_status)" 137 "vm4 exit_status"
(((t1 - t0) / 1000000 >= 900)) || fail "vm4 was killed before its 1s timeout"

info "rm"
err=$(uk rm vm2 2>&1 >/dev/null)
assert_eq "$?" 1 "exit code of rm of a running VM"
assert_contains "$err" running "rm of a running VM: message"
assert_eq "$(vm_field vm2 state)" running "vm2 after a refused rm"
vm2_pid=$(vm_field vm2 pid)
uk rm -f vm2 >/dev/null || fail "rm -f vm2"
uk inspect vm2 >/dev/null 2>&1
assert_eq "$?" 1 "exit code of inspect of a removed VM"
uk ps -a | grep -qw vm2 && fail "ps -a still lists vm2"
wait_for 5 "vm2's tender to die" eval "! alive $vm2_pid"
uk rm vm1 >/dev/null || fail "rm of stopped vm1"
uk ps -a | grep -qw vm1 && fail "ps -a still lists vm1"
[ -e "$T/state/vms/vm1" ] && fail "vm1's state directory is left behind"

info "run --attach"
out=$(timeout 20 "$top_builddir/unikctl" -s "$SOCK" run --name att \
    --tender solo5-spt --image "$IMG" --attach -- \
    --exit-after=0.3 --exit-code=7 --print-every=100)
rc=$?
assert_eq "$rc" 7 "exit code of run --attach"
assert_contains "$out" "testguest: ready" "run --attach output"
assert_contains "$out" "testguest: tick 1" "run --attach output"
assert_contains "$out" "testguest: exiting with code 7" "run --attach output"
assert_eq "$(vm_field att state)" exited "att state"
assert_eq "$(vm_field att exit_reason)" "failed 7" "att exit_reason"
timeout 10 "$top_builddir/unikctl" -s "$SOCK" wait att
assert_eq "$?" 7 "exit code of wait on an exited VM"

info "run --attach --rm"
out=$(timeout 20 "$top_builddir/unikctl" -s "$SOCK" run --name tmp1 \
    --tender solo5-spt --image "$IMG" --attach --rm -- --exit-after=0.2)
assert_eq "$?" 0 "exit code of run --attach --rm"
assert_contains "$out" "testguest: exiting with code 0" "run --rm output"
gone() { ! uk inspect tmp1 >/dev/null 2>&1; }
wait_for 5 "tmp1 to be removed" gone

info "wait"
run_vm w1 -- --exit-after=1 --exit-code=4
t0=$(date +%s%N)
timeout 15 "$top_builddir/unikctl" -s "$SOCK" wait w1
rc=$?
t1=$(date +%s%N)
assert_eq "$rc" 4 "exit code of wait"
(((t1 - t0) / 1000000 >= 500)) || fail "wait returned before w1 exited"
assert_eq "$(vm_field w1 state)" exited "w1 state after wait"
run_vm w2 -- --print-every=100
wait_state w2 running
timeout 15 "$top_builddir/unikctl" -s "$SOCK" wait w2 &
waiter=$!
sleep 0.5
alive "$waiter" || fail "wait on a running VM returned at once"
uk stop w2 || fail "stop w2"
wait "$waiter"
assert_eq "$?" 0 "exit code of wait on a VM stopped meanwhile"

info "create and start"
uk create --name c1 --tender solo5-spt --image "$IMG" --mem 32M -- \
    --print-every=100 >/dev/null || fail "create c1"
assert_eq "$(vm_field c1 state)" created "c1 state after create"
assert_eq "$(vm_field c1 memory)" 32 "c1 memory"
uk start c1 >/dev/null || fail "start c1"
wait_state c1 running
has_mem() { uk logs c1 | grep -q 'Memory map: 32 MB'; }
wait_for 5 "c1 to boot with 32 MB" has_mem
uk start c1 >/dev/null 2>&1
assert_eq "$?" 1 "exit code of start of a running VM"
uk kill c1 >/dev/null || fail "kill c1"
wait_state c1 exited
assert_eq "$(vm_field c1 exit_reason)" "stopped (SIGKILL)" "c1 exit_reason"

info "events"
ev=$(curl -sS --max-time 10 --unix-socket "$SOCK" \
    "http://localhost/v1/events?vm=att") || fail "GET /v1/events"
types=$(echo "$ev" | jlines 'e["type"]' | tr '\n' ' ')
assert_eq "$types" "vm.created vm.starting vm.running vm.exited " \
    "event types of att"
echo "$ev" | jlines 'str(e["seq"])' | awk '
	NR > 1 && $1 <= prev { exit 1 } { prev = $1 }' ||
    fail "event seqs of att do not increase"
assert_eq "$(echo "$ev" | jlines 'e["vm"]' | sort -u)" att "vm of att's events"
assert_eq "$(echo "$ev" | jlines 'str(e.get("exit_status"))' | tail -n 1)" 7 \
    "exit_status in vm.exited"
ev_cli=$(uk events --vm att) || fail "unikctl events --vm att"
for t in vm.created vm.starting vm.running vm.exited; do
	assert_contains "$ev_cli" "$t" "unikctl events --vm att"
done
order=$(echo "$ev_cli" | grep -o 'vm\.[a-z]*' | tr '\n' ' ')
assert_eq "$order" "vm.created vm.starting vm.running vm.exited " \
    "order of unikctl events --vm att"

all=$(uk --json events) || fail "unikctl --json events"
seqs=$(echo "$all" | jlines 'str(e["seq"])')
n=$(echo "$seqs" | wc -l)
[ "$n" -ge 10 ] || fail "only $n events in all"
mid=$(echo "$seqs" | sed -n "$((n / 2))p")
later=$(uk --json events --since "$mid" | jlines 'str(e["seq"])')
assert_eq "$later" "$(echo "$seqs" | awk -v m="$mid" '$1 > m')" \
    "events --since $mid"
last=$(echo "$seqs" | tail -n 1)
assert_eq "$(uk --json events --since "$last" | jlines 'str(e["seq"])')" "" \
    "events --since the last seq"

info "events -f and logs -f end or follow as they should"
"$top_builddir/unikctl" -s "$SOCK" --json events -f --since "$last" \
    >"$T/follow" 2>&1 &
follower=$!
run_vm f1 -- --exit-after=1 --print-every=100
out=$(timeout 10 "$top_builddir/unikctl" -s "$SOCK" logs -f f1)
assert_eq "$?" 0 "exit code of logs -f on a VM that exits"
assert_contains "$out" "testguest: exiting with code 0" "logs -f f1"
echo "$out" | ticks | assert_consecutive "ticks of f1 in logs -f"
followed() { grep -q '"vm.exited"' "$T/follow"; }
wait_for 5 "events -f to show f1's exit" followed
alive "$follower" || fail "events -f ended by itself"
kill "$follower"
wait "$follower" 2>/dev/null
types=$(jlines 'e["type"] if e.get("vm") == "f1" else None' <"$T/follow" |
    tr '\n' ' ')
assert_eq "$types" "vm.created vm.starting vm.running vm.exited " \
    "events -f of f1"

info "a guest that crashes"
run_vm crash1 -- --crash
wait_state crash1 exited
assert_eq "$(vm_field crash1 exit_reason)" "killed by SIGSEGV" \
    "crash1 exit_reason"
assert_eq "$(vm_field crash1 exit_status)" 139 "crash1 exit_status"

info "removing everything"
for vm in vm3 vm4 att w1 w2 c1 f1 crash1; do
	uk rm -f "$vm" >/dev/null || fail "rm -f $vm"
done
assert_eq "$(uk --json ps -a | jlines 'e["name"]')" "" "ps -a after rm"
vm_procs() {
	local p
	for p in $(procs_under_t); do
		alive "$p" || continue
		case $(comm_of "$p") in
		unikd-monitor | unik-testguest) echo "$p $(tr '\0' ' ' <"/proc/$p/cmdline")" ;;
		esac
	done
}
for _ in $(seq 50); do
	[ -z "$(vm_procs)" ] && break
	sleep 0.1
done
left=$(vm_procs)
[ -z "$left" ] || fail "monitors or tenders left 5s after rm: $left"
echo "PASS"
