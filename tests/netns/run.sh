#!/bin/sh
# Entry point of `make check-netns`: every network-namespace scenario of
# the shim, run from the repository root as root, in one TAP stream (each
# scenario numbers on; this script prints the plan).  Exits non-zero if
# any scenario failed.
set -eu
cd "$(dirname "$0")/../.."
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh

if [ "$(id -u)" != 0 ]; then
	tap_not_ok check-netns "needs root with CAP_NET_ADMIN: network namespaces, veth, strace"
	exit 1
fi

failed=""
for t in a-iproute2 b-nodad c-charon551 d-mnlclient e-dadfail f-passthru g-settings h-untouched \
	i-refused j-portid; do
	tap_note "tests/netns/$t.sh"
	sh "tests/netns/$t.sh" || failed="$failed $t"
done
if [ -n "$failed" ]; then
	tap_note "check-netns: failed:$failed"
	exit 1
fi
tap_note "check-netns: all scenarios passed"
