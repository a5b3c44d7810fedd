#!/bin/sh
# mkdeb.sh VERSION [LIB]: build build/dadshim_VERSION_ARCH.deb from the built
# library LIB (default shim/libdadshim.so; make deb passes its hardened
# build/deb/libdadshim.so) with dpkg-deb.  Depends: are derived from the binary.
set -eu

[ $# -eq 1 ] || [ $# -eq 2 ] || { echo "usage: $0 VERSION [LIB]" >&2; exit 2; }
version=$1
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
lib=${2:-shim/libdadshim.so}
[ -f "$lib" ] || { echo "mkdeb: $lib is missing; run make first" >&2; exit 1; }
for t in dpkg-deb dpkg-architecture objdump strip gzip; do
	command -v "$t" >/dev/null || { echo "mkdeb: $t is missing (packages dpkg-dev, binutils)" >&2; exit 1; }
done

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
maintainer=${DEB_MAINTAINER:-dadshim maintainers <dadshim@example.org>}
libdir=/usr/lib/$multiarch
shimlib=$libdir/dadshim/libdadshim.so
units='strongswan.service strongswan-starter.service strongswan-swanctl.service ipsec.service'

# The changelog states the version: refuse to ship a package that contradicts it.
clver=$(sed -n '1s/^dadshim (\([^)]*\)).*/\1/p' scripts/deb/changelog)
[ "$clver" = "$version" ] || {
	echo "mkdeb: scripts/deb/changelog starts with version '$clver', not '$version': add an entry" >&2
	exit 1
}

# Lowest libc6 that has every versioned glibc symbol the library imports
# (objdump -T lists the undefined ones with "*UND*").
libc=$(objdump -T "$lib" | awk '$0 ~ /\*UND\*/ { for (i = 1; i <= NF; i++)
		if ($i ~ /^\(?GLIBC_[0-9.]+\)?$/) { v = $i; gsub(/[()]|GLIBC_/, "", v); print v } }' |
	sort -t. -k1,1n -k2,2n -k3,3n | tail -n 1)
[ -n "$libc" ] || { echo "mkdeb: no GLIBC_ symbol versions found in $lib" >&2; exit 1; }
# Only libc, libmnl, libdl and libpthread may be needed (libdl and libpthread
# are part of libc6); anything else would be a missing dependency.
extra=''
for n in $(objdump -p "$lib" | awk '$1 == "NEEDED" { print $2 }'); do
	case $n in
	libc.so.6|libdl.so.2|libpthread.so.0|libmnl.so.0) ;;
	*) echo "mkdeb: $lib needs $n, which the package does not depend on" >&2; exit 1 ;;
	esac
done

out=$top/build
stage=$out/deb-root
rm -rf "$stage"
mkdir -p "$stage/DEBIAN"
umask 022

# LIB=: make install ships this library, not the tree's (already built: no rebuild).
"${MAKE:-make}" -s install DESTDIR="$stage" PREFIX=/usr LIBDIR="$libdir" VERSION="$version" \
	LIB="$lib" >/dev/null
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage$shimlib"

man=$stage/usr/share/man/man8
gzip -9n "$man/dadshim.8"
rm -f "$man/dadshim-enable.8" "$man/dadshim-doctor.8"
ln -s dadshim.8.gz "$man/dadshim-enable.8.gz"
ln -s dadshim.8.gz "$man/dadshim-doctor.8.gz"

for u in $units; do
	mkdir -p "$stage/lib/systemd/system/$u.d"
	sed "s|@LIB@|$shimlib|" scripts/deb/dropin.conf.in >"$stage/lib/systemd/system/$u.d/dadshim.conf"
done

doc=$stage/usr/share/doc/dadshim
mkdir -p "$doc"
cp scripts/deb/copyright "$doc/copyright"
sed "s|@MAINTAINER@|$maintainer|" scripts/deb/changelog | gzip -9n >"$doc/changelog.gz"
if [ -f README.md ]; then
	gzip -9n <README.md >"$doc/README.md.gz"
fi

mkdir -p "$stage/usr/share/lintian/overrides"
sed -n '/^dadshim:/p' scripts/deb/lintian-overrides >"$stage/usr/share/lintian/overrides/dadshim"

for s in postinst prerm postrm; do
	install -m 0755 "scripts/deb/$s" "$stage/DEBIAN/$s"
done
size=$(du -k -s --exclude=DEBIAN "$stage" | awk '{ print $1 }')
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$maintainer|" \
	-e "s|@SIZE@|$size|" -e "s|@LIBC@|$libc|" -e "s/@EXTRA@/$extra/" scripts/deb/control.in >"$stage/DEBIAN/control"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort |
	xargs md5sum) >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"

deb=$out/dadshim_${version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "mkdeb: built $deb (Depends: $(sed -n 's/^Depends: //p' "$stage/DEBIAN/control"))"
rm -rf "$stage"
