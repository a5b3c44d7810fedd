/* vm.c - copies of the caller's memory made by the kernel, and the pid
 * they are made for.
 *
 * process_vm_readv() names a process: given a stale pid it would copy
 * another process's memory.  glibc >= 2.25 no longer caches the pid, and
 * fork handlers do not run in a child of _Fork() or of a raw clone(), so
 * the pid lives in a page the kernel wipes in every child that gets a
 * memory of its own (MADV_WIPEONFORK, Linux >= 4.14): a child reads 0
 * there and asks getpid() once.  A vfork() child shares the page, and the
 * memory: its parent's pid reads the same bytes.  Older kernels: getpid()
 * at each look (a system call on the slow path only). */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "compat.h"
#include "log.h"
#include "vm.h"

#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18	/* Linux 4.14; stretch's headers lack it */
#endif

static pid_t *wiped;	/* the pid, in a MADV_WIPEONFORK page; NULL: none */
static pid_t forked;	/* without it: the pid, set again by fork() */

static void vm_forked(void)
{
	forked = getpid();
}

void vm_init(void)
{
	/* getpagesize(), not sysconf(): Debian's libc6 symbols file dates
	 * sysconf to 2.34, which would make the package depend on it. */
	size_t page = (size_t)getpagesize();
	void *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	forked = getpid();
	__register_atfork(NULL, NULL, vm_forked, __dso_handle);
	if (p == MAP_FAILED)
		return;
	if (madvise(p, page, MADV_WIPEONFORK) < 0) {
		(void)munmap(p, page);
		return;
	}
	wiped = p;
	*wiped = forked;
}

/* The pid whose memory this process runs in. */
static pid_t vm_pid(void)
{
	pid_t pid;

	if (!wiped)
		return getpid();
	pid = __atomic_load_n(wiped, __ATOMIC_RELAXED);
	if (!pid) {
		pid = getpid();
		__atomic_store_n(wiped, pid, __ATOMIC_RELAXED);
	}
	return pid;
}

int vm_owner(void)
{
	int saved = errno;
	pid_t owner = wiped ? vm_pid() : __atomic_load_n(&forked, __ATOMIC_RELAXED);
	int ret = owner == getpid();

	errno = saved;
	return ret;
}

/* Each call's refusal, logged once with what it costs. */
static struct vm_call {
	const char *name, *cost;
	int denied;
} vm_readv = { "process_vm_readv", "netlink requests are sent unchanged", 0 },
  vm_writev = { "process_vm_writev", "sendmmsg() on netlink sockets passes through unchanged", 0 };

static int vm_result(ssize_t n, size_t len, struct vm_call *call)
{
	if (n == (ssize_t)len)
		return 0;
	if (n >= 0 || errno == EFAULT) {
		errno = EFAULT;	/* partly or not at all accessible */
		return -1;
	}
	/* ENOSYS, EPERM (seccomp, an LSM): no way to look safely. */
	if (!__atomic_exchange_n(&call->denied, 1, __ATOMIC_RELAXED))
		shim_log(LV_ERRORS, "cannot reach the caller's memory safely (%s: %s); %s",
			 call->name, strerror(errno), call->cost);
	return -1;
}

int vm_gather(void *dst, size_t len, const struct iovec *src, size_t n)
{
	struct iovec local = { dst, len };

	if (len == 0)
		return 0;
	return vm_result(process_vm_readv(vm_pid(), &local, 1, src, n, 0), len, &vm_readv);
}

int vm_read(void *dst, const void *src, size_t len)
{
	struct iovec remote = { (void *)src, len };

	return vm_gather(dst, len, &remote, 1);
}

int vm_write(void *dst, const void *src, size_t len)
{
	struct iovec local = { (void *)src, len }, remote = { dst, len };

	return vm_result(process_vm_writev(vm_pid(), &local, 1, &remote, 1, 0), len, &vm_writev);
}

int vm_write_allowed(void)
{
	static int allowed;	/* 0: not asked yet, 1: yes, -1: refused */
	int a = __atomic_load_n(&allowed, __ATOMIC_RELAXED), saved = errno;
	unsigned char probe = 0, dst = 1;

	if (a)
		return a > 0;
	a = vm_write(&dst, &probe, 1) == 0 ? 1 : -1;
	__atomic_store_n(&allowed, a, __ATOMIC_RELAXED);
	errno = saved;
	return a > 0;
}
