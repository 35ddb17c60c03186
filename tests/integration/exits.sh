#!/bin/bash
# How an exit reads: a stop asked through the API is "stopped" whatever
# the tender's status (solo5-hvt exits 1 on SIGTERM), kept raw in
# tender_status, never restarted; QEMU's status 83 (isa-debug-exit, a
# Solo5 virtio guest's solo5_exit()) is a clean exit; a running VM shows
# its previous end under last_exit only; a pending restart is
# "restarting" in ps, inspect and stats.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

# long enough to see a pending restart
sed -i 's/^restart_backoff = .*/restart_backoff = 4000/;
    s/^restart_backoff_max = .*/restart_backoff_max = 4000/' "$CONF"
# A stand-in for qemu-system-x86_64 that ends as QEMU does when a Solo5
# virtio guest calls solo5_exit(): status 83.
cat >"$T/fake-qemu" <<'EOF'
#!/bin/sh
[ "$1" = -version ] && { echo "QEMU emulator version 7.2.0"; exit 0; }
echo "guest: solo5_exit(0)"
sleep 0.3
exit 83
EOF
chmod 0755 "$T/fake-qemu"
cat >>"$CONF" <<EOF

[tender.qemu]
path = $T/fake-qemu
EOF
start_unikd

info "a stop of a tender that exits 1 on SIGTERM is 'stopped', not a failure"
run_vm hv --restart on-failure -- --term-exit=1 --print-every=100
wait_state hv running
uk stop hv || fail "stop hv"
wait_state hv exited 10
assert_eq "$(vm_field hv exit_reason)" stopped "hv exit_reason"
assert_eq "$(vm_field hv exit_status)" 0 "hv exit_status"
assert_eq "$(vm_field hv tender_status)" 1 "hv tender_status"
assert_eq "$(vm_field hv restarts)" 0 "restarts of hv after a stop"
sleep 0.5
assert_eq "$(vm_field hv state)" exited "hv state a while after the stop"
uk wait hv >/dev/null
assert_eq "$?" 0 "exit code of wait for a stopped VM"
grep -q "vm=hv action=exited status=0 tender_status=1" "$T/unikd.log" ||
    fail "the raw status is not logged"

info "while it runs again, the previous end is under last_exit only"
uk start hv >/dev/null || fail "start hv"
wait_state hv running
assert_eq "$(vm_field hv exit_status)" null "exit_status of running hv"
assert_eq "$(vm_field hv exit_reason)" null "exit_reason of running hv"
assert_eq "$(vm_field hv finished_at)" null "finished_at of running hv"
assert_eq "$(vm_get hv 'd["last_exit"]["exit_reason"]')" stopped \
    "last_exit of running hv"
assert_eq "$(vm_get hv 'd["last_exit"]["tender_status"]')" 1 \
    "last_exit.tender_status of running hv"

info "a kill through the API is 'stopped (SIGKILL)'"
uk kill hv >/dev/null || fail "kill hv"
wait_state hv exited 10
assert_eq "$(vm_field hv exit_reason)" "stopped (SIGKILL)" "hv after kill"
assert_eq "$(vm_field hv exit_status)" 137 "hv exit_status after kill"
assert_eq "$(vm_field hv tender_status)" 137 "hv tender_status after kill"

info "a pending restart is 'restarting' in inspect, ps, stats and rm"
run_vm rs --restart on-failure -- --exit-after=0.2 --exit-code=3
wait_state rs restarting 10
assert_eq "$(vm_field rs exit_reason)" "failed 3" "rs exit_reason"
ps_out=$(uk ps)
assert_contains "$(echo "$ps_out" | grep '^rs ')" "restarting in " "rs in ps"
assert_not_contains "$ps_out" "hv " "ps without -a"
assert_contains "$(uk ps -a | grep '^rs ')" "restarting in " "rs in ps -a"
assert_contains "$(uk stats | grep "^rs ")" "restarting in " \
    "stats lists a restarting VM"
assert_eq "$(uk --json stats rs | jget 'd["state"]')" restarting "rs in stats"
assert_eq "$(curl -sS --unix-socket "$SOCK" \
    'http://localhost/v1/vms?state=restarting' | jlines 'e["name"]')" rs \
    "GET /v1/vms?state=restarting"
err=$(uk rm rs 2>&1)
assert_contains "$err" "is restarting" "rm of a restarting VM"
uk stop rs >/dev/null || fail "stop of a restarting VM"
assert_eq "$(vm_field rs state)" exited "rs after the stop cancelled its restart"
uk rm rs >/dev/null || fail "rm rs"

info "QEMU's status 83 (a Solo5 virtio guest's exit) is a clean exit"
uk run --name q --tender qemu --image "$IMG" --mem 8 --restart on-failure \
    --attach >"$T/q.out"
assert_eq "$?" 0 "exit code of run --attach of a guest ending with 83"
assert_contains "$(cat "$T/q.out")" "solo5_exit(0)" "console of q"
assert_eq "$(vm_field q state)" exited "q state"
assert_eq "$(vm_field q exit_status)" 0 "q exit_status"
assert_eq "$(vm_field q tender_status)" 83 "q tender_status"
assert_eq "$(vm_field q exit_reason)" "exited (guest)" "q exit_reason"
assert_eq "$(vm_field q restarts)" 0 "q restarts"

info "ok"
