#!/bin/sh
# `make demo`: the IPv6 DAD race of strongSwan <= 5.5.1, shown with iproute2
# in a throwaway pair of network namespaces, first without and then with
# dadshim. Needs root. Exits non-zero if the demo did not show the fix.
set -eu
cd "$(dirname "$0")/.."

SHIM=$(pwd)/shim/libdadshim.so
unset LD_PRELOAD DADSHIM_NODAD DADSHIM_RETRY DADSHIM_WAIT_MS DADSHIM_LOG \
	DADSHIM_LOG_TARGET

if [ "$(id -u)" != 0 ]; then
	echo "demo: needs root (it creates network namespaces)" >&2
	exit 1
fi
if [ ! -f "$SHIM" ]; then
	echo "demo: $SHIM is missing; run make" >&2
	exit 1
fi

NS=dadshim-demo-$$
PEER=dadshim-demo-$$-peer
DEV=demo$$
VIP=2001:db8:ffff::1
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dadshim-demo.XXXXXX")

# shellcheck disable=SC2317 # called by the trap
cleanup() {
	ip netns del "$NS" 2>/dev/null || :
	ip netns del "$PEER" 2>/dev/null || :
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() {
	printf '%s\n' "$*"
}

# in_ns CMD...: run CMD inside the client namespace (guarded)
# shellcheck disable=SC2317 # shellcheck misreads the trap above
in_ns() {
	timeout 60 ip netns exec "$NS" "$@"
}

ip netns add "$NS"
ip netns add "$PEER"
ip link add "$DEV" netns "$NS" type veth peer name "${DEV}p" netns "$PEER"
for x in "$NS:$DEV" "$PEER:${DEV}p"; do
	ip netns exec "${x%%:*}" sh -c "
		echo 1 > /proc/sys/net/ipv6/conf/${x#*:}/accept_dad &&
		echo 1 > /proc/sys/net/ipv6/conf/${x#*:}/dad_transmits"
	ip -n "${x%%:*}" link set lo up
	ip -n "${x%%:*}" link set "${x#*:}" up
done
# DAD starts once the link has carrier
i=0
until ip -n "$NS" link show dev "$DEV" | grep -q LOWER_UP; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || { echo "demo: $DEV has no carrier" >&2; exit 1; }
	sleep 0.05
done

say "dadshim demo"
say "============"
say "A throwaway network namespace with an ethernet-like link ($DEV) plays the"
say "IPsec client. charon 5.5.1 does two things when the tunnel comes up:"
say "it adds the virtual IP $VIP/128 to the link, and a"
say "few milliseconds later it adds a route into table 220 that uses that"
say "address as source. The same two steps with iproute2:"
say ""
say "1. Without dadshim"
say "------------------"
say "  # ip -6 addr add $VIP/128 dev $DEV"
in_ns ip -6 addr add "$VIP/128" dev "$DEV"
say "  # ip -6 route add ::/0 dev $DEV src $VIP table 220"
rc=0
in_ns ip -6 route add ::/0 dev "$DEV" src "$VIP" table 220 \
	>"$TMP/1.out" 2>&1 || rc=$?
sed 's/^/    /' "$TMP/1.out"
say "  # ip -6 addr show dev $DEV (right after)"
ip -n "$NS" -6 addr show dev "$DEV" | grep "inet6 $VIP/" | sed 's/^/    /'
race=1
if [ "$rc" -ne 0 ] && grep -q 'Invalid source address' "$TMP/1.out"; then
	race=0
	say "The kernel refused the route: a new IPv6 address first goes through"
	say "Duplicate Address Detection (about 1-2 s, the address is 'tentative'),"
	say "and a tentative address may not be used as a source. charon 5.5.1"
	say "logs 'unable to install source route' and never tries again: the"
	say "tunnel is up but IPv6 traffic has no route."
else
	say "(The route was accepted: the race did not show on this machine.)"
fi
ip -n "$NS" -6 addr del "$VIP/128" dev "$DEV" 2>/dev/null || :
ip -n "$NS" -6 route flush table 220 2>/dev/null || :

say ""
say "2. With dadshim (LD_PRELOAD=$SHIM)"
say "-------------------$(echo "$SHIM" | sed 's/./-/g')"
say "The same two commands, with the shim preloaded as the systemd drop-in"
say "does for charon (its log goes to syslog there; here to the terminal):"
ok2=1
export LD_PRELOAD="$SHIM" DADSHIM_LOG_TARGET=stderr
say "  # export LD_PRELOAD=$SHIM"
say "  # ip -6 addr add $VIP/128 dev $DEV"
in_ns ip -6 addr add "$VIP/128" dev "$DEV" 2>&1 | sed 's/^/    /'
say "  # ip -6 route add ::/0 dev $DEV src $VIP table 220"
in_ns ip -6 route add ::/0 dev "$DEV" src "$VIP" table 220 \
	>"$TMP/2.out" 2>&1 && ok2=0
unset LD_PRELOAD DADSHIM_LOG_TARGET
sed 's/^/    /' "$TMP/2.out"
say "  # ip -6 addr show dev $DEV; ip -6 route show table 220"
ip -n "$NS" -6 addr show dev "$DEV" | grep "inet6 $VIP/" | sed 's/^/    /'
ip -n "$NS" -6 route show table 220 >"$TMP/2.routes"
sed 's/^/    /' "$TMP/2.routes"
grep -q "src $VIP " "$TMP/2.routes" || ok2=1
if [ "$ok2" -eq 0 ]; then
	say "dadshim added the address with the 'nodad' flag (what strongSwan 5.5.2"
	say "and later do themselves): no detection, no tentative phase, so the"
	say "route is accepted at once."
fi
ip -n "$NS" -6 addr del "$VIP/128" dev "$DEV" 2>/dev/null || :
ip -n "$NS" -6 route flush table 220 2>/dev/null || :

say ""
say "3. With dadshim, but its 'nodad' part switched off (DADSHIM_NODAD=0)"
say "---------------------------------------------------------------------"
say "Now the address goes through DAD as before; the shim's second line of"
say "defence holds the route back in ip's own send until DAD is over:"
ok3=1
export LD_PRELOAD="$SHIM" DADSHIM_LOG_TARGET=stderr DADSHIM_NODAD=0
say "  # export LD_PRELOAD=$SHIM DADSHIM_NODAD=0"
say "  # ip -6 addr add $VIP/128 dev $DEV"
in_ns ip -6 addr add "$VIP/128" dev "$DEV" 2>&1 | sed 's/^/    /'
say "  # ip -6 addr show dev $DEV (right after)"
ip -n "$NS" -6 addr show dev "$DEV" | grep "inet6 $VIP/" | sed 's/^/    /'
say "  # ip -6 route add ::/0 dev $DEV src $VIP table 220"
in_ns ip -6 route add ::/0 dev "$DEV" src "$VIP" table 220 \
	>"$TMP/3.out" 2>&1 && ok3=0
unset LD_PRELOAD DADSHIM_LOG_TARGET DADSHIM_NODAD
sed 's/^/    /' "$TMP/3.out"
say "  # ip -6 route show table 220"
ip -n "$NS" -6 route show table 220 >"$TMP/3.routes"
sed 's/^/    /' "$TMP/3.routes"
grep -q "src $VIP " "$TMP/3.routes" || ok3=1
if [ "$ok3" -eq 0 ]; then
	say "The source was still tentative, so dadshim kept the route in ip's"
	say "send call until the kernel reported the end of DAD (at most"
	say "DADSHIM_WAIT_MS, 5 s by default), then let it go out once: the kernel"
	say "never refused it, and the command (or charon) sees its route"
	say "installed, a second or two later."
fi

say ""
if [ "$race" -eq 0 ] && [ "$ok2" -eq 0 ] && [ "$ok3" -eq 0 ]; then
	say "Result: without dadshim the source route failed; with dadshim it was"
	say "installed, both ways. Namespaces removed."
	exit 0
fi
say "Result: the demo did NOT show the fix (race shown: $([ "$race" -eq 0 ] && echo yes || echo no), nodad: $([ "$ok2" -eq 0 ] && echo ok || echo failed), wait: $([ "$ok3" -eq 0 ] && echo ok || echo failed))."
exit 1
