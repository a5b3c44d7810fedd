#!/bin/sh
# Scenario i: the wait changes no answer. An IPv6 route with RTA_PREFSRC,
# sent by `ip` (a blocking send), that the kernel refuses with another
# error than EINVAL: ENODEV (RTA_OIF names no interface: `dev if9999`) and
# EEXIST (the route is there already), with a tentative and with a
# non-tentative source. Each request runs without and with the shim, both
# under strace: the same answer reaches the caller (ip's message and exit
# status), the request crosses once and the kernel answers it once with
# the same error; the shim's look is one RTM_GETADDR dump on its own
# socket, and a wait for a tentative source one more (the socket, now
# subscribed to address events, asks again). A tentative source on a link
# without carrier (DAD never ends there) is waited for until the bound
# (DADSHIM_WAIT_MS=1500 in i1), then the request goes out and gets the
# kernel's own error. The last case: a tentative source makes the kernel
# refuse with EINVAL before it looks for the route; with the shim the route
# waits for DAD, crosses once, and gets the EEXIST the kernel gives once
# DAD ended.
set -eu
# shellcheck source=tests/lib/netns.sh
. tests/lib/netns.sh

require_root i-refused
require_file i-refused "$SHIM"
setup_pair || { fail i-refused "namespace setup failed"; exit 1; }

# A non-tentative source (nodad, added without the shim) and the route the
# EEXIST cases add again.
SRC_OK=2001:db8:1f::1
ip -n "$NS1" -6 addr add "$SRC_OK/128" dev "$IF1" nodad ||
	fail i-refused "cannot add $SRC_OK"
ip -n "$NS1" -6 route add 2001:db8:1e::/64 dev "$IF1" table 240 ||
	fail i-refused "cannot add the existing route"
K=0
# XA: a link in NS1 whose peer XB stays down, so DAD never ends on it and a
# source there is tentative for as long as the case needs (however slow
# the machine), and a wait for DAD would last until the bound.
XA="ixa$$"
XB="ixb$$"
ip -n "$NS1" link add "$XA" type veth peer name "$XB" &&
	ip netns exec "$NS1" sh -c "echo 1 > /proc/sys/net/ipv6/conf/$XA/accept_dad" &&
	ip -n "$NS1" link set "$XA" up || fail i-refused "cannot make the link without carrier"

# fresh_tentative [DEV]: a new tentative address (added without the shim)
# on DEV (default XA) in SRC
fresh_tentative() {
	K=$((K + 1))
	SRC=2001:db8:1f::$((K + 10))
	ip -n "$NS1" -6 addr add "$SRC/128" dev "${1:-$XA}" &&
		is_tentative "$NS1" "${1:-$XA}" "$SRC"
}

# i_run NAME plain|shim IP-ARGS...: ip IP-ARGS in NS1 under strace (with the
# shim: preloaded); ip's output in $T_TMP/NAME.ip, its status in NAME.rc,
# the trace in NAME.tr.*, and in NAME.sum: RTM_NEWROUTE crossings, the
# kernel's answers to them (first to last), RTM_GETADDR crossings
i_run() {
	_n=$1
	_how=$2
	shift 2
	_rc=0
	if [ "$_how" = shim ]; then
		shim_trace "$T_TMP/$_n.tr" "DADSHIM_WAIT_MS=${I_WAIT_MS:-1500}" -- ip "$@" \
			>"$T_TMP/$_n.ip" 2>&1 || _rc=$?
		# the shim's lines are not part of what ip told its caller
		grep -Ev '^dadshim\[[0-9]+\]: ' "$T_TMP/$_n.ip" >"$T_TMP/$_n.ipo" || :
	else
		nl_trace "$T_TMP/$_n.tr" -- ip "$@" >"$T_TMP/$_n.ip" 2>&1 || _rc=$?
		cp "$T_TMP/$_n.ip" "$T_TMP/$_n.ipo"
	fi
	echo "$_rc" >"$T_TMP/$_n.rc"
	[ "$_rc" -lt 124 ] || err "$_n: ip killed (status $_rc)"
	_seq=$(sends_of "$T_TMP/$_n.tr" RTM_NEWROUTE | seqs_of | head -n 1)
	{
		echo "RTM_NEWROUTE sent: $(sends_of "$T_TMP/$_n.tr" RTM_NEWROUTE | grep -c .)"
		# (ip's lookup of `dev if9999`, RTM_GETLINK on another socket,
		# carries the same seq and gets its own ENODEV: not counted)
		echo "answers: $(replies_of "$T_TMP/$_n.tr" "${_seq:-none}" | grep -v MSG_PEEK |
			grep -v 'msg=\[{nlmsg_len=[0-9]*, nlmsg_type=RTM_GETLINK,' |
			sed -n 's/.*{error=\(-*[A-Z0-9]*\),.*/\1/p' | tr '\n' ' ')"
		echo "RTM_GETADDR sent: $(sends_of "$T_TMP/$_n.tr" RTM_GETADDR | grep -c .)"
	} >"$T_TMP/$_n.sum"
}

# i_case NAME WHAT ERRNO MESSAGE SRC: ip -6 route add ... src SRC without
# and with the shim; both must give MESSAGE, the same exit status, one
# crossing answered ERRNO; RTM_GETADDR only with the shim: once (its look),
# twice for a tentative source (the look, then the wait's own dump)
i_case() {
	_in=$1
	_what=$2
	_errno=$3
	_msg=$4
	_src=$5
	shift 5
	_tent=0
	is_tentative "$NS1" "$XA" "$_src" && _tent=1
	i_run "$_in.plain" plain -6 route add "$@" src "$_src" table 240
	i_run "$_in.shim" shim -6 route add "$@" src "$_src" table 240
	for _k in plain shim; do
		grep -qx "$_msg" "$T_TMP/$_in.$_k.ipo" ||
			err "$_k: ip said '$(tr '\n' ' ' <"$T_TMP/$_in.$_k.ipo")', not '$_msg'"
		[ "$(cat "$T_TMP/$_in.$_k.rc")" -ne 0 ] || err "$_k: ip exited 0"
		_looks=0
		[ "$_k" = shim ] && _looks=$((1 + _tent))
		printf 'RTM_NEWROUTE sent: 1\nanswers: %s \nRTM_GETADDR sent: %s\n' "$_errno" "$_looks" |
			cmp -s - "$T_TMP/$_in.$_k.sum" ||
			err "$_k: $(tr '\n' ';' <"$T_TMP/$_in.$_k.sum"), expected one RTM_NEWROUTE answered $_errno and $_looks RTM_GETADDR"
	done
	cmp -s "$T_TMP/$_in.plain.ipo" "$T_TMP/$_in.shim.ipo" || err "ip's output differs with the shim"
	[ "$(cat "$T_TMP/$_in.plain.rc")" = "$(cat "$T_TMP/$_in.shim.rc")" ] ||
		err "ip exited $(cat "$T_TMP/$_in.shim.rc") with the shim, $(cat "$T_TMP/$_in.plain.rc") without"
	if [ "$_tent" = 1 ]; then
		is_tentative "$NS1" "$XA" "$_src" || err "$_src no longer tentative after the runs"
	fi
	note "$_what, src $_src ($([ "$_tent" = 1 ] && echo tentative || echo not tentative)): $(tr '\n' ';' <"$T_TMP/$_in.shim.sum")"
}

case_begin "i1: ENODEV with a tentative source (DAD never ends): after the bounded wait the request crosses once and the caller gets ENODEV, as without the shim"
fresh_tentative || err "$SRC not tentative when the case started"
i_case i1 ENODEV -ENODEV 'RTNETLINK answers: No such device' "$SRC" 2001:db8:1d::/64 dev if9999
case_end "$T_TMP/i1.shim.ip" "$T_TMP/i1.shim.sum" || :

case_begin "i2: ENODEV with a non-tentative source: the same with and without the shim"
i_case i2 ENODEV -ENODEV 'RTNETLINK answers: No such device' "$SRC_OK" 2001:db8:1d::/64 dev if9999
case_end "$T_TMP/i2.shim.ip" "$T_TMP/i2.shim.sum" || :

case_begin "i3: EEXIST with a non-tentative source: the same with and without the shim"
i_case i3 EEXIST -EEXIST 'RTNETLINK answers: File exists' "$SRC_OK" 2001:db8:1e::/64 dev "$IF1"
case_end "$T_TMP/i3.shim.ip" "$T_TMP/i3.shim.sum" || :

# i4: the route exists, the source is tentative. The kernel checks the
# source first: EINVAL without the shim; with it the request waits for DAD
# and crosses once, and the caller gets the kernel's EEXIST.
case_begin "i4: EEXIST with a tentative source: EINVAL without the shim; with it one wait, one crossing, and the caller gets the kernel's EEXIST"
fresh_tentative || err "$SRC not tentative when the case started"
i_run i4.plain plain -6 route add 2001:db8:1e::/64 dev "$IF1" src "$SRC" table 240
grep -qx 'Error: Invalid source address.' "$T_TMP/i4.plain.ipo" ||
	err "without the shim ip said '$(tr '\n' ' ' <"$T_TMP/i4.plain.ipo")', not the EINVAL"
printf 'RTM_NEWROUTE sent: 1\nanswers: -EINVAL \nRTM_GETADDR sent: 0\n' | cmp -s - "$T_TMP/i4.plain.sum" ||
	err "without the shim: $(tr '\n' ';' <"$T_TMP/i4.plain.sum")"
fresh_tentative "$IF1" || err "$SRC not tentative when the shim's run started"
# DAD ends on this link: the default bound, not the short one of i1
I_WAIT_MS=5000 i_run i4.shim shim -6 route add 2001:db8:1e::/64 dev "$IF1" src "$SRC" table 240
grep -qx 'RTNETLINK answers: File exists' "$T_TMP/i4.shim.ipo" ||
	err "with the shim ip said '$(tr '\n' ' ' <"$T_TMP/i4.shim.ipo")', not the EEXIST"
[ "$(cat "$T_TMP/i4.shim.rc")" -ne 0 ] || err "with the shim ip exited 0"
grep -qx 'RTM_NEWROUTE sent: 1' "$T_TMP/i4.shim.sum" || err "the request did not cross exactly once"
grep -qx 'answers: -EEXIST ' "$T_TMP/i4.shim.sum" || err "the kernel's answer was not EEXIST"
routes_after_dad "$(ls "$T_TMP"/i4.shim.tr.* | head -n 1)" "$SRC" | grep -qx yes ||
	err "the request crossed before the kernel reported $SRC no longer tentative"
# what the kernel says to the same request once DAD ended: the shim's answer
wait_not_tentative "$NS1" "$IF1" "$SRC" || err "DAD did not end"
i_run i4.after plain -6 route add 2001:db8:1e::/64 dev "$IF1" src "$SRC" table 240
cmp -s "$T_TMP/i4.after.ipo" "$T_TMP/i4.shim.ipo" ||
	err "ip's output after DAD without the shim differs from the shim's run"
[ "$(ip -n "$NS1" -6 route show table 240 | grep -c '^2001:db8:1e::/64 ')" -eq 1 ] ||
	err "not exactly one route 2001:db8:1e::/64 in table 240"
note "with the shim: $(tr '\n' ';' <"$T_TMP/i4.shim.sum")"
case_end "$T_TMP/i4.shim.ip" "$T_TMP/i4.shim.sum" || :
finish
