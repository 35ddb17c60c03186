#!/bin/bash
# The README's unikctl examples (the ```sh blocks that start with
# `unikctl`), run line by line against a real unikd in a network
# namespace of the test's own. The example images do not exist here:
# every image path of the README stands for the test image, as the test
# guest stands for every unikernel. A line that follows (-f) runs for a
# few seconds and must print; the `run --attach --rm` job gets an exit
# after one second, as a real job would end; every other line must exit 0.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

unikd_netns uk-readme-$$
tun_open_to_tender
start_unikd

blocks=$("$PY" - "$top_srcdir/README.md" <<'PYEOF'
import re, sys
text = open(sys.argv[1]).read()
for block in re.findall(r"```sh\n(.*?)```", text, re.S):
    joined = re.sub(r"\\\n\s*", " ", block)
    lines = [re.sub(r"\s+#.*$", "", l).strip() for l in joined.splitlines()]
    lines = [l for l in lines if l]
    if lines and all(l.startswith("unikctl ") for l in lines):
        print("\n".join(lines))
        print("--")
PYEOF
)
[ -n "$blocks" ] || fail "the README has no block of unikctl examples"

n=0
while IFS= read -r line; do
	[ "$line" = "--" ] && continue
	eval "set -- $line" || fail "README: cannot split: $line"
	shift	# unikctl
	args=()
	for a in "$@"; do
		case $a in
		/srv/unikernels/*|./*.spt) a=$IMG ;;
		esac
		args+=("$a")
	done
	n=$((n + 1))
	info "$line"
	case " ${args[*]} " in
	*" -f "*)
		timeout 3 "$top_builddir/unikctl" -s "$SOCK" "${args[@]}" \
		    >"$T/out" 2>&1
		rc=$?
		[ "$rc" = 124 ] || { cat "$T/out"; fail "'$line' ended ($rc)"; }
		[ -s "$T/out" ] || fail "'$line' printed nothing"
		;;
	*" --attach "*)
		uk "${args[@]}" -- --exit-after=1 >"$T/out" 2>&1 ||
		    { cat "$T/out"; fail "'$line' exited $?"; }
		assert_contains "$(cat "$T/out")" "testguest: exiting with code 0" \
		    "the job's console"
		;;
	*)
		uk "${args[@]}" >"$T/out" 2>&1 ||
		    { cat "$T/out"; fail "'$line' exited $?"; }
		;;
	esac
done <<<"$blocks"
[ "$n" -ge 10 ] || fail "only $n README lines ran"

info "what the examples made is there"
assert_eq "$(uk inspect web1 >/dev/null 2>&1; echo $?)" 1 "web1 is removed"
vm=$(uk --json inspect dns1) || fail "inspect dns1"
assert_eq "$(jget 'd["state"]' <<<"$vm")" running "dns1's state"
assert_eq "$(jget 'd["nics"][0]["ip"]' <<<"$vm")" 10.0.0.2 "dns1's address"
assert_contains "$(uk logs dns1)" "ipv4=10.0.0.2/24" "dns1 got its placeholders"
echo "PASS"
