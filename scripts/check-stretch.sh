#!/bin/sh
# check-stretch.sh [LIB]: can the built library run on Debian 9 "stretch"?
#  - highest GLIBC_ symbol version it requires <= 2.24 (stretch's glibc),
#  - NEEDED entries only libc, libmnl, libdl, libpthread (each one is
#    loaded into every process of the strongSwan service),
#  - the shim sources compile with -std=gnu99 -pedantic -Werror.
# Prints TAP (tests/lib/tap.sh; under tests/deploy it numbers on in that
# suite's stream); exits non-zero if anything failed.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/lib/tap.sh
. "$top/tests/lib/tap.sh"
lib=${1:-$top/shim/libdadshim.so}
max_glibc=2.24
cc=${CC:-cc}

command -v objdump >/dev/null || { fail stretch-tools "objdump missing: install binutils"; exit 1; }
[ -f "$lib" ] || { fail stretch-glibc "$lib is missing: run make"; exit 1; }

# Versioned imports as "VERSION SYMBOL", e.g. "2.34 dlsym".
imports=$(objdump -T "$lib" | awk '$0 ~ /\*UND\*/ {
	for (i = 1; i <= NF; i++) if ($i ~ /^\(?GLIBC_[0-9.]+\)?$/) {
		v = $i; gsub(/[()]|GLIBC_/, "", v); print v, $NF } }' |
	sort -t. -k1,1n -k2,2n -k3,3n)
highest=$(printf '%s\n' "$imports" | awk 'NF { v = $1 } END { print v }')
tap_note "highest GLIBC_ version required by $lib: ${highest:-none}"
# Compare dotted versions numerically (2.9 < 2.24).
too_new=$(printf '%s\n' "$imports" | awk -v max="$max_glibc" 'NF {
	n = split($1, a, "."); split(max, m, ".")
	for (i = 1; i <= 3; i++) { x = (i <= n) ? a[i] + 0 : 0; y = m[i] + 0
		if (x > y) { print "GLIBC_" $1 " " $2; break } if (x < y) break } }')
if [ -n "$too_new" ]; then
	fail stretch-glibc "needs glibc newer than $max_glibc: $(printf '%s\n' "$too_new" | paste -sd, - | sed 's/,/, /g')"
else
	pass "stretch-glibc (highest GLIBC_${highest:-none} <= $max_glibc)"
fi

needed=$(objdump -p "$lib" | awk '$1 == "NEEDED" { print $2 }')
bad=
for n in $needed; do
	case $n in
	libc.so.6|libmnl.so.0|libdl.so.2|libpthread.so.0) ;;
	*) bad="$bad $n" ;;
	esac
done
needed_list=$(printf '%s\n' "$needed" | paste -sd' ' -)
if [ -n "$bad" ]; then
	fail stretch-needed "unexpected NEEDED:$bad (all: $needed_list)"
elif ! printf '%s\n' "$needed" | grep -qx 'libc.so.6'; then
	fail stretch-needed "libc.so.6 is not NEEDED (all: $needed_list)"
else
	pass "stretch-needed ($needed_list)"
fi

# Compile (not link) every shim source the way gcc 6 would be strict about.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; tap_end' EXIT
mnl=$(pkg-config --cflags libmnl 2>/dev/null || true)
errs='' count=0
for src in "$top"/shim/*.c; do
	count=$((count + 1))
	# shellcheck disable=SC2086
	if ! "$cc" -std=gnu99 -pedantic -Wall -Wextra -Werror -D_GNU_SOURCE -fPIC $mnl \
		-c "$src" -o "$tmp/$(basename "$src" .c).o" 2>"$tmp/err"; then
		errs="$errs $(basename "$src")"
		sed 's/^/#     /' "$tmp/err"
	fi
done
if [ -n "$errs" ]; then
	fail stretch-pedantic "-std=gnu99 -pedantic -Werror fails for:$errs"
else
	pass "stretch-pedantic ($count files, $("$cc" -dumpversion))"
fi
[ "$TAP_FAILS" -eq 0 ]
