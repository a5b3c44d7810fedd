#!/bin/sh
# Scenario f: nothing else changes. build/tests/clients/passthru (UDP on loopback, a pipe,
# NETLINK_XFRM and NETLINK_GENERIC requests, fixed ports, port ids and
# seqs) runs in a fresh namespace without and with the shim; the strace
# dumps of every byte that crossed must be identical. Two runs without the
# shim are compared first: they show the traffic is deterministic, so a
# difference means the shim changed something.
set -eu
# shellcheck source=tests/lib/netns.sh
. tests/lib/netns.sh

require_root f-passthru
require_file f-passthru "$SHIM" build/tests/clients/passthru

# The data-carrying calls and the ones that name peers; not the shim's own
# bookkeeping (getsockopt, fstat...) which carries no traffic.
CALLS=socket,bind,connect,sendto,sendmsg,recvfrom,recvmsg,read,write,pipe,pipe2,sendmmsg,recvmmsg

# f_run NAME [strace -E options...]: passthru in a fresh namespace; the
# trace from its "passthru: begin" marker on (the loader's reading of the
# preloaded library comes before) into $T_TMP/NAME.cut
f_run() {
	_fn=$1
	shift
	T_SEQ=$((T_SEQ + 1))
	fns="dadshim-$$-f$T_SEQ"
	ip netns add "$fns" || return 1
	T_NS="$T_NS $fns"
	ip -n "$fns" link set lo up || return 1
	_rc=0
	# single-threaded program: no -f, so no pids in the lines
	timeout "$GUARD" ip netns exec "$fns" strace -qq -s 65535 \
		-e trace="$CALLS" -e read=all -e write=all \
		-o "$T_TMP/$_fn.tr" "$@" build/tests/clients/passthru \
		>"$T_TMP/$_fn.out" 2>&1 || _rc=$?
	ip netns del "$fns"
	sed -n '/^write(1, "passthru: begin\\n"/,$p' "$T_TMP/$_fn.tr" >"$T_TMP/$_fn.cut"
	[ "$_rc" -eq 0 ]
}

case_begin "f0: control: two runs without the shim cross the same bytes"
f_run plain1 || err "passthru failed without the shim"
f_run plain2 || err "passthru failed without the shim"
[ -s "$T_TMP/plain1.cut" ] || err "no marker in the trace"
for what in NETLINK_XFRM NETLINK_GENERIC 'sin_port=htons(47002)' 'dadshim passthru pipe'; do
	grep -q "$what" "$T_TMP/plain1.cut" || err "trace lacks $what"
done
cmp -s "$T_TMP/plain1.cut" "$T_TMP/plain2.cut" ||
	err "runs differ: $(diff "$T_TMP/plain1.cut" "$T_TMP/plain2.cut" | head -n 4 | tr '\n' ' ')"
control=0
case_end "$T_TMP/plain1.out" || control=1

case_begin "f1: with the shim (DADSHIM_LOG=3) UDP, pipe, NETLINK_XFRM and NETLINK_GENERIC bytes are identical"
if [ "$control" -ne 0 ]; then
	err "control f0 failed: cannot judge"
else
	f_run shim -E LD_PRELOAD="$SHIM" -E DADSHIM_LOG_TARGET=stderr \
		-E DADSHIM_LOG=3 || err "passthru failed with the shim"
	grep -q '^passthru: done$' "$T_TMP/shim.out" || err "passthru did not finish"
	cmp -s "$T_TMP/plain1.cut" "$T_TMP/shim.cut" ||
		err "the shim changed what crossed: $(diff "$T_TMP/plain1.cut" "$T_TMP/shim.cut" | head -n 6 | tr '\n' ' ')"
	note "$(grep -c . "$T_TMP/shim.cut") trace lines compared"
fi
case_end "$T_TMP/shim.out" "$T_TMP/shim.cut" || :
finish
