#!/bin/bash
# The docs against the code, so that they cannot drift apart:
# - every key of the config key table (daemon/conf-keys.c) is described
#   in its section of unikd.conf(5) and shown in contrib/unikd.conf;
# - every unikctl command and option (from unikctl help) is in unikctl(1)
#   and offered by the bash completion (run in bash);
# - every route of the API's route table (control/api/api.c) is in
#   docs/api.md;
# - every unikctl command line of the README's sh blocks is accepted by
#   unikctl's parser (no usage error, exit 2, against a socket that is
#   not there).
# Needs no root and no daemon.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$PWD}"
ctl=$top_builddir/unikctl
[ -x "$ctl" ] || { echo "FAIL: $ctl is not built" >&2; exit 99; }
command -v python3 >/dev/null || { echo "SKIP: python3 is needed"; exit 77; }
bad=0
miss() { echo "FAIL: $*" >&2; bad=1; }

# Config keys, section by section.
while read -r section key; do
	awk -v s="[$section]" -v k="$key" '
		/^\.SH / { in_s = index($0, s) > 0; next }
		in_s && index($0, ".BR " k " ") == 1 { found = 1 }
		END { exit !found }' "$top_srcdir/docs/unikd.conf.5" ||
		miss "unikd.conf(5) does not describe [$section] $key"
	awk -v s="[$section]" -v k="$key" '
		/^\[/ { in_s = ($0 == s); next }
		in_s && ($0 ~ "^;?" k " *=") { found = 1 }
		END { exit !found }' "$top_srcdir/contrib/unikd.conf" ||
		miss "contrib/unikd.conf does not show [$section] $key"
done < <(sed -n -E 's/^ *\{"([a-z]+)", "([a-z_]+)", CONF_.*/\1 \2/p' \
    "$top_srcdir/daemon/conf-keys.c")

# unikctl commands and options.
man=$top_srcdir/docs/unikctl.1
cmds=$("$ctl" help | sed -n -E '/^Commands:/,$ s/^  ([a-z][a-z0-9-]*) .*/\1/p')
[ -n "$cmds" ] || miss "unikctl help lists no command"
complete_words() {	# WORDS...: what the completion offers after them
	bash -c '
		. "$1/contrib/bash-completion/unikctl"
		shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_unikctl
		printf "%s\n" "${COMPREPLY[@]}"' _ "$top_srcdir" "$ctl" "$@" 2>/dev/null
}
offered=$(complete_words "")
for cmd in $cmds; do
	grep -qE "^\.B[IR]? \"?$cmd([ \"\\\\]|$)" "$man" ||
		miss "unikctl(1) does not describe the command $cmd"
	grep -qx -- "$cmd" <<<"$offered" ||
		miss "the completion does not offer the command $cmd"
	opts=$("$ctl" help "$cmd" | grep -oE -- '(^|[][ ,|(])--[a-z][-a-z0-9]*' |
	    sed -E 's/^[][ ,|(]//' | sort -u)
	copts=$(complete_words "$cmd" "--")
	for opt in $opts; do
		roff=${opt//-/\\-}
		grep -qF -- "$roff" "$man" ||
			miss "unikctl(1) does not mention $cmd $opt"
		grep -qx -- "$opt" <<<"$copts" ||
			miss "the completion does not offer $cmd $opt"
	done
done

# API routes: "METHOD /v1/vms/{name}/stop" as "METHOD /v1/vms/NAME/stop".
while read -r method path; do
	re="(^- |\`)$method +${path//\{name\}/[A-Z]+}([ \`?.[]|$)"
	grep -qE -- "$re" "$top_srcdir/docs/api.md" ||
		miss "docs/api.md does not list $method $path"
done < <(sed -n -E 's/^ *\{EVHTTP_REQ_([A-Z]+), "(\/[^"]*)".*/\1 \2/p' \
    "$top_srcdir/control/api/api.c")

# README: each unikctl command line of a ```sh block parses.
sock=$(mktemp -u /tmp/uk-docs.XXXXXX)
while IFS= read -r line; do
	eval "set -- $line" 2>/dev/null || { miss "README: cannot split: $line"; continue; }
	[ "$1" = unikctl ] || continue
	shift
	"$ctl" -s "$sock" "$@" </dev/null >/dev/null 2>&1
	rc=$?
	[ "$rc" != 2 ] || miss "README: unikctl refuses 'unikctl $*' (usage error)"
done < <(python3 - "$top_srcdir/README.md" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
for block in re.findall(r"```sh\n(.*?)```", text, re.S):
    joined = re.sub(r"\\\n\s*", " ", block)
    for line in joined.splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        if line.startswith("unikctl "):
            print(line)
EOF
)
# The project's design notes are docs/design.md; no other file is meant.
for f in "$top_srcdir"/README.md "$top_srcdir"/docs/*; do
	grep -q "DESIGN\.md" "$f" && miss "$f points to a DESIGN.md the tree does not have"
done
[ "$bad" = 0 ] && echo "PASS: docs match the code"
exit "$bad"
