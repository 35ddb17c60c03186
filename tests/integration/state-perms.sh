#!/bin/bash
# The state directory is root's: a local user reads no definition (args
# may hold secrets), no console log and no block, while the tender still
# runs its pushed image (handed over as an fd). An installation made with the old,
# world-readable modes is put right when unikd starts.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

S=$T/state
# as a local user with no business in unikd's state
as_user() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}
modes() {
	local p
	for p in "$S" "$S/vms" "$S/images" "$S/images/sha256" \
	    "$S/images/names" "$S/unikd.db" "$S/unikd.db-wal" \
	    "$S/unikd.db-shm"; do
		printf '%s %s\n' "${p#"$T/"}" "$(stat -c %a "$p")"
	done
}
want="state 700
state/vms 700
state/images 700
state/images/sha256 700
state/images/names 700
state/unikd.db 600
state/unikd.db-wal 600
state/unikd.db-shm 600"

check_private() {	# WHEN
	assert_eq "$(modes)" "$want" "modes $1"
	as_user cat "$S/unikd.db" >/dev/null 2>&1 &&
	    fail "$1: nobody reads unikd.db"
	as_user cat "$S/unikd.db-wal" >/dev/null 2>&1 &&
	    fail "$1: nobody reads unikd.db-wal"
	as_user ls "$S" >/dev/null 2>&1 && fail "$1: nobody lists $S"
	as_user cat "$S/vms/p1/console.log" >/dev/null 2>&1 &&
	    fail "$1: nobody reads p1's console log"
	as_user ls "$S/images/sha256" >/dev/null 2>&1 &&
	    fail "$1: nobody lists the images"
	return 0
}

# The test tree starts 0755 like an old installation's.
start_unikd
uk image push img1 "$IMG" >/dev/null || fail "image push"
run_vm p1 --image img1 -- --print-every=100
wait_state p1 running
assert_contains "$(uk logs p1)" "testguest: booting image /dev/fd/97 (file $S/images/sha256/" \
    "p1 console (the tender boots the image unikd opened for it)"
check_private "after the first start"

info "an old installation: world-readable state"
stop_unikd
chmod 0755 "$S" "$S/vms" "$S/images" "$S/images/sha256" "$S/images/names"
chmod 0644 "$S"/unikd.db*
chmod 0644 "$S/vms/p1/console.log"
as_user cat "$S/unikd.db" >/dev/null 2>&1 ||
    fail "nobody cannot read the loosened unikd.db (the test is wrong)"
start_unikd
check_private "after a restart over the old modes"
grep -q 'path=.*unikd.db action=chmod mode=0600 was=0644' "$T/unikd.log" ||
    fail "unikd did not log that it fixed unikd.db"

info "a new VM still starts from a pushed image"
run_vm p2 --image img1 -- --print-every=100
wait_state p2 running
uk rm -f p1 p2 >/dev/null || fail "rm -f p1 p2"
info "ok"
