#!/bin/sh
# Scenario c: strongSwan 5.5.1's own netlink pattern (tests/charon551, its
# fortified build, and --parallel). Without the shim the source route fails
# (the race, proven first in this run); with the shim's defaults the address
# carries IFA_F_NODAD and one RTM_NEWROUTE succeeds; with DADSHIM_NODAD=0 the
# RTM_NEWROUTE is sent again, same seq, after DAD. Assertions are on what
# crossed the kernel boundary (strace) and on the kernel's tables.
set -eu
# shellcheck source=tests/netns/lib.sh
. tests/netns/lib.sh

require_root c-charon551
require_file c-charon551 "$SHIM" tests/charon551 tests/charon551_fortify

N=0
# next_vip: a fresh virtual IP for every run
next_vip() {
	N=$((N + 1))
	VIP="2001:db8:ffff::$N"
}

# run_plain NAME VARIANT-ARGS...: the race without the shim
run_plain() {
	name=$1
	shift
	case_begin "$name: without the shim the source route fails (race is real)"
	setup_pair || { err "namespace setup failed"; case_end; return 1; }
	next_vip
	out="$T_TMP/$name.plain.out"
	rc=0
	nl_trace "$T_TMP/$name.plain.tr" -- "$@" --dev "$IF1" --vip "$VIP" \
		>"$out" 2>&1 || rc=$?
	[ "$rc" -ne 0 ] || err "exit status 0"
	grep -q "^installed virtual IP $VIP\$" "$out" || err "no 'installed virtual IP'"
	grep -q "^unable to install source route for $VIP\$" "$out" ||
		err "no 'unable to install source route'"
	grep -q '^received netlink error: Invalid argument (22)$' "$out" ||
		err "no EINVAL"
	seq=$(sends_of "$T_TMP/$name.plain.tr" RTM_NEWROUTE | seqs_of | head -n 1)
	[ -n "$seq" ] || err "no RTM_NEWROUTE crossed"
	replies_of "$T_TMP/$name.plain.tr" "$seq" | grep -q 'error=-EINVAL' ||
		err "kernel did not answer RTM_NEWROUTE with -EINVAL"
	[ -z "$(route_in_table "$NS1" 220)" ] || err "table 220 not empty"
	case_end "$out"
}

# run_nodad NAME VARIANT-ARGS...: shim defaults, NODAD set, no race
run_nodad() {
	name=$1
	shift
	case_begin "$name: with the shim (defaults) IFA_F_NODAD is set and the route installed at once"
	setup_pair || { err "namespace setup failed"; case_end; return 1; }
	next_vip
	out="$T_TMP/$name.nodad.out"
	tr="$T_TMP/$name.nodad.tr"
	rc=0
	shim_trace "$tr" -- "$@" --dev "$IF1" --vip "$VIP" >"$out" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || err "exit status $rc"
	grep -q "^installed source route for $VIP\$" "$out" ||
		err "no 'installed source route'"
	addr=$(sends_of "$tr" RTM_NEWADDR) || :
	[ "$(printf '%s\n' "$addr" | grep -c .)" -eq 1 ] ||
		err "not exactly one RTM_NEWADDR crossed"
	printf '%s\n' "$addr" | grep -q 'ifa_flags=IFA_F_NODAD,' ||
		err "RTM_NEWADDR reached the kernel without IFA_F_NODAD"
	[ "$(sends_of "$tr" RTM_NEWROUTE | grep -c .)" -eq 1 ] ||
		err "not exactly one RTM_NEWROUTE crossed"
	route_in_table "$NS1" 220 | grep -q "^default dev $IF1 proto static src $VIP " ||
		err "no default route with src $VIP in table 220"
	ip -n "$NS1" -6 addr show dev "$IF1" | grep "inet6 $VIP/128" | grep -q nodad ||
		err "address not flagged nodad by the kernel"
	! is_tentative "$NS1" "$IF1" "$VIP" || err "address tentative"
	case_end "$out"
}

# run_retry NAME VARIANT-ARGS...: DADSHIM_NODAD=0, the retry after DAD
run_retry() {
	name=$1
	shift
	case_begin "$name: with DADSHIM_NODAD=0 the route is installed after DAD through the retry"
	setup_pair || { err "namespace setup failed"; case_end; return 1; }
	next_vip
	out="$T_TMP/$name.retry.out"
	tr="$T_TMP/$name.retry.tr"
	rc=0
	shim_trace "$tr" DADSHIM_NODAD=0 -- "$@" --dev "$IF1" --vip "$VIP" \
		>"$out" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || err "exit status $rc"
	grep -q "^installed source route for $VIP\$" "$out" ||
		err "no 'installed source route'"
	sends_of "$tr" RTM_NEWADDR | grep -q 'ifa_flags=0,' ||
		err "RTM_NEWADDR changed although DADSHIM_NODAD=0"
	check_retried "$tr"
	route_in_table "$NS1" 220 | grep -q "^default dev $IF1 proto static src $VIP " ||
		err "no default route with src $VIP in table 220"
	shim_log "$out" | grep -q "src $VIP table 220 got EINVAL with a tentative source, DAD ended after [0-9]* ms, retry: ok" ||
		err "shim log does not report the retry"
	case_end "$out"
}

# run_retransmit: --parallel with charon's timeout/retries: the program
# itself resends the same seq while the shim waits for DAD in the watcher.
run_retransmit() {
	name=parallel-retransmit
	case_begin "$name: with DADSHIM_NODAD=0, --parallel --timeout-ms 200 --retries 40: program resends the seq during the wait, route installed"
	setup_pair || { err "namespace setup failed"; case_end; return 1; }
	next_vip
	out="$T_TMP/$name.out"
	tr="$T_TMP/$name.tr"
	rc=0
	shim_trace "$tr" DADSHIM_NODAD=0 -- tests/charon551 --parallel \
		--timeout-ms 200 --retries 40 --dev "$IF1" --vip "$VIP" \
		>"$out" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || err "exit status $rc"
	grep -Eq "^(installed source route for|source route for) $VIP( exists already)?\$" "$out" ||
		err "route not reported installed"
	grep -q '^retransmitting Netlink request (1/40)$' "$out" ||
		err "the program did not retransmit"
	# the sending (main) thread is the one that sent RTM_NEWADDR
	main=$(grep -l 'nlmsg_type=RTM_NEWADDR,' "$tr".* | head -n 1)
	seq=$(sends_of "$tr" RTM_NEWROUTE | seqs_of | head -n 1)
	if [ -z "$main" ] || [ -z "$seq" ]; then
		err "no RTM_NEWADDR/RTM_NEWROUTE in the trace"
	else
		nmain=$(grep -E '^sendto\(' "$main" | grep 'nlmsg_type=RTM_NEWROUTE,' |
			grep -c "nlmsg_seq=$seq,") || :
		[ "$nmain" -ge 2 ] ||
			err "the program's thread sent seq $seq $nmain time(s)"
		ninval=$(replies_of "$tr" "$seq" | grep -v MSG_PEEK |
			grep -c 'error=-EINVAL') || :
		[ "$ninval" -ge 2 ] ||
			err "only $ninval -EINVAL for seq $seq: no resend crossed during DAD"
	fi
	route_in_table "$NS1" 220 | grep -q "^default dev $IF1 proto static src $VIP " ||
		err "no default route with src $VIP in table 220"
	note "program sends of seq ${seq:-?}: ${nmain:-?}, -EINVAL replies: ${ninval:-?}"
	case_end "$out"
}

for variant in vla fortify parallel; do
	case $variant in
	vla) set -- tests/charon551 ;;
	fortify) set -- tests/charon551_fortify ;;
	parallel) set -- tests/charon551 --parallel ;;
	esac
	if run_plain "$variant" "$@"; then
		run_nodad "$variant" "$@" || :
		run_retry "$variant" "$@" || :
	else
		fail "$variant: shim runs" "skipped: the race was not reproduced in this run"
	fi
done
if [ "$T_FAILS" -eq 0 ]; then
	run_retransmit || :
fi
finish
