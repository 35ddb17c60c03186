#!/bin/bash
# One uid per VM (tender_uids = FIRST-LAST): each tender runs as its own
# uid and gid, owns its TAP and its block file, and as one tender's uid
# another tender's /proc/PID/fd/* and block are unreadable (its own are
# not). Uids are the lowest free, persisted across restarts of unikd,
# reused after removal; a full range is a 409; a range holding an
# account's uid fails `unikd -n`.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

tun_open_to_tender
unikd_netns uk-uids-$$
S=$T/state
U0=1500000000
as_uid() {	# UID CMD...: as that uid and gid, no other group
	local id=$1
	shift
	setpriv --reuid="$id" --regid="$id" --clear-groups "$@"
}
set_uids() {
	sed -i '/^tender_uids = /d' "$CONF"
	sed -i "s/^tender_group = .*/&\ntender_uids = $1/" "$CONF"
}

info "a range that holds an account's uid is refused"
set_uids "65530-65540"
out=$("$top_builddir/unikd" -n -f "$CONF" 2>&1) &&
    fail "unikd -n accepted a range holding nobody: $out"
assert_contains "$out" "unikd.tender_uids: 65530-65540 holds the uid 65534 of user 'nobody'" "unikd -n"
set_uids "10-5"
out=$("$top_builddir/unikd" -n -f "$CONF" 2>&1) && fail "unikd -n accepted 10-5"
assert_contains "$out" "unikd.tender_uids: expected FIRST-LAST" "unikd -n"
set_uids "$U0-$((U0 + 2))"
out=$("$top_builddir/unikd" -n -f "$CONF" 2>&1) || fail "unikd -n: $out"

start_unikd
uk net create lan --subnet 10.81.0.0/24 >/dev/null || fail "net create lan"
for b in b1 b2 b3; do
	uk block create $b 1M >/dev/null || fail "block create $b"
done
assert_eq "$(stat -c %u "$S/blocks/b1.img")" 0 "owner of an unattached block"
run_vm u1 --net service=lan --block storage=b1 -- --print-every=100
run_vm u2 --net service=lan --block storage=b2 -- --print-every=100
wait_state u1 running
wait_state u2 running
pid1=$(vm_field u1 pid)
pid2=$(vm_field u2 pid)
for vm in u1 u2; do
	want=$U0
	[ $vm = u2 ] && want=$((U0 + 1))
	pid=$(vm_field $vm pid)
	assert_eq "$(vm_field $vm uid)" "$want" "$vm uid"
	assert_eq "$(awk '/^Uid:/ { print $2, $3, $4 }' /proc/$pid/status)" \
	    "$want $want $want" "$vm tender's uids"
	assert_eq "$(awk '/^Gid:/ { print $2 }' /proc/$pid/status)" "$want" \
	    "$vm tender's gid"
	tap=$(vm_get $vm "d['nics'][0]['tap']")
	assert_eq "$(link_field "$tap" 'd["linkinfo"]["info_data"]["user"]')" \
	    "$want" "owner of $vm's TAP $tap"
done
assert_eq "$(stat -c '%u %g %a' "$S/blocks/b1.img")" "$U0 $U0 600" "b1 owner"
assert_eq "$(stat -c '%u %g %a' "$S/blocks/b2.img")" "$((U0 + 1)) $((U0 + 1)) 600" \
    "b2 owner"

info "as u1's uid: its own fds are readable, u2's are not"
as_uid $U0 head -c 512 /proc/$pid1/fd/200 >/dev/null ||
    fail "u1's uid cannot read its own block through /proc/$pid1/fd/200"
as_uid $U0 head -c 512 /proc/$pid2/fd/200 >/dev/null 2>&1 &&
    fail "u1's uid reads u2's block through /proc/$pid2/fd/200"
as_uid $U0 ls /proc/$pid2/fd >/dev/null 2>&1 &&
    fail "u1's uid lists u2's fds"
as_uid $U0 head -c 512 "$S/blocks/b2.img" >/dev/null 2>&1 &&
    fail "u1's uid reads u2's block file"
as_uid $U0 kill -0 $pid2 2>/dev/null && fail "u1's uid may signal u2's tender"

info "uids persist across a restart of unikd and a new start"
kill9_unikd
start_unikd
assert_eq "$(vm_field u2 uid)" $((U0 + 1)) "u2 uid after a restart"
uk stop -t 1 u2 >/dev/null && wait_state u2 exited
uk start u2 >/dev/null || fail "start u2"
wait_state u2 running
assert_eq "$(uid_of "$(vm_field u2 pid)")" $((U0 + 1)) "u2 uid after a new start"

info "a removed VM's uid is taken again; a full range is a 409"
uk rm -f u1 >/dev/null || fail "rm -f u1"
run_vm u3 --block storage=b3 -- --print-every=100
assert_eq "$(vm_field u3 uid)" $U0 "u3 uid (u1's, reused)"
wait_state u3 running
assert_eq "$(stat -c %u "$S/blocks/b3.img")" $U0 "b3 owner"
uk create --name u4 --tender solo5-spt --image "$IMG" >/dev/null ||
    fail "create u4"
assert_eq "$(vm_field u4 uid)" $((U0 + 2)) "u4 uid"
out=$(uk create --name u5 --tender solo5-spt --image "$IMG" 2>&1) &&
    fail "create u5 with the range full: $out"
assert_contains "$out" "every uid of tender_uids ($U0-$((U0 + 2))) is taken" "create u5"
uk rm -f u2 u3 u4 >/dev/null || fail "rm -f u2 u3 u4"
info "ok"
