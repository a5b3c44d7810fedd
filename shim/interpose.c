/* interpose.c - the libc entry points dadshim replaces, the real ones
 * behind them, and start-up.  A send wrapper asks the descriptor table
 * first and calls libc at once for anything but a NETLINK_ROUTE socket;
 * the descriptor wrappers keep the table true; nothing on the receive side
 * is wrapped.  Each keeps libc's contract (result, errno, blocking,
 * cancellation): errno is saved and restored here only. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "compat.h"
#include "shim.h"

#define EXPORT __attribute__((visibility("default")))
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

struct settings settings;
struct real_fns real;

/* close_range and closefrom came to glibc in 2.34, and a program may call
 * its own (libstrongswan's closefrom), which RTLD_NEXT does not find in the
 * executable: then the system call (no cancellation point), or on kernels
 * before 5.9 every number below the limit. */
static int sys_close_range(unsigned first, unsigned last, int flags)
{
#ifdef SYS_close_range
	return (int)syscall(SYS_close_range, first, last, flags);
#else
	(void)first, (void)last, (void)flags;
	errno = ENOSYS;
	return -1;
#endif
}

static void sys_closefrom(int lowfd)
{
	rlim_t fd = lowfd < 0 ? 0 : (rlim_t)lowfd, top = 1u << 20;
	struct rlimit rl;

	if (sys_close_range((unsigned)fd, ~0u, 0) == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max < top)
		top = rl.rlim_max;
	for (; fd < top; fd++)
		(void)syscall(SYS_close, (int)fd);
}

/* dlsym() returns void *, which POSIX (not ISO C) lets convert to a
 * function pointer: the representation is copied. */
#define RESOLVE(field) \
	do { void *p_ = dlsym(RTLD_NEXT, #field); missing += !p_; memcpy(&real.field, &p_, sizeof(p_)); } while (0)

/* The number of functions not found; a wrapper is only called for a
 * symbol some loaded object defines, so that is 0 but for the two above. */
static int real_resolve(void)
{
	int missing = 0;

	RESOLVE(close_range);
	RESOLVE(closefrom);
	if (!real.close_range)
		real.close_range = sys_close_range;
	if (!real.closefrom)
		real.closefrom = sys_closefrom;
	missing = 0;
	RESOLVE(socket);
	RESOLVE(close);
	RESOLVE(dup);
	RESOLVE(dup2);
	RESOLVE(dup3);
	RESOLVE(send);
	RESOLVE(sendto);
	RESOLVE(sendmsg);
	RESOLVE(sendmmsg);
	RESOLVE(write);
	RESOLVE(writev);
	return missing;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void)
{
	const char *values[SET_COUNT];
	char msgs[SET_COUNT][SETTING_MSG_LEN];
	int i;

	for (i = 0; i < SET_COUNT; i++)
		values[i] = getenv(setting_names[i]);
	settings_parse(values, &settings, msgs);
	if (real_resolve())	/* no libc lacks these; else nothing is safe to send */
		settings.nodad = settings.retry = settings.log_level = 0;
	/* Before any log line: the table sets where the shim's sockets go. */
	if (fds_init() < 0) {
		settings.nodad = settings.retry = 0;
		shim_log(LV_ERRORS, "no memory for the descriptor table; shim inactive");
	}
	for (i = 0; i < SET_COUNT; i++)
		if (msgs[i][0])
			shim_log(LV_ERRORS, "%s", msgs[i]);
	shim_log(LV_DEBUG, "loaded: nodad=%d retry=%d wait_ms=%u", settings.nodad,
		 settings.retry, settings.wait_ms);
}

/* Slow paths start here; fast ones need not: until fds_init() publishes
 * the table, every lookup fails. */
static void ensure(void)
{
	int saved = errno;

	pthread_once(&once, init);
	errno = saved;
}

__attribute__((constructor)) static void start(void)	/* before main(): one thread */
{
	ensure();
}

/* ---- descriptors: what a number means changes here ---- */

/* Forgotten before the number goes back to the kernel (close) or as soon
 * as it means a new file (dup*): a thread that gets it records its own. */
static int forget(int fd)
{
	if (fd >= 0)
		fd_set_kind((unsigned)fd, (unsigned)fd, FD_UNKNOWN);
	return fd;
}

EXPORT int socket(int domain, int type, int protocol)
{
	int fd;

	ensure();
	if ((fd = real.socket(domain, type, protocol)) >= 0)
		fd_set_kind((unsigned)fd, (unsigned)fd,
			    domain == AF_NETLINK && protocol == NETLINK_ROUTE ? FD_ROUTE : FD_OTHER);
	return fd;
}

EXPORT int close(int fd)
{
	ensure();
	return real.close(forget(fd));
}

EXPORT int dup(int old)
{
	ensure();
	return forget(real.dup(old));
}

EXPORT int dup2(int old, int new)
{
	ensure();
	return old == new ? real.dup2(old, new) : forget(real.dup2(old, new));
}

EXPORT int dup3(int old, int new, int flags)
{
	ensure();
	return forget(real.dup3(old, new, flags));
}

/* Up to the top of the range: closefrom() itself, as the caller made it. */
static int sweep_from(unsigned lo, unsigned hi, int flags)
{
	if (hi != ~0u)
		return real.close_range(lo, hi, flags);
	real.closefrom((int)lo);
	return 0;
}

/* Around the shim's own descriptors (fd_sweep()); with CLOSE_RANGE_CLOEXEC
 * nothing is closed. */
EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	ensure();
	if (first > last || (flags & CLOSE_RANGE_CLOEXEC))
		return real.close_range(first, last, flags);
	fd_set_kind(first, last, FD_UNKNOWN);
	return fd_sweep(first, last, real.close_range, flags);
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

/* tx() with libc's conventions: -1 and errno, or the result, errno kept. */
static __attribute__((noinline)) ssize_t tx_slow(int fd, const struct txcall *c)
{
	int saved = errno;
	ssize_t r;

	ensure();
	r = tx(fd, c);
	errno = r < 0 ? (int)-r : saved;
	return r < 0 ? -1 : r;
}

/* Each wrapper: one table load, then libc or the slow path. */
#define SEND_WRAPPER(call, ...)                                        \
	do {                                                           \
		if (fd_kind_fast(fd) == FD_OTHER)                      \
			return real.call;                              \
		struct txcall c_ = { __VA_ARGS__ };                    \
		return tx_slow(fd, &c_);                               \
	} while (0)

EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	SEND_WRAPPER(send(fd, buf, len, flags), .how = TX_SEND, .buf = buf, .len = len,
		     .flags = flags);
}

/* glibc declares the address as a transparent union in GNU mode; the
 * definition must use the same type. */
EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags, __CONST_SOCKADDR_ARG to,
		      socklen_t tolen)
{
	SEND_WRAPPER(sendto(fd, buf, len, flags, to.__sockaddr__, tolen), .how = TX_SENDTO,
		     .buf = buf, .len = len, .flags = flags, .to = to.__sockaddr__, .tolen = tolen);
}

EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	SEND_WRAPPER(write(fd, buf, len), .how = TX_WRITE, .buf = buf, .len = len);
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	SEND_WRAPPER(sendmsg(fd, msg, flags), .how = TX_SENDMSG, .msg = msg, .flags = flags);
}

EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	SEND_WRAPPER(writev(fd, iov, iovcnt), .how = TX_WRITEV, .iov = iov, .iovcnt = iovcnt);
}

/* When one datagram needs the shim, they all go out one sendmsg() each, in
 * order: the kernel gets the same datagrams, the caller what sendmmsg()
 * reports (after the first datagram the count so far, else the error). */
static __attribute__((noinline)) int sendmmsg_slow(int fd, struct mmsghdr *vec,
						   unsigned vlen, int flags)
{
	unsigned i, want = 0;
	int saved = errno;

	ensure();
	if (vlen > 1024)
		vlen = 1024;	/* UIO_MAXIOV, where the kernel stops too */
	if (vec && (fd_kind_fast(fd) == FD_ROUTE || fd_classify(fd) == FD_ROUTE))
		for (i = 0; i < vlen && !want; i++)
			want = (unsigned)tx_wanted(&vec[i].msg_hdr);
	if (!want)
		return real.sendmmsg(fd, vec, vlen, flags);
	for (i = 0; i < vlen; i++) {
		struct txcall c = { .how = TX_SENDMSG, .msg = &vec[i].msg_hdr, .flags = flags };
		ssize_t n = tx(fd, &c);

		if (n < 0 && i == 0) {
			errno = (int)-n;
			return -1;
		}
		if (n < 0)
			break;
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
