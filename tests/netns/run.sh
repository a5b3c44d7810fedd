#!/bin/sh
# Entry point of `make check-netns`: every network-namespace scenario of
# the shim, run from the repository root as root, in one TAP stream (each
# scenario numbers on; this script prints the plan).  Exits non-zero if
# any scenario failed.
#
# A scenario is any file tests/netns/[a-z]-*.sh, run in name order: adding
# the file is enough.  Each check of scenario x-NAME.sh is named with its
# letter first ("a2: ...", "c-vla: ...", "h-v4route: ..."), so that with
# TAP_ONLY (tests/run-all.sh --only) only the scenarios that can hold the
# selected check run.
set -eu
cd "$(dirname "$0")/../.."
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh

if [ "$(id -u)" != 0 ]; then
	tap_not_ok check-netns "needs root with CAP_NET_ADMIN: network namespaces, veth, strace"
	exit 1
fi

# wanted LETTER: could TAP_ONLY select a check of scenario LETTER?  Its
# checks start with the letter and then a digit or "-".
wanted() {
	[ -n "${TAP_ONLY:-}" ] || return 0
	case $TAP_ONLY in
	"$1" | "$1"[0-9*?[-]* | [*?[]*) return 0 ;;
	esac
	return 1
}

failed=""
skipped=""
for f in tests/netns/[a-z]-*.sh; do
	[ -f "$f" ] || continue
	t=$(basename "$f" .sh)
	if ! wanted "$(printf %.1s "$t")"; then
		skipped="$skipped $t"
		continue
	fi
	tap_note "$f"
	sh "$f" || failed="$failed $t"
done
[ -z "$skipped" ] || tap_note "not run (no check of theirs matches '$TAP_ONLY'):$skipped"
if [ -n "$failed" ]; then
	tap_note "check-netns: failed:$failed"
	exit 1
fi
tap_note "check-netns: all scenarios passed"
