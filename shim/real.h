/* real.h - the libc functions dadshim wraps, resolved once with
 * dlsym(RTLD_NEXT) under pthread_once, so that the shim itself always
 * calls the real ones. */
#ifndef DADSHIM_REAL_H
#define DADSHIM_REAL_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

struct real_fns {
	int (*socket)(int, int, int);
	int (*close)(int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*close_range)(unsigned, unsigned, int);	/* glibc >= 2.34 */
	void (*closefrom)(int);				/* glibc >= 2.34 */
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*sendto)(int, const void *, size_t, int,
			  const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	int (*sendmmsg)(int, struct mmsghdr *, unsigned, int);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*writev)(int, const struct iovec *, int);
};

/* Every field is set once real_resolve() has run: to libc's function, or
 * to a stand-in that makes the system call (never NULL). */
extern struct real_fns real;

/* Resolves the real functions, once, from start-up.  Does not log (the
 * log is not set up yet).  No lock. */
void real_resolve(void);

/* Logs, once, each symbol real_resolve() did not find (except close_range
 * and closefrom, which glibc < 2.34 lacks).  Keeps errno.  No lock. */
void real_report(void);

#endif
