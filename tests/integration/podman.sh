#!/bin/bash
# podman runs unikernels through unikd-oci: an image built FROM scratch
# with the test guest as /app.spt, `podman run --runtime unikd-oci` on
# podman's bridge (netavark): podman ps / logs / stop / rm, ping of the
# container's IP answered by the guest, two guests talking over podman's
# network, the tender in the container's cgroup, a kill -9 of unikd that
# the container outlives without a gap in its logs, and the guest's exit
# status as the container's. podman runs with storage of its own under $T and inside a
# network namespace made here (nsenter, as `ip netns exec` would remount
# /sys without the cgroup hierarchies), so its bridge and firewall rules
# never reach the host.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

. "$top_srcdir/tests/integration/oci-engine.sh"
engine_needs podman conmon nsenter
# unikd checks at start whether the tender user can open TAPs
tun_open_to_tender
start_unikd
podman_setup
podman_image

TENDER=(--annotation org.unikd.tender=solo5-spt)
# the guest takes the address podman gave the container's eth0
GUESTNET=('--ipv4=${nic.eth0.cidr}' '--ipv4-gateway=${nic.eth0.gateway}')
nsping() {	# IP: one echo answered, from the namespace podman runs in
	ip netns exec "$NS" ping -c 1 -W 2 "$1" >/dev/null 2>&1
}

info "run -d on podman's bridge: Up, ticks in podman logs, ping answered"
cid=$(pod run -d --name web --network bridge "${TENDER[@]}" \
    --annotation org.unikd.oci.name=web localhost/ukguest \
    --print-every=100 --udp-echo=7 "${GUESTNET[@]}") || fail "podman run -d"
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
ip=$(pod inspect web --format '{{.NetworkSettings.IPAddress}}')
[ -n "$ip" ] || fail "podman gave web no address"
assert_contains "$(pod logs web)" "ipv4 $ip/" "the guest's address"
wait_for 10 "ping of web's guest at $ip" nsping "$ip"
netns=$(pod inspect web --format '{{.NetworkSettings.SandboxKey}}')
tap=$(vm_get "$vm" 'd["nics"][0]["tap"]')
nsenter --net="$netns" ip link show dev "$tap" >/dev/null 2>&1 ||
    fail "no TAP $tap in the container's namespace $netns"
mac=$(nsenter --net="$netns" ip -j link show dev eth0 | jget 'd[0]["address"]')
assert_contains "$(pod logs web)" "mac $mac" "the guest has eth0's MAC"
# the tender is in the cgroup podman made for the container
assert_contains "$(cat "/proc/$(vm_field "$vm" pid)/cgroup")" "libpod-$cid" \
    "the tender's cgroups"

info "a second container reaches the first's guest over podman's network"
pod run -d --name peer --network bridge "${TENDER[@]}" localhost/ukguest \
    "--udp-to=$ip:7" "${GUESTNET[@]}" >/dev/null || fail "podman run peer"
peer_ip=$(pod inspect peer --format '{{.NetworkSettings.IPAddress}}')
echoed() { pod logs peer 2>/dev/null | grep -q "udp from $ip:7"; }
wait_for 15 "web's guest echoing peer's datagrams" echoed
assert_contains "$(pod logs web)" "udp echo to $peer_ip" "web's console"
pod rm -f -t 0 peer >/dev/null || fail "podman rm -f peer"

info "kill -9 of unikd: the container stays Up, ping and logs go on"
kill9_unikd
assert_contains "$(pod ps --format '{{.Names}} {{.Status}}')" "web Up" "podman ps without unikd"
nsping "$ip" || fail "no ping answer from web while unikd is down"
sleep 1
start_unikd
last=$(pod logs web | ticks | tail -n 1)
more_ticks() { [ "$(pod logs web | ticks | tail -n 1)" -ge $((last + 10)) ]; }
wait_for 15 "podman logs after unikd came back" more_ticks
pod logs web | ticks | assert_consecutive "podman logs web across a restart of unikd"
assert_not_contains "$(pod logs web)" "unikd-oci" "podman logs web (the guest's only)"

info "stop: graceful, within podman's timeout"
t0=$(date +%s)
pod stop -t 20 web >/dev/null || fail "podman stop"
t1=$(date +%s)
((t1 - t0 < 15)) || fail "podman stop took $((t1 - t0))s"
assert_eq "$(pod inspect web --format '{{.State.Status}}')" exited "status after stop"
assert_eq "$(pod inspect web --format '{{.State.ExitCode}}')" 0 "exit code after stop"
assert_contains "$(pod logs web)" "SIGTERM, halting" "podman logs after stop"

info "rm: no VM, image, TAP or namespace left"
pod rm web >/dev/null || fail "podman rm"
uk inspect "$vm" >/dev/null 2>&1 && fail "VM $vm survived podman rm"
uk image ls | grep -qw "$vm" && fail "image $vm survived podman rm"
[ -e "$netns" ] && fail "the container's namespace $netns survived"
assert_eq "$(uk gc --dry-run)" "nothing to remove" "unikctl gc --dry-run"

info "run --rm: the guest's exit code is podman's"
pod run --rm "${TENDER[@]}" --network none localhost/ukguest \
    --exit-after=1 --exit-code=3 >"$T/run.out" 2>&1
assert_eq "$?" 3 "exit code of podman run --rm"
assert_contains "$(cat "$T/run.out")" "testguest: ready" "output of podman run --rm"
assert_eq "$(pod ps -a -q | wc -l)" 0 "containers after run --rm"
assert_eq "$(uk --json ps -a | jlines 'e["name"]' | grep -c '^oci-')" 0 "unikd VMs after run --rm"
exit 0
