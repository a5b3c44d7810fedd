#!/bin/sh
# leftupdown of the road warrior in tests/ike: the field workaround that
# fails on DAD-enabled links.  When the CHILD_SA comes up it adds a second
# IPv6 address and, at once, a route with that address as source.
# Usage (ipsec.conf): leftupdown="/bin/sh updown.sh OUTDIR IFACE [SHIM]"
# Writes OUTDIR/updown.log (what ran, exit codes, output); asserts nothing.
#
# charon runs updown scripts with an environment of its own (PLUTO_* only),
# so the service's LD_PRELOAD does not reach them.  The "plain" pair is what
# users write; with SHIM given, a second pair runs `ip` through the dadshim
# launcher (scripts/dadshim, preloading SHIM), which is how a script gets
# the fix.
set -eu
out=$1
dev=$2
shim=${3:-}
log=$out/updown.log

{
	echo "verb=${PLUTO_VERB:-} pid=$$"
	echo "env LD_PRELOAD=${LD_PRELOAD:-<unset>} DADSHIM_LOG_TARGET=${DADSHIM_LOG_TARGET:-<unset>}"
} >>"$log"

case ${PLUTO_VERB:-} in
up-client-v6 | up-host-v6) ;;
*) exit 0 ;;
esac

pair() { # tag addr net [command prefix...]
	tag=$1 addr=$2 net=$3
	shift 3
	rc=0
	"$@" ip -6 addr add "$addr/128" dev "$dev" >>"$log" 2>&1 || rc=$?
	echo "${tag}_addr_add_rc=$rc" >>"$log"
	rc=0
	"$@" ip -6 route add "$net" dev "$dev" src "$addr" >>"$log" 2>&1 || rc=$?
	echo "${tag}_route_add_rc=$rc" >>"$log"
}

pair plain 2001:db8:eeee::2 2001:db8:2::/64 env
if [ -n "$shim" ]; then
	launcher=$(cd "$(dirname "$0")/../../scripts" && pwd)/dadshim
	pair shim 2001:db8:eeee::3 2001:db8:3::/64 "$launcher" --library "$shim" \
		--log stderr --log-level 2
fi
echo "updown_done" >>"$log"
# Never fail the CHILD_SA because of the experiment.
exit 0
