#!/bin/bash
# podman runs unikernels through unikd-oci: an image built FROM scratch
# with the test guest as /app.spt, `podman run --runtime unikd-oci`,
# podman ps / logs / stop / rm, and the guest's exit status as the
# container's. podman runs with storage of its own under $T and inside a
# network namespace made here (nsenter, as `ip netns exec` would remount
# /sys without the cgroup hierarchies), so its bridge and firewall rules
# never reach the host.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

. "$top_srcdir/tests/integration/oci-engine.sh"
engine_needs podman conmon nsenter
start_unikd
podman_setup
podman_image

TENDER=(--annotation org.unikd.tender=solo5-spt)

info "run -d: Up, its ticks in podman logs"
cid=$(pod run -d --name web "${TENDER[@]}" --annotation org.unikd.oci.name=web --network none localhost/ukguest \
    --print-every=100) || fail "podman run -d"
vm=$(uk --json ps -a | jlines "e['name'] if e.get('labels', {}).get('org.unikd.oci.id') == '$cid' else None")
[ -n "$vm" ] || fail "no unikd VM for container $cid"
assert_eq "$vm" "oci-${cid:0:12}" "VM name"
assert_eq "$(vm_field "$vm" state)" running "VM state"
assert_contains "$(uk ps | grep -w "$vm")" "(web)" "unikctl ps: the container's name"
assert_contains "$(pod ps --format '{{.Names}} {{.Status}}')" "web Up" "podman ps"
has_ticks() { pod logs web 2>/dev/null | grep -q 'testguest: tick 3'; }
wait_for 15 "ticks in podman logs" has_ticks
pod logs web | ticks | assert_consecutive "podman logs web"
cpid=$(pod inspect web --format '{{.State.Pid}}')
alive "$cpid" || fail "podman's container pid $cpid is not alive"
assert_eq "$(comm_of "$cpid")" unikd-oci "the process podman waits for"

info "stop: graceful, within podman's timeout"
t0=$(date +%s)
pod stop -t 20 web >/dev/null || fail "podman stop"
t1=$(date +%s)
((t1 - t0 < 15)) || fail "podman stop took $((t1 - t0))s"
assert_eq "$(pod inspect web --format '{{.State.Status}}')" exited "status after stop"
assert_eq "$(pod inspect web --format '{{.State.ExitCode}}')" 0 "exit code after stop"
# podman's cleanup deletes the stopped container from the runtime
vm_state=$(vm_field "$vm" state 2>/dev/null)
[ -z "$vm_state" ] || [ "$vm_state" = exited ] ||
    fail "VM $vm is $vm_state after podman stop"
assert_contains "$(pod logs web)" "SIGTERM, halting" "podman logs after stop"

info "rm: nothing left in unikd"
pod rm web >/dev/null || fail "podman rm"
uk inspect "$vm" >/dev/null 2>&1 && fail "VM $vm survived podman rm"
uk image ls | grep -qw "$vm" && fail "image $vm survived podman rm"

info "run --rm: the guest's exit code is podman's"
pod run --rm "${TENDER[@]}" --network none localhost/ukguest \
    --exit-after=1 --exit-code=3 >"$T/run.out" 2>&1
assert_eq "$?" 3 "exit code of podman run --rm"
assert_contains "$(cat "$T/run.out")" "testguest: ready" "output of podman run --rm"
assert_eq "$(pod ps -a -q | wc -l)" 0 "containers after run --rm"
assert_eq "$(uk --json ps -a | jlines 'e["name"]' | grep -c '^oci-')" 0 "unikd VMs after run --rm"
exit 0
