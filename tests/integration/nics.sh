#!/bin/bash
# NICs on VMs, in a network namespace of unikd's own (UNIKD_NETNS): a VM
# with --net service=lan gets a TAP tagged unikd:VM:service on the bridge,
# with the network's MTU, owned by the tender user, a host MAC beginning
# fe, a stable locally administered guest MAC and a leased address, all
# given to the tender (--net, --net-mac, placeholders in args). A restart
# by policy keeps MAC and address; rm releases the lease; after kill -9 of
# unikd and the tenders no stale TAP is left, and a link without the tag
# survives every GC. Bad input changes nothing: no TAP, no lease. TAPs are
# deleted in batches through unikd's netdev group, and a foreign link in
# that group makes unikd delete them one by one, never the foreign link.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

tun_open_to_tender
unikd_netns uk-nics-$$
# The TAPs in the namespace, sorted, one a line.
taps() {
	nsip -j -d link show type tun 2>/dev/null |
	    jlines 'e["ifname"]' | sort
}
nic_get() {	# VM FIELD: of the VM's first NIC
	vm_get "$1" "d['nics'][0]['$2']"
}
# post BODY: the HTTP status of POST /v1/vms; the reply in $T/reply.
post() {
	curl -s -o "$T/reply" -w '%{http_code}' --unix-socket "$SOCK" \
	    -X POST -H 'Content-Type: application/json' -d "$1" \
	    http://unikd/v1/vms
}
refused() {	# STATUS MESSAGE-PART NICS-JSON [ARGS-JSON]
	local code body
	body="{\"name\": \"bad\", \"tender\": \"solo5-spt\", \"image\": \"$IMG\", \"nics\": $3, \"args\": ${4:-[]}}"
	code=$(post "$body")
	assert_eq "$code" "$1" "status of a create with nics $3"
	assert_contains "$(cat "$T/reply")" "$2" "reply to nics $3"
}

start_unikd
uk net create lan --subnet 10.78.0.0/24 --mtu 1400 >/dev/null ||
    fail "net create lan"
uk net create bare >/dev/null || fail "net create bare"

info "a VM with --net service=lan gets a TAP on the bridge"
run_vm v1 --restart on-failure --net service=lan -- \
    '--ipv4=${nic.service.cidr}' '--ipv4-gateway=${nic.service.gateway}' \
    '--mac=${nic.service.mac}'
wait_state v1 running
tap1=$(nic_get v1 tap)
mac1=$(nic_get v1 mac)
ip1=$(nic_get v1 ip)
info "v1: tap $tap1 mac $mac1 ip $ip1"
has_link "$tap1" || fail "no TAP $tap1 in the namespace"
assert_eq "$(link_field "$tap1" 'd.get("ifalias")')" "unikd:v1:service" \
    "alias of $tap1"
assert_eq "$(link_field "$tap1" 'd.get("master")')" uk-lan "master of $tap1"
assert_eq "$(link_field "$tap1" 'd["mtu"]')" 1400 "MTU of $tap1"
assert_contains "$(link_field "$tap1" 'd["flags"]')" '"UP"' "flags of $tap1"
owner=$(link_field "$tap1" 'd["linkinfo"]["info_data"]["user"]')
[ "$owner" = nobody ] || [ "$owner" = "$(id -u nobody)" ] ||
    fail "owner of $tap1: expected nobody, got '$owner'"
case "$(link_field "$tap1" 'd["address"]')" in
fe:*) ;;
*) fail "host MAC of $tap1 does not begin with fe" ;;
esac
first=$((16#${mac1%%:*}))
((first & 2)) || fail "guest MAC $mac1 is not locally administered"
((first & 1)) && fail "guest MAC $mac1 is multicast"
assert_eq "$ip1" 10.78.0.2 "first address leased from 10.78.0.0/24"
assert_eq "$(nic_get v1 cidr)" 10.78.0.2/24 "cidr of v1"
assert_eq "$(nic_get v1 gateway)" 10.78.0.1 "gateway of v1"
wait_for 5 "v1's console" sh -c "'$top_builddir/unikctl' -s '$SOCK' logs v1 | grep -q 'testguest: ready'"
log=$(uk logs v1)
assert_contains "$log" "$tap1" "v1's console (its TAP)"
assert_contains "$log" "--ipv4=10.78.0.2/24" "v1's console (args)"
assert_contains "$log" "--ipv4-gateway=10.78.0.1" "v1's console (args)"
assert_contains "$log" "--mac=$mac1" "v1's console (args)"
assert_contains "$(tr '\0' ' ' <"/proc/$(vm_field v1 pid)/cmdline")" \
    "--net:service=$tap1 --net-mac:service=$mac1 --" "v1's tender command"
assert_contains "$(uk ps | grep -w v1)" 10.78.0.2 "ps ADDRESSES of v1"

info "a restart by policy keeps MAC and address, the TAP is on the bridge"
pid1=$(vm_field v1 pid)
kill -9 "$pid1"
restarted() {
	local p
	p=$(vm_field v1 pid)
	[ "$(vm_field v1 state)" = running ] && [ "$p" != null ] &&
	    [ "$p" != "$pid1" ]
}
wait_for 10 "v1 to be restarted" restarted
tap1b=$(nic_get v1 tap)
assert_eq "$(nic_get v1 mac)" "$mac1" "v1's MAC after a restart"
assert_eq "$(nic_get v1 ip)" "$ip1" "v1's address after a restart"
assert_eq "$(link_field "$tap1b" 'd.get("master")')" uk-lan \
    "master of $tap1b after a restart"
[ "$tap1b" = "$tap1" ] || ! has_link "$tap1" ||
    fail "the old TAP $tap1 is still there after the restart"

info "bad input changes nothing"
before=$(taps)
refused 422 "10.99.0.5" '[{"name": "service", "network": "lan", "ip": "10.99.0.5"}]'
refused 422 "gateway" '[{"name": "service", "network": "lan", "ip": "10.78.0.1"}]'
refused 409 "v1" "[{\"name\": \"service\", \"network\": \"lan\", \"ip\": \"$ip1\"}]"
refused 422 "multicast" '[{"name": "service", "network": "lan", "mac": "01:00:5e:00:00:01"}]'
refused 400 "nics[0].mac" '[{"name": "service", "network": "lan", "mac": "02:00:00:00:01"}]'
refused 409 "v1" "[{\"name\": \"service\", \"network\": \"lan\", \"mac\": \"$mac1\"}]"
refused 422 "network 'nosuch' does not exist" '[{"name": "service", "network": "nosuch"}]'
refused 400 "duplicate NIC name 'service'" '[{"name": "service", "network": "lan"}, {"name": "service", "network": "bare"}]'
refused 422 "ip" '[{"name": "service", "network": "bare", "ip": "10.0.0.9"}]'
# the first NIC leases, the second fails: the first lease is given back
refused 422 "10.99.0.6" '[{"name": "a", "network": "lan"}, {"name": "b", "network": "lan", "ip": "10.99.0.6"}]'
refused 422 "nic.nosuch.ip" '[{"name": "service", "network": "lan"}]' '["${nic.nosuch.ip}"]'
refused 422 "no value" '[{"name": "service", "network": "bare"}]' '["${nic.service.ip}"]'
assert_eq "$(uk ps -a | grep -cw bad)" 0 "VMs named bad"
assert_eq "$(taps)" "$before" "TAPs after bad input"

info "rm releases the lease"
run_vm v2 --net service=lan -- --print-every=1000
wait_state v2 running
assert_eq "$(nic_get v2 ip)" 10.78.0.3 "v2's address (nothing leaked)"
tap2=$(nic_get v2 tap)
has_link "$tap2" || fail "no TAP $tap2 for v2"
uk rm -f v2 >/dev/null || fail "rm -f v2"
wait_for 5 "v2's TAP $tap2 to go" eval '! has_link "$tap2"'
run_vm v3 --net service=lan
wait_state v3 running
assert_eq "$(nic_get v3 ip)" 10.78.0.3 "v3 gets v2's released address"

info "gc lists and deletes a tagged TAP no VM runs, never an untagged one"
nsip tuntap add ukdead mode tap || fail "ip tuntap add ukdead"
nsip tuntap add ukghost mode tap || fail "ip tuntap add ukghost"
nsip link set ukghost alias "unikd:ghost:service" || fail "alias ukghost"
out=$(uk gc --dry-run) || fail "gc --dry-run"
assert_contains "$out" ukghost "gc --dry-run"
assert_not_contains "$out" ukdead "gc --dry-run"
has_link ukghost || fail "gc --dry-run deleted ukghost"
out=$(uk --json gc) || fail "gc"
assert_eq "$(echo "$out" | jget '[l["tap"] for l in d["removed"]]')" \
    '["ukghost"]' "links removed by gc"
! has_link ukghost || fail "gc left ukghost"
has_link ukdead || fail "gc deleted ukdead, a link without the tag"
has_link "$tap1b" || fail "gc deleted v1's TAP"

info "kill -9 unikd and the tenders: no stale TAP after a start"
nsip tuntap add ukghost2 mode tap || fail "ip tuntap add ukghost2"
nsip link set ukghost2 alias "unikd:v3:service" || fail "alias ukghost2"
tap3=$(nic_get v3 tap)
pids="$(vm_field v1 pid) $(vm_field v3 pid)"
kill9_unikd
kill -9 $pids
sleep 0.5
start_unikd
wait_state v1 running 10
wait_state v3 exited 10
assert_eq "$(nic_get v1 mac)" "$mac1" "v1's MAC after unikd's restart"
assert_eq "$(nic_get v1 ip)" "$ip1" "v1's address after unikd's restart"
tap1c=$(nic_get v1 tap)
assert_eq "$(taps)" "$(printf '%s\n' "$tap1c" ukdead | sort)" \
    "TAPs after unikd's restart"
assert_eq "$(link_field "$tap1c" 'd.get("master")')" uk-lan "master of $tap1c"
assert_eq "$(nic_get v3 tap)" null "v3's TAP once exited"
assert_contains "$(uk gc --dry-run)" "nothing to remove" "gc --dry-run"
has_link ukdead || fail "ukdead did not survive"

info "TAPs go in batches through unikd's netdev group, never a foreign link"
run_vm v4 --net service=lan
run_vm v5 --net service=lan
wait_state v4 running
wait_state v5 running
tap4=$(nic_get v4 tap)
tap5=$(nic_get v5 tap)
kill -9 "$(vm_field v4 pid)" "$(vm_field v5 pid)"
wait_for 5 "the TAPs of v4 and v5 to go" \
    eval '! has_link "$tap4" && ! has_link "$tap5"'
grep -q "action=delete-batch" "$T/unikd.log" || fail "no batch delete logged"
# a link not unikd's in the group (0x756b): TAPs then go one by one
nsip tuntap add ukforeign mode tap || fail "ip tuntap add ukforeign"
nsip link set ukforeign group 30059 || fail "ip link set ukforeign group"
uk start v4 >/dev/null || fail "start v4"
wait_state v4 running
tap4=$(nic_get v4 tap)
uk rm -f v4 >/dev/null || fail "rm -f v4"
wait_for 5 "v4's TAP $tap4 to go" eval '! has_link "$tap4"'
has_link ukforeign || fail "the foreign link in unikd's group was deleted"
grep -q "is not unikd's is in the group" "$T/unikd.log" ||
    fail "no warning about the foreign link in the group"
has_link ukdead || fail "ukdead did not survive"
info "ok"
