/* interpose.c - the libc entry points dadshim replaces, and its start-up.
 *
 * Every wrapper first asks the descriptor table what the descriptor is.
 * For anything but a NETLINK_ROUTE socket it calls the real function at
 * once: no lock, no system call, no allocation.
 *
 * The contract of every exported function here is libc's: the same
 * result, the same errno, the same blocking and cancellation behaviour as
 * the real call, which it always makes (or, for sendmmsg on a NETLINK_ROUTE
 * socket, makes as one sendmsg per entry).  The descriptor functions keep
 * errno for their own work and take the lock only to forget held requests
 * (fd_reset()); the send and receive functions take it as tx() and
 * rx_held() say. */
#undef _FORTIFY_SOURCE	/* we define read() & co; the inline checks must not */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include "compat.h"
#include "fdstate.h"
#include "log.h"
#include "real.h"
#include "receive.h"
#include "send.h"
#include "settings.h"
#include "vm.h"

#define EXPORT __attribute__((visibility("default")))

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Declared in settings.h.  Defined here, not in settings.c, which is part
 * of the pure core (no global state): interpose.c's start-up, init(), is
 * its only writer, once, before the descriptor table is published. */
struct settings settings;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int ready;

static void init(void)
{
	const char *values[SET_COUNT];
	char msgs[SET_COUNT][SETTING_MSG_LEN];
	int i;

	real_resolve();
	vm_init();
	for (i = 0; i < SET_COUNT; i++)
		values[i] = getenv(setting_names[i]);
	settings_parse(values, &settings, msgs);
	log_setup(&settings);
	real_report();
	for (i = 0; i < SET_COUNT; i++)
		if (msgs[i][0])
			shim_log(LV_ERRORS, "%s", msgs[i]);
	fdstate_init();
	shim_log(LV_DEBUG, "loaded: nodad=%d retry=%d wait_ms=%u", settings.nodad,
		 settings.retry, settings.wait_ms);
	__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	fdstate_publish();
}

static inline void ensure(void)
{
	if (__builtin_expect(!__atomic_load_n(&ready, __ATOMIC_ACQUIRE), 0))
		pthread_once(&once, init);
}

/* Settings are read before main(), while the process is single-threaded. */
__attribute__((constructor)) static void start(void)
{
	int saved = errno;

	ensure();
	errno = saved;
}

/* ---- descriptors ---- */

EXPORT int socket(int domain, int type, int protocol)
{
	int fd;

	ensure();
	fd = real.socket(domain, type, protocol);
	if (fd >= 0)
		fd_reset((unsigned)fd, (unsigned)fd,
			 domain == AF_NETLINK && protocol == NETLINK_ROUTE ? FD_ROUTE
									   : FD_OTHER);
	return fd;
}

/* Whether @fd is one of the shim's own descriptors (a DAD wait's socket,
 * in another thread): looked at under the lock, in which the shim closes
 * and unmarks its own in one step. */
static int shim_own(int fd)
{
	int cs, own;

	if (fd_kind(fd) != FD_SHIM)
		return 0;
	state_lock(&cs);
	own = fd_kind(fd) == FD_SHIM;
	state_unlock(cs);
	return own;
}

/* The table is reset before the number is given back to the kernel: once
 * the real close() returns, another thread may get the same number and
 * record its new kind (and held requests), which must not be wiped.  The
 * shim's own descriptors are not the program's to close: to it they are
 * numbers that are not open. */
EXPORT int close(int fd)
{
	int saved = errno;

	ensure();
	if (shim_own(fd)) {
		errno = EBADF;
		return -1;
	}
	if (fd >= 0)
		fd_reset((unsigned)fd, (unsigned)fd, FD_UNKNOWN);
	errno = saved;
	return real.close(fd);
}

static int new_fd(int ret)
{
	int saved = errno;

	if (ret >= 0)
		fd_reset((unsigned)ret, (unsigned)ret, FD_UNKNOWN);
	errno = saved;
	return ret;
}

EXPORT int dup(int old)
{
	ensure();
	return new_fd(real.dup(old));
}

EXPORT int dup2(int old, int new)
{
	int ret;

	ensure();
	ret = real.dup2(old, new);
	return ret >= 0 && old != new ? new_fd(ret) : ret;
}

EXPORT int dup3(int old, int new, int flags)
{
	ensure();
	return new_fd(real.dup3(old, new, flags));
}

/* The shim's own number in [@lo, @hi] nearest @lo, or -1. */
static long shim_own_in(unsigned lo, unsigned hi)
{
	unsigned fd, high = __atomic_load_n(&fd_kinds_high, __ATOMIC_RELAXED);

	for (fd = lo; fd <= hi && fd <= high; fd++)
		if (shim_own((int)fd))
			return fd;
	return -1;
}

/* close_range() of [@first, @last] around the shim's own numbers: one
 * call per stretch between them (none in the range: the caller's call as
 * made).  Returns -1 when one failed (errno from it), else 0. */
static int close_around(unsigned first, unsigned last, int flags)
{
	long own;
	int ret = 0;

	while ((own = shim_own_in(first, last)) >= 0) {
		if ((unsigned long)own > first)
			ret |= real.close_range(first, (unsigned)own - 1, flags);
		if ((unsigned long)own == last)
			return ret ? -1 : 0;
		first = (unsigned)own + 1;
	}
	return (ret | real.close_range(first, last, flags)) ? -1 : 0;
}

/* glibc >= 2.34; without it in libc, the system call.  Reset first, as in
 * close(); with CLOSE_RANGE_CLOEXEC nothing is closed and nothing reset. */
EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	int saved = errno;

	int ret;

	ensure();
	if (first > last || (flags & CLOSE_RANGE_CLOEXEC))
		return real.close_range(first, last, flags);
	fd_sweep_begin();
	fd_reset(first, last, FD_UNKNOWN);
	errno = saved;
	ret = close_around(first, last, flags);
	fd_sweep_end();
	return ret;
}

/* close_range() around the shim's own numbers; closefrom() itself when
 * there are none, or no close_range() (the wait then sees its socket
 * gone, and the caller gets the kernel's answer). */
EXPORT void closefrom(int lowfd)
{
	int saved = errno;
	unsigned low = lowfd < 0 ? 0 : (unsigned)lowfd;

	ensure();
	fd_sweep_begin();
	if (lowfd >= 0)
		fd_reset(low, ~0u, FD_UNKNOWN);
	if (lowfd < 0 || shim_own_in(low, ~0u) < 0 || close_around(low, ~0u, 0) < 0)
		real.closefrom(lowfd);
	fd_sweep_end();
	errno = saved;
}

/* ---- sending ---- */

/* Each wrapper's fast path is one table lookup and a jump to libc, with no
 * start-up check: before start-up the table is not published and the
 * lookup fails.  Everything else lives in out-of-line helpers. */
static __attribute__((noinline)) ssize_t
send_slow(int fd, int how, const void *buf, size_t len, int flags,
	  const struct sockaddr *to, socklen_t tolen, const struct msghdr *msg)
{
	struct txcall c = { how, buf, len, flags, to, tolen, msg };

	ensure();
	return tx(fd, fd_kind(fd), &c);
}

EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	if (fd_kind_fast(fd) == FD_OTHER)
		return real.send(fd, buf, len, flags);
	return send_slow(fd, TX_SEND, buf, len, flags, NULL, 0, NULL);
}

/* glibc declares the address as a transparent union in GNU mode; the
 * definition must use the same type. */
EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
		      __CONST_SOCKADDR_ARG to, socklen_t tolen)
{
	if (fd_kind_fast(fd) == FD_OTHER)
		return real.sendto(fd, buf, len, flags, to.__sockaddr__, tolen);
	return send_slow(fd, TX_SENDTO, buf, len, flags, to.__sockaddr__, tolen, NULL);
}

EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	if (fd_kind_fast(fd) == FD_OTHER)
		return real.write(fd, buf, len);
	return send_slow(fd, TX_WRITE, buf, len, 0, NULL, 0, NULL);
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (fd_kind_fast(fd) == FD_OTHER)
		return real.sendmsg(fd, msg, flags);
	return send_slow(fd, TX_SENDMSG, NULL, 0, flags, NULL, 0, msg);
}

/* Several datagrams in one call.  When one of them needs the shim, they
 * go out one sendmsg() each, in order: the kernel receives the same
 * datagrams, and the result is what sendmmsg() reports.  The caller's
 * array is read and msg_len written through the kernel, which stops at
 * an entry it cannot read or write, as sendmmsg() does (after the first
 * datagram, the count so far; else -1/EFAULT). */
static __attribute__((noinline)) int
sendmmsg_slow(int fd, struct mmsghdr *vec, unsigned vlen, int flags)
{
	unsigned i, want = 0;
	int kind, entry = errno;

	ensure();
	kind = fd_kind(fd);
	if (kind == FD_UNKNOWN)
		kind = fd_classify(fd);
	/* msg_len can only be written back through the kernel. */
	if ((kind == FD_ROUTE || kind == FD_ROUTE_HELD) && vm_write_allowed())
		for (i = 0; vec && i < vlen && i < 1024 && !want; i++)
			want = (unsigned)tx_wanted(&vec[i].msg_hdr);
	if (!want) {
		if (kind == FD_ROUTE_HELD)
			tx_follows(fd);
		errno = entry;
		return real.sendmmsg(fd, vec, vlen, flags);
	}
	for (i = 0; i < vlen && i < 1024; i++) {
		ssize_t n = send_slow(fd, TX_SENDMSG, NULL, 0, flags, NULL, 0,
				      &vec[i].msg_hdr);
		unsigned len = (unsigned)n;

		/* Not writable: sent, but not counted, as in the kernel. */
		if (n < 0 || vm_write(&vec[i].msg_len, &len, sizeof(len)) < 0)
			break;
	}
	if (i == 0)
		return -1;
	/* Some were sent: the error of the next one is lost, as in the
	 * kernel, and errno stays as it was. */
	errno = entry;
	return (int)i;
}

EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags)
{
	if (fd_kind_fast(fd) == FD_OTHER)
		return real.sendmmsg(fd, vec, vlen, flags);
	return sendmmsg_slow(fd, vec, vlen, flags);
}

/* ---- receiving ---- */

/* Only a socket with a route request held needs the slow path. */
static inline int fast(int fd)
{
	int kind = fd_kind_fast(fd);

	return kind >= 0 && kind != FD_ROUTE_HELD;
}

static inline int rx_takes_held(int fd, int flags)
{
	return fd_kind(fd) == FD_ROUTE_HELD && !(flags & ~RX_FLAGS);
}

/* Each receive wrapper tail-calls a slow twin of the same signature,
 * which makes the held path's call or, as the wrapper would, libc's. */
#define SLOW static __attribute__((noinline))

SLOW ssize_t recv_slow(int fd, void *buf, size_t len, int flags)
{
	struct rxcall c = { RX_RECVFROM, buf, len, flags, NULL, NULL, NULL, NULL, 0, NULL };

	ensure();
	return rx_takes_held(fd, flags) ? rx_held(fd, &c) : real.recv(fd, buf, len, flags);
}

EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	if (fast(fd))
		return real.recv(fd, buf, len, flags);
	return recv_slow(fd, buf, len, flags);
}

SLOW ssize_t recvfrom_slow(int fd, void *buf, size_t len, int flags,
			   struct sockaddr *from, socklen_t *fromlen)
{
	struct rxcall c = { RX_RECVFROM, buf, len, flags, from, fromlen, NULL, NULL, 0, NULL };

	ensure();
	return rx_takes_held(fd, flags) ? rx_held(fd, &c)
			       : real.recvfrom(fd, buf, len, flags, from, fromlen);
}

EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
			__SOCKADDR_ARG from, socklen_t *fromlen)
{
	if (fast(fd))
		return real.recvfrom(fd, buf, len, flags, from.__sockaddr__, fromlen);
	return recvfrom_slow(fd, buf, len, flags, from.__sockaddr__, fromlen);
}

SLOW ssize_t recvmsg_slow(int fd, struct msghdr *msg, int flags)
{
	struct rxcall c = { RX_RECVMSG, NULL, 0, flags, NULL, NULL, msg, NULL, 0, NULL };

	ensure();
	return rx_takes_held(fd, flags) && msg ? rx_held(fd, &c) : real.recvmsg(fd, msg, flags);
}

EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	if (fast(fd))
		return real.recvmsg(fd, msg, flags);
	return recvmsg_slow(fd, msg, flags);
}

SLOW int recvmmsg_slow(int fd, struct mmsghdr *vec, unsigned vlen, int flags,
		       struct timespec *timeout)
{
	struct rxcall c = { RX_RECVMMSG, NULL, 0, flags, NULL, NULL, NULL, vec, vlen, timeout };

	ensure();
	/* MSG_WAITFORONE only matters after the first datagram, and the held
	 * path returns one datagram per call. */
	if (rx_takes_held(fd, flags & ~MSG_WAITFORONE) && vec && vlen)
		return (int)rx_held(fd, &c);
	return real.recvmmsg(fd, vec, vlen, flags, timeout);
}

EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags,
		    struct timespec *timeout)
{
	if (fast(fd))
		return real.recvmmsg(fd, vec, vlen, flags, timeout);
	return recvmmsg_slow(fd, vec, vlen, flags, timeout);
}

/* read() of 0 bytes leaves a socket's queue alone, where the recv() of
 * the held path would drop a datagram. */
SLOW ssize_t read_slow(int fd, void *buf, size_t len)
{
	struct rxcall c = { RX_READ, buf, len, 0, NULL, NULL, NULL, NULL, 0, NULL };

	ensure();
	return rx_takes_held(fd, 0) && len ? rx_held(fd, &c) : real.read(fd, buf, len);
}

EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	if (fast(fd))
		return real.read(fd, buf, len);
	return read_slow(fd, buf, len);
}

/* _FORTIFY_SOURCE's versions: the same calls, plus the buffer-size check
 * that the real function makes (and fails, aborting) when it does not
 * hold; when it holds, the plain call's path. */
EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	if (fast(fd) || len > buflen)
		return real.recv_chk(fd, buf, len, buflen, flags);
	return recv_slow(fd, buf, len, flags);
}

EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen,
			      int flags, __SOCKADDR_ARG from, socklen_t *fromlen)
{
	if (fast(fd) || len > buflen)
		return real.recvfrom_chk(fd, buf, len, buflen, flags,
					 from.__sockaddr__, fromlen);
	return recvfrom_slow(fd, buf, len, flags, from.__sockaddr__, fromlen);
}

EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (fast(fd) || len > buflen)
		return real.read_chk(fd, buf, len, buflen);
	return read_slow(fd, buf, len);
}
