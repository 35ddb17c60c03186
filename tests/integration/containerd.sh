#!/bin/bash
# containerd runs unikernels through unikd-oci: its own containerd (root,
# state and socket under $T, no CRI plugin), the test image saved by
# podman as an OCI archive and imported with ctr, then `ctr run
# --runc-binary unikd-oci` through containerd's runc shim: the guest's
# output and exit status, a detached task killed with ctr task kill,
# nothing left in unikd after, and --with-ns network: a namespace with a
# veth and an address the guest answers ping on.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/oci-engine.sh"
engine_needs containerd ctr containerd-shim-runc-v2 podman conmon nsenter
# unikd checks at start whether the tender user can open TAPs
tun_open_to_tender
start_unikd
podman_setup
podman_image
pod save -q --format oci-archive -o "$T/ukguest.tar" localhost/ukguest ||
    fail "podman save"

C=$T/containerd
mkdir -p "$C"
cat >"$C/config.toml" <<EOF
version = 2
root = "$C/root"
state = "$C/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$C/containerd.sock"
[ttrpc]
  address = "$C/containerd.sock.ttrpc"
EOF
containerd --config "$C/config.toml" >"$T/containerd.log" 2>&1 &
CD_PID=$!
disown "$CD_PID"
CNS=ukt$$
CLEANUP_HOOKS+=("kill $CD_PID 2>/dev/null"
    "rm -rf /run/containerd/runc/$CNS"
    "grep -o \" $C/[^ ]*\" /proc/mounts | sort -r | xargs -r umount -l")
cctr() {
	ctr --address "$C/containerd.sock" --namespace "$CNS" "$@"
}
cd_up() { cctr version >/dev/null 2>&1; }
wait_for 20 "containerd's socket" cd_up
cctr image import --snapshotter native "$T/ukguest.tar" >/dev/null ||
    fail "ctr image import"
IMAGE=localhost/ukguest:latest
cctr image ls -q | grep -qx "$IMAGE" || fail "ctr image ls: no $IMAGE"
RUN=(run --snapshotter native --runc-binary "$OCI"
    --annotation org.unikd.tender=solo5-spt)
# the shim passes --root /run/containerd/runc/NAMESPACE: a namespace
# of this test's own
ID=ukt$$

info "ctr run: the guest's output and exit status"
cctr "${RUN[@]}" --rm "$IMAGE" "$ID-a" /app.spt --exit-after=1 \
    --exit-code=3 >"$T/a.out" 2>&1
assert_eq "$?" 3 "exit status of ctr run (output: $(cat "$T/a.out"))"
assert_contains "$(cat "$T/a.out")" "testguest: ready" "output of ctr run"
assert_eq "$(cctr container ls -q)" "" "containers after ctr run --rm"
assert_eq "$(uk --json ps -a | jlines 'e["name"]' | grep -c '^oci-')" 0 \
    "unikd VMs after ctr run --rm"

info "a detached task: running, killed, deleted"
cctr "${RUN[@]}" -d --log-uri "file://$T/b.out" "$IMAGE" "$ID-b" /app.spt \
    --print-every=100 >/dev/null || fail "ctr run -d"
vm=$(uk --json ps -a | jlines "e['name'] if e.get('labels', {}).get('org.unikd.oci.id') == '$ID-b' else None")
[ -n "$vm" ] || fail "no unikd VM for task $ID-b"
assert_eq "$(vm_field "$vm" state)" running "VM of $ID-b"
assert_contains "$(cctr task ls | grep -w "$ID-b")" RUNNING "ctr task ls"
has_ticks() { grep -q 'testguest: tick 3' "$T/b.out"; }
wait_for 15 "the guest's ticks in the task's log" has_ticks
ticks <"$T/b.out" | assert_consecutive "ticks of $ID-b"
cctr task kill "$ID-b" || fail "ctr task kill"
stopped() { cctr task ls | grep -w "$ID-b" | grep -q STOPPED; }
wait_for 15 "the task to stop" stopped
assert_contains "$(cat "$T/b.out")" "SIGTERM, halting" "the guest's last words"
cctr task delete "$ID-b" >/dev/null || fail "ctr task delete"
cctr container delete "$ID-b" || fail "ctr container delete"
uk inspect "$vm" >/dev/null 2>&1 && fail "VM $vm survived ctr task delete"
uk image ls | grep -qw "$vm" && fail "image $vm survived ctr task delete"

info "--with-ns network: the guest answers on the namespace's eth0"
# what a CNI plugin would have made: a veth, its eth0 end in the
# container's namespace with an address and a default route
OUT=ukco$$ CNT=ukcc$$
netns_add "$OUT"
netns_add "$CNT"
ip -n "$OUT" link add ukv$$ type veth peer name eth0 netns "$CNT" ||
    fail "veth"
ip -n "$OUT" addr add 10.77.0.1/24 dev ukv$$
ip -n "$OUT" link set ukv$$ up
ip -n "$CNT" addr add 10.77.0.2/24 dev eth0
ip -n "$CNT" link set eth0 up
ip -n "$CNT" route add default via 10.77.0.1
cctr "${RUN[@]}" -d --log-uri "file://$T/c.out" \
    --with-ns "network:/run/netns/$CNT" "$IMAGE" "$ID-c" /app.spt \
    '--ipv4=${nic.eth0.cidr}' '--ipv4-gateway=${nic.eth0.gateway}' \
    >/dev/null || fail "ctr run --with-ns"
pinged() { ip netns exec "$OUT" ping -c 1 -W 2 10.77.0.2 >/dev/null 2>&1; }
wait_for 15 "ping of the guest at 10.77.0.2" pinged
assert_contains "$(cat "$T/c.out")" "ipv4 10.77.0.2/24 gateway 10.77.0.1" \
    "the guest's address"
# the console reaches the task's log a moment after the echo
echo_seen() { grep -q "icmp echo from 10.77.0.1" "$T/c.out"; }
wait_for 10 "the echo in the guest's console" echo_seen
cctr task kill -s SIGKILL "$ID-c" || fail "ctr task kill -s SIGKILL"
killed() { cctr task ls | grep -w "$ID-c" | grep -q STOPPED; }
wait_for 15 "the task to stop" killed
cctr task delete "$ID-c" >/dev/null || fail "ctr task delete"
cctr container delete "$ID-c" || fail "ctr container delete"
assert_eq "$(ip -n "$CNT" -o link show type tun)" "" "TAPs left in the namespace"
assert_eq "$(tc -n "$CNT" filter show dev eth0 ingress)" "" \
    "tc filters left on eth0"
exit 0
