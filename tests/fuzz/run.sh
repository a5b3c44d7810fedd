#!/bin/sh
# `make fuzz`: builds the libFuzzer targets of dadshim's pure core (clang,
# -fsanitize=fuzzer,address,undefined) and runs each for SECONDS (argument,
# else $FUZZ_SECONDS, else 60) from the seed corpus in tests/fuzz/corpus/.
# A target fails on a sanitizer report, a failed invariant, a crash, a
# timeout or a leak; the input that did it is kept under build/fuzz/ and
# shown.  Ends with a table: executions, exec/s, libFuzzer's cov/ft, the
# corpus, and the line and branch coverage (llvm-cov, over everything the
# target executed) of the code each target is about.
#
#   sh tests/fuzz/run.sh [SECONDS]
set -eu
cd "$(dirname "$0")/../.."

secs=${1:-${FUZZ_SECONDS:-60}}
case $secs in
'' | *[!0-9]*)
	echo "FAIL: fuzz (SECONDS must be a whole number, got '$secs')"
	exit 1
	;;
esac
CC=${FUZZ_CC:-clang}
PROFDATA=${FUZZ_PROFDATA:-llvm-profdata}
COV=${FUZZ_COV:-llvm-cov}
OUT=build/fuzz
MAXLEN=4096
TARGETS="rewrite route reply addr settings"
# What each target is about, as FILE:FUNCTION-REGEX for the coverage.
scope_of() {
	case $1 in
	rewrite) echo "shim/rewrite.c:. shim/nlwalk.c:." ;;
	route) echo "shim/inspect.c:route|is_len shim/nlwalk.c:." ;;
	reply) echo "shim/inspect.c:reply_head" ;;
	addr) echo "shim/inspect.c:addr_|dad_track|is_len shim/nlwalk.c:." ;;
	settings) echo "shim/settings.c:." ;;
	esac
}

fails=0
fail() {
	echo "FAIL: $1 ($2)"
	fails=$((fails + 1))
}

for tool in "$CC" "$PROFDATA" "$COV"; do
	command -v "$tool" >/dev/null 2>&1 ||
		{ fail fuzz "$tool missing: make deps (clang, llvm)"; exit 1; }
done

# The core's sources, as the Makefile lists them (they may change).
# shellcheck disable=SC2016 # $(CORE_SRCS) is make's
CORE=$(make -s --no-print-directory --eval 'dadshim-print-core: ; @echo $(CORE_SRCS)' \
	dadshim-print-core)
MNL_CFLAGS=$(pkg-config --cflags libmnl 2>/dev/null || :)
MNL_LIBS=$(pkg-config --libs libmnl 2>/dev/null || echo -lmnl)
CFLAGS="-std=gnu99 -Wall -Wextra -Werror -D_GNU_SOURCE -g -O1 -Ishim -Itests/fuzz"

rm -rf "$OUT"
mkdir -p "$OUT"
printf '%-9s %11s %8s %5s %6s %7s %14s %14s\n' target executions exec/s cov ft corpus \
	lines branches >"$OUT/table"

for t in $TARGETS; do
	d=$OUT/$t
	mkdir -p "$d/corpus"
	src=tests/fuzz/fuzz_$t.c
	# shellcheck disable=SC2086 # flag lists
	if ! $CC $CFLAGS $MNL_CFLAGS -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o "$d/fuzz" "$src" $CORE $MNL_LIBS \
		2>"$d/build.log"; then
		fail "fuzz_$t" "does not build: $(head -n 3 "$d/build.log" | tr '\n' ' ')"
		continue
	fi
	# shellcheck disable=SC2086
	if ! $CC $CFLAGS $MNL_CFLAGS -fsanitize=fuzzer -fprofile-instr-generate \
		-fcoverage-mapping -o "$d/cov" "$src" $CORE $MNL_LIBS 2>>"$d/build.log"; then
		fail "fuzz_$t" "coverage build failed: $(head -n 3 "$d/build.log" | tr '\n' ' ')"
		continue
	fi
	echo "# fuzz_$t: $secs s"
	rc=0
	# New inputs go to the first directory; the seeds stay as committed.
	# A guard well above the run time catches a fuzzer that hangs.
	timeout $((secs * 2 + 120)) "$d/fuzz" -max_total_time="$secs" \
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
	if [ "$rc" -ne 0 ] || [ -n "$art" ]; then
		why=$(grep -m 1 -E '^invariant failed|ERROR: |runtime error' "$d/log" || :)
		fail "fuzz_$t" "${why:-exit status $rc}; input kept in ${art:-$d}"
		grep -E 'invariant failed|ERROR|SUMMARY|runtime error| in [a-z_]+ /' \
			"$d/log" | head -n 12 | sed 's/^/  | /'
		[ -n "$art" ] && xxd "$art" | head -n 16 | sed 's/^/  | /'
	else
		echo "PASS: fuzz_$t ($execs executions in $secs s, no invariant failed)"
	fi
	# Coverage of the code under test by everything kept (seeds included).
	LLVM_PROFILE_FILE="$d/cov.profraw" "$d/cov" -runs=0 "$d/corpus" \
		"tests/fuzz/corpus/$t" >"$d/cov.log" 2>&1 || :
	lines=- branches=-
	if [ -s "$d/cov.profraw" ] &&
		"$PROFDATA" merge -o "$d/cov.profdata" "$d/cov.profraw" 2>>"$d/cov.log"; then
		: >"$d/cov.functions"
		for s in $(scope_of "$t"); do
			"$COV" report -show-functions "$d/cov" -instr-profile="$d/cov.profdata" \
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
[ "$fails" -eq 0 ]
