#!/bin/sh
# make check-ike: the shim inside Debian 12's real strongSwan (5.9.8)
# bringing up a real IKEv2 tunnel with an IPv6 virtual IP.  The machine's
# kernel has no ESP, so every scenario runs in its own user-mode-linux boot
# (Debian's user-mode-linux, host root as hostfs; see uml-init.sh and
# scenario.sh, which only collect evidence).  This script judges it.
# Scenarios: base (no shim), client (client service preloaded), both
# (client and gateway preloaded), layout (no shim; tests/charon551 checked
# against the real daemon's requests).
# Needs root and CAP_NET_ADMIN.  DADSHIM_IKE_KEEP=1 keeps the evidence.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
ike=$top/tests/ike
shim=$top/shim/libdadshim.so
c551=$top/tests/charon551
boot_limit=${DADSHIM_IKE_BOOT_LIMIT:-120} # seconds per scenario (one boot each)

fails=0
pass() { echo "PASS: $1"; }
fail() {
	echo "FAIL: $1 ($2)"
	fails=$((fails + 1))
}
note() { echo "NOTE: $*"; }

if [ "$(id -u)" != 0 ]; then
	echo "FAIL: ike (needs root: run as root, e.g. sudo make check-ike)"
	exit 1
fi
# CAP_NET_ADMIN is bit 12 of the effective set.
capeff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
if [ $((0x$capeff >> 12 & 1)) != 1 ]; then
	echo "FAIL: ike (needs CAP_NET_ADMIN, effective set is $capeff)"
	exit 1
fi
missing=
for f in /usr/bin/linux /usr/lib/uml/modules /usr/sbin/ipsec /usr/lib/ipsec/charon \
	/usr/bin/strace /usr/bin/perl "$shim" "$c551"; do
	[ -e "$f" ] || missing="$missing $f"
done
if [ -n "$missing" ]; then
	echo "FAIL: ike (missing:$missing; run make deps and make)"
	exit 1
fi

tmp=$(mktemp -d /tmp/dadshim-ike.XXXXXX)
tpid='' lpid=''
# kill_boot: the timeout process and the guest kernel's process group
# (user-mode-linux makes one of its own; its helper processes are in it).
kill_boot() {
	[ -n "$tpid" ] && { kill -KILL "$tpid" 2>/dev/null || true; }
	[ -n "$lpid" ] && { kill -KILL "-$lpid" 2>/dev/null || true; }
	return 0
}
cleanup() {
	# A boot still running (interrupted run).
	kill_boot
	if [ "${DADSHIM_IKE_KEEP:-0}" = 1 ]; then
		echo "evidence kept in $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# boot NAME PARAMS: one user-mode-linux boot running scenario.sh in
# $tmp/NAME, killed at $boot_limit s (timeout, then kill_boot).  Anything
# left afterwards in timeout's or the guest kernel's process group is a
# failure (and is killed).
boot() {
	name=$1
	d=$tmp/$name
	mkdir -p "$d"
	printf '%s\n' "$2" >"$d/params"
	t0=$(date +%s%N)
	timeout -k 5 "$boot_limit" linux mem=1024M rootfstype=hostfs rw \
		init=/bin/sh IKE_OUT="$d" con=null con0=null,fd:1 ssl=null \
		umid="dadshim-ike-$$-$name" uml_dir="$tmp/uml" \
		-- "$ike/uml-init.sh" </dev/null >"$d/console.log" 2>&1 &
	tpid=$!
	# The guest kernel: the child of timeout.
	lpid=
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		lpid=$(pgrep -P "$tpid" || true)
		[ -n "$lpid" ] && break
		sleep 0.2
	done
	rc=0
	wait "$tpid" || rc=$?
	t1=$(date +%s%N)
	left=$({ pgrep -g "$tpid"; [ -z "$lpid" ] || pgrep -g "$lpid"; } | tr '\n' ' ' | sed 's/ *$//')
	if [ -n "$left" ]; then
		fail "$name: no process left behind" "still running after the boot: $left"
		# shellcheck disable=SC2086
		kill -KILL $left 2>/dev/null || true
	fi
	tpid='' lpid=''
	ms=$(((t1 - t0) / 1000000))
	echo "$ms" >"$d/wall_ms"
	ready=$(sed -n 's/^scenario: \([0-9.]*\) start gateway.*/\1/p' "$d/init.log" 2>/dev/null || true)
	echo "INFO: $name: boot to scenario start ${ready:-?} s (guest uptime), whole boot $((ms / 1000)).$((ms % 1000 / 100)) s wall, exit $rc"
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		fail "$name: scenario within ${boot_limit} s" "killed at the limit"
		return 1
	fi
	if [ "$(cat "$d/scenario.rc" 2>/dev/null)" != 0 ]; then
		fail "$name: scenario ran to the end" "scenario.rc=$(cat "$d/scenario.rc" 2>/dev/null || echo none)"
		return 1
	fi
	return 0
}

# What is needed to diagnose a failed scenario.
diagnose() {
	d=$tmp/$1
	echo "----- diagnostics for $1 -----"
	for f in init.log gw/charon.log rw/charon.log gw/service.out rw/service.out \
		rw/updown.log rw/procs.txt gw/procs.txt ping.txt \
		rw/state-after-ping.txt gw/state-after-ping.txt layout.out; do
		[ -f "$d/$f" ] || continue
		echo "--- $1/$f"
		cat "$d/$f"
	done
	echo "--- $1/console.log (last 30 lines)"
	tail -n 30 "$d/console.log" 2>/dev/null || true
	echo "----- end of diagnostics for $1 -----"
}

# section FILE TITLE: one "### TITLE" section of a state file
section() { awk -v t="### $2" '$0 == t {on = 1; next} /^### / {on = 0} on' "$1"; }

# esp_packets FILE SRC DST: packet counter of the SA SRC->DST
esp_packets() {
	section "$1" "ip xfrm state" | awk -v s="$2" -v d="$3" '
		/^src / {cur = ($2 == s && $4 == d)}
		cur && /lifetime current:/ {want = 1; next}
		cur && want {sub(/\(packets\).*/, ""); sub(/.*, /, ""); print; exit}'
}

# route_reqs STRACE: charon's NETLINK_ROUTE change requests, normalised
# (seq, pid, port id and thread id vary between runs; order across charon's
# threads too, and how often charon re-installs its route after a
# roam event depends on timing, hence the set of distinct requests).
route_reqs() {
	grep -E '^[0-9]+ +sendto\([0-9]+<NETLINK:\[ROUTE:' "$1" |
		grep -E 'nlmsg_type=RTM_(NEW|DEL)(ADDR|ROUTE|RULE|ADDRLABEL),' |
		sed -E 's/^[0-9]+ +//; s/[0-9]+<NETLINK:\[ROUTE:[0-9]+\]>/FD/;
			s/nlmsg_seq=[0-9]+/nlmsg_seq=S/; s/nlmsg_pid=-?[0-9]+/nlmsg_pid=P/' |
		sort -u
}

# The tunnel assertions, common to every IKE scenario.
check_tunnel() {
	s=$1
	d=$tmp/$s
	ok=1
	before=$d/rw/state-before-ping.txt
	after=$d/rw/state-after-ping.txt
	vip=$(cat "$d/vip" 2>/dev/null || true)
	if grep -q 'CHILD_SA home{[0-9]*} established' "$d/rw/charon.log" 2>/dev/null &&
		[ "$(section "$before" "ip xfrm state" | grep -c '^	proto esp .* mode tunnel')" -ge 2 ]; then
		pass "$s: CHILD_SA established (charon says so, kernel has both ESP SAs)"
	else
		fail "$s: CHILD_SA established" "no CHILD_SA or no ESP SA pair in the kernel"
		ok=0
	fi
	if [ "$(cat "$d/accept_dad" 2>/dev/null)" = 1 ]; then
		pass "$s: DAD on for the client's interface (accept_dad=1)"
	else
		fail "$s: DAD on for the client's interface" "accept_dad=$(cat "$d/accept_dad" 2>/dev/null)"
		ok=0
	fi
	line=$(section "$after" "ip -6 addr" | grep " inet6 $vip/128 " || true)
	if [ -n "$vip" ] && [ -n "$line" ] && ! echo "$line" | grep -q -E 'tentative|dadfailed'; then
		pass "$s: virtual IP $vip present and not tentative"
	else
		fail "$s: virtual IP present and not tentative" "vip='$vip' line='$line'"
		ok=0
	fi
	if [ -n "$vip" ] && section "$after" "ip -6 route table 220" | grep -q " src $vip "; then
		pass "$s: route in table 220 with src $vip"
	else
		fail "$s: route in table 220 with src = virtual IP" "table 220: $(section "$after" "ip -6 route table 220" | tr '\n' ' ')"
		ok=0
	fi
	p0=$(esp_packets "$before" 192.0.2.2 192.0.2.1)
	p1=$(esp_packets "$after" 192.0.2.2 192.0.2.1)
	i0=$(esp_packets "$before" 192.0.2.1 192.0.2.2)
	i1=$(esp_packets "$after" 192.0.2.1 192.0.2.2)
	sent=$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1/p' "$d/ping.txt" 2>/dev/null)
	got=$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\2/p' "$d/ping.txt" 2>/dev/null)
	if grep -q '^rc=0$' "$d/ping.txt" 2>/dev/null && [ -n "$got" ] && [ "$got" -gt 0 ] &&
		[ -n "$p0" ] && [ -n "$p1" ] && [ $((p1 - p0)) -ge "$sent" ] &&
		[ -n "$i0" ] && [ -n "$i1" ] && [ $((i1 - i0)) -ge "$got" ]; then
		pass "$s: ping6 from $vip through the tunnel ($got/$sent replies; ESP out $p0->$p1, in $i0->$i1 packets)"
	else
		fail "$s: ping6 through the tunnel, ESP counters grow" "ping $got/$sent, ESP out '$p0'->'$p1', in '$i0'->'$i1'"
		ok=0
	fi
	errs=$(grep -h -E 'netlink error|unable to install' "$d/rw/charon.log" "$d/gw/charon.log" 2>/dev/null || true)
	if [ -z "$errs" ] && [ -s "$d/rw/charon.log" ]; then
		pass "$s: no netlink error in either charon's log"
	else
		fail "$s: no netlink error in charon's log" "$errs"
		ok=0
	fi
	[ "$ok" = 1 ]
}

# check_loaded SCEN SIDE: the shim is mapped into that service's charon and
# starter (kernel's /proc view, recorded in the guest).
check_loaded() {
	f=$tmp/$1/$2/procs.txt
	n=$(awk '/^process (charon|starter) / {p = 1; next} p && /^maps: / {if ($2 > 0) c++; p = 0} END {print c + 0}' "$f" 2>/dev/null || echo 0)
	if [ "$n" -ge 2 ]; then
		pass "$1: shim loaded in the $2 service's starter and charon (/proc/PID/maps)"
	else
		fail "$1: shim loaded in the $2 service" "$(tr '\n' ' ' <"$f" 2>/dev/null)"
		return 1
	fi
}

# compare_xfrm SCEN SIDE: NETLINK_XFRM traffic of SIDE identical to base.
compare_xfrm() {
	for r in base "$1"; do
		perl "$ike/xfrmnorm.pl" "$tmp/$r/$2/strace.joined" "$tmp/$r"/*/state-*.txt \
			>"$tmp/$r/$2.xfrm" || return 1
	done
	n=$(wc -l <"$tmp/base/$2.xfrm")
	if [ "$n" -gt 10 ] && grep -q XFRM_MSG_NEWSA "$tmp/base/$2.xfrm" &&
		diff -u "$tmp/base/$2.xfrm" "$tmp/$1/$2.xfrm" >"$tmp/$1/$2.xfrm.diff"; then
		pass "$1: $2's NETLINK_XFRM traffic byte-identical to the run without the shim ($n calls, SPIs/keys/timestamps masked)"
	else
		fail "$1: $2's NETLINK_XFRM traffic identical without/with the shim" "$n calls in base; diff:"
		head -c 4000 "$tmp/$1/$2.xfrm.diff" 2>/dev/null
		return 1
	fi
}

# compare_route SCEN SIDE: charon's RTM_NEW*/DEL* requests identical to base.
compare_route() {
	route_reqs "$tmp/base/$2/strace.joined" >"$tmp/base/$2.route"
	route_reqs "$tmp/$1/$2/strace.joined" >"$tmp/$1/$2.route"
	n=$(wc -l <"$tmp/base/$2.route")
	if [ "$n" -gt 0 ] && diff -u "$tmp/base/$2.route" "$tmp/$1/$2.route" >"$tmp/$1/$2.route.diff"; then
		pass "$1: $2 charon's $n NETLINK_ROUTE distinct change requests reach the kernel as without the shim"
	else
		fail "$1: $2 charon's NETLINK_ROUTE requests unchanged" "diff:"
		head -c 4000 "$tmp/$1/$2.route.diff" 2>/dev/null
		return 1
	fi
}

# One call per line in every strace log (threads interrupt each other).
join_traces() {
	for f in "$tmp/$1"/*/strace.txt "$tmp/$1/layout-strace.txt"; do
		[ -f "$f" ] && perl "$ike/stracejoin.pl" "$f" >"${f%.txt}.joined"
	done
	return 0
}

# ---------------------------------------------------------------- boots
start=$(date +%s)
base_ok=0 client_ok=0 both_ok=0 layout_ok=0
boot base "CLIENT_PRELOAD=
GW_PRELOAD=" && join_traces base && base_ok=1
boot client "CLIENT_PRELOAD=$shim
GW_PRELOAD=" && join_traces client && client_ok=1
boot both "CLIENT_PRELOAD=$shim
GW_PRELOAD=$shim" && join_traces both && both_ok=1
boot layout "LABEL_FIRST=1
LAYOUT_BIN=$c551" && join_traces layout && layout_ok=1

# ------------------------------------------------------- base (no shim)
race=0
if [ "$base_ok" = 1 ]; then
	check_tunnel base || diagnose base
	u=$tmp/base/rw/updown.log
	if grep -q '^plain_addr_add_rc=0$' "$u" 2>/dev/null &&
		! grep -q '^plain_route_add_rc=0$' "$u" && grep -q '^plain_route_add_rc=' "$u" &&
		grep -q 'Invalid' "$u" &&
		! section "$tmp/base/rw/state-after-ping.txt" "ip -6 route" | grep -q '^2001:db8:2::/64 '; then
		race=1
		pass "base: race is real: updown's ip -6 route add with the new address as src fails without the shim ($(grep -h -i invalid "$u" | head -n 1))"
	else
		fail "base: race reproduced by the updown script without the shim" "$(tr '\n' ' ' <"$u" 2>/dev/null)"
	fi
else
	diagnose base
fi

# ------------------------------------------------- client with the shim
for s in client both; do
	case $s in client) sok=$client_ok ;; *) sok=$both_ok ;; esac
	if [ "$sok" != 1 ]; then
		diagnose "$s"
		continue
	fi
	d=$tmp/$s
	bad=0
	check_tunnel "$s" || bad=1
	check_loaded "$s" rw || bad=1
	vip=$(cat "$d/vip" 2>/dev/null || true)
	# The shim's own account (charon's stderr goes to the service output).
	if grep -q "^dadshim\[[0-9]*\]: charon: NODAD already set on $vip/128 ifindex [0-9]*, request unchanged" "$d/rw/service.out" &&
		! grep -q 'charon: NODAD set on' "$d/rw/service.out"; then
		pass "$s: shim log: NODAD already set on $vip/128, request unchanged"
	else
		fail "$s: shim log says NODAD already set, request unchanged" "$(grep dadshim "$d/rw/service.out" | tr '\n' ' ')"
		bad=1
	fi
	if [ "$base_ok" = 1 ]; then
		compare_route "$s" rw || bad=1
		compare_xfrm "$s" rw || bad=1
	else
		fail "$s: traffic compared with the run without the shim" "base run failed"
		bad=1
	fi
	if [ "$s" = both ]; then
		check_loaded both gw || bad=1
		if [ "$base_ok" = 1 ]; then
			compare_route both gw || bad=1
			compare_xfrm both gw || bad=1
		fi
		if grep -q -E 'dadshim.*(NODAD set on|retry)' "$d/gw/service.out"; then
			fail "both: the gateway's shim changes nothing" "$(grep dadshim "$d/gw/service.out" | tr '\n' ' ')"
			bad=1
		else
			pass "both: the gateway's shim logged no change"
		fi
	fi
	# The updown workaround.  charon gives updown scripts an environment of
	# their own: the service's LD_PRELOAD does not reach them.
	u=$d/rw/updown.log
	env_line=$(grep '^env ' "$u" | head -n 1)
	note "$s: updown script environment: $env_line; the plain ip pair: $(grep -h '^plain_' "$u" | tr '\n' ' ')"
	if [ "$race" != 1 ]; then
		fail "$s: updown's ip with the shim succeeds" "race not shown without the shim in this run"
		bad=1
	elif grep -q '^shim_addr_add_rc=0$' "$u" && grep -q '^shim_route_add_rc=0$' "$u" &&
		grep -q 'ip: NODAD set on 2001:db8:eeee::3/128' "$u" &&
		section "$d/rw/state-after-ping.txt" "ip -6 addr" | grep -q ' inet6 2001:db8:eeee::3/128 .*nodad' &&
		section "$d/rw/state-after-ping.txt" "ip -6 route" | grep -q '^2001:db8:3::/64 .* src 2001:db8:eeee::3 '; then
		pass "$s: updown's ip -6 addr/route add with the shim preloaded succeed (kernel: address nodad, route with src present)"
	else
		fail "$s: updown's ip with the shim succeeds" "$(tr '\n' ' ' <"$u")"
		bad=1
	fi
	[ "$bad" = 0 ] || diagnose "$s"
done

# --------------------------------- tests/charon551 against the real daemon
# layout_sig STRACE TYPE: the first request of TYPE for the VIP, decoded by
# strace, with what legitimately differs removed (seq, pid, interface name,
# port id); prints one request per line.
layout_sig() {
	grep -E "^[0-9]+ +sendto\([0-9]+<NETLINK:\[ROUTE:[0-9]+\]>, \[\{nlmsg_len=[0-9]+, nlmsg_type=$2," "$1" |
		grep 'inet_pton(AF_INET6, "\\x32\\x30\\x30\\x31\\x3a\\x64\\x62\\x38\\x3a\\x66\\x66\\x66\\x66\\x3a\\x3a\\x31")' |
		sed -E 's/^[0-9]+ +//; s/[0-9]+<NETLINK:\[ROUTE:[0-9]+\]>/FD/;
			s/nlmsg_seq=[0-9]+/nlmsg_seq=S/; s/nlmsg_pid=-?[0-9]+/nlmsg_pid=P/;
			s/if_nametoindex\("[^"]*"\)/IFINDEX/g'
}
if [ "$layout_ok" = 1 ]; then
	d=$tmp/layout
	bad=0
	real_addr=$(layout_sig "$d/rw/strace.joined" RTM_NEWADDR | head -n 1)
	fake_addr=$(layout_sig "$d/layout-strace.joined" RTM_NEWADDR | head -n 1)
	if ! echo "$real_addr" | grep -q 'IFA_CACHEINFO'; then
		fail "layout: real charon sent RTM_NEWADDR with IFA_CACHEINFO (5.5.1's form)" "got: $real_addr"
		bad=1
	elif ! echo "$real_addr" | grep -q 'ifa_flags=IFA_F_NODAD,' ||
		! echo "$fake_addr" | grep -q 'ifa_flags=0,'; then
		fail "layout: RTM_NEWADDR flags: real NODAD, charon551 none" "real: $real_addr; charon551: $fake_addr"
		bad=1
	elif [ "$(echo "$real_addr" | sed 's/ifa_flags=IFA_F_NODAD,/ifa_flags=F,/')" = \
		"$(echo "$fake_addr" | sed 's/ifa_flags=0,/ifa_flags=F,/')" ]; then
		pass "layout: charon551's RTM_NEWADDR = real charon's (types, flags, header, attributes in order and lengths), except NODAD"
	else
		fail "layout: charon551's RTM_NEWADDR = real charon's except NODAD" "real: $real_addr; charon551: $fake_addr"
		bad=1
	fi
	fake_route=$(layout_sig "$d/layout-strace.joined" RTM_NEWROUTE | head -n 1)
	match=$(layout_sig "$d/rw/strace.joined" RTM_NEWROUTE | grep -c -x -F -- "$fake_route" || true)
	if [ -n "$fake_route" ] && [ "$match" -gt 0 ]; then
		pass "layout: charon551's RTM_NEWROUTE = one the real charon sent (types, flags, header, attributes in order and lengths)"
	else
		fail "layout: charon551's RTM_NEWROUTE = the real one" "charon551: $fake_route; real: $(layout_sig "$d/rw/strace.joined" RTM_NEWROUTE | tr '\n' ' ')"
		bad=1
	fi
	# 5.9.8 installs with NLM_F_REPLACE (5.5.1: NLM_F_EXCL) and repeats it
	# with NLM_F_EXCL when it re-installs routes; report what it sent.
	note "layout: real charon's source-route requests: $(layout_sig "$d/rw/strace.joined" RTM_NEWROUTE | sed -n 's/.*nlmsg_flags=\([A-Z_|]*\),.*/\1/p' | tr '\n' ' ')"
	note "layout: charon551 in the guest said: $(grep -h 'source route' "$d/layout.out" | head -n 1)"
	[ "$bad" = 0 ] || diagnose layout
else
	diagnose layout
fi

echo "INFO: check-ike took $(($(date +%s) - start)) s"
[ "$fails" = 0 ]
