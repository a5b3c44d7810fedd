/* fds.c - the descriptor table and the shim's own sockets.
 *
 * A new descriptor takes the lowest free number.  Between socket() and the
 * move to a high number, a close_range()/closefrom() of another thread
 * could close it and an open() reuse it, and the shim would close the
 * program's file.  So the two exclude each other with two counters
 * (Dekker's pattern, sequentially consistent atomics): a sweep waits out a
 * creation (three short system calls), a creation gives up while a sweep
 * runs, a close waits out a sweep.  No mutex, and no endless wait: a count
 * another process holds (a _Fork() child inherits its parent's) is not
 * waited for, a live one at most GIVE_UP_MS. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "compat.h"
#include "shim.h"

uint8_t *fd_kinds;
unsigned fd_kinds_len;

#define OWN_MAX 64	/* the shim's sockets open at once: one per waiting thread */
/* A count held 2 s is a thread that left the shim by longjmp(), or a signal
 * handler sweeping in the thread it interrupted: waiting on would hang. */
#define GIVE_UP_MS 2000

static unsigned table_size, kinds_high;	/* no number above kinds_high has a kind */
static int high_min = 3;		/* the shim's sockets take numbers from here */
static int creating, sweeping;		/* threads in either, this process */
static pid_t counts_pid;		/* the process the counts are of */
static struct own {			/* the shim's sockets (fd 0: a free slot) */
	int fd;
	dev_t dev;
	ino_t ino;			/* 0: not checked yet */
} own[OWN_MAX];

/* A fork() child has none of the other threads: their sockets are nobody's
 * there, and their counts stale. */
static void atfork_child(void)
{
	creating = sweeping = 0;
	counts_pid = getpid();
	for (int i = 0; i < OWN_MAX; i++)
		if (own[i].fd > 0)
			shim_fd_close(own[i].fd);
}

int fds_init(void)
{
	struct rlimit rl = { 0, 0 };
	rlim_t n = 1u << 16;
	void *p;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max > n)
		n = rl.rlim_max < (1u << 24) ? rl.rlim_max : (1u << 24);
	/* Pages the kernel backs only once touched. */
	p = mmap(NULL, (size_t)n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	/* 64 below the soft limit, at most 4096: far above what daemons use. */
	if (rl.rlim_cur >= 128)
		high_min = rl.rlim_cur - 64 > 4096 ? 4096 : (int)(rl.rlim_cur - 64);
	fd_kinds = p;
	table_size = (unsigned)n;
	counts_pid = getpid();
	__register_atfork(NULL, NULL, atfork_child, __dso_handle);
	__atomic_store_n(&fd_kinds_len, table_size, __ATOMIC_RELEASE);
	return 0;
}

void fd_set_kind(unsigned lo, unsigned hi, int kind)
{
	unsigned fd, len = __atomic_load_n(&fd_kinds_len, __ATOMIC_ACQUIRE);
	unsigned high = __atomic_load_n(&kinds_high, __ATOMIC_RELAXED);

	if (!len)
		return;
	/* Above the watermark all is FD_UNKNOWN: closefrom(3) walks no 16 MB. */
	if (kind == FD_UNKNOWN && hi > high)
		hi = high;
	if (hi >= len)
		hi = len - 1;
	while (kind != FD_UNKNOWN && hi > high &&
	       !__atomic_compare_exchange_n(&kinds_high, &high, hi, 1, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED))
		;
	for (fd = lo; fd <= hi; fd++)
		if (fd_kinds[fd] != kind)	/* untouched pages stay unbacked */
			__atomic_store_n(&fd_kinds[fd], (uint8_t)kind, __ATOMIC_RELAXED);
}

int fd_classify(int fd)
{
	int domain = -1, proto, kind = FD_OTHER;
	socklen_t len = sizeof(domain);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 && errno == EBADF)
		return FD_UNKNOWN;
	len = sizeof(proto);
	if (domain == AF_NETLINK &&
	    getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 && proto == NETLINK_ROUTE)
		kind = FD_ROUTE;
	if (fd >= 0)
		fd_set_kind((unsigned)fd, (unsigned)fd, kind);
	return kind;
}

/* Dekker's entry: counts this thread in @mine once @other is 0; 0, or
 * -EBUSY, uncounted.  If @wait it waits, but not for a count this process
 * did not make (after _Fork() or vfork() the fd table is a copy: its
 * creations and sweeps cannot meet ours), and a live one GIVE_UP_MS. */
static int enter(int *mine, int *other, int wait)
{
	uint64_t t0 = 0;

	for (int tries = 0;; tries++) {
		__atomic_add_fetch(mine, 1, __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(other, __ATOMIC_SEQ_CST))
			return 0;
		__atomic_sub_fetch(mine, 1, __ATOMIC_SEQ_CST);
		if (!wait)
			return -EBUSY;
		if (tries % 64 == 0 && !t0) {
			t0 = now_ms();
			if (getpid() != __atomic_load_n(&counts_pid, __ATOMIC_RELAXED))
				return -EBUSY;
		} else if (tries % 64 == 0 && now_ms() - t0 > GIVE_UP_MS) {
			return -EBUSY;
		}
		sched_yield();
	}
}

/* The shim's lowest number in [@lo, @hi], or -1. */
static long own_in(unsigned lo, unsigned hi)
{
	long best = -1;

	for (int i = 0; i < OWN_MAX; i++) {
		int fd = __atomic_load_n(&own[i].fd, __ATOMIC_SEQ_CST);

		if (fd > 0 && (unsigned)fd >= lo && (unsigned)fd <= hi && (best < 0 || fd < best))
			best = fd;
	}
	return best;
}

int fd_sweep(unsigned lo, unsigned hi, int (*sweep)(unsigned, unsigned, int), int flags)
{
	int ret = 0, rest = 1;
	long fd;

	/* The program's sweep goes ahead, waited for or not. */
	if (enter(&sweeping, &creating, 1) < 0)
		__atomic_add_fetch(&sweeping, 1, __ATOMIC_SEQ_CST);
	/* One call per stretch between the shim's numbers; with none in the
	 * range, the caller's call as made. */
	while (rest && (fd = own_in(lo, hi)) >= 0) {
		if ((unsigned long)fd > lo)
			ret |= sweep(lo, (unsigned)fd - 1, flags);
		rest = (unsigned long)fd < hi;
		lo = (unsigned)fd + 1;
	}
	if (rest)
		ret |= sweep(lo, hi, flags);
	__atomic_sub_fetch(&sweeping, 1, __ATOMIC_SEQ_CST);
	return ret ? -1 : 0;
}

static struct own *own_find(int fd)
{
	for (int i = 0; fd > 0 && i < OWN_MAX; i++)
		if (__atomic_load_n(&own[i].fd, __ATOMIC_SEQ_CST) == fd)
			return &own[i];
	return NULL;
}

int shim_fd_open(int domain, int type, int protocol)
{
	int cs, fd = -1, err;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cs);
	err = enter(&creating, &sweeping, 0);
	if (!err) {
		/* A number below 3 says 0, 1 or 2 is closed: it goes back at once,
		 * as any low number does, and nothing is opened (a daemon may be
		 * about to open /dev/null there). */
		int low = real.socket(domain, type | SOCK_CLOEXEC, protocol);

		if (low >= 0 && low < 3)
			err = -EBADF;
		else if (low < 0 || (fd = fcntl(low, F_DUPFD_CLOEXEC, high_min)) < 0)
			err = -errno;
		else
			err = -EMFILE;	/* until a slot takes it */
		if (low >= 0)
			(void)real.close(low);
		for (int i = 0; fd >= 0 && i < OWN_MAX && err; i++) {
			int zero = 0;

			if (__atomic_compare_exchange_n(&own[i].fd, &zero, fd, 0, __ATOMIC_SEQ_CST,
							__ATOMIC_SEQ_CST)) {
				own[i].ino = 0;
				err = 0;
			}
		}
		if (fd >= 0 && err)
			(void)real.close(fd);
		__atomic_sub_fetch(&creating, 1, __ATOMIC_SEQ_CST);
	}
	pthread_setcancelstate(cs, NULL);
	return err ? err : fd;
}

int shim_fd_check(int fd)
{
	struct own *o = own_find(fd);
	struct stat st;

	if (!o || compat_fstat(fd, &st) < 0 || (o->ino && (st.st_dev != o->dev || st.st_ino != o->ino)))
		return -EBADF;
	o->dev = st.st_dev;
	o->ino = st.st_ino;
	return 0;
}

void shim_fd_close(int fd)
{
	struct own *o = own_find(fd);
	int cs, in, ours;

	if (!o)
		return;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cs);
	/* Closed while no sweep runs, so that the number cannot be closed and
	 * reused between the check and the close.  Forgotten first: once
	 * closed, the number may be another thread's socket.  After a sweep
	 * that does not end, left open (the program's next sweep or exit
	 * closes it) rather than a number closed that may be the program's. */
	in = enter(&creating, &sweeping, 1);
	ours = in == 0 && (!o->ino || shim_fd_check(fd) == 0);
	__atomic_store_n(&o->fd, 0, __ATOMIC_SEQ_CST);
	if (ours)
		(void)real.close(fd);
	if (in == 0)
		__atomic_sub_fetch(&creating, 1, __ATOMIC_SEQ_CST);
	pthread_setcancelstate(cs, NULL);
}
