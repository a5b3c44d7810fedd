#!/bin/sh
# Bad input through the real wrappers: tests/badinput (NULL and 0-byte
# sends, datagrams shorter than a header, impossible nlmsg_len and
# attribute lengths, an RTM_NEWADDR cut inside its ifaddrmsg, sendmsg with
# a NULL msghdr and odd iovecs, an RTM_NEWADDR split across iovecs, several
# messages in one send, bad descriptors, non-sockets, MSG_DONTWAIT on an
# empty socket, receive buffers too small, sends of datagrams the shim
# changes or holds that fail in the kernel, a netlink number reused behind
# the shim's back) runs without and with the shim, under strace.  Each group
# of cases runs in a namespace of its own, so no case depends on what an
# earlier one left behind (an address on lo, its DAD).  For every case the
# result line
# (return value, errno, what a receive reported) and the bytes the kernel
# received (strace's hex dumps) must be identical, except for IFA_F_NODAD
# exactly where dadshim documents it; where it must appear, it must.  The
# kernel's own view confirms the split RTM_NEWADDR got NODAD.  A third run
# with the shim's defaults (waiting enabled), untraced, must print the same.
#
# Run as root: sh tests/badinput/run.sh (make check-badinput builds it first)
set -eu
cd "$(dirname "$0")/../.."
# shellcheck source=tests/lib/netns.sh
. tests/lib/netns.sh

require_root badinput
BIN=$(pwd)/build/tests/badinput/badinput
require_file badinput "$SHIM" "$BIN"
command -v perl >/dev/null 2>&1 || { fail badinput "perl missing"; exit 1; }

# The malformed datagrams must reach the kernel exactly as sent, and these
# must carry NODAD with the shim.
UNCHANGED="shorter-than-header nlmsg_len-below-header nlmsg_len-beyond-buffer
	newaddr-cut-in-ifaddrmsg trailing-garbage"
NODAD="sendmsg-split-newaddr several-messages addr-on-lo"
# Pointers the kernel would refuse with EFAULT, on a NETLINK_ROUTE socket:
# the shim reads the caller's memory directly (README, Limits), so these
# fault in the shim (SIGSEGV) where the kernel says EFAULT.  Asserted as
# such: EFAULT (or the count so far) without the shim, signal 11 with it.
FAULTS="bad-ptr-send-buf bad-ptr-sendto-buf bad-ptr-write-buf bad-ptr-sendmsg-msghdr
	bad-ptr-sendmsg-msg_iov bad-ptr-sendmsg-iov_base bad-ptr-sendmsg-second-iov_base
	bad-ptr-sendmsg-second-iovec-unmapped bad-ptr-sendmsg-msghdr-unmapped-end
	bad-ptr-sendmmsg-vec bad-ptr-sendmmsg-msg_iov bad-ptr-sendmmsg-newaddr-then-bad
	bad-ptr-sendmmsg-second-mmsghdr-unmapped bad-ptr-sendmmsg-readonly-vec
	bad-ptr-send-buf-unmapped-end"
FAULTS=$(echo "$FAULTS" | tr -s ' \t\n' '   ')
# Each group runs alone in a fresh namespace (tests/badinput/badinput.c, main()).
BGROUPS="malformed attrs sendmsg several descriptors receives lo-pair absent-src
	eintr failing-sends reused-number bad-pointers"

K=0
# fresh_ns: a namespace of its own for one run (sets NS), lo up
fresh_ns() {
	K=$((K + 1))
	NS="dadshim-bad-$$-$K"
	ip netns add "$NS" || return 1
	T_NS="$T_NS $NS"
	ip -n "$NS" link set lo up
}

# run NAME GROUP [strace|plain] [VAR=VAL]...: badinput GROUP in a fresh
# namespace; NAME.out (its lines), NAME.err, NAME.tr (the trace), NAME.addr
# (ip addr). Returns badinput's exit status (strace passes it on), or 125
# if the namespace or `ip addr show` failed.
run() {
	_n=$1
	_g=$2
	_how=$3
	shift 3
	fresh_ns || return 125
	_st=0
	if [ "$_how" = strace ]; then
		_e=""
		for _v in "$@"; do
			_e="$_e -E $_v"
		done
		# shellcheck disable=SC2086 # one word per setting
		timeout "$GUARD" ip netns exec "$NS" strace -qq -s 0 \
			-e trace=socket,close,dup2,dup3,sendto,sendmsg,sendmmsg,write,recvfrom -e write=all \
			-o "$T_TMP/$_n.tr" $_e "$BIN" "$_g" >"$T_TMP/$_n.out" 2>"$T_TMP/$_n.err" || _st=$?
	else
		timeout "$GUARD" ip netns exec "$NS" env "$@" "$BIN" "$_g" \
			>"$T_TMP/$_n.out" 2>"$T_TMP/$_n.err" || _st=$?
	fi
	ip -n "$NS" -6 addr show dev lo >"$T_TMP/$_n.addr" || return 125
	return "$_st"
}

case_begin "badinput: every group runs to the end without and with the shim, each in a fresh namespace"
: >"$T_TMP/verdicts"
for g in $BGROUPS; do
	run "plain.$g" "$g" strace || err "$g without the shim: exit status $?"
	run "shim.$g" "$g" strace LD_PRELOAD="$SHIM" DADSHIM_LOG_TARGET=stderr DADSHIM_WAIT_MS=0 ||
		err "$g with the shim: exit status $?"
	run "defaults.$g" "$g" plain LD_PRELOAD="$SHIM" DADSHIM_LOG_TARGET=stderr ||
		err "$g with the shim's defaults: exit status $?"
	[ -s "$T_TMP/plain.$g.out" ] || err "group $g printed nothing"
	for k in plain shim defaults; do
		cat "$T_TMP/$k.$g.out" >>"$T_TMP/$k.out"
		cat "$T_TMP/$k.$g.err" >>"$T_TMP/$k.err"
	done
	perl tests/badinput/badinput.pl "$T_TMP/plain.$g.tr" "$T_TMP/shim.$g.tr" >>"$T_TMP/verdicts"
done
[ "$(grep -c '^case ' "$T_TMP/plain.out")" -gt 70 ] || err "too few cases ran"
case_end "$T_TMP/plain.out" "$T_TMP/shim.err" "$T_TMP/defaults.err" || exit 1

# One check (ok/not ok) per case: the line and the bytes, traced and compared.
while IFS= read -r line; do
	verdict=${line%% *}
	rest=${line#* }
	name=${rest%%:*}
	case " $FAULTS " in
	*" $name "*)
		case_begin "badinput $name: EFAULT without the shim, a fault (SIGSEGV) in the shim with it, as README Limits says"
		grep -Eq "^case $name: (ret=-1 errno=14 |ret=1 )" "$T_TMP/plain.out" ||
			err "without the shim: $(grep "^case $name: " "$T_TMP/plain.out" || echo no result)"
		for k in shim defaults; do
			grep -qx "case $name: killed by signal 11" "$T_TMP/$k.out" ||
				err "$k: $(grep "^case $name: " "$T_TMP/$k.out" || echo no result)"
		done
		case_end || :
		continue
		;;
	esac
	case_begin "badinput $name: same result and bytes with the shim"
	case $verdict in
	same | nodad) ;;
	undumped) [ "$name" = sendmsg-split-zero-first ] || err "strace showed no bytes" ;;
	*) err "${rest#*: }" ;;
	esac
	case " $(echo "$UNCHANGED" | tr -s ' \t\n' '   ') " in
	*" $name "*) [ "$verdict" = same ] || err "a malformed datagram was changed" ;;
	esac
	case " $NODAD " in
	*" $name "*) [ "$verdict" = nodad ] || err "no IFA_F_NODAD where it belongs ($verdict)" ;;
	esac
	plain_line=$(grep "^case $name: " "$T_TMP/plain.out" || :)
	note "${plain_line:-no result line}${verdict:+ [$verdict]}"
	case_end || :
done <"$T_TMP/verdicts"
for name in $UNCHANGED $NODAD; do
	grep -q " $name\$\| $name:" "$T_TMP/verdicts" || fail "badinput $name" "case missing from the trace"
done

case_begin "badinput: the shim's defaults (waiting on) give the same results, untraced (but for the faults above)"
# without_faults FILE: its result lines but those of the cases in FAULTS
without_faults() {
	awk -v f=" $FAULTS " '{ n = $2; sub(/:$/, "", n) } !index(f, " " n " ")' "$1"
}
without_faults "$T_TMP/plain.out" >"$T_TMP/plain.nf"
without_faults "$T_TMP/defaults.out" >"$T_TMP/defaults.nf"
diff "$T_TMP/plain.nf" "$T_TMP/defaults.nf" >"$T_TMP/defaults.diff" ||
	err "result lines differ"
case_end "$T_TMP/defaults.diff" || :

# The failing sends must really fail, in the kernel, with its errno (not
# the stale one the program set before each call).
case_begin "badinput: the failing sends of changed or held datagrams fail with the kernel's errno in both runs"
nf=0
for k in plain shim defaults; do
	bad=$(grep -E '^case (send|sendto|sendmsg|sendmmsg|write)-[a-z-]+-(addr|route): ' "$T_TMP/$k.out" |
		grep -Ev 'ret=-1 errno=(22|90|95) ' || :)
	[ -z "$bad" ] || err "$k: $(printf '%s\n' "$bad" | head -n 1)"
	n=$(grep -cE '^case (send|sendto|sendmsg|sendmmsg|write)-[a-z-]+-(addr|route): ' "$T_TMP/$k.out") || :
	[ "$k" != plain ] || nf=$n
done
[ "$nf" -eq 22 ] || err "$nf failing-send cases, expected 22"
case_end "$T_TMP/plain.out" || :

# EINTR on a receive after a refused source route: the same result in
# every run (the shim never touches the receive side).
case_begin "badinput: a signal during a blocking read() on an empty netlink socket gives EINTR with and without the shim"
for k in plain shim defaults; do
	grep -q '^case eintr-read-held-empty: ret=-1 errno=4 (Interrupted system call) signals=1$' "$T_TMP/$k.out" ||
		err "$k: $(grep '^case eintr-read-held-empty' "$T_TMP/$k.out" || echo no result)"
done
case_end "$T_TMP/shim.eintr.tr" || :

for a in 3 4; do
	case_begin "badinput: the kernel holds the split RTM_NEWADDR (::$a) as nodad only with the shim"
	grep 'inet6 2001:db8:d800:52::'$a'/128' "$T_TMP/shim.sendmsg.addr" | grep -q nodad ||
		err "with the shim the address is not nodad"
	grep 'inet6 2001:db8:d800:52::'$a'/128' "$T_TMP/plain.sendmsg.addr" | grep -q nodad &&
		err "without the shim the address is nodad"
	grep -q 'inet6 2001:db8:d800:52::'$a'/128' "$T_TMP/plain.sendmsg.addr" ||
		err "without the shim the address is missing"
	case_end "$T_TMP/shim.sendmsg.addr" "$T_TMP/plain.sendmsg.addr" || :
done

finish
