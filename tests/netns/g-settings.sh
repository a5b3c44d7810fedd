#!/bin/sh
# Scenario g: the settings and the log as a sysadmin meets them. An invalid
# value is reported once, naming the variable, the bad value and the default
# used, and the process carries on with that default (the kernel is the
# judge of what was applied). DADSHIM_NODAD=0 is honoured. With the default
# target the line reaches /dev/log with ident dadshim and facility daemon.
set -eu
# shellcheck source=tests/lib/netns.sh
. tests/lib/netns.sh

require_root g-settings
require_file g-settings "$SHIM"
setup_pair || { fail g-settings "namespace setup failed"; exit 1; }

# nodad_in ADDR: the kernel lists ADDR on IF1 with the nodad flag
nodad_in() {
	ip -n "$NS1" -6 addr show dev "$IF1" | grep "inet6 $1/" | grep -q nodad
}

G1=2001:db8:61::1
case_begin "g1: invalid settings are named with the default used, once each; the process carries on"
out=$T_TMP/g1.out
rc=0
with_shim DADSHIM_WAIT_MS=abc DADSHIM_NODAD=yes DADSHIM_LOG_TARGET=stderr \
	ip -6 addr add "$G1/128" dev "$IF1" >"$out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || err "ip exited $rc"
[ "$(shim_log "$out" | grep -c 'DADSHIM_WAIT_MS="abc" is invalid (expected a whole number of milliseconds from 0 to 600000); using the default 5000$')" -eq 1 ] ||
	err "DADSHIM_WAIT_MS not reported exactly once with its default"
[ "$(shim_log "$out" | grep -c 'DADSHIM_NODAD="yes" is invalid (expected 1 or 0); using the default 1$')" -eq 1 ] ||
	err "DADSHIM_NODAD not reported exactly once with its default"
shim_log "$out" | grep -q "^dadshim\[[0-9]*\]: ip: " || err "no program name in the lines"
nodad_in "$G1" || err "the default (NODAD on) was not applied: no nodad in the kernel"
case_end "$out" || :

G2=2001:db8:61::2
case_begin "g2: DADSHIM_NODAD=0 leaves the request alone: the kernel runs DAD"
out=$T_TMP/g2.out
rc=0
with_shim DADSHIM_NODAD=0 ip -6 addr add "$G2/128" dev "$IF1" >"$out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || err "ip exited $rc"
nodad_in "$G2" && err "the kernel got NODAD although DADSHIM_NODAD=0"
[ -z "$(shim_log "$out")" ] || err "the shim logged an action it did not take"
case_end "$out" || :

# g4/g5: values that overflow 64 bits and wrap below the maximum (2^64 to
# 0, 2^64+5 to 5) are invalid like any other, and the default applies.
G4=2001:db8:61::4
case_begin "g4: DADSHIM_NODAD=2^64 (wraps to 0) is named invalid with the default 1 used: the kernel gets NODAD"
out=$T_TMP/g4.out
rc=0
with_shim DADSHIM_NODAD=18446744073709551616 ip -6 addr add "$G4/128" dev "$IF1" >"$out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || err "ip exited $rc"
[ "$(shim_log "$out" | grep -c 'DADSHIM_NODAD="18446744073709551616" is invalid (expected 1 or 0); using the default 1$')" -eq 1 ] ||
	err "DADSHIM_NODAD=2^64 not reported exactly once with its default"
nodad_in "$G4" || err "the default (NODAD on) was not applied: no nodad in the kernel"
case_end "$out" || :

# The default bound (5000 ms) outlasts DAD on the veth (about 1 s); the
# wrapped value (5 ms) would not: the route would come back EINVAL.
G5=2001:db8:61::5
case_begin "g5: DADSHIM_WAIT_MS=2^64+5 (wraps to 5) is named invalid with the default 5000 used: a route with a tentative source is installed after DAD"
out=$T_TMP/g5.out
rc=0
ip -n "$NS1" -6 addr add "$G5/128" dev "$IF1" || err "ip addr add failed"
is_tentative "$NS1" "$IF1" "$G5" || err "$G5 not tentative before the route"
with_shim DADSHIM_WAIT_MS=18446744073709551621 ip -6 route add ::/0 dev "$IF1" src "$G5" table 221 \
	>"$out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || err "ip exited $rc"
[ "$(shim_log "$out" | grep -c 'DADSHIM_WAIT_MS="18446744073709551621" is invalid (expected a whole number of milliseconds from 0 to 600000); using the default 5000$')" -eq 1 ] ||
	err "DADSHIM_WAIT_MS=2^64+5 not reported exactly once with its default"
route_in_table "$NS1" 221 | grep -q "^default dev $IF1 .*src $G5 " ||
	err "table 221 has no default route with src $G5: the wait did not last until DAD ended"
case_end "$out" || :

# g3: the default target. A private mount namespace with a tmpfs on /dev and
# a listener on /dev/log stands in for the system logger.
G3=2001:db8:61::3
case_begin "g3: default target: the line reaches /dev/log as <daemon.notice> with ident dadshim"
got=$T_TMP/g3.got
rc=0
timeout "$GUARD" ip netns exec "$NS1" unshare -m sh -c '
	set -e
	mount --make-rprivate / 2>/dev/null || :
	mount -t tmpfs none /dev
	mknod -m 666 /dev/null c 1 3
	python3 -c "
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(\"/dev/log\")
s.settimeout(20)
print(\"ready\", flush=True)
sys.stdout.write(s.recv(4096).decode(\"ascii\", \"replace\") + \"\\n\")
" >"$1" &
	i=0
	until grep -q ready "$1" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 200 ] || exit 3; sleep 0.05
	done
	env LD_PRELOAD="$2" ip -6 addr add "$3/128" dev "$4"
	wait
' g3 "$got" "$SHIM" "$G3" "$IF1" >"$T_TMP/g3.out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || err "the run exited $rc"
# <29> = facility daemon (3) * 8 + severity notice (5), RFC 3164 header
grep -Eq "^<29>[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} dadshim\[[0-9]+\]: ip: NODAD set on $G3/128 ifindex [0-9]+$" "$got" ||
	err "no daemon.notice line from ident dadshim on /dev/log"
nodad_in "$G3" || err "no nodad in the kernel"
case_end "$got" "$T_TMP/g3.out" || :
finish
