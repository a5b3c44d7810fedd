#!/bin/sh
# Scenario j: two sockets, one seq, the shim on the send side only.
# build/tests/clients/portid sends, all with seq 42 and 76 bytes long: on
# socket A an IPv4 route the kernel refuses (EINVAL, nlmsg_pid 0x1111) and
# then an IPv6 route with a tentative source (nlmsg_pid 0x2222); on socket
# B an IPv6 route with an absent source (0x2222, EINVAL not due to DAD).
# Without the shim every answer is EINVAL; with it only A's IPv6 route
# waits in its send until DAD is over, and every request crosses once: each
# socket reads its own answers, the IPv4 one untouched, and the kernel has
# exactly that route.
set -eu
# shellcheck source=tests/lib/netns.sh
. tests/lib/netns.sh

require_root j-portid
require_file j-portid "$SHIM" build/tests/clients/portid
BAD=2001:db8:41::99

# j_run NAME SRC [shim]: portid in NS1 (traced) with SRC just added
# (tentative); out, tr
j_run() {
	out=$T_TMP/$1.out
	tr=$T_TMP/$1.tr
	ip -n "$NS1" -6 addr add "$2/128" dev "$IF1" || err "ip addr add failed"
	is_tentative "$NS1" "$IF1" "$2" || err "$2 not tentative when portid started"
	rc=0
	if [ "${3:-}" = shim ]; then
		shim_trace "$tr" -- build/tests/clients/portid "$IF1" "$2" "$BAD" >"$out" 2>&1 || rc=$?
	else
		nl_trace "$tr" -- build/tests/clients/portid "$IF1" "$2" "$BAD" >"$out" 2>&1 || rc=$?
	fi
	[ "$rc" -eq 0 ] || err "portid exited $rc"
}

# crossed TRACE FAMILY: RTM_NEWROUTE of FAMILY with seq 42 that crossed
crossed() {
	sends_of "$1" RTM_NEWROUTE | grep 'nlmsg_seq=42,' | grep -c "rtm_family=$2," || :
}

setup_pair || { fail j-portid "namespace setup failed"; exit 1; }
case_begin "j1: control: without the shim all three requests with seq 42 get EINVAL, each on its socket"
j_run j1 2001:db8:41::1
grep -qx 'portid: b1=-22:2222 a1=-22:1111 a2=-22:2222' "$out" || err "answers: $(cat "$out")"
[ "$(crossed "$tr" AF_INET6)" -eq 2 ] || err "not two IPv6 RTM_NEWROUTE with seq 42"
[ "$(crossed "$tr" AF_INET)" -eq 1 ] || err "not one IPv4 RTM_NEWROUTE with seq 42"
control=$C_ERR
case_end "$out" || :

setup_pair || { fail j-portid "namespace setup failed"; exit 1; }
case_begin "j2: with the shim every request crosses once; only A's IPv6 route waits for DAD and is installed; each socket reads its own answers"
[ -z "$control" ] || err "control j1 failed: cannot judge"
j_run j2 2001:db8:41::2 shim
grep -qx 'portid: b1=-22:2222 a1=-22:1111 a2=0:2222' "$out" || err "answers: $(grep '^portid:' "$out" || echo none)"
[ "$(crossed "$tr" AF_INET6)" -eq 2 ] || err "not two IPv6 RTM_NEWROUTE with seq 42"
[ "$(for f in "$tr".*; do routes_after_dad "$f" 2001:db8:41::2; done | head -n 2 | tr '\n' ' ')" = "no yes " ] ||
	err "A's IPv6 route did not wait for the end of DAD (the IPv4 one before it must not)"
[ "$(crossed "$tr" AF_INET)" -eq 1 ] || err "the IPv4 RTM_NEWROUTE did not cross exactly once"
ip -n "$NS1" -6 route show table 250 | grep -q "^2001:db8:42:: dev $IF1 .*src 2001:db8:41::2 " ||
	err "A's route is not in table 250"
! ip -n "$NS1" -6 route show table 250 | grep -q '^2001:db8:43::' || err "B's route is in table 250"
[ -z "$(ip -n "$NS1" -4 route show table 250)" ] || err "an IPv4 route is in table 250"
case_end "$out" || :
finish
