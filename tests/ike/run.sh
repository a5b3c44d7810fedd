#!/bin/sh
# make check-ike: the shim inside Debian 12's real strongSwan (5.9.8)
# bringing up a real IKEv2 tunnel with an IPv6 virtual IP.  The machine's
# kernel has no ESP, so the scenarios run on two backends (scenario.sh and
# uml-init.sh only collect evidence; this script judges it):
#  - libipsec: on the host, in network namespaces, ESP in charon's user space
#    (kernel-libipsec over a TUN device).  Needs no kernel ESP: runs anywhere.
#  - uml: each scenario in its own user-mode-linux boot (Debian's
#    user-mode-linux, host root as hostfs) with kernel ESP, which adds the
#    NETLINK_XFRM byte-identity check.  Runs only where a probe guest boots
#    (it does not on hosts whose CPU has AMX).
# Scenarios: base (no shim), client (client service preloaded), both
# (client and gateway preloaded), updown (in all three: the field
# workaround, raced without the shim), layout (no shim; build/tests/clients/charon551
# checked against the real daemon's requests).
# Needs root and CAP_NET_ADMIN.  DADSHIM_IKE_KEEP=1 keeps the evidence.
# nodad-base, nodad-shim, nodad-wait: the client is a real charon with the
# bug (tests/ike/build-charon.sh builds it once; tests/ike/README.md):
# without the shim, with its defaults, with DADSHIM_NODAD=0.
# dadfailed-base, dadfailed-shim (uml): that charon on a link that reflects
# its DAD probe, without the shim and with it.
# DADSHIM_IKE_BACKENDS (default "libipsec uml") chooses the backends;
# DADSHIM_IKE_SCENARIOS (default "classic nodad dadfailed") the scenario
# groups (make check-ike ONLY=GROUP runs one);
# DADSHIM_IKE_MUTANT="DADSHIM_NODAD=0 DADSHIM_RETRY=0" (say) weakens the
# shim in nodad-shim and nodad-wait, to see their checks fail;
# DADSHIM_IKE_UML_PROBE=fail treats the probe guest as not booting (to try
# the path of a host where user-mode-linux cannot run).
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
ike=$top/tests/ike
shim=$top/shim/libdadshim.so
c551=$top/build/tests/clients/charon551
# seconds per scenario (one boot each): a guard, never an assertion; a
# user-mode-linux guest slows down a lot when the host's CPUs are busy.
boot_limit=${DADSHIM_IKE_BOOT_LIMIT:-300}

# shellcheck source=tests/lib/tap.sh
. "$top/tests/lib/tap.sh"
B= # the backend's prefix of every check's name
pass() { tap_ok "$B$1"; }
fail() { tap_not_ok "$B$1" "$2"; }
note() { tap_note "NOTE: $*"; }

if [ "$(id -u)" != 0 ]; then
	fail ike "needs root: run as root, e.g. sudo make check-ike"
	exit 1
fi
# CAP_NET_ADMIN is bit 12 of the effective set.
capeff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
if [ $((0x$capeff >> 12 & 1)) != 1 ]; then
	fail ike "needs CAP_NET_ADMIN, effective set is $capeff"
	exit 1
fi
# in_words WORD LIST: WORD is one of the words of LIST
in_words() { case " $2 " in *" $1 "*) return 0 ;; esac; return 1; }
# words_of VAR VALUE ALLOWED WHAT: every word of VALUE (the setting VAR) is
# one of ALLOWED, else the suite stops with one failure naming it
words_of() {
	for _w in $2; do
		in_words "$_w" "$3" || {
			fail ike "$1='$2': '$_w' is not $4; use $(echo "$3" | sed 's/ / and\/or /g')"
			exit 1
		}
	done
}
backends=${DADSHIM_IKE_BACKENDS:-libipsec uml}
words_of DADSHIM_IKE_BACKENDS "$backends" "libipsec uml" "a backend"
want() { in_words "$1" "$backends"; }
groups=${DADSHIM_IKE_SCENARIOS:-classic nodad dadfailed}
# ONLY=GROUP (make check-ike ONLY=dadfailed): that group's scenarios, all
# their checks.
case ${TAP_ONLY:-} in
classic | nodad | dadfailed) groups=$TAP_ONLY TAP_ONLY= ;;
esac
words_of DADSHIM_IKE_SCENARIOS "$groups" "classic nodad dadfailed" "a group"
want_group() { in_words "$1" "$groups"; }
# Every file a test uses, with the Debian package it comes from.
missing=
need() { # FILE PACKAGE
	[ -e "$1" ] || missing="$missing $1 (package $2)"
}
plugins=/usr/lib/ipsec/plugins
need /usr/sbin/ipsec strongswan-starter
need /usr/lib/ipsec/starter strongswan-starter
need "$plugins/libstrongswan-stroke.so" strongswan-starter
need /usr/lib/ipsec/charon strongswan-charon
need "$plugins/libstrongswan-updown.so" strongswan-libcharon
need "$plugins/libstrongswan-kernel-netlink.so" libstrongswan
# The pinned proposals: ike=aes128-sha256-modp2048, esp=aes128-sha256.
for p in aes sha2 hmac gmp random nonce; do
	need "$plugins/libstrongswan-$p.so" libstrongswan
done
need /usr/bin/strace strace
need /usr/bin/perl perl-base
need /usr/bin/nsenter util-linux
need /usr/bin/unshare util-linux
need /usr/bin/timeout coreutils
need /usr/bin/pgrep procps
need /bin/ping iputils-ping
need /sbin/sysctl procps
if want libipsec; then
	need "$plugins/libstrongswan-kernel-libipsec.so" libcharon-extra-plugins
	need /dev/net/tun "the kernel's tun driver"
fi
if want uml; then
	need /usr/bin/linux user-mode-linux
	need /usr/lib/uml/modules user-mode-linux
fi
if [ -n "$missing" ]; then
	fail ike "missing:$missing; run sh scripts/deps.sh"
	exit 1
fi
for f in "$shim" "$c551"; do
	[ -e "$f" ] || missing="$missing $f"
done
if [ -n "$missing" ]; then
	fail ike "missing:$missing; run make check-ike"
	exit 1
fi

root=$(mktemp -d /tmp/dadshim-ike.XXXXXX)
tmp=$root
nstag=-dsi$$ # namespace names of the host backend: unique per run
tpid='' lpid=''
# kill_boot: the timeout process and the guest kernel's process group
# (user-mode-linux makes one of its own; its helper processes are in it).
# A guest's processes are host processes too, not all in that group: a guest
# killed at the limit leaves its ptraced user processes stopped, orphaned,
# holding our descriptors (the test lock among them).  Every host process of
# this run's guests carries its umid (dadshim-ike-PID-NAME) on the command line.
uml_procs() { pgrep -f -- "umid=dadshim-ike-$$-${1:-}" || true; }
kill_boot() {
	[ -n "$tpid" ] && { kill -KILL "$tpid" 2>/dev/null || true; }
	[ -n "$lpid" ] && { kill -KILL "-$lpid" 2>/dev/null || true; }
	for q in $(uml_procs); do kill -KILL "$q" 2>/dev/null || true; done
	return 0
}
# kill_netns: the host backend's namespaces of this run, and what runs in them.
kill_netns() {
	for n in ikegw ikerw ikel; do
		[ -e "/run/netns/$n$nstag" ] || continue
		for q in $(ip netns pids "$n$nstag" 2>/dev/null); do kill -KILL "$q" 2>/dev/null || true; done
		ip netns del "$n$nstag" 2>/dev/null || true
	done
	return 0
}
cleanup() {
	# A boot still running (interrupted run).
	kill_boot
	[ -n "$hpid" ] && { kill -KILL "$hpid" 2>/dev/null || true; }
	kill_netns
	if [ "${DADSHIM_IKE_KEEP:-0}" = 1 ]; then
		tap_note "evidence kept in $root"
	else
		rm -rf "$root"
	fi
	tap_end
}
hpid=''
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# uml_launch DIR LIMIT [VAR=VALUE]: one user-mode-linux boot of uml-init.sh
# with IKE_OUT=DIR; sets rc (of timeout) and ms (wall time).  Killed at
# LIMIT s (timeout, then kill_boot); anything left afterwards in timeout's
# or the guest kernel's process group is a failure (and is killed).
uml_launch() {
	ld=$1 limit=$2
	shift 2
	t0=$(date +%s%N)
	timeout -k 5 "$limit" linux mem=1024M rootfstype=hostfs rw \
		init=/bin/sh IKE_OUT="$ld" "$@" con=null con0=null,fd:1 ssl=null \
		umid="dadshim-ike-$$-$(basename "$ld")" uml_dir="$root/uml" \
		-- "$ike/uml-init.sh" </dev/null >"$ld/console.log" 2>&1 &
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
	# (Leftovers get a moment to go: the guest's halt kills its processes.)
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		left=$({ pgrep -g "$tpid"; [ -z "$lpid" ] || pgrep -g "$lpid"; uml_procs "$(basename "$ld") "; } |
			sort -u | tr '\n' ' ' | sed 's/ *$//')
		[ -z "$left" ] && break
		sleep 0.3
	done
	if [ -n "$left" ]; then
		fail "$(basename "$ld"): no process left behind" "still running after the boot: $left"
		# shellcheck disable=SC2086
		kill -KILL $left 2>/dev/null || true
	fi
	tpid='' lpid=''
	ms=$(((t1 - t0) / 1000000))
	return 0
}

# uml_probe: does a user-mode-linux guest boot on this host?  Sets why.
uml_probe() {
	if [ "${DADSHIM_IKE_UML_PROBE:-}" = fail ]; then
		why="probe treated as failed: DADSHIM_IKE_UML_PROBE=fail"
		return 1
	fi
	pd=$root/probe
	mkdir -p "$pd"
	uml_launch "$pd" 60 IKE_PROBE=1
	if [ -s "$pd/probe.ok" ]; then
		why="$(cat "$pd/probe.ok") in $((ms / 1000)).$((ms % 1000 / 100)) s"
		return 0
	fi
	why="the probe guest did not boot (exit $rc after $((ms / 1000)) s): $(grep -a -m 2 -E 'panic|failed|errno|rror' "$pd/console.log" | tr '\n' ' ' | cut -c 1-300)"
	return 1
}

# boot NAME PARAMS: one scenario.sh run in $tmp/NAME, killed at $boot_limit
# s: for uml in its own guest boot, for libipsec on the host.  Anything left
# afterwards is a failure (and is killed).
boot() {
	name=$1
	d=$tmp/$name
	mkdir -p "$d"
	printf '%s\n' "$2" >"$d/params"
	if [ "$backend" = libipsec ]; then
		printf 'BACKEND=libipsec\nNS_TAG=%s\n' "$nstag" >>"$d/params"
		t0=$(date +%s%N)
		timeout -k 5 "$boot_limit" sh "$ike/scenario.sh" "$d" </dev/null >"$d/init.log" 2>&1 &
		hpid=$!
		rc=0
		wait "$hpid" || rc=$?
		hpid=''
		echo "$rc" >"$d/scenario.rc"
		t1=$(date +%s%N)
		ms=$(((t1 - t0) / 1000000))
		left=$(for n in ikegw ikerw ikel; do ip netns pids "$n$nstag" 2>/dev/null; done | tr '\n' ' ' | sed 's/ *$//')
		if [ -n "$left" ]; then
			fail "$name: no process left behind" "still running in the namespaces: $left"
		fi
		kill_netns
		tap_note "INFO: $B$name: scenario $((ms / 1000)).$((ms % 1000 / 100)) s wall, exit $rc"
	else
		uml_launch "$d" "$boot_limit"
		ready=$(sed -n 's/^scenario: \([0-9.]*\) start gateway.*/\1/p' "$d/init.log" 2>/dev/null || true)
		tap_note "INFO: $B$name: boot to scenario start ${ready:-?} s (guest uptime), whole boot $((ms / 1000)).$((ms % 1000 / 100)) s wall, exit $rc"
	fi
	echo "$ms" >"$d/wall_ms"
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

# What is needed to diagnose a failed scenario (as TAP diagnostics).
diagnose() {
	d=$tmp/$1
	{
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
	} | sed 's/^/#   /'
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

# sa_counter FILE bytes_i|bytes_o: "BYTES PACKETS" of the client's CHILD_SA
# as charon counts it (ipsec statusall; PACKETS is 0 before any traffic,
# when charon prints no packet count).
sa_counter() {
	section "$1" "ipsec statusall" | grep -E '^ *home\{[0-9]+\}: ' |
		sed -n -E "s/.*[ ,]([0-9]+) $2( \(([0-9]+) pkts?)?.*/\1 \3/p" | head -n 1 |
		awk 'NF {print $1, ($2 == "" ? 0 : $2)}'
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
	kesp=$(section "$before" "ip xfrm state" | grep -c '^	proto esp .* mode tunnel' || true)
	if [ "$backend" = uml ]; then
		if grep -q 'CHILD_SA home{[0-9]*} established' "$d/rw/charon.log" 2>/dev/null && [ "$kesp" -ge 2 ]; then
			pass "$s: CHILD_SA established (charon says so, kernel has both ESP SAs)"
		else
			fail "$s: CHILD_SA established" "no CHILD_SA or no ESP SA pair in the kernel"
			ok=0
		fi
	elif grep -q 'CHILD_SA home{[0-9]*} established' "$d/rw/charon.log" 2>/dev/null &&
		section "$before" "ipsec statusall" | grep -q -E '^ *home\{[0-9]+\}: +INSTALLED, TUNNEL' &&
		[ "$kesp" = 0 ] && grep -q 'TUN device' "$d/rw/charon.log"; then
		pass "$s: CHILD_SA established (charon says so, statusall: INSTALLED, TUNNEL; no ESP SA in the kernel: ESP in charon over $(sed -n 's/.*created TUN device: \([^ ]*\).*/\1/p' "$d/rw/charon.log" | head -n 1))"
	else
		fail "$s: CHILD_SA established (kernel-libipsec)" "charon log: $(grep -c 'CHILD_SA home' "$d/rw/charon.log" 2>/dev/null) CHILD_SA lines; statusall: $(section "$before" "ipsec statusall" | grep -E 'home\{' | tr '\n' ' '); kernel ESP SAs: $kesp; $(grep -h 'TUN' "$d/rw/charon.log" | head -n 2 | tr '\n' ' ')"
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
		pass "$s: virtual IP $vip present and not tentative ($(echo "$line" | sed 's/^ *//'))"
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
	if [ "$backend" = uml ]; then
		where="ESP in the kernel's SAs"
		p0=$(esp_packets "$before" 192.0.2.2 192.0.2.1)
		p1=$(esp_packets "$after" 192.0.2.2 192.0.2.1)
		i0=$(esp_packets "$before" 192.0.2.1 192.0.2.2)
		i1=$(esp_packets "$after" 192.0.2.1 192.0.2.2)
	else
		# kernel-libipsec counts in charon: ipsec statusall's bytes_o/bytes_i.
		c=$(sa_counter "$before" bytes_o); p0=${c#* }
		c=$(sa_counter "$after" bytes_o); p1=${c#* }
		where="CHILD_SA (statusall) bytes out $(sa_counter "$before" bytes_o | cut -d' ' -f1)->$(sa_counter "$after" bytes_o | cut -d' ' -f1)"
		c=$(sa_counter "$before" bytes_i); i0=${c#* }
		c=$(sa_counter "$after" bytes_i); i1=${c#* }
		where="$where, in $(sa_counter "$before" bytes_i | cut -d' ' -f1)->$(sa_counter "$after" bytes_i | cut -d' ' -f1)"
	fi
	sent=$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1/p' "$d/ping.txt" 2>/dev/null)
	got=$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\2/p' "$d/ping.txt" 2>/dev/null)
	if grep -q '^rc=0$' "$d/ping.txt" 2>/dev/null && [ -n "$got" ] && [ "$got" -gt 0 ] &&
		[ -n "$p0" ] && [ -n "$p1" ] && [ $((p1 - p0)) -ge "$sent" ] &&
		[ -n "$i0" ] && [ -n "$i1" ] && [ $((i1 - i0)) -ge "$got" ]; then
		pass "$s: ping6 from $vip through the tunnel ($got/$sent replies; ESP out $p0->$p1, in $i0->$i1 packets; $where)"
	else
		fail "$s: ping6 through the tunnel, ESP counters grow" "ping $got/$sent, ESP out '$p0'->'$p1', in '$i0'->'$i1' packets; $where"
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
	if [ "$backend" = libipsec ]; then
		nb=$(grep -c -E '^[0-9]+ +(send|sendto|sendmsg)\([0-9]+<NETLINK:\[XFRM' "$tmp/base/$2/strace.joined" || true)
		ns=$(grep -c -E '^[0-9]+ +(send|sendto|sendmsg)\([0-9]+<NETLINK:\[XFRM' "$tmp/$1/$2/strace.joined" || true)
		note "$B$1: $2's NETLINK_XFRM byte identity not checked here: it needs kernel ESP (backend uml); with kernel-libipsec charon sent $nb (no shim) and $ns (shim) NETLINK_XFRM requests, its ESP runs in user space; the route requests above are what applies"
		return 0
	fi
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

# run_classic: the scenarios with Debian's charon on $backend, judged.
run_classic() {
# ---------------------------------------------------------------- boots
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
	# Debian's 5.9.8 sets NODAD itself: nothing to see for the doctor.
	check_doctor base unaffected || true
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

if [ "$backend" = libipsec ] && [ "$base_ok" = 1 ]; then
	vdev=$(section "$tmp/base/rw/state-after-ping.txt" "ip -6 addr" | awk -v v="$(cat "$tmp/base/vip")" '
		/^[0-9]+: / {dev = $2 " " $3; sub(/: /, " ", dev)}
		$1 == "inet6" && $2 == v "/128" {print dev; exit}')
	note "${B}base: kernel-libipsec puts the virtual IP on its TUN device ($vdev); the kernel runs no DAD on a NOARP device, so Debian's charon, which sets NODAD anyway, cannot meet the race here; the race is shown by updown on the veth (DAD on), by charon551 (layout), and by charon-nodad with ARP turned on for its TUN device (nodad-*)"
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
		if grep -q -E 'dadshim.*(NODAD set on|route with source)' "$d/gw/service.out"; then
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
	note "$B$s: updown script environment: $env_line; the plain ip pair: $(grep -h '^plain_' "$u" | tr '\n' ' ')"
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

# --------------------------------- build/tests/clients/charon551 against the real daemon
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
	note "${B}layout: real charon's source-route requests: $(layout_sig "$d/rw/strace.joined" RTM_NEWROUTE | sed -n 's/.*nlmsg_flags=\([A-Z_|]*\),.*/\1/p' | tr '\n' ' ')"
	# The bug itself, as 5.5.1 meets it on this kernel: no NODAD, the source
	# route refused while the address is tentative.
	if grep -q '^unable to install source route for 2001:db8:ffff::1$' "$d/layout.out" &&
		grep -q '^rc=1$' "$d/layout.out" && grep -q 'Invalid argument' "$d/layout.out"; then
		pass "layout: without the shim charon551 (5.5.1's requests) meets the bug: $(grep -h -E 'netlink error|unable' "$d/layout.out" | tr '\n' ' ')"
	else
		fail "layout: without the shim charon551 meets the bug" "$(tr '\n' ' ' <"$d/layout.out")"
		bad=1
	fi
	[ "$bad" = 0 ] || diagnose layout
else
	diagnose layout
fi

}

# ------------------------------ charon-nodad: a real charon with the bug
# The client is tests/ike/build-charon.sh's charon: Debian's 5.9.8 source
# without its one NODAD statement (strongSwan 5.5.1's behaviour for virtual
# IPv6 addresses).  On libipsec its virtual IP sits on its TUN device
# (kernel-libipsec sets install_virtual_ip_on to it, over any configured
# value); scenario.sh turns ARP on there (TUN_DAD) so that the kernel runs
# DAD on it, as on the veth with kernel ESP.

# vip_hex VIP: how strace -xx prints the address inside inet_pton(...)
vip_hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n' | sed 's/../\\x&/g'; }

# vip_sends STRACE TYPE VIP: charon's accepted sends of TYPE that name VIP
# (RTM_NEWROUTE: only table 220's, where VIP is the source)
vip_sends() {
	h=$(vip_hex "$3")
	grep -E "^[0-9]+ +(send|sendto|sendmsg)\([0-9]+<NETLINK:\[ROUTE:[0-9]+\]>, \[\{nlmsg_len=[0-9]+, nlmsg_type=$2," "$1" |
		grep -F "inet_pton(AF_INET6, \"$h\")" | grep -v -E '= -1 [A-Z]' |
		{ if [ "$2" = RTM_NEWROUTE ]; then grep -F 'rtm_table=0xdc'; else cat; fi; }
}
seq_of() { sed -n 's/.*nlmsg_seq=\([0-9]*\).*/\1/p' | head -n 1; }
# route_after_dad STRACE VIP: "yes" when the thread that sent table 220's
# RTM_NEWROUTE naming VIP had read, before it, the kernel's RTM_NEWADDR
# for VIP without IFA_F_TENTATIVE (on the shim's socket); else "no"
route_after_dad() {
	# through the environment: awk -v would turn the \x escapes into bytes
	A="inet_pton(AF_INET6, \"$(vip_hex "$2")\")" awk 'BEGIN { a = ENVIRON["A"] }
		$2 ~ /^(recvfrom|recvmsg|recv)\(/ && index($0, "nlmsg_type=RTM_NEWADDR,") &&
			index($0, a) && !index($0, "TENTATIVE") { ended[$1] = 1 }
		$2 ~ /^(send|sendto|sendmsg)\(/ && index($0, "nlmsg_type=RTM_NEWROUTE,") &&
			index($0, a) && index($0, "rtm_table=0xdc") {
			print(ended[$1] ? "yes" : "no"); exit
		}' "$1"
}
# vip_replies STRACE SEQ TYPE: the kernel's NLMSG_ERROR answers to SEQ
# (a TYPE request) as charon's thread read them, without MSG_PEEK
vip_replies() {
	grep -E "^[0-9]+ +(recvfrom|recvmsg|recv)\([0-9]+<NETLINK:\[ROUTE:" "$1" |
		grep -E "nlmsg_type=NLMSG_ERROR, [^}]*nlmsg_seq=$2, .*msg=\[?\{nlmsg_len=[0-9]+, nlmsg_type=$3," |
		grep -v MSG_PEEK
}

# charon_exe SCEN: the client charon's executable, as the kernel had it
charon_exe() {
	awk '/^process charon / {p = 1; next} p && /^exe: / {print $2; exit}' "$tmp/$1/rw/procs.txt" 2>/dev/null
}

check_built_charon() {
	e=$(charon_exe "$1") || true
	if [ -n "$e" ] && [ "$e" = "$nodad_prefix/libexec/ipsec/charon" ]; then
		pass "$1: the client is the built charon without NODAD ($e)"
	else
		fail "$1: the client is the built charon without NODAD" "client charon's exe: '$e'"
		return 1
	fi
}

# check_vip_dad SCEN: DAD runs on the device the virtual IP goes to
check_vip_dad() {
	f=$tmp/$1/vipdev
	dev=$(sed -n 's/^dev=//p' "$f" 2>/dev/null) || true
	if grep -q '^accept_dad=1$' "$f" 2>/dev/null && ! grep -q 'NOARP' "$f"; then
		pass "$1: DAD on for $dev, the device charon puts the virtual IP on (accept_dad=1, not NOARP$([ "$backend" = libipsec ] && echo ': ARP turned on for the TUN device'))"
	else
		fail "$1: DAD on for the virtual IP's device" "$(tr '\n' ' ' <"$f" 2>/dev/null)"
		return 1
	fi
}

# check_doctor SCEN affected|fixed|unaffected: dadshim-doctor's verdict on
# the client charon, run in its namespaces while the CHILD_SA was up
# (scenario.sh), with charon's log and the service output (the shim's log)
check_doctor() {
	j=$tmp/$1/rw/doctor.json
	drc=$(cat "$tmp/$1/rw/doctor.rc" 2>/dev/null || echo none)
	if ! jq -e . "$j" >/dev/null 2>&1; then
		fail "$1: dadshim-doctor says $2" "no JSON (exit $drc): $(head -c 300 "$j" 2>/dev/null) $(head -n 3 "$tmp/$1/rw/doctor.err" 2>/dev/null)"
		return 1
	fi
	needs=$(jq -r .strongswan.needs_dadshim "$j")
	lvl=$(jq -r '[.findings[] | select(.id == "affected") | .level] | first // "none"' "$j")
	seen=$(jq -r '.affected_seen | join("; ")' "$j")
	probs=$(jq -r '[.findings[] | select(.level == "problem") | .id] | join(" ")' "$j")
	case $2 in
	affected) [ "$drc" = 1 ] && [ "$needs" = true ] && [ "$lvl" = problem ] && [ -n "$seen" ] ;;
	fixed) [ "$drc" = 0 ] && [ "$needs" = true ] && [ "$lvl" = ok ] && [ -n "$seen" ] ;;
	*) [ "$drc" = 0 ] && [ "$needs" = false ] && [ "$lvl" = none ] && [ -z "$seen" ] ;;
	esac && {
		pass "$1: dadshim-doctor: $2 (exit $drc, needs_dadshim $needs, version $(jq -r .strongswan.version "$j"); seen: ${seen:-nothing})"
		return 0
	}
	fail "$1: dadshim-doctor says $2" "exit $drc, needs_dadshim $needs, affected: $lvl, problems: $probs
seen: $seen
findings: $(jq -c '[.findings[] | select(.level != "info") | [.level, .id, .message]]' "$j" | cut -c 1-1500)"
	return 1
}

run_nodad() {
mutant_env=${DADSHIM_IKE_MUTANT:-}
[ -z "$mutant_env" ] || note "${B}nodad: DADSHIM_IKE_MUTANT='$mutant_env' added to the shim's settings in nodad-shim and nodad-wait: these scenarios must fail"
tundad=
[ "$backend" = libipsec ] && tundad=1
nb_ok=0 ns_ok=0 nr_ok=0
boot nodad-base "CLIENT_PRELOAD=
GW_PRELOAD=
CLIENT_PREFIX=$nodad_prefix
TUN_DAD=$tundad" && join_traces nodad-base && nb_ok=1
boot nodad-shim "CLIENT_PRELOAD=$shim
GW_PRELOAD=
CLIENT_ENV='$mutant_env'
CLIENT_PREFIX=$nodad_prefix
TUN_DAD=$tundad" && join_traces nodad-shim && ns_ok=1
boot nodad-wait "CLIENT_PRELOAD=$shim
GW_PRELOAD=
CLIENT_ENV='DADSHIM_NODAD=0 $mutant_env'
CLIENT_PREFIX=$nodad_prefix
TUN_DAD=$tundad" && join_traces nodad-wait && nr_ok=1

# ---- without the shim: the bug itself
s=nodad-base
d=$tmp/$s
if [ "$nb_ok" = 1 ]; then
	bad=0
	vip=$(sed -n 's/.*installing new virtual IP \([0-9a-f:]*\).*/\1/p' "$d/rw/charon.log" | head -n 1) || true
	check_built_charon "$s" || bad=1
	check_vip_dad "$s" || bad=1
	a=$(vip_sends "$d/rw/strace.joined" RTM_NEWADDR "$vip" | head -n 1) || true
	r=$(vip_sends "$d/rw/strace.joined" RTM_NEWROUTE "$vip" | head -n 1) || true
	rs=$(echo "$r" | seq_of) || true
	ans=$(vip_replies "$d/rw/strace.joined" "${rs:-none}" RTM_NEWROUTE | head -n 1) || true
	if [ -n "$vip" ] && echo "$a" | grep -q 'ifa_flags=0,' && echo "$ans" | grep -q 'error=-EINVAL,'; then
		pass "$s: strace: RTM_NEWADDR $vip left charon without IFA_F_NODAD (ifa_flags=0), its source route (seq $rs) was answered -EINVAL"
	else
		fail "$s: strace: RTM_NEWADDR without NODAD, source route answered -EINVAL" "vip='$vip'
RTM_NEWADDR: $(echo "$a" | cut -c 1-400)
RTM_NEWROUTE: $(echo "$r" | cut -c 1-300)
answer: $(echo "$ans" | cut -c 1-300)"
		bad=1
	fi
	if [ "$backend" = uml ]; then
		want_log="unable to install source route for $vip"
	else
		want_log="installing route failed: ::/0 src $vip dev $(sed -n 's/^dev=//p' "$d/vipdev")"
	fi
	if [ -n "$vip" ] && grep -q -F "$want_log" "$d/rw/charon.log" &&
		grep -q 'received netlink error: Invalid argument (22)' "$d/rw/charon.log"; then
		extra=
		[ "$backend" = libipsec ] && extra="; with kernel-libipsec the CHILD_SA fails: $(grep -c 'failed to establish CHILD_SA' "$d/rw/charon.log") 'failed to establish CHILD_SA'"
		pass "$s: charon logs '$want_log' after 'received netlink error: Invalid argument (22)'$extra"
	else
		fail "$s: charon logs the failed source route" "wanted '$want_log'; charon: $(grep -E 'netlink error|route|CHILD_SA' "$d/rw/charon.log" | head -n 8)"
		bad=1
	fi
	check_doctor "$s" affected || bad=1
	t220=$(section "$d/rw/state-after-ping.txt" "ip -6 route table 220") || true
	if [ -n "$vip" ] && ! echo "$t220" | grep -q " src $vip "; then
		pass "$s: no route in table 220 with src $vip (table 220: $(echo "$t220" | tr '\n' ' ' | sed 's/ *$//;s/^$/empty/'))"
	else
		fail "$s: no route in table 220 with src = virtual IP" "$t220"
		bad=1
	fi
	got=$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\2/p' "$d/ping.txt" 2>/dev/null) || true
	if [ -n "$vip" ] && [ -f "$d/ping.txt" ] && ! grep -q '^rc=0$' "$d/ping.txt" && [ "${got:-0}" = 0 ]; then
		pass "$s: ping6 from $vip through the tunnel fails ($(grep -h -E 'transmitted|unreachable|^rc=' "$d/ping.txt" | head -n 2 | tr '\n' ' '))"
	else
		fail "$s: ping6 fails" "$(cat "$d/ping.txt" 2>/dev/null)"
		bad=1
	fi
	[ "$bad" = 0 ] || diagnose "$s"
else
	diagnose "$s"
fi

# ---- with the shim: defaults (NODAD), then DADSHIM_NODAD=0 (the wait in send)
for s in nodad-shim nodad-wait; do
	case $s in nodad-shim) sok=$ns_ok ;; *) sok=$nr_ok ;; esac
	d=$tmp/$s
	if [ "$sok" != 1 ]; then
		diagnose "$s"
		continue
	fi
	bad=0
	check_built_charon "$s" || bad=1
	check_vip_dad "$s" || bad=1
	check_tunnel "$s" || bad=1
	check_loaded "$s" rw || bad=1
	check_doctor "$s" fixed || bad=1
	vip=$(cat "$d/vip" 2>/dev/null || true)
	a=$(vip_sends "$d/rw/strace.joined" RTM_NEWADDR "$vip" | head -n 1) || true
	line=$(section "$d/rw/state-after-ping.txt" "ip -6 addr" | grep " inet6 $vip/128 " || true)
	r=$(vip_sends "$d/rw/strace.joined" RTM_NEWROUTE "$vip") || true
	rs=$(echo "$r" | seq_of) || true
	if [ "$s" = nodad-shim ]; then
		if [ -n "$vip" ] && echo "$a" | grep -q 'ifa_flags=IFA_F_NODAD,' && echo "$line" | grep -q ' nodad'; then
			pass "$s: strace: RTM_NEWADDR $vip left charon with IFA_F_NODAD; the kernel lists it nodad"
		else
			fail "$s: RTM_NEWADDR with IFA_F_NODAD, address nodad" "RTM_NEWADDR: $(echo "$a" | cut -c 1-400)
ip: $line"
			bad=1
		fi
		ans=$(vip_replies "$d/rw/strace.joined" "${rs:-none}" RTM_NEWROUTE) || true
		if [ -n "$rs" ] && [ "$(echo "$r" | grep -c "nlmsg_seq=$rs,")" = 1 ] &&
			[ "$(echo "$ans" | grep -c .)" = 1 ] && echo "$ans" | grep -q 'error=0,'; then
			pass "$s: strace: the source route (seq $rs) sent once and acked at once"
		else
			fail "$s: source route sent once and acked" "sends: $(echo "$r" | cut -c 1-200)
answers: $(echo "$ans" | cut -c 1-300)"
			bad=1
		fi
		if grep -q "^dadshim\[[0-9]*\]: charon: NODAD set on $vip/128 ifindex [0-9]*" "$d/rw/service.out"; then
			pass "$s: shim log: NODAD set on $vip/128"
		else
			fail "$s: shim log: NODAD set" "$(grep dadshim "$d/rw/service.out" | tr '\n' ' ')"
			bad=1
		fi
	else
		if [ -n "$vip" ] && echo "$a" | grep -q 'ifa_flags=0,' && [ -n "$line" ] && ! echo "$line" | grep -q ' nodad'; then
			pass "$s: strace: RTM_NEWADDR $vip left charon unchanged (ifa_flags=0); the kernel ran DAD on it (not nodad)"
		else
			fail "$s: RTM_NEWADDR unchanged, DAD run" "RTM_NEWADDR: $(echo "$a" | cut -c 1-400)
ip: $line"
			bad=1
		fi
		n=$(echo "$r" | grep -c "nlmsg_seq=$rs,") || true
		acks=$(vip_replies "$d/rw/strace.joined" "${rs:-none}" RTM_NEWROUTE | grep -c 'error=0,') || true
		after=$(route_after_dad "$d/rw/strace.joined" "$vip")
		if [ -n "$rs" ] && [ "$n" = 1 ] && [ "$after" = yes ] && [ "$acks" = 1 ]; then
			pass "$s: strace: the source route (seq $rs) sent once, after the kernel reported $vip no longer tentative, and acked (charon saw no error: its log has none)"
		else
			fail "$s: source route sent once after DAD, acked" "sends with seq $rs: $n; sent after DAD ended: ${after:-no}; acks read: $acks"
			bad=1
		fi
		if grep -q "^dadshim\[[0-9]*\]: charon: route with source $vip: DAD ended after [0-9]* ms; sent" "$d/rw/service.out"; then
			pass "$s: shim log: $(grep -o 'route with source [0-9a-f:]*: DAD ended after [0-9]* ms; sent' "$d/rw/service.out" | head -n 1)"
		else
			fail "$s: shim log: the route waited for DAD" "$(grep dadshim "$d/rw/service.out" | tr '\n' ' ')"
			bad=1
		fi
	fi
	[ "$bad" = 0 ] || diagnose "$s"
done
}

# dadfailed-base, dadfailed-shim: the client's link reflects its DAD probe,
# so the kernel marks the virtual IP dadfailed (on any kernel), with the
# built charon without the shim (no route, no traffic) and with it (NODAD:
# no probe, route, ping).
run_dadfailed() {
if [ "$backend" = libipsec ]; then
	note "${B}ike: dadfailed scenarios not run on kernel-libipsec: the virtual IP sits on charon's own TUN device, whose other end is charon, so no other host can answer its DAD probe, and this host's kernel has no act_mirred to reflect it (the uml backend runs them)"
	return 0
fi
df_b=0 df_s=0
boot dadfailed-base "CLIENT_PRELOAD=
GW_PRELOAD=
CLIENT_PREFIX=$nodad_prefix
DAD_REFLECT=1" && join_traces dadfailed-base && df_b=1
boot dadfailed-shim "CLIENT_PRELOAD=$shim
GW_PRELOAD=
CLIENT_PREFIX=$nodad_prefix
DAD_REFLECT=1" && join_traces dadfailed-shim && df_s=1
for s in dadfailed-base dadfailed-shim; do
	d=$tmp/$s
	case $s in *-base) sok=$df_b ;; *) sok=$df_s ;; esac
	if [ "$sok" != 1 ]; then
		diagnose "$s"
		continue
	fi
	bad=0
	check_built_charon "$s" || bad=1
	vip=$(sed -n 's/.*installing new virtual IP \([0-9a-f:]*\).*/\1/p' "$d/rw/charon.log" | head -n 1) || true
	line=$(section "$d/rw/state-after-ping.txt" "ip -6 addr" | grep " inet6 $vip/128 " || true)
	if grep -q '^reflect=ok$' "$d/reflect" 2>/dev/null; then
		pass "$s: the client's link reflects its DAD probes (tc flower: icmpv6 type 135, mirred to ingress; enhanced_dad=0)"
	else
		fail "$s: the client's link reflects its DAD probes" "$(cat "$d/reflect" 2>/dev/null || echo 'no reflect file')"
		bad=1
	fi
	if [ "$s" = dadfailed-base ]; then
		t220=$(section "$d/rw/state-after-ping.txt" "ip -6 route table 220") || true
		got=$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\2/p' "$d/ping.txt" 2>/dev/null) || true
		if [ -n "$vip" ] && echo "$line" | grep -q dadfailed && ! echo "$t220" | grep -q " src $vip " &&
			[ -f "$d/ping.txt" ] && ! grep -q '^rc=0$' "$d/ping.txt" && [ "${got:-0}" = 0 ]; then
			pass "$s: without the shim the kernel marks $vip dadfailed ($(echo "$line" | sed 's/^ *//')); table 220 has no route with src $vip; ping6 through the tunnel fails ($(grep -v '^$' "$d/ping.txt" | head -n 2 | tr '\n' ' '))"
		else
			fail "$s: dadfailed, no route, no traffic" "ip: $line
table 220: $t220
ping: $(cat "$d/ping.txt" 2>/dev/null)"
			bad=1
		fi
		if grep -q -F "unable to install source route for $vip" "$d/rw/charon.log"; then
			pass "$s: charon logs 'unable to install source route for $vip'"
		else
			fail "$s: charon logs the failed source route" "$(grep -E 'netlink error|route' "$d/rw/charon.log" | head -n 5)"
			bad=1
		fi
	else
		if [ -n "$vip" ] && echo "$line" | grep -q ' nodad' && ! echo "$line" | grep -q dadfailed &&
			grep -q "^dadshim\[[0-9]*\]: charon: NODAD set on $vip/128 " "$d/rw/service.out"; then
			pass "$s: with the shim $vip is added nodad: no probe to reflect, not dadfailed ($(echo "$line" | sed 's/^ *//'))"
		else
			fail "$s: the shim adds the virtual IP nodad" "ip: $line; shim: $(grep dadshim "$d/rw/service.out" | head -n 3 | tr '\n' ' ')"
			bad=1
		fi
		check_tunnel "$s" || bad=1
	fi
	[ "$bad" = 0 ] || diagnose "$s"
done
}

# run_backend: every scenario group on $backend, judged.
run_backend() {
	if want_group classic; then run_classic; else
		note "${B}ike: Debian charon's scenarios (base client both layout) not run: not in DADSHIM_IKE_SCENARIOS='$groups'"; fi
	if [ -n "$nodad_prefix" ] && want_group nodad; then run_nodad; elif want_group nodad; then
		note "${B}ike: charon-nodad scenarios not run: the build failed (above)"; else
		note "${B}ike: charon-nodad scenarios (nodad-base nodad-shim nodad-wait) not run: not in DADSHIM_IKE_SCENARIOS='$groups'"; fi
	if [ -n "$nodad_prefix" ] && want_group dadfailed; then run_dadfailed; elif want_group dadfailed; then
		note "${B}ike: dadfailed scenarios not run: the charon-nodad build failed (above)"; else
		note "${B}ike: dadfailed scenarios (dadfailed-base dadfailed-shim) not run: not in DADSHIM_IKE_SCENARIOS='$groups'"; fi
}

start=$(date +%s)
# The client with the bug, built once (tests/ike/build-charon.sh).
nodad_prefix=
if want_group nodad || want_group dadfailed; then
	b0=$(date +%s)
	if out=$(sh "$ike/build-charon.sh" 2>"$root/build-charon.err"); then
		nodad_prefix=$(echo "$out" | sed -n 's/^charon-nodad: //p')
	fi
	sed 's/^/INFO: /' "$root/build-charon.err" | while IFS= read -r l; do tap_note "$l"; done
	if [ -n "$nodad_prefix" ] && [ -x "$nodad_prefix/libexec/ipsec/charon" ]; then
		pass "charon-nodad: $(sed -n 's/^version=//p' "$nodad_prefix/../stamp") from Debian's source without '$(sed -n 's/^removed=//p' "$nodad_prefix/../stamp")', in $nodad_prefix ($(($(date +%s) - b0)) s now; $(cat "$nodad_prefix/../stamp.info"))"
	else
		nodad_prefix=
		fail "charon-nodad: built by tests/ike/build-charon.sh" "$(tail -n 20 "$root/build-charon.err")"
	fi
fi
ran=0
# uml first: its probe decides whether it runs at all.
for backend in uml libipsec; do
	if ! want "$backend"; then
		note "ike: backend $backend not run: not in DADSHIM_IKE_BACKENDS='$backends'"
		continue
	fi
	# every check's name starts with its backend: ONLY='libipsec/...' runs one
	if ! tap_may_select "$backend/"; then
		note "ike: backend $backend not run: none of its checks matches ONLY='$TAP_ONLY'"
		continue
	fi
	if [ "$backend" = uml ]; then
		if uml_probe; then
			tap_note "INFO: ike: backend uml runs (kernel ESP in a user-mode-linux guest; adds the XFRM byte-identity check): $why"
		else
			note "ike: backend uml not run: $why"
			note "ike: without it, the NETLINK_XFRM byte-identity check (kernel ESP) is not made; backend libipsec proves the tunnels"
			continue
		fi
	else
		tap_note "INFO: ike: backend libipsec runs (charon's kernel-libipsec: ESP in user space over TUN, on the host in namespaces *$nstag; needs no kernel ESP and no guest)"
	fi
	B="$backend/"
	tmp=$root/$backend
	mkdir -p "$tmp"
	b0=$(date +%s)
	f0=$TAP_FAILS
	run_backend
	B=
	ran=$((ran + 1))
	tap_note "INFO: ike: backend $backend took $(($(date +%s) - b0)) s, $((TAP_FAILS - f0)) failure(s)"
done
if [ "$ran" = 0 ]; then
	fail "ike: at least one backend ran" "none could: see the NOTE lines"
fi
tap_note "INFO: check-ike took $(($(date +%s) - start)) s"
[ "$TAP_FAILS" = 0 ]
