#!/bin/bash
# containerd runs unikernels through unikd-oci: its own containerd (root,
# state and socket under $T, no CRI plugin), the test image saved by
# podman as an OCI archive and imported with ctr, then `ctr run
# --runc-binary unikd-oci` through containerd's runc shim: the guest's
# output and exit status, a detached task killed with ctr task kill, and
# nothing left in unikd after.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/oci-engine.sh"
engine_needs containerd ctr containerd-shim-runc-v2 podman conmon nsenter
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
exit 0
