/* fdstate.h - per-descriptor state: what kind of descriptor a number was
 * last seen to be, and the requests held for a possible retry.
 *
 * The kind is a hint: a number can be closed behind the shim's back
 * (close_range(), libc-internal closes) and reused.  It is only trusted to
 * skip work; before bytes are changed the descriptor is confirmed. */
#ifndef DADSHIM_FDSTATE_H
#define DADSHIM_FDSTATE_H

#include <stdint.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include "inspect.h"

enum fd_kind {
	FD_UNKNOWN = 0,	/* not seen yet (inherited) or closed */
	FD_OTHER,	/* anything but an AF_NETLINK/NETLINK_ROUTE socket */
	FD_ROUTE,	/* a NETLINK_ROUTE socket */
	FD_ROUTE_HELD,	/* ... with requests held for a retry */
	FD_SHIM,	/* the shim's own (a DAD wait's socket): not the caller's */
};

extern uint8_t *fd_kinds;
extern unsigned fd_kinds_len;
extern unsigned fd_kinds_high;	/* highest number ever given a kind */

/* The fast path of every wrapper: one bounds check, one relaxed load.
 * Numbers beyond the table (above the hard RLIMIT_NOFILE at start) are
 * left alone entirely. */
static inline int fd_kind(int fd)
{
	if ((unsigned)fd >= fd_kinds_len)
		return FD_OTHER;
	return __atomic_load_n(&fd_kinds[fd], __ATOMIC_RELAXED);
}

/* The same for the wrappers' fast paths, without start-up check: -1
 * until the table is published (start-up not done), and for numbers
 * beyond it.  The table is published last, so a thread that sees it also
 * sees the real functions resolved. */
static inline int fd_kind_fast(int fd)
{
	if ((unsigned)fd >= __atomic_load_n(&fd_kinds_len, __ATOMIC_ACQUIRE))
		return -1;
	return __atomic_load_n(&fd_kinds[fd], __ATOMIC_RELAXED);
}

static inline void fd_kind_set(int fd, int kind)
{
	unsigned high;

	if ((unsigned)fd >= fd_kinds_len)
		return;
	__atomic_store_n(&fd_kinds[fd], (uint8_t)kind, __ATOMIC_RELAXED);
	/* The watermark bounds the sweeps of close_range()/closefrom(). */
	high = __atomic_load_n(&fd_kinds_high, __ATOMIC_RELAXED);
	while ((unsigned)fd > high &&
	       !__atomic_compare_exchange_n(&fd_kinds_high, &high, (unsigned)fd, 1,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* Maps the descriptor table (one byte per descriptor up to the hard
 * RLIMIT_NOFILE, at least 65536, at most 2^24) and registers the fork
 * handlers of the lock.  When mmap() fails, logs it and leaves the table
 * empty (no fork handlers): the shim is then inactive, every wrapper
 * calls libc.  May change errno (start-up restores it).  Called once,
 * from start-up; no lock. */
void fdstate_init(void);
/* Makes the table visible to the wrappers' fast paths: the last step of
 * start-up.  Keeps errno; no lock. */
void fdstate_publish(void);

/* Forgets what is known of descriptors [@lo, @hi] (closed, or replaced
 * by dup2()), leaving them @kind; held requests of those numbers are
 * dropped.  The shim's own numbers (FD_SHIM) are left alone, and a
 * vfork() child (vm_owner()) never drops its parent's held requests.  Call it before the number goes back to the kernel.
 * Keeps errno.  Takes the lock, once per number in FD_ROUTE_HELD; must
 * not be called with it held. */
void fd_reset(unsigned lo, unsigned hi, int kind);

/* Asks the kernel what @fd is (getsockopt SO_DOMAIN/SO_PROTOCOL) and
 * records it (an FD_ROUTE_HELD number that is still NETLINK_ROUTE keeps
 * its held state).  Returns the kind; FD_UNKNOWN when @fd is not open,
 * FD_OTHER on any other failure.  Keeps errno.  No lock. */
int fd_classify(int fd);

/* The shim's own descriptor holds the lowest free number for an instant,
 * from socket() until it has a high one: a close_range() or closefrom() of
 * the program in that instant could close it and reuse the number for a
 * file, which the shim would then close.  So the program's sweeps
 * (fd_sweep_begin/end, shared among themselves) and the shim's move
 * (fd_move_begin/end, alone) exclude each other.  A read-write lock apart
 * from the state lock, taken before it; neither is a cancellation point;
 * the fork handlers take and renew it.  Keep errno. */
void fd_sweep_begin(void);
void fd_sweep_end(void);
void fd_move_begin(void);
void fd_move_end(void);

/* The lowest number the shim's own descriptors take (F_DUPFD_CLOEXEC
 * from there): well above the numbers a program uses, below its soft
 * RLIMIT_NOFILE.  Keeps errno.  No lock. */
int fd_private_min(void);

/* Requests larger than this are sent, but not held: no retry.  charon's
 * are 76 to about 120 bytes. */
#define HELD_MSG_MAX 512

/* Where a held request stands (shim/DESIGN.md, section 4):
 *   SENT      the caller sent it; no answer read yet.
 *   WAITING   its EINVAL is at the head of the queue, left there, and a
 *             blocking reader waits for DAD in its own thread.
 *   RETRIED   the shim sent it again and took the EINVAL off the queue:
 *             the next answer to it is the resend's, and the caller's.
 *   GAVE_UP   the kernel's refusal goes to the caller.
 * One entry per send.  It is dropped when its answer leaves the queue,
 * when its descriptor is closed, or when the table is full (oldest
 * first). */
enum held_state { HELD_SENT, HELD_WAITING, HELD_RETRIED, HELD_GAVE_UP };

/* A request sent on a NETLINK_ROUTE socket and not yet answered. */
struct held_req {
	int used;
	int fd;
	enum held_state state;
	int followed;		/* something else was sent on @fd after it */
	struct retry_req req;
	unsigned char msg[HELD_MSG_MAX];	/* private copy of the request */
	struct sockaddr_nl to;	/* the caller's destination, if has_to */
	int has_to;		/* 0: sent without an address (send, write) */
	uint64_t order;		/* when it was sent, across all descriptors */
	uint64_t gen;		/* tells a reused slot from the entry it was */
	int wait_result;	/* RETRIED: enum dad_wait_result, for the log */
	unsigned dad_ms;	/* RETRIED: how long DAD took, for the log */
};

/* The lock for everything below, for the receive path of descriptors
 * in FD_ROUTE_HELD, and for closing the shim's own descriptors (rules:
 * shim/DESIGN.md, section 5).  Held only around calls that do not wait,
 * never across a log line or an allocation; cancellation is disabled
 * while it is held, so a cancelled thread cannot leave it locked.
 * state_unlock() writes, after unlocking, the log line that fdstate
 * deferred, then restores the cancel state saved in *@cancel_state by
 * state_lock().  Not recursive.  Both keep errno. */
void state_lock(int *cancel_state);
void state_unlock(int cancel_state);

/* All of these are called with the lock held, and neither block, log nor
 * allocate; they never change errno.  A line held_add() wants logged is
 * deferred to state_unlock(). */

/* Records a send of the request @msg (@req->len bytes, described by @req)
 * on @fd to @to (NULL: no address), after marking every earlier entry of
 * @fd followed.  Returns the entry, or NULL when it cannot be held (too
 * large): it then simply goes out unheld. */
struct held_req *held_add(int fd, const struct retry_req *req, const void *msg,
			  const struct sockaddr_nl *to);
/* Something else is about to be sent on @fd: no earlier request of @fd
 * may be sent again, or it would take effect after this one. */
void held_followed(int fd);
/* The entry that reply @rh answers on @fd: the oldest whose request
 * header equals the echoed one (the kernel answers in order). */
struct held_req *held_match(int fd, const struct reply_head *rh);
/* Returns 1 when @h, refused, may still be retried: SENT or WAITING, and
 * nothing sent after it. */
int held_retryable(const struct held_req *h);
/* A handle on @h that stays valid across an unlock: held_deref() gives
 * NULL once the entry has been dropped (closed, answered, evicted, or the
 * slot reused: each use of a slot has a generation of its own). */
uintptr_t held_ref(const struct held_req *h);
struct held_req *held_deref(uintptr_t ref);
/* A blocking reader is about to wait for @h's source: WAITING.  Returns
 * held_ref(@h). */
uintptr_t held_wait(struct held_req *h);
/* @h was sent again (its EINVAL taken off the queue): RETRIED, with the
 * wait's @result and duration @ms for the log of its answer. */
void held_retried(struct held_req *h, int result, unsigned ms);
/* The kernel's refusal of @h goes to the caller: GAVE_UP. */
void held_give_up(struct held_req *h);
/* @h's answer left the queue, or its send failed: dropped. */
void held_drop(struct held_req *h);
/* Forgets everything held for descriptors [@lo, @hi] (closed). */
void held_forget(unsigned lo, unsigned hi);

#endif
