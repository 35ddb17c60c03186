#!/bin/bash
# An image swapped, after its VM was created, for a FIFO, a symlink to a
# file only root may read, a device or a directory: unikd neither hangs
# nor follows it. GET of the VM answers at once and names the problem in
# "manifest", a start is a 422 naming the file, GET /v1/info keeps
# answering meanwhile, and a start of the real file hands the tender the
# very fd unikd checked (/dev/fd/97). Paths outside image_dirs get the
# same answer whether or not they exist.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_cmd curl curl
start_unikd

# api METHOD PATH [BODY]: sets STATUS, RESP and SECS (the time taken).
api() {
	printf '%s' "${3-}" >"$T/req"
	read -r STATUS SECS < <(curl -sS --max-time 8 --unix-socket "$SOCK" \
	    -X "$1" --data-binary @"$T/req" -o "$T/resp" \
	    -w '%{http_code} %{time_total}\n' "http://localhost$2") ||
	    fail "curl $1 $2: no answer within 8 s"
	RESP=$(cat "$T/resp")
}
msg() { printf '%s' "$RESP" | jget 'd["error"]["message"]'; }

A=$T/images/a.img
cp "$IMG" "$A"
chmod 0644 "$A"
uk create --name v1 --tender solo5-spt --image "$A" -- --print-every=1000 \
    >/dev/null || fail "create v1"

# swap KIND: replaces a.img by a FIFO, a symlink, a device or a directory
swap() {
	rm -rf "$A"
	case $1 in
	fifo) mkfifo -m 0644 "$A" ;;
	symlink) ln -s /etc/shadow "$A" ;;
	device) mknod -m 0644 "$A" c 1 3 ;;	# /dev/null
	directory) mkdir "$A" ;;
	esac
}

declare -A SAYS=([fifo]="a FIFO" [symlink]="symbolic link"
    [device]="a device" [directory]="a directory")
for kind in fifo symlink device directory; do
	info "image swapped for a $kind"
	swap "$kind"
	# a reader of the info while unikd is at it: it must keep answering
	( for i in 1 2 3 4 5; do
		curl -sS --max-time 8 --unix-socket "$SOCK" -o /dev/null \
		    -w '%{time_total}\n' http://localhost/v1/info || echo 99
	done >"$T/info.times" ) &
	info_pid=$!
	api GET /v1/vms/v1
	assert_eq "$STATUS" 200 "GET v1 with a $kind"
	err=$(printf '%s' "$RESP" | jget 'd["manifest"]["error"]')
	assert_contains "$err" "$A" "manifest error names the file"
	assert_contains "$err" "${SAYS[$kind]}" "manifest error ($kind)"
	api POST /v1/vms/v1/start
	assert_eq "$STATUS" 422 "start v1 with a $kind ($RESP)"
	assert_contains "$(msg)" "$A" "start error names the file"
	assert_contains "$(msg)" "${SAYS[$kind]}" "start error ($kind)"
	assert_eq "$(vm_field v1 state)" created "v1 after a refused start"
	wait "$info_pid"
	slow=$(awk '$1 >= 1 { n++ } END { print n + 0 }' "$T/info.times")
	assert_eq "$slow" 0 "GET /v1/info answers taking 1 s or more"
	info "info answered in $(tr '\n' ' ' <"$T/info.times")s"
done
assert_not_contains "$(cat "$T/unikd.log")" "root:" "unikd.log"

info "create with a symlink, and paths outside image_dirs"
ln -s /etc/shadow "$T/images/shadow"
api POST /v1/vms "{\"name\":\"v2\",\"tender\":\"solo5-spt\",\"image\":\"$T/images/shadow\"}"
assert_eq "$STATUS" 422 "create through a symlink"
assert_contains "$(msg)" "symbolic link" "create through a symlink"
api POST /v1/vms '{"name":"v2","tender":"solo5-spt","image":"/etc/shadow"}'
assert_eq "$STATUS" 422 "create with /etc/shadow"
m1=$(msg)
api POST /v1/vms '{"name":"v2","tender":"solo5-spt","image":"/etc/no-such-file"}'
assert_eq "$STATUS" 422 "create with a missing file outside"
m2=$(msg)
assert_eq "${m1//\/etc\/shadow/X}" "${m2//\/etc\/no-such-file/X}" \
    "errors for an existing and a missing file outside image_dirs"
api POST /v1/vms "{\"name\":\"v2\",\"tender\":\"solo5-spt\",\"image\":\"$T/images/../../etc/shadow\"}"
assert_eq "$STATUS" 422 "create with .. out of the image dir"
assert_not_contains "$(uk ls 2>&1)" "v2" "VM list"

info "the real file again: the tender gets the fd unikd opened"
rm -rf "$A"
cp "$IMG" "$A"
chmod 0644 "$A"
uk start v1 >/dev/null || fail "start v1"
wait_state v1 running
pid=$(vm_field v1 pid)
assert_eq "$(readlink "/proc/$pid/fd/97")" "$A" "the tender's fd 97"
assert_contains "$(tr '\0' ' ' <"/proc/$pid/cmdline")" "-- /dev/fd/97" \
    "the tender's argv"
uk kill v1 >/dev/null 2>&1
echo "PASS: hostile-image"
