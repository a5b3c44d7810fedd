#!/bin/sh
# scripts/check-deb.sh DEB: what make deb checks in every package it builds,
# for any architecture: the Architecture field, the library's ELF machine
# for it, no glibc symbol version newer than stretch's 2.24, and lintian.
# Prints one line; exits 1 on the first thing wrong.
set -eu
deb=$1
die() { echo "check-deb: $(basename "$deb"): $*" >&2; exit 1; }
arch=$(dpkg-deb -f "$deb" Architecture)
case $arch in
amd64) machine='Advanced Micro Devices X86-64' ;;
i386) machine='Intel 80386' ;;
armhf | armel) machine='ARM' ;;
arm64) machine='AArch64' ;;
*) machine='' ;;
esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp"
lib=$(find "$tmp/usr/lib" -name libdadshim.so | head -n 1)
[ -n "$lib" ] || die "no libdadshim.so in the package"
got=$(readelf -h "$lib" | sed -n 's/^ *Machine: *//p')
[ -z "$machine" ] || [ "$got" = "$machine" ] || die "Architecture $arch, but the library is for '$got'"
if [ "$arch" = armhf ]; then
	readelf -h "$lib" | grep -q 'hard-float ABI' || die "armhf, but the library is not of the hard-float ABI"
	got="$got hard-float"
fi
# Highest GLIBC_ version the library needs (readelf reads any architecture).
max=$(readelf -V "$lib" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1)
[ "$(printf '%s\n2.24\n' "$max" | sort -V | tail -n 1)" = 2.24 ] ||
	die "the library needs GLIBC_$max, newer than stretch's 2.24 (see shim/compat.h)"
out=$(lintian "$deb" 2>&1 | grep -v 'running with root privileges' || true)
[ -z "$out" ] || die "lintian: $out"
echo "check-deb: $(basename "$deb"): Architecture $arch, $got library, highest glibc symbol GLIBC_$max, lintian clean"
