#!/bin/bash
# Replays the seed corpus of every fuzz target: no input may crash them.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu
for t in vmspec conf manifest http; do
	"$top_builddir/tests/fuzz/fuzz-$t" "$top_srcdir/tests/fuzz/corpus/$t"
done
