#!/bin/sh
# Install the Debian packages listed in scripts/packages.txt that are missing
# (with --demo, only those above the "tests only" line: what `make demo`
# needs). Run as root on Debian; a no-op when everything is there already.
#
# --arch ARCH: what cross-building for ARCH needs (make deb ARCH=...): the
# architecture added to dpkg, Debian's cross toolchain and libmnl-dev:ARCH;
# --arch ARCH --vm: also what make check-arch boots it with (qemu-system).
set -eu
here=$(dirname "$0")
list=$here/packages.txt
arch=''
case ${1:-} in
--arch)
	arch=${2:?--arch needs a Debian architecture, e.g. armhf}
	pkgs="crossbuild-essential-$arch libmnl-dev:$arch"
	if [ "${3:-}" = --vm ]; then
		case $arch in i386 | amd64) q=qemu-system-x86 ;; *) q=qemu-system-arm ;; esac
		pkgs="$pkgs $q cpio"
	fi
	;;
--demo) pkgs=$(sed -n -e '/^# tests only/q' -e 's/#.*//' -e p "$list" | tr -s ' \n' '  ') ;;
*) pkgs=$(sed -e 's/#.*//' "$list" | tr -s ' \n' '  ') ;;
esac
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing; run as root or install them" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
if [ -n "$arch" ] && ! dpkg --print-foreign-architectures | grep -qx "$arch" &&
	[ "$arch" != "$(dpkg --print-architecture)" ]; then
	dpkg --add-architecture "$arch"
	apt-get update -q >/dev/null
fi
# An old package list cannot find anything: refresh it once when an install fails.
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null ||
	{ apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $missing >/dev/null; }
