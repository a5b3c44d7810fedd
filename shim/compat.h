/* compat.h - keeps the library loadable on Debian stretch (glibc 2.24).
 * Built on a newer glibc, functions that moved into libc in 2.34 would bind
 * to their GLIBC_2.34 versions: the old ones are pinned (on stretch in
 * libdl and libpthread, which the library NEEDs).  The __pthread_*cancel*
 * ones are what pthread_cleanup_push() calls in C without -fexceptions,
 * which keeps libgcc_s out of the processes the shim is loaded into. */
#ifndef DADSHIM_COMPAT_H
#define DADSHIM_COMPAT_H

#include <string.h>
#include <sys/stat.h>

/* Each architecture's stretch versions: the base (dlsym, pthread_once,
 * fcntl, __fxstat), the cancellation helpers', and the struct stat version
 * __fxstat() takes (_STAT_VER_LINUX; 0 on arm64's generic ABI). */
#if defined(__GLIBC__) && defined(__x86_64__)
#define COMPAT_BASE "GLIBC_2.2.5"
#define COMPAT_CANCEL "GLIBC_2.3.3"
#define COMPAT_STAT_VER 1
#elif defined(__GLIBC__) && defined(__i386__)
#define COMPAT_BASE "GLIBC_2.0"
#define COMPAT_CANCEL "GLIBC_2.3.3"
#define COMPAT_STAT_VER 3
#elif defined(__GLIBC__) && defined(__arm__)
#define COMPAT_BASE "GLIBC_2.4"
#define COMPAT_CANCEL "GLIBC_2.4"
#define COMPAT_STAT_VER 3
#elif defined(__GLIBC__) && defined(__aarch64__)
#define COMPAT_BASE "GLIBC_2.17"
#define COMPAT_CANCEL "GLIBC_2.17"
#define COMPAT_STAT_VER 0
#endif

#ifdef COMPAT_BASE
__asm__(".symver dlsym,dlsym@" COMPAT_BASE);
__asm__(".symver pthread_once,pthread_once@" COMPAT_BASE);
__asm__(".symver __pthread_register_cancel,__pthread_register_cancel@" COMPAT_CANCEL);
__asm__(".symver __pthread_unregister_cancel,__pthread_unregister_cancel@" COMPAT_CANCEL);
__asm__(".symver __pthread_unwind_next,__pthread_unwind_next@" COMPAT_CANCEL);
#if defined(__i386__) || defined(__arm__)
/* On 32-bit ABIs glibc 2.28 gave fcntl() a new version (fcntl64's
 * semantics); F_GETFL and F_DUPFD_CLOEXEC are the same in the old one. */
__asm__(".symver fcntl,fcntl@" COMPAT_BASE);
#endif
#endif

/* fstat() is a function of its own only since glibc 2.33; before, the
 * header made it a call of __fxstat(), which later glibc still has.
 * Sanitizer builds (tests only) must reach the sanitizer's fstat(). */
#if defined(COMPAT_BASE) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
extern int __fxstat(int ver, int fd, struct stat *st);
__asm__(".symver __fxstat,__fxstat@" COMPAT_BASE);
static inline int compat_fstat(int fd, struct stat *st)
{
	return __fxstat(COMPAT_STAT_VER, fd, st);
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
