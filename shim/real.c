/* real.c - the real libc functions behind the wrappers. */
#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "compat.h"
#include "real.h"

struct real_fns real;

/* The stand-ins are no cancellation points, as the system calls are not. */
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

/* close_range(), else every number below the descriptor limit (a kernel
 * before 5.9). */
static void fb_closefrom(int lowfd)
{
	rlim_t fd, top = 1u << 20;
	struct rlimit rl;

	if (fb_close_range(lowfd < 0 ? 0 : (unsigned)lowfd, ~0u, 0) == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max < top)
		top = rl.rlim_max;
	for (fd = lowfd < 0 ? 0 : (rlim_t)lowfd; fd < top; fd++)
		(void)syscall(SYS_close, (int)fd);
}

/* dlsym() returns void *; POSIX guarantees that it converts to a function
 * pointer, ISO C does not: the representation is copied. */
#define RESOLVE(field)                                                  \
	do {                                                            \
		void *p_ = dlsym(RTLD_NEXT, #field);                    \
		missing += !p_;                                         \
		memcpy(&real.field, &p_, sizeof(p_));                   \
	} while (0)

int real_resolve(void)
{
	int missing = 0;

	RESOLVE(close_range);
	RESOLVE(closefrom);
	if (!real.close_range)
		real.close_range = fb_close_range;
	if (!real.closefrom)
		real.closefrom = fb_closefrom;
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
