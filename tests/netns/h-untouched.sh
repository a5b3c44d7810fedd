#!/bin/sh
# Scenario h: NETLINK_ROUTE requests the shim has no business with cross
# exactly as without it: IPv4 routes (also with a source), IPv6 routes
# without a source, an IPv6 address that already asks for NODAD, an IPv4
# address (RTM_NEWADDR of AF_INET: no IFA_F_NODAD added). Every
# network system call of `ip` (strace %network, netlink decoded) must be the
# same with and without the shim, once what differs between any two runs is
# masked (seq and port ids, link counters, address and neighbour timers,
# buffer addresses): no extra call (no getsockopt, no peek), no byte sent
# changed, the same replies read with the same flags, nothing held. And
# what ip made of the replies must be the same: its exit status and its
# output.
set -eu
# shellcheck source=tests/lib/netns.sh
. tests/lib/netns.sh

require_root h-untouched
require_file h-untouched "$SHIM"
setup_pair || { fail h-untouched "namespace setup failed"; exit 1; }
ip -n "$NS1" addr add 192.0.2.1/24 dev "$IF1"
# The link's own DAD (its fe80:: address) must be over before any
# comparison: a dump taken while it runs and one taken after it differ in
# the kernel's state, not in anything the shim does.
i=0
while [ -n "$(ip -n "$NS1" -6 addr show dev "$IF1" tentative)" ]; do
	i=$((i + 1))
	[ $i -lt 200 ] || { fail h-untouched "DAD on $IF1 did not end within 10 s"; exit 1; }
	sleep 0.05
done

# h_norm FILE: a trace with what varies between any two runs masked
h_norm() {
	# iproute2 numbers requests by time; the kernel assigns the port id;
	# counters, cache timestamps and reachable_time move between runs
	perl -pe '
		s/nlmsg_seq=\d+/nlmsg_seq=S/g;
		s/nlmsg_pid=-?\d+/nlmsg_pid=P/g;
		s/nl_pid=-?\d+/nl_pid=P/g;
		s/(nla_type=(?:IFLA_STATS64|IFLA_STATS|IFLA_INET6_CACHEINFO|IFA_CACHEINFO|RTA_CACHEINFO|NDA_CACHEINFO)\}, \{)[^}]*\}/$1...}/g;
		s/(\[(?:IPSTATS|ICMP6)_MIB_[A-Z0-9_]+\] = )\d+/$1N/g;
		s/\b0x[0-9a-f]{8,}\b/ADDR/g;
	' "$1"
}

# h_trace OUT [strace -E options...] -- IP-ARGS...: one ip command, traced;
# returns ip's exit status (strace passes it on)
h_trace() {
	_o=$1
	shift
	_e=""
	while [ "$1" != "--" ]; do
		_e="$_e $1"
		shift
	done
	shift
	_st=0
	# shellcheck disable=SC2086 # one word per option
	timeout "$GUARD" ip netns exec "$NS1" strace -qq -s 65535 -e trace=%network \
		-o "$_o" $_e ip "$@" || _st=$?
	h_norm "$_o" >"$_o.n"
	return "$_st"
}

# h_case NAME UNDO-ARGS -- DO-ARGS: DO without and with the shim (UNDO in
# between restores the state), and compare
h_case() {
	_n=$1
	_undo=$2
	shift 3
	case_begin "h-$_n: ip $* crosses identically with and without the shim"
	_rc=0
	h_trace "$T_TMP/$_n.plain" -- "$@" >"$T_TMP/$_n.plain.ip" 2>&1 || _rc=$?
	[ "$_rc" -eq 0 ] || err "ip exited $_rc without the shim"
	# shellcheck disable=SC2086 # the undo command's words
	ip -n "$NS1" $_undo >>"$T_TMP/$_n.out" 2>&1 || err "undo failed"
	_rc2=0
	h_trace "$T_TMP/$_n.shim" -E "LD_PRELOAD=$SHIM" -E DADSHIM_LOG=0 -- "$@" \
		>"$T_TMP/$_n.shim.ip" 2>&1 || _rc2=$?
	[ "$_rc2" -eq "$_rc" ] || err "ip exited $_rc2 with the shim, $_rc without"
	# shellcheck disable=SC2086
	ip -n "$NS1" $_undo >>"$T_TMP/$_n.out" 2>&1 || err "undo failed"
	grep -q '^send.*nlmsg_type=RTM_' "$T_TMP/$_n.plain.n" || err "no request traced"
	grep -q '^recv.*nlmsg_type=\(NLMSG_ERROR\|RTM_NEW\)' "$T_TMP/$_n.plain.n" ||
		err "no reply traced"
	# what ip made of the replies (its output: the addresses listed, or an
	# error message) is part of what the shim must not change
	cmp -s "$T_TMP/$_n.plain.ip" "$T_TMP/$_n.shim.ip" ||
		err "ip's output differs: '$(head -c 200 "$T_TMP/$_n.plain.ip" | tr '\n' ' ')' became '$(head -c 200 "$T_TMP/$_n.shim.ip" | tr '\n' ' ')'"
	if ! diff "$T_TMP/$_n.plain.n" "$T_TMP/$_n.shim.n" >"$T_TMP/$_n.diff"; then
		err "the traces differ"
		case_end "$T_TMP/$_n.diff" || :
		return
	fi
	case_end "$T_TMP/$_n.out" || :
}

h_case v4route "-4 route del 198.51.100.0/24 dev $IF1 table 220" -- \
	-4 route add 198.51.100.0/24 dev "$IF1" table 220
h_case v4src "-4 route del 198.51.100.0/24 dev $IF1 table 220" -- \
	-4 route add 198.51.100.0/24 dev "$IF1" src 192.0.2.1 table 220
h_case v6nosrc "-6 route del 2001:db8:99::/64 dev $IF1 table 220" -- \
	-6 route add 2001:db8:99::/64 dev "$IF1" table 220
h_case v6nodad "-6 addr del 2001:db8:98::1/128 dev $IF1" -- \
	-6 addr add 2001:db8:98::1/128 dev "$IF1" nodad
h_case v4addr "-4 addr del 192.0.2.77/24 dev $IF1" -- \
	-4 addr add 192.0.2.77/24 dev "$IF1"
h_case v6dump "-6 addr flush dev $IF1 scope global" -- \
	-6 addr show dev "$IF1"
finish
