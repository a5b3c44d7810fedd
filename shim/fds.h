/* fds.h - what the shim knows of descriptors: a byte per number saying
 * what it was last seen to be (a hint that keeps other descriptors on the
 * fast path), and the shim's own short-lived sockets.  No mutex: atomics
 * only, so that no thread, signal handler or _Fork() child waits on one. */
#ifndef DADSHIM_FDS_H
#define DADSHIM_FDS_H

#include <stdint.h>

enum fd_kind {
	FD_UNKNOWN = 0,	/* not seen since start-up or since it was closed */
	FD_OTHER,	/* anything but an AF_NETLINK/NETLINK_ROUTE socket */
	FD_ROUTE,	/* an AF_NETLINK/NETLINK_ROUTE socket */
};

/* fd_kinds[fd] for fd < fd_kinds_len, which stays 0 until start-up ends. */
extern uint8_t *fd_kinds;
extern unsigned fd_kinds_len;

/* The kind of @fd, or -1 where the table does not reach (before start-up,
 * or a number too large).  No system call, no lock. */
static inline int fd_kind_fast(int fd)
{
	if ((unsigned)fd >= __atomic_load_n(&fd_kinds_len, __ATOMIC_ACQUIRE))
		return -1;
	return __atomic_load_n(&fd_kinds[fd], __ATOMIC_RELAXED);
}

/* Start-up: maps the table (a byte per number below the hard
 * RLIMIT_NOFILE, at most 2^24) and registers the fork handler; 0 or
 * -ENOMEM.  fds_publish() then makes lookups see it.  No lock. */
int fds_init(void);
void fds_publish(void);

/* Records @kind for @lo..@hi (within the table).  No system call. */
void fd_set_kind(unsigned lo, unsigned hi, int kind);

/* Asks the kernel what @fd is (SO_DOMAIN, SO_PROTOCOL), records it and
 * returns it; FD_UNKNOWN when @fd is not open.  May change errno. */
int fd_classify(int fd);

/* The program's close_range() or closefrom() over @lo..@hi, made by
 * @sweep: never while the shim holds a low number for an instant, and
 * around the shim's own sockets.  -1 when a call of @sweep failed (errno
 * from it), else 0.  Waits out a creation of another thread (microseconds;
 * at most 2 s for one that never ends); no mutex. */
int fd_sweep(unsigned lo, unsigned hi, int (*sweep)(unsigned, unsigned, int), int flags);

/* A socket of the shim's own: created while no sweep of the program runs,
 * moved at once to a high number (close-on-exec), recorded so that sweeps
 * spare it and a fork() child closes it; never while 0, 1 or 2 is closed
 * (it would take one).  The descriptor, or -errno (EBUSY: a sweep ran).
 * Not a cancellation point. */
int shim_fd_open(int domain, int type, int protocol);

/* 0 while @fd is the socket shim_fd_open() gave (the program may have
 * closed the number, or dup2()ed a file onto it), else -EBADF. */
int shim_fd_check(int fd);

/* Closes @fd if it is still the shim's (else the file is the program's
 * and stays open), and forgets it.  Waits out a sweep of another thread;
 * one that lasts 2 s leaves @fd forgotten but open.  May change errno; not
 * a cancellation point. */
void shim_fd_close(int fd);

#endif
