#!/bin/bash
# unikd forks each VM's monitor from one `unikd-monitor --zygote` it
# keeps, instead of exec'ing the monitor per start. Seen from outside:
# the monitor is still "unikd-monitor NAME" in ps and not unikd's child;
# a killed zygote or a replaced monitor binary is noticed at the next
# start, which still works (a new zygote runs the new binary); the zygote
# goes away with unikd, on SIGTERM and on kill -9.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

# a copy of the monitor that the test can replace
cp "$top_builddir/unikd-monitor" "$T/unikd-monitor"
sed -i "s|^monitor = .*|monitor = $T/unikd-monitor|" "$CONF"

# The zygotes whose parent is unikd (its children with --zygote).
zygotes() {
	local p
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$(ppid_of "$p" 2>/dev/null)" = "$1" ] || continue
		alive "$p" || continue
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null |
		    grep -q -- '^unikd-monitor --zygote' && echo "$p"
	done
}
# Any zygote of this test's monitor binary (by its executable).
zygotes_of_test() {
	local p
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		alive "$p" || continue
		[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$T/unikd-monitor" ] ||
		    [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$T/unikd-monitor (deleted)" ] ||
		    continue
		tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- '--zygote' && echo "$p"
	done
}

start_unikd
run_vm z1 -- --print-every=100
wait_state z1 running
z=$(zygotes "$UNIKD_PID")
[ -n "$z" ] || fail "no zygote under unikd after a start"
assert_eq "$(echo "$z" | wc -w)" 1 "zygotes under unikd"
mpid=$(vm_field z1 monitor_pid)
assert_eq "$(tr '\0' ' ' <"/proc/$mpid/cmdline" | sed 's/ *$//')" \
    "unikd-monitor z1" "z1's monitor in ps"
[ "$(ppid_of "$mpid")" != "$UNIKD_PID" ] || fail "z1's monitor is unikd's child"
[ "$(ppid_of "$mpid")" != "$z" ] || fail "z1's monitor is the zygote's child"

info "a killed zygote: the next start makes a new one"
kill -9 "$z"
run_vm z2 -- --print-every=100
wait_state z2 running
z2=$(zygotes "$UNIKD_PID")
[ -n "$z2" ] && [ "$z2" != "$z" ] || fail "no new zygote after kill (had $z, now '$z2')"
alive "$z" && fail "the killed zygote $z still runs"

info "a replaced monitor binary: the next start runs the new one"
cp "$top_builddir/unikd-monitor" "$T/unikd-monitor.new"
mv "$T/unikd-monitor.new" "$T/unikd-monitor"
run_vm z3 -- --print-every=100
wait_state z3 running
z3=$(zygotes "$UNIKD_PID")
[ -n "$z3" ] && [ "$z3" != "$z2" ] || fail "zygote not replaced (had $z2, now '$z3')"
assert_eq "$(readlink "/proc/$(vm_field z3 monitor_pid)/exe")" \
    "$T/unikd-monitor" "z3's monitor binary"
gone() { ! alive "$z2"; }
wait_for 5 "the old zygote to exit" gone

info "the zygote goes with unikd (SIGTERM, then kill -9); the VMs stay"
stop_unikd
nozyg() { [ -z "$(zygotes_of_test)" ]; }
wait_for 5 "no zygote after SIGTERM" nozyg
start_unikd
run_vm z4 -- --print-every=100
wait_state z4 running
[ -n "$(zygotes_of_test)" ] || fail "no zygote after restart"
kill9_unikd
wait_for 5 "no zygote after kill -9" nozyg
start_unikd
for vm in z1 z2 z3 z4; do
	assert_eq "$(vm_field $vm state)" running "$vm after the restarts"
done
echo "PASS"
