/* fdstate.h - per-descriptor state: what kind of descriptor a number was
 * last seen to be, and the route requests held for a possible retry.
 *
 * The kind is a hint: a number can be closed behind the shim's back
 * (close_range(), libc-internal closes) and reused.  It is only trusted to
 * skip work; before bytes are changed the descriptor is confirmed. */
#ifndef DADSHIM_FDSTATE_H
#define DADSHIM_FDSTATE_H

#include <stdint.h>
#include "inspect.h"

enum fd_kind {
	FD_UNKNOWN = 0,	/* not seen yet (inherited) or closed */
	FD_OTHER,	/* anything but an AF_NETLINK/NETLINK_ROUTE socket */
	FD_ROUTE,	/* a NETLINK_ROUTE socket */
	FD_ROUTE_HELD,	/* ... with route requests held for a retry */
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

void fdstate_init(void);
/* Makes the table visible to the wrappers' fast paths: the last step of
 * start-up. */
void fdstate_publish(void);

/* Forgets what is known of descriptors [@lo, @hi] (closed, or replaced
 * by dup2()), leaving them @kind. */
void fd_reset(unsigned lo, unsigned hi, int kind);

/* Asks the kernel what @fd is (getsockopt SO_DOMAIN/SO_PROTOCOL) and
 * records it.  Returns the kind; FD_UNKNOWN when @fd is not open. */
int fd_classify(int fd);

/* A route request sent on a NETLINK_ROUTE socket and not yet answered. */
struct held {
	int fd;
	int used;
	struct route_req req;
	unsigned char *msg;	/* private copy of the request */
	unsigned owed;		/* replies the kernel still owes for this seq */
	unsigned ahead;		/* of those, queued before our resend */
	int retried;		/* resent after DAD ended */
	int gave_up;		/* original error delivered: no more waiting */
	unsigned dad_ms;	/* how long DAD took, for the log */
	uint64_t age;		/* for evicting the oldest */
};

/* The lock for everything below, and for the receive path of descriptors
 * in FD_ROUTE_HELD.  Never held across a blocking call; cancellation is
 * disabled while it is held, so a cancelled thread cannot leave it locked. */
void state_lock(int *cancel_state);
void state_unlock(int cancel_state);

/* Under the lock. */
struct held *held_find(int fd, uint32_t seq);
/* Records one more send of @req (a copy of @msg) on @fd: a new entry, or
 * one more reply owed by an entry with the same seq (a retransmit).
 * Returns the entry, or NULL without memory. */
struct held *held_add(int fd, const struct route_req *req, const void *msg);
/* One reply for @h was taken from the queue, by the caller or the shim. */
void held_reply_seen(struct held *h);
void held_drop(struct held *h);
/* Forgets everything held for descriptors [@lo, @hi] (closed). */
void held_forget(unsigned lo, unsigned hi);

#endif
