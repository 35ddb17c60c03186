#!/bin/bash
# The Debian package: `dpkg-buildpackage -us -uc -b` builds it from a copy
# of the source tree, lintian finds no errors, it installs on this machine
# with apt-get (sysusers make the unikd group and the unikd-tender user,
# the units are enabled), `unikd -n` accepts the installed config, the
# installed units pass `systemd-analyze verify`, the man pages render, the
# bash completion completes `unikctl net <TAB>`, and the installed unikd
# serves unikctl. Then the package is purged and what it made is removed.
#
# It installs packages (its build dependencies and lintian once, the .deb
# each time) and takes one to two minutes. UNIKD_TEST_PACKAGE=0 skips it;
# so do a sanitizer build (the package is built without them) and a tree
# that is not a git work tree (make distcheck), unless
# UNIKD_TEST_PACKAGE=1.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

case ${UNIKD_TEST_PACKAGE:-auto} in
0)
	echo "SKIP: UNIKD_TEST_PACKAGE=0"
	exit 77 ;;
1) ;;
*)
	if grep -q '^SAN_CFLAGS = .*sanitize' "$top_builddir/Makefile"; then
		echo "SKIP: a sanitizer build (UNIKD_TEST_PACKAGE=1 forces it)"
		exit 77
	fi
	if [ ! -e "$top_srcdir/.git" ]; then
		echo "SKIP: not a git work tree (UNIKD_TEST_PACKAGE=1 forces it)"
		exit 77
	fi ;;
esac
command -v apt-get >/dev/null && command -v dpkg-query >/dev/null || {
	echo "SKIP: not a Debian system"
	exit 77
}
if dpkg-query -W -f='${Status}' unikd 2>/dev/null | grep -q installed; then
	echo "SKIP: a unikd package is installed here already; not touching it"
	exit 77
fi
export DEBIAN_FRONTEND=noninteractive

info "build dependencies"
tools="dpkg-dev debhelper fakeroot lintian man-db bash"
deps=$(sed -n '/^Build-Depends:/,/^[A-Z][-A-Za-z]*:/p' \
    "$top_srcdir/debian/control" | sed '1s/^Build-Depends://;$d' |
    tr ',' '\n' | sed 's/(.*)//; s/^[[:space:]]*//; s/[[:space:]]*$//' |
    grep -v '^$' | sed 's/^debhelper-compat$/debhelper/; /^dh-sequence-/d')
missing=
for p in $tools $deps; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
if [ -n "$missing" ]; then
	info "apt-get install$missing"
	# shellcheck disable=SC2086
	apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends $missing >/dev/null ||
	    { apt-get update -qq && apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
	        --no-install-recommends $missing >/dev/null; } ||
	    fail "cannot install$missing"
fi

info "dpkg-buildpackage"
src=$T/pkg/unikd
mkdir -p "$src"
if [ -e "$top_srcdir/.git" ]; then
	# the files of the work tree, not the build trees beside them
	(cd "$top_srcdir" && git ls-files -co --exclude-standard -z |
	    tar --null -T - -cf -) | tar -xf - -C "$src" ||
	    fail "cannot copy the source tree"
else
	cp -a "$top_srcdir/." "$src/" || fail "cannot copy the source tree"
	chmod -R u+w "$src"
fi
start=$(date +%s)
# The package's own `make check-unit` must not see this make's variables
# (MAKEFLAGS carries TEST_LOGS, which would run every test again, this one
# included).
(cd "$src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u TESTS -u TEST_LOGS \
    UNIKD_TEST_PACKAGE=0 dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1 || {
	tail -n 60 "$T/build.log" >&2
	fail "dpkg-buildpackage failed (log above)"
}
info "built in $(($(date +%s) - start))s"
deb=$(ls "$T"/pkg/unikd_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || fail "no .deb made"
contents=$(dpkg-deb -c "$deb")
for f in ./usr/sbin/unikd ./usr/bin/unikctl ./usr/libexec/unikd-monitor \
    ./usr/bin/unikd-oci ./usr/share/man/man8/unikd-oci.8.gz \
    ./lib/systemd/system/unikd.service ./lib/systemd/system/unikd.socket \
    ./usr/lib/sysusers.d/unikd.conf ./usr/lib/tmpfiles.d/unikd.conf \
    ./usr/share/bash-completion/completions/unikctl ./etc/unikd/unikd.conf \
    ./usr/share/man/man8/unikd.8.gz ./usr/share/man/man1/unikctl.1.gz \
    ./usr/share/man/man5/unikd.conf.5.gz; do
	echo "$contents" | grep -q " $f\$" || fail "the .deb lacks $f"
done
dpkg-deb -I "$deb" conffiles | grep -qx /etc/unikd/unikd.conf ||
    fail "/etc/unikd/unikd.conf is not a conffile"

info "lintian"
lintian --tag-display-limit 0 "$deb" >"$T/lintian.log" 2>&1
cat "$T/lintian.log"
grep -q '^E: ' "$T/lintian.log" && fail "lintian reports errors"

info "apt-get install ./$(basename "$deb")"
had_group=$(getent group unikd)
had_user=$(getent passwd unikd-tender)
had_kvm=$(getent group kvm)
had_dirs=
for d in /var/lib/unikd /run/unikd /etc/unikd; do
	[ -e "$d" ] && had_dirs="$had_dirs $d"
done
# Undoes the install whatever happens below: purge, then remove the users
# and directories it made that were not there before.
uninstall() {
	local d
	dpkg-query -W unikd >/dev/null 2>&1 &&
	    apt-get -o DPkg::Lock::Timeout=300 purge -y -qq unikd >/dev/null 2>&1
	[ -z "$had_user" ] && getent passwd unikd-tender >/dev/null &&
	    userdel unikd-tender
	[ -z "$had_user" ] && getent group unikd-tender >/dev/null &&
	    groupdel unikd-tender
	[ -z "$had_group" ] && getent group unikd >/dev/null && groupdel unikd
	[ -z "$had_kvm" ] && getent group kvm >/dev/null && groupdel kvm
	for d in /var/lib/unikd /run/unikd /etc/unikd; do
		case " $had_dirs " in *" $d "*) ;; *) rm -rf "$d" ;; esac
	done
}
CLEANUP_HOOKS+=(uninstall)
(cd "$T/pkg" && apt-get -o DPkg::Lock::Timeout=300 install -y -qq "./$(basename "$deb")") \
    >"$T/install.log" 2>&1 || {
	cat "$T/install.log" >&2
	fail "apt-get install of the .deb failed"
}
getent group unikd >/dev/null || fail "no unikd group after install"
getent passwd unikd-tender | grep -q ':/usr/sbin/nologin$' ||
    fail "no unikd-tender user with no login: $(getent passwd unikd-tender)"
id -nG unikd-tender | grep -qw kvm ||
    fail "unikd-tender is not in the kvm group: $(id -nG unikd-tender)"
[ -d /var/lib/unikd/images ] || fail "tmpfiles did not make /var/lib/unikd/images"
assert_eq "$(stat -c %a /var/lib/unikd /var/lib/unikd/images | tr '\n' ' ')" \
    "700 700 " "modes of /var/lib/unikd and its images"
for l in /etc/systemd/system/sockets.target.wants/unikd.socket \
    /etc/systemd/system/multi-user.target.wants/unikd.service; do
	[ -L "$l" ] || fail "$l: the unit is not enabled"
done

info "unikd -n on the installed config"
out=$(/usr/sbin/unikd -n -f /etc/unikd/unikd.conf 2>&1) ||
    fail "unikd -n -f /etc/unikd/unikd.conf: $out"
assert_eq "$out" "configuration OK" "unikd -n"
out=$(/usr/sbin/unikd -n 2>&1) || fail "unikd -n (default config): $out"

info "systemd-analyze verify on the installed units"
out=$(systemd-analyze verify /lib/systemd/system/unikd.service \
    /lib/systemd/system/unikd.socket 2>&1)
rc=$?
echo "$out" | grep -F 'unikd.' && fail "systemd-analyze verify complains"
assert_eq "$rc" 0 "exit code of systemd-analyze verify"

info "man pages"
for page in man8/unikd.8 man1/unikctl.1 man5/unikd.conf.5 \
    man8/unikd-oci.8; do
	out=$(MANWIDTH=80 man -l "/usr/share/man/$page.gz" 2>"$T/man.err" |
	    col -b) || fail "man -l $page"
	assert_contains "$out" "NAME" "$page rendered"
	[ -s "$T/man.err" ] && fail "man -l $page: $(cat "$T/man.err")"
done

info "bash completion"
comp() {	# WORDS...: what completing the last word offers
	bash -c '. /usr/share/bash-completion/completions/unikctl
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _unikctl
printf "%s\n" "${COMPREPLY[@]}"' comp "$@"
}
out=$(comp unikctl net "")
for w in create ls inspect rm; do
	echo "$out" | grep -qx "$w" || fail "unikctl net <TAB> lacks $w: $out"
done
out=$(comp unikctl "")
for w in info ps run stop logs; do
	echo "$out" | grep -qx "$w" || fail "unikctl <TAB> lacks $w: $out"
done

info "the installed unikd serves the installed unikctl"
# this test's config, with the installed monitor (the default path)
sed -i '/^monitor = /d' "$CONF"
echo "=== installed unikd" >>"$T/unikd.log"
/usr/sbin/unikd -d -f "$CONF" >>"$T/unikd.log" 2>&1 &
UNIKD_PID=$!
wait_for 10 "the installed unikd" eval '/usr/bin/unikctl -s "$SOCK" info >/dev/null 2>&1'
/usr/bin/unikctl -s "$SOCK" run --name p1 --tender solo5-spt --image "$IMG" \
    -- --print-every=100 >/dev/null || fail "run through the installed unikd"
wait_state p1 running
out=$(comp unikctl -s "$SOCK" stop "")
assert_contains "$out" p1 "VM names completed for stop"
/usr/bin/unikctl -s "$SOCK" rm -f p1 >/dev/null || fail "rm -f p1"
stop_unikd

info "apt-get purge"
apt-get -o DPkg::Lock::Timeout=300 purge -y -qq unikd >/dev/null 2>&1 || fail "apt-get purge unikd"
[ -e /lib/systemd/system/unikd.service ] && fail "unit left after purge"
[ -e /etc/systemd/system/sockets.target.wants/unikd.socket ] &&
    fail "enablement left after purge"
exit 0
