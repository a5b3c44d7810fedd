#!/bin/sh
# `make fuzz`: runs the libFuzzer targets of dadshim's pure core (built by
# make fuzz with clang, -fsanitize=fuzzer,address,undefined) each for SECONDS (argument,
# else $FUZZ_SECONDS, else 60) from the seed corpus in tests/fuzz/corpus/.
# A target fails on a sanitizer report, a failed invariant, a crash, a
# timeout or a leak; the input that did it is kept under build/fuzz/ and
# shown.  Ends with a table: executions, exec/s, libFuzzer's cov/ft, the
# corpus, and the line and branch coverage (llvm-cov, over everything the
# target executed) of the code each target is about.  Prints TAP
# (tests/lib/tap.sh), one check per target; the table is "# " lines.
#
#   sh tests/fuzz/run.sh [SECONDS]
set -eu
cd "$(dirname "$0")/../.."
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh

secs=${1:-${FUZZ_SECONDS:-60}}
case $secs in
'' | *[!0-9]*)
	tap_not_ok fuzz "SECONDS must be a whole number, got '$secs'"
	exit 1
	;;
esac

PROFDATA=${FUZZ_PROFDATA:-llvm-profdata}
COV=${FUZZ_COV:-llvm-cov}
OUT=build/fuzz
MAXLEN=4096
TARGETS="rewrite route addr settings"
# What each target is about, as FILE:FUNCTION-REGEX for the coverage.
scope_of() {
	case $1 in
	rewrite) echo "shim/core.c:nlwalk|v6_payload|is_len|ifa_addr|nodad" ;;
	route) echo "shim/core.c:nlwalk|v6_payload|is_len|route" ;;
	addr) echo "shim/core.c:nlwalk|v6_payload|is_len|ifa_addr|addr_|dad_track|dump_feed|feed_one" ;;
	settings) echo "shim/core.c:settings_parse|parse_uint|complain" ;;
	esac
}

for tool in "$PROFDATA" "$COV"; do
	command -v "$tool" >/dev/null 2>&1 ||
		{ fail fuzz "$tool missing: make deps (clang, llvm)"; exit 1; }
done

# The targets, built by make fuzz (build/tests/fuzz: fuzz_T with
# ASan+UBSan, fuzz_T_cov instrumented for coverage).
FB=$(pwd)/build/tests/fuzz
rm -rf "$OUT"
mkdir -p "$OUT"
printf '%-9s %11s %8s %5s %6s %7s %14s %14s\n' target executions exec/s cov ft corpus \
	lines branches >"$OUT/table"

for t in $TARGETS; do
	d=$OUT/$t
	mkdir -p "$d/corpus"
	if [ ! -x "$FB/fuzz_$t" ] || [ ! -x "$FB/fuzz_${t}_cov" ]; then
		fail "fuzz_$t" "$FB/fuzz_$t or fuzz_${t}_cov missing: run make fuzz"
		continue
	fi
	echo "# fuzz_$t: $secs s"
	rc=0
	# New inputs go to the first directory; the seeds stay as committed.
	# A guard well above the run time catches a fuzzer that hangs.
	timeout $((secs * 2 + 120)) "$FB/fuzz_$t" -max_total_time="$secs" \
		-max_len=$MAXLEN -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$d/" "$d/corpus" "tests/fuzz/corpus/$t" \
		>"$d/log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$d/log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$d/log")
	last=$(grep -E '^#[0-9]+.*cov: ' "$d/log" | tail -n 1)
	cov=$(printf '%s\n' "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(printf '%s\n' "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(printf '%s\n' "$last" | sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p')
	art=$(find "$d" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' \
		-o -name 'timeout-*' -o -name 'oom-*' \) | head -n 1)
	if [ "$rc" -eq 0 ] && [ -z "$art" ] && [ "${execs:-0}" -eq 0 ]; then
		# exit 0 without a run proves nothing
		fail "fuzz_$t" "no execution reported (stat::number_of_executed_units missing or 0)"
	elif [ "$rc" -ne 0 ] || [ -n "$art" ]; then
		why=$(grep -m 1 -E '^invariant failed|ERROR: |runtime error' "$d/log" || :)
		fail "fuzz_$t" "${why:-exit status $rc}; input kept in ${art:-$d}"
		grep -E 'invariant failed|ERROR|SUMMARY|runtime error| in [a-z_]+ /' \
			"$d/log" | head -n 12 | sed 's/^/#   | /'
		[ -n "$art" ] && xxd "$art" | head -n 16 | sed 's/^/#   | /'
	else
		tap_ok "fuzz_$t ($execs executions in $secs s, no invariant failed)"
	fi
	# Coverage of the code under test by everything kept (seeds included).
	LLVM_PROFILE_FILE="$d/cov.profraw" "$FB/fuzz_${t}_cov" -runs=0 "$d/corpus" \
		"tests/fuzz/corpus/$t" >"$d/cov.log" 2>&1 || :
	lines=- branches=-
	if [ -s "$d/cov.profraw" ] &&
		"$PROFDATA" merge -o "$d/cov.profdata" "$d/cov.profraw" 2>>"$d/cov.log"; then
		: >"$d/cov.functions"
		for s in $(scope_of "$t"); do
			"$COV" report -show-functions "$FB/fuzz_${t}_cov" -instr-profile="$d/cov.profdata" \
				"${s%%:*}" 2>>"$d/cov.log" |
				awk -v re="${s#*:}" '$1 ~ re && $2 ~ /^[0-9]+$/' >>"$d/cov.functions"
		done
		# columns: name regions miss % lines miss % branches miss %
		lines=$(awk '{ n += $5; m += $6 } END { if (n) printf "%d/%d %.0f%%", n - m, n, 100 * (n - m) / n }' \
			"$d/cov.functions")
		branches=$(awk '{ n += $8; m += $9 } END { if (n) printf "%d/%d %.0f%%", n - m, n, 100 * (n - m) / n }' \
			"$d/cov.functions")
	fi
	printf '%-9s %11s %8s %5s %6s %7s %14s %14s\n' "$t" "${execs:--}" "${rate:--}" \
		"${cov:--}" "${ft:--}" "${corp:--}" "${lines:--}" "${branches:--}" >>"$OUT/table"
done

echo "# fuzzing, $secs s per target (lines/branches: llvm-cov over the code under test)"
sed 's/^/# /' "$OUT/table"
[ "$TAP_FAILS" -eq 0 ]
