#!/bin/bash
# A running VM whose definition no longer validates when unikd starts
# (its image deleted while unikd was down; or a definition the store
# cannot even parse) is adopted all the same: running, with a `problem`
# in inspect and ps, its TAP kept (also through `unikctl gc`), its block
# still attached, and stop, start, kill and rm work on it. The problem
# blocks only the next start, until the image is back.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

tun_open_to_tender
unikd_netns uk-inval-$$
S=$T/state

start_unikd
uk net create lan --subnet 10.79.0.0/24 >/dev/null || fail "net create lan"
uk block create b1 1M >/dev/null || fail "block create b1"
IMG1=$T/images/v1.img
cp -p "$IMG" "$IMG1"
uk run --name v1 --tender solo5-spt --image "$IMG1" --net service=lan \
    --block storage=b1 -- --print-every=100 >/dev/null || fail "run v1"
run_vm v2 --net service=lan -- --print-every=100
wait_state v1 running
wait_state v2 running
pid1=$(vm_field v1 pid)
pid2=$(vm_field v2 pid)
tap1=$(vm_get v1 "d['nics'][0]['tap']")
tap2=$(vm_get v2 "d['nics'][0]['tap']")
assert_eq "$(vm_field v1 problem)" null "v1 problem while valid"

info "unikd down: v1's image is deleted, v2's definition is garbled"
stop_unikd
rm -f "$IMG1"
"$PY" - "$S/unikd.db" <<'PY' || fail "cannot garble v2's definition"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE vms SET spec = '{not json' WHERE name = 'v2'")
db.commit()
PY
start_unikd

for vm in v1 v2; do
	assert_eq "$(vm_field $vm state)" running "$vm state after the restart"
done
assert_eq "$(vm_field v1 pid)" "$pid1" "v1 pid (adopted)"
assert_eq "$(vm_field v2 pid)" "$pid2" "v2 pid (adopted)"
assert_contains "$(vm_field v1 problem)" "invalid definition: field 'image': image $IMG1: No such file" "v1 problem"
assert_contains "$(vm_field v2 problem)" "unreadable JSON" "v2 problem"
assert_eq "$(vm_field v1 image)" "$IMG1" "v1 image as defined"
ps_json=$(uk --json ps -a) || fail "ps -a"
assert_contains "$(printf '%s' "$ps_json" | jlines 'e["name"] + " " + str(e.get("problem"))')" \
    "v1 invalid definition: field 'image': image $IMG1: No such file" "ps --json"
assert_contains "$(uk ps | grep -w v1)" "invalid definition" "ps line of v1"
uk gc >/dev/null || fail "unikctl gc"
has_link "$tap1" || fail "v1's TAP $tap1 was deleted under its running VM"
has_link "$tap2" || fail "v2's TAP $tap2 was deleted under its running VM"
assert_eq "$(uk --json block inspect b1 | jget 'd["attached_to"]')" v1 \
    "b1 attached to"
out=$(uk block rm b1 2>&1) && fail "block rm b1 while v1 runs: $out"

info "stop, kill and rm work; the problem blocks the next start"
uk stop -t 2 v1 >/dev/null || fail "stop v1"
wait_state v1 exited
alive "$pid1" && fail "v1's tender $pid1 is still there after stop"
wait_for 5 "v1's TAP to go" eval '! has_link "$tap1"'
out=$(uk start v1 2>&1) && fail "start v1 with its image gone: $out"
assert_contains "$out" "cannot start: invalid definition: field 'image': image $IMG1: No such file" "start v1"
assert_eq "$(vm_field v1 state)" exited "v1 state after a refused start"
uk kill v2 >/dev/null || fail "kill v2"
wait_for 10 "v2's tender to end" eval '! alive "$pid2"'
out=$(uk start v2 2>&1) && fail "start v2 with a garbled definition: $out"
assert_contains "$out" "unreadable JSON" "start v2"
uk rm v2 >/dev/null || fail "rm v2"

info "the image is back: v1 starts, its problem gone"
cp -p "$IMG" "$IMG1"
uk start v1 >/dev/null || fail "start v1 with its image back"
wait_state v1 running
assert_eq "$(vm_field v1 problem)" null "v1 problem once its image is back"
uk rm -f v1 >/dev/null || fail "rm -f v1"
run_vm v2 -- --print-every=100
wait_state v2 running
info "ok"
