#!/bin/bash
# A real qemu-system-x86_64 as tender, in a network namespace of unikd's
# own: a VM with one NIC on a unikd network boots Debian's iPXE
# (/boot/ipxe.lkrn, as -kernel), whose NIC driver sends a DHCP DISCOVER
# from the VM's MAC, seen on the bridge by a raw socket; `unikctl stop`
# ends QEMU through QMP (system_powerdown, then quit at the timeout: a
# clean exit 0, not SIGKILL); the TAP, handed to QEMU as an fd, is gone
# after the stop and the rm. Then: the Solo5 manifest check refuses a
# mismatch at create and at start before any TAP is made, and a missing or
# non-executable tender binary shows in `unikctl info` and is refused at
# create. Skips (77) without qemu-system-x86 and ipxe (contrib/deps.sh
# installs them).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

QEMU=/usr/bin/qemu-system-x86_64
if [ ! -x "$QEMU" ] || [ ! -f /boot/ipxe.lkrn ]; then
	echo "SKIP: needs $QEMU and /boot/ipxe.lkrn (qemu-system-x86, ipxe)"
	exit 77
fi
cp /boot/ipxe.lkrn "$T/images/ipxe.lkrn" && chmod 0644 "$T/images/ipxe.lkrn"
: >"$T/not-exec"
cat >>"$CONF" <<EOF2

[tender.qemu]
path = $QEMU

[tender.firecracker]
path = $T/no-such-firecracker

[tender.cloud-hypervisor]
path = $T/not-exec
EOF2

unikd_netns uk-qemu-$$
# the Solo5 manifest checks start a networked solo5-spt VM as nobody
tun_open_to_tender
taps() {
	nsip -j -d link show type tun 2>/dev/null | jlines 'e["ifname"]'
}
post() {	# BODY: the HTTP status of POST /v1/vms; the reply in $T/reply
	curl -s -o "$T/reply" -w '%{http_code}' --unix-socket "$SOCK" \
	    -X POST -H 'Content-Type: application/json' -d "$1" \
	    http://unikd/v1/vms
}

start_unikd
uk net create lan --subnet 10.79.0.0/24 >/dev/null || fail "net create lan"

info "unikctl info: each driver, its binary, its version or why not"
out=$(uk info)
assert_contains "$out" "QEMU emulator version" "info (qemu)"
assert_contains "$out" "no-such-firecracker: No such file" "info (firecracker)"
assert_contains "$out" "not-exec: Permission denied" "info (cloud-hypervisor)"
code=$(post "{\"name\": \"fc\", \"tender\": \"firecracker\", \"image\": \"$T/images/ipxe.lkrn\"}")
assert_eq "$code" 422 "create with a missing tender binary"
assert_contains "$(cat "$T/reply")" "tender 'firecracker' is not available" \
    "reply to a missing binary"
code=$(post "{\"name\": \"ch\", \"tender\": \"cloud-hypervisor\", \"image\": \"$T/images/ipxe.lkrn\"}")
assert_eq "$code" 422 "create with a non-executable tender binary"
assert_contains "$(cat "$T/reply")" "Permission denied" \
    "reply to a non-executable binary"

info "a qemu VM's NIC sends DHCP DISCOVER from its MAC onto the bridge"
# A raw socket on the bridge, bounded to 30 s: prints the source MAC of
# the first DHCP DISCOVER (UDP 68 -> 67, option 53 = 1).
ip netns exec "$NS" "$PY" - >"$T/dhcp" 2>"$T/dhcp.err" <<'PY' &
import socket, struct, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind(("uk-lan", 0))
s.settimeout(1)
end = time.time() + 30
while time.time() < end:
    try:
        f = s.recv(2048)
    except socket.timeout:
        continue
    if len(f) < 14 + 20 + 8 + 240 or f[12:14] != b"\x08\x00" or f[23] != 17:
        continue
    ihl = (f[14] & 15) * 4
    sport, dport = struct.unpack("!HH", f[14 + ihl:14 + ihl + 4])
    dhcp = f[14 + ihl + 8:]
    if (sport, dport) != (68, 67) or dhcp[236:240] != b"\x63\x82\x53\x63":
        continue
    opts = dhcp[240:]
    i = 0
    while i + 1 < len(opts) and opts[i] != 255:
        if opts[i] == 0:
            i += 1
            continue
        if opts[i] == 53 and opts[i + 2] == 1:
            print(":".join("%02x" % b for b in f[6:12]))
            raise SystemExit(0)
        i += 2 + opts[i + 1]
raise SystemExit(1)
PY
cap=$!
sleep 0.5
uk run --name q1 --tender qemu --image "$T/images/ipxe.lkrn" --mem 64 \
    --net service=lan >/dev/null || fail "unikctl run q1"
wait_state q1 running
mac=$(vm_get q1 "d['nics'][0]['mac']")
tap=$(vm_get q1 "d['nics'][0]['tap']")
has_link "$tap" || fail "no TAP $tap for q1"
assert_eq "$(vm_field q1 manifest)" null "manifest of a non-Solo5 image"
cmdline=$(tr '\0' ' ' <"/proc/$(vm_field q1 pid)/cmdline")
assert_contains "$cmdline" "-netdev tap,id=n0,fd=100 -device virtio-net-pci,netdev=n0,mac=$mac" \
    "q1's command"
assert_contains "$cmdline" "socket,id=qmp,fd=99,server=on,wait=off" "q1's command"
wait "$cap" || { cat "$T/dhcp.err" >&2; uk logs q1 >&2;
    fail "no DHCP DISCOVER seen on uk-lan within 30 s"; }
assert_eq "$(cat "$T/dhcp")" "$mac" "source MAC of the DHCP DISCOVER"

info "unikctl stop ends QEMU through QMP within the timeout"
t0=$(date +%s)
uk stop q1 >/dev/null || fail "unikctl stop q1"
wait_state q1 exited 10
t1=$(date +%s)
((t1 - t0 <= 8)) || fail "stop took $((t1 - t0)) s (timeout 3 s + 3 s grace)"
assert_eq "$(vm_field q1 exit_reason)" stopped "exit reason of q1"
assert_eq "$(vm_field q1 tender_status)" 0 "tender status of q1"
grep -q "vm=q1 action=powerdown" "$T/unikd.log" || fail "no QMP powerdown logged"
grep -q "vm=q1 action=quit" "$T/unikd.log" || fail "no QMP quit logged"
# both answered on the event loop: no fallback to a signal
grep -q "vm=q1 action=powerdown result=answered" "$T/unikd.log" ||
	fail "QEMU's answer to system_powerdown not logged"
grep -q "vm=q1 action=quit result=answered" "$T/unikd.log" ||
	fail "QEMU's answer to quit not logged"
has_link "$tap" && fail "TAP $tap still there after the stop"
[ -e "$T/run/vm/q1.qmp" ] && fail "QMP socket left after the exit"

info "restart, then rm: the TAP is gone"
uk start q1 >/dev/null || fail "unikctl start q1"
wait_state q1 running
tap=$(vm_get q1 "d['nics'][0]['tap']")
has_link "$tap" || fail "no TAP $tap after the start"
uk rm -f q1 >/dev/null || fail "unikctl rm -f q1"
wait_for 10 "TAP $tap gone after rm" sh -c "! ip -n '$NS' link show dev '$tap' >/dev/null 2>&1"

info "Solo5 manifest: a mismatch is refused before any TAP is made"
# solo5_image FILE TARGET NAME:TYPE...: an ELF image with a Solo5 manifest
solo5_image() {
	"$PY" - "$@" <<'PY'
import struct, sys
path, target, devs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
b = bytearray(128)
b[0:7] = b"\x7fELF\x02\x01\x01"
struct.pack_into("<HHIQQ", b, 16, 2, 62, 1, 0, 64)
struct.pack_into("<HHH", b, 52, 64, 56, 1)
nent = len(devs) + 1
desc = 4 + 8 + nent * 104
n = bytearray(struct.pack("<III", 6, desc, 0x3154464d) + b"Solo5\0\0\0" +
              b"\0" * 4 + struct.pack("<II", 1, nent))
e = bytearray(104)
struct.pack_into("<I", e, 68, 1 << 30)
n += e
for d in devs:
    name, t = d.split(":")
    e = bytearray(104)
    e[0:len(name)] = name.encode()
    struct.pack_into("<I", e, 68, 2 if t == "net" else 1)
    n += e
n += struct.pack("<III", 6, 16, 0x31494241) + b"Solo5\0\0\0" + \
    struct.pack("<IIII", target, 2, 0, 0)
struct.pack_into("<IIQQQQQQ", b, 64, 4, 4, 128, 0, 0, len(n), len(n), 8)
open(path, "wb").write(b + n)
PY
	chmod 0644 "$1"
}
solo5_image "$T/images/svc.spt" 2 service:net
code=$(post "{\"name\": \"m1\", \"tender\": \"solo5-spt\", \"image\": \"$T/images/svc.spt\", \"nics\": [{\"name\": \"net0\", \"network\": \"lan\"}]}")
assert_eq "$code" 422 "create with a NIC the image does not declare"
assert_contains "$(cat "$T/reply")" "image declares net 'service' but the VM has no NIC named 'service'; VM NIC 'net0' is not declared by the image" \
    "reply to a manifest mismatch"
# (created, not run: the checks come before any TAP, and the test guest
# would need /dev/net/tun opened up, which tests running beside this one
# may close again)
uk create --name m1 --tender solo5-spt --image "$T/images/svc.spt" \
    --net service=lan >/dev/null || fail "a matching manifest is refused"
assert_eq "$(vm_get m1 "d['manifest']['target']")" spt "manifest target of m1"
assert_eq "$(vm_get m1 "d['manifest']['devices']")" \
    '[{"name": "service", "type": "net"}]' "manifest devices of m1"
before=$(taps | sort | tr '\n' ' ')
solo5_image "$T/images/svc.spt" 1 service:net	# now an hvt image
out=$(uk start m1 2>&1) && fail "start of an hvt image under solo5-spt"
assert_contains "$out" "built for the Solo5 'hvt' target" "start refused"
assert_eq "$(taps | sort | tr '\n' ' ')" "$before" "TAPs after a refused start"
uk rm m1 >/dev/null || fail "rm m1"
info "ok"
