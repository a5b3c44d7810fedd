#!/bin/sh
# Static analysis of the shim and its C tests: cppcheck and clang-tidy must
# stay clean (any finding fails), and the sources are checked as C99 with
# -pedantic; the exported symbols, dadshim(8) against the code
# (scripts/check-manpage.py) and the playbook (ansible-lint).  Prints TAP
# (tests/lib/tap.sh); exits non-zero if anything failed.
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; tap_end' EXIT
# findings FILE: a tool's output, as TAP diagnostics
findings() { sed 's/^/#   /' "$1"; }
defs="-D_GNU_SOURCE -D__x86_64__ -D__GLIBC__"
srcs=$(ls shim/*.c)
tests=$(find tests -name '*.c' | sort)

# shellcheck disable=SC2086
if cppcheck -q --enable=warning,style,performance,portability --std=c99 \
	--error-exitcode=1 --inline-suppr --suppress=missingIncludeSystem \
	$defs -I shim $srcs $tests 2>"$tmp/cppcheck"; then
	pass cppcheck
else
	findings "$tmp/cppcheck"; fail "cppcheck (findings above)"
fi

checks='-*,clang-analyzer-*,bugprone-*,-bugprone-easily-swappable-parameters'
checks="$checks,-bugprone-reserved-identifier,cert-*,-cert-dcl37-c,-cert-dcl51-cpp"
checks="$checks,misc-*,-misc-unused-parameters,performance-*,portability-*"
# Clean means: clang-tidy ran to the end (exit 0) and reported nothing. A
# finding exits 1 (-warnings-as-errors); a crash or a missing tool exits
# otherwise, and a tool that did not run is a failure, not a pass.
tidy_rc=0
# shellcheck disable=SC2086
clang-tidy -quiet -checks="$checks" -warnings-as-errors='*' $srcs -- \
	-std=gnu99 -D_GNU_SOURCE -Ishim $(pkg-config --cflags libmnl) >"$tmp/tidy" 2>&1 || tidy_rc=$?
if grep -q -E '(warning|error):' "$tmp/tidy"; then
	grep -E -A3 '(warning|error):' "$tmp/tidy" | sed 's/^/#   /'
	fail "clang-tidy (findings above)"
elif [ "$tidy_rc" -ne 0 ]; then
	tail -n 20 "$tmp/tidy" | sed 's/^/#   /'
	fail "clang-tidy did not run to the end (exit status $tidy_rc, no finding printed)"
else
	pass clang-tidy
fi

# What gcc 6 on stretch accepts: C99 with GNU extensions, pedantic.
# shellcheck disable=SC2086
if cc -std=gnu99 -pedantic -Wall -Wextra -Werror -fPIC -D_GNU_SOURCE \
	-fsyntax-only $srcs 2>"$tmp/err"; then
	pass "gnu99 -pedantic"
else
	findings "$tmp/err"; fail "gnu99 -pedantic"
fi

# A preloaded library's global symbols replace the host program's own:
# exactly the wrapped libc functions may be exported, nothing else.
lib=shim/libdadshim.so
if [ -f "$lib" ]; then
	want=$(sed -n '/global:/,/local:/p' shim/dadshim.map | tr -s ' \t;' '\n\n\n' |
		grep -Ev '^(|global:|local:|\*)$' | sort)
	have=$(nm -D --defined-only "$lib" | awk '{ print $3 }' | sort)
	if [ -z "$want" ] || [ -z "$have" ]; then
		fail "exports" "nothing to compare: $([ -n "$want" ] || echo "no symbol read from shim/dadshim.map") $([ -n "$have" ] || echo "nm listed no symbol of $lib")"
	elif [ "$want" = "$have" ]; then
		pass "exports only the $(echo "$have" | wc -l) wrapped libc symbols"
	else
		{ echo "exported:"; echo "$have"; echo "expected:"; echo "$want"; } | sed 's/^/#   /'
		fail "exported symbols differ from shim/dadshim.map"
	fi
else
	fail "exports" "$lib not built (run make)"
fi
# dadshim(8) as the tree has it: no placeholder, every --help option in the
# SYNOPSIS, every log format of the shim in LOGS.
if python3 scripts/check-manpage.py >"$tmp/man" 2>&1; then
	pass "man page matches the code ($(sed -n 's/^checked: //p' "$tmp/man"))"
else
	findings "$tmp/man"; fail "man page drifted from the code (findings above)"
fi
# Every variable the playbook and its role take is in the Ansible README.
vars=$(sed -n 's/^\(dadshim_[a-z_]*\):.*/\1/p' scripts/ansible/roles/dadshim/defaults/main.yml
	grep -o 'dadshim_[a-z_]* | default' scripts/ansible/dadshim.yml | sed 's/ .*//')
undoc=''
for v in $vars; do grep -q "\`$v\`" scripts/ansible/README.md || undoc="$undoc $v"; done
if [ -n "$vars" ] && [ -z "$undoc" ]; then
	pass "ansible README lists every variable ($(echo "$vars" | wc -w))"
else
	fail "ansible README lacks:${undoc:- (no variable found: the check reads the files wrongly)}"
fi
# The rollout playbook: Debian's ansible-lint, offline, production profile.
if command -v ansible-lint >/dev/null 2>&1; then
	if ANSIBLE_HOME=$tmp ansible-lint --offline --nocolor -p scripts/ansible/dadshim.yml >"$tmp/al" 2>&1; then
		pass "ansible-lint (scripts/ansible, $(sed -n 's/.*Passed with \([a-z]*\) profile.*/\1/p' "$tmp/al") profile)"
	else
		findings "$tmp/al"; fail "ansible-lint (findings above)"
	fi
else
	fail ansible-lint "ansible-lint is missing (run sh scripts/deps.sh)"
fi
[ "$TAP_FAILS" -eq 0 ]
