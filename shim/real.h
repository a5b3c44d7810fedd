/* real.h - the libc functions dadshim wraps, resolved once with
 * dlsym(RTLD_NEXT) at start-up, so that the shim always calls the real
 * ones. */
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
	int (*close_range)(unsigned, unsigned, int);
	void (*closefrom)(int);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	int (*sendmmsg)(int, struct mmsghdr *, unsigned, int);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*writev)(int, const struct iovec *, int);
};

/* Set once real_resolve() has run. */
extern struct real_fns real;

/* Resolves the real functions (start-up, under pthread_once).  A wrapper
 * is only called for a symbol that some loaded object defines, so
 * dlsym(RTLD_NEXT) finds every one, and libc always has those the shim
 * calls itself; but close_range and closefrom came to glibc in 2.34 and a
 * program may call its own (libstrongswan's closefrom): where none is
 * found, a stand-in makes the system call.  Returns the number of other
 * symbols not found (the shim must then stay inactive).  Does not log, no
 * lock. */
int real_resolve(void);

#endif
