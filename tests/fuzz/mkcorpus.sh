#!/bin/sh
# Regenerates the seed corpus in tests/fuzz/corpus/ from real traffic:
# iproute2 and build/tests/clients/charon551 run in a throwaway pair of namespaces under
# strace, and the bytes that crossed the kernel boundary (strace's hex
# dumps) become seeds: requests (with and without IFA_FLAGS, IPv4 and
# IPv6, routes with RTA_PREFSRC, dumps), replies (acks, the EINVAL of the
# race, dump parts, NLMSG_DONE) and notifications (tentative, DAD over,
# dadfailed, deleted).  Plus the reference's two vectors.  Needs root; run
# from the repository root after `make build/tests/clients/charon551`.  Not part of the
# tests: the seeds it wrote are committed.
set -eu
# shellcheck source=tests/lib/netns.sh
. tests/lib/netns.sh
require_root mkcorpus
require_file mkcorpus build/tests/clients/charon551

C=tests/fuzz/corpus
TR=$T_TMP/tr
mkdir -p "$TR"
for t in rewrite route addr settings; do
	rm -rf "${C:?}/$t"
	mkdir -p "$C/$t"
done

# trace NAME CMD...: CMD in NS1 under strace, its netlink data dumped
trace() {
	_n=$1
	shift
	timeout "$GUARD" ip netns exec "$NS1" strace -ff -qq -s 0 \
		-e trace=sendmsg,recvmsg,sendto,recvfrom \
		-e write=all -e read=all -o "$TR/$_n" "$@" >/dev/null 2>&1 || :
}

# bins DIR PREFIX tx|rx TRACE: every thread's datagrams as seed files
bins() {
	for _t in "$TR/$4".*; do
		[ -f "$_t" ] || continue
		perl tests/fuzz/strace2bin.pl "$1" "$2" "$3" <"$_t" >/dev/null
	done
}

# split NAME: the trace's sends -> rewrite + route
split() {
	bins "$C/rewrite" "$1" tx "$1"
	bins "$C/route" "$1" tx "$1"
}

# addr_seeds TRACE TAG ADDR: the trace's receives, each prefixed with the
# wanted address (the input format of fuzz_addr)
addr_seeds() {
	_d=$T_TMP/rx-$2
	mkdir -p "$_d"
	bins "$_d" "$2" rx "$1"
	for _f in "$_d"/*; do
		[ -f "$_f" ] || continue
		{ perl -MSocket=inet_pton,AF_INET6 -e \
			'print inet_pton(AF_INET6, $ARGV[0])' "$3"; cat "$_f"; } \
			>"$C/addr/$(basename "$_f")"
	done
}

setup_pair
V=2001:db8:ffff::1

# Notifications first: a monitor runs while addresses come and go.
timeout "$GUARD" ip netns exec "$NS1" strace -ff -qq -s 0 \
	-e trace=recvmsg,recvfrom -e read=all -o "$TR/monitor" \
	timeout 8 ip -6 monitor address >/dev/null 2>&1 &
T_PIDS="$T_PIDS $!"
sleep 1
ip -n "$NS1" -6 addr add "$V/128" dev "$IF1"
wait_not_tentative "$NS1" "$IF1" "$V" || :
ip -n "$NS1" -6 addr del "$V/128" dev "$IF1"
# DAD fails: the peer has the address already.
ip -n "$NS2" -6 addr add 2001:db8:ffff::99/128 dev "$IF2" nodad
ip -n "$NS1" -6 addr add 2001:db8:ffff::99/128 dev "$IF1"
sleep 3
ip -n "$NS1" -6 addr add "$V/128" dev "$IF1" nodad noprefixroute
ip -n "$NS1" -6 addr del "$V/128" dev "$IF1"
wait
addr_seeds monitor monitor "$V"
addr_seeds monitor monitor-dadfailed 2001:db8:ffff::99

# Requests as iproute2 builds them, and the kernel's answers.
trace add-plain ip -6 addr add 2001:db8:ffff::2/128 dev "$IF1"
trace route-src ip -6 route add 2001:db8:eeee::/64 dev "$IF1" src 2001:db8:ffff::2
trace add-nodad ip -6 addr add 2001:db8:ffff::3/128 dev "$IF1" nodad
trace add-flags ip -6 addr add 2001:db8:ffff::4/64 dev "$IF1" nodad noprefixroute
trace add-flags2 ip -6 addr add 2001:db8:ffff::5/64 dev "$IF1" noprefixroute
trace add-opt ip -6 addr add 2001:db8:ffff::6/64 dev "$IF1" optimistic
trace add-v4 ip -4 addr add 192.0.2.1/24 dev "$IF1"
trace dump ip -6 addr show dev "$IF1"
trace route-dump ip -6 route show table all
trace del ip -6 addr del 2001:db8:ffff::3/128 dev "$IF1"
for n in add-plain route-src add-nodad add-flags add-flags2 add-opt add-v4 \
	dump route-dump del; do
	split "$n"
done
addr_seeds dump dump 2001:db8:ffff::2

# strongSwan 5.5.1's own messages: the race, request socket and events.
trace charon build/tests/clients/charon551 --dev "$IF1" --vip 2001:db8:ffff::7
split charon
addr_seeds charon charon 2001:db8:ffff::7

# The reference's two vectors (5.5.1, field report), and both in one.
printf '%s' 4c00000018000506d0000000410c00000a000000dc0400010000000014000100000000000000000000000000000000001400070020010db8d800005200000000000000010800040003000000 |
	xxd -r -p >"$T_TMP/route.bin"
printf '%s' 4000000014000506cf000000410c00000a800000030000001400020020010db8d800005200000000000000011400060000000000ffffffff0000000000000000 |
	xxd -r -p >"$T_TMP/addr.bin"
for t in rewrite route; do
	cp "$T_TMP/route.bin" "$C/$t/ref-route"
	cp "$T_TMP/addr.bin" "$C/$t/ref-addr"
	cat "$T_TMP/addr.bin" "$T_TMP/route.bin" "$T_TMP/addr.bin" >"$C/$t/ref-several"
done

# Regressions, found by these targets: an attribute that reaches past an
# unaligned nlmsg_len at the end of the datagram (the kernel ignores it;
# read, and written, past the buffer by libmnl's mnl_attr_for_each(),
# which runs to MNL_ALIGN(nlmsg_len)).
# bin FILE PERL-EXPR: the bytes PERL-EXPR evaluates to (x86_64 layout)
bin() {
	perl -MSocket=inet_pton,AF_INET6 -e "print $2" >"$1"
}
# nlmsghdr, ifaddrmsg, then IFA_FLAGS with nla_len 8 and only 6 bytes left
bin "$C/rewrite/regress-attr-past-unaligned-end" \
	'pack("LSSLL CCCCL SSa2", 30, 20, 5, 0, 0, 10, 128, 0, 0, 3, 8, 8, "")'
# nlmsghdr, rtmsg, then RTA_PREFSRC with nla_len 20 and only 18 bytes left
bin "$C/route/regress-attr-past-unaligned-end" \
	'pack("LSSLL C8L SSa14", 46, 24, 0x605, 0xd0, 0, 10, 0, 0, 0, 220, 4, 0, 1, 0,
	      20, 7, inet_pton(AF_INET6, "2001:db8:ffff::1"))'
# wanted address, nlmsghdr, ifaddrmsg, IFA_ADDRESS with 14 of its 16 bytes
bin "$C/addr/regress-attr-past-unaligned-end" \
	'inet_pton(AF_INET6, "2001:db8:ffff::1") .
	 pack("LSSLL CCCCL SSa14", 42, 20, 0, 0, 0, 10, 128, 0, 0, 3, 20, 1,
	      inet_pton(AF_INET6, "2001:db8:ffff::1"))'

# Settings: a byte of unset variables (bit i: variable i is NULL), then
# the values separated by NUL bytes.
seed() {
	_mask=$1
	_name=$2
	shift 2
	perl -e 'print chr(shift @ARGV), join("\0", @ARGV)' "$_mask" "$@" \
		>"$C/settings/$_name"
}
seed 31 unset
seed 0 empty '' '' '' '' ''
seed 0 defaults 1 1 5000 2 syslog
seed 0 all-set 0 0 0 3 stderr
seed 0 all-bad 2 x abc 9 file
seed 0 wait-over '' '' 600001 '' ''
seed 0 wait-zeros '' '' 000000000000000000000600000 '' ''
seed 4 wait-unset 1 1 '' 2 stderr

for t in rewrite route addr settings; do
	echo "$t: $(find "$C/$t" -type f | wc -l) seeds"
done
