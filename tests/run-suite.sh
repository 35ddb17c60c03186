#!/bin/bash
# The whole test suite: installs what the tests need, builds with warnings
# as errors, runs `make check` (unit and integration tests), then builds
# again with AddressSanitizer + UndefinedBehaviorSanitizer and runs the
# suite once more. Prints "N passed, N failed" at the end.
set -u
cd "$(dirname "$0")/.."
top=$PWD

[ "$(id -u)" = 0 ] || echo "run-suite: not root: integration tests will be skipped" >&2
./contrib/deps.sh || exit 1
autoreconf -fi >/dev/null 2>&1 || { echo "autoreconf failed" >&2; exit 1; }

passed=0 failed=0 skipped=0
count() {
	# automake's harness writes one .trs per test
	local d=$1 r
	for r in $(find "$d/tests" -name '*.trs'); do
		case $(sed -n 's/^:test-result: //p' "$r" | head -1) in
		PASS) passed=$((passed + 1)) ;;
		SKIP) skipped=$((skipped + 1)) ;;
		*) failed=$((failed + 1)) ;;
		esac
	done
}

run_build() {
	local dir=$1; shift
	rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || return 1
	"$top/configure" -q --enable-werror "$@" || return 1
	make -s -j2 >/dev/null || { make -j1 2>&1 | tail -40; return 1; }
	make -s -j2 check || { cat tests/*/*.log tests/*.log 2>/dev/null | tail -200; }
	cd "$top"
	count "$dir"
}

status=0
run_build "$top/build-check" || status=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_build "$top/build-san" --enable-sanitizers || status=1

echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ "$status" = 0 ]
