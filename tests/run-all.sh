#!/bin/sh
# `make check`: every suite, in order, then one closing line
# "N passed, N failed" counting the PASS:/FAIL: lines of all suites.
# Needs root with CAP_NET_ADMIN (network namespaces, veth, strace).
set -u
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
	echo "FAIL: make check must run as root (it builds network namespaces and veth pairs)"
	echo "0 passed, 1 failed"
	exit 1
fi
probe="dadshim-probe-$$"
if ! ip netns add "$probe" 2>/dev/null; then
	echo "FAIL: cannot create a network namespace: CAP_NET_ADMIN (or CAP_SYS_ADMIN) is missing"
	echo "0 passed, 1 failed"
	exit 1
fi
ip netns del "$probe"

log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
passed=0
failed=0

suite() {
	name=$1
	shift
	echo "=== $name: $*"
	start=$(date +%s)
	"$@" >"$log/$name" 2>&1
	rc=$?
	cat "$log/$name"
	p=$(grep -c '^PASS' "$log/$name")
	f=$(grep -c '^FAIL' "$log/$name")
	# The unit tests count for themselves: their summary line counts every
	# check, and each failed check also printed a "FAIL file:line:" line,
	# which must not be counted a second time.
	u=$(sed -n 's/^unit: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$log/$name")
	if [ -n "$u" ]; then
		p=$((p + ${u% *}))
		f=$(($(grep -c '^FAIL: ' "$log/$name") + ${u#* }))
	fi
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "FAIL: suite $name exited $rc without naming a failure"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	echo "=== $name: $p passed, $f failed ($(( $(date +%s) - start )) s)"
}

suite unit ./tests/unit_core
suite lint sh scripts/lint.sh
suite netns sh tests/netns/run.sh
suite sanitize sh tests/sanitize.sh
suite badinput sh tests/badinput.sh
suite reliability sh tests/reliability.sh
suite deploy sh tests/deploy/run.sh
suite ansible sh tests/ansible/run.sh
suite systemd sh tests/systemd/run.sh
suite ike sh tests/ike/run.sh

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
