#!/bin/sh
# Bad input through the real wrappers: tests/badinput (NULL and 0-byte
# sends, datagrams shorter than a header, impossible nlmsg_len and
# attribute lengths, an RTM_NEWADDR cut inside its ifaddrmsg, sendmsg with
# a NULL msghdr and odd iovecs, an RTM_NEWADDR split across iovecs, several
# messages in one send, bad descriptors, non-sockets, MSG_DONTWAIT on an
# empty socket, receive buffers too small) runs without and with the shim,
# each in a fresh namespace, under strace.  For every case the result line
# (return value, errno, what a receive reported) and the bytes the kernel
# received (strace's hex dumps) must be identical, except for IFA_F_NODAD
# exactly where dadshim documents it; where it must appear, it must.  The
# kernel's own view confirms the split RTM_NEWADDR got NODAD.  A third run
# with the shim's defaults (waiting enabled), untraced, must print the same.
#
# Run from the repository root as root: sh tests/badinput.sh
set -eu
# shellcheck source=tests/netns/lib.sh
. tests/netns/lib.sh

CC=${CC:-cc}
require_root badinput
require_file badinput "$SHIM"
command -v perl >/dev/null 2>&1 || { fail badinput "perl missing"; exit 1; }
BIN=$T_TMP/badinput
if ! $CC -std=gnu99 -Wall -Wextra -Werror -D_GNU_SOURCE -O2 -o "$BIN" tests/badinput.c \
	2>"$T_TMP/build.log"; then
	fail "badinput builds" "$(head -n 3 "$T_TMP/build.log" | tr '\n' ' ')"
	exit 1
fi

# The malformed datagrams must reach the kernel exactly as sent, and these
# must carry NODAD with the shim.
UNCHANGED="shorter-than-header nlmsg_len-below-header nlmsg_len-beyond-buffer
	newaddr-cut-in-ifaddrmsg trailing-garbage"
NODAD="sendmsg-split-newaddr several-messages addr-on-lo"

K=0
# fresh_ns: a namespace of its own for one run (sets NS), lo up
fresh_ns() {
	K=$((K + 1))
	NS="dadshim-bad-$$-$K"
	ip netns add "$NS" || return 1
	T_NS="$T_NS $NS"
	ip -n "$NS" link set lo up
}

# run NAME [strace|plain] [VAR=VAL]...: badinput in a fresh namespace;
# NAME.out (its lines), NAME.err, NAME.tr (the trace), NAME.addr (ip addr)
run() {
	_n=$1
	_how=$2
	shift 2
	fresh_ns || return 1
	if [ "$_how" = strace ]; then
		_e=""
		for _v in "$@"; do
			_e="$_e -E $_v"
		done
		# shellcheck disable=SC2086 # one word per setting
		timeout "$GUARD" ip netns exec "$NS" strace -qq -s 0 \
			-e trace=socket,close,sendto,sendmsg,sendmmsg,write -e write=all \
			-o "$T_TMP/$_n.tr" $_e "$BIN" >"$T_TMP/$_n.out" 2>"$T_TMP/$_n.err"
	else
		timeout "$GUARD" ip netns exec "$NS" env "$@" "$BIN" \
			>"$T_TMP/$_n.out" 2>"$T_TMP/$_n.err"
	fi
	ip -n "$NS" -6 addr show dev lo >"$T_TMP/$_n.addr"
}

case_begin "badinput: the program runs to the end without and with the shim"
run plain strace || err "without the shim: exit status $?"
run shim strace LD_PRELOAD="$SHIM" DADSHIM_LOG_TARGET=stderr DADSHIM_WAIT_MS=0 ||
	err "with the shim: exit status $?"
run defaults plain LD_PRELOAD="$SHIM" DADSHIM_LOG_TARGET=stderr ||
	err "with the shim's defaults: exit status $?"
[ "$(grep -c '^case ' "$T_TMP/plain.out")" -gt 40 ] || err "too few cases ran"
case_end "$T_TMP/plain.out" "$T_TMP/shim.err" "$T_TMP/defaults.err" || exit 1

perl tests/badinput.pl "$T_TMP/plain.tr" "$T_TMP/shim.tr" >"$T_TMP/verdicts"
# One PASS/FAIL per case: the line and the bytes, traced and compared.
while IFS= read -r line; do
	verdict=${line%% *}
	rest=${line#* }
	name=${rest%%:*}
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

case_begin "badinput: the shim's defaults (waiting on) give the same results, untraced"
diff "$T_TMP/plain.out" "$T_TMP/defaults.out" >"$T_TMP/defaults.diff" ||
	err "result lines differ"
case_end "$T_TMP/defaults.diff" || :

for a in 3 4; do
	case_begin "badinput: the kernel holds the split RTM_NEWADDR (::$a) as nodad only with the shim"
	grep 'inet6 2001:db8:d800:52::'$a'/128' "$T_TMP/shim.addr" | grep -q nodad ||
		err "with the shim the address is not nodad"
	grep 'inet6 2001:db8:d800:52::'$a'/128' "$T_TMP/plain.addr" | grep -q nodad &&
		err "without the shim the address is nodad"
	grep -q 'inet6 2001:db8:d800:52::'$a'/128' "$T_TMP/plain.addr" ||
		err "without the shim the address is missing"
	case_end "$T_TMP/shim.addr" "$T_TMP/plain.addr" || :
done

finish
