#!/bin/bash
# Blocks and images, end to end with the real daemon, monitors and the
# test guest (which counts its boots in the first sector of its block):
# data persists across runs and clones and the file stays sparse; a block
# is held by one running VM at a time, and is free again once its tender
# is gone, whoever killed it (kill -9 of the tender; kill -9 of unikd
# keeps the VM and so the lock); export and import give the same sha256,
# an import cut off resumes; an image pushed twice is one file and a VM
# runs from its name; bad requests get a clear 4xx and change nothing.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

cat >>"$CONF" <<EOF

[limits]
max_block_size = 1G
max_body_size = 8M
EOF
start_unikd
BLOCKS=$T/state/blocks

# api METHOD PATH [curl args...]: sets STATUS and RESP (the body).
api() {
	local m=$1 p=$2
	shift 2
	STATUS=$(curl -sS --max-time 20 --unix-socket "$SOCK" -X "$m" \
	    -o "$T/resp" -w '%{http_code}' "$@" "http://localhost$p") ||
	    fail "curl $m $p failed"
	RESP=$(cat "$T/resp")
}

# expect WHAT STATUS WORD METHOD PATH [curl args...]
expect() {
	local what=$1 want=$2 word=$3 msg
	shift 3
	api "$@"
	[ "$STATUS" = "$want" ] ||
	    fail "$what: status $STATUS, expected $want; body: $RESP"
	msg=$(printf '%s' "$RESP" | jget 'd["error"]["message"]') ||
	    fail "$what: no error message in: $RESP"
	assert_contains "${msg,,}" "${word,,}" "$what: message"
	info "$what: $STATUS $msg"
}

# The boot count the guest keeps in a block file (0 without its magic).
boot_count() {
	"$PY" -c '
import struct, sys
with open(sys.argv[1], "rb") as f:
    rec = f.read(16)
print(struct.unpack("<Q", rec[:8])[0] if rec[8:16] == b"UNIKBOOT" else 0)
' "$1"
}

boots() {	# VM: the boot counts on its console, space-separated
	uk logs "$1" | sed -n 's/.*boot count \([0-9]*\).*/\1/p' | tr '\n' ' '
}

run_once() {	# VM: start it and wait for its exit
	uk start "$1" >/dev/null || fail "start $1"
	timeout 10 "$top_builddir/unikctl" -s "$SOCK" wait "$1" >/dev/null ||
	    fail "wait $1"
}

info "a 64M block, a VM run three times on it"
uk block create d1 64M >/dev/null || fail "block create d1"
assert_eq "$(stat -c '%s %U %a' "$BLOCKS/d1.img")" "67108864 nobody 600" \
    "size, owner and mode of d1.img"
uk create --name v1 --tender solo5-spt --image "$IMG" --block storage=d1 \
    -- --exit-after=0.2 >/dev/null || fail "create v1"
for i in 1 2 3; do
	run_once v1
done
assert_eq "$(boots v1)" "1 2 3 " "boot counts of v1"
alloc=$(($(stat -c '%b' "$BLOCKS/d1.img") * 512))
info "d1.img: 64 MiB, $alloc bytes allocated"
((alloc <= 1048576)) || fail "d1.img is not sparse: $alloc bytes allocated"
out=$(uk --json block inspect d1)
assert_eq "$(echo "$out" | jget 'd["used_by"]')" '["v1"]' "d1 used_by"
assert_eq "$(echo "$out" | jget 'd["attached_to"]')" null "d1 attached_to"

info "a clone continues from the clone's count; the original is unchanged"
uk block clone d1 d2 >/dev/null || fail "block clone d1 d2"
run_vm v2 --block storage=d2 -- --exit-after=0.2
timeout 10 "$top_builddir/unikctl" -s "$SOCK" wait v2 >/dev/null ||
    fail "wait v2"
assert_eq "$(boots v2)" "4 " "boot count of v2 on the clone"
assert_eq "$(boot_count "$BLOCKS/d1.img")" 3 "count on d1 after v2 ran"
assert_eq "$(boot_count "$BLOCKS/d2.img")" 4 "count on d2"

info "one running VM holds a block; a second start gets 409 naming it"
run_vm h1 --block storage=d1 -- --print-every=200
wait_state h1 running
assert_eq "$(uk --json block inspect d1 | jget 'd["attached_to"]')" h1 \
    "d1 attached_to while h1 runs"
uk create --name h2 --tender solo5-spt --image "$IMG" --block data=d1 \
    -- --print-every=200 >/dev/null || fail "create h2"
expect "start of a second VM on d1" 409 "block 'd1' is attached to vm 'h1'" \
    POST /v1/vms/h2/start
assert_eq "$(vm_field h2 state)" created "h2 state after the refused start"
expect "resize of an attached block" 409 "attached to vm 'h1'" \
    POST /v1/blocks/d1/resize -d '{"size": "128M"}'
expect "delete of an attached block" 409 "attached to vm 'h1'" \
    DELETE /v1/blocks/d1
expect "import into an attached block" 409 "attached to vm 'h1'" \
    PUT /v1/blocks/d1/data --data-binary @"$IMG"
expect "clone of an attached block" 409 "attached to vm 'h1'" \
    POST /v1/blocks/d1/clone -d '{"name": "d9"}'
assert_eq "$(stat -c '%s' "$BLOCKS/d1.img")" 67108864 "d1 size after refusals"
[ -e "$BLOCKS/d9.img" ] && fail "a refused clone left d9.img"

info "kill -9 of h1's tender frees the block"
kill -9 "$(vm_field h1 pid)"
wait_state h1 exited
uk start h2 >/dev/null || fail "start h2 after h1's tender was killed"
wait_state h2 running
assert_contains "$(uk logs h2)" "boot count 5" "h2 console"

info "kill -9 of unikd: h2 runs on and keeps the lock"
kill9_unikd
start_unikd
assert_eq "$(vm_field h2 state)" running "h2 after unikd's restart"
expect "start of h1 while h2 holds d1" 409 "attached to vm 'h2'" \
    POST /v1/vms/h1/start
uk stop h2 >/dev/null || fail "stop h2"
wait_state h2 exited
uk start h1 >/dev/null || fail "start h1 once h2 stopped"
wait_state h1 running
uk stop h1 >/dev/null
wait_state h1 exited

info "export, then import into a new block: the same sha256"
exp=$(uk block export d1 "$T/d1.raw") || fail "block export d1"
assert_eq "$(stat -c %s "$T/d1.raw")" 67108864 "size of the export"
want=$(sha256sum "$T/d1.raw" | cut -d' ' -f1)
assert_contains "$exp" "sha256 $want" "export's sha256"
uk block create d3 64M >/dev/null || fail "block create d3"
imp=$(uk block import d3 "$T/d1.raw") || fail "block import d3"
assert_contains "$imp" "sha256 $want" "import's sha256"
assert_eq "$(boot_count "$BLOCKS/d3.img")" "$(boot_count "$BLOCKS/d1.img")" \
    "boot count on the imported block"
cmp -s "$BLOCKS/d1.img" "$BLOCKS/d3.img" || fail "d3.img differs from d1.img"

info "an import cut off after its first piece resumes there"
head -c 12582912 /dev/urandom >"$T/rand.raw"
want=$(sha256sum "$T/rand.raw" | cut -d' ' -f1)
uk block create d4 16M >/dev/null || fail "block create d4"
head -c 4194304 "$T/rand.raw" >"$T/piece"
api PUT /v1/blocks/d4/data -H 'Content-Range: bytes 0-4194303/12582912' \
    --data-binary @"$T/piece"
assert_eq "$STATUS" 200 "status of the first piece ($RESP)"
assert_eq "$(uk --json block inspect d4 | jget 'd["import"]["next_offset"]')" \
    4194304 "d4's next_offset after one piece"
imp=$(uk block import d4 "$T/rand.raw" 2>"$T/err") || fail "resumed import"
assert_contains "$(cat "$T/err")" "resuming the import of 'd4' at byte 4194304" \
    "unikctl's note"
assert_contains "$imp" "sha256 $want" "sha256 of the resumed import"
assert_eq "$(uk --json block inspect d4 | jget 'd["import"]')" null \
    "d4's import record once complete"
cmp -s -n 12582912 "$T/rand.raw" "$BLOCKS/d4.img" || fail "d4.img content"

info "an image pushed twice is stored once; a VM runs from its name"
printf 'an image by name\n' >"$T/hello.img"
uk image push hello "$T/hello.img" >/dev/null || fail "image push hello"
uk image push hello2 "$T/hello.img" >/dev/null || fail "image push hello2"
uk image push hello "$T/hello.img" >/dev/null || fail "push again, same bytes"
assert_eq "$(ls "$T/state/images/sha256" | wc -l)" 1 "files in the image store"
digest=$(sha256sum "$T/hello.img" | cut -d' ' -f1)
assert_eq "$(uk --json image inspect hello2 | jget 'd["digest"]')" "$digest" \
    "digest of hello2"
uk run --name img1 --tender solo5-spt --image hello -- --exit-after=0.2 \
    >/dev/null || fail "run from image name"
timeout 10 "$top_builddir/unikctl" -s "$SOCK" wait img1 >/dev/null ||
    fail "wait img1"
assert_contains "$(uk logs img1)" "booting image /dev/fd/97 (file $T/state/images/sha256/$digest)" \
    "img1 console"
assert_eq "$(vm_field img1 image)" hello "img1's image"
expect "remove of an image in use" 409 "used by vm 'img1'" \
    DELETE /v1/images/hello
printf 'other bytes\n' >"$T/other.img"
expect "push of other bytes under a taken name" 409 "already exists" \
    PUT /v1/images/hello --data-binary @"$T/other.img"
uk rm img1 >/dev/null || fail "rm img1"
uk image rm hello >/dev/null || fail "image rm hello"
assert_eq "$(ls "$T/state/images/sha256" | wc -l)" 1 "store after rm hello"
uk image rm hello2 >/dev/null || fail "image rm hello2"
assert_eq "$(ls "$T/state/images/sha256" | wc -l)" 0 "store after rm hello2"

info "bad input: a clear 4xx each, nothing changed on disk"
before=$(ls -l "$BLOCKS"; uk --json block ls)
expect "size 0" 400 "size" POST /v1/blocks -d '{"name": "b1", "size": 0}'
expect "negative size" 400 "size" POST /v1/blocks -d '{"name": "b1", "size": -512}'
expect "size \"-1G\"" 400 "size" POST /v1/blocks -d '{"name": "b1", "size": "-1G"}'
expect "size not a number" 400 "'abc'" POST /v1/blocks -d '{"name": "b1", "size": "abc"}'
expect "size not in sectors" 400 "multiple of 512" \
    POST /v1/blocks -d '{"name": "b1", "size": 1000}'
expect "size over max_block_size" 422 "max_block_size" \
    POST /v1/blocks -d '{"name": "b1", "size": "2G"}'
expect "name with a slash" 400 "not valid" \
    POST /v1/blocks -d '{"name": "a/b", "size": "1M"}'
expect "name '..'" 400 "not valid" POST /v1/blocks -d '{"name": "..", "size": "1M"}'
expect "unknown field" 400 "unknown field 'sise'" \
    POST /v1/blocks -d '{"name": "b1", "sise": "1M"}'
expect "duplicate block" 409 "already exists" \
    POST /v1/blocks -d '{"name": "d1", "size": "1M"}'
expect "block path with .." 400 "not valid" GET /v1/blocks/..%2Fd1
expect "shrink without force" 422 "force" \
    POST /v1/blocks/d1/resize -d '{"size": "1M"}'
head -c 70000000 /dev/zero >"$T/big.raw"
expect "import of more bytes than the block holds" 413 "exceeds block size" \
    PUT /v1/blocks/d1/data -H 'Content-Range: bytes 0-4194303/70000000' \
    --data-binary @"$T/piece"
uk block import d1 "$T/big.raw" 2>"$T/err" && fail "oversized import succeeded"
assert_contains "$(cat "$T/err")" "exceeds block size" "unikctl's error"
expect "delete of a block VM definitions use" 409 "used by vm 'h1', 'h2', 'v1'" \
    DELETE /v1/blocks/d1
expect "a VM on a missing block" 422 "block 'nope' does not exist" \
    POST /v1/vms -d "{\"name\": \"b2\", \"tender\": \"solo5-spt\", \"image\": \"$IMG\", \"blocks\": [{\"name\": \"storage\", \"block\": \"nope\"}]}"
expect "a block device name that is not alphanumeric" 400 "blocks[0].name" \
    POST /v1/vms -d "{\"name\": \"b2\", \"tender\": \"solo5-spt\", \"image\": \"$IMG\", \"blocks\": [{\"name\": \"st-1\", \"block\": \"d1\"}]}"
expect "an image path outside image_dirs" 422 "outside the image directories" \
    POST /v1/vms -d '{"name": "b2", "tender": "solo5-spt", "image": "/etc/passwd"}'
expect "a missing image" 422 "'ghost' is neither a stored image" \
    POST /v1/vms -d '{"name": "b2", "tender": "solo5-spt", "image": "ghost"}'
expect "an image name with '..'" 400 "image" \
    POST /v1/vms -d '{"name": "b2", "tender": "solo5-spt", "image": ".."}'
expect "an empty image" 400 "empty" PUT /v1/images/empty --data-binary ''
after=$(ls -l "$BLOCKS"; uk --json block ls)
assert_eq "$after" "$before" "blocks after the bad requests"
assert_eq "$(boot_count "$BLOCKS/d1.img")" 6 "d1's count after the refusals"
[ -e "$T/state/images/names/empty" ] && fail "a refused push left a name"

info "remove: the block's file goes with it"
uk rm v1 h1 h2 >/dev/null || fail "rm v1 h1 h2"
uk block rm d1 >/dev/null || fail "block rm d1"
[ -e "$BLOCKS/d1.img" ] && fail "d1.img is still there"
expect "inspect of a removed block" 404 "does not exist" GET /v1/blocks/d1
echo "PASS: blocks"
