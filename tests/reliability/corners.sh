# shellcheck shell=sh
# The twelve defects of issue 16, one check (or three, for 6) each, named
# "defect N: ...": tests/reliability/corners.c run in fresh namespace pairs
# (a veth with DAD on), without the shim first where the kernel's own
# answer is the reference, then with it.  Judged on what the program saw
# (return values, errno, signals, its descriptors and threads) and on what
# the kernel holds (`ip`); the shim's log only in defect 12, whose subject
# it is.  Sourced by tests/reliability/run.sh near its end, or run alone
# (as root, from anywhere): sh tests/reliability/corners.sh
if [ -z "${T_TMP:-}" ]; then
	set -eu
	cd "$(dirname "$0")/../.."
	# shellcheck source=tests/lib/netns.sh
	. tests/lib/netns.sh
	require_root corners
	require_file corners "$SHIM"
	CORNERS_ALONE=1
else
	CORNERS_ALONE=0
fi
CB=$(pwd)/build/tests/reliability
require_file corners "$CB/corners" "$CB/cancelhook.so"

# c_kv FILE KEY: the value of KEY in the program's summary line
c_kv() {
	sed -n "s/^corners: .* $2=\([^ ]*\).*$/\1/p" "$1" | head -n 1
}

# c_is FILE KEY VALUE [WHAT]: one err unless KEY=VALUE
c_is() {
	_v=$(c_kv "$1" "$2")
	[ "$_v" = "$3" ] || err "${4:+$4: }$2=${_v:-missing}, expected $3"
}

# c_ran RC WHAT: the program ended by itself, with status 0
c_ran() {
	if [ "$1" -eq 124 ]; then
		err "$2: killed by the timeout guard (hang)"
	elif [ "$1" -ge 128 ]; then
		err "$2: killed by signal $(($1 - 128))"
	elif [ "$1" -ne 0 ]; then
		err "$2: exit status $1"
	fi
}

# c_bare NAME MODE PREFIX: corners without the shim in a fresh pair; sets
# c_out
c_bare() {
	setup_pair || err "namespace setup failed"
	c_out=$T_TMP/c-$1.bare
	_rc=0
	GUARD=150 in_ns "$CB/corners" "$2" "$IF1" "$3" >"$c_out" 2>&1 || _rc=$?
	c_ran "$_rc" "without the shim"
}

# c_shim NAME MODE PREFIX [VAR=VAL]...: corners with the shim (its log on
# stderr) in a fresh pair; sets c_out, c_log
c_shim() {
	_n=$1
	_m=$2
	_p=$3
	shift 3
	setup_pair || err "namespace setup failed"
	c_out=$T_TMP/c-$_n.out
	c_log=$T_TMP/c-$_n.log
	_rc=0
	GUARD=150 with_shim "$@" "$CB/corners" "$_m" "$IF1" "$_p" >"$c_out" 2>"$c_log" || _rc=$?
	c_ran "$_rc" "with the shim"
}

# c_answers FILE DST: the 4 rounds' answers ("answers=A,B,C,D"), each an
# ack with its route (DSTk::/64) in table 233, or the kernel's EINVAL
# without it
c_answers() {
	_k=0
	for _a in $(c_kv "$1" answers | tr ',' ' '); do
		case $_a in
		0) c_route "$2$_k::/64" || err "round $_k acked, but $2$_k::/64 is not in table 233" ;;
		-22) ! c_route "$2$_k::/64" || err "round $_k refused, but $2$_k::/64 is in table 233" ;;
		*) err "round $_k: answer $_a, expected 0 (retried) or -22" ;;
		esac
		_k=$((_k + 1))
	done
	[ "$_k" = 4 ] || err "$_k answers, not 4"
}

# c_begin NAME: begin the case, unless TAP_ONLY leaves it out (1: skip it)
c_begin() {
	if command -v tap_selected >/dev/null 2>&1; then
		tap_selected "$1" || return 1
	fi
	case_begin "$1"
}

c_addr() {
	ip -n "$NS1" -6 addr show dev "$IF1" | grep -q "inet6 $1/"
}

c_route() {
	route_in_table "$NS1" 233 | grep -q "^$1 "
}

c_d1() {
	c_begin "defect 1: sendmmsg, process_vm_writev refused (seccomp), mmsghdr array read-only: EFAULT as without the shim, no signal" || return 0
	c_bare d1 sendmmsg fd00:c1
	c_is "$c_out" sendmmsg -14 "without the shim"
	c_is "$c_out" signal 0 "without the shim"
	c_addr fd00:c1::1 || err "without the shim: the datagram did not reach the kernel"
	b=$c_out
	c_shim d1 sendmmsg fd00:c1
	c_is "$c_out" sendmmsg -14
	c_is "$c_out" signal 0
	c_addr fd00:c1::1 || err "the datagram did not reach the kernel"
	case_end "$b" "$c_out" "$c_log" || :
}

c_d2() {
	c_begin "defect 2: children of _Fork() and of a raw clone() send their own bytes, never their parent's" || return 0
	c_bare d2 forkown fd00:c2
	c_is "$c_out" fork_child 0 "without the shim"
	c_is "$c_out" clone_child 0 "without the shim"
	b=$c_out
	c_shim d2 forkown fd00:c2
	c_is "$c_out" fork_child 0
	c_is "$c_out" clone_child 0
	c_addr fd00:c2::2 || err "_Fork child: its own address fd00:c2::2 is not in the kernel"
	! c_addr fd00:c2::3 || err "_Fork child: the kernel got its parent's address fd00:c2::3"
	c_addr fd00:c2::4 || err "clone child: its own address fd00:c2::4 is not in the kernel"
	! c_addr fd00:c2::5 || err "clone child: the kernel got its parent's address fd00:c2::5"
	case_end "$b" "$c_out" "$c_log" || :
}

c_d3() {
	c_begin "defect 3: sendmsg with a 2nd iovec of length 0 at a kernel address: EFAULT as without the shim, nothing added" || return 0
	c_bare d3 zeroiov fd00:c3
	c_is "$c_out" sendmsg -14 "without the shim"
	b=$c_out
	c_shim d3 zeroiov fd00:c3
	c_is "$c_out" sendmsg -14
	! c_addr fd00:c3::1 || err "the address was added"
	case_end "$b" "$c_out" "$c_log" || :
}

# The first send was followed by another: the kernel's EINVAL, as without
# the shim.  The second was the last sent: the shim may retry it (an ack,
# and the route is there) or not (EINVAL, no route); either way one answer
# each, no read hangs, nothing more queued.
c_d4() {
	c_begin "defect 4: one route sent twice with one seq before reading: one answer each (the first EINVAL), no read hangs" || return 0
	c_bare d4 sameseq fd00:c4
	c_is "$c_out" a1 -22 "without the shim"
	c_is "$c_out" a2 -22 "without the shim"
	c_is "$c_out" extra 0 "without the shim"
	b=$c_out
	c_shim d4 sameseq fd00:c4 DADSHIM_NODAD=0
	c_is "$c_out" a1 -22
	c_is "$c_out" extra 0
	case $(c_kv "$c_out" a2) in
	0) c_route fd00:44::/64 || err "the second request was acked, but the route is not in table 233" ;;
	-22) ! c_route fd00:44::/64 || err "both were refused, but the route is in table 233" ;;
	*) err "a2=$(c_kv "$c_out" a2), expected 0 (retried) or -22" ;;
	esac
	case_end "$b" "$c_out" "$c_log" || :
}

c_d5() {
	c_begin "defect 5: pipelined add (tentative source) then delete of one route: EINVAL, ESRCH, in order, no route, as without the shim" || return 0
	c_bare d5 adddel fd00:c5
	for k in first_seq:501 first:-22 second_seq:502 second:-3; do
		c_is "$c_out" "${k%%:*}" "${k#*:}" "without the shim"
	done
	b=$c_out
	c_shim d5 adddel fd00:c5 DADSHIM_NODAD=0
	for k in first_seq:501 first:-22 second_seq:502 second:-3; do
		c_is "$c_out" "${k%%:*}" "${k#*:}"
	done
	! c_route fd00:45::/64 || err "the deleted route is in table 233"
	case_end "$b" "$c_out" "$c_log" || :
}

# The wait's socket is made at the lowest free number (no system call
# makes one higher) and moved high at once: that moment is not asserted
# ("open"); a descriptor kept at 0 is ("held").
c_d6a() {
	c_begin "defect 6: stdin closed: the shim keeps no descriptor at 0 (non-blocking reader, then a reader waiting for the retry)" || return 0
	c_bare d6a stdin fd00:c6
	for k in nb_fd0_open nb_fd0_ack wait_fd0_open wait_fd0_ack; do
		c_is "$c_out" "$k" 0 "without the shim"
	done
	c_is "$c_out" answer -22 "without the shim"
	b=$c_out
	c_shim d6a stdin fd00:c6 DADSHIM_NODAD=0
	for k in nb_fd0_held nb_fd0_ack wait_fd0_held wait_fd0_ack; do
		c_is "$c_out" "$k" 0
	done
	for k in nb_fd0_open wait_fd0_open; do
		[ "$(c_kv "$c_out" $k)" = 0 ] || note "defect 6: $k=1: fd 0 was the shim's for a moment"
	done
	c_is "$c_out" answer 0 "the waiting reader"
	c_route fd00:47::/64 || err "the waiting reader's route is not in table 233"
	case_end "$b" "$c_out" "$c_log" || :
}

c_d6b() {
	c_begin "defect 6: a refused route read non-blocking (EINVAL at once), then close_range(3, ~0U, 0): the program's new descriptors stay its own" || return 0
	c_bare d6b closerange-nb fd00:c6
	c_is "$c_out" first -22 "without the shim"
	c_is "$c_out" foreign 0 "without the shim"
	c_is "$c_out" lost 0 "without the shim"
	b=$c_out
	c_shim d6b closerange-nb fd00:c6 DADSHIM_NODAD=0
	c_is "$c_out" first -22 "the non-blocking reader"
	c_is "$c_out" foreign 0 "bytes on the program's new UDP socket"
	c_is "$c_out" lost 0 "the program's new descriptors closed behind its back"
	case_end "$b" "$c_out" "$c_log" || :
}

# The close_range comes as soon as the wait's first descriptor appears at
# the lowest free number (4 rounds, each a little later: 4 us to 2 ms),
# while the shim moves it to a high one.  The wait may go on (an ack, the
# route) or end (the kernel's EINVAL, no route); the program's files must
# stay its own either way.
c_d6c() {
	c_begin "defect 6: close_range/closefrom above the socket as a retry wait begins: the program's new files stay open, one answer" || return 0
	c_bare d6c closerange-wait fd00:c6
	c_is "$c_out" lost 0 "without the shim"
	c_is "$c_out" answers -22,-22,-22,-22 "without the shim"
	b=$c_out
	c_shim d6c closerange-wait fd00:c6 DADSHIM_NODAD=0
	n=$(c_kv "$c_out" wait_seen)
	[ "${n:-0}" -ge 1 ] || err "no round saw the wait begin (wait_seen=$n)"
	c_is "$c_out" lost 0 "the program's new files closed behind its back"
	c_answers "$c_out" fd00:6
	note "$(cat "$c_out")"
	case_end "$b" "$c_out" "$c_log" || :
}

c_d7() {
	c_begin "defect 7: a closed socket's explicit nl_pid can be bound again at once (after a non-blocking read of a refused route)" || return 0
	c_bare d7 rebind fd00:c7
	c_is "$c_out" rebind 0 "without the shim"
	b=$c_out
	c_shim d7 rebind fd00:c7 DADSHIM_NODAD=0
	c_is "$c_out" rebind 0
	case_end "$b" "$c_out" "$c_log" || :
}

c_d8() {
	c_begin "defect 8: fork() during a retry wait: the child holds no descriptor of the shim's" || return 0
	c_bare d8 forkwait fd00:c8
	c_is "$c_out" child_extra 0 "without the shim"
	c_is "$c_out" answers -22,-22,-22,-22 "without the shim"
	b=$c_out
	c_shim d8 forkwait fd00:c8 DADSHIM_NODAD=0
	n=$(c_kv "$c_out" wait_seen)
	[ "${n:-0}" -ge 1 ] || err "no round saw the wait begin (wait_seen=$n)"
	c_is "$c_out" child_extra 0
	c_answers "$c_out" fd00:7
	note "$(cat "$c_out")"
	case_end "$b" "$c_out" "$c_log" || :
}

c_d9() {
	c_begin "defect 9: a single-threaded program that reads refused routes non-blocking (MSG_DONTWAIT, O_NONBLOCK) gets EINVAL at once, stays single-threaded" || return 0
	c_bare d9 threads fd00:c9
	c_is "$c_out" first -22 "without the shim"
	c_is "$c_out" nonblock -22 "without the shim"
	c_is "$c_out" threads 1 "without the shim"
	c_is "$c_out" unshare 0 "without the shim"
	b=$c_out
	c_shim d9 threads fd00:c9 DADSHIM_NODAD=0
	c_is "$c_out" first -22 "MSG_DONTWAIT"
	c_is "$c_out" nonblock -22 "O_NONBLOCK"
	c_is "$c_out" threads 1
	c_is "$c_out" unshare 0
	for r in fd00:4c::/64 fd00:4f::/64; do
		! c_route "$r" || err "the refused route $r is in table 233"
	done
	case_end "$b" "$c_out" "$c_log" || :
}

c_d10() {
	c_begin "defect 10: a vfork() child that closes the socket (close; close_range + exec) leaves the parent's retry alone" || return 0
	c_bare d10 vfork fd00:ca
	for k in none close closerange_exec; do
		c_is "$c_out" "$k" -22 "without the shim"
	done
	b=$c_out
	c_shim d10 vfork fd00:ca DADSHIM_NODAD=0
	for k in none close closerange_exec; do
		c_is "$c_out" "$k" 0
	done
	for r in fd00:a0::/64 fd00:a1::/64 fd00:a2::/64; do
		c_route "$r" || err "$r is not in table 233"
	done
	case_end "$b" "$c_out" "$c_log" || :
}

c_d11() {
	c_begin "defect 11: a thread cancelled at the shim's resend, or while it waits for DAD, leaks no descriptor" || return 0
	setup_pair || err "namespace setup failed"
	c_out=$T_TMP/c-d11.out
	c_log=$T_TMP/c-d11.log
	rc=0
	GUARD=150 in_ns env LD_PRELOAD="$SHIM $CB/cancelhook.so" DADSHIM_LOG_TARGET=stderr \
		DADSHIM_NODAD=0 "$CB/corners" cancel "$IF1" fd00:cb >"$c_out" 2>"$c_log" || rc=$?
	c_ran "$rc" "with the shim"
	c_is "$c_out" hooked 1 "the resend reached the hook"
	c_is "$c_out" cancelled 1
	c_is "$c_out" leaked 0
	c_is "$c_out" wait_seen 1 "cancelled while waiting"
	c_is "$c_out" wait_cancelled 1
	c_is "$c_out" wait_leaked 0
	c_is "$c_out" after 0 "a request after the cancellations"
	case_end "$c_out" "$c_log" || :
}

c_d12() {
	c_begin "defect 12: no wait possible (RLIMIT_NOFILE exhausted): the caller gets EINVAL, the log says why" || return 0
	c_bare d12 emfile fd00:cc
	c_is "$c_out" answer -22 "without the shim"
	b=$c_out
	c_shim d12 emfile fd00:cc DADSHIM_NODAD=0
	c_is "$c_out" answer -22
	! shim_log "$c_log" | grep -q 'after 0 ms' || err "the log says 'after 0 ms'"
	shim_log "$c_log" | grep -q 'Too many open files' ||
		err "the log does not say that no descriptor was free (Too many open files)"
	! c_route fd00:4e::/64 || err "the route is in table 233"
	case_end "$b" "$c_out" "$c_log" || :
}

for c in c_d1 c_d2 c_d3 c_d4 c_d5 c_d6a c_d6b c_d6c c_d7 c_d8 c_d9 c_d10 c_d11 c_d12; do
	"$c"
done

[ "$CORNERS_ALONE" = 0 ] || finish
