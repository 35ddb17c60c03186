#!/bin/bash
# A full disk under the state store (docs/design.md "Durability"): the
# commit of a create fails, so its reply is a 500 that says the change
# was not recorded, never a 201; unikd exits with status 1, and once
# there is room again the restarted unikd has the VMs made before and
# not the one refused. The state dir is a small tmpfs mounted for the
# test and filled with a file.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

mount -t tmpfs -o size=16m,mode=0700 uk-store-full "$T/state" ||
	fail "cannot mount a tmpfs on $T/state"
CLEANUP_HOOKS+=("umount -l '$T/state'")

vm_def() {
	printf '{"name":"%s","tender":"solo5-spt","image":"%s"}' "$1" "$IMG"
}

start_unikd
api POST /v1/vms "$(vm_def before)"
assert_eq "$STATUS" 201 "create before the disk is full"

info "the state store's file system is full"
dd if=/dev/zero of="$T/state/filler" bs=64k 2>/dev/null
api POST /v1/vms "$(vm_def refused)"
assert_eq "$STATUS" 500 "create on a full disk ($RESP)"
assert_contains "$RESP" "the change was not recorded" "the 500's message"
wait_unikd_exit 5 || fail "unikd still runs after a failed commit"
assert_eq "$UNIKD_RC" 1 "unikd's exit status after a failed commit"
echo "ok 1 - a create whose commit fails is a 500, and unikd exits"

rm -f "$T/state/filler"
start_unikd
assert_eq "$(vm_field before state)" created "the VM made before"
api GET /v1/vms/refused
assert_eq "$STATUS" 404 "the VM refused on a full disk"
echo "ok 2 - restarted with room, the store has what was answered 201"
