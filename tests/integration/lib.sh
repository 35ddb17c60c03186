# Shared helpers for the integration tests, sourced by each test (bash).
#
# Each test gets a throwaway tree $T (mktemp -d /tmp/uk.XXXXXX) with
# state/, run/, images/test.img and a config file $CONF; it starts the real
# unikd, unikd-monitor and the test guest (as tender) from $top_builddir,
# and an EXIT trap kills every process it left under $T and removes $T, in
# every path. Not root: exit 77 (automake's "skip").
#
# Environment: top_srcdir, top_builddir (set by `make check`; default to
# this file's tree and the current directory).

set -u

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: $(basename "$0") needs root (it runs unikd)"
	exit 77
fi

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$PWD}"
top_builddir=$(cd "$top_builddir" && pwd)
export top_srcdir top_builddir

for _b in unikd unikd-monitor unikctl unik-testguest; do
	if [ ! -x "$top_builddir/$_b" ]; then
		echo "FAIL: $top_builddir/$_b is not built" >&2
		exit 99
	fi
done

# python3 reads the JSON (no test installs anything); resolve the real
# interpreter once so pyenv's shim is not paid on every call.
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || {
	echo "FAIL: python3 is needed to read JSON" >&2
	exit 99
}

T=$(mktemp -d /tmp/uk.XXXXXX) || exit 99
# The tender runs as nobody and must read the image.
chmod 0755 "$T"
mkdir -m 0755 "$T/state" "$T/run" "$T/images"
IMG=$T/images/test.img
printf 'not really an ELF file\n' >"$IMG"
chmod 0644 "$IMG"
SOCK=$T/run/unikd.sock
CONF=$T/unikd.conf
UNIKD_PID=
UNIKD_MOUNT_TUN=
CLEANUP_HOOKS=()

# The config every test starts from; a test may append sections that are
# not already here ([limits], [console], [events]) before start_unikd.
write_conf() {
	cat >"$CONF" <<EOF
[unikd]
socket = $SOCK
state_dir = $T/state
run_dir = $T/run
admin_group = ${ADMIN_GROUP:-root}
tender_user = nobody
tender_group = nogroup
image_dirs = $T/images
monitor = $top_builddir/unikd-monitor
log_level = debug

[tender.solo5-spt]
path = $top_builddir/unik-testguest

[vm]
restart_backoff = 100
restart_backoff_max = 400
stop_timeout = 3
EOF
}
write_conf

# Pids of every process that is about $T: its command line names a path
# under $T (tenders, unikd) or it holds a file under $T open (monitors and
# their console logs). Never this shell or its parents.
procs_under_t() {
	local p self=$$ link
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" = "$self" ] && continue
		[ "$p" = "${BASHPID:-}" ] && continue
		if grep -qaF "$T/" "/proc/$p/cmdline" 2>/dev/null; then
			echo "$p"
			continue
		fi
		for link in /proc/"$p"/fd/*; do
			case "$(readlink "$link" 2>/dev/null)" in
			"$T"/*) echo "$p"; break ;;
			esac
		done
	done
}

cleanup() {
	local rc=$? p n hook
	trap - EXIT
	set +e
	if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ -f "$T/unikd.log" ]; then
		echo "--- last lines of unikd.log ---" >&2
		tail -n 40 "$T/unikd.log" >&2
	fi
	# (in braces so that bash does not report the job as "Killed")
	[ -n "$UNIKD_PID" ] && { kill -9 "$UNIKD_PID"; wait "$UNIKD_PID"; } 2>/dev/null
	for n in 1 2 3; do
		p=$(procs_under_t)
		[ -z "$p" ] && break
		kill -9 $p 2>/dev/null
		sleep 0.1
	done
	for hook in "${CLEANUP_HOOKS[@]+"${CLEANUP_HOOKS[@]}"}"; do
		eval "$hook"
	done
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# need_cmd PROG WHAT: skips the test (77) when PROG is not installed;
# WHAT says what to install.
need_cmd() {
	command -v "$1" >/dev/null && return 0
	echo "SKIP: $1 is needed ($2)"
	exit 77
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

info() {
	echo "# $*"
}

assert_eq() {	# GOT WANT [WHAT]
	[ "$1" = "$2" ] || fail "${3:-value}: expected '$2', got '$1'"
}

assert_contains() {	# HAYSTACK NEEDLE [WHAT]
	case "$1" in
	*"$2"*) ;;
	*) fail "${3:-output}: expected to contain '$2', got: $1" ;;
	esac
}

assert_not_contains() {	# HAYSTACK NEEDLE [WHAT]
	case "$1" in
	*"$2"*) fail "${3:-output}: must not contain '$2', got: $1" ;;
	esac
}

# The CLI against this test's daemon.
uk() {
	"$top_builddir/unikctl" -s "$SOCK" "$@"
}

# api METHOD PATH [BODY]: a request on the raw API (curl); sets STATUS
# and RESP (the response body). Some tests have an api() of their own.
api() {
	local body=${3-}
	printf '%s' "$body" >"$T/req"
	STATUS=$(curl -sS --max-time 10 --unix-socket "$SOCK" -X "$1" \
	    -H 'Content-Type: application/json' --data-binary @"$T/req" \
	    -o "$T/resp" -w '%{http_code}' "http://localhost$2") ||
	    fail "curl $1 $2 failed"
	RESP=$(cat "$T/resp")
}

# jget EXPR: reads one JSON document on stdin as d and prints the Python
# expression EXPR of it: strings bare, None as null, the rest as JSON.
jget() {
	"$PY" -c '
import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1])
if isinstance(v, str): print(v)
elif v is None: print("null")
else: print(json.dumps(v))
' "$1"
}

# jlines EXPR: like jget for each JSON object of an NDJSON stream (or of
# a JSON array, or of {"events": [...]}) as e; one output line per event.
jlines() {
	"$PY" -c '
import json, sys
text = sys.stdin.read()
try:
    doc = json.loads(text)
    items = doc.get("events", doc.get("vms", [])) if isinstance(doc, dict) \
        else doc
    if isinstance(doc, dict) and "events" not in doc and "vms" not in doc:
        items = [doc]
except ValueError:
    items = [json.loads(l) for l in text.splitlines() if l.strip()]
for e in items:
    v = eval(sys.argv[1])
    if v is None: continue
    print(v if isinstance(v, str) else json.dumps(v))
' "$1"
}

# vm_get VM EXPR: a field of `unikctl --json inspect VM`, e.g. 'd["pid"]'.
vm_get() {
	local out
	out=$(uk --json inspect "$1" 2>/dev/null) || return 1
	printf '%s' "$out" | jget "$2"
}

vm_field() {	# VM FIELD
	vm_get "$1" "d.get('$2')"
}

# wait_state VM STATE [TIMEOUT_S]: polls inspect until the VM is in STATE.
wait_state() {
	local vm=$1 want=$2 t=${3:-10} i got=
	for ((i = 0; i < t * 10; i++)); do
		got=$(vm_field "$vm" state)
		[ "$got" = "$want" ] && return 0
		sleep 0.1
	done
	fail "vm $vm: state '$got' after ${t}s, expected '$want'"
}

# wait_for TIMEOUT_S WHAT CMD...: polls until CMD succeeds.
wait_for() {
	local t=$1 what=$2 i
	shift 2
	for ((i = 0; i < t * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	fail "timed out after ${t}s waiting for $what"
}

# The tender (nobody) opens its TAP through /dev/net/tun, which is 0666
# on a stock system; some containers make it 0600: open it up for the
# test and put the mode back in cleanup.
tun_open_to_tender() {
	mkdir -p "$TUN_USERS" || fail "cannot make $TUN_USERS"
	(
		flock 9
		[ -e "$TUN_USERS/mode" ] ||
			stat -c %a /dev/net/tun >"$TUN_USERS/mode" || exit 1
		touch "$TUN_USERS/user.$$" && chmod 0666 /dev/net/tun
	) 9>"$TUN_USERS/lock" || fail "cannot open /dev/net/tun to the tender user"
	CLEANUP_HOOKS+=("tun_release")
}

# tun_private MODE: unikd (and so its tenders) will see /dev/net/tun as
# a node of the same device with MODE, made in $T and bound over the
# path in a mount namespace of its own: the host's node, which tests
# running in parallel share, is never touched. chmod "$T/tun" changes it.
tun_private() {
	mknod -m "$1" "$T/tun" c 10 200 || fail "cannot make $T/tun"
	UNIKD_MOUNT_TUN=$T/tun
}

# Tests running in parallel share the change: the last one out puts the
# old mode back.
TUN_USERS=/run/unikd-tests-tun
tun_release() {
	(
		flock 9
		rm -f "$TUN_USERS/user.$$"
		if ! compgen -G "$TUN_USERS/user.*" >/dev/null &&
		    [ -e "$TUN_USERS/mode" ]; then
			chmod "$(cat "$TUN_USERS/mode")" /dev/net/tun
			rm -f "$TUN_USERS/mode"
		fi
	) 9>"$TUN_USERS/lock"
}

# netns_add NAME: makes network namespace NAME, deleted in cleanup.
netns_add() {
	ip netns add "$1" || fail "cannot make network namespace $1"
	CLEANUP_HOOKS+=("ip netns del $1 2>/dev/null")
}

# unikd_netns NAME: makes namespace NAME as $NS, where unikd will run
# (UNIKD_NETNS) and where nsip, has_link and link_field look.
unikd_netns() {
	NS=$1
	netns_add "$NS"
	UNIKD_NETNS=$NS
}
nsip() {
	ip -n "$NS" "$@"
}
has_link() {
	nsip link show dev "$1" >/dev/null 2>&1
}
# link_field LINK EXPR: from `ip -j -d link show` in $NS, d being the link.
link_field() {
	nsip -j -d link show dev "$1" | jget "(lambda d: $2)(d[0])"
}

# UNIKD_NETNS=NS runs unikd in network namespace NS (`ip netns exec`
# execs it: $UNIKD_PID is unikd's pid), so its bridges, TAPs and NAT
# stay there; the socket is a file, so unikctl works from here. With
# UNIKD_NSENTER=1 it is `nsenter --net` instead, which leaves /sys (and
# the cgroup hierarchies under it) as they are, where `ip netns exec`
# mounts a /sys of its own.
# UNIKD_WRAP (words) runs before unikd and must exec it, e.g.
# "prlimit --nofile=128 --".
start_unikd() {
	local i enter=()
	echo "=== start unikd $(date +%T.%N)" >>"$T/unikd.log"
	if [ -n "${UNIKD_NETNS:-}" ] && [ -n "${UNIKD_NSENTER:-}" ]; then
		enter=(nsenter "--net=/run/netns/$UNIKD_NETNS")
	elif [ -n "${UNIKD_NETNS:-}" ]; then
		enter=(ip netns exec "$UNIKD_NETNS")
	fi
	${UNIKD_MOUNT_TUN:+unshare -m --propagation private sh -c \
	    'mount --bind "$0" /dev/net/tun && exec "$@"' "$UNIKD_MOUNT_TUN"} \
	"${enter[@]}" ${UNIKD_WRAP:-} "$top_builddir/unikd" -d -f "$CONF" \
	    >>"$T/unikd.log" 2>&1 &
	UNIKD_PID=$!
	for ((i = 0; i < 100; i++)); do
		uk info >/dev/null 2>&1 && return 0
		kill -0 "$UNIKD_PID" 2>/dev/null || {
			wait "$UNIKD_PID"
			fail "unikd exited with status $? at start"
		}
		sleep 0.1
	done
	fail "unikd did not answer within 10s"
}

# wait_unikd_exit SECONDS: waits for unikd to end, then sets UNIKD_RC
# to its exit status; false when it still runs after SECONDS.
wait_unikd_exit() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		kill -0 "$UNIKD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$UNIKD_PID" 2>/dev/null && return 1
	wait "$UNIKD_PID" 2>/dev/null
	UNIKD_RC=$?
	UNIKD_PID=
}

# Graceful stop (SIGTERM): VMs keep running under their monitors.
stop_unikd() {
	kill -TERM "$UNIKD_PID" 2>/dev/null || fail "unikd is not running"
	wait_unikd_exit 10 || fail "unikd ignored SIGTERM for 10s"
	[ "$UNIKD_RC" = 0 ] || fail "unikd exited with status $UNIKD_RC on SIGTERM"
}

kill9_unikd() {
	kill -9 "$UNIKD_PID" 2>/dev/null || fail "unikd is not running"
	wait "$UNIKD_PID" 2>/dev/null
	UNIKD_PID=
}

# run_vm NAME [unikctl run options...] -- GUEST ARGS: runs a test guest,
# without run's settle wait (tests watch the states themselves).
run_vm() {
	local name=$1
	shift
	uk run --name "$name" --tender solo5-spt --image "$IMG" --settle 0 "$@" \
	    >/dev/null || fail "unikctl run $name failed"
}

# The parent's command name and the real uid of a pid.
# True while PID runs. A zombie does not count: where PID 1 does not reap
# orphans (some containers), an ended monitor stays a zombie.
alive() {
	local st
	st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

ppid_of() {
	awk '/^PPid:/ { print $2 }' "/proc/$1/status"
}
uid_of() {
	awk '/^Uid:/ { print $2 }' "/proc/$1/status"
}
comm_of() {
	cat "/proc/$1/comm"
}

# The tick numbers ("testguest: tick N") found on stdin, one a line.
ticks() {
	sed -n 's/.*testguest: tick \([0-9][0-9]*\).*/\1/p'
}

# Fails unless the numbers on stdin are FIRST, FIRST+1, ... with no gap.
assert_consecutive() {	# WHAT
	awk -v what="$1" '
		NR == 1 { prev = $1; next }
		$1 != prev + 1 { printf "%s: tick %d follows %d\n", what, $1, prev; bad = 1; exit 1 }
		{ prev = $1 }
		END { if (NR == 0 && !bad) { print what ": no ticks"; exit 1 } }' ||
	    fail "$1: tick numbers are not consecutive"
}
