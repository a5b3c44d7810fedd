# shellcheck shell=sh
# TAP reporting for every shell suite (sourced, POSIX sh).
#
# A suite prints "ok N - NAME" or "not ok N - NAME" per check, the reason of
# a failure on "# " lines under it, and its plan "1..N" when it ends (TAP
# allows the plan last: a suite knows its count only once it has run).
# Anything else a suite prints for a human starts with "# ".
#
# A script started by another one (a netns scenario under tests/netns/run.sh,
# scripts/check-stretch.sh under tests/deploy) numbers on in the same stream:
# the count lives in the file $TAP_STATE, which the outermost script creates
# and whose plan it prints.  A file, not a variable, so that a check made in
# a subshell counts too.  Checks are made one at a time (no script reports
# from two processes at once).
#
# pass/fail/note are the names the suites report with; TAP_PASSES and
# TAP_FAILS count this script's own checks (its summary, its exit status).
# tap_end prints the plan; it is this file's EXIT trap, and a script that
# sets its own EXIT trap calls it from there.

if [ -z "${TAP_STATE:-}" ]; then
	TAP_STATE=$(mktemp "${TMPDIR:-/tmp}/dadshim-tap.XXXXXX")
	echo 0 >"$TAP_STATE"
	export TAP_STATE
	TAP_TOP=1
else
	TAP_TOP=0
fi
TAP_PASSES=0
TAP_FAILS=0

# tap_next: the next check's number, in $_tap_n (and in $TAP_STATE)
tap_next() {
	_tap_n=$(($(cat "$TAP_STATE") + 1))
	echo "$_tap_n" >"$TAP_STATE"
}

# tap_ok NAME: one check passed
tap_ok() {
	tap_next
	TAP_PASSES=$((TAP_PASSES + 1))
	echo "ok $_tap_n - $1"
}

# tap_not_ok NAME [REASON]: one check failed, and why (as diagnostics)
tap_not_ok() {
	tap_next
	TAP_FAILS=$((TAP_FAILS + 1))
	echo "not ok $_tap_n - $1"
	[ -z "${2:-}" ] || printf '%s\n' "$2" | sed 's/^/#   /'
}

# tap_note TEXT: a line for the human reader, no check
tap_note() {
	echo "# $*"
}

# pass NAME, fail NAME [REASON], note TEXT: what a suite calls (a suite
# that names its checks differently, as tests/ike does, redefines them)
pass() { tap_ok "$1"; }
fail() { tap_not_ok "$1" "${2:-}"; }
note() { tap_note "$*"; }

# tap_end: the plan, printed once by the outermost script
tap_end() {
	[ "$TAP_TOP" = 1 ] && [ -f "$TAP_STATE" ] || return 0
	echo "1..$(cat "$TAP_STATE")"
	rm -f "$TAP_STATE"
}

trap tap_end EXIT
