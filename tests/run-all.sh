#!/bin/sh
# `make check` (every suite) and `make check-SUITE` (one): runs the suites
# in order and sums their TAP into one closing line "N passed, N failed".
#
#   sh tests/run-all.sh [--only PATTERN] [SUITE...]
#
# --only PATTERN (make check-SUITE ONLY=PATTERN) reports only the checks
# whose name PATTERN selects (a shell pattern matching the name, or a start
# of it that ends before a character other than a letter, digit, - or _:
# "fault 3" is "fault 3: ..." and not "fault 30: ..."); it reaches the suites as
# TAP_ONLY.  Where a suite can tell beforehand, the other checks do not
# even run; tests/README.md says which.  A PATTERN that selects nothing in
# the suites run is a failure.
#
# Each suite prints TAP (tests/lib/tap.sh; the unit tests their own): a line
# "ok N - ..." or "not ok N - ..." per check, and the plan "1..N" when it
# ends.  A suite also counts one failure when it prints no plan or a plan
# that does not match its checks (it stopped half way), or when it exits
# non-zero without a failed check.  Every suite but unit and lint needs root
# with CAP_NET_ADMIN (network namespaces, veth, strace).
set -u
cd "$(dirname "$0")/.." || exit 1

# The suites, in make check's order, and the command of each.
ALL="unit lint netns sanitize badinput reliability deploy ansible systemd ike"
command_of() {
	case " $ALL " in *" $1 "*) ;; *) return 1 ;; esac
	case $1 in
	unit) echo ./build/tests/unit/unit_core ;;
	lint) echo sh scripts/lint.sh ;;
	*) echo sh "tests/$1/run.sh" ;;
	esac
}

# refuse REASON [STATUS]: no suite can run; one failure, said clearly
refuse() {
	echo "not ok 1 - $1"
	echo "1..1"
	echo "0 passed, 1 failed"
	exit "${2:-1}"
}

only=""
if [ "${1:-}" = --only ]; then
	[ -n "${2:-}" ] || refuse "run-all: --only needs a PATTERN (a check's name or its start)" 2
	only=$2
	shift 2
fi
suites=${*:-$ALL}
needs_root=0
for s in $suites; do
	command_of "$s" >/dev/null || refuse "run-all: '$s' is not a suite (suites: $ALL)" 2
	case $s in unit | lint) ;; *) needs_root=1 ;; esac
done

# unit and lint need nothing more; every other suite needs root and
# network namespaces: say so once, clearly, instead of failing each suite.
if [ "$needs_root" = 1 ]; then
	[ "$(id -u)" = 0 ] ||
		refuse "make check must run as root (it builds network namespaces and veth pairs)"
	probe="dadshim-probe-$$"
	ip netns add "$probe" 2>/dev/null ||
		refuse "cannot create a network namespace: CAP_NET_ADMIN (or CAP_SYS_ADMIN) is missing"
	ip netns del "$probe"
fi

log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
passed=0
failed=0

# tap_count FILE: "OK NOT_OK PLAN" of one suite's TAP (PLAN - when none)
tap_count() {
	awk '/^ok [0-9]/ { ok++ } /^not ok [0-9]/ { bad++ }
		/^1\.\.[0-9]+$/ { plan = substr($0, 4) }
		END { printf "%d %d %s\n", ok, bad, plan == "" ? "-" : plan }' "$1"
}

suite() {
	name=$1
	echo "=== $name: $(command_of "$name")"
	start=$(date +%s)
	# shellcheck disable=SC2046 # the command is words
	env -u TAP_STATE TAP_ONLY="$only" $(command_of "$name") >"$log/$name" 2>&1
	rc=$?
	cat "$log/$name"
	# shellcheck disable=SC2046 # three words
	set -- $(tap_count "$log/$name")
	p=$1 f=$2 plan=$3
	if [ "$plan" = - ]; then
		echo "not ok - $name: no plan: the suite stopped before its end (exit $rc)"
		f=$((f + 1))
	elif [ "$plan" != $((p + f)) ]; then
		echo "not ok - $name: plan 1..$plan, but $((p + f)) checks ran"
		f=$((f + 1))
	elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "not ok - $name: exited $rc without naming a failure"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	echo "=== $name: $p passed, $f failed ($(( $(date +%s) - start )) s)"
}

for s in $suites; do
	suite "$s"
done

if [ -n "$only" ] && [ $((passed + failed)) = 0 ]; then
	echo "not ok - run-all: no check of '$suites' is named '$only' (see the names in a full run's ok/not ok lines)"
	failed=1
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
