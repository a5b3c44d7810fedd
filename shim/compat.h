/* compat.h - keeps the library loadable on Debian stretch (glibc 2.24).
 * Built on a newer glibc, references to functions that moved into libc in
 * 2.34 would bind to their new GLIBC_2.34 versions; pin the old ones (on
 * stretch they are in libdl and libpthread, which the library NEEDs).
 * The __pthread_*cancel* ones are what pthread_cleanup_push() calls in C
 * without -fexceptions: that keeps libgcc_s out of every process the shim
 * is loaded into (glibc loads it itself if a thread is ever cancelled). */
#ifndef DADSHIM_COMPAT_H
#define DADSHIM_COMPAT_H

#include <string.h>
#include <sys/stat.h>

#if defined(__x86_64__) && defined(__GLIBC__)
__asm__(".symver dlsym,dlsym@GLIBC_2.2.5");
__asm__(".symver pthread_once,pthread_once@GLIBC_2.2.5");
__asm__(".symver __pthread_register_cancel,__pthread_register_cancel@GLIBC_2.3.3");
__asm__(".symver __pthread_unregister_cancel,__pthread_unregister_cancel@GLIBC_2.3.3");
__asm__(".symver __pthread_unwind_next,__pthread_unwind_next@GLIBC_2.3.3");
#endif

/* fstat() is a function of its own only since glibc 2.33; before, the
 * header made it a call of __fxstat(), which later glibc still has.
 * Sanitizer builds (tests only) must reach the sanitizer's fstat(). */
#if defined(__x86_64__) && defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && \
	!defined(__SANITIZE_THREAD__)
extern int __fxstat(int ver, int fd, struct stat *st);
__asm__(".symver __fxstat,__fxstat@GLIBC_2.2.5");
static inline int compat_fstat(int fd, struct stat *st)
{
	return __fxstat(1, fd, st);	/* _STAT_VER_LINUX */
}
#else
#define compat_fstat fstat
#endif

/* pthread_atfork() is not in any shared glibc before 2.34 (it came from
 * libpthread_nonshared.a); this is what it called. */
extern void *__dso_handle;
extern int __register_atfork(void (*prepare)(void), void (*parent)(void),
			     void (*child)(void), void *dso_handle);

#endif
