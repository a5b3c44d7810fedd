#!/bin/sh
# Install the Debian packages listed in scripts/packages.txt that are missing
# (with --demo, only those above the "tests only" line: what `make demo`
# needs). Run as root on Debian; a no-op when everything is there already.
set -eu
here=$(dirname "$0")
list=$here/packages.txt
if [ "${1:-}" = --demo ]; then
	pkgs=$(sed -n -e '/^# tests only/q' -e 's/#.*//' -e p "$list" | tr -s ' \n' '  ')
else
	pkgs=$(sed -e 's/#.*//' "$list" | tr -s ' \n' '  ')
fi
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
# An old package list cannot find anything: refresh it once when an install fails.
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null ||
	{ apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $missing >/dev/null; }
