# shellcheck shell=sh
# tests/lib/mirror.sh: the Debian mirror apt uses on this machine, for the
# suites that debootstrap a root (systemd, arch).  Sourced.

# debian_mirror SUITE: the first non-security URI of deb822 sources, else
# the first "deb" line for SUITE in sources.list, else deb.debian.org.
debian_mirror() {
	_m=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null |
		grep -v security | head -n 1)
	[ -n "$_m" ] || _m=$(awk -v s="$1" '$1 == "deb" && $3 == s { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
	echo "${_m:-http://deb.debian.org/debian}"
}
