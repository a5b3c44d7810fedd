/* real.c - the real libc functions behind the wrappers.
 *
 * A symbol that dlsym(RTLD_NEXT) does not find is replaced by the system
 * call it stands for, so that no wrapper ever calls NULL.  The stand-ins
 * are no cancellation points; only a libc that lacks the symbol (glibc
 * before 2.34: close_range, closefrom) needs them. */
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

/* The system call behind each function (SYS_dup2 is not on every
 * architecture: dup3, which refuses old == new where dup2 checks it). */
static int fb_socket(int d, int t, int p) { return (int)syscall(SYS_socket, d, t, p); }
static int fb_close(int fd) { return (int)syscall(SYS_close, fd); }
static int fb_dup(int fd) { return (int)syscall(SYS_dup, fd); }
static int fb_dup3(int o, int n, int f) { return (int)syscall(SYS_dup3, o, n, f); }
static int fb_dup2(int o, int n)
{
	return o == n ? (fcntl(o, F_GETFD) < 0 ? -1 : n) : fb_dup3(o, n, 0);
}
static ssize_t fb_sendto(int fd, const void *b, size_t l, int f, const struct sockaddr *to,
			 socklen_t tl)
{
	return syscall(SYS_sendto, fd, b, l, f, to, tl);
}
static ssize_t fb_send(int fd, const void *b, size_t l, int f)
{
	return fb_sendto(fd, b, l, f, NULL, 0);
}
static ssize_t fb_sendmsg(int fd, const struct msghdr *m, int f)
{
	return syscall(SYS_sendmsg, fd, m, f);
}
static int fb_sendmmsg(int fd, struct mmsghdr *v, unsigned n, int f)
{
	return (int)syscall(SYS_sendmmsg, fd, v, n, f);
}
static ssize_t fb_write(int fd, const void *b, size_t l) { return syscall(SYS_write, fd, b, l); }
static ssize_t fb_writev(int fd, const struct iovec *v, int n)
{
	return syscall(SYS_writev, fd, v, n);
}

static int fb_close_range(unsigned first, unsigned last, int flags)
{
#ifdef SYS_close_range
	return (int)syscall(SYS_close_range, first, last, flags);
#else
	(void)first, (void)last, (void)flags;
	errno = ENOSYS;
	return -1;
#endif
}

/* closefrom() without libc's (before glibc 2.34): close_range(), else
 * every number below the descriptor limit (kernels before 5.9). */
static void fb_closefrom(int lowfd)
{
	struct rlimit rl;
	rlim_t top = 1u << 20, fd;

	if (fb_close_range(lowfd < 0 ? 0 : (unsigned)lowfd, ~0u, 0) == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max < top)
		top = rl.rlim_max > rl.rlim_cur ? rl.rlim_max : rl.rlim_cur;
	for (fd = lowfd < 0 ? 0 : (rlim_t)lowfd; fd < top; fd++)
		(void)syscall(SYS_close, (int)fd);
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
