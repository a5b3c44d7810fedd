/* fds.h - what the shim knows of descriptors: a byte per number saying
 * what it was last seen to be (a hint that keeps other descriptors on the
 * fast path), and the shim's own short-lived descriptors, which never take
 * a number the program could be using.  No mutex anywhere: atomics only,
 * so that no thread, signal handler or _Fork() child ever waits on one. */
#ifndef DADSHIM_FDS_H
#define DADSHIM_FDS_H

#include <stdint.h>
#include <sys/types.h>

enum fd_kind {
	FD_UNKNOWN = 0,	/* not seen since start-up or since it was closed */
	FD_OTHER,	/* anything but an AF_NETLINK/NETLINK_ROUTE socket */
	FD_ROUTE,	/* an AF_NETLINK/NETLINK_ROUTE socket */
};

/* The table: fd_kinds[fd] for fd < fd_kinds_len (0 until start-up has
 * run, so that every lookup before it fails). */
extern uint8_t *fd_kinds;
extern unsigned fd_kinds_len;

/* The kind of @fd, or -1 when the table does not cover it (before
 * start-up, or a number too large): the caller then takes the slow path.
 * Lock-free; no system call. */
static inline int fd_kind_fast(int fd)
{
	if ((unsigned)fd >= __atomic_load_n(&fd_kinds_len, __ATOMIC_ACQUIRE))
		return -1;
	return __atomic_load_n(&fd_kinds[fd], __ATOMIC_RELAXED);
}

/* Start-up: maps the table (one byte per number below the hard
 * RLIMIT_NOFILE, at most 2^24), registers the fork handler.  Returns 0,
 * or -ENOMEM (the shim then stays inactive: every lookup fails over to
 * libc).  No lock. */
int fds_init(void);

/* Publishes the table: from now on lookups see it.  No lock. */
void fds_publish(void);

/* Records @kind for the numbers @lo..@hi (clamped to the table).
 * Lock-free; no system call. */
void fd_set_kind(unsigned lo, unsigned hi, int kind);

/* Asks the kernel what @fd is (SO_DOMAIN, SO_PROTOCOL), records and
 * returns it; FD_UNKNOWN when @fd is not open.  Two system calls; may
 * change errno; no lock. */
int fd_classify(int fd);

/* The program's close_range()/closefrom() over @lo..@hi, made by @sweep:
 * never while the shim holds a number low for an instant, and around the
 * shim's own descriptors, which stay open.  Returns -1 when a call of
 * @sweep failed (errno from it), else 0.  Spins briefly at most; no
 * mutex. */
int fd_sweep(unsigned lo, unsigned hi, int (*sweep)(unsigned, unsigned, int),
	     int flags);

/* Opens a socket of the shim's own: created while no sweep of the
 * program runs, moved at once to a high number (close-on-exec), and
 * recorded so that sweeps spare it and a fork() child closes it.  Never
 * when one of 0..2 is closed (the socket would take it).  Returns the
 * descriptor, or -errno (EBUSY: the program was sweeping).  Not a
 * cancellation point; no mutex. */
int shim_fd_open(int domain, int type, int protocol);

/* Returns 0 when @fd is still the socket shim_fd_open() gave (the program
 * may have closed the number, or dup2()ed another file onto it), else
 * -EBADF.  One fstat(). */
int shim_fd_check(int fd);

/* Closes @fd, from shim_fd_open(), if it is still the shim's (else the
 * file is the program's, and stays open), and forgets it.  Keeps errno;
 * not a cancellation point; no mutex. */
void shim_fd_close(int fd);

#endif
