#!/bin/bash
# A kill -9 between a change of the host and its record: unikd is started
# with UNIKD_FAULT=STEP (a test-only hook that makes it SIGKILL itself at
# that step), made to do the request, and started again without it. After
# each step nothing is leaked or left half made: a network's bridge, NAT
# chains and ip_forward are undone (or its removal finished), and the name
# can be made again as unikd's own (not "adopted"); a block is gone with
# its file or whole; an image leaves no temporary or orphan file, and one
# recorded before its name was linked is linked.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_cmd nft nftables
need_cmd curl curl
unikd_netns uk-crash-$$
ip netns exec "$NS" sh -c 'echo 0 >/proc/sys/net/ipv4/ip_forward' ||
    fail "cannot set ip_forward in $NS"
fwd() {
	ip netns exec "$NS" cat /proc/sys/net/ipv4/ip_forward
}
nft_has() {	# WORD: the table inet unikd mentions WORD
	ip netns exec "$NS" nft list table inet unikd 2>/dev/null | grep -qw "$1"
}
status() {	# METHOD PATH [CURL ARGS...]: the HTTP status ("000": none)
	local m=$1 p=$2
	shift 2
	curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -X "$m" \
	    "$@" "http://unikd$p"
}

# crash_at STEP METHOD PATH [CURL ARGS...]: the request kills unikd at
# STEP (it gets no answer); then unikd is started again, without the hook.
crash_at() {
	local step=$1 code
	shift
	info "kill -9 at $step"
	export UNIKD_FAULT=$step
	start_unikd
	unset UNIKD_FAULT
	code=$(status "$@")
	[ "$code" = 000 ] || fail "$step: the request was answered ($code)"
	wait_unikd_exit 10 || fail "$step: unikd did not die"
	grep -q "action=fault step=$step" "$T/unikd.log" ||
	    fail "$step: unikd did not reach the step"
	start_unikd
}

NET='{"name":"n","subnet":"10.66.0.0/24","nat":true}'
# After a network create cut short: nothing of it, and it can be made.
net_undone() {
	has_link uk-n && fail "$1: bridge uk-n leaked"
	nft_has nat-n && fail "$1: NAT chain nat-n leaked"
	assert_eq "$(fwd)" 0 "$1: ip_forward"
	assert_eq "$(status GET /v1/networks/n)" 404 "$1: GET of network n"
	assert_eq "$(uk --json info | jget 'd["ip_forward"]["before_unikd"]')" \
	    null "$1: before_unikd"
	uk net create n --subnet 10.66.0.0/24 --nat >/dev/null ||
	    fail "$1: net create n again"
	assert_eq "$(uk --json net inspect n | jget 'd["adopted"]')" false \
	    "$1: adopted of the network made again"
	uk net rm n >/dev/null || fail "$1: net rm n"
	has_link uk-n && fail "$1: net rm n left uk-n"
	assert_eq "$(fwd)" 0 "$1: ip_forward after net rm"
	stop_unikd
}

for step in net-create-intent net-forward-recorded net-create-bridge \
    net-create-nat; do
	crash_at "$step" POST /v1/networks -d "$NET"
	net_undone "$step"
done

info "a network removal cut short is finished at start"
start_unikd
uk net create n --subnet 10.66.0.0/24 --nat >/dev/null || fail "net create n"
stop_unikd
crash_at net-remove-intent DELETE /v1/networks/n
has_link uk-n && fail "net-remove-intent: bridge uk-n left"
nft_has nat-n && fail "net-remove-intent: NAT chain nat-n left"
assert_eq "$(fwd)" 0 "net-remove-intent: ip_forward"
assert_eq "$(status GET /v1/networks/n)" 404 "net-remove-intent: GET"
stop_unikd

for step in block-create-intent block-create-file; do
	crash_at "$step" POST /v1/blocks -d '{"name":"b","size":"1M"}'
	assert_eq "$(status GET /v1/blocks/b)" 404 "$step: GET of block b"
	[ -e "$T/state/blocks/b.img" ] && fail "$step: b.img leaked"
	uk block create b 1M >/dev/null || fail "$step: block create b again"
	assert_eq "$(uk --json block inspect b | jget 'd["size"]')" 1048576 \
	    "$step: size of b made again"
	uk block rm b >/dev/null || fail "$step: block rm b"
	stop_unikd
done

printf 'image bytes %s\n' "$$" >"$T/img"
images_clean() {	# STEP: no temporary file left, no file without a row
	local left
	left=$(find "$T/state/images" -name '.push-*' -o -name '*.tmp')
	[ -z "$left" ] || fail "$1: left behind: $left"
}
for step in image-push-tmp image-push-stored; do
	crash_at "$step" PUT /v1/images/i --data-binary "@$T/img"
	images_clean "$step"
	assert_eq "$(status GET /v1/images/i)" 404 "$step: GET of image i"
	left=$(find "$T/state/images/sha256" -type f 2>/dev/null)
	[ -z "$left" ] || fail "$step: orphan image file: $left"
	stop_unikd
done
crash_at image-push-recorded PUT /v1/images/i --data-binary "@$T/img"
images_clean image-push-recorded
assert_eq "$(status GET /v1/images/i)" 200 "image-push-recorded: GET"
[ -L "$T/state/images/names/i" ] || fail "image-push-recorded: no name link"
cmp -s "$T/state/images/names/i" "$T/img" ||
    fail "image-push-recorded: the linked file is not the image"
uk image rm i >/dev/null || fail "image rm i"
exit 0
