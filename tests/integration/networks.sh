#!/bin/bash
# Networks: unikd runs in a network namespace of its own (UNIKD_NETNS),
# so every bridge and NAT rule it makes stays there. Creates a network and
# finds its bridge with the gateway address and MTU; refuses bad input
# (overlapping subnets, a gateway outside, an MTU out of range, NAT
# without a subnet, a non-bridge link of the name) with nothing made;
# adopts a bridge made by hand and leaves it on rm; deletes its own
# bridge on rm; puts back a bridge deleted while unikd was down, and one
# deleted while it runs (link notifications); masquerades a NAT subnet in
# table inet unikd and removes the rule with the network.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_cmd nft nftables
# its VM with a NIC is refused unless the tender user may open /dev/net/tun
tun_open_to_tender
unikd_netns uk-networks-$$
has_addr() {	# LINK ADDR/PREFIX
	nsip -br addr show dev "$1" 2>/dev/null | grep -qw "$2"
}
# post BODY: the HTTP status of POST /v1/networks; the reply in $T/reply.
post() {
	curl -s -o "$T/reply" -w '%{http_code}' --unix-socket "$SOCK" \
	    -X POST -H 'Content-Type: application/json' -d "$1" \
	    http://unikd/v1/networks
}
# refused BODY STATUS MESSAGE-PART: the request fails as said.
refused() {
	local code
	code=$(post "$1")
	assert_eq "$code" "$2" "status of POST $1"
	assert_contains "$(cat "$T/reply")" "$3" "reply to POST $1"
}

start_unikd

info "create a network with a subnet"
uk net create lan --subnet 10.77.0.0/24 --mtu 1400 >/dev/null ||
    fail "net create lan"
has_link uk-lan || fail "no bridge uk-lan in the namespace"
assert_eq "$(link_field uk-lan 'd["linkinfo"]["info_kind"]')" bridge \
    "kind of uk-lan"
assert_eq "$(link_field uk-lan 'd["mtu"]')" 1400 "MTU of uk-lan"
# snooping off: joins and leaves do not grow with the bridge's ports
assert_eq "$(link_field uk-lan 'd["linkinfo"]["info_data"]["mcast_snooping"]')" \
    0 "multicast snooping of uk-lan"
has_addr uk-lan 10.77.0.1/24 || fail "uk-lan has no 10.77.0.1/24: \
$(nsip -br addr show dev uk-lan)"
has_link uk-lan && ! ip link show dev uk-lan >/dev/null 2>&1 ||
    fail "uk-lan was made outside the namespace"
line=$(uk net ls | grep -w '^lan') || fail "net ls does not list lan"
for word in uk-lan 10.77.0.0/24 10.77.0.1 1400; do
	assert_contains "$line" "$word" "net ls line of lan"
done
out=$(uk --json net inspect lan) || fail "net inspect lan"
assert_eq "$(echo "$out" | jget 'd["subnet"]')" 10.77.0.0/24 "subnet"
assert_eq "$(echo "$out" | jget 'd["gateway"]')" 10.77.0.1 "gateway"
assert_eq "$(echo "$out" | jget 'd["adopted"]')" false "adopted"
assert_eq "$(echo "$out" | jget 'd["vms"]')" "[]" "vms"

info "bad input: refused, nothing made"
refused '{"name":"lan2","subnet":"10.77.0.128/25"}' 409 \
    "overlaps 10.77.0.0/24 of network 'lan'"
refused '{"name":"lan2","subnet":"10.78.0.0/24","gateway":"10.79.0.1"}' 422 \
    "outside the subnet"
refused '{"name":"lan2","mtu":50}' 422 "outside 68..65535"
refused '{"name":"lan2","nat":true}' 422 "NAT needs a subnet"
refused '{"name":"lan2","subnet":"10.78.0.1/24"}' 422 "host bits"
refused '{"name":"lan2","colour":"red"}' 400 "unknown field 'colour'"
refused '{"name":"Lan2"}' 400 "not a valid name"
refused '{"name":"lan"}' 409 "exists already"
# The kernel would expand '%d' into a free name (x0, x1...): nothing
# but [A-Za-z0-9_.-] reaches it.
for br in 'x%d' 'br%' 'br@0' 'br+x' 'br 0' 'abcdefghijklmnop' '.'; do
	refused '{"name":"lan2","bridge":"'"$br"'"}' 400 \
	    "is not a valid interface name"
done
has_link x0 && fail "a refused bridge name 'x%d' left link x0"
# Subnets that are not a bridge's to use: 422, whatever else is asked.
refused '{"name":"lan2","subnet":"127.0.0.0/16","nat":true}' 422 \
    "loopback range 127.0.0.0/8"
refused '{"name":"lan2","subnet":"224.0.0.0/16"}' 422 "multicast range"
refused '{"name":"lan2","subnet":"0.0.0.0/16"}' 422 "reserved range 0.0.0.0/8"
refused '{"name":"lan2","subnet":"240.1.0.0/16"}' 422 \
    "reserved range 240.0.0.0/4"
refused '{"name":"lan2","subnet":"169.254.0.0/24"}' 422 "link-local range"
# A subnet some interface of the namespace has an address or a connected
# route in: 409 naming it (the host would lose those hosts).
nsip link add hostif type veth peer name hostif1 ||
    fail "ip link add hostif"
nsip addr add 10.90.0.5/24 dev hostif || fail "ip addr add on hostif"
nsip link set hostif up || fail "ip link set hostif up"
nsip route add 10.91.4.0/22 dev hostif || fail "ip route add on hostif"
refused '{"name":"lan2","subnet":"10.90.0.0/24"}' 409 \
    "overlaps address 10.90.0.5/24 of interface 'hostif'"
refused '{"name":"lan2","subnet":"10.90.0.128/25"}' 409 "interface 'hostif'"
refused '{"name":"lan2","subnet":"10.91.5.0/24"}' 409 \
    "overlaps route 10.91.4.0/22 of interface 'hostif'"
has_link uk-lan2 && fail "a refused subnet left bridge uk-lan2"
nsip link add dum0 type veth peer name dum1 || fail "ip link add dum0"
refused '{"name":"lan2","bridge":"dum0"}' 409 "is not a bridge"
has_link uk-lan2 && fail "a refused network left bridge uk-lan2"
uk net create lan2 --mtu 50 >/dev/null 2>&1
assert_eq "$?" 1 "exit code of net create with a bad MTU"
uk net create >/dev/null 2>&1
assert_eq "$?" 2 "exit code of net create without a name"
uk net create lan2 --mtu big >/dev/null 2>&1
assert_eq "$?" 2 "exit code of net create --mtu big"
assert_eq "$(uk --json net ls | jget 'len(d)')" 1 "networks after bad input"

info "adopt a bridge made by hand; rm leaves it"
nsip link add br-hand type bridge || fail "ip link add br-hand"
uk net create hand --bridge br-hand >/dev/null || fail "net create hand"
assert_eq "$(uk --json net inspect hand | jget 'd["adopted"]')" true \
    "adopted of hand"
uk net rm hand >/dev/null || fail "net rm hand"
has_link br-hand || fail "net rm hand deleted the adopted bridge br-hand"

info "rm of an unused network deletes its bridge"
uk net create tmp --subnet 10.80.0.0/24 >/dev/null || fail "net create tmp"
has_link uk-tmp || fail "no bridge uk-tmp"
uk net rm tmp >/dev/null || fail "net rm tmp"
has_link uk-tmp && fail "uk-tmp is still there after net rm"
uk net inspect tmp >/dev/null 2>&1 && fail "tmp still exists after rm"

info "a bridge deleted while unikd is down is back at start"
kill9_unikd
nsip link del uk-lan || fail "ip link del uk-lan"
start_unikd
has_link uk-lan || fail "uk-lan was not re-made at start"
has_addr uk-lan 10.77.0.1/24 || fail "re-made uk-lan has no 10.77.0.1/24"
assert_eq "$(link_field uk-lan 'd["mtu"]')" 1400 "MTU of re-made uk-lan"

info "a bridge deleted while unikd runs is back within 2 s"
nsip link del uk-lan || fail "ip link del uk-lan"
lan_back() {
	has_link uk-lan && has_addr uk-lan 10.77.0.1/24
}
wait_for 2 "uk-lan to be re-made" lan_back
grep -q 'network=lan bridge=uk-lan action=deleted-behind-unikd' \
    "$T/unikd.log" || fail "unikd did not log the deletion of uk-lan"

info "NAT: a masquerade rule in table inet unikd, gone with the network"
uk net create out --subnet 10.81.0.0/24 --nat >/dev/null ||
    fail "net create out --nat"
rules=$(ip netns exec "$NS" nft list table inet unikd) ||
    fail "no nft table inet unikd"
assert_contains "$rules" "10.81.0.0/24" "table inet unikd"
assert_contains "$rules" masquerade "table inet unikd"
assert_eq "$(uk --json net inspect out | jget 'd["nat"]')" true "nat of out"
uk net rm out >/dev/null || fail "net rm out"
rules=$(ip netns exec "$NS" nft list table inet unikd 2>/dev/null)
assert_not_contains "$rules" "10.81.0.0/24" "table inet unikd after rm"
has_link uk-out && fail "uk-out is still there after net rm"

info "networks persist across a restart of unikd"
stop_unikd
start_unikd
assert_eq "$(uk --json net ls | jget '[n["name"] for n in d]')" '["lan"]' \
    "networks after a restart"

info "a network in use cannot be removed"
code=$(curl -s -o "$T/reply" -w '%{http_code}' --unix-socket "$SOCK" \
    -X POST -d '{"name":"web","tender":"solo5-spt","image":"'"$IMG"'",
    "nics":[{"name":"service","network":"lan"}]}' http://unikd/v1/vms)
assert_eq "$code" 201 "status of creating vm web on lan"
out=$(uk net rm lan 2>&1)
assert_eq "$?" 1 "exit code of net rm of a network in use"
assert_contains "$out" "network 'lan' is in use by vm 'web'" "net rm lan"
has_link uk-lan || fail "a refused net rm deleted uk-lan"
out=$(uk --json net inspect lan)
assert_eq "$(echo "$out" | jget 'd["vms"]')" '["web"]' "vms of lan"
assert_eq "$(echo "$out" | jget '[l["ip"] for l in d["leases"]]')" \
    '["10.77.0.2"]' "leases of lan"
uk rm web >/dev/null || fail "rm web"
assert_eq "$(uk --json net inspect lan | jget 'd["leases"]')" "[]" \
    "leases of lan once web is removed"
uk net rm lan >/dev/null || fail "net rm lan"
has_link uk-lan && fail "uk-lan is still there after net rm"
exit 0
