#!/bin/bash
# Observability: the event stream (follow, and a reconnect with since=
# that gets exactly the missed events), event pruning by count and age,
# console logs of a crashed VM after it is gone and after unikd restarts,
# logs --timestamps and --since, per-VM stats (CPU time grows for a busy
# guest, RSS > 0), /metrics on the socket and on TCP checked against the
# exposition grammar, ps, and bad input.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

CHECK="$PY $top_srcdir/tests/integration/metrics-check.py"
PORT=$((20000 + $$ % 20000))
cat >>"$CONF" <<EOF2

[metrics]
listen = 127.0.0.1:$PORT
EOF2
start_unikd

api() {	# PATH: GET on the control socket, body on stdout
	curl -sS --max-time 10 --unix-socket "$SOCK" "http://localhost$1"
}
status_of() {	# PATH: the HTTP status of a GET
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
	    --unix-socket "$SOCK" "http://localhost$1"
}
seqs() {	# the seq of each event on stdin, one a line
	jlines 'str(e["seq"])'
}

info "a follower sees running -> exited (SIGKILL) -> restarting -> running"
curl -sS --no-buffer --max-time 60 --unix-socket "$SOCK" \
    "http://localhost/v1/events?follow=true&vm=e1" >"$T/follow1" 2>&1 &
F1=$!
CLEANUP_HOOKS+=("kill $F1 2>/dev/null")
sleep 0.3
run_vm e1 --restart on-failure:3 -- --print-every=100
wait_state e1 running
pid1=$(vm_field e1 pid)
kill -9 "$pid1"
restarted() {
	local p
	p=$(vm_field e1 pid)
	[ "$(vm_field e1 state)" = running ] && [ "$p" != null ] &&
	    [ "$p" != "$pid1" ]
}
wait_for 10 "e1 to run again" restarted
sleep 0.3
kill "$F1" 2>/dev/null
wait "$F1" 2>/dev/null
types=$(jlines 'e["type"] + ("(" + e["exit_reason"] + ")" if e["type"] == "vm.exited" else "")' \
    <"$T/follow1" | tr '\n' ' ')
info "followed: $types"
assert_contains "$types" \
    "vm.running vm.exited(killed by SIGKILL) vm.restarting vm.starting vm.running" \
    "events seen by the follower"

info "a reconnect with since= gets exactly the missed events"
curl -sS --no-buffer --max-time 60 --unix-socket "$SOCK" \
    "http://localhost/v1/events?follow=true" >"$T/follow2" 2>&1 &
F2=$!
CLEANUP_HOOKS+=("kill $F2 2>/dev/null")
sleep 0.3
uk stop e1 >/dev/null || fail "stop e1"
wait_state e1 exited
sleep 0.3
kill "$F2" 2>/dev/null
wait "$F2" 2>/dev/null
last=$(seqs <"$T/follow2" | tail -n 1)
[ -n "$last" ] || fail "the first follower got no events"
# Missed while disconnected: a VM created, started, stopped, removed.
run_vm e2 -- --print-every=100
wait_state e2 running
uk rm -f e2 >/dev/null || fail "rm -f e2"
curl -sS --no-buffer --max-time 60 --unix-socket "$SOCK" \
    "http://localhost/v1/events?follow=true&since=$last" >"$T/follow3" 2>&1 &
F3=$!
CLEANUP_HOOKS+=("kill $F3 2>/dev/null")
sleep 0.5
run_vm e3 -- --print-every=100	# and one more while connected again
wait_state e3 running
sleep 0.3
kill "$F3" 2>/dev/null
wait "$F3" 2>/dev/null
api "/v1/events" | seqs >"$T/all"
{ seqs <"$T/follow2"; seqs <"$T/follow3"; } >"$T/joined"
first=$(head -n 1 "$T/follow2" | seqs)
awk -v f="$first" '$1 >= f' "$T/all" >"$T/want"
diff "$T/want" "$T/joined" >/dev/null ||
    fail "seqs seen across the reconnect differ from the log: $(diff "$T/want" "$T/joined" | head)"
assert_consecutive "event seqs across the reconnect" <"$T/joined"
assert_contains "$(jlines 'e["type"]' <"$T/follow3" | tr '\n' ' ')" \
    "vm.removed" "events after the reconnect"
info "$(wc -l <"$T/follow2") + $(wc -l <"$T/follow3") events, seqs $first..$(tail -n 1 "$T/joined")"

info "stats: CPU time grows for a busy guest, RSS > 0"
run_vm busy -- --print-every=1
wait_state busy running
s1=$(uk --json stats busy) || fail "stats busy"
sleep 2
s2=$(uk --json stats busy) || fail "stats busy again"
c1=$(echo "$s1" | jget 'd["cpu_user_seconds"] + d["cpu_system_seconds"]')
c2=$(echo "$s2" | jget 'd["cpu_user_seconds"] + d["cpu_system_seconds"]')
rss=$(echo "$s2" | jget 'd["memory_rss_bytes"]')
info "cpu ${c1}s -> ${c2}s, rss $rss bytes"
"$PY" -c "import sys; sys.exit(0 if $c2 > $c1 else 1)" ||
    fail "CPU time did not grow: $c1 -> $c2"
# with room in the open-file budget, the tender's stat file stays open
kept() {
	local f
	for f in /proc/"$UNIKD_PID"/fd/*; do
		[ "$(readlink "$f")" = "/proc/$(vm_field busy pid)/stat" ] &&
		    return 0
	done
	return 1
}
kept || fail "unikd keeps no open stat file of busy's tender"
[ "$rss" -gt 0 ] || fail "RSS is $rss"
assert_eq "$(echo "$s2" | jget 'd["state"]')" running "stats state"
assert_eq "$(echo "$s2" | jget 'd["pid"]')" "$(vm_field busy pid)" "stats pid"
up=$(echo "$s2" | jget 'd["uptime_seconds"]')
[ "$up" -ge 1 ] || fail "uptime_seconds is $up after 2s"
all=$(uk --json stats) || fail "stats of every VM"
assert_eq "$(echo "$all" | jget '[v["name"] for v in d["vms"] if v["name"] == "busy"]')" \
    '["busy"]' "busy in GET /v1/stats"
table=$(uk stats) || fail "stats table"
assert_contains "$table" "CPU TIME" "stats table"
assert_contains "$(echo "$table" | grep '^busy ')" "running" "busy's row"
assert_eq "$(uk --json stats e1 | jget 'd["cpu_user_seconds"]')" null \
    "CPU time of a stopped VM"
# Under the sanitizer build, LeakSanitizer's exit-time scan (ptrace
# stop-the-world) was seen to hang here once, right after the SIGINT:
# no leak check for this one call (others check unikctl), and -k so a
# hang can never stall the suite.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    timeout -k 10 --preserve-status -s INT 3 \
    "$top_builddir/unikctl" -s "$SOCK" stats --watch busy >"$T/watch"
assert_eq "$?" 0 "exit code of stats --watch ended by SIGINT"
[ "$(grep -c $'\033\[H\033\[2J' "$T/watch")" -ge 2 ] ||
    fail "stats --watch did not redraw"

info "/metrics on the socket and on TCP parse cleanly"
api /metrics >"$T/metrics" || fail "GET /metrics"
$CHECK '^unikd_vm_info\{vm="busy",tender="solo5-spt",state="running"\} 1$' \
    '^unikd_vm_up\{vm="busy"\} 1$' '^unikd_vm_up\{vm="e1"\} 0$' \
    '^unikd_vm_restarts_total\{vm="e1"\} 1$' \
    '^unikd_vm_cpu_seconds_total\{vm="busy",mode="user"\} [0-9.]+$' \
    '^unikd_vm_cpu_seconds_total\{vm="busy",mode="system"\} ' \
    '^unikd_vm_memory_rss_bytes\{vm="busy"\} [1-9][0-9]*$' \
    '^unikd_vm_uptime_seconds\{vm="busy"\} ' \
    '^unikd_vms\{state="running"\} 2$' '^unikd_vms\{state="exited"\} 1$' \
    '^unikd_api_requests_total\{method="GET",route="/v1/vms/\{name\}",code="200"\} ' \
    '^unikd_api_request_duration_seconds_bucket\{method="GET",route="/v1/vms/\{name\}",le="\+Inf"\} ' \
    '^unikd_events_total [1-9]' '^unikd_netlink_errors_total ' \
    '^unikd_gc_removed_links_total ' <"$T/metrics" ||
    fail "GET /metrics on the socket"
grep -q 'route="/v1/vms/busy"' "$T/metrics" &&
    fail "a raw path is used as a route label"
curl -sS --max-time 10 "http://127.0.0.1:$PORT/metrics" >"$T/metrics-tcp" ||
    fail "GET /metrics on 127.0.0.1:$PORT"
$CHECK '^unikd_vm_up\{vm="busy"\} 1$' <"$T/metrics-tcp" ||
    fail "GET /metrics on TCP"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/v1/vms")" \
    404 "the TCP listener serves /metrics only"

info "after a restart, stats and /metrics read the new tender"
# (unikd keeps each tender's /proc stat file open between reads)
c_old=$(uk --json stats busy | jget 'd["cpu_user_seconds"] + d["cpu_system_seconds"]')
pid_old=$(vm_field busy pid)
uk restart busy >/dev/null || fail "restart busy"
new_pid() { [ "$(vm_field busy state)" = running ] &&
    [ "$(vm_field busy pid)" != "$pid_old" ]; }
wait_for 10 "busy to run again with a new tender" new_pid
s3=$(uk --json stats busy) || fail "stats busy after the restart"
c_new=$(echo "$s3" | jget 'd["cpu_user_seconds"] + d["cpu_system_seconds"]')
[ "$(echo "$s3" | jget 'd["memory_rss_bytes"]')" -gt 0 ] ||
    fail "no RSS for the new tender: $s3"
"$PY" -c "import sys; sys.exit(0 if $c_new < $c_old else 1)" ||
    fail "CPU time after the restart ($c_new) is not the new tender's (before: $c_old)"
api /metrics | $CHECK '^unikd_vm_memory_rss_bytes\{vm="busy"\} [1-9][0-9]*$' ||
    fail "/metrics has no RSS for busy's new tender"

info "logs --timestamps and --since"
uk logs --timestamps -n 5 busy >"$T/stamped" || fail "logs --timestamps"
assert_eq "$(wc -l <"$T/stamped")" 5 "lines of logs --timestamps -n 5"
grep -Eqv '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z ' \
    "$T/stamped" && fail "a line without its timestamp: $(head -n 2 "$T/stamped")"
assert_contains "$(cat "$T/stamped")" "testguest: tick" "stamped lines"
uk logs --timestamps busy | awk '{ print $1 }' >"$T/times"
now=$(date +%s)	# after the read: the guest prints while it runs
"$PY" - "$T/times" "$now" <<'PY' || fail "timestamps are not within the VM's run"
import sys, datetime
now = int(sys.argv[2])
ts = [datetime.datetime.strptime(l.strip(), "%Y-%m-%dT%H:%M:%S.%fZ")
      .replace(tzinfo=datetime.timezone.utc).timestamp()
      for l in open(sys.argv[1]) if l.strip()]
assert ts == sorted(ts), "not in order"
assert now - 30 <= ts[0] <= now + 1 and ts[-1] <= now + 1, (ts[0], ts[-1], now)
PY
sleep 1
n_all=$(uk logs busy | wc -l)
n_since=$(uk logs --since 1s busy | wc -l)
info "busy: $n_all lines, $n_since in the last second"
[ "$n_since" -gt 0 ] && [ "$n_since" -lt "$n_all" ] ||
    fail "logs --since 1s gave $n_since of $n_all lines"
since=$(date -u -d '-1 sec' +%Y-%m-%dT%H:%M:%S.000Z)
n_abs=$(uk logs --since "$since" busy | wc -l)
[ "$n_abs" -gt 0 ] && [ "$n_abs" -lt "$n_all" ] ||
    fail "logs --since $since gave $n_abs of $n_all lines"
uk logs --since 1s --timestamps busy | grep -Eqv '^[0-9-]{10}T' &&
    fail "logs --since --timestamps has a line without a time"
assert_eq "$(uk logs --since 1m e1 | grep -c 'testguest: ready')" 2 \
    "boots of e1 in the last minute"
uk logs --since yesterday busy >/dev/null 2>&1
assert_eq "$?" 2 "exit code of logs --since with a bad time"

info "logs of a crashed VM, after it is gone and after unikd restarts"
run_vm crash -- --print-every=20
wait_state crash running
sleep 0.5
kill -9 "$(vm_field crash pid)"
wait_state crash exited
assert_eq "$(vm_field crash exit_reason)" "killed by SIGKILL" "crash exit_reason"
uk logs crash >"$T/crash1" || fail "logs crash"
assert_contains "$(tail -n 1 "$T/crash1")" "testguest: tick" "crash's last line"
cmp -s "$T/crash1" "$T/state/vms/crash/console.log" ||
    fail "logs without flags differ from console.log"
uk logs -n 3 crash >"$T/crash-tail"
assert_eq "$(wc -l <"$T/crash-tail")" 3 "logs -n 3 crash"
stop_unikd
start_unikd
uk logs crash >"$T/crash2" || fail "logs crash after the restart"
cmp -s "$T/crash1" "$T/crash2" || fail "crash's log changed across a restart"
assert_contains "$(uk logs --timestamps -n 1 crash)" "testguest: tick" \
    "logs --timestamps of crash after the restart"

info "ps shows state, uptime, tender, restarts and exit"
ps_out=$(uk ps -a)
echo "$ps_out" | head -n 1 | grep -Eq '^NAME +STATE +UPTIME +TENDER +PID +ADDRESSES +RESTARTS +EXIT$' ||
    fail "ps header: $(echo "$ps_out" | head -n 1)"
assert_contains "$(echo "$ps_out" | grep '^crash ')" "killed by SIGKILL" "crash in ps -a"
assert_contains "$(echo "$ps_out" | grep '^e1 ')" "solo5-spt" "e1 in ps -a"

info "bad input: clear 4xx"
assert_eq "$(status_of '/v1/events?since=abc')" 400 "events since=abc"
assert_eq "$(status_of '/v1/events?since=99999999')" 400 "events since in the future"
assert_contains "$(api '/v1/events?since=99999999')" "in the future" "its message"
assert_eq "$(status_of '/v1/events?vm=nosuch')" 404 "events of an unknown VM"
assert_eq "$(status_of '/v1/events?vm=e2')" 200 "events of a removed VM"
assert_eq "$(status_of '/v1/vms/nosuch/stats')" 404 "stats of an unknown VM"
assert_eq "$(status_of '/v1/vms/busy/console?tail=-1')" 400 "negative tail"
assert_eq "$(status_of '/v1/vms/busy/console?since=abc')" 400 "console since=abc"
assert_eq "$(status_of '/v1/vms/busy/console?timestamps=yes')" 400 "timestamps=yes"
uk stats nosuch >/dev/null 2>&1
assert_eq "$?" 1 "exit code of stats of an unknown VM"

info "events are pruned by count and by age"
stop_unikd
cat >>"$CONF" <<EOF2

[events]
max_count = 5
max_age = 2
EOF2
start_unikd
uk stop busy >/dev/null
wait_state busy exited
n=$(api /v1/events | seqs | wc -l)
[ "$n" -le 5 ] && [ "$n" -ge 1 ] || fail "$n events kept with max_count = 5"
api /v1/events | seqs | assert_consecutive "the kept events"
sleep 3
assert_eq "$(api /v1/events | seqs | wc -l)" 0 "events kept after max_age"
uk start busy >/dev/null
wait_state busy running
n=$(api /v1/events | seqs | wc -l)
[ "$n" -ge 1 ] && [ "$n" -le 3 ] || fail "$n events after a start"
echo "PASS"
