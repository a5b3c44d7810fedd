/* interpose.c - the libc entry points dadshim replaces, and its start-up.
 *
 * Every send wrapper first asks the descriptor table what the descriptor
 * is.  For anything but a NETLINK_ROUTE socket it calls the real function
 * at once: no lock, no system call, no allocation.  The receive side is
 * never wrapped: replies reach the program exactly as the kernel queues
 * them.
 *
 * The contract of every exported function here is libc's: the same
 * result, errno, blocking and cancellation behaviour as the real call,
 * which it always makes (sendmmsg() on a NETLINK_ROUTE socket with work
 * for the shim: one sendmsg() per entry).  errno is saved and restored
 * here and only here: the functions below return -errno.  None takes a
 * lock. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/netlink.h>

#include "compat.h"
#include "fds.h"
#include "log.h"
#include "real.h"
#include "send.h"
#include "settings.h"

#define EXPORT __attribute__((visibility("default")))

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Declared in settings.h.  Defined here, not in settings.c, which is part
 * of the pure core (no global state): init() is its only writer, once,
 * before the descriptor table is published. */
struct settings settings;

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void)
{
	const char *values[SET_COUNT];
	char msgs[SET_COUNT][SETTING_MSG_LEN];
	int i;

	real_resolve();
	for (i = 0; i < SET_COUNT; i++)
		values[i] = getenv(setting_names[i]);
	settings_parse(values, &settings, msgs);
	log_setup(&settings);
	real_report();
	for (i = 0; i < SET_COUNT; i++)
		if (msgs[i][0])
			shim_log(LV_ERRORS, "%s", msgs[i]);
	if (fds_init() < 0) {
		shim_log(LV_ERRORS, "no memory for the descriptor table; shim inactive");
		return;
	}
	shim_log(LV_DEBUG, "loaded: nodad=%d retry=%d wait_ms=%u", settings.nodad,
		 settings.retry, settings.wait_ms);
	fds_publish();
}

/* Every wrapper's slow path starts here; the fast path needs no check,
 * since the table is published last. */
static void ensure(void)
{
	int saved = errno;

	pthread_once(&once, init);
	errno = saved;
}

/* Settings are read before main(), while the process is single-threaded. */
__attribute__((constructor)) static void start(void)
{
	ensure();
}

/* ---- descriptors: what a number means changes here ---- */

EXPORT int socket(int domain, int type, int protocol)
{
	int fd;

	ensure();
	fd = real.socket(domain, type, protocol);
	if (fd >= 0)
		fd_set_kind((unsigned)fd, (unsigned)fd,
			    domain == AF_NETLINK && protocol == NETLINK_ROUTE ? FD_ROUTE
									      : FD_OTHER);
	return fd;
}

/* Forgotten before the number goes back to the kernel: once close()
 * returns, another thread may get it and record its new kind. */
EXPORT int close(int fd)
{
	if (fd >= 0)
		fd_set_kind((unsigned)fd, (unsigned)fd, FD_UNKNOWN);
	return real.close(fd);
}

static int forget_new(int ret)
{
	if (ret >= 0)
		fd_set_kind((unsigned)ret, (unsigned)ret, FD_UNKNOWN);
	return ret;
}

EXPORT int dup(int old)
{
	ensure();
	return forget_new(real.dup(old));
}

EXPORT int dup2(int old, int new)
{
	ensure();
	return old == new ? real.dup2(old, new) : forget_new(real.dup2(old, new));
}

EXPORT int dup3(int old, int new, int flags)
{
	ensure();
	return forget_new(real.dup3(old, new, flags));
}

static int sweep_range(unsigned lo, unsigned hi, int flags)
{
	return real.close_range(lo, hi, flags);
}

/* Up to the top: closefrom() itself, as the caller made it. */
static int sweep_from(unsigned lo, unsigned hi, int flags)
{
	if (hi == ~0u) {
		real.closefrom((int)lo);
		return 0;
	}
	return real.close_range(lo, hi, flags);
}

/* glibc >= 2.34.  Around the shim's own descriptors (fd_sweep()); with
 * CLOSE_RANGE_CLOEXEC nothing is closed. */
EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	ensure();
	if (first > last || (flags & CLOSE_RANGE_CLOEXEC))
		return real.close_range(first, last, flags);
	fd_set_kind(first, last, FD_UNKNOWN);
	return fd_sweep(first, last, sweep_range, flags);
}

EXPORT void closefrom(int lowfd)
{
	int saved = errno;

	ensure();
	if (lowfd < 0) {
		real.closefrom(lowfd);
		return;
	}
	fd_set_kind((unsigned)lowfd, ~0u, FD_UNKNOWN);
	(void)fd_sweep((unsigned)lowfd, ~0u, sweep_from, 0);
	errno = saved;	/* closefrom() reports nothing */
}

/* ---- sending ---- */

/* The slow path: the shim's result as libc's (errno kept on success). */
static __attribute__((noinline)) ssize_t tx_slow(int fd, const struct txcall *c)
{
	int saved = errno;
	ssize_t r;

	ensure();
	r = tx(fd, c);
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	errno = saved;
	return r;
}

EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	struct txcall c = { .how = TX_SEND, .buf = buf, .len = len, .flags = flags };

	if (fd_kind_fast(fd) == FD_OTHER)
		return real.send(fd, buf, len, flags);
	return tx_slow(fd, &c);
}

/* glibc declares the address as a transparent union in GNU mode; the
 * definition must use the same type. */
EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
		      __CONST_SOCKADDR_ARG to, socklen_t tolen)
{
	struct txcall c = { .how = TX_SENDTO, .buf = buf, .len = len, .flags = flags,
			    .to = to.__sockaddr__, .tolen = tolen };

	if (fd_kind_fast(fd) == FD_OTHER)
		return real.sendto(fd, buf, len, flags, to.__sockaddr__, tolen);
	return tx_slow(fd, &c);
}

EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	struct txcall c = { .how = TX_WRITE, .buf = buf, .len = len };

	if (fd_kind_fast(fd) == FD_OTHER)
		return real.write(fd, buf, len);
	return tx_slow(fd, &c);
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct txcall c = { .how = TX_SENDMSG, .msg = msg, .flags = flags };

	if (fd_kind_fast(fd) == FD_OTHER)
		return real.sendmsg(fd, msg, flags);
	return tx_slow(fd, &c);
}

EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct txcall c = { .how = TX_WRITEV, .iov = iov, .iovcnt = iovcnt };

	if (fd_kind_fast(fd) == FD_OTHER)
		return real.writev(fd, iov, iovcnt);
	return tx_slow(fd, &c);
}

/* Several datagrams in one call.  When one of them needs the shim they go
 * out one sendmsg() each, in order: the kernel receives the same
 * datagrams, and the result is what sendmmsg() reports (after the first
 * datagram, the count so far; an error before it). */
static __attribute__((noinline)) int
sendmmsg_slow(int fd, struct mmsghdr *vec, unsigned vlen, int flags)
{
	unsigned i, want = 0;
	int saved = errno;

	ensure();
	if (vlen > 1024)
		vlen = 1024;	/* UIO_MAXIOV, as the kernel clamps it */
	if (vec && (fd_kind_fast(fd) == FD_ROUTE || fd_classify(fd) == FD_ROUTE))
		for (i = 0; i < vlen && !want; i++)
			want = (unsigned)tx_wanted(&vec[i].msg_hdr);
	if (!want)
		return real.sendmmsg(fd, vec, vlen, flags);
	for (i = 0; i < vlen; i++) {
		struct txcall c = { .how = TX_SENDMSG, .msg = &vec[i].msg_hdr, .flags = flags };
		ssize_t n = tx(fd, &c);

		if (n < 0) {
			if (i > 0)
				break;
			errno = (int)-n;
			return -1;
		}
		vec[i].msg_len = (unsigned)n;
	}
	errno = saved;
	return (int)i;
}

EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags)
{
	if (fd_kind_fast(fd) == FD_OTHER)
		return real.sendmmsg(fd, vec, vlen, flags);
	return sendmmsg_slow(fd, vec, vlen, flags);
}
