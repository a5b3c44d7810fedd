/* shim.h - the imperative shell (interpose.c, send.c, fds.c, log.c).  No
 * function takes a lock (atomics only): no thread, signal handler or
 * _Fork() child ever waits on one. */
#ifndef DADSHIM_SHIM_H
#define DADSHIM_SHIM_H

#include <time.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "core.h"

/* Written once at start-up (before any wrapper leaves its fast path). */
extern struct settings settings;

/* The real libc functions, resolved once at start-up (interpose.c). */
extern struct real_fns {
	int (*socket)(int, int, int);
	int (*close)(int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*close_range)(unsigned, unsigned, int);
	void (*closefrom)(int);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	int (*sendmmsg)(int, struct mmsghdr *, unsigned, int);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*writev)(int, const struct iovec *, int);
} real;

/* Milliseconds of CLOCK_MONOTONIC (the vDSO: no system call). */
static inline uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- fds.c: the descriptor table, and the shim's own sockets ---- */

enum fd_kind {
	FD_UNKNOWN = 0,	/* not seen since start-up or since it was closed */
	FD_OTHER,	/* anything but an AF_NETLINK/NETLINK_ROUTE socket */
	FD_ROUTE,	/* an AF_NETLINK/NETLINK_ROUTE socket */
};

/* fd_kinds[fd] for fd < fd_kinds_len (0 until start-up ends). */
extern uint8_t *fd_kinds;
extern unsigned fd_kinds_len;

/* The kind of @fd, or -1 beyond the table. */
static inline int fd_kind_fast(int fd)
{
	if ((unsigned)fd >= __atomic_load_n(&fd_kinds_len, __ATOMIC_ACQUIRE))
		return -1;
	return __atomic_load_n(&fd_kinds[fd], __ATOMIC_RELAXED);
}

/* Start-up, before the first log line (it sets where the shim's sockets
 * go): maps the table (a byte per number below the hard RLIMIT_NOFILE, at
 * most 2^24), registers the fork handler and makes lookups see the table:
 * 0, or -ENOMEM (lookups keep failing). */
int fds_init(void);

/* Records @kind for @lo..@hi (within the table). */
void fd_set_kind(unsigned lo, unsigned hi, int kind);

/* Asks the kernel what @fd is (SO_DOMAIN, SO_PROTOCOL), records it and
 * returns it; FD_UNKNOWN when @fd is not open.  May change errno. */
int fd_classify(int fd);

/* The program's close_range() or closefrom() over @lo..@hi, made by
 * @sweep, around the shim's own sockets and never while the shim holds a
 * low number for an instant (that is waited out: microseconds, at most
 * 2 s).  -1 when a call of @sweep failed (errno from it), else 0. */
int fd_sweep(unsigned lo, unsigned hi, int (*sweep)(unsigned, unsigned, int), int flags);

/* A socket of the shim's own, close-on-exec, moved at once to a high
 * number and recorded, so that sweeps spare it and a fork() child closes
 * it; never kept at 0, 1 or 2.  The descriptor, or -errno (EBUSY: a sweep
 * ran; EBADF: 0, 1 or 2 is closed).  Not a cancellation point. */
int shim_fd_open(int domain, int type, int protocol);

/* 0 while @fd is the socket it was at its first check, else -EBADF (the
 * program closed the number, or dup2()ed a file onto it).  A socket that
 * lives long enough for the program to act on its number (a wait) is
 * checked first once a reply to it proved it the shim's. */
int shim_fd_check(int fd);

/* Closes @fd if it is still the shim's (checked: the same inode; else it
 * lived a few system calls of this thread's, no longer than a check's
 * window), and forgets it.  Waits out a sweep of another thread; after 2 s
 * @fd is forgotten but left open.  May change errno; no cancellation point. */
void shim_fd_close(int fd);

/* ---- send.c: a send, in the shape the caller used ---- */
struct txcall {
	enum { TX_SEND, TX_SENDTO, TX_WRITE, TX_SENDMSG, TX_WRITEV } how;
	const void *buf;		/* TX_SEND, TX_SENDTO, TX_WRITE */
	size_t len;
	int flags;			/* TX_SEND, TX_SENDTO, TX_SENDMSG */
	const struct sockaddr *to;	/* TX_SENDTO */
	socklen_t tolen;
	const struct msghdr *msg;	/* TX_SENDMSG */
	const struct iovec *iov;	/* TX_WRITEV */
	int iovcnt;
};

#define COPY_LEN 4096	/* larger datagrams go out unchanged */

/* Sends @c on @fd.  On a NETLINK_ROUTE socket, a datagram of at most
 * COPY_LEN bytes is copied: IPv6 RTM_NEWADDR requests get IFA_F_NODAD in
 * the copy, and a blocking send of an IPv6 RTM_NEWROUTE whose RTA_PREFSRC
 * is tentative first waits for the end of DAD; then it goes out once, on
 * @fd.  Anything else is the caller's call as made.  The kernel's result,
 * or -errno (-EBADF, nothing sent: @fd stopped being the same socket
 * during the wait).  May change errno; a cancellation point. */
ssize_t tx(int fd, const struct txcall *c);

/* 1 when tx() would change or hold back sendmmsg() entry @m. */
int tx_wanted(const struct msghdr *m);

/* ---- log.c ---- */

/* 1 when a line at @level would be written, as settings.log_level says
 * (callers skip formatting). */
int shim_log_on(int level);
/* Logs at @level when the setting allows: a write to stderr
 * (DADSHIM_LOG_TARGET=stderr), or a socket of the shim's to /dev/log.
 * May change errno. */
void shim_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
