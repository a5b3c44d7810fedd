#!/bin/sh
# One IKEv2 scenario, inside the user-mode-linux guest (run by uml-init.sh;
# kernel ESP) or on the host (run by tests/ike/run.sh; ESP in charon's user
# space with kernel-libipsec over a TUN device).  Collects evidence only;
# tests/ike/run.sh judges it on the host.
# Usage: scenario.sh OUTDIR   (OUTDIR/params, shell assignments:
#   BACKEND=uml|libipsec        which ESP (default uml: kernel ESP);
#   NS_TAG                      suffix of the namespace names (unique per
#                               run on the host, where other runs may be);
#   CLIENT_PRELOAD, GW_PRELOAD  library preloaded into that side's service
#                               (empty: that side runs without it);
#   CLIENT_ENV                  more VAR=VALUE words for the client's
#                               service's environment (shim settings);
#   CLIENT_PREFIX               run the client from this strongSwan prefix
#                               (tests/ike/build-charon.sh: 5.9.8 without
#                               the NODAD statement) instead of Debian's;
#   TUN_DAD=1                   (libipsec) DAD on the TUN device that holds
#                               the virtual IP: ARP on (it is NOARP), then
#                               the client connects;
#   LABEL_FIRST=1               pre-create an address label for the VIP;
#   DAD_REFLECT=1               (uml) the client's link reflects its DAD
#                               probes (tc mirred, enhanced_dad off): DAD
#                               fails, the address is dadfailed;
#   LAYOUT_BIN                  run this charon551 afterwards, under strace)
set -eu
out=$1
here=$(cd "$(dirname "$0")" && pwd)
CLIENT_PRELOAD=
GW_PRELOAD=
LAYOUT_BIN=
LABEL_FIRST=
DAD_REFLECT=
CLIENT_ENV=
CLIENT_PREFIX=
TUN_DAD=
BACKEND=uml
NS_TAG=
# shellcheck source=/dev/null
. "$out/params"

gw=ikegw$NS_TAG
rw=ikerw$NS_TAG
gwdev=ikegw0
rwdev=ikerw0
pool=2001:db8:ffff::/112
behind=2001:db8:1::1
psk=dadshim-ike-test-psk

log() { echo "scenario: $(cut -d' ' -f1 /proc/uptime) $*"; }

# --- the two hosts ---------------------------------------------------------
ip netns add "$gw"
ip netns add "$rw"
ip link add "$gwdev" netns "$gw" type veth peer name "$rwdev" netns "$rw"
ip -n "$gw" link set lo up
ip -n "$rw" link set lo up
# DAD on for the client's interface (the bug needs it), explicitly.
ip netns exec "$rw" sysctl -q -w "net.ipv6.conf.$rwdev.accept_dad=1" \
	"net.ipv6.conf.$rwdev.dad_transmits=1"
ip netns exec "$rw" sysctl -n "net.ipv6.conf.$rwdev.accept_dad" >"$out/accept_dad"
ip -n "$gw" addr add 192.0.2.1/24 dev "$gwdev"
ip -n "$rw" addr add 192.0.2.2/24 dev "$rwdev"
ip -n "$gw" link set "$gwdev" up
ip -n "$rw" link set "$rwdev" up
# The host behind the gateway, the target of the ping through the tunnel.
# (The host kernel has no dummy driver: there it is the gateway's loopback.)
if [ "$BACKEND" = libipsec ]; then
	ip -n "$gw" addr add "$behind/64" dev lo
else
	ip -n "$gw" link add ikebehind type dummy
	ip -n "$gw" addr add "$behind/64" dev ikebehind
	ip -n "$gw" link set ikebehind up
fi
if [ -n "$LABEL_FIRST" ]; then
	# An address label for the VIP already there makes 5.9.8 fall back to
	# its other form of RTM_NEWADDR (IFA_CACHEINFO, the form 5.5.1 always
	# uses): the reference the layout of build/tests/clients/charon551 is checked against.
	ip -n "$rw" addrlabel add prefix 2001:db8:ffff::1/128 label 99
fi

if [ -n "$DAD_REFLECT" ]; then
	# A link that reflects the probe, as some do: the kernel takes its own
	# neighbour solicitation for another host's (no nonce without
	# enhanced_dad) and marks the address dadfailed.
	# The kernel adds a nonce if "all" or the device asks for one: both off.
	ip netns exec "$rw" sysctl -q -w net.ipv6.conf.all.enhanced_dad=0 "net.ipv6.conf.$rwdev.enhanced_dad=0"
	# Only the virtual IP's probe: the link's own fe80:: ends its DAD first.
	i=0
	while ip -n "$rw" -6 addr show dev "$rwdev" | grep -q tentative && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if tc -n "$rw" qdisc add dev "$rwdev" clsact &&
		tc -n "$rw" filter add dev "$rwdev" egress protocol ipv6 flower ip_proto icmpv6 type 135 \
			action mirred ingress redirect dev "$rwdev"; then
		echo "reflect=ok" >"$out/reflect"
	else
		echo "reflect=failed" >"$out/reflect"
	fi
fi

mkdir -p "$out/gw" "$out/rw"
# kernel-libipsec: ESP in charon over a TUN device (virtual IPs and routes
# still go through kernel-netlink, as with kernel ESP).
libipsec=
[ "$BACKEND" = libipsec ] && libipsec='
		kernel-libipsec {
			load = yes
		}'
for side in gw rw; do
	plugins="	load_modular = yes
	plugins {
		include /etc/strongswan.d/charon/*.conf$libipsec
	}"
	if [ "$side" = rw ] && [ -n "$CLIENT_PREFIX" ]; then
		# The built charon has only these plugins (build-charon.sh);
		# kernel-libipsec first: the first KERNEL_IPSEC loaded is used.
		k=
		[ "$BACKEND" = libipsec ] && k=kernel-libipsec
		plugins="	load = random nonce aes sha1 sha2 hmac gmp kdf $k kernel-netlink socket-default stroke updown"
	fi
	cat >"$out/$side/strongswan.conf" <<EOF
charon {
$plugins
	filelog {
		charon {
			path = $out/$side/charon.log
			time_format = %s
			flush_line = yes
			default = 1
			knl = 2
			ike_name = yes
		}
	}
}
include /etc/strongswan.d/*.conf
EOF
	echo "@rw @gw : PSK \"$psk\"" >"$out/$side/ipsec.secrets"
done
cat >"$out/gw/ipsec.conf" <<EOF
conn rw
	keyexchange=ikev2
	left=192.0.2.1
	leftid=@gw
	leftauth=psk
	leftsubnet=::/0
	right=%any
	rightid=@rw
	rightauth=psk
	rightsourceip=$pool
	ike=aes128-sha256-modp2048!
	esp=aes128-sha256!
	auto=add
EOF
# With TUN_DAD the client connects only once DAD is on for its TUN device.
rwauto=start
[ -n "$TUN_DAD" ] && rwauto=add
cat >"$out/rw/ipsec.conf" <<EOF
conn home
	keyexchange=ikev2
	left=192.0.2.2
	leftid=@rw
	leftauth=psk
	leftsourceip=%config6
	leftupdown="/bin/sh $here/updown.sh $out/rw $rwdev $CLIENT_PRELOAD"
	right=192.0.2.1
	rightid=@gw
	rightauth=psk
	rightsubnet=::/0
	ike=aes128-sha256-modp2048!
	esp=aes128-sha256!
	auto=$rwauto
EOF

# Start one side as strongswan-starter.service does (ExecStart=ipsec start
# --nofork), in its own mount namespace with a private /run and this side's
# configuration bound over /etc.  PRELOAD goes into the environment of the
# whole service, as the project's systemd drop-in does, but not into strace.
# With PREFIX (a private strongSwan build) its etc/ and run/ take the place
# of /etc and /run.
start_side() {
	side=$1 ns=$2 preload=$3 extra=$4 prefix=$5
	d=$out/$side
	set --
	[ -n "$preload" ] && set -- -E "LD_PRELOAD=$preload" \
		-E DADSHIM_LOG_TARGET=stderr -E DADSHIM_LOG=2
	for e in $extra; do set -- "$@" -E "$e"; done
	# (strace -E VAR=VALUE: the service's environment; else a no-op env)
	[ $# -gt 0 ] || set -- env
	etc=/etc run=/run sbin=/usr/sbin
	[ -n "$prefix" ] && etc=$prefix/etc run=$prefix/run sbin=$prefix/sbin
	# shellcheck disable=SC2016 # expanded by the inner shell
	ip netns exec "$ns" unshare -m sh -c '
		d=$1 etc=$2 run=$3 sbin=$4; shift 4
		mount -t tmpfs ikerun /run
		[ "$run" = /run ] || mount -t tmpfs ikerun "$run"
		for f in ipsec.conf ipsec.secrets strongswan.conf; do
			mount --bind "$d/$f" "$etc/$f"
		done
		exec strace -f -qq -yy -xx -s 65535 -o "$d/strace.txt" \
			-e trace=sendto,sendmsg,recvfrom,recvmsg -e signal=none \
			"$@" "$sbin/ipsec" start --nofork
	' sh "$d" "$etc" "$run" "$sbin" "$@" >"$d/service.out" 2>&1 &
	echo $! >"$d/service.pid"
}
ipsec_of() { # side: the ipsec command of that side
	if [ "$1" = rw ] && [ -n "$CLIENT_PREFIX" ]; then
		echo "$CLIENT_PREFIX/sbin/ipsec"
	else
		echo ipsec
	fi
}

# pid of the charon in namespace $1
charon_pid() {
	for p in $(ip netns pids "$1"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = charon ] && { echo "$p"; return 0; }
	done
	return 1
}

# wait_for SECONDS CMD...: poll until CMD succeeds
wait_for() {
	n=$(($1 * 5)); shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}

in_ns() { # ns cmd... : run cmd in charon's mount+net namespaces
	p=$(charon_pid "$1") || return 1
	shift
	nsenter -t "$p" -m -n "$@"
}

stop_side() { # side ns
	p=$(charon_pid "$2") || p=
	in_ns "$2" "$(ipsec_of "$1")" stop >/dev/null 2>&1 || true
	wait_for 10 sh -c "! kill -0 $(cat "$out/$1/service.pid") 2>/dev/null" ||
		log "$1 did not stop; killing"
	for q in $(ip netns pids "$2"); do kill -9 "$q" 2>/dev/null || true; done
	[ -n "$p" ] && log "$1 charon $p stopped"
}

snapshot() { # tag: kernel state of both hosts, and charon's view of its SAs
	for side in gw rw; do
		ns=$gw
		[ "$side" = rw ] && ns=$rw
		{
			echo "### ip -6 addr"; ip -n "$ns" -6 addr show
			echo "### ip -6 route table 220"; ip -n "$ns" -6 route show table 220
			echo "### ip -6 route"; ip -n "$ns" -6 route show
			echo "### ip -6 rule"; ip -n "$ns" -6 rule show
			echo "### ip xfrm state"; ip -n "$ns" -s xfrm state
			echo "### ip xfrm policy"; ip -n "$ns" xfrm policy
			# The byte and packet counters of the CHILD_SA as charon has
			# them (with kernel-libipsec, the only ones there are).
			echo "### ipsec statusall"; in_ns "$ns" "$(ipsec_of "$side")" statusall
		} >"$out/$side/state-$1.txt" 2>&1
	done
}

t0=$(cut -d' ' -f1 /proc/uptime)
log "start gateway (preload: ${GW_PRELOAD:-none})"
start_side gw "$gw" "$GW_PRELOAD" "" ""
wait_for 20 grep -q "added configuration .rw." "$out/gw/charon.log" ||
	log "gateway not ready"
# The client's conn is auto=start: it connects as soon as it is up.
log "start client (preload: ${CLIENT_PRELOAD:-none})"
start_side rw "$rw" "$CLIENT_PRELOAD" "$CLIENT_ENV" "$CLIENT_PREFIX"
# The device the virtual IP goes to: the veth (kernel ESP), or with
# kernel-libipsec its TUN device (it sets install_virtual_ip_on to it, over
# any configured value).  TUN_DAD: that device is NOARP, where the kernel
# runs no DAD; ARP on makes the kernel run DAD there, as on the veth.
vipdev=$rwdev
if [ "$BACKEND" = libipsec ]; then
	wait_for 20 grep -q 'created TUN device' "$out/rw/charon.log" || log "no TUN device"
	vipdev=$(sed -n 's/.*created TUN device: \([^ ]*\).*/\1/p' "$out/rw/charon.log" | head -n 1)
fi
if [ -n "$TUN_DAD" ]; then
	ip -n "$rw" link set dev "$vipdev" arp on
	ip netns exec "$rw" sysctl -q -w "net.ipv6.conf.$vipdev.accept_dad=1" \
		"net.ipv6.conf.$vipdev.dad_transmits=1"
	wait_for 20 in_ns "$rw" "$(ipsec_of rw)" statusall
	log "client: DAD on for $vipdev; ipsec up home"
	in_ns "$rw" "$(ipsec_of rw)" up home >"$out/rw/up.out" 2>&1 &
fi
{
	echo "dev=$vipdev"
	echo "accept_dad=$(ip netns exec "$rw" sysctl -n "net.ipv6.conf.$vipdev.accept_dad" 2>&1)"
	ip -n "$rw" -d link show dev "$vipdev" | head -n 1
} >"$out/vipdev"
# (A client that meets the race without the shim fails the CHILD_SA with
# kernel-libipsec, whose policy needs the route.)
if wait_for 40 grep -q -E 'CHILD_SA home\{[0-9]*\} established|failed to establish CHILD_SA' "$out/rw/charon.log" &&
	grep -q 'CHILD_SA home{[0-9]*} established' "$out/rw/charon.log"; then
	log "CHILD_SA established"
	echo established >"$out/child_sa"
else
	log "no CHILD_SA: $(grep -m 1 'failed to establish CHILD_SA' "$out/rw/charon.log" || echo 'none within 40 s')"
fi
# Which processes of each service really loaded the preloaded library, and
# where charon's stderr (the shim's log in these tests) goes.
record_procs() { # side ns preload
	for p in $(ip netns pids "$2"); do
		c=$(cat "/proc/$p/comm" 2>/dev/null) || continue
		case $c in charon | starter | ipsec) ;; *) continue ;; esac
		{
			echo "process $c $p"
			echo "exe: $(readlink "/proc/$p/exe")"
			echo "maps: $(grep -c -F "${3:-/nonexistent}" "/proc/$p/maps" || true)"
			tr '\0' '\n' <"/proc/$p/environ" | grep -E '^(LD_PRELOAD|DADSHIM_)' || true
			echo "stderr: $(readlink "/proc/$p/fd/2")"
		} >>"$out/$1/procs.txt" 2>&1
	done
}
record_procs rw "$rw" "$CLIENT_PRELOAD"
record_procs gw "$gw" "$GW_PRELOAD"
# The updown script runs right after the CHILD_SA is up; let it finish.
wait_for 10 grep -q updown_done "$out/rw/updown.log" || true
sleep 1
snapshot before-ping
# dadshim-doctor's view of the client charon, from its namespaces (judged
# by run.sh); charon's log and its service output (the shim's log) given.
if p=$(charon_pid "$rw"); then
	dpath=$PATH
	[ -n "$CLIENT_PREFIX" ] && dpath=$CLIENT_PREFIX/sbin:$PATH
	drc=0
	in_ns "$rw" env PATH="$dpath" sh "$here/../../scripts/dadshim-doctor" --json --pid "$p" \
		--log "$out/rw/charon.log" --log "$out/rw/service.out" \
		>"$out/rw/doctor.json" 2>"$out/rw/doctor.err" || drc=$?
	echo "$drc" >"$out/rw/doctor.rc"
fi
vip=$(ip -n "$rw" -6 -o addr show | sed -n 's|.* inet6 \(2001:db8:ffff::[0-9a-f]*\)/128 .*|\1|p' | head -n 1)
echo "$vip" >"$out/vip"
if [ -n "$vip" ]; then
	rc=0
	ip netns exec "$rw" ping -6 -n -c 3 -i 0.5 -W 3 -I "$vip" "$behind" \
		>"$out/ping.txt" 2>&1 || rc=$?
	echo "rc=$rc" >>"$out/ping.txt"
fi
snapshot after-ping
in_ns "$rw" "$(ipsec_of rw)" statusall >"$out/rw/statusall.txt" 2>&1 || true
in_ns "$gw" ipsec statusall >"$out/gw/statusall.txt" 2>&1 || true
# Client first, then the gateway: keeps the shutdown traffic in one order.
stop_side rw "$rw"
stop_side gw "$gw"
t1=$(cut -d' ' -f1 /proc/uptime)
echo "$t0 $t1" >"$out/ike-times"

# --- build/tests/clients/charon551 against the same kernel (its layout vs the real one) --
if [ -n "$LAYOUT_BIN" ]; then
	ns=ikel$NS_TAG
	ip netns add "$ns"
	ip -n "$ns" link add ikel0 type veth peer name ikel1
	ip -n "$ns" link set lo up
	ip -n "$ns" link set ikel1 up
	ip -n "$ns" link set ikel0 up
	rc=0
	ip netns exec "$ns" strace -f -qq -yy -xx -s 65535 -o "$out/layout-strace.txt" \
		-e trace=sendto,sendmsg,recvfrom,recvmsg -e signal=none \
		"$LAYOUT_BIN" --dev ikel0 --vip 2001:db8:ffff::1 --dst ::/0 --table 220 \
		>"$out/layout.out" 2>&1 || rc=$?
	echo "rc=$rc" >>"$out/layout.out"
	ip -n "$ns" -6 addr show dev ikel0 >>"$out/layout.out" 2>&1
	ip netns del "$ns"
fi
ip netns del "$rw"
ip netns del "$gw"
log finished
