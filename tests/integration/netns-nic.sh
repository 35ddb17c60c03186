#!/bin/bash
# A NIC in a foreign network namespace, as an OCI runtime gets one from
# CNI: $C plays the container's namespace, holding a veth "eth0" with
# 10.77.0.2/24 and a default route via 10.77.0.1, whose other end is in
# $OUT (the "outside", 10.77.0.1). unikd itself runs in $NS. Checks:
# bad namespaces and links are refused with a clear error and nothing is
# made in $C; the test guest gets eth0's MAC and address through
# ${nic.eth0.*}, runs in $C, and answers ping from $OUT; a second VM on
# the same link is refused; the TAP and tc filters survive a kill -9 of
# unikd and go when the VM is removed, leaving $C as it was.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_cmd tc iproute2
need_cmd ping iputils-ping

tun_open_to_tender
unikd_netns uk-nn-$$
UNIKD_NSENTER=1	# unikd sees the cgroup hierarchies
CG=uk-nn-$$	# the test's cgroup, under each hierarchy's root
# (only the VM's own directory is unikd's to remove: the parent is ours)
CLEANUP_HOOKS+=('for d in /sys/fs/cgroup/*/"$CG" /sys/fs/cgroup/"$CG"; do rmdir "$d"/* "$d"; done 2>/dev/null')
C=uk-nn-c-$$
OUT=uk-nn-o-$$
netns_add "$C"
netns_add "$OUT"
CPATH=/run/netns/$C

ip link add name eth0 netns "$C" type veth peer name ukno$$ netns "$OUT" ||
    fail "cannot make the veth pair"
ip -n "$C" link set lo up
ip -n "$C" addr add 10.77.0.2/24 dev eth0
ip -n "$C" link set eth0 up
ip -n "$C" route add default via 10.77.0.1 || fail "default route in $C"
ip -n "$OUT" addr add 10.77.0.1/24 dev ukno$$
ip -n "$OUT" link set ukno$$ up
ETH0_MAC=$(ip -n "$C" -j link show dev eth0 | jget 'd[0]["address"]')

# What $C holds besides lo and eth0, and the tc objects on eth0: both
# empty while no VM uses it.
c_extra() {
	ip -n "$C" -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' |
	    grep -vx -e lo -e eth0
	tc -n "$C" qdisc show dev eth0 ingress
	tc -n "$C" filter show dev eth0 ingress
}
assert_eq "$(c_extra)" "" "$C before any VM"

start_unikd

# refused WANT_STATUS WORDS NICS_JSON: creating a VM with these NICs
# fails with that status and a message holding WORDS, and changes nothing.
refused() {
	api POST /v1/vms "{\"name\": \"bad\", \"tender\": \"solo5-spt\",
	    \"image\": \"$IMG\", \"nics\": $3}"
	[ "$STATUS" = "$1" ] || fail "nics $3: status $STATUS, expected $1: $RESP"
	assert_contains "$RESP" "$2" "error for nics $3"
	uk inspect bad >/dev/null 2>&1 && fail "vm bad exists after: $RESP"
	assert_eq "$(c_extra)" "" "$C after the refused nics $3"
}

info "bad namespaces and links: a clear error, nothing made"
touch "$T/notns"
refused 422 "does not exist" \
    "[{\"name\": \"eth0\", \"netns\": \"/run/netns/uk-none-$$\", \"link\": \"eth0\"}]"
refused 422 "is not a network namespace" \
    "[{\"name\": \"eth0\", \"netns\": \"$T/notns\", \"link\": \"eth0\"}]"
refused 422 "is not a network namespace" \
    "[{\"name\": \"eth0\", \"netns\": \"/proc/self/ns/mnt\", \"link\": \"eth0\"}]"
refused 422 "unikd's own network namespace" \
    "[{\"name\": \"eth0\", \"netns\": \"/run/netns/$NS\", \"link\": \"eth0\"}]"
refused 422 "there is no link 'eth9' in $CPATH" \
    "[{\"name\": \"eth0\", \"netns\": \"$CPATH\", \"link\": \"eth9\"}]"
refused 400 "nics[0].netns" \
    "[{\"name\": \"eth0\", \"netns\": \"run/netns/$C\", \"link\": \"eth0\"}]"
refused 400 "nics[0].link" \
    "[{\"name\": \"eth0\", \"netns\": \"$CPATH\", \"link\": \"a/b\"}]"
refused 400 "nics[0].link" "[{\"name\": \"eth0\", \"netns\": \"$CPATH\"}]"
refused 400 "not both" \
    "[{\"name\": \"eth0\", \"netns\": \"$CPATH\", \"link\": \"eth0\", \"network\": \"lan\"}]"
refused 400 "nics[0].mac" \
    "[{\"name\": \"eth0\", \"netns\": \"$CPATH\", \"link\": \"eth0\", \"mac\": \"02:00:00:00:00:01\"}]"

info "the guest in $C, with eth0's MAC and address, in cgroup /$CG/web"
api POST '/v1/vms?start=true' "{\"name\": \"web\", \"tender\": \"solo5-spt\",
    \"image\": \"$IMG\", \"cgroup\": {\"path\": \"/$CG/web\"},
    \"nics\": [{\"name\": \"eth0\", \"netns\": \"$CPATH\", \"link\": \"eth0\"}],
    \"args\": [\"--ipv4=\${nic.eth0.cidr}\", \"--ipv4-gateway=\${nic.eth0.gateway}\"]}"
[ "$STATUS" = 201 ] || fail "create web: $STATUS $RESP"
wait_state web running
wait_for 5 "web to be ready" eval 'uk logs web | grep -q "testguest: ready"'
nic() { vm_get web "d['nics'][0]['$1']"; }
assert_eq "$(nic netns)" "$CPATH" "inspect: netns"
assert_eq "$(nic link)" eth0 "inspect: link"
assert_eq "$(nic mac)" "$ETH0_MAC" "inspect: mac"
assert_eq "$(nic ip)" 10.77.0.2 "inspect: ip"
assert_eq "$(nic cidr)" 10.77.0.2/24 "inspect: cidr"
assert_eq "$(nic gateway)" 10.77.0.1 "inspect: gateway"
TAP=$(nic tap)
[ "$TAP" != null ] || fail "inspect: no tap"
ip -n "$C" link show dev "$TAP" >/dev/null 2>&1 || fail "no $TAP in $C"
has_link "$TAP" && fail "$TAP is in unikd's own namespace too"
assert_contains "$(uk logs web)" "ipv4 10.77.0.2/24 gateway 10.77.0.1" \
    "web's console"
assert_contains "$(uk logs web)" "mac $ETH0_MAC" "web's console"
pid=$(vm_field web pid)
assert_eq "$(stat -L -c %i "/proc/$pid/ns/net")" "$(stat -L -c %i "$CPATH")" \
    "the tender's network namespace"
# /proc/PID/cgroup: one line per hierarchy, each with the VM's cgroup.
[ "$(grep -c ":/$CG/web\$" "/proc/$pid/cgroup")" = \
    "$(grep -c . "/proc/$pid/cgroup")" ] ||
    fail "the tender is not in /$CG/web everywhere: $(cat "/proc/$pid/cgroup")"
assert_contains "$(tc -n "$C" filter show dev eth0 ingress)" \
    "mirred (Egress Redirect to device $TAP)" "eth0's ingress filter"

info "ping from $OUT reaches the guest"
ip netns exec "$OUT" ping -n -q -c 3 -i 0.2 -W 1 10.77.0.2 >/dev/null ||
    fail "no answer to ping 10.77.0.2 from $OUT"
assert_contains "$(uk logs web)" "icmp echo from 10.77.0.1" "web's console"
# The guest answered, not $C's own stack (eth0 has the same address):
# every frame on eth0 goes to the TAP, so $C never saw an echo request.
in_echos() {	# Icmp InEchos of $C's own stack
	ip netns exec "$C" awk '$1 == "Icmp:" && !n++ {
		for (i = 2; i <= NF; i++) if ($i == "InEchos") f = i; next }
	    $1 == "Icmp:" { print $f }' /proc/net/snmp
}
assert_eq "$(in_echos)" 0 "echo requests seen by $C's own stack"
rx=$(uk --json stats web | jget 'd["nics"][0].get("rx_packets", 0)')
[ "$rx" -ge 3 ] || fail "stats: web's TAP received $rx packets from the guest"

info "a second VM on the same link is refused"
uk run --name web2 --tender solo5-spt --image "$IMG" \
    --net "eth0=$CPATH" >"$T/out" 2>&1 && fail "web2 started on eth0"
assert_contains "$(cat "$T/out")" "used by vm 'web'" "web2's error"
assert_eq "$(ip -n "$C" -o link show | wc -l)" 3 \
    "links in $C (lo, eth0 and web's TAP)"
uk rm -f web2 >/dev/null 2>&1

info "kill -9 of unikd: the guest keeps answering; removal cleans up"
kill9_unikd
ip netns exec "$OUT" ping -n -q -c 2 -i 0.2 -W 1 10.77.0.2 >/dev/null ||
    fail "no answer while unikd is down"
start_unikd
wait_state web running
assert_eq "$(nic tap)" "$TAP" "inspect: tap after unikd's restart"
assert_eq "$(nic ip)" 10.77.0.2 "inspect: ip after unikd's restart"
uk rm -f web >/dev/null || fail "rm -f web"
assert_eq "$(c_extra)" "" "$C after rm"
cgdirs=$(ls -d /sys/fs/cgroup/*/"$CG"/web /sys/fs/cgroup/"$CG"/web 2>/dev/null)
assert_eq "$cgdirs" "" "the VM's cgroup directories after rm"
ip -n "$C" link show dev eth0 | grep -q 'state UP' || fail "eth0 went down"

info "the tender ends while unikd is down: its TAP goes when unikd is back"
run_vm gone --net "eth0=$CPATH"
wait_state gone running
pid=$(vm_field gone pid)
[ -n "$(c_extra)" ] || fail "no TAP in $C for vm gone"
kill9_unikd
kill -9 "$pid"
wait_for 5 "the tender to end" eval "! alive $pid"
start_unikd
wait_state gone exited
assert_eq "$(c_extra)" "" "$C after gone's tender ended while unikd was down"

info "no cgroup hierarchy in unikd's view: said once, the VMs run anyway"
stop_unikd
UNIKD_NSENTER=	# `ip netns exec` mounts a /sys without cgroups
start_unikd
for vm in cg1 cg2; do
	api POST '/v1/vms?start=true' "{\"name\": \"$vm\", \"tender\": \"solo5-spt\",
	    \"image\": \"$IMG\", \"cgroup\": {\"path\": \"$CG.slice:test:$vm\",
	    \"systemd\": true}}"
	[ "$STATUS" = 201 ] || fail "create $vm: $STATUS $RESP"
	wait_state "$vm" running
done
assert_eq "$(grep -c 'no cgroup hierarchy is mounted' "$T/unikd.log")" 1 \
    "warnings about the missing hierarchies"
assert_eq "$(vm_get cg2 "d['cgroup']['path']")" "$CG.slice:test:cg2" \
    "inspect: cgroup"
info "ok"
