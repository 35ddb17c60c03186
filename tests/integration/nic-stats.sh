#!/bin/bash
# NIC counters, in a network namespace of unikd's own (UNIKD_NETNS): three
# VMs on one network; 100 pings from the host side to one of them make
# its NIC's rx/tx packet counters grow by at least 100 in `unikctl
# stats`, its --json and /metrics, and the other two's barely move.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

tun_open_to_tender
unikd_netns uk-nicstats-$$
CHECK="$PY $top_srcdir/tests/integration/metrics-check.py"

start_unikd
uk net create lan --subnet 10.79.0.0/24 >/dev/null || fail "net create lan"
for vm in n1 n2 n3; do
	run_vm "$vm" --net service=lan -- '--ipv4=${nic.service.cidr}'
done
for vm in n1 n2 n3; do
	wait_state "$vm" running
done
ip1=$(vm_get n1 "d['nics'][0]['ip']")
tap1=$(vm_get n1 "d['nics'][0]['tap']")
info "n1 is $ip1 on $tap1"

# counters VM: "rx_packets tx_packets" of the VM's NIC, from --json stats.
counters() {
	uk --json stats "$1" |
	    jget '"%d %d" % (d["nics"][0]["rx_packets"], d["nics"][0]["tx_packets"])'
}
# metric FAMILY VM: one NIC counter of /metrics.
metric() {
	curl -sS --max-time 10 --unix-socket "$SOCK" http://localhost/metrics |
	    sed -n "s/^$1{vm=\"$2\",nic=\"service\",network=\"lan\"} //p"
}
declare -A rx tx mrx mtx
for vm in n1 n2 n3; do
	read -r rx[$vm] tx[$vm] < <(counters "$vm") || fail "stats of $vm"
	mrx[$vm]=$(metric unikd_nic_receive_packets_total "$vm")
	mtx[$vm]=$(metric unikd_nic_transmit_packets_total "$vm")
	[ -n "${mrx[$vm]}" ] || fail "no NIC series for $vm in /metrics"
done

# 100 ICMP echo requests, one at a time (python: ping may not be there).
ip netns exec "$NS" "$PY" - "$ip1" >"$T/ping" <<'PY' ||
import os, socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(1.0)
def csum(b):
    b += b"\0" * (len(b) % 2)
    n = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    n = (n >> 16) + (n & 0xffff)
    return ~(n + (n >> 16)) & 0xffff
ident, got = os.getpid() & 0xffff, 0
for seq in range(100):
    hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + b"unikd-stats"
    pkt = hdr[:2] + struct.pack("!H", csum(hdr)) + hdr[4:]
    s.sendto(pkt, (sys.argv[1], 0))
    end = time.time() + 1
    while time.time() < end:
        try:
            data = s.recv(2048)
        except socket.timeout:
            break
        icmp = data[(data[0] & 0xf) * 4:]
        if icmp[0] == 0 and struct.unpack("!HH", icmp[4:8]) == (ident, seq):
            got += 1
            break
print("%d/100 replies" % got)
sys.exit(0 if got == 100 else 1)
PY
    fail "ping of n1 ($ip1): $(cat "$T/ping")"

for vm in n1 n2 n3; do
	read -r r t < <(counters "$vm")
	dr=$((r - rx[$vm])) dt=$((t - tx[$vm]))
	mr=$(( $(metric unikd_nic_receive_packets_total "$vm") - mrx[$vm] ))
	mt=$(( $(metric unikd_nic_transmit_packets_total "$vm") - mtx[$vm] ))
	info "$vm: rx +$dr tx +$dt (metrics rx +$mr tx +$mt)"
	if [ "$vm" = n1 ]; then
		[ "$dr" -ge 100 ] && [ "$dt" -ge 100 ] ||
		    fail "n1's counters grew by rx $dr tx $dt, not >= 100"
		[ "$mr" -ge 100 ] && [ "$mt" -ge 100 ] ||
		    fail "n1's metrics grew by rx $mr tx $mt, not >= 100"
	else
		# ARP and broadcasts only, far below the 100 pings.
		[ "$dr" -lt 20 ] && [ "$dt" -lt 20 ] ||
		    fail "$vm's counters grew by rx $dr tx $dt"
	fi
done
table=$(uk stats) || fail "stats table"
echo "$table" | grep '^n1 ' | grep -Eq '[0-9.]+(B|KiB) +[0-9.]+(B|KiB)' ||
    fail "n1's NET RX/TX in the table: $(echo "$table" | grep '^n1 ')"
curl -sS --max-time 10 --unix-socket "$SOCK" http://localhost/metrics |
    $CHECK '^unikd_nic_transmit_bytes_total\{vm="n1",nic="service",network="lan"\} [1-9]' ||
    fail "/metrics with NICs"
echo "PASS"
