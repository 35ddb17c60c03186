#!/bin/bash
# Traffic through unikd's networks, with real test guests on real TAPs, in
# network namespaces of the test's own: unikd runs in $NS (UNIKD_NETNS),
# whose bridges hold the gateway addresses; $OUT plays the outside world,
# joined to $NS by a veth pair (10.250.0.0/30) that is $NS's default route.
#   lan    10.81.0.0/24, NAT    one VM (web)
#   iso    10.82.0.0/24, isolated    two VMs (iso1 sends to iso2)
#   jumbo  10.83.0.0/24, MTU 9000    one VM (j1)
# Checks: the host side pings every VM's leased address; iso1's datagrams
# reach the gateway but never iso2; web's datagrams reach $OUT with their
# source masqueraded to 10.250.0.1; j1 sees MTU 9000 and answers 8000-byte
# pings; web restarted by policy keeps its MAC and address and answers
# again; a bridge deleted by hand is put back and pings work again.
# Every wait and every ping is bounded; all traffic stays in $NS and $OUT.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

tun_open_to_tender
unikd_netns uk-nt-$$
OUT=uk-nt-out-$$
netns_add "$OUT"

in_ns() {	# NETNS CMD...
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}
nic_get() {	# VM FIELD: of the VM's first NIC
	vm_get "$1" "d['nics'][0]['$2']"
}
# within SECONDS WHAT CMD...: retries CMD until it succeeds, for at most
# SECONDS of wall-clock time (CMD itself may take a while).
within() {
	local secs=$1 what=$2 end=$((${EPOCHREALTIME/./} + $1 * 1000000))
	shift 2
	until "$@"; do
		((${EPOCHREALTIME/./} < end)) ||
		    fail "timed out after ${secs}s waiting for $what"
		sleep 0.1
	done
}
console_has() {	# VM TEXT
	uk logs "$1" 2>/dev/null | grep -qF -- "$2"
}

# pingn ADDR COUNT [SIZE]: ICMP echo from $NS, 1 s per reply at most;
# true when every request is answered. ping(8) when installed, else the
# same with a raw socket in Python (checking id, seq, data and checksum).
pingn() {
	local size=${3:-56}
	if command -v ping >/dev/null; then
		in_ns "$NS" ping -n -q -c "$2" -i 0.2 -W 1 -s "$size" -M do \
		    "$1" >/dev/null 2>&1
		return
	fi
	in_ns "$NS" timeout 20 "$PY" - "$1" "$2" "$size" <<'EOF'
import os, socket, struct, sys, time
dst, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def cksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.setsockopt(socket.IPPROTO_IP, 10, 2)  # IP_MTU_DISCOVER: IP_PMTUDISC_DO
ident, ok = os.getpid() & 0xffff, 0
data = (bytes(range(256)) * (size // 256 + 1))[:size]
for seq in range(1, count + 1):
    c = cksum(struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data)
    s.sendto(struct.pack("!BBHHH", 8, 0, c, ident, seq) + data, (dst, 0))
    end = time.time() + 1
    while time.time() < end:
        s.settimeout(max(end - time.time(), 0.01))
        try:
            pkt, addr = s.recvfrom(70000)
        except socket.timeout:
            break
        m = pkt[(pkt[0] & 15) * 4:]
        if (addr[0] == dst and m[0] == 0 and cksum(m) == 0 and
                struct.unpack("!HH", m[4:8]) == (ident, seq) and
                m[8:] == data):
            ok += 1
            break
    time.sleep(0.2)
sys.exit(0 if ok == count else 1)
EOF
}

# udp_listen NETNS ADDR PORT SECONDS: prints "SRC PAYLOAD" for each
# datagram received on ADDR:PORT in NETNS, for at most SECONDS and at most
# 3 datagrams.
udp_listen() {
	in_ns "$1" timeout "$(($4 + 2))" "$PY" - "$2" "$3" "$4" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
end = time.time() + float(sys.argv[3])
n = 0
while n < 3 and time.time() < end:
    s.settimeout(max(end - time.time(), 0.01))
    try:
        data, addr = s.recvfrom(2048)
    except socket.timeout:
        break
    print(addr[0], data.decode(errors="replace"), flush=True)
    n += 1
EOF
}

# udp_ask NETNS ADDR PORT TEXT: sends TEXT, prints the answer (2 s).
udp_ask() {
	in_ns "$1" timeout 5 "$PY" - "$2" "$3" "$4" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
for _ in range(2):
    s.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))
    try:
        data, addr = s.recvfrom(2048)
    except socket.timeout:
        continue
    print(addr[0], addr[1], data.decode(errors="replace"))
    break
EOF
}

info "the outside: $OUT behind a veth pair, $NS's default route"
nsip link set lo up
ip link add ukv-in-$$ netns "$NS" type veth peer name ukv-out-$$ \
    netns "$OUT" || fail "cannot make a veth pair"
nsip addr add 10.250.0.1/30 dev ukv-in-$$
nsip link set ukv-in-$$ up
ip -n "$OUT" addr add 10.250.0.2/30 dev ukv-out-$$
ip -n "$OUT" link set ukv-out-$$ up
ip -n "$OUT" link set lo up
nsip route add default via 10.250.0.2 || fail "default route in $NS"

start_unikd
uk net create lan --subnet 10.81.0.0/24 --nat >/dev/null ||
    fail "net create lan"
uk net create iso --subnet 10.82.0.0/24 --isolated >/dev/null ||
    fail "net create iso"
uk net create jumbo --subnet 10.83.0.0/24 --mtu 9000 >/dev/null ||
    fail "net create jumbo"

ARGS=('--ipv4=${nic.service.cidr}' '--ipv4-gateway=${nic.service.gateway}')
run_vm web --restart on-failure --net service=lan -- "${ARGS[@]}" \
    --udp-echo=7 --udp-to=10.250.0.2:9000
run_vm iso2 --net service=iso -- "${ARGS[@]}" --udp-echo=7
wait_state iso2 running
iso2_ip=$(nic_get iso2 ip)
run_vm iso1 --net service=iso -- "${ARGS[@]}" --udp-to="$iso2_ip:7" \
    --udp-to=10.82.0.1:9001
run_vm j1 --net service=jumbo -- "${ARGS[@]}"
for vm in web iso1 iso2 j1; do
	wait_state "$vm" running
	wait_for 5 "$vm to be ready" console_has "$vm" "testguest: ready"
done
web_ip=$(nic_get web ip)
web_mac=$(nic_get web mac)
iso1_ip=$(nic_get iso1 ip)
j1_ip=$(nic_get j1 ip)
info "web $web_ip, iso1 $iso1_ip, iso2 $iso2_ip, j1 $j1_ip"
assert_eq "$web_ip" 10.81.0.2 "web's leased address"
assert_contains "$(uk logs web)" "mac $web_mac" "web's boot line"

info "the host side pings every VM through its bridge"
for ip in "$web_ip" "$iso1_ip" "$iso2_ip" "$j1_ip"; do
	pingn "$ip" 3 || fail "no answer to ping $ip from $NS"
done
assert_contains "$(uk logs web)" "testguest: icmp echo from 10.81.0.1 seq" \
    "web's console"
# iso2 sends nothing of its own, so the host had to ask for its MAC.
assert_contains "$(uk logs iso2)" "testguest: arp reply to 10.82.0.1" \
    "iso2's console"
out=$(udp_ask "$NS" "$iso2_ip" 7 "echo me") || fail "udp_ask iso2"
assert_eq "$out" "$iso2_ip 7 echo me" "UDP echo from iso2"

info "isolated: iso1 reaches the gateway, never iso2"
out=$(udp_listen "$NS" 10.82.0.1 9001 5) || fail "udp_listen on 10.82.0.1"
assert_contains "$out" "$iso1_ip testguest service seq" \
    "datagrams from iso1 at the gateway"
# By now iso1 has tried to reach iso2 for several seconds.
console_has iso1 "testguest: arp who-has $iso2_ip" ||
    fail "iso1 never asked for $iso2_ip: $(uk logs iso1)"
console_has iso1 "testguest: arp $iso2_ip is at" &&
    fail "iso1 resolved $iso2_ip across port isolation"
log=$(uk logs iso2)
assert_not_contains "$log" "testguest: udp echo to $iso1_ip" "iso2's console"
assert_not_contains "$log" "$iso1_ip" "iso2's console"

info "NAT: web's datagrams reach $OUT from 10.250.0.1"
out=$(udp_listen "$OUT" 10.250.0.2 9000 5) || fail "udp_listen in $OUT"
assert_contains "$out" "10.250.0.1 testguest service seq" \
    "datagrams from web in $OUT"
assert_not_contains "$out" "10.81.0." "source addresses seen in $OUT"

info "MTU 9000: the TAP has it, the guest sees it, big frames pass"
j1_tap=$(nic_get j1 tap)
assert_eq "$(link_field "$j1_tap" 'd["mtu"]')" 9000 "MTU of $j1_tap"
assert_contains "$(uk logs j1)" "iface $j1_tap mac $(nic_get j1 mac) mtu 9000" \
    "j1's boot line"
pingn "$j1_ip" 2 8000 || fail "no answer to 8000-byte pings of $j1_ip"

info "web restarted by policy keeps MAC and address, and answers"
pid=$(vm_field web pid)
kill -9 "$pid"
restarted() {
	local p
	p=$(vm_field web pid)
	[ "$(vm_field web state)" = running ] && [ "$p" != null ] &&
	    [ "$p" != "$pid" ]
}
wait_for 10 "web to be restarted" restarted
assert_eq "$(nic_get web mac)" "$web_mac" "web's MAC after a restart"
assert_eq "$(nic_get web ip)" "$web_ip" "web's address after a restart"
assert_eq "$(link_field "$(nic_get web tap)" 'd.get("master")')" uk-lan \
    "master of web's TAP after a restart"
within 5 "web to answer ping after its restart" pingn "$web_ip" 1

info "a bridge deleted by hand is put back and web answers again"
nsip link del uk-lan || fail "ip link del uk-lan"
within 5 "web to answer ping once uk-lan is back" pingn "$web_ip" 1
assert_eq "$(link_field "$(nic_get web tap)" 'd.get("master")')" uk-lan \
    "master of web's TAP once uk-lan is back"
pingn "$web_ip" 3 || fail "ping $web_ip once uk-lan is back"
info "ok"
