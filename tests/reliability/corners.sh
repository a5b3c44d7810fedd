# shellcheck shell=sh
# The fourteen defects of issue 23 ("defect N: ...") and the rules of the
# wait in send ("rule: ..."): tests/reliability/corners.c in fresh
# namespace pairs (a veth with DAD on), without the shim first, where the
# kernel's own answer is the reference, then with it under strace.  Judged
# on what the program saw (answers, return values, errno, descriptors), on
# what crossed the kernel boundary (strace) and on what the kernel holds
# (`ip`); the shim's log only where it is the subject.  Where the new
# design differs on purpose (defects 1, 3 and 4: the route is installed),
# the check asserts that.  Defect 8 is lifecycle 8, defect 14 the doctor
# check in tests/deploy.  Sourced by tests/reliability/run.sh near its
# end, or run alone (as root, from anywhere): sh tests/reliability/corners.sh
if [ -z "${T_TMP:-}" ]; then
	set -eu
	cd "$(dirname "$0")/../.."
	# shellcheck source=tests/lib/netns.sh
	. tests/lib/netns.sh
	require_root corners
	require_file corners "$SHIM"
	CORNERS_ALONE=1
else
	CORNERS_ALONE=0
fi
CB=$(pwd)/build/tests/reliability
require_file corners "$CB/corners"

# c_kv FILE KEY: the value of KEY in the program's summary line
c_kv() {
	sed -n "s/^corners: .* $2=\([^ ]*\).*$/\1/p" "$1" | head -n 1
}

# c_are FILE 'KEY=VALUE ...' [WHAT]: one err per KEY that is not VALUE
c_are() {
	for _kv in $2; do
		_v=$(c_kv "$1" "${_kv%%=*}")
		[ "$_v" = "${_kv#*=}" ] || err "${3:+$3: }${_kv%%=*}=${_v:-missing}, expected ${_kv#*=}"
	done
}

# c_ran RC WHAT: the program ended by itself, with status 0
c_ran() {
	if [ "$1" -eq 124 ]; then
		err "$2: killed by the timeout guard (hang)"
	elif [ "$1" -ge 128 ]; then
		err "$2: killed by signal $(($1 - 128))"
	elif [ "$1" -ne 0 ]; then
		err "$2: exit status $1"
	fi
}

# c_pair [nocarrier]: a fresh namespace pair (NS1/IF1), and in NS1 a second
# link XA whose peer stays down (no carrier: DAD never ends on it)
c_pair() {
	if [ "${1:-}" = nocarrier ]; then
		setup_pair_nocarrier || err "namespace setup failed"
	else
		setup_pair || err "namespace setup failed"
	fi
	XA=cxa$$
	ip -n "$NS1" link add "$XA" type veth peer name cxb$$ &&
		ip netns exec "$NS1" sh -c "echo 1 > /proc/sys/net/ipv6/conf/$XA/accept_dad" &&
		ip -n "$NS1" link set "$XA" up || err "link without carrier"
}

# c_bare NAME 'KEY=VALUE ...' MODE ADDR [IFNAME2]: corners without the
# shim, traced; c_out, c_tr
c_bare() {
	_n=$1
	_want=$2
	shift 2
	c_out=$T_TMP/c-$_n.bare
	c_tr=$T_TMP/c-$_n.bare.tr
	_rc=0
	GUARD=${GUARD:-60} nl_trace "$c_tr" -- "$CB/corners" "$1" "$IF1" "$2" ${3:+"$3"} \
		>"$c_out" 2>&1 || _rc=$?
	c_ran "$_rc" "without the shim"
	c_are "$c_out" "$_want" "without the shim"
	R_FILES="${R_FILES:-} $c_out"
}

# c_shim NAME 'KEY=VALUE ...' [VAR=VAL]... -- MODE ADDR [IFNAME2]: corners
# with the shim (its log in c_log), traced; c_out, c_log, c_tr
c_shim() {
	_n=$1
	_want=$2
	shift 2
	_env=""
	while [ "$1" != -- ]; do
		_env="$_env $1"
		shift
	done
	shift
	c_out=$T_TMP/c-$_n.out
	c_log=$T_TMP/c-$_n.log
	c_tr=$T_TMP/c-$_n.tr
	_rc=0
	# shellcheck disable=SC2086 # one word per setting
	GUARD=${GUARD:-60} shim_trace "$c_tr" $_env -- "$CB/corners" "$1" "$IF1" "$2" ${3:+"$3"} \
		>"$c_out" 2>"$c_log" || _rc=$?
	c_ran "$_rc" "with the shim"
	c_are "$c_out" "$_want"
	R_FILES="${R_FILES:-} $c_out $c_log"
}

# c_begin NAME: begin the case, unless TAP_ONLY leaves it out (1: skip it)
c_begin() {
	if command -v tap_selected >/dev/null 2>&1; then
		tap_selected "$1" || return 1
	fi
	case_begin "$1"
}

c_end() {
	case_end ${R_FILES:-} || :
	R_FILES=""
}

c_route() {
	route_in_table "$NS1" 233 | grep -q "^$1 "
}

c_nodad() {
	ip -n "$NS1" -6 addr show | grep "inet6 $1/" | grep -q nodad
}

# c_crossed TRACE TYPE: how many send calls carrying TYPE crossed
c_crossed() {
	sends_of "$1" "$2" | grep -c . || :
}

# c_after_dad TRACE ADDR: every RTM_NEWROUTE crossed after the kernel
# reported ADDR no longer tentative
c_after_dad() {
	for _f in "$1".*; do
		[ -f "$_f" ] && routes_after_dad "$_f" "$2"
	done | grep -qx no && err "an RTM_NEWROUTE crossed before DAD of $2 was over"
	for _f in "$1".*; do
		[ -f "$_f" ] && routes_after_dad "$_f" "$2"
	done | grep -qx yes || err "no RTM_NEWROUTE crossed after DAD of $2 was over"
}

if c_begin "defect 1: add and delete of one route in one datagram, source tentative: the datagram waits for DAD and crosses once; two acks and no route (without the shim: EINVAL, ESRCH, no route)"; then
	c_pair
	c_bare d1 'add=EINVAL del=ESRCH route=0' adddel fd00:c1::1
	c_shim d1 'add=0 del=0 route=0' DADSHIM_NODAD=0 -- adddel fd00:c1::2
	[ "$(c_crossed "$c_tr" RTM_NEWROUTE)" -eq 1 ] || err "the datagram did not cross exactly once"
	c_after_dad "$c_tr" fd00:c1::2
	c_end
fi

if c_begin "defect 2: writev() is wrapped: an address added by writev gets NODAD; add by send() then delete by writev() leaves no route, as without the shim"; then
	c_pair
	c_bare d2 'addr2=0 add=EINVAL del=ESRCH route=0' writev fd00:c2::1
	! c_nodad fd00:c2::2 || err "without the shim the kernel got NODAD"
	c_pair
	c_shim d2 'addr2=0 add=0 del=0 route=0' -- writev fd00:c2::3
	c_nodad fd00:c2::4 || err "the address sent by writev() reached the kernel without NODAD"
	c_pair
	c_shim d2w 'addr2=0 add=0 del=0 route=0' DADSHIM_NODAD=0 -- writev fd00:c2::5
	c_after_dad "$c_tr" fd00:c2::5
	c_end
fi

if c_begin "defect 3: two threads, one socket: a delete sent while the add still waits in its send crosses first (the calls overlap: no order between them); each request crosses once, the route is there as the kernel's answers say"; then
	c_pair
	c_bare d3 'first=add:EINVAL second=del:ESRCH route=0' threads fd00:c3::1
	c_shim d3 'in_wait=1 first=del:ESRCH second=add:0 route=1' DADSHIM_NODAD=0 -- threads fd00:c3::2
	[ "$(c_crossed "$c_tr" RTM_NEWROUTE)" -eq 1 ] || err "the add did not cross exactly once"
	[ "$(c_crossed "$c_tr" RTM_DELROUTE)" -eq 1 ] || err "the delete did not cross exactly once"
	c_after_dad "$c_tr" fd00:c3::2
	c_end
fi

if c_begin "defect 4: a request socket that also takes IPv6 address events overruns during the wait: the program's own receive reports ENOBUFS (the kernel's), nothing hangs, the route is installed"; then
	c_pair
	c_bare d4 'send=0 answer=EINVAL route=0' overrun fd00:c4::1
	c_shim d4 'in_wait=1 send=0 nobufs=1 route=1' DADSHIM_NODAD=0 -- overrun fd00:c4::2
	c_end
fi

if c_begin "defect 5: the socket closed during the wait and its number reused by a UDP socket: the send says EBADF and nothing is sent, on either socket"; then
	c_pair
	c_bare d5 'send=0 route=0' reuse fd00:c5::1
	c_shim d5 'in_wait=1 udp_number=same send=send:EBADF udp_got=send:EAGAIN route=0' \
		DADSHIM_NODAD=0 -- reuse fd00:c5::2
	[ "$(c_crossed "$c_tr" RTM_NEWROUTE)" -eq 0 ] || err "the route was sent after its socket was closed"
	! trace_all "$c_tr" | grep -E '^(send|sendto|sendmsg)\(' | grep -q 'sin_family=AF_INET' ||
		err "something was sent on the UDP socket"
	c_end
fi

if c_begin "defect 6: a pipe dup2()ed onto the shim's own number during the wait stays the program's: open, writable, in a fork child, and close() says 0"; then
	c_pair
	c_bare d6 'in_wait=0 target_not_pipe=1 send=0 kept=1 wrote=1 child_has=1 close=0 fds_left=0' dup2 fd00:c6::1
	c_shim d6 'in_wait=1 target_not_pipe=1 send=0 kept=1 wrote=1 child_has=1 close=0 fds_left=0' \
		DADSHIM_NODAD=0 -- dup2 fd00:c6::2
	c_end
fi

# The same with a socket that has a datagram queued: the wait never reads
# a number that stopped being its own socket (it checks before each read).
if c_begin "defect 6b: a UDP socket dup2()ed onto the shim's own number during the wait keeps its queued datagram for the program"; then
	c_pair
	c_bare d6b 'in_wait=0 target_not_udp=1 send=0 datagram=kept close=0' dup2sock fd00:c6::1
	c_shim d6b 'in_wait=1 target_not_udp=1 send=0 datagram=kept close=0' \
		DADSHIM_NODAD=0 -- dup2sock fd00:c6::2
	c_end
fi

if c_begin "defect 7: a thread with a cancellation pending sends a route with a tentative source: cancelled, nothing sent, no descriptor left, as without the shim"; then
	c_pair
	c_bare d7 'cancelled=1 fds_left=0 route=0' cancel fd00:c7::1
	[ "$(c_crossed "$c_tr" RTM_NEWROUTE)" -eq 0 ] || err "without the shim the route crossed"
	c_shim d7 'cancelled=1 fds_left=0 route=0' DADSHIM_NODAD=0 -- cancel fd00:c7::2
	[ "$(c_crossed "$c_tr" RTM_NEWROUTE)" -eq 0 ] || err "the route crossed"
	c_end
fi

if c_begin "defect 9: a clone(CLONE_VM) child sends after its parent exec'd: its own bytes reach the kernel, with NODAD"; then
	c_pair
	c_bare d9 'parent_execd=1 add=0' clonevm fd00:c9::1
	! c_nodad fd00:c9::1 || err "without the shim the kernel got NODAD"
	c_shim d9 'parent_execd=1 add=0' -- clonevm fd00:c9::2
	c_nodad fd00:c9::2 || err "the child's address reached the kernel without NODAD"
	c_end
fi

if c_begin "defect 10: sendmmsg() with process_vm_writev forbidden (seccomp EPERM): both datagrams sent and counted, both with NODAD"; then
	c_pair
	c_bare d10 'ret=2 add1=0 add2=0' mmsg fd00:ca::1
	b=$(c_kv "$c_out" len0)
	c_shim d10 "ret=2 len0=$b len1=$b add1=0 add2=0" -- mmsg fd00:ca::3
	c_nodad fd00:ca::3 && c_nodad fd00:ca::4 || err "a datagram reached the kernel without NODAD"
	c_end
fi

if c_begin "defect 11: the sending thread left the socket's network namespace: the shim does not wait on the wrong namespace; the kernel's EINVAL, and the log says why"; then
	c_pair
	c_bare d11 'route_answer=EINVAL' netns fd00:cb::1
	c_shim d11 'route_answer=EINVAL' DADSHIM_NODAD=0 -- netns fd00:cb::2
	grep -q 'route with source fd00:cb::2: the socket is in another network namespace; sent without waiting' "$c_log" ||
		err "the log does not say the socket is in another namespace"
	c_end
fi

if c_begin "defect 12: another thread's closefrom() + open() loop against 2000 syslog lines of the shim: none of its files is closed or replaced"; then
	c_pair
	c_bare d12 'damaged=0' logsweep fd00:cc::1
	c_shim d12 'damaged=0' DADSHIM_LOG_TARGET=syslog -- logsweep fd00:cc::1
	note "sweeps with the shim: $(c_kv "$c_out" sweeps)"
	c_end
fi

if c_begin "defect 13: 50 children of _Fork() (no fork handlers) sweep, use netlink and exit while a send waits: none hangs"; then
	c_pair
	c_bare d13 'children_ok=50 hung=0' forkwait fd00:cd::1 "$XA"
	c_shim d13 'in_wait=1 children_ok=50 hung=0' DADSHIM_NODAD=0 DADSHIM_WAIT_MS=3000 -- \
		forkwait fd00:cd::2 "$XA"
	c_end
fi

# MSG_DONTWAIT is seen in the call: no look.  O_NONBLOCK costs a system
# call, asked only once the look found the source tentative: one look, and
# no second dump (the wait's own, on the subscribed socket).
for r in "dontwait:0:a send with MSG_DONTWAIT never waits: no look at the address" \
	"nonblock:1:a send on an O_NONBLOCK socket never waits: one look, no wait"; do
	if c_begin "rule: ${r#*:*:}, the kernel's EINVAL"; then
		c_pair
		c_bare "${r%%:*}" 'route_answer=EINVAL' "${r%%:*}" fd00:ce::1
		c_shim "${r%%:*}" 'route_answer=EINVAL' DADSHIM_NODAD=0 -- "${r%%:*}" fd00:ce::2
		_looks=${r#*:}
		[ "$(c_crossed "$c_tr" RTM_GETADDR)" -eq "${_looks%%:*}" ] ||
			err "$(c_crossed "$c_tr" RTM_GETADDR) looks at the address, not ${_looks%%:*}"
		c_end
	fi
done

if c_begin "rule: SO_SNDTIMEO (300 ms) bounds the wait below DADSHIM_WAIT_MS=60000 (DAD never ends; guard 20 s): the kernel's EINVAL"; then
	c_pair nocarrier
	c_bare r3 'route_answer=EINVAL' sndtimeo fd00:ce::1
	GUARD=20 c_shim r3 'route_answer=EINVAL' DADSHIM_NODAD=0 DADSHIM_WAIT_MS=60000 -- sndtimeo fd00:ce::2
	grep -q 'route with source fd00:ce::2: no DAD end within [0-9]* ms; sent unchanged' "$c_log" ||
		err "the log does not say the bound ran out"
	c_end
fi

if c_begin "rule: DADSHIM_WAIT_MS=1500 bounds the wait below the 5000 default (DAD never ends; guard 4 s): the kernel's EINVAL"; then
	c_pair nocarrier
	c_bare r4 'route_answer=EINVAL' waitms fd00:ce::1
	GUARD=4 c_shim r4 'route_answer=EINVAL' DADSHIM_NODAD=0 DADSHIM_WAIT_MS=1500 -- waitms fd00:ce::2
	c_end
fi

if c_begin "rule: an IPv4 source is never waited for: no look at any address"; then
	c_pair
	c_bare r5 'route_answer=EINVAL' v4 fd00:ce::1
	c_shim r5 'route_answer=EINVAL' -- v4 fd00:ce::1
	[ "$(c_crossed "$c_tr" RTM_GETADDR)" -eq 0 ] || err "the shim looked at an address"
	c_end
fi

if c_begin "rule: a source that is not tentative is not waited for: one look, the route at once"; then
	c_pair
	c_bare r6 'route_answer=0' usable fd00:ce::1
	c_shim r6 'route_answer=0' DADSHIM_LOG=3 -- usable fd00:ce::2
	grep -q 'route with source fd00:ce::2: source usable, no wait; sent at once' "$c_log" ||
		err "the log does not say the source was usable"
	[ "$(c_crossed "$c_tr" RTM_GETADDR)" -eq 1 ] || err "not exactly one look"
	c_end
fi

if [ "$CORNERS_ALONE" = 1 ]; then
	finish
fi
