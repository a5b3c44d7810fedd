/* fdstate.h - per-descriptor state: what kind of descriptor a number was
 * last seen to be, and the route requests held for a possible retry.
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

/* Maps the descriptor table (one byte per descriptor up to the hard
 * RLIMIT_NOFILE, at least 65536, at most 2^24) and registers the fork
 * handlers of the lock.  When mmap() fails, logs it and leaves the table
 * empty (no fork handlers): the shim is then inactive, every wrapper
 * calls libc.  May change errno
 * (start-up restores it).  Called once, from start-up; no lock. */
void fdstate_init(void);
/* Makes the table visible to the wrappers' fast paths: the last step of
 * start-up.  Keeps errno; no lock. */
void fdstate_publish(void);

/* Forgets what is known of descriptors [@lo, @hi] (closed, or replaced
 * by dup2()), leaving them @kind; held requests of those numbers are
 * dropped and their helpers detached from them (held_forget()).  Call it
 * before the number goes back to the kernel.  Keeps errno.  Takes the
 * lock, once per number in FD_ROUTE_HELD; must not be called with it
 * held. */
void fd_reset(unsigned lo, unsigned hi, int kind);

/* Asks the kernel what @fd is (getsockopt SO_DOMAIN/SO_PROTOCOL) and
 * records it (an FD_ROUTE_HELD number that is still NETLINK_ROUTE keeps
 * its held state).  Returns the kind; FD_UNKNOWN when @fd is not open,
 * FD_OTHER on any other failure.  Keeps errno.  No lock. */
int fd_classify(int fd);

/* Route requests larger than this are sent, but not held: no retry.
 * charon's are 76 to about 120 bytes. */
#define HELD_MSG_MAX 512
/* Sends of one request (the caller's retransmits and the shim's resend)
 * whose answers the kernel still owes. */
#define HELD_SENDS 32

/* Where a held request stands.  What moves it, and who may (see
 * shim/DESIGN.md, section 4):
 *   SENT      the caller sent it (once, or several times with identical
 *             bytes); no refusal of it met yet.
 *   WAITING   its EINVAL is at the head of the queue and blocking readers
 *             wait for DAD in their own thread, the EINVAL left in place.
 *   DETACHED  a non-blocking reader met its EINVAL: the EINVAL was taken
 *             off the queue, and a helper thread waits and sends again.
 *   RETRIED   the shim sent it again; the answer to that send is the
 *             caller's, EINVALs of earlier sends are dropped.
 *   GAVE_UP   the kernel's refusal goes to the caller.
 * An entry is dropped when no answer is owed any more (and no thread
 * acts on it), when its descriptor is closed, or evicted when the table
 * is full (oldest first; never a DETACHED one). */
enum held_state { HELD_SENT, HELD_WAITING, HELD_DETACHED, HELD_RETRIED, HELD_GAVE_UP };

/* A route request sent on a NETLINK_ROUTE socket and not yet answered. */
struct held_req {
	int used;
	int fd;
	enum held_state state;
	struct route_req req;
	unsigned char msg[HELD_MSG_MAX];	/* private copy of the request */
	struct sockaddr_nl to;	/* the caller's destination, if has_to */
	int has_to;		/* 0: sent without an address (send, write) */
	uint64_t sends[HELD_SENDS];	/* order of each send still owed an
					 * answer, oldest first */
	unsigned nsends;
	uint64_t resend;	/* order of the shim's own send, 0 if none */
	int answered;		/* DETACHED: the caller got an answer anyway */
	int claimed;		/* DETACHED: its helper is working on it */
	uint64_t refused;	/* DETACHED: order of the send refused */
	uint64_t sock;		/* DETACHED: the socket's port id */
	int wait_result;	/* enum dad_wait_result, for the log */
	unsigned dad_ms;	/* how long DAD took, for the log */
	uint64_t gen;		/* tells a reused slot from the entry it was */
	uint64_t age;		/* for evicting the oldest */
};

/* The lock for everything below, and for the receive path of descriptors
 * in FD_ROUTE_HELD (rules: shim/DESIGN.md, section 5).  Held only around non-blocking system calls, never
 * across a log line or an allocation; cancellation is disabled while it
 * is held, so a cancelled thread cannot leave it locked.  state_unlock()
 * writes, after unlocking, the log line that fdstate deferred, then
 * restores the cancel state saved in *@cancel_state by state_lock().  Not
 * recursive.  Both keep errno. */
void state_lock(int *cancel_state);
void state_unlock(int cancel_state);

/* All of these (down to helper_next) are called with the lock held, and
 * neither block, log nor allocate; they never change errno.  A line
 * held_add() wants logged is deferred to state_unlock(). */

/* Records one more send of the request @msg (@req->len bytes, described by
 * @req) on @fd to @to (NULL: no address).  Identical bytes on the same
 * descriptor while the entry is SENT, WAITING or DETACHED are a
 * retransmit: one more answer owed by that entry.  Anything else is an
 * entry of its own, even with the same seq.  Returns the entry, or NULL
 * when it cannot be held (too large, table full of DETACHED entries,
 * too many retransmits): the request then simply goes out unheld. */
struct held_req *held_add(int fd, const struct route_req *req, const void *msg,
		      const struct sockaddr_nl *to);
/* The send of @msg just recorded on @fd failed: the kernel owes nothing
 * for it.  Forgets that send (the newest of the entry with these bytes). */
void held_unsend(int fd, const struct route_req *req, const void *msg);
/* The entry that reply @rh answers on @fd: among entries whose request
 * header equals the echoed one, the one with the oldest send still owed
 * (the kernel answers in order).  Its sends[0] is the send answered. */
struct held_req *held_match(int fd, const struct reply_head *rh);
/* The answer to @h's oldest owed send left the queue (taken by the caller
 * or dropped by the shim).  Drops @h once nothing is owed and no thread
 * acts on it (WAITING, DETACHED). */
void held_answered(struct held_req *h);
/* The shim is about to send @h again: one more answer owed, the newest. */
void held_resend_mark(struct held_req *h);
/* ... and that send failed: nothing owed for it; the entry GAVE_UP. */
void held_resend_failed(struct held_req *h);
/* A handle on @h that stays valid across an unlock, and back: NULL when
 * the entry has been dropped since (descriptor closed, evicted, or the
 * slot reused: each use of a slot has a generation of its own). */
uintptr_t held_ref(const struct held_req *h);
struct held_req *held_deref(uintptr_t ref);
/* Drops @h whatever its state (its slot becomes free), and returns its
 * descriptor to FD_ROUTE when nothing else is held for it. */
void held_drop(struct held_req *h);
/* Forgets everything held for descriptors [@lo, @hi] (closed), and
 * detaches their helpers from those numbers. */
void held_forget(unsigned lo, unsigned hi);

/* Helper threads: at most one per socket, working through its DETACHED
 * entries in the order they were refused, so that the resends go out in
 * the order the caller sent.  Under the lock. */
#define HELD_MAX_HELPERS 32	/* helper ids are below this */
/* A helper works for one socket: descriptor @fd whose port id is @sock (a
 * number closed behind the shim's back and reused is another socket, with
 * another port id). */
/* Returns 1 when a helper works for that socket now. */
int helper_active(int fd, uint64_t sock);
/* Registers a helper for it; returns its id, or -1 when the table is full. */
int helper_add(int fd, uint64_t sock);
/* The next DETACHED entry helper @id must act on (claimed for it), or
 * NULL; with NULL the helper is unregistered in the same step, so that a
 * later refusal starts a new one. */
struct held_req *helper_next(int id);

#endif
