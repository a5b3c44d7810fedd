#!/bin/sh
# Entry point of `make check-netns`: every network-namespace scenario of
# the shim, run from the repository root as root. Each scenario prints
# PASS:/FAIL: lines; this exits non-zero if any scenario failed.
set -eu
cd "$(dirname "$0")/../.."

if [ "$(id -u)" != 0 ]; then
	echo "FAIL: check-netns (needs root with CAP_NET_ADMIN: network namespaces, veth, strace)"
	exit 1
fi

failed=""
for t in a-iproute2 b-nodad c-charon551 d-mnlclient e-dadfail f-passthru g-settings h-untouched; do
	echo "== tests/netns/$t.sh"
	sh "tests/netns/$t.sh" || failed="$failed $t"
done
if [ -n "$failed" ]; then
	echo "check-netns: failed:$failed"
	exit 1
fi
echo "check-netns: all scenarios passed"
