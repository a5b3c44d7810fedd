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
# flags: the TSan and ASan builds have the shim's sources compiled in.
B=$(pwd)/build/tests/reliability
# Every tests/reliability/*.c is a program (a *hook.c a preloadable .so),
# as the Makefile builds them.
PROGS="$(for f in tests/reliability/*.c; do
	n=$(basename "$f" .c)
	case $n in *hook) echo "$n.so" ;; *) echo "$n" ;; esac
done) stress_tsan faults_asan"
missing=""
for p in $PROGS; do
	[ -e "$B/$p" ] || missing="$missing $B/$p"
done
if [ -n "$missing" ]; then
	fail "programs built" "missing:$missing (run make check-reliability, or make test-programs)"
	exit 1
fi
pass "programs built: $(echo $PROGS | sed 's/ stress_tsan.*//; s/ /, /g') (+ TSan and ASan builds of the shim)"

# kv FILE KEY: the value of KEY=VALUE in the program's summary line
kv() {
	sed -n "s/^.* $2=\([^ ]*\).*$/\1/p" "$1" | head -n 1
}

# expect FILE KEY VALUE: one err per mismatch. A missing value on either
# side is a mismatch: "" = "" proves nothing.
expect() {
	_v=$(kv "$1" "$2")
	if [ -z "$_v" ]; then
		err "$2 missing, expected ${3:-a value}"
	elif [ -z "$3" ]; then
		err "$2=$_v, but the value to compare it with is missing"
	elif [ "$_v" != "$3" ]; then
		err "$2=$_v, expected $3"
	fi
}

# expects FILE 'KEY=VALUE ...': expect for each; a VALUE @OTHER is the
# value of OTHER in the same file (which must be there too)
expects() {
	for _kv in $2; do
		_want=${_kv#*=}
		case $_want in
		@*) _want=$(kv "$1" "${_want#@}") ;;
		esac
		expect "$1" "${_kv%%=*}" "$_want"
	done
}

# fds_same FILE: the program's descriptors after equal those before (both
# printed)
fds_same() {
	expect "$1" fds_after "$(kv "$1" fds_before)"
}

# ran RC: the program finished by itself
ran() {
	[ "$1" -ne 124 ] || err "killed by the timeout guard (hang)"
	[ "$1" -lt 128 ] || err "killed by signal $(($1 - 128))"
}

in_table() {
	ip -n "$NS1" -6 route show table "$1" | grep -q "^$2 "
}

# The cases. rcase TITLE [nocarrier]: ends the case before (if one is
# open), makes a fresh namespace pair and opens the case; what follows
# (rrun and its wrappers, err) judges it. rcase_end closes the last one.
# A new case is an rcase line and a run line with its expected values.
R_OPEN=0
R_FILES=""
rcase() {
	rcase_end
	if [ "${2:-}" = nocarrier ]; then
		setup_pair_nocarrier || { fail reliability "namespace setup failed"; exit 1; }
	else
		setup_pair || { fail reliability "namespace setup failed"; exit 1; }
	fi
	case_begin "$1"
	R_OPEN=1
	R_FILES=""
}

rcase_end() {
	[ "$R_OPEN" = 1 ] || return 0
	R_OPEN=0
	# shellcheck disable=SC2086 # file names without blanks ($T_TMP)
	case_end $R_FILES || :
}

# fresh_pair: another fresh namespace pair inside the same case
fresh_pair() {
	setup_pair || { fail reliability "namespace setup failed"; exit 1; }
}

# rrun NAME 'KEY=VALUE ...' [VAR=VAL]... CMD [ARG]...: CMD in NS1 (under
# GUARD) with the VAR=VALs in its environment; its stdout in $T_TMP/NAME.out
# (out), stderr in NAME.log (log), status in rc. It must exit 0 by itself
# and print every KEY=VALUE (expects).
rrun() {
	_rn=$1
	_rx=$2
	shift 2
	out=$T_TMP/$_rn.out
	log=$T_TMP/$_rn.log
	R_FILES="$R_FILES $out $log"
	rc=0
	in_ns env "$@" >"$out" 2>"$log" || rc=$?
	ran "$rc"
	[ "$rc" -eq 0 ] || [ "$rc" -ge 124 ] || err "$_rn: exit status $rc"
	expects "$out" "$_rx"
}

# rshim NAME 'KEY=VALUE ...' [VAR=VAL]... CMD [ARG]...: rrun with the shim
# preloaded, its log in NAME.log
rshim() {
	_rn=$1
	_rx=$2
	shift 2
	rrun "$_rn" "$_rx" LD_PRELOAD="$SHIM" DADSHIM_LOG_TARGET=stderr "$@"
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

# stress_checks MIN_REQUESTS: on the last run's out, every seq answered once
stress_checks() {
	_n=$(kv "$out" requests)
	[ "${_n:-0}" -ge "$1" ] || err "only ${_n:-0} requests"
	expects "$out" "unanswered=0 unknown=0 duplicated=0 mismatched=0 lost=0 truncated=0
		recv_errors=0 failed=0 answered=@requests"
}

# waits_logged MIN: the shim logged at least MIN routes held until DAD ended
waits_logged() {
	waits=$(grep -Ec ': route with source [0-9a-f:]+: DAD ended after [0-9]+ ms; sent$' "$log") || :
	[ "$waits" -ge "$1" ] || err "$waits waits in the shim's log, fewer than $1"
	note "waits logged: $waits"
}

# stress_all_ok: every tentative-source route was installed: every thread
# sends blocking (whatever its reader does), so each waits in its send
stress_all_ok() {
	_t=$(kv "$out" tentative_routes)
	[ "${_t:-0}" -gt 0 ] || err "no tentative-source routes were sent"
	expects "$out" "tentative_ok=@tentative_routes tentative_einval=0"
}

rcase "stress 0: the race is real: without the shim, tentative-source routes get EINVAL"
GUARD=120 rrun s0 'tentative_einval=@tentative_routes' "$B/stress" "$IF1" "$THREADS" 0 1
stress_checks 1
n=$(kv "$out" tentative_routes)
[ "${n:-0}" -gt 0 ] || err "no tentative-source routes were sent"
RACE_REAL=$C_ERR

rcase "stress 1: $THREADS threads, own and shared sockets, >= 10000 requests, DADSHIM_NODAD=0: concurrent waits in send, every tentative-source route installed, every seq answered once"
[ -z "$RACE_REAL" ] || err "the race was not shown real in this run"
GUARD=300 rshim s1 'tentative_other=0' DADSHIM_NODAD=0 DADSHIM_LOG=2 \
	"$B/stress" "$IF1" "$THREADS" 100 3
stress_checks 10000
# Half of the threads read shared sockets with MSG_DONTWAIT; all send
# blocking, so every route waits in its own send.
stress_all_ok
waits_logged 2
ov=$(kv "$out" max_overlap)
[ "${ov:-0}" -ge 2 ] || err "tentative-source routes never overlapped (max_overlap=$ov)"
final_state "$THREADS"
note "$(cat "$out")"

rcase "stress 2: $THREADS threads, >= 10000 requests, default settings (NODAD set)"
GUARD=300 rshim s2 'tentative_ok=@tentative_routes' "$B/stress" "$IF1" "$THREADS" 100 1
stress_checks 10000
final_state "$THREADS"
note "$(cat "$out")"

rcase "stress 3: ThreadSanitizer build with the shim compiled in, DADSHIM_NODAD=0: no report"
[ -z "$RACE_REAL" ] || err "the race was not shown real in this run"
GUARD=300 rrun s3 'tentative_other=0' DADSHIM_NODAD=0 DADSHIM_LOG_TARGET=stderr \
	TSAN_OPTIONS="halt_on_error=0 exitcode=66" "$B/stress_tsan" "$IF1" "$THREADS" 20 1
[ "$rc" -ne 66 ] || err "ThreadSanitizer reported"
stress_checks 2000
! grep -q 'ThreadSanitizer' "$log" || err "ThreadSanitizer output on stderr"
stress_all_ok
waits_logged 1
note "$(cat "$out")"

########################################################################
# Faults during a wait (all with DADSHIM_NODAD=0: the address is tentative)
########################################################################
FA=fd00:fa::/64

# fault NAME 'KEY=VALUE ...' MODE ADDR [IF2] [VAR=VAL]...: faults MODE
# under the shim in NS1 (DADSHIM_NODAD=0); it must print the KEY=VALUEs and
# leave no descriptor behind (fds_same)
fault() {
	_fn=$1
	_fx=$2
	_fm=$3
	_fa=$4
	shift 4
	_if2=""
	if [ $# -gt 0 ] && [ "${1#*=}" = "$1" ]; then
		_if2=$1
		shift
	fi
	# shellcheck disable=SC2086 # _if2 is one word or nothing
	rshim "$_fn" "$_fx" DADSHIM_NODAD=0 "$@" "$B/faults" "$_fm" "$IF1" "$_fa" $_if2
	fds_same "$out"
}

# unshimmed NAME 'KEY=VALUE ...' MODE ADDR: the same program without the shim
unshimmed() {
	rrun "$1" "$2" "$B/faults" "$3" "$IF1" "$4"
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

rcase "fault 0: the race is real (no shim: EINVAL); with the shim the route is installed, no descriptor left"
unshimmed f0a 'result=EINVAL' plain fd00:f0::1
fault f0 'result=ok' plain fd00:f0::2
in_table 230 "$FA" || err "route not in table 230"
RACE_REAL=$C_ERR

rcase "fault 1: DAD fails (the peer has the address): the original EINVAL, no descriptor left"
ip -n "$NS2" -6 addr add fd00:f1::1/128 dev "$IF2" nodad || err "peer address"
fault f1 'result=EINVAL' plain fd00:f1::1
ip -n "$NS1" -6 addr show dev "$IF1" | grep 'inet6 fd00:f1::1/' | grep -q dadfailed ||
	err "the kernel does not list the address as dadfailed"
[ -z "$(route_in_table "$NS1" 230)" ] || err "table 230 not empty"

# A link that never had carrier: DAD never ends there. (On a link that lost
# its carrier DAD still ends, 1 to 2 s later, which raced with the 1 s bound
# and the tentative check below.)
rcase "fault 2: no carrier, DADSHIM_WAIT_MS=1000: the bound ends the wait with the original EINVAL" nocarrier
ip -n "$NS1" link show dev "$IF1" | grep -q NO-CARRIER || err "$IF1 has carrier"
GUARD=30 fault f2 'result=EINVAL wait_seen=1' plain fd00:f2::1 DADSHIM_WAIT_MS=1000
is_tentative "$NS1" "$IF1" fd00:f2::1 || err "the address is not tentative: DAD did end"

rcase "fault 3: the address is deleted during the wait (DADSHIM_WAIT_MS=60000, guard 30 s): the original EINVAL"
second_link || err "second link"
GUARD=30 fault f3 'result=EINVAL wait_seen=1' deladdr fd00:f3::1 "$XA" DADSHIM_WAIT_MS=60000
! ip -n "$NS1" -6 addr show | grep -q 'inet6 fd00:f3::1/' || err "the address is still there"

rcase "fault 4: the interface is deleted during the wait (DADSHIM_WAIT_MS=60000, guard 30 s): the request goes out, the kernel's ENODEV (its RTA_OIF is gone)"
second_link || err "second link"
GUARD=30 fault f4 'result=ENODEV wait_seen=1' dellink fd00:f4::1 "$XA" DADSHIM_WAIT_MS=60000
! ip -n "$NS1" link show dev "$XA" >/dev/null 2>&1 || err "$XA still exists"

rcase "fault 5: SIGUSR1 x3 (no SA_RESTART) during the wait does not cut it short: the route is installed"
[ -z "$RACE_REAL" ] || err "the race was not shown real in this run"
unshimmed f5a 'result=EINVAL' sigwait fd00:f5::1
fault f5 'result=ok wait_seen=1 signals=3' sigwait fd00:f5::2
in_table 230 "$FA" || err "route not in table 230"

rcase "fault 7: pthread_cancel of the waiting thread: private socket closed, netlink then works from another thread"
fault f7 'result=cancelled wait_seen=1 after=ok' cancel fd00:f7::1
in_table 230 fd00:fb::/64 || err "the main thread's route is not in table 230"

rcase "fault 8: fork() from another thread during the wait: the child adds a route through the shim and exits 0"
[ -z "$RACE_REAL" ] || err "the race was not shown real in this run"
unshimmed f8a 'result=EINVAL' fork fd00:f8::1
fault f8 'result=ok wait_seen=1 child=0' fork fd00:f8::11
in_table 230 "$FA" || err "the waiter's route is not in table 230"
in_table 230 fd00:fc::/64 || err "the child's route is not in table 230"

rcase "fault 9: another thread closes the socket during the wait: the send says EBADF, nothing is sent, no crash"
tr=$T_TMP/f9.tr
out=$T_TMP/f9.out
R_FILES="$R_FILES $out"
rc=0
shim_trace "$tr" DADSHIM_NODAD=0 -- "$B/faults" close "$IF1" fd00:f9::1 >"$out" 2>&1 || rc=$?
ran "$rc"
expects "$out" 'result=send-failed recv_errno=EBADF wait_seen=1'
fds_same "$out"
[ "$(sends_of "$tr" RTM_NEWROUTE | grep -c .)" -eq 0 ] || err "the route was sent after its socket was closed"
[ -z "$(route_in_table "$NS1" 230)" ] || err "table 230 not empty"

rcase "fault 6: the reply read with recvmmsg(MSG_WAITFORONE): EINVAL without the shim, route installed with it"
unshimmed f11a 'result=EINVAL' waitforone fd00:fb1::1
fault f11 'result=ok wait_seen=1' waitforone fd00:fb1::2
in_table 230 "$FA" || err "route not in table 230"

# The same faults in the ASan build (the shim compiled in): no leak, no
# error. fork is left out: LeakSanitizer in the child counts the buffer of
# the parent's waiting thread, which the child never had.
for fc in plain:ok deladdr:EINVAL cancel:cancelled close:send-failed; do
	c=${fc%%:*}
	rcase "fault ASan: $c: no AddressSanitizer/LeakSanitizer report"
	if2=""
	if [ "$c" = deladdr ]; then
		second_link || err "second link"
		if2=$XA
	fi
	# shellcheck disable=SC2086 # if2 is one word or nothing
	GUARD=60 rrun "asan-$c" "result=${fc#*:}" DADSHIM_NODAD=0 DADSHIM_WAIT_MS=20000 \
		DADSHIM_LOG_TARGET=stderr ASAN_OPTIONS=detect_leaks=1:exitcode=23 \
		"$B/faults_asan" "$c" "$IF1" fd00:a5a::1 $if2
	[ "$rc" -ne 23 ] || err "AddressSanitizer reported"
	! grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)' "$log" || err "sanitizer report on stderr"
	fds_same "$out"
done

########################################################################
# Descriptor lifecycle
########################################################################
# nodad_in NS ADDR: the kernel lists ADDR with the nodad flag
nodad_in() {
	ip -n "$1" -6 addr show | grep "inet6 $2/" | grep -q nodad
}

rcase "lifecycle 1: netlink number reused for UDP (bytes never rewritten), then for netlink (NODAD again)"
rrun l1a '' "$B/lifecycle" reuse "$IF1" fd00:11::1 fd00:11::2
! nodad_in "$NS1" fd00:11::1 || err "without the shim the kernel got NODAD"
rshim l1 'udp_number=@number netlink_again_number=@number udp_unchanged=4 addr1=0 addr2=0' \
	"$B/lifecycle" reuse "$IF1" fd00:11::3 fd00:11::4
nodad_in "$NS1" fd00:11::3 || err "first netlink socket: no NODAD in the kernel"
nodad_in "$NS1" fd00:11::4 || err "netlink again on the number: no NODAD in the kernel"

rcase "lifecycle 2: dup2 of UDP over a netlink socket, and of netlink over UDP"
rshim l2 'udp_unchanged=4 udp_received_as_sent=1 addr1=0 addr2=0' \
	"$B/lifecycle" dup2 "$IF1" fd00:12::1 fd00:12::2
in_table 231 fd00:d1::/64 || err "the route is not in table 231"
nodad_in "$NS1" fd00:12::2 || err "netlink dup2'ed over UDP: no NODAD in the kernel"

rcase "lifecycle 3: close_range behind the shim's back: numbers reused as file/unix socket untouched; netlink again works"
rshim l3 'reused_as=@numbers file_unchanged=1 held_number_read_as_file=1 unix_unchanged=1 addr2=0 route=0' \
	"$B/lifecycle" closerange "$IF1" fd00:13::1 fd00:13::2
expect "$out" netlink_again_number "$(kv "$out" numbers | cut -d, -f1)"
nodad_in "$NS1" fd00:13::2 || err "netlink after close_range: no NODAD in the kernel"
in_table 231 fd00:d3::/64 || err "route not in table 231"

rcase "lifecycle 4: a netlink socket the shim never saw made (raw syscall, like one inherited) is classified on first use"
rrun l4a '' "$B/lifecycle" inherit "$IF1" fd00:15::1 fd00:15::2
! nodad_in "$NS1" fd00:15::1 || err "without the shim the kernel got NODAD"
rshim l4 'addr1=0 addr2=0' "$B/lifecycle" inherit "$IF1" fd00:15::3 fd00:15::4
nodad_in "$NS1" fd00:15::3 || err "write() on the unseen socket: no NODAD in the kernel"
nodad_in "$NS1" fd00:15::4 || err "sendto() on the unseen socket: no NODAD in the kernel"

rcase "lifecycle 5: exec (fork+execve, posix_spawn) during a DAD wait: the child has only what the parent inherited"
rshim l5 'wait_seen=1 fork_exec_child_fds=@inherited_fds posix_spawn_child_fds=@inherited_fds route=0' \
	DADSHIM_NODAD=0 "$B/lifecycle" exec "$IF1" fd00:14::1
in_table 231 fd00:d4::/64 || err "route not in table 231"

rcase "lifecycle 6: close() resets the table before the number is free: a socket that gets it at once has its route wait for DAD"
rrun l6a 'reused=1 route=-22' LD_PRELOAD="$B/closehook.so" \
	"$B/lifecycle" closerace "$IF1" fd00:16::1 fd00:16::2
GUARD=60 rrun l6 'addr1=0 reused=1 route=0' LD_PRELOAD="$SHIM $B/closehook.so" \
	DADSHIM_LOG_TARGET=stderr DADSHIM_NODAD=0 "$B/lifecycle" closerace "$IF1" fd00:16::3 fd00:16::4
ip -n "$NS1" -6 route show table 231 | grep -q "^fd00:e6::/64 .*src fd00:16::3 " ||
	err "the reused socket's route is not in table 231"

rcase "lifecycle 8: a seccomp filter that kills on process_vm_readv/writev (SystemCallFilter=): the process lives, both requests get NODAD"
rrun l8a 'addr1=0 addr2=0 ok_errno=0' "$B/lifecycle" seccomp "$IF1" fd00:18::1 fd00:18::2
! nodad_in "$NS1" fd00:18::1 || err "without the shim the kernel got NODAD"
rshim l8 'addr1=0 addr2=0 ok_errno=0' "$B/lifecycle" seccomp "$IF1" fd00:18::3 fd00:18::4
nodad_in "$NS1" fd00:18::3 || err "sendto(): no NODAD in the kernel"
nodad_in "$NS1" fd00:18::4 || err "sendmsg(): no NODAD in the kernel"

rcase "lifecycle 9: after fork() the shim reads the child's memory, not the parent's: the child's address gets NODAD"
rshim l9 'addr1=0 child=0' "$B/lifecycle" forkpid "$IF1" fd00:19::1 fd00:19::2
nodad_in "$NS1" fd00:19::1 || err "parent's address: no NODAD in the kernel"
nodad_in "$NS1" fd00:19::2 || err "child's address: no NODAD in the kernel"

rcase "cancel leak: 1000 sends cancelled inside the shim leave no more heap blocks than without it"
rrun cl0 '' "$B/cancelleak" "$IF1" 1000
out0=$out
rshim cl1 '' "$B/cancelleak" "$IF1" 1000
for k in newaddr newaddr+1k-noop route; do
	a=$(sed -n "s/^cancelleak: kind=$k sends=1000 live_delta=\(-*[0-9]*\)$/\1/p" "$out0")
	b=$(sed -n "s/^cancelleak: kind=$k sends=1000 live_delta=\(-*[0-9]*\)$/\1/p" "$out")
	if [ -z "$a" ] || [ -z "$b" ]; then
		err "$k: no figure"
	elif [ "$b" -gt "$a" ]; then
		err "$k: $b live heap blocks after 1000 cancelled sends with the shim, $a without"
	fi
	note "$k: live heap blocks after 1000 cancelled sends: $a without the shim, $b with"
done
! ip -n "$NS1" -6 addr show | grep -q 'fd00:cc::1' || err "a cancelled send reached the kernel"
rcase_end

. tests/reliability/corners.sh	# issue 23's defects, the wait's rules

finish
