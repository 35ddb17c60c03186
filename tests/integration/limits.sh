#!/bin/bash
# Host limits are refused cleanly, before anything is made. Open files:
# unikd started under `prlimit --nofile=100:128` raises its soft limit to
# the hard one, sizes the default max_vms from it, and, with max_vms set
# higher, refuses the start that would not fit with 503 "host limit: open
# files" while every VM it started keeps running. Bridge ports: a bridge
# filled to the kernel's 1023 ports (veth links, in the test's own
# namespace) gets 409 "network lan is full (1023 ports)" and no TAP; with
# one port freed, the same VM starts.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_cmd prlimit util-linux
need_cmd curl curl
unikd_netns uk-limits-$$
tun_open_to_tender

# post PATH BODY: the HTTP status; the reply in $T/reply.
post() {
	curl -s -o "$T/reply" -w '%{http_code}' --unix-socket "$SOCK" \
	    -X POST -H 'Content-Type: application/json' -d "$2" \
	    "http://unikd$1"
}
vm_body() {	# NAME [NICS-JSON]
	printf '{"name":"%s","tender":"solo5-spt","image":"%s"%s}' \
	    "$1" "$IMG" "${2:+,\"nics\":$2}"
}

info "open files: the soft limit is raised, max_vms sized from it"
UNIKD_WRAP="prlimit --nofile=100:128 --"
start_unikd
UNIKD_WRAP=
soft=$(awk '/^Max open files/ { print $4 }' "/proc/$UNIKD_PID/limits")
assert_eq "$soft" 128 "unikd's soft RLIMIT_NOFILE"
max=$(uk --json info | jget 'd["limits"]["max_vms"]')
[ "$max" -ge 1 ] && [ "$max" -lt 128 ] ||
    fail "default max_vms $max is not sized from 128 open files"

info "open files: max_vms 1000, starts until the budget is spent"
printf '[limits]\nmax_vms = 1000\n' >>"$CONF"
kill -HUP "$UNIKD_PID"
max_vms_is() {
	[ "$(uk --json info | jget 'd["limits"]["max_vms"]')" = "$1" ]
}
wait_for 10 "max_vms 1000 after reload" max_vms_is 1000
n=0 code=201
while [ "$code" = 201 ] && [ "$n" -lt 200 ]; do
	n=$((n + 1))
	code=$(post "/v1/vms?start=true" "$(vm_body "f$n")")
done
assert_eq "$code" 503 "status of the start of f$n"
assert_contains "$(cat "$T/reply")" "host limit: open files" "reply to f$n"
info "f$n refused after $((n - 1)) VMs"
[ "$n" -gt 5 ] || fail "only $((n - 1)) VMs fit in 128 open files"
uk inspect "f$n" >/dev/null 2>&1 && fail "the refused f$n was created"
# None of the started ones is lost; the same refusal again changes nothing.
for ((i = 1; i < n; i++)); do
	wait_state "f$i" running 20
done
code=$(post "/v1/vms?start=true" "$(vm_body "f$n")")
assert_eq "$code" 503 "status of a second try of f$n"
sleep 1
for ((i = 1; i < n; i++)); do
	st=$(vm_field "f$i" state)
	assert_eq "$st" running "state of f$i after the refusals"
done
grep -q "Too many open files\|monitor lost" "$T/unikd.log" &&
    fail "unikd ran out of fds: $(grep -m1 "Too many open files\|monitor lost" "$T/unikd.log")"
# Stats keep no tender's stat file open when the budget has no room
# for it: the fds unikd holds do not change, and the start still fails
# the same way.
nfds() { ls "/proc/$UNIKD_PID/fd" | wc -l; }
before=$(nfds)
uk --json stats >/dev/null || fail "stats of every VM"
assert_eq "$(nfds)" "$before" "unikd's fds after stats with no room"
code=$(post "/v1/vms?start=true" "$(vm_body "f$n")")
assert_eq "$code" 503 "status of f$n after the stats"
for ((i = 1; i < n; i++)); do
	uk rm -f "f$i" >/dev/null || fail "rm -f f$i"
done

info "bridge ports: fill uk-lan to 1023 ports with veth links"
uk net create lan >/dev/null || fail "net create lan"
{
	for ((i = 1; i <= 1023; i++)); do
		echo "link add ukd$i type veth peer name ukp$i"
		echo "link set ukd$i master uk-lan"
	done
} >"$T/fill"
nsip -batch "$T/fill" || fail "cannot put 1023 veths on uk-lan"
assert_eq "$(nsip -o link show master uk-lan | wc -l)" 1023 "ports on uk-lan"
# unikd counts them from link notifications: wait until it has read them.
full() {
	code=$(post "/v1/vms?start=true" "$(vm_body b1 \
	    '[{"name":"eth0","network":"lan"}]')")
	[ "$code" = 409 ]
}
wait_for 20 "409 for a VM on the full bridge" full
assert_contains "$(cat "$T/reply")" "network lan is full (1023 ports)" \
    "reply to b1"
assert_eq "$(nsip -o link show type tun | wc -l)" 0 "TAPs after the 409"
uk inspect b1 >/dev/null 2>&1 && fail "the refused b1 was created"

info "bridge ports: one freed, the VM starts"
nsip link del ukd1023 || fail "cannot delete ukd1023"
code=
for ((i = 0; i < 100; i++)); do
	code=$(post "/v1/vms?start=true" "$(vm_body b1 \
	    '[{"name":"eth0","network":"lan"}]')")
	[ "$code" = 409 ] || break
	sleep 0.1
done
assert_eq "$code" 201 "status of b1 once a port is free: $(cat "$T/reply")"
wait_state b1 running 20
assert_eq "$(nsip -o link show type tun master uk-lan | wc -l)" 1 \
    "TAPs on uk-lan"
uk rm -f b1 >/dev/null || fail "rm -f b1"
echo "PASS: limits"
