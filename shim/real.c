/* real.c - the real libc functions behind the wrappers.
 *
 * A symbol that dlsym(RTLD_NEXT) does not find is replaced by the system
 * call it stands for, so that no wrapper ever calls NULL.  Unlike libc's
 * functions the stand-ins are no cancellation points; they only run in a
 * process whose libc lacks the symbol. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "compat.h"
#include "log.h"
#include "real.h"

struct real_fns real;

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
	/* dup3() refuses old == new, where dup2() checks and returns it. */
	if (old == new)
		return fcntl(old, F_GETFD) < 0 ? -1 : new;
	return fb_dup3(old, new, 0);
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
 * descriptor limit (a libc older than 2.34 on a kernel older than 5.9). */
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

static ssize_t fb_writev(int fd, const struct iovec *iov, int n)
{
	return syscall(SYS_writev, fd, iov, n);
}

/* Symbols not found, for real_report(). */
static const char *missing[16];
static unsigned nmissing;

#ifdef DADSHIM_TEST_HIDE
/* Test builds only: DADSHIM_TEST_HIDE=name,name... (or "all") makes those
 * symbols look missing, to exercise the stand-ins. */
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
#define RESOLVE(field, name, report)                                      \
	do {                                                              \
		void *p_ = hidden(name) ? NULL : dlsym(RTLD_NEXT, name);  \
		if (p_) {                                                 \
			memcpy(&real.field, &p_, sizeof(p_));             \
		} else {                                                  \
			real.field = fb_##field;                          \
			if ((report) && nmissing < 16)                    \
				missing[nmissing++] = name;               \
		}                                                         \
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
	RESOLVE(writev, "writev", 1);
}

void real_report(void)
{
	unsigned i;

	for (i = 0; i < nmissing; i++)
		shim_log(LV_ERRORS, "libc has no %s; the shim uses the system call instead",
			 missing[i]);
}
