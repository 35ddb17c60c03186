#!/bin/bash
# Once its tender runs, unikd-monitor keeps nothing of root but CAP_KILL
# (the tender is another uid), with no_new_privs, read from
# /proc/PID/status. It still does its whole job: rotates the console
# log, signals the tender on stop and kill, and writes the exit record of
# a tender that ends while unikd is down.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

cat >>"$CONF" <<EOF2

[console]
max_size = 4K
files = 2
EOF2
status_field() {	# PID FIELD
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"
}
CAP_KILL_MASK=0000000000000020

start_unikd
run_vm m1 -- --print-every=10
run_vm m2 -- --print-every=100 --exit-after=4 --exit-code=7
wait_state m1 running
wait_state m2 running
for vm in m1 m2; do
	mpid=$(vm_field $vm monitor_pid)
	assert_eq "$(uid_of "$mpid")" 0 "$vm monitor's uid"
	assert_eq "$(status_field "$mpid" CapEff)" $CAP_KILL_MASK "$vm monitor CapEff"
	assert_eq "$(status_field "$mpid" CapPrm)" $CAP_KILL_MASK "$vm monitor CapPrm"
	assert_eq "$(status_field "$mpid" CapInh)" 0000000000000000 "$vm monitor CapInh"
	assert_eq "$(status_field "$mpid" CapAmb)" 0000000000000000 "$vm monitor CapAmb"
	assert_eq "$(status_field "$mpid" NoNewPrivs)" 1 "$vm monitor NoNewPrivs"
	# The bounding set goes too where the monitor could drop it.
	if (( 0x$(status_field $$ CapBnd) & (1 << 8) )); then
		assert_eq "$(status_field "$mpid" CapBnd)" $CAP_KILL_MASK \
		    "$vm monitor CapBnd"
	fi
	assert_eq "$(status_field "$(vm_field $vm pid)" CapEff)" \
	    0000000000000000 "$vm tender CapEff"
done

info "the console log is rotated"
rotated() { [ -s "$T/state/vms/m1/console.log.1" ]; }
wait_for 20 "console.log.1 of m1" rotated

info "m2 exits while unikd is down: the exit record is written"
kill9_unikd
sleep 5
start_unikd
assert_eq "$(vm_field m2 state)" exited "m2 state"
assert_eq "$(vm_field m2 exit_status)" 7 "m2 exit_status"

info "stop and kill signal the tender"
pid1=$(vm_field m1 pid)
uk stop -t 5 m1 >/dev/null || fail "stop m1"
wait_state m1 exited
alive "$pid1" && fail "m1's tender outlived stop"
uk start m1 >/dev/null || fail "start m1"
wait_state m1 running
pid1=$(vm_field m1 pid)
uk kill m1 >/dev/null || fail "kill m1"
wait_state m1 exited
alive "$pid1" && fail "m1's tender outlived kill"
info "ok"
