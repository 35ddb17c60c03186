#!/bin/bash
# A reply that reports a change leaves unikd only once the change is
# committed (group commit, docs/design.md "Durability"). 16 clients
# create VMs at once, and unikd is killed with SIGKILL the moment the
# 48th 201 arrives, other requests still in flight; then the same with
# create+start. After each restart, every VM a client was answered 201
# for exists, in its state (created; running, its monitor adopted), with
# its events (vm.created; vm.starting).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

# clients PREFIX QUERY: 16 clients POST /v1/vms?QUERY until the 48th
# 201, which SIGKILLs unikd; the names answered 201 go to $T/answered.
clients() {
	"$PY" - "$SOCK" "$IMG" "$UNIKD_PID" "$1" "$2" >"$T/answered" \
	    2>"$T/clients" <<'EOF'
import http.client, json, os, signal, socket, sys, threading

path, img, pid, prefix, query = sys.argv[1:6]
KILL_AT = 48
lock = threading.Lock()
answered = []
killed = threading.Event()


class Conn(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(path)


def client(c):
    n = 0
    while not killed.is_set():
        name = "%s%d-%d" % (prefix, c, n)
        n += 1
        body = json.dumps({"name": name, "tender": "solo5-spt",
                           "image": img})
        try:
            h = Conn("unikd", timeout=30)
            h.request("POST", "/v1/vms?" + query, body,
                      {"Content-Type": "application/json"})
            r = h.getresponse()
            text = r.read()
            h.close()
        except (OSError, http.client.HTTPException):
            return  # unikd is gone
        if r.status != 201:
            print("%s: %d %s" % (name, r.status, text), file=sys.stderr)
            continue
        # a 201 read after the kill was sent before it: it counts too
        with lock:
            answered.append(name)
            if len(answered) == KILL_AT:
                os.kill(int(pid), signal.SIGKILL)
                killed.set()


threads = [threading.Thread(target=client, args=(c,)) for c in range(16)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("\n".join(answered))
EOF
	# (in braces so that bash does not report the job as "Killed")
	{ wait "$UNIKD_PID"; } 2>/dev/null
	UNIKD_PID=
	[ -s "$T/clients" ] && fail "a request was refused: $(head -3 "$T/clients")"
	n=$(wc -l <"$T/answered")
	((n >= 48)) || fail "only $n VMs were answered 201 before the kill"
	info "$n VMs answered 201"
}

# check STATE EVENTS...: every VM in $T/answered is in STATE and has
# EVENTS; what is wrong is in $T/check.
check() {
	curl -sS --max-time 10 --unix-socket "$SOCK" http://localhost/v1/vms \
	    >"$T/vms" || return 1
	curl -sS --max-time 10 --unix-socket "$SOCK" \
	    http://localhost/v1/events >"$T/events" || return 1
	"$PY" - "$T/answered" "$T/vms" "$T/events" "$@" >"$T/check" <<'EOF'
import json, sys

answered = open(sys.argv[1]).read().split()
vms = {v["name"]: v for v in json.load(open(sys.argv[2]))["vms"]}
state, want = sys.argv[4], set(sys.argv[5:])
seen = {}
for line in open(sys.argv[3]):
    if line.strip():
        e = json.loads(line)
        seen.setdefault(e.get("vm"), set()).add(e["type"])
for name in answered:
    if name not in vms:
        print("%s: missing" % name)
    elif vms[name]["state"] != state:
        print("%s: %s" % (name, vms[name]["state"]))
    elif not want <= seen.get(name, set()):
        print("%s: events %s" % (name, sorted(seen.get(name, ()))))
EOF
	[ ! -s "$T/check" ]
}

# after_restart STATE EVENTS...: polls check for up to 30 s.
after_restart() {
	local i
	start_unikd
	for ((i = 0; i < 300; i++)); do
		check "$@" && return 0
		sleep 0.1
	done
	fail "after the restart: $(head -5 "$T/check")"
}

start_unikd
info "16 clients create VMs; SIGKILL at the 48th 201"
clients c start=false
after_restart created vm.created
echo "ok 1 - no create answered is lost to a SIGKILL"

info "16 clients create+start VMs; SIGKILL at the 48th 201"
clients r start=true
after_restart running vm.created vm.starting
echo "ok 2 - no create+start answered is lost to a SIGKILL"
