#!/bin/sh
# Scenario c: strongSwan's own netlink patterns (build/tests/clients/charon551): 5.5.1's
# (its fortified build, and --parallel), and the older readers of 5.2.1
# (recv(4096, 0) then a 16-byte recv(MSG_PEEK|MSG_DONTWAIT) probe) and of
# 5.0/5.1 (the same with recvfrom and an address), also through a MOBIKE
# address change (virtual IP deleted and added again, route reinstalled).
# Without the shim the source route fails (the race, proven first in this
# run); with the shim's defaults the address carries IFA_F_NODAD and one
# RTM_NEWROUTE succeeds; with DADSHIM_NODAD=0 the RTM_NEWROUTE is sent again,
# same seq, after DAD, for a reader that blocks (--parallel's does not: it
# gets the kernel's EINVAL, as without the shim). Assertions are on what crossed the kernel boundary
# (strace) and on the kernel's tables.
set -eu
# shellcheck source=tests/lib/netns.sh
. tests/lib/netns.sh

require_root c-charon551
require_file c-charon551 "$SHIM" build/tests/clients/charon551 build/tests/clients/charon551_fortify

N=0
# next_vip: a fresh virtual IP for every run
next_vip() {
	N=$((N + 1))
	VIP="2001:db8:ffff::$N"
}

# check_probes TRACE N: an old-style reader's 16-byte MSG_PEEK|MSG_DONTWAIT
# probes: exactly N (one per request), and every one returned at once with
# EAGAIN, as with the real 5.0-5.2.1 on an empty queue (the shim's own peeks
# carry MSG_TRUNC and are not counted)
check_probes() {
	_p=$(trace_all "$1" | grep -E '^recv(from)?\([0-9]+, [^,]*, 16, MSG_PEEK\|MSG_DONTWAIT[,)]') || :
	_n=$(printf '%s\n' "$_p" | grep -c .) || :
	[ "$_n" -eq "$2" ] || err "$_n 16-byte MSG_PEEK|MSG_DONTWAIT probes, expected $2"
	_bad=$(printf '%s\n' "$_p" | grep -v '= -1 EAGAIN ' | grep -c .) || :
	[ "$_bad" -eq 0 ] || err "$_bad probe(s) did not return -1 EAGAIN: $(printf '%s\n' "$_p" | grep -v '= -1 EAGAIN ' | head -n 1 | cut -c1-160)"
}

# probes_expected VARIANT-ARGS...: how many requests an old-style reader
# probes after (2, or 6 per MOBIKE round more), or nothing for 5.5's reader
probes_expected() {
	case " $* " in
	*" --style 5.1 "* | *" --style 5.2 "*) ;;
	*) return 0 ;;
	esac
	case " $* " in
	*" --mobike 1 "*) echo 6 ;;
	*) echo 2 ;;
	esac
}

# run_plain NAME VARIANT-ARGS...: the race without the shim
run_plain() {
	name=$1
	shift
	case_begin "c-$name: without the shim the source route fails (race is real)"
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
	np=$(probes_expected "$@")
	[ -z "$np" ] || check_probes "$T_TMP/$name.plain.tr" "$np"
	case_end "$out"
}

# run_nodad NAME VARIANT-ARGS...: shim defaults, NODAD set, no race
run_nodad() {
	name=$1
	shift
	case_begin "c-$name: with the shim (defaults) IFA_F_NODAD is set and the route installed at once"
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
	np=$(probes_expected "$@")
	[ -z "$np" ] || check_probes "$tr" "$np"
	case_end "$out"
}

# run_wait NAME VARIANT-ARGS...: DADSHIM_NODAD=0, the route held back in
# its send until DAD is over
run_wait() {
	name=$1
	shift
	case_begin "c-$name: with DADSHIM_NODAD=0 the route waits in its send until DAD is over, then is installed"
	setup_pair || { err "namespace setup failed"; case_end; return 1; }
	next_vip
	out="$T_TMP/$name.wait.out"
	tr="$T_TMP/$name.wait.tr"
	rc=0
	shim_trace "$tr" DADSHIM_NODAD=0 -- "$@" --dev "$IF1" --vip "$VIP" \
		>"$out" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || err "exit status $rc"
	grep -q "^installed source route for $VIP\$" "$out" ||
		err "no 'installed source route'"
	sends_of "$tr" RTM_NEWADDR | grep -q 'ifa_flags=0,' ||
		err "RTM_NEWADDR changed although DADSHIM_NODAD=0"
	check_waited "$tr" "$VIP"
	route_in_table "$NS1" 220 | grep -q "^default dev $IF1 proto static src $VIP " ||
		err "no default route with src $VIP in table 220"
	shim_log "$out" | grep -q "route with source $VIP: DAD ended after [0-9]* ms; sent" ||
		err "shim log does not report the wait"
	# no thread of the shim's: as many traced threads as without it
	nthr=$(ls "$tr".* 2>/dev/null | wc -l)
	want=$(ls "$T_TMP/$name".plain.tr.* 2>/dev/null | wc -l)
	[ "$nthr" -eq "$want" ] || err "$nthr threads traced, $want without the shim"
	np=$(probes_expected "$@")
	[ -z "$np" ] || check_probes "$tr" "$np"
	case_end "$out"
}

# run_mobike KIND STYLE: 5.x's reader through one MOBIKE address change
# (route deleted, virtual IP deleted and added again, route reinstalled)
run_mobike() {
	name=mobike-$2
	set -- "$1" build/tests/clients/charon551 --style "$2" --mobike 1
	case $1 in
	plain) case_begin "c-$name: without the shim both route installs fail (initial and after the address change)" ;;
	nodad) case_begin "c-$name: with the shim (defaults) both RTM_NEWADDR carry NODAD and both routes go in at once" ;;
	wait) case_begin "c-$name: with DADSHIM_NODAD=0 both route installs wait in their send until DAD is over" ;;
	esac
	setup_pair || { err "namespace setup failed"; case_end; return 1; }
	next_vip
	out="$T_TMP/$name.$1.out"
	tr="$T_TMP/$name.$1.tr"
	kind=$1
	shift
	rc=0
	case $kind in
	plain) nl_trace "$tr" -- "$@" --dev "$IF1" --vip "$VIP" >"$out" 2>&1 || rc=$? ;;
	nodad) shim_trace "$tr" -- "$@" --dev "$IF1" --vip "$VIP" >"$out" 2>&1 || rc=$? ;;
	wait) shim_trace "$tr" DADSHIM_NODAD=0 -- "$@" --dev "$IF1" --vip "$VIP" \
		>"$out" 2>&1 || rc=$? ;;
	esac
	grep -q "^address change 1: reinstalling virtual IP $VIP\$" "$out" ||
		err "no address change"
	[ "$(sends_of "$tr" RTM_DELADDR | grep -c .)" -eq 1 ] ||
		err "not exactly one RTM_DELADDR crossed"
	[ "$(sends_of "$tr" RTM_NEWADDR | grep -c .)" -eq 2 ] ||
		err "not exactly two RTM_NEWADDR crossed"
	check_probes "$tr" 6
	if [ "$kind" = plain ]; then
		[ "$rc" -ne 0 ] || err "exit status 0"
		[ "$(grep -c "^unable to install source route for $VIP\$" "$out")" -eq 2 ] ||
			err "not two 'unable to install source route'"
		for seq in $(sends_of "$tr" RTM_NEWROUTE | seqs_of); do
			replies_of "$tr" "$seq" | grep -q 'error=-EINVAL' ||
				err "the kernel did not answer route seq $seq with -EINVAL"
		done
		[ -z "$(route_in_table "$NS1" 220)" ] || err "table 220 not empty"
		case_end "$out"
		return
	fi
	[ "$rc" -eq 0 ] || err "exit status $rc"
	[ "$(grep -c "^installed source route for $VIP\$" "$out")" -eq 2 ] ||
		err "not two 'installed source route'"
	if [ "$kind" = nodad ]; then
		[ "$(sends_of "$tr" RTM_NEWADDR | grep -c 'ifa_flags=IFA_F_NODAD,')" -eq 2 ] ||
			err "an RTM_NEWADDR reached the kernel without IFA_F_NODAD"
		[ "$(sends_of "$tr" RTM_NEWROUTE | grep -c .)" -eq 2 ] ||
			err "not exactly two RTM_NEWROUTE crossed"
	else
		[ "$(sends_of "$tr" RTM_NEWADDR | grep -c 'ifa_flags=0,')" -eq 2 ] ||
			err "an RTM_NEWADDR changed although DADSHIM_NODAD=0"
		check_waited "$tr" "$VIP" 2
		[ "$(shim_log "$out" | grep -c "route with source $VIP: DAD ended after [0-9]* ms; sent")" -eq 2 ] ||
			err "shim log does not report two waits"
	fi
	route_in_table "$NS1" 220 | grep -q "^default dev $IF1 proto static src $VIP " ||
		err "no default route with src $VIP in table 220"
	case_end "$out"
}

for variant in vla fortify parallel jessie-5.2 trusty-5.1; do
	case $variant in
	vla) set -- build/tests/clients/charon551 ;;
	fortify) set -- build/tests/clients/charon551_fortify ;;
	parallel) set -- build/tests/clients/charon551 --parallel ;;
	jessie-5.2) set -- build/tests/clients/charon551 --style 5.2 ;;
	trusty-5.1) set -- build/tests/clients/charon551_fortify --style 5.1 ;;
	esac
	if run_plain "$variant" "$@"; then
		run_nodad "$variant" "$@" || :
		run_wait "$variant" "$@" || :
	else
		fail "c-$variant: shim runs" "skipped: the race was not reproduced in this run"
	fi
done
if run_mobike plain 5.2; then
	run_mobike nodad 5.2 || :
	run_mobike wait 5.2 || :
else
	fail "c-mobike-5.2: shim runs" "skipped: the race was not reproduced in this run"
fi
finish
