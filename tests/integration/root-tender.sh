#!/bin/bash
# Tenders as root only when asked for: tender_user (or tender_group) root
# makes `unikd -n` fail naming allow_root_tender; with it, unikd runs and
# `unikctl info` warns about it.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

check() {
	"$top_builddir/unikd" -n -f "$CONF" 2>&1
}

info "the default test config: no warning"
start_unikd
assert_eq "$(uk --json info | jget 'd["warnings"]')" "[]" "warnings"
assert_not_contains "$(uk info)" WARNING "unikctl info"
stop_unikd

info "tender_user = root is refused"
sed -i 's/^tender_user = .*/tender_user = root/' "$CONF"
out=$(check) && fail "unikd -n accepted tender_user = root: $out"
assert_contains "$out" "unikd.tender_user: 'root' is uid 0" "unikd -n"
assert_contains "$out" "allow_root_tender = true" "unikd -n"
"$top_builddir/unikd" -d -f "$CONF" >/dev/null 2>&1 &&
    fail "unikd started with tender_user = root"

info "tender_group = root is refused"
sed -i 's/^tender_user = .*/tender_user = nobody/; s/^tender_group = .*/tender_group = root/' "$CONF"
out=$(check) && fail "unikd -n accepted tender_group = root: $out"
assert_contains "$out" "unikd.tender_group: 'root' is gid 0" "unikd -n"

info "a bad boolean"
sed -i 's/^tender_group = .*/tender_group = nogroup\nallow_root_tender = maybe/' "$CONF"
out=$(check) && fail "unikd -n accepted allow_root_tender = maybe: $out"
assert_contains "$out" "unikd.allow_root_tender: expected true or false, got 'maybe'" "unikd -n"

info "allowed: unikd runs, info warns, the tender is root"
sed -i 's/^tender_user = .*/tender_user = root/; s/^allow_root_tender = .*/allow_root_tender = true/' "$CONF"
out=$(check) || fail "unikd -n refused allow_root_tender = true: $out"
assert_eq "$out" "configuration OK" "unikd -n"
start_unikd
assert_contains "$(uk info)" "WARNING:    tenders run as root" "unikctl info"
assert_contains "$(uk --json info | jget 'd["warnings"][0]')" \
    "allow_root_tender = true" "warnings"
run_vm r1 -- --print-every=100
wait_state r1 running
assert_eq "$(uid_of "$(vm_field r1 pid)")" 0 "uid of r1's tender"
uk rm -f r1 >/dev/null || fail "rm -f r1"
info "ok"
