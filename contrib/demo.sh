#!/bin/bash
# The demo: install the build dependencies, build unikd, start it on a
# throwaway state directory, run one demo VM (the test guest through the
# solo5-spt driver), show `unikctl ps` and its console, and clean up.
set -eu
cd "$(dirname "$0")/.."
top=$PWD

[ "$(id -u)" = 0 ] || { echo "demo: run as root (unikd makes TAPs and drops tenders to another user)" >&2; exit 1; }
./contrib/deps.sh
[ -x configure ] || autoreconf -fi
mkdir -p build
(cd build && { [ -f Makefile ] || ../configure -q; } &&
	make -s -j2 unikd unikd-monitor unikctl unik-testguest)
b=$top/build

T=$(mktemp -d /tmp/unikd-demo.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && "$b/unikctl" -s "$T/run/unikd.sock" rm -f demo >/dev/null 2>&1 || true
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/images"
chmod 0755 "$T" "$T/images"   # the tender user reads the image
printf 'demo unikernel image\n' >"$T/images/demo.img"
cat >"$T/unikd.conf" <<CONF
[unikd]
socket = $T/run/unikd.sock
state_dir = $T/state
run_dir = $T/run
admin_group = root
tender_user = nobody
tender_group = nogroup
image_dirs = $T/images
monitor = $b/unikd-monitor

[tender.solo5-spt]
path = $b/unik-testguest
CONF

"$b/unikd" -d -f "$T/unikd.conf" 2>"$T/unikd.log" &
pid=$!
for _ in $(seq 50); do
	"$b/unikctl" -s "$T/run/unikd.sock" info >/dev/null 2>&1 && break
	sleep 0.1
done
ctl() { echo "\$ unikctl $*"; "$b/unikctl" -s "$T/run/unikd.sock" "$@"; }
ctl info
ctl run --name demo --tender solo5-spt --image "$T/images/demo.img" \
	--mem 16M --restart on-failure -- --print-every=300
sleep 2
ctl ps
ctl logs demo
ctl stop demo
ctl ps -a
echo "--- unikd's log"
cat "$T/unikd.log"
