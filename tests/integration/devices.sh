#!/bin/bash
# Devices as the tender user: with /dev/net/tun at 0600 (root only), a
# VM with NICs on a tender that opens its TAPs by name is refused (422)
# naming the device, the uid and the fix, and info says so; /dev/kvm the
# tender user cannot open makes solo5-hvt unavailable. A reload (SIGHUP)
# after the fix probes again.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

[ -e /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; exit 77; }
cat >>"$CONF" <<EOF

[tender.solo5-hvt]
path = $top_builddir/unik-testguest
EOF
unikd_netns uk-dev-$$

# Whether nobody (the tender user) may open a device read-write.
nobody_opens() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    sh -c ": <>$1" 2>/dev/null
}

# /dev/net/tun at 0600 for this unikd only (lib.sh's tun_private): the
# host's node, which tests running in parallel open up, stays as it is.
tun_private 0600
nobody_opens "$T/tun" && fail "nobody opens a 0600 tun node"
start_unikd
nobody_opens_in_unikd() {
	nsenter -t "$UNIKD_PID" -m setpriv --reuid=nobody --regid=nogroup \
	    --clear-groups sh -c ": <>/dev/net/tun" 2>/dev/null
}
nobody_opens_in_unikd && fail "nobody opens /dev/net/tun where unikd runs"

info "info names the device, the uid and the fix"
nobody_uid=$(id -u nobody)
nic_reason=$(uk --json info | jget '[t for t in d["tenders"] if t["name"] == "solo5-spt"][0]["nic_reason"]')
assert_contains "$nic_reason" "/dev/net/tun" "nic_reason of solo5-spt"
assert_contains "$nic_reason" "uid $nobody_uid" "nic_reason of solo5-spt"
assert_contains "$nic_reason" "mode 0666" "nic_reason of solo5-spt"
assert_eq "$(uk --json info | jget '[t for t in d["tenders"] if t["name"] == "solo5-spt"][0]["available"]')" \
    true "solo5-spt is still available (VMs without NICs)"
assert_contains "$(uk info)" "solo5-spt: no NICs: tender_user nobody" "unikctl info"

info "a VM with a NIC is refused with 422 and nothing is made"
uk net create lan >/dev/null || fail "net create lan"
links_before=$(nsip -o link show | wc -l)
err=$(uk run --name n1 --tender solo5-spt --image "$IMG" --net service=lan 2>&1)
assert_eq "$?" 1 "exit code of run with a NIC"
assert_contains "$err" "cannot open /dev/net/tun" "run with a NIC"
assert_contains "$err" "uid $nobody_uid" "run with a NIC"
code=$(curl -sS -o "$T/reply" -w '%{http_code}' --unix-socket "$SOCK" \
    -X POST 'http://localhost/v1/vms?start=true' \
    -d '{"name":"n1","tender":"solo5-spt","image":"'"$IMG"'","nics":[{"name":"service","network":"lan"}]}')
assert_eq "$code" 422 "status of a create with a NIC"
assert_contains "$(cat "$T/reply")" "cannot open /dev/net/tun" "422 body"
uk inspect n1 >/dev/null 2>&1 && fail "n1 was created"
assert_eq "$(nsip -o link show | wc -l)" "$links_before" "links after the refusal"
info "a VM without NICs still runs"
run_vm plain -- --print-every=100
wait_state plain running

if nobody_opens /dev/kvm; then
	info "(the tender user opens /dev/kvm here: no check of hvt)"
else
	info "solo5-hvt is unavailable when the tender user cannot open /dev/kvm"
	hvt=$(uk --json info | jget '[t for t in d["tenders"] if t["name"] == "solo5-hvt"][0]')
	assert_contains "$hvt" '"available": false' "solo5-hvt in info"
	assert_contains "$hvt" "cannot open /dev/kvm" "solo5-hvt in info"
	assert_contains "$hvt" "usermod -aG kvm nobody" "solo5-hvt in info"
	err=$(uk run --name h1 --tender solo5-hvt --image "$IMG" 2>&1)
	assert_eq "$?" 1 "exit code of run on hvt"
	assert_contains "$err" "cannot open /dev/kvm" "run on hvt"
	uk inspect h1 >/dev/null 2>&1 && fail "h1 was created"
fi

info "once /dev/net/tun is open to the tender user, a reload probes again"
chmod 0666 "$T/tun"
nobody_opens_in_unikd || fail "nobody cannot open the tun node at 0666"
kill -HUP "$UNIKD_PID"
reloaded() { grep -q "action=reload result=ok" "$T/unikd.log"; }
wait_for 10 "unikd to reload" reloaded
assert_eq "$(uk --json info | jget '[t for t in d["tenders"] if t["name"] == "solo5-spt"][0]["nic_reason"]')" \
    null "nic_reason of solo5-spt after the fix"
uk run --name n1 --tender solo5-spt --image "$IMG" --net service=lan \
    >/dev/null || fail "run with a NIC after the fix"
wait_state n1 running
echo "PASS"
