#!/bin/sh
# Scenario b: IFA_F_NODAD on IPv6 RTM_NEWADDR (and IFA_F_OPTIMISTIC
# cleared). `ip -6 addr add` under the shim, with flags in ifa_flags (plain) and in IFA_FLAGS (noprefixroute):
# strace shows NODAD in the message the kernel received (with IFA_FLAGS: in
# the attribute and in ifa_flags), and the kernel's
# own notifications never report the address tentative. Then the reference's
# RTM_NEWADDR vector (built by build/tests/clients/charon551) crosses unchanged without the
# shim and with exactly byte 18 (ifa_flags) set to 0x02 with it.
set -eu
# shellcheck source=tests/lib/netns.sh
. tests/lib/netns.sh

require_root b-nodad
require_file b-nodad "$SHIM" build/tests/clients/charon551

setup_pair || { fail b-nodad "namespace setup failed"; exit 1; }

# start_monitor FILE: `ip monitor address` in NS1 into FILE, returned once
# it is known to be subscribed (a marker address on lo shows up in FILE)
start_monitor() {
	ip netns exec "$NS1" ip -6 monitor address >"$1" 2>&1 &
	T_PIDS="$T_PIDS $!"
	MON=$!
	_k=0
	while [ $_k -lt 100 ]; do
		ip -n "$NS1" -6 addr add fd00:ffff::1/128 dev lo 2>/dev/null || :
		ip -n "$NS1" -6 addr del fd00:ffff::1/128 dev lo 2>/dev/null || :
		grep -q 'fd00:ffff::1' "$1" && return 0
		sleep 0.05
		_k=$((_k + 1))
	done
	return 1
}

stop_monitor() {
	kill "$MON" 2>/dev/null || :
	wait "$MON" 2>/dev/null || :
}

# seen_tentative FILE ADDR: a notification reported ADDR tentative
seen_tentative() {
	grep "inet6 $2/" "$1" | grep -q tentative
}

# 0. the notification check can see a tentative address (no shim)
B0=2001:db8:b::10
case_begin "b0: control: without the shim the kernel notifies the new address as tentative"
mon="$T_TMP/b0.mon"
start_monitor "$mon" || err "ip monitor did not start"
in_ns ip -6 addr add "$B0/128" dev "$IF1" || err "ip addr add failed"
wait_not_tentative "$NS1" "$IF1" "$B0" || err "DAD did not end"
stop_monitor
seen_tentative "$mon" "$B0" || err "no tentative notification for $B0"
control=0
case_end "$mon" || control=1

# b_case NAME ADDR [IP-FLAGS...]: ip -6 addr add under the shim
b_case() {
	bname=$1
	baddr=$2
	shift 2
	case_begin "$bname: with the shim, ip -6 addr add $baddr/128${*:+ $*} reaches the kernel with IFA_F_NODAD"
	mon="$T_TMP/$bname.mon"
	out="$T_TMP/$bname.out"
	tr="$T_TMP/$bname.tr"
	[ "$control" -eq 0 ] || err "control b0 failed: cannot judge"
	start_monitor "$mon" || err "ip monitor did not start"
	rc=0
	shim_trace "$tr" -- ip -6 addr add "$baddr/128" dev "$IF1" "$@" \
		>"$out" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || err "ip exited $rc"
	msg=$(sends_of "$tr" RTM_NEWADDR) || :
	[ "$(printf '%s\n' "$msg" | grep -c .)" -eq 1 ] ||
		err "not exactly one RTM_NEWADDR crossed"
	if [ $# -eq 0 ]; then
		printf '%s\n' "$msg" | grep -q 'ifa_flags=IFA_F_NODAD,' ||
			err "ifa_flags without IFA_F_NODAD"
	else
		# IFA_FLAGS replaces ifa_flags in the kernel: NODAD must be there
		printf '%s\n' "$msg" | grep -Eq 'nla_type=IFA_FLAGS\}, (IFA_F_[A-Z]+\|)*IFA_F_NODAD(\|IFA_F_[A-Z]+)*\]' ||
			err "IFA_FLAGS attribute without IFA_F_NODAD"
		printf '%s\n' "$msg" | grep -q 'IFA_F_NOPREFIXROUTE' ||
			err "IFA_F_NOPREFIXROUTE lost"
		# and ifa_flags too, for a kernel that reads only the header
		printf '%s\n' "$msg" | grep -Eq 'ifa_flags=(IFA_F_[A-Z]+\|)*IFA_F_NODAD[,|]' ||
			err "ifa_flags without IFA_F_NODAD (IFA_FLAGS present)"
	fi
	ip -n "$NS1" -6 addr show dev "$IF1" | grep "inet6 $baddr/128" |
		grep -q nodad || err "the kernel does not list the address as nodad"
	for f in "$@"; do
		ip -n "$NS1" -6 addr show dev "$IF1" | grep "inet6 $baddr/128" |
			grep -q "$f" || err "the kernel lost the flag $f"
	done
	! is_tentative "$NS1" "$IF1" "$baddr" || err "address tentative"
	# the monitor must have seen the address (or the check says nothing)
	_k=0
	while ! grep -q "inet6 $baddr/" "$mon" && [ $_k -lt 100 ]; do
		sleep 0.05
		_k=$((_k + 1))
	done
	stop_monitor
	grep -q "inet6 $baddr/" "$mon" || err "no notification for the address"
	! seen_tentative "$mon" "$baddr" ||
		err "the kernel notified the address as tentative"
	case_end "$out" "$mon"
}

b_case b1 2001:db8:b::1 || :
b_case b2 2001:db8:b::2 noprefixroute || :

# 3. the reference's RTM_NEWADDR vector, byte for byte
VECTOR="4000000014000506cf000000410c00000a800000030000001400020020010db8
d800005200000000000000011400060000000000ffffffff0000000000000000"
VIP=2001:db8:d800:52::1

# bytes_le32 N: N as 4 little-endian hex bytes, one per line
bytes_le32() {
	printf '%08x\n' "$1" | sed 's/\(..\)\(..\)\(..\)\(..\)/\4\n\3\n\2\n\1/'
}

# expected_bytes SEQ PID IFINDEX: the vector (one byte a line) with the
# fields that legitimately differ per run (seq, pid, ifindex) set
expected_bytes() {
	printf '%s' "$VECTOR" | tr -d '\n' | sed 's/../&\n/g' >"$T_TMP/vec"
	{
		sed -n '1,8p' "$T_TMP/vec"
		bytes_le32 "$1"
		bytes_le32 "$2"
		sed -n '17,20p' "$T_TMP/vec"
		bytes_le32 "$3"
		sed -n '25,64p' "$T_TMP/vec"
	}
}

# vec_run NAME SHIM(0|1): charon551 adds VIP; prints the RTM_NEWADDR bytes
# that crossed into $T_TMP/NAME.got and the vector into $T_TMP/NAME.want
vec_run() {
	tr="$T_TMP/$1.tr"
	out="$T_TMP/$1.out"
	ip -n "$NS1" -6 addr del "$VIP/128" dev "$IF1" 2>/dev/null || :
	ip -n "$NS1" -6 route flush table 220 2>/dev/null || :
	set -- "$1" "$2" -e write=all
	[ "$2" -eq 1 ] && set -- "$@" -E LD_PRELOAD="$SHIM" \
		-E DADSHIM_LOG_TARGET=stderr
	_n=$1
	shift 2
	nl_trace "$tr" "$@" -- build/tests/clients/charon551 --dev "$IF1" --vip "$VIP" \
		>"$out" 2>&1 || :
	f=$(grep -l 'nlmsg_type=RTM_NEWADDR,' "$tr".* | head -n 1)
	[ -n "$f" ] || return 1
	line=$(grep -E '^(send|sendto)\(.*nlmsg_type=RTM_NEWADDR,' "$f" | head -n 1)
	seq=$(printf '%s\n' "$line" | seqs_of)
	pid=$(printf '%s\n' "$line" | sed -n 's/.*nlmsg_pid=\([0-9]*\)}.*/\1/p')
	ifx=$(ip -n "$NS1" -o link show dev "$IF1" | cut -d: -f1)
	send_bytes "$f" RTM_NEWADDR >"$T_TMP/$_n.got"
	expected_bytes "$seq" "$pid" "$ifx" >"$T_TMP/$_n.want"
}

case_begin "b3: without the shim the reference's RTM_NEWADDR crosses byte for byte"
plain=1
if vec_run b3 0; then
	[ "$(grep -c . "$T_TMP/b3.got")" -eq 64 ] || err "not 64 bytes"
	d=$(paste -d ' ' "$T_TMP/b3.want" "$T_TMP/b3.got" |
		awk '$1 != $2 { printf "%d: %s->%s;", NR - 1, $1, $2 }')
	if [ -z "$d" ]; then
		plain=0
	else
		err "differences from the vector: $d"
	fi
else
	err "no RTM_NEWADDR in the trace"
fi
case_end "$T_TMP/b3.out" || :

case_begin "b4: with the shim only byte 18 (ifa_flags) changes, to 0x02 (IFA_F_NODAD)"
if [ "$plain" -ne 0 ]; then
	err "b3 failed: cannot judge"
elif vec_run b4 1; then
	[ "$(grep -c . "$T_TMP/b4.got")" -eq 64 ] || err "not 64 bytes"
	# every differing byte as "OFFSET: VECTOR->CROSSED" (0-based)
	d=$(paste -d ' ' "$T_TMP/b4.want" "$T_TMP/b4.got" |
		awk '$1 != $2 { printf "%d: %s->%s;", NR - 1, $1, $2 }')
	[ "$d" = "18: 00->02;" ] ||
		err "differences from the vector: ${d:-none}"
	grep -q "^installed source route for $VIP\$" "$T_TMP/b4.out" ||
		err "charon551 did not install the route"
else
	err "no RTM_NEWADDR in the trace"
fi
case_end "$T_TMP/b4.out" || :
# 5. IFA_F_OPTIMISTIC asked for, with optimistic DAD enabled in the
# namespace: the kernel keeps it without the shim (so the flag is really
# honoured here); with the shim the request reaches the kernel with NODAD
# and without OPTIMISTIC (the kernel refuses the two together), and the
# kernel lists the address nodad, neither optimistic nor tentative.
OPT1=2001:db8:b::21
OPT2=2001:db8:b::22
ip netns exec "$NS1" sh -c "echo 1 > /proc/sys/net/ipv6/conf/all/optimistic_dad &&
	echo 1 > /proc/sys/net/ipv6/conf/$IF1/optimistic_dad" ||
	fail "b5/b6" "cannot enable optimistic_dad"
case_begin "b5: control: without the shim, ip -6 addr add $OPT1/128 optimistic (optimistic_dad=1) is optimistic in the kernel"
rc=0
in_ns ip -6 addr add "$OPT1/128" dev "$IF1" optimistic >"$T_TMP/b5.out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || err "ip exited $rc"
ip -n "$NS1" -6 addr show dev "$IF1" >"$T_TMP/b5.addr"
grep "inet6 $OPT1/128" "$T_TMP/b5.addr" | grep -q optimistic ||
	err "the kernel does not list the address as optimistic"
grep "inet6 $OPT1/128" "$T_TMP/b5.addr" | grep -q nodad &&
	err "the kernel lists the address as nodad"
optcontrol=$C_ERR
case_end "$T_TMP/b5.out" "$T_TMP/b5.addr" || :

case_begin "b6: with the shim, ip -6 addr add $OPT2/128 optimistic reaches the kernel with NODAD, without OPTIMISTIC"
[ -z "$optcontrol" ] || err "control b5 failed: cannot judge"
tr="$T_TMP/b6.tr"
rc=0
shim_trace "$tr" -- ip -6 addr add "$OPT2/128" dev "$IF1" optimistic >"$T_TMP/b6.out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || err "ip exited $rc"
msg=$(sends_of "$tr" RTM_NEWADDR) || :
[ "$(printf '%s\n' "$msg" | grep -c .)" -eq 1 ] || err "not exactly one RTM_NEWADDR crossed"
printf '%s\n' "$msg" | grep -q 'ifa_flags=IFA_F_NODAD,' ||
	err "ifa_flags is not exactly IFA_F_NODAD"
! printf '%s\n' "$msg" | grep -q 'IFA_F_OPTIMISTIC' || err "IFA_F_OPTIMISTIC reached the kernel"
ip -n "$NS1" -6 addr show dev "$IF1" >"$T_TMP/b6.addr"
grep "inet6 $OPT2/128" "$T_TMP/b6.addr" | grep -q nodad ||
	err "the kernel does not list the address as nodad"
grep "inet6 $OPT2/128" "$T_TMP/b6.addr" | grep -Eq 'optimistic|tentative' &&
	err "the kernel lists the address as optimistic or tentative"
case_end "$T_TMP/b6.out" "$T_TMP/b6.addr" || :

finish
