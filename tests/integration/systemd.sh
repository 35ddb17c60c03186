#!/bin/bash
# unikd as a systemd service, here where systemd is installed but is not
# PID 1: the units pass `systemd-analyze verify`; socket activation through
# systemd-socket-activate (unikd serves on the socket it is handed and
# makes none of its own); sd_notify to a NOTIFY_SOCKET this test listens
# on (READY=1 only once a VM that ran before a kill -9 of unikd is
# re-adopted, STATUS= with the count of running VMs, STOPPING=1); log
# lines with journald's <N> prefix when stderr is the journal stream.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

for tool in systemd-analyze systemd-socket-activate; do
	command -v "$tool" >/dev/null || {
		echo "SKIP: $tool is not installed"
		exit 77
	}
done
grep -q '^#define HAVE_LIBSYSTEMD 1' "$top_builddir/config.h" || {
	echo "SKIP: unikd is built without libsystemd"
	exit 77
}

info "systemd-analyze verify on the units"
unit=$top_builddir/contrib/systemd/unikd.service
[ -f "$unit" ] || fail "$unit is not built"
mkdir "$T/units"
# the unit as built, but starting the unikd of this build
sed "s|^ExecStart=[^ ]*|ExecStart=$top_builddir/unikd|" "$unit" \
    >"$T/units/unikd.service"
cp "$top_srcdir/contrib/systemd/unikd.socket" "$T/units/"
out=$(systemd-analyze verify --man=no "$T/units/unikd.service" \
    "$T/units/unikd.socket" 2>&1)
rc=$?
echo "$out" | grep -F 'unikd.' && fail "systemd-analyze verify complains"
assert_eq "$rc" 0 "exit code of systemd-analyze verify"
grep -q '^ExecStart=.*/unikd -d$' "$unit" || fail "ExecStart of $unit"

info "socket activation"
# A socket at another path than the config's: had unikd made its own, it
# would be at $SOCK.
mkdir -m 0755 "$T/act"
ACT=$T/act/unikd.sock
: >"$T/unikd.log"
# journald's stream is the log file here: unikd must prefix <N>
stream=$(stat -c '%d:%i' "$T/unikd.log")
# (systemd-socket-activate passes on only the environment it is told to)
systemd-socket-activate -l "$ACT" -E JOURNAL_STREAM="$stream" \
    "$top_builddir/unikd" -d -f "$CONF" >>"$T/unikd.log" 2>&1 &
UNIKD_PID=$!
wait_for 5 "systemd-socket-activate to listen" test -S "$ACT"
ino=$(stat -c %i "$ACT")
out=$("$top_builddir/unikctl" -s "$ACT" --json info) ||
    fail "unikctl info through the activated socket"
# systemd-socket-activate execs unikd in its own process
assert_eq "$(echo "$out" | jget 'd["pid"]')" "$UNIKD_PID" "pid in info"
[ -e "$SOCK" ] && fail "unikd made its own socket $SOCK"
assert_eq "$(stat -c %i "$ACT")" "$ino" "inode of the activated socket"
grep -q '^<6>socket=(from systemd) fd=3 action=listen' "$T/unikd.log" ||
    fail "no <6>-prefixed line saying the socket came from systemd"
grep -q '^unikd: ' "$T/unikd.log" &&
    fail "unikd wrote unprefixed lines to the journal stream"
kill -TERM "$UNIKD_PID"
wait "$UNIKD_PID"
assert_eq "$?" 0 "exit status of the socket-activated unikd"
UNIKD_PID=
[ -S "$ACT" ] || fail "unikd removed the socket systemd handed it"
assert_eq "$(stat -c %i "$ACT")" "$ino" "inode after unikd stopped"

info "log lines without the journal"
start_unikd
grep -q '^unikd: info: socket=.* action=listen' "$T/unikd.log" ||
    fail "no plain 'unikd: info:' line on a stderr that is not the journal"
stop_unikd

info "sd_notify"
NOTES=$T/notify.log
: >"$NOTES"
# Records each datagram as one line; on READY=1 also what a client sees
# at that instant and whether unikd had logged the adoption of n1.
"$PY" - "$T/notify.sock" "$NOTES" "$T/unikd.log" \
    "$top_builddir/unikctl" "$SOCK" <<'EOF' &
import json, socket, subprocess, sys
path, notes, log, ctl, sock = sys.argv[1:6]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(notes, "a", buffering=1) as out:
    while True:
        msg = s.recv(4096).decode()
        out.write(msg.replace("\n", " ") + "\n")
        if "READY=1" not in msg:
            continue
        adopted = "vm=n1 action=adopted" in open(log).read()
        r = subprocess.run([ctl, "-s", sock, "--json", "inspect", "n1"],
                           capture_output=True, text=True)
        try:
            vm = json.loads(r.stdout)
            vm = vm[0] if isinstance(vm, list) else vm
            seen = "%s %s" % (vm.get("state"), vm.get("pid"))
        except ValueError:
            seen = "none"
        out.write("at-ready adopted=%s n1=%s\n" % (adopted, seen))
EOF
LISTENER=$!
wait_for 5 "the notify listener" test -S "$T/notify.sock"
has_note() { grep -qF -- "$1" "$NOTES"; }
export NOTIFY_SOCKET=$T/notify.sock
start_unikd
wait_for 5 "READY=1 at the first start" has_note "READY=1 STATUS=0 VMs running"
run_vm n1 -- --print-every=100
run_vm n2 -- --print-every=100
wait_state n1 running
wait_state n2 running
wait_for 5 "STATUS with two VMs" has_note "STATUS=2 VMs running"
pid1=$(vm_field n1 pid)
pid2=$(vm_field n2 pid)

info "kill -9 unikd; n2's tender dies while unikd is down"
kill9_unikd
kill -9 "$pid2"
wait_for 5 "n2's tender to end" eval "! alive $pid2"
: >"$NOTES"
: >"$T/unikd.log"
start_unikd
wait_for 10 "READY=1 after the restart" has_note "READY=1"
cat "$NOTES"
# n2's monitor may still be there to report the exit itself, or gone
head -n 1 "$NOTES" | grep -Eq '^STATUS=re-adopting [12] VMs?$' ||
    fail "the first notification is not 'STATUS=re-adopting N VMs'"
grep -n . "$NOTES" | grep -m1 'READY=1' | grep -q '^1:' &&
    fail "READY=1 came before the re-adoption"
has_note "READY=1 STATUS=1 VM running" ||
    fail "READY=1 does not come with 'STATUS=1 VM running'"
wait_for 5 "the listener's look at READY" has_note "at-ready"
has_note "at-ready adopted=True n1=running $pid1" ||
    fail "at READY=1, n1 was not re-adopted and running with pid $pid1"
grep -q 'did not say hello in time' "$T/unikd.log" &&
    fail "READY=1 waited for the deadline instead of the hellos"
assert_eq "$(vm_field n2 state)" exited "n2 (its tender died while unikd was down)"

info "STATUS follows the running count; STOPPING=1 at the end"
uk stop n1 >/dev/null || fail "unikctl stop n1"
wait_for 5 "STATUS=0 VMs running" has_note "STATUS=0 VMs running"
stop_unikd
wait_for 5 "STOPPING=1" has_note "STOPPING=1"
unset NOTIFY_SOCKET
{ kill "$LISTENER"; wait "$LISTENER"; } 2>/dev/null
exit 0
