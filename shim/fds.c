/* fds.c - the descriptor table and the shim's own descriptors.
 *
 * Creating a descriptor takes the lowest free number, and nothing in Linux
 * creates one elsewhere.  For the instant between socket() and its move to
 * a high number, a close_range()/closefrom() of another thread could close
 * it and an open() reuse it, and the shim would then close the program's
 * file.  So the two exclude each other through two counters (Dekker's
 * pattern, sequentially consistent atomics): a sweep waits out a creation,
 * which lasts four short system calls; a creation gives up while a sweep
 * runs.  No mutex: a _Fork() child (no fork handlers) inherits counters of
 * threads it does not have, and a sweep there must not wait on them, so
 * counts are stamped with the pid that made them. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/netlink.h>

#include "compat.h"
#include "fds.h"
#include "real.h"

uint8_t *fd_kinds;
unsigned fd_kinds_len;

#define FD_TABLE_MIN 65536u
#define FD_TABLE_MAX (1u << 24)
#define OWN_MAX 64	/* shim descriptors open at once (one per waiting thread) */
#define HIGH_MAX 4096	/* the shim's numbers start at most here */

static unsigned table_size;
static unsigned kinds_high;	/* no number above it was given a kind */
static int creating, sweeping;	/* threads inside either, this process */
static pid_t creating_pid;	/* whose count `creating` is */

/* The shim's own descriptors: number and inode, 0 in fd when free (a
 * shim descriptor is never below 3). */
static struct own {
	int fd;
	dev_t dev;
	ino_t ino;
} own[OWN_MAX];

/* A fork() child has none of the parent's other threads: their sockets
 * are nobody's there, and their counts are stale. */
static void atfork_child(void)
{
	int i;

	creating = 0;
	sweeping = 0;
	for (i = 0; i < OWN_MAX; i++)
		if (own[i].fd > 0)
			shim_fd_close(own[i].fd);
}

int fds_init(void)
{
	struct rlimit rl;
	rlim_t n = FD_TABLE_MIN;
	void *p;

	/* Pages the kernel backs only once touched. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max > n)
		n = rl.rlim_max < FD_TABLE_MAX ? rl.rlim_max : FD_TABLE_MAX;
	p = mmap(NULL, (size_t)n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	fd_kinds = p;
	table_size = (unsigned)n;
	__register_atfork(NULL, NULL, atfork_child, __dso_handle);
	return 0;
}

void fds_publish(void)
{
	if (fd_kinds)
		__atomic_store_n(&fd_kinds_len, table_size, __ATOMIC_RELEASE);
}

void fd_set_kind(unsigned lo, unsigned hi, int kind)
{
	unsigned fd, len = __atomic_load_n(&fd_kinds_len, __ATOMIC_ACQUIRE);
	unsigned high = __atomic_load_n(&kinds_high, __ATOMIC_RELAXED);

	/* Above the watermark everything is FD_UNKNOWN already: a
	 * closefrom(3) need not walk 2^24 bytes. */
	if (kind == FD_UNKNOWN && hi > high)
		hi = high;
	if (hi >= len)
		hi = len - 1;
	while (kind != FD_UNKNOWN && hi > high && hi < len &&
	       !__atomic_compare_exchange_n(&kinds_high, &high, hi, 1,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	for (fd = lo; len && fd <= hi; fd++)
		if (fd_kinds[fd] != kind)	/* untouched pages stay unbacked */
			__atomic_store_n(&fd_kinds[fd], (uint8_t)kind, __ATOMIC_RELAXED);
}

int fd_classify(int fd)
{
	int domain, proto, kind = FD_OTHER;
	socklen_t len = sizeof(domain);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0) {
		if (errno == EBADF)
			return FD_UNKNOWN;
	} else if (domain == AF_NETLINK) {
		len = sizeof(proto);
		if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 &&
		    proto == NETLINK_ROUTE)
			kind = FD_ROUTE;
	}
	if (fd >= 0)
		fd_set_kind((unsigned)fd, (unsigned)fd, kind);
	return kind;
}

/* ---- sweeps and creations ---- */

static void sweep_begin(void)
{
	struct timespec pause = { 0, 100000 };	/* 0.1 ms */
	int tries = 0;

	for (;;) {
		__atomic_add_fetch(&sweeping, 1, __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&creating, __ATOMIC_SEQ_CST))
			return;
		/* A count of another process (inherited by a _Fork() child)
		 * never ends; 100 ms is a thousand times a creation. */
		if (__atomic_load_n(&creating_pid, __ATOMIC_RELAXED) != getpid() ||
		    ++tries > 1000)
			return;
		__atomic_sub_fetch(&sweeping, 1, __ATOMIC_SEQ_CST);
		nanosleep(&pause, NULL);
	}
}

static void sweep_end(void)
{
	if (__atomic_load_n(&sweeping, __ATOMIC_SEQ_CST) > 0)
		__atomic_sub_fetch(&sweeping, 1, __ATOMIC_SEQ_CST);
}

/* The shim's own number in [@lo, @hi] nearest @lo, or -1. */
static long own_in(unsigned lo, unsigned hi)
{
	long best = -1;
	int i;

	for (i = 0; i < OWN_MAX; i++) {
		int fd = __atomic_load_n(&own[i].fd, __ATOMIC_SEQ_CST);

		if (fd > 0 && (unsigned)fd >= lo && (unsigned)fd <= hi &&
		    (best < 0 || fd < best))
			best = fd;
	}
	return best;
}

int fd_sweep(unsigned lo, unsigned hi, int (*sweep)(unsigned, unsigned, int), int flags)
{
	long fd;
	int ret = 0, rest = 1;

	sweep_begin();
	/* One call per stretch between the shim's numbers: with none in the
	 * range, the caller's call as made. */
	while (rest && (fd = own_in(lo, hi)) >= 0) {
		if ((unsigned long)fd > lo)
			ret |= sweep(lo, (unsigned)fd - 1, flags);
		rest = (unsigned long)fd < hi;
		lo = (unsigned)fd + 1;
	}
	if (rest)
		ret |= sweep(lo, hi, flags);
	sweep_end();
	return ret ? -1 : 0;
}

/* The lowest number the shim's descriptors take: 64 below the soft
 * limit, at most HIGH_MAX, far above what daemons use. */
static int high_min(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < 128)
		return 3;
	return rl.rlim_cur - 64 > HIGH_MAX ? HIGH_MAX : (int)(rl.rlim_cur - 64);
}

/* Enters a creation, or a close, of a shim descriptor: -EBUSY while a
 * sweep of the program runs. */
static int guard_enter(void)
{
	__atomic_store_n(&creating_pid, getpid(), __ATOMIC_RELAXED);
	__atomic_add_fetch(&creating, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&sweeping, __ATOMIC_SEQ_CST)) {
		__atomic_sub_fetch(&creating, 1, __ATOMIC_SEQ_CST);
		return -EBUSY;
	}
	return 0;
}

static void guard_leave(void)
{
	__atomic_sub_fetch(&creating, 1, __ATOMIC_SEQ_CST);
}

static int own_add(int fd)
{
	struct stat st;
	int i, zero;

	if (compat_fstat(fd, &st) < 0)
		return -errno;
	for (i = 0; i < OWN_MAX; i++) {
		zero = 0;
		if (__atomic_load_n(&own[i].fd, __ATOMIC_RELAXED) == 0 &&
		    __atomic_compare_exchange_n(&own[i].fd, &zero, -1, 0,
						__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
			own[i].dev = st.st_dev;
			own[i].ino = st.st_ino;
			__atomic_store_n(&own[i].fd, fd, __ATOMIC_SEQ_CST);
			return 0;
		}
	}
	return -EMFILE;
}

static struct own *own_find(int fd)
{
	int i;

	for (i = 0; fd > 0 && i < OWN_MAX; i++)
		if (__atomic_load_n(&own[i].fd, __ATOMIC_SEQ_CST) == fd)
			return &own[i];
	return NULL;
}

int shim_fd_open(int domain, int type, int protocol)
{
	int cs, low, fd = -1, err;

	/* A closed 0, 1 or 2 would be the lowest free number: the program
	 * may mean to reopen it, so the shim opens nothing then. */
	for (low = 0; low <= 2; low++)
		if (fcntl(low, F_GETFD) < 0)
			return -EBADF;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cs);
	err = guard_enter();
	if (err < 0) {
		pthread_setcancelstate(cs, NULL);
		return err;
	}
	low = real.socket(domain, type | SOCK_CLOEXEC, protocol);
	if (low < 0) {
		err = -errno;
	} else {
		fd = fcntl(low, F_DUPFD_CLOEXEC, high_min());
		err = fd < 0 ? -errno : own_add(fd);
		(void)real.close(low);
		if (fd >= 0 && err < 0)
			(void)real.close(fd);
	}
	guard_leave();
	pthread_setcancelstate(cs, NULL);
	return err < 0 ? err : fd;
}

int shim_fd_check(int fd)
{
	struct own *o = own_find(fd);
	struct stat st;

	if (!o || compat_fstat(fd, &st) < 0 || st.st_dev != o->dev || st.st_ino != o->ino)
		return -EBADF;
	return 0;
}

void shim_fd_close(int fd)
{
	struct own *o = own_find(fd);
	int saved = errno, cs, tries = 0, in, ours;

	if (!o)
		return;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cs);
	/* Closed while no sweep runs, so that its number cannot be closed
	 * by the program and reused between the check and the close.  A
	 * sweep is one system call; a count that never drops is stale. */
	while ((in = guard_enter()) == -EBUSY && ++tries < 1000)
		sched_yield();
	/* Forgotten first: once closed, the number may be another thread's
	 * socket of the shim's, whose slot must be the only one naming it. */
	ours = shim_fd_check(fd) == 0;
	__atomic_store_n(&o->fd, 0, __ATOMIC_SEQ_CST);
	if (ours)
		(void)real.close(fd);
	if (in == 0)
		guard_leave();
	pthread_setcancelstate(cs, NULL);
	errno = saved;
}
