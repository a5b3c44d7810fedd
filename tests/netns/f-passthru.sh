#!/bin/sh
# Scenario f: nothing else changes. build/tests/clients/passthru (UDP on loopback, a pipe,
# NETLINK_XFRM and NETLINK_GENERIC requests, fixed ports, port ids and
# seqs) runs in a fresh namespace without and with the shim; the strace
# dumps of every byte that crossed must be identical (f1), and every system
# call the process makes must be the same but for the one the shim may add
# on a descriptor it never saw made (f2). Two runs without the shim are
# compared first: they show the traffic is deterministic, so a difference
# means the shim changed something.
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
# preloaded library comes before) into $T_TMP/NAME.cut. The calls traced are
# $F_TRACE (default: the data-carrying ones above, with every byte dumped).
F_TRACE="-e trace=$CALLS -e read=all -e write=all"
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
	# shellcheck disable=SC2086 # F_TRACE: one word per option
	timeout "$GUARD" ip netns exec "$fns" strace -qq -s 65535 $F_TRACE \
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

# f_norm FILE: every system call of a cut trace, with what differs between
# any two runs masked (pointers, brk and mmap addresses, getrandom's bytes, the size
# of the output file, which holds the shim's start-up line too: st_size of
# fstat/newfstatat, stx_size of statx, which 32-bit ABIs use), and strace's
# padding before " = ", whose width follows the length of a masked address
f_norm() {
	perl -pe 's/\b0x[0-9a-f]+\b/ADDR/g; s/\bst(x?)_size=\d+/st$1_size=N/g; s/^getrandom\("[^"]*"/getrandom("R"/;
		s/\) +=( -?\d| ADDR| \?)/) =$1/' "$1"
}

case_begin "f2: with the shim no system call is added on UDP, XFRM or generic netlink sockets: every call is the same, but one SO_DOMAIN probe of a pipe it never saw made"
F_TRACE="-e trace=all"
if [ "$control" -ne 0 ]; then
	err "control f0 failed: cannot judge"
else
	f_run all1 || err "passthru failed without the shim"
	f_run all2 || err "passthru failed without the shim"
	f_run allshim -E LD_PRELOAD="$SHIM" -E DADSHIM_LOG_TARGET=stderr \
		-E DADSHIM_LOG=3 || err "passthru failed with the shim"
	for k in all1 all2 allshim; do
		f_norm "$T_TMP/$k.cut" >"$T_TMP/$k.n"
	done
	# the control: all calls of two runs without the shim are the same
	n=$(grep -c . "$T_TMP/all1.n") || :
	[ "$n" -gt 20 ] || err "only $n calls traced without the shim"
	grep -q '^socket(AF_NETLINK, SOCK_RAW, NETLINK_XFRM)' "$T_TMP/all1.n" ||
		err "no NETLINK_XFRM socket traced"
	cmp -s "$T_TMP/all1.n" "$T_TMP/all2.n" ||
		err "two runs without the shim differ: $(diff "$T_TMP/all1.n" "$T_TMP/all2.n" | head -n 4 | tr '\n' ' ')"
	# The one call the shim may add: on a descriptor it did not see made
	# (pipe2 is not wrapped, as an inherited one), getsockopt(SO_DOMAIN) on
	# first use, which the kernel refuses (ENOTSOCK); counted, then dropped.
	perl -ne '
		if (/^pipe2?\(\[(\d+), (\d+)\]/) { $pipe{$1} = $pipe{$2} = 1; }
		if (/^getsockopt\((\d+), SOL_SOCKET, SO_DOMAIN, .* = -1 ENOTSOCK / && $pipe{$1}) {
			print STDERR $_; next;
		}
		print;' "$T_TMP/allshim.n" >"$T_TMP/allshim.kept" 2>"$T_TMP/allshim.probes"
	n=$(grep -c . "$T_TMP/allshim.probes") || :
	[ "$n" -le 1 ] || err "$n SO_DOMAIN probes of the pipe, not at most 1"
	if ! diff "$T_TMP/all1.n" "$T_TMP/allshim.kept" >"$T_TMP/all.diff"; then
		added=$(sed -n 's/^> \([a-z_0-9]*\)(.*/\1/p' "$T_TMP/all.diff" | sort | uniq -c | tr -s ' \n' '  ')
		removed=$(sed -n 's/^< \([a-z_0-9]*\)(.*/\1/p' "$T_TMP/all.diff" | sort | uniq -c | tr -s ' \n' '  ')
		err "the shim changed the system calls: added:${added:- none}; removed:${removed:- none}"
	fi
	note "$(grep -c . "$T_TMP/all1.n") system calls compared, $n pipe probe(s) allowed"
fi
case_end "$T_TMP/all.diff" "$T_TMP/allshim.out" || :
finish
