/* fdstate.c - per-descriptor kinds and held requests. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include "compat.h"
#include "fdstate.h"
#include "log.h"
#include "real.h"
#include "vm.h"

uint8_t *fd_kinds;
unsigned fd_kinds_len;
unsigned fd_kinds_high;

#define FD_TABLE_MIN 65536u
#define FD_TABLE_MAX (1u << 24)
#define HELD_MAX 32	/* more unanswered source routes than charon ever has */

static size_t fd_table_size;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t numbers = PTHREAD_RWLOCK_INITIALIZER;
static struct held_req held_reqs[HELD_MAX];
static uint64_t held_clock;	/* send order and slot generations */

static void atfork_prepare(void)
{
	pthread_rwlock_wrlock(&numbers);
	pthread_mutex_lock(&lock);
}

static void atfork_release(void)
{
	pthread_mutex_unlock(&lock);
	pthread_rwlock_unlock(&numbers);
}

/* The child has none of the parent's other threads: a DAD wait's socket
 * it inherited is nobody's there.  Closed, so that the child holds no
 * descriptor of the shim's. */
static void atfork_child(void)
{
	pthread_rwlock_t fresh = PTHREAD_RWLOCK_INITIALIZER;
	unsigned fd, high = fd_kinds_high;

	for (fd = 0; fd <= high && fd < fd_kinds_len; fd++)
		if (fd_kinds[fd] == FD_SHIM) {
			(void)real.close((int)fd);
			fd_kinds[fd] = FD_UNKNOWN;
		}
	pthread_mutex_unlock(&lock);
	/* Write-locked by the parent's thread: a new one for the child's. */
	memcpy(&numbers, &fresh, sizeof(numbers));
}

void fdstate_init(void)
{
	struct rlimit rl;
	rlim_t n = FD_TABLE_MIN;
	void *p;

	/* One byte per possible descriptor, in pages the kernel only backs
	 * once they are touched. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max > n)
		n = rl.rlim_max < FD_TABLE_MAX ? rl.rlim_max : FD_TABLE_MAX;
	fd_table_size = (size_t)n;
	p = mmap(NULL, (size_t)n, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		shim_log(LV_ERRORS, "no memory for the descriptor table; shim inactive");
		return;
	}
	fd_kinds = p;
	/* A fork() while another thread holds the lock must not leave the
	 * child with a lock nobody will release. */
	__register_atfork(atfork_prepare, atfork_release, atfork_child, __dso_handle);
}

void fdstate_publish(void)
{
	if (fd_kinds)
		__atomic_store_n(&fd_kinds_len, (unsigned)fd_table_size, __ATOMIC_RELEASE);
}

void fd_reset(unsigned lo, unsigned hi, int kind)
{
	unsigned fd, high = __atomic_load_n(&fd_kinds_high, __ATOMIC_RELAXED);
	int cs, owner = -1;

	/* Numbers above the watermark were never given a kind: nothing to
	 * forget there, except for the one being set now. */
	if (kind == FD_UNKNOWN && hi > high)
		hi = high;
	if (fd_kinds_len == 0 || lo >= fd_kinds_len || lo > hi)
		return;
	if (hi >= fd_kinds_len)
		hi = fd_kinds_len - 1;
	for (fd = lo; fd <= hi; fd++) {
		int k = fd_kind((int)fd);

		if (k == FD_SHIM || k == kind)
			continue;
		/* A vfork() child shares its parent's table: it never drops
		 * the parent's held requests (getpid() only here, where a
		 * held number is reset: no system call on other paths). */
		if (k == FD_ROUTE_HELD && owner < 0)
			owner = vm_owner();
		if (k == FD_ROUTE_HELD && !owner)
			continue;
		if (k == FD_ROUTE_HELD) {
			state_lock(&cs);
			held_forget(fd, fd);
			state_unlock(cs);
		}
		fd_kind_set((int)fd, kind);
	}
}

int fd_classify(int fd)
{
	int saved = errno;
	int domain, proto, kind;
	socklen_t len = sizeof(domain);

	if (fd_kind(fd) == FD_SHIM)
		return FD_OTHER;	/* never the caller's to rewrite */
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0) {
		kind = errno == EBADF ? FD_UNKNOWN : FD_OTHER;
	} else if (domain != AF_NETLINK) {
		kind = FD_OTHER;
	} else {
		len = sizeof(proto);
		if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0)
			kind = FD_OTHER;
		else
			kind = proto == NETLINK_ROUTE ? FD_ROUTE : FD_OTHER;
	}
	/* Keep a held state the descriptor really still has. */
	if (!(kind == FD_ROUTE && fd_kind(fd) == FD_ROUTE_HELD))
		fd_kind_set(fd, kind);
	errno = saved;
	return kind;
}

int fd_private_min(void)
{
	struct rlimit rl;
	int saved = errno;
	rlim_t soft = 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		soft = rl.rlim_cur;
	errno = saved;
	/* 64 numbers below the limit (charon and systemd: 1024), but never
	 * above 4096, which keeps the close_range() sweeps short. */
	if (soft > 4096 + 64)
		return 4096;
	return soft > 128 ? (int)(soft - 64) : (int)(soft / 2);
}

void fd_sweep_begin(void)
{
	int saved = errno;

	pthread_rwlock_rdlock(&numbers);
	errno = saved;
}

void fd_sweep_end(void)
{
	int saved = errno;

	pthread_rwlock_unlock(&numbers);
	errno = saved;
}

void fd_move_begin(void)
{
	int saved = errno;

	pthread_rwlock_wrlock(&numbers);
	errno = saved;
}

void fd_move_end(void)
{
	fd_sweep_end();
}

/* One log line fdstate wants written, kept until the lock is released:
 * a log line is a few system calls, never made under the lock. */
static char deferred[160];

void state_lock(int *cancel_state)
{
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, cancel_state);
	pthread_mutex_lock(&lock);
}

void state_unlock(int cancel_state)
{
	char line[sizeof(deferred)];

	line[0] = '\0';
	if (deferred[0]) {
		memcpy(line, deferred, sizeof(line));
		deferred[0] = '\0';
	}
	pthread_mutex_unlock(&lock);
	if (line[0])
		shim_log(LV_DEBUG, "%s", line);
	pthread_setcancelstate(cancel_state, NULL);
}

static int fd_has_held(int fd)
{
	int i;

	for (i = 0; i < HELD_MAX; i++)
		if (held_reqs[i].used && held_reqs[i].fd == fd)
			return 1;
	return 0;
}

void held_drop(struct held_req *h)
{
	int fd = h->fd;

	memset(h, 0, sizeof(*h));
	if (!fd_has_held(fd) && fd_kind(fd) == FD_ROUTE_HELD)
		fd_kind_set(fd, FD_ROUTE);
}

void held_followed(int fd)
{
	int i;

	for (i = 0; i < HELD_MAX; i++)
		if (held_reqs[i].used && held_reqs[i].fd == fd)
			held_reqs[i].followed = 1;
}

struct held_req *held_add(int fd, const struct retry_req *req, const void *msg,
			  const struct sockaddr_nl *to)
{
	struct held_req *slot = NULL;
	int i;

	if (req->len > HELD_MSG_MAX || req->len < sizeof(struct nlmsghdr))
		return NULL;
	held_followed(fd);
	for (i = 0; i < HELD_MAX && !slot; i++)
		if (!held_reqs[i].used)
			slot = &held_reqs[i];
	if (!slot) {
		/* Answers that never came back (or were read elsewhere):
		 * forget the oldest request. */
		slot = &held_reqs[0];
		for (i = 1; i < HELD_MAX; i++)
			if (held_reqs[i].order < slot->order)
				slot = &held_reqs[i];
		(void)snprintf(deferred, sizeof(deferred),
			       "forgetting unanswered route seq %u on fd %d",
			       slot->req.seq, slot->fd);
		held_drop(slot);
	}
	memcpy(slot->msg, msg, req->len);
	slot->used = 1;
	slot->fd = fd;
	slot->state = HELD_SENT;
	slot->req = *req;
	slot->has_to = to != NULL;
	if (to)
		slot->to = *to;
	slot->order = slot->gen = ++held_clock;
	fd_kind_set(fd, FD_ROUTE_HELD);
	return slot;
}

struct held_req *held_match(int fd, const struct reply_head *rh)
{
	struct held_req *best = NULL;
	int i;

	for (i = 0; i < HELD_MAX; i++) {
		struct held_req *h = &held_reqs[i];

		if (h->used && h->fd == fd && reply_answers(rh, h->msg) &&
		    (!best || h->order < best->order))
			best = h;
	}
	return best;
}

int held_retryable(const struct held_req *h)
{
	return (h->state == HELD_SENT || h->state == HELD_WAITING) && !h->followed;
}

/* The slot's index in the low 8 bits, its generation above. */
uintptr_t held_ref(const struct held_req *h)
{
	return (uintptr_t)(h->gen << 8) | (uintptr_t)(h - held_reqs);
}

uintptr_t held_wait(struct held_req *h)
{
	h->state = HELD_WAITING;
	return held_ref(h);
}

struct held_req *held_deref(uintptr_t ref)
{
	struct held_req *h = &held_reqs[(ref & 0xff) % HELD_MAX];

	return h->used && (uintptr_t)(h->gen << 8) == (ref & ~(uintptr_t)0xff) ? h : NULL;
}

void held_retried(struct held_req *h, int result, unsigned ms)
{
	h->state = HELD_RETRIED;
	h->wait_result = result;
	h->dad_ms = ms;
}

void held_give_up(struct held_req *h)
{
	h->state = HELD_GAVE_UP;
}

void held_forget(unsigned lo, unsigned hi)
{
	int i;

	for (i = 0; i < HELD_MAX; i++)
		if (held_reqs[i].used && (unsigned)held_reqs[i].fd >= lo &&
		    (unsigned)held_reqs[i].fd <= hi)
			held_drop(&held_reqs[i]);
}
