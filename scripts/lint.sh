#!/bin/sh
# Static analysis of the shim and its C tests: cppcheck and clang-tidy must
# stay clean (any finding fails), and the sources are checked as C99 with
# -pedantic.
set -eu
cd "$(dirname "$0")/.."
fail=0
defs="-D_GNU_SOURCE -D__x86_64__ -D__GLIBC__"
srcs=$(ls shim/*.c)
tests=$(ls tests/*.c 2>/dev/null || true)

# shellcheck disable=SC2086
if cppcheck -q --enable=warning,style,performance,portability --std=c99 \
	--error-exitcode=1 --inline-suppr --suppress=missingIncludeSystem \
	$defs -I shim $srcs $tests; then
	echo "PASS: cppcheck"
else
	echo "FAIL: cppcheck (findings above)"; fail=1
fi

checks='-*,clang-analyzer-*,bugprone-*,-bugprone-easily-swappable-parameters'
checks="$checks,-bugprone-reserved-identifier,cert-*,-cert-dcl37-c,-cert-dcl51-cpp"
checks="$checks,misc-*,-misc-unused-parameters,performance-*,portability-*"
out=$(mktemp)
# shellcheck disable=SC2086
clang-tidy -quiet -checks="$checks" -warnings-as-errors='*' $srcs -- \
	-std=gnu99 -D_GNU_SOURCE -Ishim $(pkg-config --cflags libmnl) >"$out" 2>&1 || true
if grep -q -E '(warning|error):' "$out"; then
	grep -E -A3 '(warning|error):' "$out"
	echo "FAIL: clang-tidy (findings above)"; fail=1
else
	echo "PASS: clang-tidy"
fi
rm -f "$out"

# What gcc 6 on stretch accepts: C99 with GNU extensions, pedantic.
tmp=$(mktemp -d)
# shellcheck disable=SC2086
if cc -std=gnu99 -pedantic -Wall -Wextra -Werror -fPIC -D_GNU_SOURCE \
	-fsyntax-only $srcs 2>"$tmp/err"; then
	echo "PASS: gnu99 -pedantic"
else
	cat "$tmp/err"; echo "FAIL: gnu99 -pedantic"; fail=1
fi

# A preloaded library's global symbols replace the host program's own:
# exactly the wrapped libc functions may be exported, nothing else.
lib=shim/libdadshim.so
if [ -f "$lib" ]; then
	want=$(sed -n '/global:/,/local:/p' shim/dadshim.map | tr -s ' \t;' '\n\n\n' |
		grep -Ev '^(|global:|local:|\*)$' | sort)
	have=$(nm -D --defined-only "$lib" | awk '{ print $3 }' | sort)
	if [ "$want" = "$have" ]; then
		echo "PASS: exports only the $(echo "$have" | wc -l) wrapped libc symbols"
	else
		echo "exported:"; echo "$have"; echo "expected:"; echo "$want"
		echo "FAIL: exported symbols differ from shim/dadshim.map"; fail=1
	fi
else
	echo "FAIL: $lib not built (run make)"; fail=1
fi
# The rollout playbook: Debian's ansible-lint, offline, production profile.
if command -v ansible-lint >/dev/null 2>&1; then
	if ANSIBLE_HOME=$tmp ansible-lint --offline --nocolor -p scripts/ansible/dadshim.yml >"$tmp/al" 2>&1; then
		echo "PASS: ansible-lint (scripts/ansible, $(sed -n 's/.*Passed with \([a-z]*\) profile.*/\1/p' "$tmp/al") profile)"
	else
		cat "$tmp/al"; echo "FAIL: ansible-lint (findings above)"; fail=1
	fi
else
	echo "FAIL: ansible-lint is missing (run sh scripts/deps.sh)"; fail=1
fi
rm -rf "$tmp"
exit $fail
