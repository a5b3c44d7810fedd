#!/bin/sh
# Scenario d: a libmnl client (sendto + recvmsg). Without the shim its source
# route fails while the address is tentative (proven first, in this run);
# with DADSHIM_NODAD=0 the shim resends it after DAD and it succeeds.
set -eu
# shellcheck source=tests/lib/netns.sh
. tests/lib/netns.sh

require_root d-mnlclient
require_file d-mnlclient "$SHIM" build/tests/clients/mnlclient

setup_pair || { fail d-mnlclient "namespace setup failed"; exit 1; }

D1=2001:db8:d::1
case_begin "d1: without the shim, mnlclient's route with a tentative src fails"
out="$T_TMP/d1.out"
in_ns build/tests/clients/mnlclient addr "$IF1" "$D1/128" >"$out" 2>&1 || err "mnlclient addr failed"
is_tentative "$NS1" "$IF1" "$D1" || err "$D1 not tentative before the route"
rc=0
in_ns build/tests/clients/mnlclient route "$IF1" ::/0 "$D1" 220 >>"$out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || err "mnlclient route exited 0"
grep -q '^mnlclient: kernel error: Invalid argument (22): Invalid source address$' "$out" ||
	err "no 'Invalid argument (22): Invalid source address'"
[ -z "$(route_in_table "$NS1" 220)" ] || err "table 220 not empty"
race=0
case_end "$out" || race=1

D2=2001:db8:d::2
case_begin "d2: with the shim (DADSHIM_NODAD=0), the route is resent after DAD and installed"
out="$T_TMP/d2.out"
tra="$T_TMP/d2a.tr"
tr="$T_TMP/d2.tr"
if [ "$race" -ne 0 ]; then
	err "skipped: the race was not reproduced in this run"
else
	shim_trace "$tra" DADSHIM_NODAD=0 -- build/tests/clients/mnlclient addr "$IF1" "$D2/128" \
		>"$out" 2>&1 || err "mnlclient addr failed"
	sends_of "$tra" RTM_NEWADDR | grep -q 'ifa_flags=0,' ||
		err "RTM_NEWADDR changed although DADSHIM_NODAD=0"
	is_tentative "$NS1" "$IF1" "$D2" || err "$D2 not tentative before the route"
	rc=0
	shim_trace "$tr" DADSHIM_NODAD=0 -- build/tests/clients/mnlclient route "$IF1" ::/0 "$D2" 220 \
		>>"$out" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || err "mnlclient route exited $rc"
	check_waited "$tr" "$D2"
	# what the caller received: libmnl reads with recvmsg
	trace_all "$tr" | grep '^recvmsg(' | grep -q "nlmsg_seq=$WAITED_SEQ,.*error=0," ||
		err "no ack crossed through recvmsg"
	route_in_table "$NS1" 220 | grep -q "^default dev $IF1 proto static src $D2 " ||
		err "no default route with src $D2 in table 220"
fi
case_end "$out" || :
finish
