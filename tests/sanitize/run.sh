#!/bin/sh
# The unit tests and strongSwan 5.5.1's netlink pattern (build/tests/clients/charon551)
# under AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer).
#
# - unit_core and the pure core, built with -fsanitize=address,undefined
#   -fno-sanitize-recover=all: must pass and report nothing;
# - the fuzz targets of the pure core (tests/fuzz, clang, libFuzzer with
#   ASan+UBSan and the targets' own invariants): every seed of
#   tests/fuzz/corpus replayed once, then FUZZ_CHECK_RUNS (default 200000)
#   inputs per target from a fixed seed (-seed=1: the same inputs every run),
#   so that a bound error in the core fails `make check`, not only
#   `make fuzz`;
# - charon551 with the shim's sources linked straight into the same
#   sanitized executable (its wrappers then interpose libc exactly as a
#   preload does, and every line of the shim is instrumented), run against
#   the real race (veth in namespaces, DAD on): first a sanitized charon551
#   without the shim must fail to install the source route (the race is
#   real, in this run), then with the shim, by the wait in send
#   (DADSHIM_NODAD=0, with a blocking reader and with --parallel's
#   non-blocking one) and by the default
#   NODAD path, the kernel must hold the route in table 220 with the
#   virtual IP as source, and the sanitizers must stay silent.
#
# The sanitized programs are built by make (make check-sanitize) into
# build/tests/sanitize/ and build/tests/fuzz/ (the fuzz targets are make
# fuzz's own binaries).  Run as root: sh tests/sanitize/run.sh
set -eu
cd "$(dirname "$0")/../.."
# shellcheck source=tests/lib/netns.sh
. tests/lib/netns.sh

B=$(pwd)/build/tests/sanitize
FB=$(pwd)/build/tests/fuzz
# Every finding is fatal and shown; leaks too (charon551 frees what it
# allocates before it exits).
export ASAN_OPTIONS=abort_on_error=0:exitcode=86:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# san_report FILE: the sanitizer findings in a captured stderr
san_report() {
	grep -E 'ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error:|SUMMARY: ' "$1" || :
}

# ---- unit tests ----
case_begin "sanitize: unit_core under ASan+UBSan"
if [ -x "$B/unit_core" ]; then
	rc=0
	# every check, whatever TAP_ONLY selects of this suite
	env -u TAP_ONLY "$B/unit_core" >"$T_TMP/unit.out" 2>&1 || rc=$?
	sed -n 's/^# unit: /# unit (sanitized): /p' "$T_TMP/unit.out"
	[ "$rc" -eq 0 ] || err "exit status $rc"
	# its own TAP: a plan, every check ok
	grep -q '^1\.\.[1-9][0-9]*$' "$T_TMP/unit.out" || err "no plan: the unit tests stopped early"
	! grep -q '^not ok ' "$T_TMP/unit.out" || err "unit tests failed: $(grep -m 1 '^not ok ' "$T_TMP/unit.out")"
	[ -z "$(san_report "$T_TMP/unit.out")" ] ||
		err "sanitizer: $(san_report "$T_TMP/unit.out" | head -n 1)"
else
	err "$B/unit_core is missing: run make check-sanitize"
fi
case_end "$T_TMP/unit.out" || :

# ---- the fuzz targets: seeds replayed, then a short seeded run ----
RUNS=${FUZZ_CHECK_RUNS:-200000}
# every libFuzzer target, as the Makefile builds them: tests/fuzz/fuzz_*.c
for f in tests/fuzz/fuzz_*.c; do
	t=${f#tests/fuzz/fuzz_}
	t=${t%.c}
	seeds=tests/fuzz/corpus/$t
	nseeds=$(find "$seeds" -type f | wc -l)
	case_begin "sanitize: fuzz_$t replays its $nseeds seeds and $RUNS inputs from -seed=1 under ASan+UBSan: no invariant fails"
	if [ ! -x "$FB/fuzz_$t" ]; then
		err "$FB/fuzz_$t is missing: run make check-sanitize (clang)"
	else
		# libFuzzer runs each file named on its command line once
		rc=0
		find "$seeds" -type f -exec "$FB/fuzz_$t" {} + >"$T_TMP/fuzz_$t.replay" 2>&1 || rc=$?
		[ "$rc" -eq 0 ] || err "seed replay: exit status $rc: $(grep -m 1 -E 'invariant failed|ERROR: |runtime error' "$T_TMP/fuzz_$t.replay" || :)"
		n=$(grep -c '^Running: ' "$T_TMP/fuzz_$t.replay") || :
		[ "$n" -eq "$nseeds" ] || err "replayed $n of $nseeds seeds"
		# a copy: new inputs must not land in the committed seeds
		mkdir -p "$T_TMP/corpus_$t"
		cp "$seeds"/* "$T_TMP/corpus_$t/"
		rc=0
		timeout 600 "$FB/fuzz_$t" -seed=1 -runs="$RUNS" -max_len=4096 -timeout=10 \
			-rss_limit_mb=2048 -artifact_prefix="$T_TMP/fuzz_$t-" "$T_TMP/corpus_$t" \
			>"$T_TMP/fuzz_$t.run" 2>&1 || rc=$?
		if [ "$rc" -ne 0 ]; then
			err "seeded run: exit status $rc: $(grep -m 1 -E 'invariant failed|ERROR: |runtime error' "$T_TMP/fuzz_$t.run" || :)"
			for a in "$T_TMP/fuzz_$t-"*; do
				[ -f "$a" ] && xxd "$a" | head -n 8 | sed 's/^/#   | /'
			done
		fi
		grep -q "^Done $RUNS runs" "$T_TMP/fuzz_$t.run" || [ "$rc" -ne 0 ] ||
			err "the seeded run did not finish its $RUNS runs"
	fi
	case_end || :
done

# ---- charon551 against the real race ----
require_root sanitize
require_file "sanitize: charon551 builds" "$B/charon551" "$B/charon551-shim"

N=0
# run NAME BIN [VAR=VAL]... -- ARGS...: BIN in a fresh pair with a fresh
# virtual IP; sets OUT, RC, VIP.
run() {
	_name=$1
	_bin=$2
	shift 2
	N=$((N + 1))
	VIP="2001:db8:ffff::$N"
	OUT=$T_TMP/$_name.out
	RC=0
	setup_pair || { err "namespace setup failed"; return 1; }
	_env=""
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		_env="$_env $1"
		shift
	done
	[ $# -gt 0 ] && shift
	# shellcheck disable=SC2086 # one word per setting
	in_ns env DADSHIM_LOG_TARGET=stderr $_env "$_bin" --dev "$IF1" --vip "$VIP" "$@" \
		>"$OUT" 2>&1 || RC=$?
}

# route_ok: the kernel holds the source route of $VIP in table 220
route_ok() {
	route_in_table "$NS1" 220 | grep -q "^default dev $IF1 proto static src $VIP "
}

clean() {
	[ -z "$(san_report "$OUT")" ] || err "sanitizer: $(san_report "$OUT" | head -n 3 | tr '\n' ' ')"
}

case_begin "sanitize: without the shim the sanitized charon551 fails to install the source route (race is real)"
if run plain "$B/charon551" --; then
	[ "$RC" -ne 0 ] || err "exit status 0"
	grep -q "^installed virtual IP $VIP\$" "$OUT" || err "no virtual IP"
	grep -q "^unable to install source route for $VIP\$" "$OUT" ||
		err "no 'unable to install source route'"
	! route_ok || err "route installed anyway"
	clean
fi
RACE=$C_ERR
case_end "$OUT" || :

# Without a real race, nothing below would show the wait in send.
if [ -n "$RACE" ]; then
	fail "sanitize: shim runs" "skipped: the race did not reproduce"
	finish
	exit 1
fi

for reader in blocking parallel; do
	case_begin "sanitize: shim linked in, DADSHIM_NODAD=0, $reader reader: route installed after the wait in send, sanitizers silent"
	opt=""
	[ "$reader" = parallel ] && opt=--parallel
	# shellcheck disable=SC2086 # opt is one word or none
	if run "wait-$reader" "$B/charon551-shim" DADSHIM_NODAD=0 -- $opt; then
		[ "$RC" -eq 0 ] || err "exit status $RC"
		route_ok || err "no route with src $VIP in table 220"
		# The wait, not NODAD: the kernel ran DAD on the address.
		ip -n "$NS1" -6 addr show dev "$IF1" | grep "inet6 $VIP/128" | grep -q nodad &&
			err "address carries nodad: the wait did not run"
		shim_log "$OUT" | grep -q "route with source $VIP: DAD ended after [0-9]* ms; sent" ||
			err "the shim's log does not report the wait"
		clean
	fi
	case_end "$OUT" || :
done

case_begin "sanitize: shim linked in, defaults: IFA_F_NODAD set, route installed, sanitizers silent"
if run nodad "$B/charon551-shim" --; then
	[ "$RC" -eq 0 ] || err "exit status $RC"
	route_ok || err "no route with src $VIP in table 220"
	ip -n "$NS1" -6 addr show dev "$IF1" | grep "inet6 $VIP/128" | grep -q nodad ||
		err "the kernel does not list the address as nodad"
	clean
fi
case_end "$OUT" || :

finish
