#!/bin/sh
# Reliability II: concurrency stress, faults during a DAD wait, descriptor
# lifecycle. Builds tests/reliability/stress.c, tests/reliability/faults.c and tests/reliability/lifecycle.c
# (plus TSan and ASan builds with the shim's sources compiled in, whose
# wrappers then interpose libc as the preloaded library does) and runs them
# in fresh namespace pairs joined by a veth with DAD on. Every assertion is
# on what the kernel did (`ip`, strace) or what the process observed
# (replies, return values, errno, /proc/self/fd); the shim's log is only
# counted where the issue asks for it (retries). Run from anywhere, as root.
set -eu
cd "$(dirname "$0")/../.."
# shellcheck source=tests/lib/netns.sh
. tests/lib/netns.sh

require_root reliability
require_file reliability "$SHIM"

# The programs, built by make (make check-reliability) with the project's
# flags: the TSan and ASan builds have the shim's sources compiled in, and
# libdadshim-hide.so is the shim built with -DDADSHIM_TEST_HIDE (its libc
# seems to lack the symbols named in DADSHIM_TEST_HIDE, so its stand-ins,
# the system calls, run).
B=$(pwd)/build/tests/reliability
PROGS="stress faults lifecycle cancelleak closehook.so heldrx libdadshim-hide.so stress_tsan faults_asan"
missing=""
for p in $PROGS; do
	[ -e "$B/$p" ] || missing="$missing $B/$p"
done
if [ -n "$missing" ]; then
	fail "programs built" "missing:$missing (run make check-reliability, or make test-programs)"
	exit 1
fi
pass "programs built: stress, faults, lifecycle, cancelleak, closehook, heldrx (+ TSan, ASan and symbol-hiding builds of the shim)"

# kv FILE KEY: the value of KEY=VALUE in the program's summary line
kv() {
	sed -n "s/^.* $2=\([^ ]*\).*$/\1/p" "$1" | head -n 1
}

# expect FILE KEY VALUE: one err per mismatch
expect() {
	_v=$(kv "$1" "$2")
	[ "$_v" = "$3" ] || err "$2=${_v:-missing}, expected $3"
}

# ran RC: the program finished by itself
ran() {
	[ "$1" -ne 124 ] || err "killed by the timeout guard (hang)"
	[ "$1" -lt 128 ] || err "killed by signal $(($1 - 128))"
}

in_table() {
	ip -n "$NS1" -6 route show table "$1" | grep -q "^$2 "
}

########################################################################
# Concurrency
########################################################################
THREADS=16

# final_state T: what each stress thread left behind, seen by `ip`
final_state() {
	_a=$(ip -n "$NS1" -6 addr show dev "$IF1" | grep -c 'inet6 fd00:a1:') || :
	[ "$_a" -eq "$1" ] || err "$_a home addresses in the kernel, not $1"
	_a=$(ip -n "$NS1" -6 addr show dev "$IF1" | grep -Ec 'inet6 fd00:a[23]:') || :
	[ "$_a" -eq 0 ] || err "$_a addresses that were deleted are still there"
	_r=$(ip -n "$NS1" -4 route show table all | grep -Ec "^192\.0\.2\.250 dev $IF1 table 1[0-9]{3} ") || :
	[ "$_r" -eq "$1" ] || err "$_r final IPv4 routes, not $1"
	_r=$(ip -n "$NS1" -4 route show table all | grep -c '^192\.0\.2\.') || :
	[ "$_r" -eq "$1" ] || err "$_r IPv4 routes in 192.0.2.0/24, not $1"
	_r=$(ip -n "$NS1" -6 route show table all |
		grep -Ec "^fd00:b9(:0:[0-9a-f]+)?::/64 dev $IF1 table 2[0-9]{3} proto static src fd00:a1:") || :
	[ "$_r" -eq "$1" ] || err "$_r final IPv6 source routes, not $1"
	_r=$(ip -n "$NS1" -6 route show table all | grep -Ec '^fd00:b[23]:') || :
	[ "$_r" -eq 0 ] || err "$_r routes that were deleted are still there"
}

# stress_checks OUT RC MIN_REQUESTS
stress_checks() {
	ran "$2"
	[ "$2" -eq 0 ] || err "stress exited $2 (an invariant broke)"
	_n=$(kv "$1" requests)
	[ "${_n:-0}" -ge "$3" ] || err "only ${_n:-0} requests"
	for _k in unanswered unknown duplicated mismatched lost truncated recv_errors failed; do
		expect "$1" "$_k" 0
	done
	_n=$(kv "$1" answered)
	[ "$_n" = "$(kv "$1" requests)" ] || err "answered=$_n of $(kv "$1" requests)"
}

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "stress 0: the race is real: without the shim, tentative-source routes get EINVAL"
out=$T_TMP/s0.out
rc=0
GUARD=120 in_ns "$B/stress" "$IF1" "$THREADS" 0 1 >"$out" 2>&1 || rc=$?
stress_checks "$out" "$rc" 1
n=$(kv "$out" tentative_routes)
[ "${n:-0}" -gt 0 ] || err "no tentative-source routes were sent"
expect "$out" tentative_einval "$n"
case_end "$out" || :
RACE_REAL=$C_ERR

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "stress 1: $THREADS threads, own and shared sockets, >= 10000 requests, DADSHIM_NODAD=0: concurrent retries for blocking readers, the kernel's EINVAL for non-blocking ones, every seq answered once"
out=$T_TMP/s1.out
log=$T_TMP/s1.log
rc=0
[ -z "$RACE_REAL" ] || err "the race was not shown real in this run"
GUARD=300 with_shim DADSHIM_NODAD=0 DADSHIM_LOG=2 "$B/stress" "$IF1" "$THREADS" 100 3 \
	>"$out" 2>"$log" || rc=$?
stress_checks "$out" "$rc" 10000
# The threads with a socket of their own read it blocking: their refused
# routes are retried.  The others share a socket and read it with
# MSG_DONTWAIT: they get the kernel's EINVAL, as without the shim.
n=$(kv "$out" tentative_routes)
expect "$out" tentative_ok "$((${n:-0} / 2))"
expect "$out" tentative_einval "$((${n:-0} / 2))"
expect "$out" tentative_other 0
retries=$(grep -Ec 'got EINVAL with a tentative source, DAD ended after [0-9]+ ms, retry: ok$' "$log") || :
[ "$retries" -ge 2 ] || err "$retries retries in the shim's log"
ov=$(kv "$out" max_overlap)
[ "${ov:-0}" -ge 2 ] || err "tentative-source routes never overlapped (max_overlap=$ov)"
final_state "$THREADS"
note "$(cat "$out")"
note "retries logged: $retries"
case_end "$out" "$log" || :

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "stress 2: $THREADS threads, >= 10000 requests, default settings (NODAD set)"
out=$T_TMP/s2.out
log=$T_TMP/s2.log
rc=0
GUARD=300 with_shim "$B/stress" "$IF1" "$THREADS" 100 1 >"$out" 2>"$log" || rc=$?
stress_checks "$out" "$rc" 10000
expect "$out" tentative_ok "$(kv "$out" tentative_routes)"
final_state "$THREADS"
note "$(cat "$out")"
case_end "$out" "$log" || :

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "stress 3: ThreadSanitizer build with the shim compiled in, DADSHIM_NODAD=0: no report"
out=$T_TMP/s3.out
log=$T_TMP/s3.log
rc=0
[ -z "$RACE_REAL" ] || err "the race was not shown real in this run"
GUARD=300 in_ns env DADSHIM_NODAD=0 DADSHIM_LOG_TARGET=stderr \
	TSAN_OPTIONS="halt_on_error=0 exitcode=66" \
	"$B/stress_tsan" "$IF1" "$THREADS" 20 1 >"$out" 2>"$log" || rc=$?
[ "$rc" -ne 66 ] || err "ThreadSanitizer reported"
stress_checks "$out" "$rc" 2000
! grep -q 'ThreadSanitizer' "$log" || err "ThreadSanitizer output on stderr"
n=$(kv "$out" tentative_routes)
expect "$out" tentative_ok "$((${n:-0} / 2))"
expect "$out" tentative_einval "$((${n:-0} / 2))"
retries=$(grep -Ec 'DAD ended after [0-9]+ ms, retry: ok$' "$log") || :
[ "$retries" -ge 1 ] || err "no retry happened under TSan"
note "$(cat "$out")"
note "retries logged: $retries"
case_end "$out" "$log" || :

########################################################################
# Faults during a wait (all with DADSHIM_NODAD=0: the address is tentative)
########################################################################
FA=fd00:fa::/64

# fault NAME PROG CASE ADDR [IF2] [VAR=VAL]...: run faults under the shim
# in NS1; sets out, log, rc
fault() {
	_n=$1
	_p=$2
	_c=$3
	_ad=$4
	shift 4
	_if2=""
	if [ $# -gt 0 ] && [ "${1#*=}" = "$1" ]; then
		_if2=$1
		shift
	fi
	out=$T_TMP/$_n.out
	log=$T_TMP/$_n.log
	rc=0
	# shellcheck disable=SC2086 # _if2 is one word or nothing
	with_shim DADSHIM_NODAD=0 "$@" "$_p" "$_c" "$IF1" "$_ad" $_if2 \
		>"$out" 2>"$log" || rc=$?
	ran "$rc"
	[ "$rc" -eq 0 ] || err "faults exited $rc"
}

# unshimmed NAME CASE ADDR: the same program without the shim
unshimmed() {
	out=$T_TMP/$1.out
	rc=0
	in_ns "$B/faults" "$2" "$IF1" "$3" >"$out" 2>&1 || rc=$?
	ran "$rc"
}

fds_same() {
	[ "$(kv "$1" fds_before)" = "$(kv "$1" fds_after)" ] ||
		err "descriptors: $(kv "$1" fds_before) before, $(kv "$1" fds_after) after"
}

# second_link: XA (up) in NS1, its peer XB down in NS1: no carrier, so DAD
# on XA never ends and only the fault can end the wait
second_link() {
	XA="dxa$$x$T_SEQ"
	XB="dxb$$x$T_SEQ"
	ip -n "$NS1" link add "$XA" type veth peer name "$XB" &&
		ip netns exec "$NS1" sh -c "echo 1 > /proc/sys/net/ipv6/conf/$XA/accept_dad" &&
		ip -n "$NS1" link set "$XA" up
}

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "fault 0: the race is real (no shim: EINVAL); with the shim the route is installed, no descriptor left"
unshimmed f0a plain fd00:f0::1
expect "$out" result EINVAL
fault f0 "$B/faults" plain fd00:f0::2
expect "$out" result ok
fds_same "$out"
in_table 230 "$FA" || err "route not in table 230"
case_end "$out" "$log" || :
RACE_REAL=$C_ERR

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "fault 1: DAD fails (the peer has the address): the original EINVAL, no descriptor left"
ip -n "$NS2" -6 addr add fd00:f1::1/128 dev "$IF2" nodad || err "peer address"
fault f1 "$B/faults" plain fd00:f1::1
expect "$out" result EINVAL
fds_same "$out"
ip -n "$NS1" -6 addr show dev "$IF1" | grep 'inet6 fd00:f1::1/' | grep -q dadfailed ||
	err "the kernel does not list the address as dadfailed"
[ -z "$(route_in_table "$NS1" 230)" ] || err "table 230 not empty"
case_end "$out" "$log" || :

# A link that never had carrier: DAD never ends there. (On a link that lost
# its carrier DAD still ends, 1 to 2 s later, which raced with the 1 s bound
# and the tentative check below.)
setup_pair_nocarrier || { fail reliability "namespace setup failed"; exit 1; }
case_begin "fault 2: no carrier, DADSHIM_WAIT_MS=1000: the bound ends the wait with the original EINVAL"
ip -n "$NS1" link show dev "$IF1" | grep -q NO-CARRIER || err "$IF1 has carrier"
GUARD=30 fault f2 "$B/faults" plain fd00:f2::1 DADSHIM_WAIT_MS=1000
expect "$out" result EINVAL
expect "$out" wait_seen 1
fds_same "$out"
is_tentative "$NS1" "$IF1" fd00:f2::1 || err "the address is not tentative: DAD did end"
case_end "$out" "$log" || :

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "fault 3: the address is deleted during the wait (DADSHIM_WAIT_MS=60000, guard 30 s): the original EINVAL"
second_link || err "second link"
GUARD=30 fault f3 "$B/faults" deladdr fd00:f3::1 "$XA" DADSHIM_WAIT_MS=60000
expect "$out" result EINVAL
expect "$out" wait_seen 1
fds_same "$out"
! ip -n "$NS1" -6 addr show | grep -q 'inet6 fd00:f3::1/' || err "the address is still there"
case_end "$out" "$log" || :

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "fault 4: the interface is deleted during the wait (DADSHIM_WAIT_MS=60000, guard 30 s): the original EINVAL"
second_link || err "second link"
GUARD=30 fault f4 "$B/faults" dellink fd00:f4::1 "$XA" DADSHIM_WAIT_MS=60000
expect "$out" result EINVAL
expect "$out" wait_seen 1
fds_same "$out"
! ip -n "$NS1" link show dev "$XA" >/dev/null 2>&1 || err "$XA still exists"
case_end "$out" "$log" || :

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "fault 5: SIGUSR1 x3 (no SA_RESTART) during the wait does not cut it short: the route is installed"
[ -z "$RACE_REAL" ] || err "the race was not shown real in this run"
unshimmed f5a sigwait fd00:f5::1
expect "$out" result EINVAL
fault f5 "$B/faults" sigwait fd00:f5::2
expect "$out" result ok
expect "$out" wait_seen 1
expect "$out" signals 3
fds_same "$out"
in_table 230 "$FA" || err "route not in table 230"
case_end "$out" "$log" || :

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "fault 6: a signal during a blocking recv on an empty held socket: EINTR, as without the shim"
unshimmed f6a sigrecv fd00:f6::1
expect "$out" result recv-failed
expect "$out" recv_errno EINTR
expect "$out" signals 1
base=$(cat "$out")
tr=$T_TMP/f6.tr
out=$T_TMP/f6.out
rc=0
shim_trace "$tr" DADSHIM_NODAD=0 -- "$B/faults" sigrecv "$IF1" fd00:f6::2 >"$out" 2>&1 || rc=$?
ran "$rc"
expect "$out" result recv-failed
expect "$out" recv_errno EINTR
expect "$out" signals 1
fds_same "$out"
# The kernel saw the shim's blocking peek interrupted: the held path ran.
trace_all "$tr" | grep -E '^recvfrom\(.*MSG_PEEK\|MSG_TRUNC.*= (\? ERESTARTSYS|-1 EINTR)' \
	>/dev/null || err "no interrupted MSG_PEEK in the trace: the held path did not run"
note "without the shim: $base"
case_end "$out" || :

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "fault 7: pthread_cancel of the waiting thread: private socket closed, netlink then works from another thread"
fault f7 "$B/faults" cancel fd00:f7::1
expect "$out" result cancelled
expect "$out" wait_seen 1
expect "$out" after ok
fds_same "$out"
in_table 230 fd00:fb::/64 || err "the main thread's route is not in table 230"
case_end "$out" "$log" || :

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "fault 8: fork() from another thread during the wait: the child adds a route through the shim and exits 0"
[ -z "$RACE_REAL" ] || err "the race was not shown real in this run"
unshimmed f8a fork fd00:f8::1
expect "$out" result EINVAL
fault f8 "$B/faults" fork fd00:f8::11
expect "$out" result ok
expect "$out" wait_seen 1
expect "$out" child 0
fds_same "$out"
in_table 230 "$FA" || err "the waiter's route is not in table 230"
in_table 230 fd00:fc::/64 || err "the child's route is not in table 230"
case_end "$out" "$log" || :

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "fault 9: another thread closes the socket during the wait: the waiter gets EBADF, no crash"
fault f9 "$B/faults" close fd00:f9::1
expect "$out" result recv-failed
expect "$out" recv_errno EBADF
expect "$out" wait_seen 1
fds_same "$out"
case_end "$out" "$log" || :

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "fault 10: the EINVAL is read only after DAD ended (busy reader): the route is installed"
unshimmed f10a late fd00:fa0::1
expect "$out" result EINVAL
fault f10 "$B/faults" late fd00:fa0::2
expect "$out" result ok
fds_same "$out"
in_table 230 "$FA" || err "route not in table 230"
case_end "$out" "$log" || :

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "fault 11: the reply read with recvmmsg(MSG_WAITFORONE): EINVAL without the shim, route installed with it"
unshimmed f11a waitforone fd00:fb1::1
expect "$out" result EINVAL
fault f11 "$B/faults" waitforone fd00:fb1::2
expect "$out" result ok
expect "$out" wait_seen 1
fds_same "$out"
in_table 230 "$FA" || err "route not in table 230"
case_end "$out" "$log" || :

# The same faults in the ASan build (the shim compiled in): no leak, no
# error. fork is left out: LeakSanitizer in the child counts the buffer of
# the parent's waiting thread, which the child never had.
for fc in plain:ok deladdr:EINVAL cancel:cancelled close:recv-failed; do
	c=${fc%%:*}
	want=${fc#*:}
	setup_pair || { fail reliability "namespace setup failed"; exit 1; }
	case_begin "fault ASan: $c: no AddressSanitizer/LeakSanitizer report"
	if2=""
	if [ "$c" = deladdr ]; then
		second_link || err "second link"
		if2=$XA
	fi
	out=$T_TMP/asan-$c.out
	log=$T_TMP/asan-$c.log
	rc=0
	# shellcheck disable=SC2086 # if2 is one word or nothing
	GUARD=60 in_ns env DADSHIM_NODAD=0 DADSHIM_WAIT_MS=20000 DADSHIM_LOG_TARGET=stderr \
		ASAN_OPTIONS=detect_leaks=1:exitcode=23 \
		"$B/faults_asan" "$c" "$IF1" fd00:a5a::1 $if2 >"$out" 2>"$log" || rc=$?
	ran "$rc"
	[ "$rc" -ne 23 ] || err "AddressSanitizer reported"
	! grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)' "$log" || err "sanitizer report on stderr"
	expect "$out" result "$want"
	fds_same "$out"
	case_end "$out" "$log" || :
done

########################################################################
# Held requests, receive side (build/tests/reliability/heldrx; DADSHIM_NODAD=0: tentative)
########################################################################
# heldrx NAME MODE ADDR [shim|plain|trace]: sets out (and tr)
heldrx() {
	out=$T_TMP/$1.out
	tr=$T_TMP/$1.tr
	rc=0
	case ${4:-shim} in
	plain) in_ns "$B/heldrx" "$2" "$IF1" "$3" >"$out" 2>&1 || rc=$? ;;
	shim) with_shim DADSHIM_NODAD=0 "$B/heldrx" "$2" "$IF1" "$3" >"$out" 2>&1 || rc=$? ;;
	trace) shim_trace "$tr" DADSHIM_NODAD=0 -- "$B/heldrx" "$2" "$IF1" "$3" \
		>"$out" 2>&1 || rc=$? ;;
	esac
	ran "$rc"
	[ "$rc" -eq 0 ] || err "heldrx exited $rc"
}

# same_as_plain OUT BASE: the program saw with the shim exactly what it saw
# without it (its heldrx line, every key)
same_as_plain() {
	_got=$(grep '^heldrx: ' "$1") || :
	[ -n "$_got" ] || err "no heldrx line"
	[ -n "$2" ] || err "no heldrx line without the shim"
	[ "$_got" = "$2" ] || err "with the shim: $_got; without: $2"
}

# held_plain NAME MODE ADDR: the mode run without the shim in a fresh pair;
# sets base to its heldrx line
held_plain() {
	setup_pair || { fail reliability "namespace setup failed"; exit 1; }
	heldrx "$1" "$2" "$3" plain
	base=$(grep '^heldrx: ' "$out") || :
	setup_pair || { fail reliability "namespace setup failed"; exit 1; }
}

# The two routes of sameseq: 84 bytes (fd00:e1::/64) and 92 (fd00:e2::/64,
# with RTA_PRIORITY); of samelen: 84 and 84 (fd00:e3::/64, fd00:e4::/64).
# Both are sent before any answer is read: the first is followed by the
# second, so it is never sent again (that would make it take effect after
# the second); only the last is retried, and only for a reader that blocks.
for m in sameseq samelen; do
	case $m in
	sameseq*) d1=fd00:e1::/64 d2=fd00:e2::/64 l2=92 ;;
	*) d1=fd00:e3::/64 d2=fd00:e4::/64 l2=84 ;;
	esac
	case_begin "held $m: two different routes with seq 0, source tentative, read with a blocking recv: the first gets the kernel's EINVAL (a request followed it), the last is retried; two answers, each its own, in order"
	held_plain "h-$m-a" "$m" fd00:ee::1
	expect "$out" a1 84:-22
	expect "$out" a2 "$l2:-22"
	heldrx "h-$m" "$m" fd00:ee::2 trace
	expect "$out" answers 2
	expect "$out" a1 84:-22
	expect "$out" a2 "$l2:0"
	expect "$out" extra EAGAIN
	expect "$out" errno_kept 1
	n=$(sends_of "$tr" RTM_NEWROUTE | grep -c 'nlmsg_seq=0,') || :
	[ "$n" -eq 3 ] || err "$n RTM_NEWROUTE with seq 0 crossed, not 3 (two sent, the last sent again)"
	! in_table 232 "$d1" || err "$d1 in table 232: the followed request was sent again"
	in_table 232 "$d2" || err "$d2 not in table 232"
	note "without the shim: $base"
	case_end "$out" || :
done

# A reader that does not block is never made to wait: whatever it reads,
# it reads as without the shim, and nothing is sent again.
held_unchanged() {
	case_begin "held $1: $2: the kernel's answers at once, as without the shim; nothing sent again, no route"
	held_plain "h-$1-a" "$1" "$3"
	heldrx "h-$1" "$1" "$4" trace
	same_as_plain "$out" "$base"
	n=$(sends_of "$tr" RTM_NEWROUTE | grep -c .) || :
	[ "$n" -eq "$5" ] || err "$n RTM_NEWROUTE crossed, not $5"
	[ -z "$(ip -n "$NS1" -6 route show table 232)" ] || err "a route is in table 232"
	case_end "$out" || :
}
held_unchanged sameseq-poll "two routes with seq 0 read with poll + recv(MSG_DONTWAIT)" fd00:ee::1 fd00:ee::2 2
held_unchanged samelen-poll "two routes with the same header read with poll + recv(MSG_DONTWAIT)" fd00:ee::1 fd00:ee::2 2
held_unchanged dontwait "recv(MSG_DONTWAIT) right after the refused route" fd00:ee::3 fd00:ee::4 1
held_unchanged nonblock "the same on an O_NONBLOCK socket, recv() without flags" fd00:ee::5 fd00:ee::6 1
held_unchanged dontwait-next "the refused route, then an RTM_GETLINK, read with recv(MSG_DONTWAIT)" fd00:ee::3 fd00:ee::4 1
held_unchanged dontwait-close "recv(MSG_DONTWAIT), then the socket closed and a new one on the number asks for itself (fds_back)" fd00:ee::b fd00:ee::c 1
grep -q 'extra=fds_back=1 ' "$T_TMP/h-dontwait-close.out" ||
	fail "held dontwait-close: the process has no descriptor more than before" "$(cat "$T_TMP/h-dontwait-close.out")"

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "held groups/write: the resend goes to the address the caller used (nl_groups kept; none after write())"
heldrx h-gr groups fd00:ee::7 trace
expect "$out" answers 1
expect "$out" a1 84:0
n=$(sends_of "$tr" RTM_NEWROUTE | grep -Ec 'nl_groups=(0x)?0*400}') || :
[ "$n" -eq 2 ] || err "$n RTM_NEWROUTE sent to nl_groups=0x400, not 2 (the caller's and the resend)"
in_table 232 fd00:e6::/64 || err "route not in table 232 (groups)"
setup_pair || { fail reliability "namespace setup failed"; exit 1; }
heldrx h-wr write fd00:ee::8 trace
expect "$out" answers 1
expect "$out" a1 84:0
n=$(sends_of "$tr" RTM_NEWROUTE | grep -c ', NULL, 0) = 84$') || :
[ "$n" -eq 1 ] || err "the resend after write() was not sent without an address ($n)"
in_table 232 fd00:e6::/64 || err "route not in table 232 (write)"
case_end "$out" || :

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "held errno: a successful blocking recv on a held socket that started empty leaves errno as it was"
heldrx h-errno errno fd00:ee::9
expect "$out" answers 1
expect "$out" errno_kept 1
case_end "$out" || :

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "held loglock: the shim's lock is not held across a log line (stderr a full pipe): another thread's receive on a held socket gets through"
out=$T_TMP/h-loglock.out
rc=0
with_shim DADSHIM_NODAD=0 DADSHIM_LOG=3 "$B/heldrx" loglock "$IF1" fd00:ee::a >"$out" 2>/dev/null || rc=$?
ran "$rc"
[ "$rc" -eq 0 ] || err "heldrx exited $rc"
grep -q 'extra=b_done=1 ' "$out" || err "the receive was blocked behind the log line"
case_end "$out" || :

########################################################################
# Descriptor lifecycle
########################################################################
# nodad_in NS ADDR: the kernel lists ADDR with the nodad flag
nodad_in() {
	ip -n "$1" -6 addr show | grep "inet6 $2/" | grep -q nodad
}

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "lifecycle 1: netlink number reused for UDP (bytes never rewritten), then for netlink (NODAD again)"
out=$T_TMP/l1a.out
rc=0
in_ns "$B/lifecycle" reuse "$IF1" fd00:11::1 fd00:11::2 >"$out" 2>&1 || rc=$?
ran "$rc"
! nodad_in "$NS1" fd00:11::1 || err "without the shim the kernel got NODAD"
out=$T_TMP/l1.out
log=$T_TMP/l1.log
rc=0
with_shim "$B/lifecycle" reuse "$IF1" fd00:11::3 fd00:11::4 >"$out" 2>"$log" || rc=$?
ran "$rc"
n=$(kv "$out" number)
expect "$out" udp_number "$n"
expect "$out" netlink_again_number "$n"
expect "$out" udp_unchanged 4
expect "$out" addr1 0
expect "$out" addr2 0
nodad_in "$NS1" fd00:11::3 || err "first netlink socket: no NODAD in the kernel"
nodad_in "$NS1" fd00:11::4 || err "netlink again on the number: no NODAD in the kernel"
case_end "$out" "$log" || :

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "lifecycle 2: dup2 of UDP over a netlink socket with a held route, and of netlink over UDP"
out=$T_TMP/l2.out
log=$T_TMP/l2.log
rc=0
with_shim "$B/lifecycle" dup2 "$IF1" fd00:12::1 fd00:12::2 >"$out" 2>"$log" || rc=$?
ran "$rc"
expect "$out" udp_unchanged 4
expect "$out" udp_received_as_sent 1
expect "$out" addr1 0
expect "$out" addr2 0
in_table 231 fd00:d1::/64 || err "the held route is not in table 231"
nodad_in "$NS1" fd00:12::2 || err "netlink dup2'ed over UDP: no NODAD in the kernel"
case_end "$out" "$log" || :

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "lifecycle 3: close_range behind the shim's back: numbers reused as file/unix socket untouched; netlink again works"
out=$T_TMP/l3.out
log=$T_TMP/l3.log
rc=0
with_shim "$B/lifecycle" closerange "$IF1" fd00:13::1 fd00:13::2 >"$out" 2>"$log" || rc=$?
ran "$rc"
expect "$out" reused_as "$(kv "$out" numbers)"
expect "$out" file_unchanged 1
expect "$out" held_number_read_as_file 1
expect "$out" unix_unchanged 1
expect "$out" netlink_again_number "$(kv "$out" numbers | cut -d, -f1)"
expect "$out" addr2 0
expect "$out" route 0
nodad_in "$NS1" fd00:13::2 || err "netlink after close_range: no NODAD in the kernel"
in_table 231 fd00:d3::/64 || err "route not in table 231"
case_end "$out" "$log" || :

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "lifecycle 4: a netlink socket the shim never saw made (raw syscall, like one inherited) is classified on first use"
out=$T_TMP/l5a.out
rc=0
in_ns "$B/lifecycle" inherit "$IF1" fd00:15::1 fd00:15::2 >"$out" 2>&1 || rc=$?
ran "$rc"
! nodad_in "$NS1" fd00:15::1 || err "without the shim the kernel got NODAD"
out=$T_TMP/l5.out
log=$T_TMP/l5.log
rc=0
with_shim "$B/lifecycle" inherit "$IF1" fd00:15::3 fd00:15::4 >"$out" 2>"$log" || rc=$?
ran "$rc"
expect "$out" addr1 0
expect "$out" addr2 0
nodad_in "$NS1" fd00:15::3 || err "write() on the unseen socket: no NODAD in the kernel"
nodad_in "$NS1" fd00:15::4 || err "sendto() on the unseen socket: no NODAD in the kernel"
case_end "$out" "$log" || :

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "lifecycle 5: exec (fork+execve, posix_spawn) during a DAD wait: the child has only what the parent inherited"
out=$T_TMP/l4.out
log=$T_TMP/l4.log
rc=0
with_shim DADSHIM_NODAD=0 "$B/lifecycle" exec "$IF1" fd00:14::1 >"$out" 2>"$log" || rc=$?
ran "$rc"
expect "$out" wait_seen 1
n=$(kv "$out" inherited_fds)
expect "$out" fork_exec_child_fds "$n"
expect "$out" posix_spawn_child_fds "$n"
expect "$out" route 0
in_table 231 fd00:d4::/64 || err "route not in table 231"
case_end "$out" "$log" || :

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "lifecycle 6: close() resets the table before the number is free: a socket that gets it at once keeps its held route"
out=$T_TMP/l6a.out
rc=0
in_ns env LD_PRELOAD="$B/closehook.so" "$B/lifecycle" closerace "$IF1" fd00:16::1 fd00:16::2 \
	>"$out" 2>&1 || rc=$?
ran "$rc"
expect "$out" reused 1
expect "$out" route -22
out=$T_TMP/l6.out
log=$T_TMP/l6.log
rc=0
GUARD=60 in_ns env LD_PRELOAD="$SHIM $B/closehook.so" DADSHIM_LOG_TARGET=stderr DADSHIM_NODAD=0 \
	"$B/lifecycle" closerace "$IF1" fd00:16::3 fd00:16::4 >"$out" 2>"$log" || rc=$?
ran "$rc"
expect "$out" addr1 0
expect "$out" reused 1
expect "$out" route 0
ip -n "$NS1" -6 route show table 231 | grep -q "^fd00:e6::/64 .*src fd00:16::3 " ||
	err "the reused socket's route is not in table 231"
case_end "$out" "$log" || :

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "lifecycle 7: a libc without the wrapped symbols: the shim logs each once and makes the system calls (NODAD set, closefrom closes)"
out=$T_TMP/l7a.out
rc=0
in_ns "$B/lifecycle" fallback "$IF1" fd00:17::1 fd00:17::2 >"$out" 2>&1 || rc=$?
ran "$rc"
expect "$out" closefrom_closed 2
! nodad_in "$NS1" fd00:17::1 || err "without the shim the kernel got NODAD"
out=$T_TMP/l7.out
log=$T_TMP/l7.log
rc=0
in_ns env LD_PRELOAD="$B/libdadshim-hide.so" DADSHIM_TEST_HIDE=all DADSHIM_LOG_TARGET=stderr \
	"$B/lifecycle" fallback "$IF1" fd00:17::3 fd00:17::4 >"$out" 2>"$log" || rc=$?
ran "$rc"
[ "$rc" -eq 0 ] || err "exit status $rc"
expect "$out" addr1 0
expect "$out" addr2 0
expect "$out" closefrom_closed 2
expect "$out" close_range_closed 1
expect "$out" dup_closed 1
nodad_in "$NS1" fd00:17::3 || err "write(): no NODAD in the kernel"
nodad_in "$NS1" fd00:17::4 || err "sendmsg(): no NODAD in the kernel"
for f in socket close dup dup2 dup3 send sendto sendmsg sendmmsg write recv recvfrom \
	recvmsg recvmmsg read __recv_chk __recvfrom_chk __read_chk; do
	n=$(grep -c "libc has no $f; the shim uses the system call instead" "$log") || :
	[ "$n" = 1 ] || err "$f: logged $n times, not once"
done
case_end "$out" "$log" || :

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "lifecycle 8: process_vm_readv refused by seccomp: logged once, requests sent unchanged, a bad buffer still EFAULT"
out=$T_TMP/l8.out
log=$T_TMP/l8.log
rc=0
with_shim "$B/lifecycle" seccomp "$IF1" fd00:18::1 fd00:18::2 >"$out" 2>"$log" || rc=$?
ran "$rc"
[ "$rc" -eq 0 ] || err "exit status $rc"
expect "$out" addr1 0
expect "$out" addr2 0
expect "$out" ok_errno 0
expect "$out" bad_ret -1
expect "$out" bad_errno 14
! nodad_in "$NS1" fd00:18::1 || err "sendto(): NODAD set without a safe look at the bytes"
! nodad_in "$NS1" fd00:18::2 || err "sendmsg(): NODAD set without a safe look at the bytes"
n=$(grep -c "cannot reach the caller's memory safely (process_vm_readv: Operation not permitted)" "$log") || :
[ "$n" = 1 ] || err "the refusal was logged $n times, not once"
case_end "$out" "$log" || :

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "lifecycle 9: after fork() the shim reads the child's memory, not the parent's: the child's address gets NODAD"
out=$T_TMP/l9.out
log=$T_TMP/l9.log
rc=0
with_shim "$B/lifecycle" forkpid "$IF1" fd00:19::1 fd00:19::2 >"$out" 2>"$log" || rc=$?
ran "$rc"
expect "$out" addr1 0
expect "$out" child 0
nodad_in "$NS1" fd00:19::1 || err "parent's address: no NODAD in the kernel"
nodad_in "$NS1" fd00:19::2 || err "child's address: no NODAD in the kernel"
case_end "$out" "$log" || :

setup_pair || { fail reliability "namespace setup failed"; exit 1; }
case_begin "cancel leak: 1000 sends cancelled inside the shim leave no more heap blocks than without it"
out0=$T_TMP/cl0.out
out1=$T_TMP/cl1.out
rc=0
in_ns "$B/cancelleak" "$IF1" 1000 >"$out0" 2>&1 || rc=$?
ran "$rc"
[ "$rc" -eq 0 ] || err "without the shim: exit status $rc"
rc=0
with_shim "$B/cancelleak" "$IF1" 1000 >"$out1" 2>>"$out1" || rc=$?
ran "$rc"
[ "$rc" -eq 0 ] || err "with the shim: exit status $rc"
for k in newaddr newaddr+1k-noop route; do
	a=$(sed -n "s/^cancelleak: kind=$k sends=1000 live_delta=\(-*[0-9]*\)$/\1/p" "$out0")
	b=$(sed -n "s/^cancelleak: kind=$k sends=1000 live_delta=\(-*[0-9]*\)$/\1/p" "$out1")
	if [ -z "$a" ] || [ -z "$b" ]; then
		err "$k: no figure"
	elif [ "$b" -gt "$a" ]; then
		err "$k: $b live heap blocks after 1000 cancelled sends with the shim, $a without"
	fi
	note "$k: live heap blocks after 1000 cancelled sends: $a without the shim, $b with"
done
[ -z "$(ip -n "$NS1" -6 addr show | grep 'fd00:cc::1')" ] || err "a cancelled send reached the kernel"
case_end "$out0" "$out1" || :

. tests/reliability/corners.sh	# issue 16's defects 1-12

finish
