#!/bin/bash
# A VM as GET /v1/vms and GET /v1/vms/NAME show it (text that unikd keeps
# for each VM until it changes) agrees with GET /v1/vms/NAME/stats (built
# afresh at each call) after each kind of change: create, start, running,
# its NIC's TAP, a stop, an exit of its own, restarts under its policy
# and the policy giving up, a kill, a start refused, a remove. A list
# filtered by the VM's state has it, and lists with other states do not.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

tun_open_to_tender
unikd_netns uk-views-$$
# restarts pending long enough to be seen
sed -i 's/^restart_backoff = .*/restart_backoff = 1500/;
    s/^restart_backoff_max = .*/restart_backoff_max = 1500/' "$CONF"
start_unikd
uk net create lan --subnet 10.78.0.0/24 >/dev/null || fail "net create lan"

# agree VM: compares the views of VM once stats reads the same twice
# around them (a VM changing meanwhile is read again; one that stays
# wrong is not); prints its state.
agree() {
	"$PY" - "$SOCK" "$1" <<'PY' || fail "views of $1 disagree"
import json, subprocess, sys, time
sock, name = sys.argv[1], sys.argv[2]
def get(path):
    out = subprocess.run(["curl", "-sS", "--max-time", "10",
        "--unix-socket", sock, "http://localhost" + path],
        stdout=subprocess.PIPE, check=True).stdout
    return json.loads(out)
def facts(st):
    return {k: st[k] for k in ("state", "pid", "restarts", "restart_at",
        "exit_status", "exit_reason")} | {
        "taps": sorted((n["name"], n["tap"]) for n in st["nics"])}
states = ["created", "starting", "running", "stopping", "exited", "failed",
    "restarting"]
for attempt in range(50):
    before = facts(get("/v1/vms/%s/stats" % name))
    listed = [v for v in get("/v1/vms")["vms"] if v["name"] == name]
    inspect = get("/v1/vms/" + name)
    by_state = {s: [v for v in get("/v1/vms?state=" + s)["vms"]
        if v["name"] == name] for s in states}
    if facts(get("/v1/vms/%s/stats" % name)) == before:
        break
    time.sleep(0.1)
else:
    sys.exit("%s changes all the time" % name)
def fail(what, got, want):
    sys.exit("%s: %s is %r, stats say %r" % (name, what, got, want))
if len(listed) != 1:
    fail("entries in the list", len(listed), 1)
inspect.pop("manifest")
if listed[0] != inspect:
    sys.exit("%s: list %s\ninspect %s" % (name, listed[0], inspect))
v = listed[0]
active = before["state"] in ("starting", "running", "stopping")
for k in ("state", "pid", "restarts", "restart_at", "exit_reason"):
    want = before[k]
    if k == "exit_reason" and active:
        want = None	# the last run's, shown as last_exit
    if v[k] != want:
        fail(k, v[k], want)
if v["exit_status"] != (None if active else before["exit_status"]):
    fail("exit_status", v["exit_status"], before["exit_status"])
taps = sorted((n["name"], n["tap"]) for n in v["nics"] if n["tap"])
if taps != before["taps"]:
    fail("TAPs", taps, before["taps"])
for s, found in by_state.items():
    if len(found) != (s == before["state"]):
        fail("?state=%s entries" % s, len(found), int(s == before["state"]))
    if found and found[0] != v:
        sys.exit("%s: ?state=%s gives %s" % (name, s, found[0]))
print(before["state"])
PY
}

info "created with a NIC and labels, not started"
api POST /v1/vms '{"name": "v1", "tender": "solo5-spt", "image": "'"$IMG"'",
    "nics": [{"name": "service", "network": "lan"}],
    "labels": {"app": "web"}, "restart": {"policy": "on-failure",
    "max_retries": 2}, "args": ["--exit-after=0.5", "--exit-code=3"]}'
assert_eq "$STATUS" 201 "create v1: $RESP"
assert_eq "$(agree v1)" created "v1 after create"
assert_eq "$(vm_get v1 'd["labels"]["app"]')" web "v1 label"
assert_eq "$(vm_get v1 'd["nics"][0]["tap"]')" null "v1 TAP before start"

info "started: starting or running, with a TAP; restarts; gives up"
api POST /v1/vms/v1/start
assert_eq "$STATUS" 200 "start v1: $RESP"
seen=" "
for ((i = 0; i < 200; i++)); do
	state=$(agree v1)
	case "$seen" in *" $state "*) ;; *) seen="$seen$state " ;; esac
	[ "$state" = failed ] && break
	sleep 0.05
done
info "v1 went through:$seen"
assert_eq "$state" failed "v1 once its policy gave up"
assert_contains "$seen" " restarting " "states of v1"
assert_eq "$(vm_field v1 restarts)" 2 "v1 restarts"
assert_eq "$(vm_field v1 exit_reason)" "failed 3" "v1 exit_reason"
assert_eq "$(vm_get v1 'd["nics"][0]["tap"]')" null "v1 TAP once failed"

info "run, stop, start again, kill"
run_vm v2 --net service=lan -- --print-every=100
wait_state v2 running
assert_eq "$(agree v2)" running "v2 running"
tap=$(vm_get v2 'd["nics"][0]["tap"]')
[ "$tap" != null ] || fail "v2 has no TAP while running"
uk stop v2 >/dev/null || fail "stop v2"
wait_state v2 exited
assert_eq "$(agree v2)" exited "v2 stopped"
assert_eq "$(vm_field v2 exit_reason)" stopped "v2 exit_reason"
uk start v2 >/dev/null || fail "start v2"
wait_state v2 running
assert_eq "$(agree v2)" running "v2 started again"
assert_eq "$(vm_field v2 exit_status)" null "v2 exit_status while running"
assert_eq "$(vm_get v2 'd["last_exit"]["exit_reason"]')" stopped \
    "v2 last_exit while running"
kill -9 "$(vm_field v2 pid)"
wait_state v2 exited
assert_eq "$(agree v2)" exited "v2 killed"
assert_eq "$(vm_field v2 exit_reason)" "killed by SIGKILL" "v2 exit_reason"

info "a start that fails: the image is gone"
run_vm v3 -- --print-every=100
wait_state v3 running
uk stop v3 >/dev/null || fail "stop v3"
wait_state v3 exited
mv "$IMG" "$IMG.away"
api POST /v1/vms/v3/start
mv "$IMG.away" "$IMG"
assert_eq "$STATUS" 422 "start v3 without its image: $RESP"
assert_eq "$(agree v3)" exited "v3 after the refused start"

info "removed: in no list"
uk rm -f v2 >/dev/null || fail "rm v2"
api GET /v1/vms
assert_not_contains "$RESP" '"name":"v2"' "list after rm v2"
api GET /v1/vms/v2
assert_eq "$STATUS" 404 "inspect v2 after rm"
echo "PASS"
