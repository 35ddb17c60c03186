#!/bin/bash
# Authorization by SO_PEERCRED: root and members of the admin group (as
# primary or supplementary group) may use the API; anyone else gets 403,
# even when the socket's mode would let them connect. The admin group is
# a throwaway group with a throwaway member user, both removed on exit.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_cmd setpriv util-linux

# unikctl where nobody can run it (the build tree may not be reachable).
mkdir -m 0755 "$T/bin"
cp "$top_builddir/unikctl" "$T/bin/unikctl"
chmod 0755 "$T/bin/unikctl"

ADMIN_GROUP=
ADMIN_USER=
if command -v groupadd >/dev/null && command -v useradd >/dev/null; then
	ADMIN_GROUP=ukadm$$
	ADMIN_USER=ukusr$$
	CLEANUP_HOOKS+=("userdel $ADMIN_USER 2>/dev/null; groupdel $ADMIN_GROUP 2>/dev/null")
	groupadd "$ADMIN_GROUP" || fail "groupadd $ADMIN_GROUP"
	useradd -M -N -g nogroup -G "$ADMIN_GROUP" -d /nonexistent \
	    -s /usr/sbin/nologin "$ADMIN_USER" || fail "useradd $ADMIN_USER"
	admin_gid=$(getent group "$ADMIN_GROUP" | cut -d: -f3)
	write_conf
else
	info "no groupadd/useradd: admin group is root, member cases skipped"
fi
start_unikd

# as UID GID GROUPS CMD...: runs CMD with those credentials.
as() {
	local uid=$1 gid=$2 groups=$3
	shift 3
	if [ -z "$groups" ]; then
		setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"
	else
		setpriv --reuid="$uid" --regid="$gid" --groups="$groups" "$@"
	fi
}

# curl_as UID GID GROUPS METHOD PATH: prints the HTTP status; body in $T/resp.
curl_as() {
	local uid=$1 gid=$2 groups=$3
	rm -f "$T/resp"
	as "$uid" "$gid" "$groups" curl -sS --max-time 10 \
	    --unix-socket "$SOCK" -X "$4" -w '\n%{http_code}' \
	    "http://localhost$5" >"$T/resp.all" 2>"$T/resp.err"
	tail -n 1 "$T/resp.all"
	sed '$d' "$T/resp.all" >"$T/resp"
}

nobody=$(id -u nobody)
nogroup=$(getent group nogroup | cut -d: -f3)

info "the socket"
want_group=${ADMIN_GROUP:-root}
assert_eq "$(stat -c '%a %G' "$SOCK")" "660 $want_group" "socket mode and group"

info "root works"
uk info >/dev/null || fail "info as root"
run_vm v1 -- --print-every=100
wait_state v1 running

if [ -n "$ADMIN_GROUP" ]; then
	info "a member of the admin group works"
	as "$ADMIN_USER" nogroup "" true || fail "setpriv as $ADMIN_USER"
	out=$(setpriv --reuid="$ADMIN_USER" --regid=nogroup --init-groups \
	    "$T/bin/unikctl" -s "$SOCK" ps 2>&1) ||
	    fail "ps as $ADMIN_USER (supplementary admin group): $out"
	assert_contains "$out" v1 "ps as a member of the admin group"
	out=$(setpriv --reuid="$ADMIN_USER" --regid=nogroup --init-groups \
	    "$T/bin/unikctl" -s "$SOCK" run --name m1 --tender solo5-spt \
	    --image "$IMG" -- --print-every=100 2>&1) ||
	    fail "run as a member of the admin group: $out"
	wait_state m1 running
	assert_eq "$(curl_as "$nobody" "$admin_gid" "" GET /v1/info)" 200 \
	    "GET /v1/info with the admin group as primary group"

	info "a non-member cannot even connect to the 0660 socket"
	as "$nobody" "$nogroup" "" "$T/bin/unikctl" -s "$SOCK" info \
	    >/dev/null 2>"$T/err"
	assert_eq "$?" 3 "exit code of unikctl as nobody on the 0660 socket"
fi

info "a non-member gets 403 when the socket mode lets everyone connect"
chmod 0666 "$SOCK"
assert_eq "$(curl_as "$nobody" "$nogroup" "" GET /v1/info)" 403 \
    "GET /v1/info as nobody"
assert_eq "$(jget 'd["error"]["code"]' <"$T/resp")" forbidden "error code"
assert_eq "$(curl_as "$nobody" "$nogroup" "" GET /v1/vms)" 403 \
    "GET /v1/vms as nobody"
assert_eq "$(curl_as "$nobody" "$nogroup" "" POST /v1/vms/v1/stop)" 403 \
    "stop as nobody"
assert_eq "$(curl_as "$nobody" "$nogroup" "" DELETE '/v1/vms/v1?force=true')" \
    403 "DELETE as nobody"
assert_eq "$(curl_as "$nobody" "$nogroup" "" GET /v1/events)" 403 \
    "GET /v1/events as nobody"
assert_eq "$(curl_as "$nobody" "$nogroup" "" GET /v1/vms/v1/console)" 403 \
    "GET console as nobody"
# A group that is not the admin group, as supplementary group, is no help.
assert_eq "$(curl_as "$nobody" "$nogroup" "$nogroup" GET /v1/info)" 403 \
    "GET /v1/info as nobody with nogroup"

out=$(as "$nobody" "$nogroup" "" "$T/bin/unikctl" -s "$SOCK" stop v1 2>&1)
assert_eq "$?" 1 "exit code of unikctl stop as nobody"
[ -n "$out" ] || fail "unikctl printed no message for a 403"
echo "# unikctl as nobody: $out"
out=$(as "$nobody" "$nogroup" "" "$T/bin/unikctl" -s "$SOCK" run --name n1 \
    --tender solo5-spt --image "$IMG" 2>&1)
assert_eq "$?" 1 "exit code of unikctl run as nobody"

info "nothing was done for nobody"
assert_eq "$(vm_field v1 state)" running "v1 after nobody's stop"
uk inspect n1 >/dev/null 2>&1 && fail "nobody created n1"
if [ -n "$ADMIN_GROUP" ]; then
	uk stop m1 >/dev/null || fail "stop m1"
fi
uk stop v1 >/dev/null || fail "stop v1 as root"
wait_state v1 exited
echo "PASS"
