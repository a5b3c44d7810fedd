#!/bin/sh
# Scenario a: the iproute2 race of the reference. An IPv6 address is added
# without the shim (DAD runs, the address is tentative); `ip -6 route add ...
# src ADDR table 220` fails without the shim (proven first, in this run) and
# succeeds under the shim, which holds the request back in ip's send call
# until DAD is over, then sends it once.
set -eu
# shellcheck source=tests/lib/netns.sh
. tests/lib/netns.sh

require_root a-iproute2
require_file a-iproute2 "$SHIM"

setup_pair || { fail a-iproute2 "namespace setup failed"; exit 1; }

# add_tentative ADDR: add ADDR without the shim; 0 if the kernel lists it
# as tentative right after (DAD takes about a second)
add_tentative() {
	ip -n "$NS1" -6 addr add "$1/128" dev "$IF1" &&
		is_tentative "$NS1" "$IF1" "$1"
}

# 1. the race is real: the same command without the shim fails
A1=2001:db8:a::1
case_begin "a1: without the shim, ip -6 route add src <tentative address> table 220 fails"
add_tentative "$A1" || err "address $A1 was not tentative when the command started"
out="$T_TMP/a1.out"
rc=0
in_ns ip -6 route add ::/0 dev "$IF1" src "$A1" table 220 >"$out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || err "ip exited 0"
grep -q '^Error: Invalid source address\.$' "$out" ||
	err "no 'Error: Invalid source address.'"
[ -z "$(route_in_table "$NS1" 220)" ] || err "table 220 is not empty"
race=0
case_end "$out" || race=1

# 2. the same command under the shim, with a fresh tentative address
A2=2001:db8:a::2
case_begin "a2: with the shim, the same command succeeds once DAD is over"
if [ "$race" -ne 0 ]; then
	err "skipped: the race was not reproduced in this run"
else
	add_tentative "$A2" || err "address $A2 was not tentative when the command started"
	out="$T_TMP/a2.out"
	tr="$T_TMP/a2.tr"
	rc=0
	shim_trace "$tr" -- ip -6 route add ::/0 dev "$IF1" src "$A2" table 220 \
		>"$out" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || err "ip exited $rc"
	check_waited "$tr" "$A2"
	route_in_table "$NS1" 220 | grep -q "^default dev $IF1 .*src $A2 " ||
		err "table 220 has no default route with src $A2"
	! is_tentative "$NS1" "$IF1" "$A2" || err "address still tentative"
	note "shim: $(shim_log "$out" | head -n 1)"
fi
case_end "$out" || :

# 3. both commands under the shim, its NODAD part off: the address runs DAD,
# the route waits in ip's send until DAD is over
A3=2001:db8:a::3
case_begin "a3: with the shim (DADSHIM_NODAD=0) for both ip commands: the address runs DAD, the route crosses once after it and ip exits 0"
if [ "$race" -ne 0 ]; then
	err "skipped: the race was not reproduced in this run"
else
	out="$T_TMP/a3.out"
	tr="$T_TMP/a3.tr"
	rc=0
	with_shim DADSHIM_NODAD=0 ip -6 addr add "$A3/128" dev "$IF1" >"$out" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || err "ip addr add exited $rc"
	is_tentative "$NS1" "$IF1" "$A3" || err "address $A3 not tentative after ip addr add"
	rc=0
	shim_trace "$tr" DADSHIM_NODAD=0 -- ip -6 route add 2001:db8:a3::/64 dev "$IF1" \
		src "$A3" table 220 >>"$out" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || err "ip route add exited $rc"
	check_waited "$tr" "$A3"
	route_in_table "$NS1" 220 | grep -q "^2001:db8:a3::/64 dev $IF1 .*src $A3 " ||
		err "table 220 has no route with src $A3"
fi
case_end "$out" || :
finish
