#!/bin/bash
# Networks touch only what unikd made. While unikd is down, the bridge of
# one network is replaced by someone else's bridge (other MTU, other
# address, down) and another's by a TAP: at start both are left exactly
# as they are and their networks are "degraded" with the reason (net ls,
# inspect, the log, an event); net rm then deletes neither. A degraded
# network comes back once the foreign link goes, an adopted one once its
# bridge is back. A bridge that was adopted is given back as it was found:
# MTU, down, its own addresses, without unikd's gateway.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

unikd_netns uk-owner-$$
addrs() {	# LINK: its IPv4 addresses, sorted, on one line
	nsip -j addr show dev "$1" |
	    jget '" ".join(sorted(a["local"] + "/" + str(a["prefixlen"])
	        for a in d[0]["addr_info"] if a["family"] == "inet"))'
}
is_up() {	# LINK
	[ "$(link_field "$1" '"UP" in d["flags"]')" = true ]
}

start_unikd

info "a bridge unikd makes carries its mark"
uk net create a --subnet 10.60.0.0/24 >/dev/null || fail "net create a"
uk net create b --subnet 10.61.0.0/24 >/dev/null || fail "net create b"
uk net create c --subnet 10.62.0.0/24 >/dev/null || fail "net create c"
assert_eq "$(link_field uk-a 'd.get("ifalias")')" "unikd:net:a" "ifalias of uk-a"
assert_eq "$(uk --json net inspect a | jget 'd["state"]')" ready "state of a"

info "while unikd is down, others take the bridges' names"
kill9_unikd
nsip link del uk-a || fail "ip link del uk-a"
nsip link add uk-a mtu 1400 type bridge || fail "ip link add uk-a"
nsip addr add 10.99.0.1/24 dev uk-a || fail "ip addr add on uk-a"
nsip link del uk-b || fail "ip link del uk-b"
nsip tuntap add dev uk-b mode tap || fail "ip tuntap add uk-b"
nsip link del uk-c || fail "ip link del uk-c"
nsip link add uk-c type veth peer name uk-c-peer || fail "ip link add uk-c"
start_unikd

info "the foreign links are left as they are"
assert_eq "$(link_field uk-a 'd["mtu"]')" 1400 "MTU of the foreign uk-a"
assert_eq "$(addrs uk-a)" "10.99.0.1/24" "addresses of the foreign uk-a"
is_up uk-a && fail "unikd brought the foreign uk-a up"
assert_eq "$(link_field uk-a 'd.get("ifalias")')" null "ifalias of the foreign uk-a"
assert_eq "$(link_field uk-b 'd["linkinfo"]["info_kind"]')" tun "kind of uk-b"
assert_eq "$(addrs uk-b)" "" "addresses of the foreign uk-b"

info "the networks are degraded, with the reason"
out=$(uk --json net inspect a) || fail "net inspect a"
assert_eq "$(echo "$out" | jget 'd["state"]')" degraded "state of a"
assert_contains "$(echo "$out" | jget 'd["problem"]')" \
    "a bridge that unikd did not make holds the name 'uk-a'" "problem of a"
assert_contains "$(uk --json net inspect b | jget 'd["problem"]')" \
    "a tun link that unikd did not make" "problem of b"
line=$(uk net ls | grep -w '^a') || fail "net ls does not list a"
assert_contains "$line" "degraded: a bridge that unikd did not make" "net ls line of a"
assert_contains "$(uk net ls | grep -w '^b')" "degraded:" "net ls line of b"
grep -q 'network=a bridge=uk-a action=degraded' "$T/unikd.log" ||
    fail "no warning for network a in the log"
assert_contains "$(uk info)" "WARNING:    network 'a' is degraded: a bridge" \
    "unikctl info"
ev=$(uk --json events | jlines 'e.get("network") if e["type"] == "network.degraded" else None' | sort | tr '\n' ' ')
assert_eq "$ev" "a b c " "networks of the network.degraded events"

info "a degraded network comes back when the foreign link goes"
nsip link del uk-c || fail "ip link del uk-c"
c_ready() {
	[ "$(uk --json net inspect c | jget 'd["state"]')" = ready ]
}
wait_for 5 "network c to be ready again" c_ready
assert_eq "$(link_field uk-c 'd.get("ifalias")')" "unikd:net:c" "ifalias of the new uk-c"
assert_eq "$(addrs uk-c)" "10.62.0.1/24" "addresses of the new uk-c"

info "net rm deletes no link that is not unikd's"
uk net rm a b >/dev/null || fail "net rm a b"
has_link uk-a || fail "net rm a deleted the foreign bridge uk-a"
has_link uk-b || fail "net rm b deleted the foreign TAP uk-b"
assert_eq "$(addrs uk-a)" "10.99.0.1/24" "addresses of uk-a after net rm"
uk net rm c >/dev/null || fail "net rm c"
has_link uk-c && fail "net rm c left unikd's own bridge uk-c"

info "an adopted bridge is given back as it was found"
nsip link add br-found mtu 1450 type bridge || fail "ip link add br-found"
nsip addr add 10.98.0.1/24 dev br-found || fail "ip addr add on br-found"
uk net create hand --bridge br-found --subnet 10.63.0.0/24 --mtu 9000 \
    >/dev/null || fail "net create hand"
assert_eq "$(uk --json net inspect hand | jget 'd["adopted"]')" true "adopted"
assert_eq "$(link_field br-found 'd["mtu"]')" 9000 "MTU of adopted br-found"
is_up br-found || fail "the adopted br-found is not up"
assert_eq "$(addrs br-found)" "10.63.0.1/24 10.98.0.1/24" "addresses of adopted br-found"
info "... across a restart of unikd too, and after it was gone a while"
kill9_unikd
nsip link set br-found down || fail "ip link set br-found down"
nsip link set br-found name br-away || fail "ip link set br-found name"
start_unikd
assert_contains "$(uk --json net inspect hand | jget 'd["problem"]')" \
    "the adopted bridge 'br-found' is gone" "problem of hand"
nsip link set br-away name br-found || fail "ip link set br-away name"
hand_ready() {
	[ "$(uk --json net inspect hand | jget 'd["state"]')" = ready ]
}
wait_for 5 "network hand to be ready when its bridge is back" hand_ready
is_up br-found || fail "the adopted br-found was not set up again"
uk net rm hand >/dev/null || fail "net rm hand"
has_link br-found || fail "net rm deleted the adopted br-found"
assert_eq "$(link_field br-found 'd["mtu"]')" 1450 "MTU of br-found given back"
is_up br-found && fail "br-found was given back up; it was found down"
assert_eq "$(addrs br-found)" "10.98.0.1/24" "addresses of br-found given back"
exit 0
