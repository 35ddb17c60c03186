#!/bin/bash
# unikd-oci's contract without an engine: create / start / state / kill /
# delete as conmon and the containerd shim call them (a subreaper waits
# for the pid in --pid-file), runtime-spec's state fields, the exit
# status of the guest, delete --force of a running container, kill of a
# stopped one, and bad bundles refused with a clear error and nothing
# made in unikd.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

[ -x "$top_builddir/unikd-oci" ] || fail "$top_builddir/unikd-oci is not built"
start_unikd

ROOT=$T/oci
OLOG=$T/oci.log
oci() {
	"$top_builddir/unikd-oci" --root "$ROOT" --socket "$SOCK" \
	    --log "$OLOG" --log-format json "$@"
}

# bundle DIR ANNOTATIONS-JSON ARG...: a bundle whose rootfs holds the
# test image as /app.spt; the args follow it.
bundle() {
	local dir=$1 ann=$2
	shift 2
	mkdir -p "$dir/rootfs" || fail "mkdir $dir"
	cp "$IMG" "$dir/rootfs/app.spt"
	"$PY" - "$dir" "$ann" "$@" <<'EOF'
import json, sys
d, ann, args = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
cfg = {
    "ociVersion": "1.0.2",
    "process": {"terminal": False, "user": {"uid": 0, "gid": 0},
                "args": ["/app.spt"] + args, "cwd": "/",
                "env": ["PATH=/usr/bin", "TERM=xterm"],
                "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024,
                             "soft": 1024}]},
    "root": {"path": "rootfs"},
    "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
    "annotations": ann,
    "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]},
}
json.dump(cfg, open(d + "/config.json", "w"))
EOF
}

SPT='{"org.unikd.tender": "solo5-spt"}'

# run_reaped ID BUNDLE: create under a subreaper (tests/integration/
# oci-reap.py); the exit status lands in $T/ID.status, the container's
# output in $T/ID.out.
run_reaped() {	# ID BUNDLE [CREATE OPTIONS...]
	local id=$1 b=$2
	shift 2
	"$PY" "$top_srcdir/tests/integration/oci-reap.py" "$T/$id.status" \
	    "$T/$id.out" "$T/$id.pid" "$top_builddir/unikd-oci" \
	    --root "$ROOT" --socket "$SOCK" --log "$OLOG" --log-format json \
	    create --bundle "$b" --pid-file "$T/$id.pid" "$@" "$id" &
	wait_for 20 "create of $id" test -s "$T/$id.pid" -o -e "$T/$id.status"
	[ -e "$T/$id.status" ] && fail "create $id: $(cat "$T/$id.status"): $(cat "$T/$id.out")"
}
state_of() {	# ID EXPR
	oci state "$1" | jget "$2"
}
reaped() {	# ID: the container process's exit, once it ended
	wait_for 20 "the end of $1's container process" test -e "$T/$1.status"
	cat "$T/$1.status"
}
vm_of() {	# ID: the VM unikd-oci made for it
	uk --json ps -a | jlines "e['name'] if e.get('labels', {}).get('org.unikd.oci.id') == '$1' else None"
}

info "create: the VM is made, not started; the process waits"
bundle "$T/b1" '{"org.unikd.tender": "solo5-spt", "io.kubernetes.cri.container-name": "web", "custom": "x"}' --print-every=100
run_reaped c1 "$T/b1"
pid=$(cat "$T/c1.pid")
alive "$pid" || fail "the container process $pid is not alive"
assert_eq "$(state_of c1 'd["status"]')" created "status after create"
assert_eq "$(state_of c1 'd["pid"]')" "$pid" "state pid vs --pid-file"
assert_eq "$(state_of c1 'd["id"]')" c1 "state id"
assert_eq "$(state_of c1 'd["bundle"]')" "$T/b1" "state bundle"
assert_eq "$(state_of c1 'd["annotations"]["custom"]')" x "state annotations"
assert_contains "$(state_of c1 'd["ociVersion"]')" "1." "state ociVersion"
vm=$(vm_of c1)
[ -n "$vm" ] || fail "no unikd VM is labelled with container c1"
assert_contains "$vm" oci-c1 "VM name"
assert_eq "$(vm_field "$vm" state)" created "VM state before start"
assert_contains "$(uk ps -a | grep -w "$vm")" "(web)" "unikctl ps shows the container name"
assert_contains "$(cat "$OLOG")" '"level":"info"' "the JSON log"
assert_contains "$(cat "$OLOG")" "process.env (2), mounts (1)" "ignored items in the log"
assert_contains "$(cat "$OLOG")" "process.rlimits (1)" "ignored items in the log"
sleep 0.5
[ -s "$T/c1.out" ] && fail "the guest printed before start: $(cat "$T/c1.out")"

info "start: the guest runs, its console is the process's stdout"
oci start c1 || fail "start c1"
assert_eq "$(state_of c1 'd["status"]')" running "status after start"
assert_eq "$(vm_field "$vm" state)" running "VM state after start"
has_tick() { grep -q 'testguest: tick 2' "$T/c1.out"; }
wait_for 10 "ticks on the container's stdout" has_tick
ticks <"$T/c1.out" | assert_consecutive "ticks of c1"
oci start c1 2>"$T/err" && fail "a second start succeeded"
assert_contains "$(cat "$T/err")" "already running" "second start"
ps_json=$(oci ps --format json c1) || fail "ps c1"
assert_contains "$ps_json" "$pid" "ps --format json"
assert_contains "$ps_json" "$(vm_field "$vm" pid)" "ps --format json: the tender"

info "kill TERM: a graceful stop, the process exits with the VM"
oci kill c1 TERM || fail "kill c1 TERM"
assert_eq "$(reaped c1)" "exit 0" "exit of c1 (SIGTERM, halted)"
assert_eq "$(state_of c1 'd["status"]')" stopped "status after the VM ended"
assert_eq "$(state_of c1 'd["pid"]')" 0 "pid of a stopped container"
assert_contains "$(cat "$T/c1.out")" "SIGTERM, halting" "console of c1"

info "kill of a stopped container"
oci kill c1 KILL 2>"$T/err" && fail "kill of a stopped container succeeded"
assert_contains "$(cat "$T/err")" "not running" "kill of a stopped container"

info "delete: VM, image and state go"
oci delete c1 || fail "delete c1"
uk inspect "$vm" >/dev/null 2>&1 && fail "VM $vm is still in unikd"
uk image ls | grep -qw "$vm" && fail "image $vm is still in unikd"
[ -e "$ROOT/c1" ] && fail "state of c1 is still there"
oci state c1 2>"$T/err" && fail "state of a deleted container"
assert_contains "$(cat "$T/err")" 'container "c1" does not exist' "state of a deleted container"
oci delete --force c1 || fail "delete --force of a missing container"

info "the guest's exit status is the process's"
bundle "$T/b2" "$SPT" --exit-after=1 --exit-code=3
run_reaped c2 "$T/b2"
oci start c2 || fail "start c2"
assert_eq "$(reaped c2)" "exit 3" "exit of c2"
oci delete c2 || fail "delete c2"

info "delete of a running container: refused, then --force"
bundle "$T/b3" "$SPT" --print-every=100
run_reaped c3 "$T/b3"
oci start c3 || fail "start c3"
vm3=$(vm_of c3)
oci delete c3 2>"$T/err" && fail "delete of a running container succeeded"
assert_contains "$(cat "$T/err")" "not stopped" "delete of a running container"
assert_eq "$(vm_field "$vm3" state)" running "VM after a refused delete"
oci delete --force c3 || fail "delete --force c3"
reaped c3 >/dev/null
uk inspect "$vm3" >/dev/null 2>&1 && fail "VM $vm3 survived delete --force"
[ -e "$ROOT/c3" ] && fail "state of c3 survived delete --force"

info "kill of a created container, then delete"
run_reaped c4 "$T/b3"
vm4=$(vm_of c4)
oci kill c4 KILL || fail "kill c4 KILL"
assert_eq "$(reaped c4)" "signal 9" "end of c4's process"
assert_eq "$(state_of c4 'd["status"]')" stopped "status of a killed created container"
oci delete c4 || fail "delete c4"
uk inspect "$vm4" >/dev/null 2>&1 && fail "VM $vm4 survived delete"

info "unikd restarts under a running container: the console goes on"
bundle "$T/b6" "$SPT" --print-every=100
run_reaped c6 "$T/b6"
oci start c6 || fail "start c6"
has_tick3() { grep -q 'testguest: tick 3' "$T/c6.out"; }
wait_for 10 "ticks of c6" has_tick3
kill9_unikd
sleep 1
alive "$(cat "$T/c6.pid")" || fail "c6's container process ended with unikd"
start_unikd
assert_eq "$(state_of c6 'd["status"]')" running "c6 after unikd came back"
last=$(ticks <"$T/c6.out" | tail -n 1)
more_ticks() { [ "$(ticks <"$T/c6.out" | tail -n 1)" -ge $((last + 10)) ]; }
wait_for 15 "c6's console after unikd came back" more_ticks
oci kill c6 || fail "kill c6"
assert_eq "$(reaped c6)" "exit 0" "exit of c6"
ticks <"$T/c6.out" | assert_consecutive "ticks of c6 across a restart of unikd"
assert_not_contains "$(cat "$T/c6.out")" "unikd-oci" "c6's output (the guest's only)"
oci delete c6 || fail "delete c6"

info "--console-socket: the console goes to a pty sent to the engine"
bundle "$T/b7" "$SPT" --exit-after=1 --exit-code=5
"$PY" -c '
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = True
json.dump(c, open(sys.argv[1], "w"))' "$T/b7/config.json"
oci create --bundle "$T/b7" c7 2>"$T/err" && fail "terminal without --console-socket"
assert_contains "$(cat "$T/err")" "console-socket" "terminal without --console-socket"
"$PY" "$top_srcdir/tests/integration/oci-console.py" "$T/console.sock" \
    "$T/c7.tty" &
console_pid=$!
wait_for 10 "the console socket" test -e "$T/console.sock.ready"
run_reaped c7 "$T/b7" --console-socket "$T/console.sock"
oci start c7 || fail "start c7"
assert_eq "$(reaped c7)" "exit 5" "exit of c7"
wait "$console_pid"
assert_contains "$(cat "$T/c7.tty.name")" /dev/pts/ "the pty's name"
assert_contains "$(cat "$T/c7.tty")" "testguest: ready" "the console on the pty"
assert_eq "$(cat "$T/c7.out")" "" "c7's stdout (the pty has it)"
oci delete c7 || fail "delete c7"

info "a Kubernetes pod's sandbox: a process that holds the pod, no VM"
bundle "$T/b8" '{"io.kubernetes.cri.container-type": "sandbox"}'
rm "$T/b8/rootfs/app.spt"	# pause is not a unikernel, and not needed
vms_before=$(uk --json ps -a | jlines 'e["name"]' | sort)
run_reaped c8 "$T/b8"
oci start c8 || fail "start c8"
assert_eq "$(state_of c8 'd["status"]')" running "status of the sandbox"
assert_eq "$(uk --json ps -a | jlines 'e["name"]' | sort)" "$vms_before" \
    "VMs with a sandbox running"
oci kill c8 TERM || fail "kill c8"
assert_eq "$(reaped c8)" "exit 0" "exit of the sandbox on SIGTERM"
oci delete c8 || fail "delete c8"

info "what a unikernel cannot do: one clear line"
for cmd in exec pause update checkpoint; do
	oci "$cmd" c4 2>"$T/err" && fail "$cmd succeeded"
	assert_eq "$(wc -l <"$T/err")" 1 "lines of $cmd's error"
	assert_contains "$(cat "$T/err")" "not supported" "$cmd"
done

info "bad bundles: a clear error, nothing made"
vms_before=$(uk --json ps -a | jlines 'e["name"]' | sort)
images_before=$(uk --json image ls | jget '[i["name"] for i in d]')
bad() {	# ID WANT-IN-ERROR
	oci create --bundle "$T/$1" "$1" >"$T/err" 2>&1 &&
	    fail "create of bad bundle $1 succeeded"
	assert_contains "$(cat "$T/err")" "$2" "error for $1"
	[ -e "$ROOT/$1" ] && fail "bad bundle $1 left $ROOT/$1"
	assert_eq "$(uk --json ps -a | jlines 'e["name"]' | sort)" \
	    "$vms_before" "VMs after bad bundle $1"
	assert_eq "$(uk --json image ls | jget '[i["name"] for i in d]')" \
	    "$images_before" "images after bad bundle $1"
	tail -n 1 "$OLOG" | jget 'd["level"]' | grep -qx error ||
	    fail "the log's last line for $1 is not an error"
}
bundle "$T/norootfs" "$SPT"
rm -rf "$T/norootfs/rootfs"
bad norootfs "root.path"
bundle "$T/noimage" "$SPT"
rm "$T/noimage/rootfs/app.spt"
bad noimage "not found in the bundle's rootfs"
bundle "$T/escape" "$SPT"
ln -sf "$IMG" "$T/escape/rootfs/app.spt"
bad escape "outside the bundle's rootfs"
bundle "$T/escape2" "$SPT"
ln -sf "../../../../../../../..$IMG" "$T/escape2/rootfs/app.spt"
bad escape2 "outside the bundle's rootfs"
bundle "$T/badtender" '{"org.unikd.tender": "vmware"}'
bad badtender "unknown tender 'vmware'"
bundle "$T/notender" '{}'
bad notender "org.unikd.tender"
bundle "$T/nons" "$SPT"
"$PY" - "$T/nons/config.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["linux"]["namespaces"].append({"type": "network", "path": "/run/netns/uk-missing-$$"})
json.dump(c, open(sys.argv[1], "w"))
EOF
bad nons "network namespace /run/netns/uk-missing"
bundle "$T/badmem" '{"org.unikd.tender": "solo5-spt", "org.unikd.memory": "lots"}'
bad badmem "org.unikd.memory"
bundle "$T/noblock" '{"org.unikd.tender": "solo5-spt", "org.unikd.block.storage": "nosuch"}'
bad noblock "nosuch"

info "a symlink that stays inside the rootfs is followed"
bundle "$T/inside" "$SPT" --exit-after=1
mkdir -p "$T/inside/rootfs/lib"
mv "$T/inside/rootfs/app.spt" "$T/inside/rootfs/lib/real.spt"
ln -s /lib/real.spt "$T/inside/rootfs/app.spt"
run_reaped c5 "$T/inside"
oci start c5 || fail "start c5"
assert_eq "$(reaped c5)" "exit 0" "exit of c5"
oci delete c5 || fail "delete c5"
assert_eq "$(ls "$ROOT")" "" "state directories left under --root"
exit 0
