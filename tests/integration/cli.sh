#!/bin/bash
# What a newcomer types first: help and versions of unikd and unikctl, a
# mistyped command, a relative image path, a socket that is not there,
# a tender user that does not exist.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

ud="$top_builddir/unikd"
ctl="$top_builddir/unikctl"
info "unikd --help, -h and --version"
out=$("$ud" --help) || fail "unikd --help exit code"
for flag in "-d" "-f FILE" "-n" "-v" "--version"; do
	assert_contains "$out" "$flag" "unikd --help"
done
assert_eq "$("$ud" -h)" "$out" "unikd -h"
assert_eq "$("$ud" --version)" "unikd $("$ctl" --version | cut -d' ' -f2)" \
    "unikd --version"
"$ud" --bogus >/dev/null 2>&1
assert_eq "$?" 2 "exit code of unikd --bogus"

info "a tender user that does not exist: the commands that make it"
sed -i 's/^tender_user = .*/tender_user = uk-no-such-user/' "$CONF"
out=$("$ud" -n -f "$CONF" 2>&1)
assert_eq "$?" 1 "exit code of unikd -n without the tender user"
assert_contains "$out" "no such user 'uk-no-such-user'" "unikd -n"
assert_contains "$out" "systemd-sysusers" "unikd -n"
assert_contains "$out" "useradd --system" "unikd -n"
write_conf

info "unikctl help, help CMD, CMD --help"
out=$("$ctl" help) || fail "unikctl help exit code"
assert_contains "$out" "version  print the versions" "unikctl help"
out=$("$ctl" help run) || fail "unikctl help run exit code"
for s in "--net DEV=NETWORK[,mac=MAC][,ip=IP]" "--block DEV=BLOCK" \
    '${nic.DEV.ip}' "--settle DUR" "--attach" "--restart POLICY"; do
	assert_contains "$out" "$s" "unikctl help run"
done
assert_eq "$("$ctl" run --help)" "$out" "unikctl run --help"
out=$("$ctl" pss 2>&1)
assert_eq "$?" 2 "exit code of a mistyped command"
assert_contains "$out" "did you mean 'ps'?" "unikctl pss"
assert_not_contains "$out" "Commands:" "unikctl pss"

info "a socket that is not there names -s and UNIKD_SOCKET"
out=$("$ctl" -s "$T/nothing.sock" ps 2>&1)
assert_eq "$?" 3 "exit code without unikd"
assert_contains "$out" "-s PATH" "unikctl without unikd"
assert_contains "$out" "UNIKD_SOCKET" "unikctl without unikd"

start_unikd
info "unikctl version: client and daemon"
out=$(uk version) || fail "unikctl version"
assert_contains "$out" "unikctl " "unikctl version"
assert_contains "$out" "unikd   " "unikctl version"

info "--image: a relative path from the current directory, or a name"
(cd "$T/images" && uk run --name rel --tender solo5-spt --image ./test.img \
    --settle 0 -- --print-every=100 >/dev/null) || fail "run --image ./test.img"
assert_eq "$(vm_field rel image)" "$IMG" "image of rel"
(cd "$T/images" && uk run --name bare --tender solo5-spt --image test.img \
    --settle 0 -- --print-every=100 >/dev/null) || fail "run --image test.img"
assert_eq "$(vm_field bare image)" "$IMG" "image of bare"
out=$(cd "$T" && uk run --name nope --tender solo5-spt --image ./nope.img 2>&1)
assert_eq "$?" 2 "exit code of --image ./nope.img"
assert_contains "$out" "--image ./nope.img: no such file" "run --image ./nope.img"
out=$(cd "$T" && uk run --name gh --tender solo5-spt --image ghost 2>&1)
assert_eq "$?" 1 "exit code of --image ghost"
assert_contains "$out" "'ghost' is neither a stored image" "run --image ghost"
assert_contains "$out" "nor a path" "run --image ghost"
echo "PASS"
