#!/bin/bash
# unikd-oci's overhead, against unikctl, with the test guest as tender
# (run by hand as root from the build directory, never by make check;
# see tests/bench/README.md):
#
#   create→console  `unikd-oci create` + `start` until the guest's first
#                   console line reaches the container's stdout
#   podman run      `podman run --rm` of a guest that exits at once
#   unikctl run     `unikctl run --attach --rm` of the same guest
#
# usage: tests/bench/oci-bench.sh [RUNS]   (default 20; medians printed)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/oci-engine.sh"
RUNS=${1:-20}

start_unikd
mkdir -p "$T/b/rootfs"
cp "$top_builddir/unik-testguest" "$T/b/rootfs/app.spt"
cat >"$T/b/config.json" <<'EOF'
{"ociVersion": "1.0.2", "root": {"path": "rootfs"},
 "process": {"args": ["/app.spt", "--exit-after=0"], "cwd": "/"},
 "annotations": {"org.unikd.tender": "solo5-spt"}}
EOF

# create + start, until the first line on the container's stdout; the
# container process is reaped here (a subreaper, as the engines are).
"$PY" - "$OCI" "$T/b" "$RUNS" >"$T/create.ms" <<'EOF'
import ctypes, os, subprocess, sys, time
oci, bundle, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
for i in range(runs):
    cid = "bench%d" % i
    r, w = os.pipe()
    t0 = time.monotonic()
    subprocess.run([oci, "create", "--bundle", bundle, "--pid-file",
                    bundle + "/pid", cid], stdout=w, check=True)
    os.close(w)
    subprocess.run([oci, "start", cid], check=True)
    with os.fdopen(r, "rb") as f:
        f.readline()
        t1 = time.monotonic()
        f.read()
    os.waitpid(int(open(bundle + "/pid").read()), 0)
    subprocess.run([oci, "delete", cid], check=True)
    print("%.1f" % ((t1 - t0) * 1000))
EOF
[ -s "$T/create.ms" ] || fail "create→console runs failed"

ms() {	# CMD...: wall milliseconds of one run
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}
: >"$T/unikctl.ms"
for ((i = 0; i < RUNS; i++)); do
	ms uk run --attach --rm --tender solo5-spt \
	    --image "$IMG" -- --exit-after=0 >>"$T/unikctl.ms"
done
if command -v podman >/dev/null && command -v conmon >/dev/null; then
	podman_setup
	podman_image
	: >"$T/podman.ms"
	for ((i = 0; i < RUNS; i++)); do
		ms pod run --rm --network none \
		    --annotation org.unikd.tender=solo5-spt localhost/ukguest \
		    --exit-after=0 >>"$T/podman.ms"
	done
fi

median() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "-"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.1f", m }'
}
c=$(median "$T/create.ms")
u=$(median "$T/unikctl.ms")
printf '%-34s %6s runs, median %8s ms\n' \
    "unikd-oci create→first console line" "$RUNS" "$c" \
    "unikctl run --attach --rm" "$RUNS" "$u"
if [ -s "${T}/podman.ms" ]; then
	p=$(median "$T/podman.ms")
	printf '%-34s %6s runs, median %8s ms\n' "podman run --rm" "$RUNS" "$p"
	awk -v p="$p" -v u="$u" 'BEGIN { printf "podman run / unikctl run: %.1fx\n", p / u }'
fi
