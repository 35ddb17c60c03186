#!/bin/bash
# Connections cannot pin unikd: idle, slow-sending (slowloris) and
# half-sent bodies are closed after request_timeout; past max_connections
# accepting pauses with one warning and resumes when connections close;
# at the file descriptor limit unikd does not spin; a stream (follow)
# outlives request_timeout; a chunked body past max_body_size is a 413
# before it is all sent.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_cmd prlimit util-linux
MPORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >>"$CONF" <<EOF

[metrics]
listen = 127.0.0.1:$MPORT

[limits]
max_connections = 20
request_timeout = 2
max_body_size = 4M
EOF
start_unikd

# hold N_IDLE N_SLOW N_HALF WAIT [PORT]: opens the connections (to the
# API socket, or the metrics port), then waits up to WAIT s for unikd to
# close each; prints how many it closed, and when.
hold() {
	"$PY" - "$SOCK" "$@" <<'EOF'
import socket, sys, time, select
path, n_idle, n_slow, n_half, wait = sys.argv[1], *map(int, sys.argv[2:6])
port = int(sys.argv[6]) if len(sys.argv) > 6 else 0
conns = []
def conn(kind):
    if port:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    else:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port) if port else path)
    except BlockingIOError:
        pass
    conns.append([s, kind, None, 0])
for _ in range(n_idle): conn("idle")
for _ in range(n_slow): conn("slow")
for _ in range(n_half): conn("half")
t0 = time.monotonic()
for c in conns:
    s, kind = c[0], c[1]
    try:
        if kind == "slow":
            s.send(b"GET /v1/info HTTP/1.1\r\n")
        elif kind == "half":
            s.send(b"PUT /v1/images/big HTTP/1.1\r\nHost: x\r\n"
                   b"Content-Length: 3000000\r\n\r\n" + b"x" * 65536)
    except OSError:
        pass
last_drip = t0
while time.monotonic() - t0 < wait and any(c[2] is None for c in conns):
    now = time.monotonic()
    if now - last_drip >= 0.5:        # slowloris: a header byte at a time
        last_drip = now
        for c in conns:
            if c[1] == "slow" and c[2] is None:
                try: c[0].send(b"X")
                except OSError: pass
    r, _, _ = select.select([c[0] for c in conns if c[2] is None], [], [], 0.1)
    for c in conns:
        if c[0] in r:
            try:
                data = c[0].recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                c[2] = time.monotonic() - t0
closed = [c for c in conns if c[2] is not None]
print(len(closed), max([c[2] for c in closed] or [0]))
EOF
}

info "20 idle, 5 slowloris and 3 half-sent bodies against max_connections 20"
read -r closed latest < <(hold 20 5 3 15)
info "unikd closed $closed of 28, the last after ${latest}s"
assert_eq "$closed" 28 "connections unikd closed"
uk info >/dev/null || fail "info after the connections"
n=$(grep -c "accepting paused" "$T/unikd.log")
assert_eq "$n" 1 "warnings for the max_connections episode"
# later: no second warning without accepting again in between
one_per_episode() {
	awk '/accepting paused/ { if (p) bad = 1; p = 1 }
	    /accepting connections again/ { p = 0 }
	    END { exit bad }' "$T/unikd.log"
}
grep -q "max_connections (20) reached" "$T/unikd.log" ||
    fail "the warning does not name max_connections"
grep -q "accepting connections again" "$T/unikd.log" ||
    fail "no word of accepting again"

info "the same on the metrics port"
read -r closed latest < <(hold 25 5 0 15 "$MPORT")
info "unikd closed $closed of 30 on the metrics port, the last after ${latest}s"
assert_eq "$closed" 30 "metrics connections unikd closed"
grep -q "metrics: max_connections (20) reached: accepting paused" \
    "$T/unikd.log" || fail "no warning for the metrics port's episode"
curl -sS --max-time 5 -o /dev/null "http://127.0.0.1:$MPORT/metrics" ||
    fail "GET /metrics after the connections"

info "a stream outlives request_timeout"
curl -sS -N --unix-socket "$SOCK" \
    'http://localhost/v1/events?follow=true' >"$T/follow.out" 2>&1 &
follow=$!
sleep 4
alive "$follow" || fail "the events stream ended after request_timeout"
uk create --name v1 --tender solo5-spt --image "$IMG" >/dev/null ||
    fail "create v1"
wait_for 5 "the create event on the stream" grep -q '"v1"' "$T/follow.out"
kill "$follow"
wait "$follow" 2>/dev/null

info "a chunked body past max_body_size"
status=$(head -c 8M /dev/zero | curl -sS --max-time 20 --unix-socket \
    "$SOCK" -X PUT -H 'Transfer-Encoding: chunked' --data-binary @- \
    -o /dev/null -w '%{http_code}' http://localhost/v1/images/big) ||
    fail "curl with a chunked body"
assert_eq "$status" 413 "a chunked 8M body with max_body_size 4M"

info "at the file descriptor limit"
nfd=$(ls "/proc/$UNIKD_PID/fd" | wc -l)
soft=$(prlimit --pid "$UNIKD_PID" --nofile -o SOFT --noheadings)
prlimit --pid "$UNIKD_PID" --nofile=$((nfd + 4)): || fail "prlimit"
log0=$(wc -l <"$T/unikd.log")
ticks() { awk '{ print $14 + $15 }' "/proc/$UNIKD_PID/stat"; }
cpu0=$(ticks)
read -r closed latest < <(hold 30 0 0 20)
cpu=$(( $(ticks) - cpu0 ))
logged=$(( $(wc -l <"$T/unikd.log") - log0 ))
info "30 connections with 4 spare fds: $closed closed by unikd," \
    "${cpu} CPU ticks, $logged log lines"
assert_eq "$closed" 30 "connections closed at the fd limit"
grep -q "accept: Too many open files: accepting paused" "$T/unikd.log" ||
    fail "no warning for the fd shortage"
[ "$cpu" -lt 300 ] || fail "unikd used $cpu CPU ticks: it spins"
[ "$logged" -lt 200 ] || fail "unikd logged $logged lines: it spins"
one_per_episode || fail "two warnings in one episode"
prlimit --pid "$UNIKD_PID" --nofile="$soft": || fail "prlimit back"
uk info >/dev/null || fail "info after the fd shortage"
echo "PASS: connections"
