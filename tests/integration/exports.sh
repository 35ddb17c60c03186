#!/bin/bash
# Block exports are streamed from the file, not copied into memory: twelve
# 64 MiB exports that nobody reads grow unikd by far less than one of
# them, and one read to the end has the block's bytes. Offsets and
# Content-Range numbers no file can have get a 400 or 416 that says so.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_cmd curl curl
start_unikd
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$UNIKD_PID/status"; }

# api METHOD PATH [curl args...]: sets STATUS and RESP.
api() {
	local m=$1 p=$2
	shift 2
	STATUS=$(curl -sS --max-time 20 --unix-socket "$SOCK" -X "$m" "$@" \
	    -o "$T/resp" -w '%{http_code}' "http://localhost$p") ||
	    fail "curl $m $p"
	RESP=$(cat "$T/resp")
}

uk block create b1 64M >/dev/null || fail "block create b1"
head -c 1M /dev/urandom >"$T/piece"
api PUT /v1/blocks/b1/data -H 'Content-Range: bytes 33554432-34603007/*' \
    --data-binary @"$T/piece"
assert_eq "$STATUS" 200 "import of a piece ($RESP)"

info "12 unread exports of 64 MiB"
rss0=$(rss)
"$PY" - "$SOCK" >"$T/held" <<'EOF' &
import socket, sys, time
conns = []
for _ in range(12):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(sys.argv[1])
    s.send(b"GET /v1/blocks/b1/data?offset=0&length=67108864 HTTP/1.1\r\n"
           b"Host: x\r\n\r\n")
    conns.append(s)
print("sent", flush=True)
time.sleep(4)
EOF
held=$!
wait_for 5 "the exports to be sent" grep -q sent "$T/held"
sleep 2
rss1=$(rss)
info "RSS of unikd: ${rss0} KiB, with the exports ${rss1} KiB"
[ $((rss1 - rss0)) -lt $((32 * 1024)) ] ||
    fail "12 unread exports grew unikd by $(((rss1 - rss0) / 1024)) MiB"
wait "$held"

info "an export read to the end"
curl -sS --max-time 20 --unix-socket "$SOCK" -o "$T/out" \
    "http://localhost/v1/blocks/b1/data?offset=33554432&length=1048576" ||
    fail "export"
cmp "$T/out" "$T/piece" || fail "the exported bytes differ from the imported"
api GET '/v1/blocks/b1/data?offset=67108864'
assert_eq "$STATUS" 200 "export at the end"
assert_eq "$(stat -c %s "$T/resp")" 0 "bytes past the end"

info "numbers no file offset can be"
api GET '/v1/blocks/b1/data?offset=9223372036854775807'
assert_eq "$STATUS" 416 "export at offset INT64_MAX ($RESP)"
assert_contains "$RESP" "past the end of block 'b1'" "export at INT64_MAX"
printf x >"$T/one"
api PUT /v1/blocks/b1/data --data-binary @"$T/one" \
    -H 'Content-Range: bytes 18446744073709551615-18446744073709551615/*'
assert_eq "$STATUS" 400 "Content-Range at 2^64-1 ($RESP)"
assert_contains "$RESP" "the largest offset a file may have" \
    "Content-Range at 2^64-1"
api PUT /v1/blocks/b1/data --data-binary @"$T/one" \
    -H 'Content-Range: bytes 9223372036854775806-9223372036854775806/*'
assert_eq "$STATUS" 413 "Content-Range past the block ($RESP)"
assert_contains "$RESP" "at offset 9223372036854775806 ends past the end" \
    "Content-Range past the block"
echo "PASS: exports"
