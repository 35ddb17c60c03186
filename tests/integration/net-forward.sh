#!/bin/bash
# IPv4 forwarding is a switch of the whole host (here: of unikd's network
# namespace). The first NAT network turns it on after recording what it
# was, across restarts of unikd; it stays on while any NAT network is
# left and is put back as it was when the last one goes. unikctl info and
# GET /v1/info say which. A host that forwarded already keeps forwarding.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

unikd_netns uk-forward-$$
fwd() {
	ip netns exec "$NS" cat /proc/sys/net/ipv4/ip_forward
}
set_fwd() {
	ip netns exec "$NS" sh -c "echo $1 >/proc/sys/net/ipv4/ip_forward" ||
	    fail "cannot set ip_forward in $NS"
}
info_fwd() {	# the "before_unikd" of GET /v1/info's ip_forward
	uk --json info | jget 'd["ip_forward"]["before_unikd"]'
}

set_fwd 0
start_unikd
assert_contains "$(uk info)" "IP forward: 0 (not changed by unikd)" "unikctl info"
assert_eq "$(uk --json info | jget 'd["ip_forward"]["value"]')" 0 "ip_forward value"

info "the first NAT network turns forwarding on and records it was off"
uk net create n1 --subnet 10.71.0.0/24 >/dev/null || fail "net create n1"
assert_eq "$(fwd)" 0 "ip_forward after a network without NAT"
uk net create n2 --subnet 10.72.0.0/24 --nat >/dev/null || fail "net create n2"
assert_eq "$(fwd)" 1 "ip_forward after the first NAT network"
assert_eq "$(info_fwd)" 0 "before_unikd"
assert_contains "$(uk info)" \
    "IP forward: 1 (set by unikd for its NAT networks; back to 0 when the last goes)" \
    "unikctl info"
uk net create n3 --subnet 10.73.0.0/24 --nat >/dev/null || fail "net create n3"

info "it stays on while a NAT network is left, across a kill -9"
uk net rm n2 >/dev/null || fail "net rm n2"
assert_eq "$(fwd)" 1 "ip_forward while n3 is left"
kill9_unikd
start_unikd
assert_eq "$(fwd)" 1 "ip_forward after a restart"
assert_eq "$(info_fwd)" 0 "before_unikd after a restart"

info "the last NAT network puts it back as it was"
uk net rm n3 >/dev/null || fail "net rm n3"
assert_eq "$(fwd)" 0 "ip_forward once no NAT network is left"
assert_eq "$(info_fwd)" null "before_unikd once given back"
uk net rm n1 >/dev/null || fail "net rm n1"

info "a host that forwarded already keeps forwarding"
set_fwd 1
uk net create n4 --subnet 10.74.0.0/24 --nat >/dev/null || fail "net create n4"
assert_eq "$(info_fwd)" 1 "before_unikd of a forwarding host"
uk net rm n4 >/dev/null || fail "net rm n4"
assert_eq "$(fwd)" 1 "ip_forward of a host that forwarded before"
exit 0
