#!/bin/sh
# Build a real charon that has strongSwan 5.5.1's IPv6 DAD race: Debian's
# own strongswan source package with the one statement of the 5.5.2 fix
# (upstream b062d3cc44, "kernel-netlink: Set NODAD flag for virtual IPv6
# addresses") taken out, into a private prefix under build/.  See
# tests/ike/README.md.
#
#   sh tests/ike/build-charon.sh [BUILDDIR]   (default: build/charon-nodad)
#
# Prints "charon-nodad: PREFIX" last on success (nothing else on stdout
# starts so).  Built once: a later run with the same source version, the
# same removal and the same configure line reuses the build (a stamp file).
# Everything it writes stays inside BUILDDIR: apt runs with a private
# sources list (deb-src lines for the mirrors this machine already uses),
# private lists and cache; configure gets --prefix, --sysconfdir,
# --with-piddir and --with-systemdsystemunitdir inside BUILDDIR, so that
# make install touches no system file (by default it would overwrite
# /lib/systemd/system/strongswan.service).  The build dependencies are in
# scripts/packages.txt (libgmp-dev beyond build-essential).
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$top/build/charon-nodad}
mkdir -p "$out"
out=$(cd "$out" && pwd)
prefix=$out/prefix
apt=$out/apt
file=src/libcharon/plugins/kernel_netlink/kernel_netlink_net.c
# The statement that makes 5.5.2 and later immune; its removal is the patch.
stmt='msg->ifa_flags |= IFA_F_NODAD;'
# Only what tests/ike loads (tests/ike/scenario.sh's load list): IKEv2 with
# a PSK, ike=aes128-sha256-modp2048 (5.9 needs kdf for prf+), esp=aes128-
# sha256, sha1 for NAT detection, the starter and stroke (ipsec.conf),
# updown, kernel-netlink, and kernel-libipsec for the backend without
# kernel ESP.
plugins='random nonce aes sha1 sha2 hmac gmp kdf kernel-netlink kernel-libipsec socket-default stroke updown'
confopts="--disable-defaults --enable-charon --enable-ikev2 --disable-load-warning --disable-static"
for p in $plugins; do confopts="$confopts --enable-$p"; done

say() { echo "build-charon: $*" >&2; }

# One build at a time (make check-ike in two trees of one machine).
exec 9>"$out/.lock"
flock 9

# --- private apt: deb-src for the mirrors the machine uses -----------------
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/sources.list.d"
: >"$apt/sources.list"
# deb822 (.sources) stanzas and one-line (.list) entries, deb -> deb-src;
# only Debian's own mirrors (other vendors' have no strongswan source).
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	awk -v RS= '/URIs:[^\n]*debian/ && /Types:[^\n]*deb/ {
		n = split($0, l, "\n")
		for (i = 1; i <= n; i++) {
			if (l[i] ~ /^#/) continue
			if (l[i] ~ /^Types:/) l[i] = "Types: deb-src"
			print l[i]
		}
		print ""
	}' "$f"
done >"$apt/sources.list.d/mirror.sources"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] || continue
	sed -n 's/^[[:space:]]*deb[[:space:]]\(.*debian.*\)/deb-src \1/p' "$f"
done >"$apt/sources.list"
aptopts="-o Dir::Etc::SourceList=$apt/sources.list
	-o Dir::Etc::SourceParts=$apt/sources.list.d
	-o Dir::State::Lists=$apt/lists -o Dir::Cache=$apt/cache
	-o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
	-o Acquire::IndexTargets::deb::Packages::DefaultEnabled=false
	-o Acquire::IndexTargets::deb::Translations::DefaultEnabled=false
	-o APT::Sandbox::User=root"
grep -q -E '^(deb-src|URIs:)' "$apt/sources.list" "$apt/sources.list.d/mirror.sources" || {
	say "no Debian mirror in /etc/apt/sources.list*: cannot fetch the source package"
	exit 1
}

# The index is fetched once per build dir (and again when a fetch fails).
have_index=
for f in "$apt/lists"/*_Sources; do [ -f "$f" ] && have_index=1; done
# shellcheck disable=SC2086 # options are words
[ -n "$have_index" ] ||
	apt-get $aptopts -q update >"$apt/update.log" 2>&1 || {
	say "apt-get update (deb-src) failed:"; tail -n 5 "$apt/update.log" >&2; exit 1; }
# Every version the mirrors list, newest first.
# shellcheck disable=SC2086
versions=$(apt-cache $aptopts showsrc strongswan 2>/dev/null |
	sed -n 's/^Version: //p' | sort -u | sort -r -V)
[ -n "$versions" ] || { say "no strongswan source package on the mirrors"; exit 1; }

stamp_of() { # VERSION: what the build depends on
	printf 'version=%s\nremoved=%s\nfile=%s\nconfigure=%s\n' "$1" "$stmt" "$file" "$confopts"
}
# Reuse: the stamp names a version the mirrors still list (the newest
# fetchable one is the one built), and the binary is there.
if [ -f "$out/stamp" ] && [ -x "$prefix/libexec/ipsec/charon" ]; then
	v=$(sed -n 's/^version=//p' "$out/stamp")
	if [ "$(stamp_of "$v")" = "$(cat "$out/stamp")" ]; then
		say "reused: strongswan $v without the NODAD statement, built $(sed -n 's/^built=//p' "$out/stamp.info" 2>/dev/null)"
		echo "charon-nodad: $prefix"
		exit 0
	fi
fi

t0=$(date +%s)
rm -rf "$out/src" "$prefix" "$out/stamp" "$out/stamp.info"
mkdir -p "$out/src"
# The newest version whose source can be fetched (a security update's
# source may not be on the mirror yet while its binaries are).
got=
for v in $versions; do
	# shellcheck disable=SC2086
	if (cd "$out/src" && apt-get $aptopts -q source "strongswan=$v") >"$out/src/fetch-$v.log" 2>&1; then
		got=$v
		break
	fi
	say "source of strongswan $v not fetchable: $(grep -m 1 -E '^E:' "$out/src/fetch-$v.log" || true)"
	rm -rf "$out/src"/strongswan-[0-9]*/
done
[ -n "$got" ] || { say "no strongswan source could be fetched"; exit 1; }
srcdir=$(find "$out/src" -mindepth 1 -maxdepth 1 -type d -name 'strongswan-*' | head -n 1)
[ -n "$srcdir" ] || { say "apt-get source left no strongswan-* directory"; exit 1; }

# --- the patch: the statement must be there exactly once --------------------
n=$(grep -c -F -- "$stmt" "$srcdir/$file" || true)
if [ "$n" != 1 ]; then
	say "strongswan $got: '$stmt' occurs $n times in $file (expected once): not the code this test was made for"
	exit 1
fi
# Only that statement: the #ifdef around it stays, empty.
grep -v -F -- "$stmt" "$srcdir/$file" >"$srcdir/$file.new"
mv "$srcdir/$file.new" "$srcdir/$file"
[ "$(grep -c -F -- "$stmt" "$srcdir/$file" || true)" = 0 ] || { say "removal failed"; exit 1; }
say "strongswan $got: removed '$stmt' from $file"

# Debian's patches touch Makefile.am (04_disable-libtls-tests): keep make
# from re-running automake (not installed) by dating the generated files
# after their sources.
(cd "$srcdir" && touch aclocal.m4 && sleep 1 && touch configure config.h.in 2>/dev/null;
	sleep 1; find . -name Makefile.in -exec touch {} +)

say "configure (prefix $prefix)"
# shellcheck disable=SC2086
(cd "$srcdir" && ./configure --prefix="$prefix" --sysconfdir="$prefix/etc" \
	--with-piddir="$prefix/run" --with-systemdsystemunitdir="$prefix/systemd" \
	$confopts) >"$out/configure.log" 2>&1 || {
	say "configure failed (see $out/configure.log):"; tail -n 15 "$out/configure.log" >&2; exit 1; }
jobs=$(nproc 2>/dev/null || echo 2)
say "make -j$jobs"
(cd "$srcdir" && make -j"$jobs" && make install) >"$out/make.log" 2>&1 || {
	say "make failed (see $out/make.log):"; tail -n 20 "$out/make.log" >&2; exit 1; }
mkdir -p "$prefix/run"
# Mount points for the tests' own configuration (bound over these).
for f in ipsec.conf ipsec.secrets strongswan.conf; do
	[ -e "$prefix/etc/$f" ] || : >"$prefix/etc/$f"
done
[ -x "$prefix/libexec/ipsec/charon" ] || { say "no charon in $prefix after make install"; exit 1; }
# The built binary really lacks the statement's effect: its kernel-netlink
# plugin was compiled from the changed file (make.log names it).
grep -q 'kernel_netlink_net' "$out/make.log" || { say "kernel_netlink_net.c was not compiled"; exit 1; }
t1=$(date +%s)
stamp_of "$got" >"$out/stamp"
echo "built=$(date -u +%Y-%m-%dT%H:%MZ) in $((t1 - t0)) s" >"$out/stamp.info"
say "built strongswan $got without the NODAD statement in $((t1 - t0)) s"
echo "charon-nodad: $prefix"
