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
#
# One check alone: with TAP_ONLY set to a pattern (tests/run-all.sh --only,
# make check-SUITE ONLY=...), only the checks whose name it selects are
# reported (tap_selected).  A suite that can skip a case before running it
# asks tap_selected NAME (or tap_may_select PREFIX for a group of cases)
# first; the checks that ran anyway are counted, and tap_end says how many
# ran without being reported.  A failure that is not reported still gets a
# "# " line, so that a broken set-up is never silent.

# $TAP_STATE holds two counts: "REPORTED HIDDEN" (HIDDEN: checks that ran
# but that TAP_ONLY does not select)
if [ -z "${TAP_STATE:-}" ]; then
	TAP_STATE=$(mktemp "${TMPDIR:-/tmp}/dadshim-tap.XXXXXX")
	echo "0 0" >"$TAP_STATE"
	export TAP_STATE
	TAP_TOP=1
else
	TAP_TOP=0
fi
TAP_PASSES=0
TAP_FAILS=0

# tap_selected NAME: 0 if the check NAME is to be run and reported: no
# TAP_ONLY, or TAP_ONLY (a shell pattern) matches NAME whole or a start of
# NAME that ends before a character other than a letter, digit, "-" or "_"
# ("fault 3" selects "fault 3: ..." but not "fault 30: ...")
tap_selected() {
	[ -n "${TAP_ONLY:-}" ] || return 0
	# shellcheck disable=SC2254 # TAP_ONLY is a pattern on purpose
	case $1 in
	$TAP_ONLY | $TAP_ONLY[!0-9A-Za-z_-]*) return 0 ;;
	esac
	return 1
}

# tap_may_select PREFIX: 1 only if no check whose name starts with PREFIX
# can be selected (a literal TAP_ONLY that neither starts with PREFIX nor
# is a start of it); a pattern with wildcards may select anything
tap_may_select() {
	[ -n "${TAP_ONLY:-}" ] || return 0
	case $TAP_ONLY in
	*[][*?]* | "$1"*) return 0 ;;
	esac
	case $1 in
	"$TAP_ONLY"*) return 0 ;;
	esac
	return 1
}

# tap_next: the next check's number, in $_tap_n (and in $TAP_STATE)
tap_next() {
	read -r _tap_n _tap_h <"$TAP_STATE"
	_tap_n=$((_tap_n + 1))
	echo "$_tap_n $_tap_h" >"$TAP_STATE"
}

# tap_hide: one check ran that TAP_ONLY does not select
tap_hide() {
	read -r _tap_n _tap_h <"$TAP_STATE"
	echo "$_tap_n $((_tap_h + 1))" >"$TAP_STATE"
}

# tap_ok NAME: one check passed
tap_ok() {
	tap_selected "$1" || { tap_hide; return 0; }
	tap_next
	TAP_PASSES=$((TAP_PASSES + 1))
	echo "ok $_tap_n - $1"
}

# tap_not_ok NAME [REASON]: one check failed, and why (as diagnostics)
tap_not_ok() {
	if ! tap_selected "$1"; then
		tap_hide
		echo "# not selected, failed: $1"
		return 0
	fi
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
	read -r _tap_n _tap_h <"$TAP_STATE"
	[ -z "${TAP_ONLY:-}" ] ||
		echo "# only '$TAP_ONLY': $_tap_n check(s) reported; $_tap_h other(s) ran, not reported"
	echo "1..$_tap_n"
	rm -f "$TAP_STATE"
}

trap tap_end EXIT
