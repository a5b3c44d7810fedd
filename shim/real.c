/* real.c - the real libc functions behind the wrappers, and copies of the
 * caller's memory that the kernel judges.
 *
 * A symbol that dlsym(RTLD_NEXT) does not find is replaced by the system
 * call it stands for, so that no wrapper ever calls NULL. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "compat.h"
#include "log.h"
#include "real.h"

struct real_fns real;

/* ---- fallbacks: the system call behind each function ----
 * Unlike libc's functions these are no cancellation points; they only run
 * in a process whose libc lacks the symbol. */

static int fb_socket(int domain, int type, int protocol)
{
	return (int)syscall(SYS_socket, domain, type, protocol);
}

static int fb_close(int fd)
{
	return (int)syscall(SYS_close, fd);
}

static int fb_dup(int fd)
{
	return (int)syscall(SYS_dup, fd);
}

static int fb_dup3(int old, int new, int flags)
{
	return (int)syscall(SYS_dup3, old, new, flags);
}

static int fb_dup2(int old, int new)
{
#ifdef SYS_dup2
	return (int)syscall(SYS_dup2, old, new);
#else
	/* dup3() refuses old == new, where dup2() checks and returns it. */
	if (old == new)
		return fcntl(old, F_GETFD) < 0 ? -1 : new;
	return fb_dup3(old, new, 0);
#endif
}

static int fb_close_range(unsigned first, unsigned last, int flags)
{
#ifdef SYS_close_range
	return (int)syscall(SYS_close_range, first, last, flags);
#else
	(void)first;
	(void)last;
	(void)flags;
	errno = ENOSYS;
	return -1;
#endif
}

/* closefrom() without libc's: close_range(), else every number below the
 * descriptor limit (only a libc older than 2.34, which has neither, on a
 * kernel older than 5.9 gets here). */
static void fb_closefrom(int lowfd)
{
	unsigned low = lowfd < 0 ? 0 : (unsigned)lowfd;
	struct rlimit rl;
	rlim_t top = 1u << 20, fd;

	if (fb_close_range(low, ~0u, 0) == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max < top)
		top = rl.rlim_max > rl.rlim_cur ? rl.rlim_max : rl.rlim_cur;
	for (fd = low; fd < top; fd++)
		(void)syscall(SYS_close, (int)fd);
}

static ssize_t fb_sendto(int fd, const void *buf, size_t len, int flags,
			 const struct sockaddr *to, socklen_t tolen)
{
	return syscall(SYS_sendto, fd, buf, len, flags, to, tolen);
}

static ssize_t fb_send(int fd, const void *buf, size_t len, int flags)
{
	return fb_sendto(fd, buf, len, flags, NULL, 0);
}

static ssize_t fb_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	return syscall(SYS_sendmsg, fd, msg, flags);
}

static int fb_sendmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags)
{
	return (int)syscall(SYS_sendmmsg, fd, vec, vlen, flags);
}

static ssize_t fb_write(int fd, const void *buf, size_t len)
{
	return syscall(SYS_write, fd, buf, len);
}

static ssize_t fb_recvfrom(int fd, void *buf, size_t len, int flags,
			   struct sockaddr *from, socklen_t *fromlen)
{
	return syscall(SYS_recvfrom, fd, buf, len, flags, from, fromlen);
}

static ssize_t fb_recv(int fd, void *buf, size_t len, int flags)
{
	return fb_recvfrom(fd, buf, len, flags, NULL, NULL);
}

static ssize_t fb_recvmsg(int fd, struct msghdr *msg, int flags)
{
	return syscall(SYS_recvmsg, fd, msg, flags);
}

static int fb_recvmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags,
		       struct timespec *timeout)
{
	return (int)syscall(SYS_recvmmsg, fd, vec, vlen, flags, timeout);
}

static ssize_t fb_read(int fd, void *buf, size_t len)
{
	return syscall(SYS_read, fd, buf, len);
}

/* The _FORTIFY_SOURCE forms would abort on len > buflen; without libc's
 * __chk_fail() at hand, the kernel is never let past the buffer. */
static ssize_t fb_recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	return fb_recv(fd, buf, len < buflen ? len : buflen, flags);
}

static ssize_t fb_recvfrom_chk(int fd, void *buf, size_t len, size_t buflen,
			       int flags, struct sockaddr *from, socklen_t *fromlen)
{
	return fb_recvfrom(fd, buf, len < buflen ? len : buflen, flags, from, fromlen);
}

static ssize_t fb_read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	return fb_read(fd, buf, len < buflen ? len : buflen);
}

/* ---- resolving ---- */

/* Symbols not found, for real_report(): close_range and closefrom are
 * expected to be missing before glibc 2.34 and are not reported. */
static const char *missing[24];
static unsigned nmissing;

#ifdef DADSHIM_TEST_HIDE
/* Test builds only: DADSHIM_TEST_HIDE=name,name... (or "all") makes those
 * symbols look missing, to exercise the fallbacks. */
static int hidden(const char *name)
{
	const char *list = getenv("DADSHIM_TEST_HIDE");
	size_t n = strlen(name);

	if (!list)
		return 0;
	if (!strcmp(list, "all"))
		return 1;
	for (; *list; list += *list == ',') {
		if (!strncmp(list, name, n) && (list[n] == ',' || !list[n]))
			return 1;
		while (*list && *list != ',')
			list++;
	}
	return 0;
}
#else
#define hidden(name) 0
#endif

/* dlsym() returns void *; POSIX guarantees it converts to a function
 * pointer, which ISO C does not say: copy the representation. */
#define RESOLVE(field, name, report)                                  \
	do {                                                          \
		void *p_ = hidden(name) ? NULL : dlsym(RTLD_NEXT, name); \
		if (p_) {                                             \
			memcpy(&real.field, &p_, sizeof(p_));         \
		} else {                                              \
			real.field = fb_##field;                      \
			if ((report) && nmissing < 24)                  \
				missing[nmissing++] = name;           \
		}                                                     \
	} while (0)

void real_resolve(void)
{
	RESOLVE(socket, "socket", 1);
	RESOLVE(close, "close", 1);
	RESOLVE(dup, "dup", 1);
	RESOLVE(dup2, "dup2", 1);
	RESOLVE(dup3, "dup3", 1);
	RESOLVE(close_range, "close_range", 0);
	RESOLVE(closefrom, "closefrom", 0);
	RESOLVE(send, "send", 1);
	RESOLVE(sendto, "sendto", 1);
	RESOLVE(sendmsg, "sendmsg", 1);
	RESOLVE(sendmmsg, "sendmmsg", 1);
	RESOLVE(write, "write", 1);
	RESOLVE(recv, "recv", 1);
	RESOLVE(recvfrom, "recvfrom", 1);
	RESOLVE(recvmsg, "recvmsg", 1);
	RESOLVE(recvmmsg, "recvmmsg", 1);
	RESOLVE(read, "read", 1);
	RESOLVE(recv_chk, "__recv_chk", 1);
	RESOLVE(recvfrom_chk, "__recvfrom_chk", 1);
	RESOLVE(read_chk, "__read_chk", 1);
}

void real_report(void)
{
	unsigned i;

	for (i = 0; i < nmissing; i++)
		shim_log(LV_ERRORS, "libc has no %s; the shim uses the system call instead",
			 missing[i]);
}
