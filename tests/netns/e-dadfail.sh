#!/bin/sh
# Scenario e: when DAD does not end well the shim must hand back the
# kernel's original EINVAL ("Invalid source address"): DAD failure (the
# address already lives on the peer) and a link that never had carrier (DAD
# never ends; DADSHIM_WAIT_MS=1500 bounds the wait). Guarded by `timeout`; the
# shim's log says why. And a source that does not exist is not waited for:
# the route goes out at once and the kernel refuses it.
set -eu
# shellcheck source=tests/lib/netns.sh
. tests/lib/netns.sh

require_root e-dadfail
require_file e-dadfail "$SHIM"

# e_route NAME ADDR [VAR=VAL]...: ip -6 route add ... src ADDR under the
# shim; common assertions of an original EINVAL handed back
e_route() {
	ename=$1
	eaddr=$2
	shift 2
	out="$T_TMP/$ename.out"
	tr="$T_TMP/$ename.tr"
	rc=0
	shim_trace "$tr" "$@" -- ip -6 route add ::/0 dev "$IF1" src "$eaddr" \
		table 220 >"$out" 2>&1 || rc=$?
	[ "$rc" -ne 0 ] || err "ip exited 0"
	[ "$rc" -ne 124 ] || err "killed by the timeout guard"
	grep -q '^Error: Invalid source address\.$' "$out" ||
		err "no 'Error: Invalid source address.'"
	n=$(sends_of "$tr" RTM_NEWROUTE | grep -c .) || :
	[ "$n" -eq 1 ] || err "RTM_NEWROUTE crossed $n times, not once"
	seq=$(sends_of "$tr" RTM_NEWROUTE | seqs_of | head -n 1)
	replies_of "$tr" "${seq:-none}" | grep -v MSG_PEEK | grep '^recvmsg(' |
		grep -q 'error=-EINVAL' || err "ip did not read the kernel's -EINVAL"
	[ -z "$(route_in_table "$NS1" 220)" ] || err "table 220 not empty"
}

# 1. DAD fails: the peer already has the address
setup_pair || { fail e-dadfail "namespace setup failed"; exit 1; }
E1=2001:db8:e::1
case_begin "e1: DAD failure: the original EINVAL comes back, the log says DAD failed"
ip -n "$NS2" -6 addr add "$E1/128" dev "$IF2" nodad || err "peer address"
ip -n "$NS1" -6 addr add "$E1/128" dev "$IF1" || err "ip addr add failed"
is_tentative "$NS1" "$IF1" "$E1" || err "$E1 not tentative before the route"
e_route e1 "$E1"
ip -n "$NS1" -6 addr show dev "$IF1" | grep "inet6 $E1/" | grep -q dadfailed ||
	err "the kernel does not list $E1 as dadfailed"
shim_log "$out" | grep -q "route with source $E1: DAD failed; sent unchanged; the kernel refuses it" ||
	err "the log does not say DAD failed"
case_end "$out" || :

# 2. no carrier: the peer was never up, DAD never ends
setup_pair_nocarrier || { fail e-dadfail "namespace setup failed"; exit 1; }
E2=2001:db8:e::2
case_begin "e2: no carrier (DAD never ends), DADSHIM_WAIT_MS=1500: the original EINVAL comes back"
# The flags follow the operstate, which the kernel's linkwatch sets a moment
# after "up" (longer on a slow guest): wait for it, bounded.
i=0
while ! ip -n "$NS1" link show dev "$IF1" | grep -q 'NO-CARRIER.*,UP' && [ $i -lt 50 ]; do
	sleep 0.1; i=$((i + 1))
done
ip -n "$NS1" link show dev "$IF1" | grep -q 'NO-CARRIER.*,UP' ||
	err "$IF1 is not up without carrier: $(ip -n "$NS1" link show dev "$IF1" | head -n 1)"
ip -n "$NS1" -6 addr add "$E2/128" dev "$IF1" || err "ip addr add failed"
is_tentative "$NS1" "$IF1" "$E2" || err "$E2 not tentative before the route"
GUARD=30 e_route e2 "$E2" DADSHIM_WAIT_MS=1500
is_tentative "$NS1" "$IF1" "$E2" || err "$E2 no longer tentative: DAD did end"
shim_log "$out" | grep -q "route with source $E2: no DAD end within [0-9]* ms; sent unchanged; the kernel refuses it" ||
	err "the log does not say the wait ran out"
case_end "$out" || :

# 3. no such address anywhere in the namespace: nothing to wait for.
# The shim looks, finds nothing, and sends the route at once.
E3=2001:db8:e::3
case_begin "e3: source absent: no wait, the route goes out once and the kernel refuses it"
ip -n "$NS1" -6 addr show | grep -q "inet6 $E3/" && err "$E3 unexpectedly present"
GUARD=30 e_route e3 "$E3" DADSHIM_LOG=3
shim_log "$out" | grep -q "route with source $E3: no such source address; sent at once" ||
	err "the log does not say there was no such address"
case_end "$out" || :
finish
