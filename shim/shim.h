/* shim.h - the imperative shell (interpose.c, send.c, fds.c, log.c): the
 * real libc functions, the descriptor table, the shim's own sockets, the
 * send path and the log.  No function takes a lock (atomics only), so no
 * thread, signal handler or _Fork() child ever waits on one. */
#ifndef DADSHIM_SHIM_H
#define DADSHIM_SHIM_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "core.h"

/* The settings in force: written once at start-up (before any wrapper
 * leaves its fast path), read-only after. */
extern struct settings settings;

/* ---- the real libc functions (interpose.c) ---- */

struct real_fns {
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
};

/* Resolved once at start-up with dlsym(RTLD_NEXT). */
extern struct real_fns real;

/* ---- the descriptor table and the shim's own sockets (fds.c) ---- */

enum fd_kind {
	FD_UNKNOWN = 0,	/* not seen since start-up or since it was closed */
	FD_OTHER,	/* anything but an AF_NETLINK/NETLINK_ROUTE socket */
	FD_ROUTE,	/* an AF_NETLINK/NETLINK_ROUTE socket */
};

/* fd_kinds[fd] for fd < fd_kinds_len, which stays 0 until start-up ends. */
extern uint8_t *fd_kinds;
extern unsigned fd_kinds_len;

/* The kind of @fd, or -1 where the table does not reach (before start-up,
 * or a number too large).  No system call. */
static inline int fd_kind_fast(int fd)
{
	if ((unsigned)fd >= __atomic_load_n(&fd_kinds_len, __ATOMIC_ACQUIRE))
		return -1;
	return __atomic_load_n(&fd_kinds[fd], __ATOMIC_RELAXED);
}

/* Start-up: maps the table (a byte per number below the hard
 * RLIMIT_NOFILE, at most 2^24) and registers the fork handler; 0 or
 * -ENOMEM.  fds_publish() then makes lookups see it. */
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
 * at most 2 s for one that never ends). */
int fd_sweep(unsigned lo, unsigned hi, int (*sweep)(unsigned, unsigned, int), int flags);

/* A socket of the shim's own: created while no sweep of the program runs,
 * moved at once to a high number (close-on-exec), recorded so that sweeps
 * spare it and a fork() child closes it; never kept at 0, 1 or 2.  The
 * descriptor, or -errno (EBUSY: a sweep ran; EBADF: 0, 1 or 2 is closed).
 * Not a cancellation point. */
int shim_fd_open(int domain, int type, int protocol);

/* Records what @fd is now (its inode), for shim_fd_check() and
 * shim_fd_close(): a socket that lives long enough for the program to act
 * on its number (a wait) is pinned as soon as it proves its own (a reply
 * to it).  0, or -EBADF. */
int shim_fd_pin(int fd);

/* 0 while the pinned @fd is the socket it was (the program may have
 * closed the number, or dup2()ed a file onto it), else -EBADF. */
int shim_fd_check(int fd);

/* Closes @fd if it is still the shim's (pinned: the same inode; else it
 * lived a few system calls of this thread's, as short as a check's
 * window), and forgets it; another file stays open.  Waits out a sweep of
 * another thread; one that lasts 2 s leaves @fd forgotten but open.  May
 * change errno; not a cancellation point. */
void shim_fd_close(int fd);

/* ---- the send path (send.c) ---- */

/* A send, in the shape the caller used. */
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
 * COPY_LEN bytes is read into the shim's own buffer: IPv6 RTM_NEWADDR
 * requests get IFA_F_NODAD there, and a blocking send that carries an
 * IPv6 RTM_NEWROUTE whose RTA_PREFSRC is tentative first waits until DAD
 * is over.  Then the datagram goes out once, on @fd.  Anything else is the
 * caller's call as made.  Returns what the kernel returned, or -errno
 * (-EBADF when @fd stopped being the same socket during the wait: nothing
 * was sent).  May change errno.  A cancellation point (the send, the wait). */
ssize_t tx(int fd, const struct txcall *c);

/* 1 when tx() would change or hold back the datagram of sendmmsg()'s
 * entry @m, else 0.  No system call. */
int tx_wanted(const struct msghdr *m);

/* ---- the log (log.c) ---- */

/* Takes the level and target from @s (until then: LV_ACTIONS, syslog). */
void log_setup(const struct settings *s);

/* 1 when a line at @level would be written (callers skip formatting). */
int shim_log_on(int level);

/* Logs at @level (LV_ERRORS, LV_ACTIONS, LV_DEBUG) when the setting allows:
 * a write to stderr, or a socket of the shim's to /dev/log.  May change
 * errno. */
void shim_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
