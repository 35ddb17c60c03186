#!/bin/bash
# `unikd -n -f FILE` checks a config file: "configuration OK" and 0 for a
# good one; every problem as FILE:LINE: and 1 for a bad one; a message
# naming the file and 1 for a missing one. Needs no root: -n starts
# nothing.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$PWD}"
UNIKD=$top_builddir/unikd
if [ ! -x "$UNIKD" ]; then
	echo "FAIL: $UNIKD is not built" >&2
	exit 99
fi

T=$(mktemp -d /tmp/uk-conf.XXXXXX)
trap 'rm -rf "$T"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# check FILE: runs unikd -n -f FILE; sets $rc, $out (stdout), $err.
check() {
	rc=0
	"$UNIKD" -n -f "$1" >"$T/out" 2>"$T/err" || rc=$?
	out=$(cat "$T/out")
	err=$(cat "$T/err")
	echo "# unikd -n -f $1: exit $rc"
	[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/#   stdout: /'
	[ -z "$err" ] || printf '%s\n' "$err" | sed 's/^/#   stderr: /'
}

# Users and groups that exist on any host: -n also checks them.
group_of_root=$(id -gn root)
nobody_group=$(id -gn nobody)

echo "# a good file, with inline comments and every section"
good=$T/good.conf
cat >"$good" <<CONF
; a good configuration
[unikd]
socket      = $T/unikd.sock
state_dir   = $T/state
run_dir     = $T/run            ; short enough for the monitors' sockets
admin_group = $group_of_root
tender_user = nobody            ; uid/gid the tenders run as
tender_group = $nobody_group
image_dirs  = $T/images:/srv/unikernels   ; where image paths may point
log_level   = debug
monitor     = $top_builddir/unikd-monitor

[tender.solo5-spt]              ; one section per driver: [tender.DRIVER]
path = /usr/lib/solo5/solo5-spt

[limits]
max_vms = 4096
max_block_size = 1T
max_body_size = 16M
max_memory = 2G

[vm]
stop_timeout = 3
restart_backoff = 100
restart_backoff_max = 400
restart_max_retries = 2

[console]
max_size = 64K
files = 2

[events]
max_count = 1000
CONF
check "$good"
[ "$rc" = 0 ] || fail "good file: exit $rc, expected 0"
[ "$out" = "configuration OK" ] ||
	fail "good file: stdout '$out', expected 'configuration OK'"
[ -z "$err" ] || fail "good file: unexpected stderr: $err"
[ ! -e "$T/state" ] && [ ! -e "$T/run" ] && [ ! -e "$T/unikd.sock" ] ||
	fail "unikd -n created files"

echo "# an unknown key on line 3 and a bad value on line 5"
bad=$T/bad.conf
cat >"$bad" <<CONF
[unikd]
log_level = info
colour = blue
[limits]
max_vms = abc
CONF
check "$bad"
[ "$rc" = 1 ] || fail "bad file: exit $rc, expected 1"
case "$out" in
*"configuration OK"*) fail "bad file: said 'configuration OK'" ;;
esac
grep -q "^$bad:3: .*colour" "$T/err" ||
	fail "bad file: no '$bad:3:' line naming 'colour'"
grep -q "^$bad:5: .*max_vms.*abc" "$T/err" ||
	fail "bad file: no '$bad:5:' line naming max_vms and 'abc'"
[ "$(grep -c "^$bad:[0-9]*: " "$T/err")" = 2 ] ||
	fail "bad file: expected exactly 2 problems"

echo "# a missing file named with -f"
missing=$T/does-not-exist.conf
check "$missing"
[ "$rc" = 1 ] || fail "missing file: exit $rc, expected 1"
case "$err" in
*"$missing"*) ;;
*) fail "missing file: stderr does not name $missing: $err" ;;
esac
case "$out" in
*"configuration OK"*) fail "missing file: said 'configuration OK'" ;;
esac

echo "PASS"
