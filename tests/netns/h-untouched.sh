#!/bin/sh
# Scenario h: NETLINK_ROUTE requests the shim has no business with cross
# exactly as without it: IPv4 routes (also with a source), IPv6 routes
# without a source, an IPv6 address that already asks for NODAD. Every
# network system call of `ip` (strace %network, netlink decoded) must be the
# same with and without the shim, once the seq and port ids that differ
# between any two runs are masked: no extra call (no getsockopt, no peek),
# no byte sent changed, receives made with the same flags, nothing held.
set -eu
# shellcheck source=tests/netns/lib.sh
. tests/netns/lib.sh

require_root h-untouched
require_file h-untouched "$SHIM"
setup_pair || { fail h-untouched "namespace setup failed"; exit 1; }
ip -n "$NS1" addr add 192.0.2.1/24 dev "$IF1"

# h_trace OUT [strace -E options...] -- IP-ARGS...: one ip command, traced
h_trace() {
	_o=$1
	shift
	_e=""
	while [ "$1" != "--" ]; do
		_e="$_e $1"
		shift
	done
	shift
	# shellcheck disable=SC2086 # one word per option
	timeout "$GUARD" ip netns exec "$NS1" strace -qq -s 65535 -e trace=%network \
		-o "$_o" $_e ip "$@"
	# iproute2 numbers requests by time; the kernel assigns the port id.
	# What is received is the kernel's state (link counters move between
	# runs): of a receive, the call, descriptor and flags are compared.
	sed -e 's/nlmsg_seq=[0-9]*/nlmsg_seq=S/g' -e 's/nlmsg_pid=-\{0,1\}[0-9]*/nlmsg_pid=P/g' \
		-e 's/nl_pid=-\{0,1\}[0-9]*/nl_pid=P/g' \
		-e 's/^\(recv[a-z]*\)(\([0-9]*\), .*, \([^,]*\)) *= .*$/\1(\2, ..., \3)/' \
		"$_o" >"$_o.n"
}

# h_case NAME UNDO-ARGS -- DO-ARGS: DO without and with the shim (UNDO in
# between restores the state), and compare
h_case() {
	_n=$1
	_undo=$2
	shift 3
	case_begin "h-$_n: ip $* crosses identically with and without the shim"
	_rc=0
	h_trace "$T_TMP/$_n.plain" -- "$@" >"$T_TMP/$_n.out" 2>&1 || _rc=$?
	[ "$_rc" -eq 0 ] || err "ip exited $_rc without the shim"
	# shellcheck disable=SC2086 # the undo command's words
	ip -n "$NS1" $_undo >>"$T_TMP/$_n.out" 2>&1 || err "undo failed"
	_rc=0
	h_trace "$T_TMP/$_n.shim" -E "LD_PRELOAD=$SHIM" -E DADSHIM_LOG=0 -- "$@" \
		>>"$T_TMP/$_n.out" 2>&1 || _rc=$?
	[ "$_rc" -eq 0 ] || err "ip exited $_rc with the shim"
	# shellcheck disable=SC2086
	ip -n "$NS1" $_undo >>"$T_TMP/$_n.out" 2>&1 || err "undo failed"
	grep -q '^send.*nlmsg_type=RTM_' "$T_TMP/$_n.plain.n" || err "no request traced"
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
h_case v6dump "-6 addr flush dev $IF1 scope global" -- \
	-6 addr show dev "$IF1"
finish
