#!/bin/bash
# A guest that prints without pause (an exec tender running yes) and four
# console followers that never read: unikd's memory stays bounded (each
# client's unsent output is capped; past it chunks are dropped for that
# client and one marker line says how many bytes were), a follower that
# reads again gets the marker, and memory does not grow after the
# followers close. The same cap holds for events?follow.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

YES=$(command -v yes) || { echo "SKIP: yes is needed"; exit 77; }
cat >>"$CONF" <<EOF

[tender.exec]
path = $YES
EOF
# Under AddressSanitizer freed memory waits in a quarantine (256 MiB by
# default) that RSS counts: keep it small, the bound is on unikd's buffers.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"
start_unikd

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$UNIKD_PID/status"; }

uk run --name flood --tender exec --image "$IMG" >/dev/null ||
    fail "run flood"
wait_state flood running

# stall SECONDS: 4 console followers and 1 events follower that do not
# read for SECONDS, then read for 2 s; prints, per console follower, the
# bytes it got and whether the skip marker came.
stall() {
	"$PY" - "$SOCK" "$1" <<'EOF'
import socket, sys, time
path, secs = sys.argv[1], float(sys.argv[2])
def follower(url):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(path)
    s.send(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % url).encode())
    return s
cons = [follower("/v1/vms/flood/console?follow=true") for _ in range(4)]
ev = follower("/v1/events?follow=true")
print("connected", flush=True)
time.sleep(secs)
print("stalled", flush=True)
for s in cons:
    s.settimeout(0.2)
    got, t0 = b"", time.monotonic()
    while time.monotonic() - t0 < 2:
        try:
            d = s.recv(1 << 20)
        except socket.timeout:
            continue
        if not d:
            break
        got += d
        if b"bytes of console output skipped" in got[-(1 << 21):]:
            break
    print(len(got), b"bytes of console output skipped" in got, flush=True)
for s in cons + [ev]:
    s.close()
EOF
}

exec 3< <(stall 10)
read -r -u 3 line
assert_eq "$line" connected "the followers"
rss0=$(rss)
read -r -u 3 line
assert_eq "$line" stalled "the followers"
rss1=$(rss)
info "RSS of unikd with 4 stalled followers: ${rss0} KiB, after 10 s ${rss1} KiB"
[ $((rss1 - rss0)) -lt $((32 * 1024)) ] ||
    fail "unikd grew by $(((rss1 - rss0) / 1024)) MiB in 10 s"
for i in 1 2 3 4; do
	read -r -u 3 bytes marker || fail "follower $i said nothing"
	info "follower $i read $bytes bytes, marker: $marker"
	assert_eq "$marker" True "the skip marker for follower $i"
done
exec 3<&-
sleep 1
rss2=$(rss)
info "RSS after the followers closed: ${rss2} KiB"
[ $((rss2 - rss0)) -lt $((32 * 1024)) ] ||
    fail "unikd kept $(((rss2 - rss0) / 1024)) MiB after the followers closed"
grep -q "bytes of console output skipped" "$T/unikd.log" &&
    fail "the marker reached the log"
uk kill flood >/dev/null
echo "PASS: stalled-followers"
