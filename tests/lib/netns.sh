# shellcheck shell=sh
# Shared helpers of the network-namespace tests (sourced, POSIX sh): the
# namespaces and veth pairs, strace, and the checks, reported as TAP
# (tests/lib/tap.sh).  Run from the repository root. Every name carries the script's PID, because
# other engineers run their tests concurrently on the same machine.

# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh

SHIM=${SHIM:-$(pwd)/shim/libdadshim.so}
# Generous guard for any single command: no assertion is about time.
GUARD=${GUARD:-60}

# Settings of the caller must not leak into the runs being compared.
unset LD_PRELOAD DADSHIM_NODAD DADSHIM_RETRY DADSHIM_WAIT_MS DADSHIM_LOG \
	DADSHIM_LOG_TARGET

T_NS=""
T_PIDS=""
T_SEQ=0
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/dadshim-netns.XXXXXX")

t_cleanup() {
	for p in $T_PIDS; do
		kill "$p" 2>/dev/null || :
	done
	for ns in $T_NS; do
		ip netns del "$ns" 2>/dev/null || :
	done
	rm -rf "$T_TMP"
	tap_end
}

# Clean up on every exit, also on failure or interruption.
trap 't_cleanup' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# finish: summary line and exit status of the script
finish() {
	tap_note "$(basename "$0"): $TAP_PASSES passed, $TAP_FAILS failed"
	[ "$TAP_FAILS" -eq 0 ]
}

# require_root NAME: root with CAP_NET_ADMIN and working namespaces, or fail.
require_root() {
	if [ "$(id -u)" != 0 ]; then
		fail "$1" "needs root (network namespaces, veth, strace); run as root"
		exit 1
	fi
	capeff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
	# CAP_NET_ADMIN is bit 12
	if [ $(( (0x$capeff >> 12) & 1 )) -ne 1 ]; then
		fail "$1" "needs CAP_NET_ADMIN (CapEff=$capeff)"
		exit 1
	fi
	for tool in ip strace timeout; do
		command -v "$tool" >/dev/null 2>&1 ||
			{ fail "$1" "$tool missing: run make deps"; exit 1; }
	done
	probe="dshp$$"
	if ! ip netns add "$probe" 2>/dev/null; then
		fail "$1" "cannot create a network namespace (needs CAP_SYS_ADMIN + CAP_NET_ADMIN)"
		exit 1
	fi
	ip netns del "$probe"
}

# require_file NAME PATH...: built artefacts must exist.
require_file() {
	_name=$1
	shift
	for _f in "$@"; do
		if [ ! -e "$_f" ]; then
			fail "$_name" "$_f is missing: run make all test-programs"
			exit 1
		fi
	done
}

# setup_pair / setup_pair_nocarrier: a fresh pair of namespaces joined by
# a veth with DAD on. Sets NS1 (the "client", where tests run), NS2 (the
# peer), IF1, IF2. _nocarrier: IF2 is never brought up, so IF1 never has
# carrier. (A link that lost its carrier after having had it still completes
# DAD: the kernel keeps the interface "ready" and its probes go nowhere.)
setup_pair() {
	_setup_pair carrier
}

setup_pair_nocarrier() {
	_setup_pair nocarrier
}

_setup_pair() {
	# one pair at a time: the previous one is done with
	[ -z "${NS1:-}" ] || ip netns del "$NS1" 2>/dev/null || :
	[ -z "${NS2:-}" ] || ip netns del "$NS2" 2>/dev/null || :
	T_SEQ=$((T_SEQ + 1))
	NS1="dadshim-$$-$T_SEQ-a"
	NS2="dadshim-$$-$T_SEQ-b"
	IF1="dsa$$x$T_SEQ"
	IF2="dsb$$x$T_SEQ"
	ip netns add "$NS1" || return 1
	T_NS="$T_NS $NS1"
	ip netns add "$NS2" || return 1
	T_NS="$T_NS $NS2"
	ip link add "$IF1" netns "$NS1" type veth peer name "$IF2" netns "$NS2" ||
		return 1
	for _x in "$NS1:$IF1" "$NS2:$IF2"; do
		_ns=${_x%%:*}
		_ifc=${_x#*:}
		# veth does DAD; make sure nothing in the namespace turned it off
		ip netns exec "$_ns" sh -c "
			echo 0 > /proc/sys/net/ipv6/conf/$_ifc/disable_ipv6 &&
			echo 1 > /proc/sys/net/ipv6/conf/$_ifc/accept_dad &&
			echo 1 > /proc/sys/net/ipv6/conf/$_ifc/dad_transmits &&
			echo 0 > /proc/sys/net/ipv6/conf/$_ifc/optimistic_dad" ||
			return 1
		ip -n "$_ns" link set lo up || return 1
		[ "$1" = nocarrier ] && [ "$_ns" = "$NS2" ] && continue
		ip -n "$_ns" link set "$_ifc" up || return 1
	done
	[ "$1" = nocarrier ] && return 0
	wait_carrier "$NS1" "$IF1"
}

# wait_carrier NS IF: until the link has carrier (bounded).
wait_carrier() {
	_i=0
	while [ $_i -lt 100 ]; do
		ip -n "$1" link show dev "$2" | grep -q 'LOWER_UP' && return 0
		sleep 0.05
		_i=$((_i + 1))
	done
	echo "# no carrier on $2 in $1" >&2
	return 1
}

# in_ns CMD...: run in NS1, guarded.
in_ns() {
	timeout "$GUARD" ip netns exec "$NS1" "$@"
}

# with_shim [VAR=VAL]... CMD...: run CMD in NS1 with the shim preloaded
# (its log on stderr).
with_shim() {
	timeout "$GUARD" ip netns exec "$NS1" env LD_PRELOAD="$SHIM" \
		DADSHIM_LOG_TARGET=stderr "$@"
}

# nl_trace OUT [-E VAR=VAL]... -- CMD...: strace CMD in NS1, one file per
# thread (OUT.TID, so a thread's lines are never split), every netlink
# message decoded. The -E settings reach the traced program only, so strace
# itself never runs with the shim.
nl_trace() {
	_out=$1
	shift
	timeout "$GUARD" ip netns exec "$NS1" strace -ff -qq -s 65535 \
		-o "$_out" -e trace=%network "$@"
}

# shim_trace OUT [VAR=VAL]... -- CMD...: nl_trace with the shim preloaded.
# Settings are single words (LD_PRELOAD itself splits on blanks anyway).
shim_trace() {
	_sout=$1
	shift
	_envopts="-E LD_PRELOAD=$SHIM -E DADSHIM_LOG_TARGET=stderr"
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		_envopts="$_envopts -E $1"
		shift
	done
	[ $# -gt 0 ] && shift
	# shellcheck disable=SC2086 # one word per option, see above
	nl_trace "$_sout" $_envopts -- "$@"
}

# trace_all OUT: every thread's lines of a trace
trace_all() {
	cat "$1".* 2>/dev/null
}

# sends_of OUT TYPE: the send calls (sendto/sendmsg) that carried TYPE and
# were accepted by the kernel (the call returned a length, not -1).  strace
# names the type only on a socket that sock_diag lists, a bound one: the
# first send of the shim's look (an unbound socket, bound by that send)
# shows the number, "nlmsg_type=0x16 /* NLMSG_??? */".
sends_of() {
	case $2 in
	RTM_NEWADDR) _nt=0x14 ;; RTM_DELADDR) _nt=0x15 ;; RTM_GETADDR) _nt=0x16 ;;
	RTM_NEWROUTE) _nt=0x18 ;; RTM_DELROUTE) _nt=0x19 ;; *) _nt=$2 ;;
	esac
	trace_all "$1" | grep -E '^(send|sendto|sendmsg)\(' |
		grep -E "nlmsg_type=($2|$_nt /\* NLMSG_\?\?\? \*/)," | grep -Ev '= -1 [A-Z]'
}

# seqs_of: the nlmsg_seq of the first message of each line on stdin
seqs_of() {
	awk 'match($0, /nlmsg_seq=[0-9]+/) { print substr($0, RSTART + 10, RLENGTH - 10) }'
}

# send_bytes FILE TYPE: hex bytes (one per line) of the first send call in
# FILE (one thread's trace, made with -e write=all) that carried TYPE
# (mawk: no regex intervals)
send_bytes() {
	awk -v type="nlmsg_type=$2," '
		/^(send|sendto|sendmsg)\(/ { if (found) exit; if (index($0, type)) found = 1; next }
		found && /^ \| [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]  / {
			n = split(substr($0, 11, 49), b, " ")
			for (i = 1; i <= n; i++) print b[i]
			next
		}
		found && !/^ \* / { exit }' "$1"
}

# replies_of OUT SEQ: NLMSG_ERROR replies read for SEQ, any receive call
replies_of() {
	trace_all "$1" | grep -E '^(recvfrom|recvmsg|recv)\(' |
		grep "nlmsg_type=NLMSG_ERROR, [^}]*nlmsg_seq=$2,"
}

# routes_after_dad FILE ADDR: one line per RTM_NEWROUTE sent in one
# thread's trace: "yes" when, since that thread's previous send of an
# RTM_NEWROUTE or RTM_NEWADDR, the kernel reported ADDR without
# IFA_F_TENTATIVE (an RTM_NEWADDR read on the shim's socket); else "no"
routes_after_dad() {
	awk -v a="\"$2\"" '
		/^(recvfrom|recvmsg|recv)\(/ && index($0, "nlmsg_type=RTM_NEWADDR,") &&
			index($0, a) && !index($0, "TENTATIVE") { ended = 1 }
		/^(send|sendto|sendmsg)\(/ && index($0, "nlmsg_type=RTM_NEWADDR,") { ended = 0 }
		/^(send|sendto|sendmsg)\(/ && index($0, "nlmsg_type=RTM_NEWROUTE,") {
			print(ended ? "yes" : "no"); ended = 0
		}' "$1"
}

# check_waited TRACE ADDR [N]: N (default 1) RTM_NEWROUTE requests with
# source ADDR, each crossed exactly once, only after the kernel had said
# that DAD of ADDR was over, and the kernel answered each with an ack: the
# wait in send, seen from the kernel's side. Sets WAITED_SEQ (the last).
check_waited() {
	_tr=$1
	_a=$2
	_n=${3:-1}
	_seqs=$(sends_of "$_tr" RTM_NEWROUTE | seqs_of | tr '\n' ' ')
	# shellcheck disable=SC2086 # split the numbers
	set -- $_seqs
	[ $# -eq "$_n" ] && [ "$(printf '%s\n' "$@" | sort -u | grep -c .)" -eq "$_n" ] ||
		err "expected $_n RTM_NEWROUTE, each once, got seqs: $_seqs"
	_yes=$(for _f in "$_tr".*; do
		[ -f "$_f" ] && routes_after_dad "$_f" "$_a"
	done | grep -c '^yes$' || :)
	[ "$_yes" -eq "$_n" ] ||
		err "$_yes of $_n RTM_NEWROUTE were sent after the kernel reported $_a no longer tentative"
	for WAITED_SEQ in "$@"; do
		replies_of "$_tr" "$WAITED_SEQ" | tail -n 1 | grep -q 'error=0,' ||
			err "the kernel's answer to seq $WAITED_SEQ was not an ack"
	done
}

# route_in_table NS TABLE: `ip -6 route show table TABLE` in NS
route_in_table() {
	ip -n "$1" -6 route show table "$2"
}

# is_tentative NS IF ADDR: the kernel lists ADDR on IF as tentative
is_tentative() {
	ip -n "$1" -6 addr show dev "$2" tentative | grep -q "inet6 $3/"
}

# wait_not_tentative NS IF ADDR: until DAD ended for ADDR (bounded, 10 s)
wait_not_tentative() {
	_i=0
	while [ $_i -lt 200 ]; do
		if ip -n "$1" -6 addr show dev "$2" | grep -q "inet6 $3/" &&
			! is_tentative "$1" "$2" "$3"; then
			return 0
		fi
		sleep 0.05
		_i=$((_i + 1))
	done
	return 1
}

# shim_log FILE: the shim's own lines in a captured stderr
shim_log() {
	grep -E '^dadshim\[[0-9]+\]: ' "$1" || :
}

# Cases: case_begin NAME; err REASON (any number); case_end -> ok/not ok.
case_begin() {
	C_NAME=$1
	C_ERR=""
}

err() {
	C_ERR="${C_ERR:+$C_ERR; }$1"
}

# case_end [FILE...]: ok, or not ok with the reasons and the files as context
case_end() {
	if [ -z "$C_ERR" ]; then
		pass "$C_NAME"
		return 0
	fi
	fail "$C_NAME" "$C_ERR"
	# a check TAP_ONLY leaves out shows no context (tap.sh names it)
	tap_selected "$C_NAME" || return 1
	for _f in "$@"; do
		[ -f "$_f" ] || continue
		echo "#   --- $_f" >&2
		cut -c1-600 "$_f" | sed 's/^/#   | /' >&2
	done
	return 1
}

# indent FILE: show FILE indented (context on failure)
indent() {
	sed 's/^/#   | /' "$1" >&2 || :
}
