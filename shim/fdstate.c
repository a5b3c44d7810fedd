/* fdstate.c - per-descriptor kinds and held route requests. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include "compat.h"
#include "fdstate.h"
#include "log.h"

uint8_t *fd_kinds;
unsigned fd_kinds_len;
unsigned fd_kinds_high;

#define FD_TABLE_MIN 65536u
#define FD_TABLE_MAX (1u << 24)
#define HELD_MAX 32	/* more pending source routes than charon ever has */

static size_t fd_table_size;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct held held[HELD_MAX];
static uint64_t held_clock;

static void atfork_prepare(void)
{
	pthread_mutex_lock(&lock);
}

static void atfork_release(void)
{
	pthread_mutex_unlock(&lock);
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
	__register_atfork(atfork_prepare, atfork_release, atfork_release, __dso_handle);
}

void fdstate_publish(void)
{
	if (fd_kinds)
		__atomic_store_n(&fd_kinds_len, (unsigned)fd_table_size, __ATOMIC_RELEASE);
}

void fd_reset(unsigned lo, unsigned hi, int kind)
{
	unsigned fd, high = __atomic_load_n(&fd_kinds_high, __ATOMIC_RELAXED);
	int cs;

	/* Numbers above the watermark were never given a kind: nothing to
	 * forget there, except for the one being set now. */
	if (kind == FD_UNKNOWN && hi > high)
		hi = high;
	if (fd_kinds_len == 0 || lo >= fd_kinds_len || lo > hi)
		return;
	if (hi >= fd_kinds_len)
		hi = fd_kinds_len - 1;
	for (fd = lo; fd <= hi; fd++) {
		if (fd_kind((int)fd) == FD_ROUTE_HELD) {
			state_lock(&cs);
			held_forget(fd, fd);
			state_unlock(cs);
		}
		if (fd_kind((int)fd) != kind)
			fd_kind_set((int)fd, kind);
	}
}

int fd_classify(int fd)
{
	int saved = errno;
	int domain, proto, kind;
	socklen_t len = sizeof(domain);

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

void state_lock(int *cancel_state)
{
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, cancel_state);
	pthread_mutex_lock(&lock);
}

void state_unlock(int cancel_state)
{
	pthread_mutex_unlock(&lock);
	pthread_setcancelstate(cancel_state, NULL);
}

struct held *held_find(int fd, uint32_t seq)
{
	int i;

	for (i = 0; i < HELD_MAX; i++)
		if (held[i].used && held[i].fd == fd && held[i].req.seq == seq)
			return &held[i];
	return NULL;
}

static int fd_has_held(int fd)
{
	int i;

	for (i = 0; i < HELD_MAX; i++)
		if (held[i].used && held[i].fd == fd)
			return 1;
	return 0;
}

void held_drop(struct held *h)
{
	int fd = h->fd;

	free(h->msg);
	memset(h, 0, sizeof(*h));
	if (!fd_has_held(fd) && fd_kind(fd) == FD_ROUTE_HELD)
		fd_kind_set(fd, FD_ROUTE);
}

struct held *held_add(int fd, const struct route_req *req, const void *msg)
{
	struct held *h = held_find(fd, req->seq);
	struct held *slot = NULL;
	int i;

	if (h && !h->gave_up) {
		h->owed++;	/* the same seq again: a retransmit */
		return h;
	}
	if (h)
		held_drop(h);
	for (i = 0; i < HELD_MAX && !slot; i++)
		if (!held[i].used)
			slot = &held[i];
	if (!slot) {
		/* Replies that never came back (or were read elsewhere):
		 * forget the oldest. */
		slot = &held[0];
		for (i = 1; i < HELD_MAX; i++)
			if (held[i].age < slot->age)
				slot = &held[i];
		shim_log(LV_DEBUG, "forgetting unanswered route seq %u on fd %d",
			 slot->req.seq, slot->fd);
		held_drop(slot);
	}
	slot->msg = malloc(req->len);
	if (!slot->msg)
		return NULL;
	memcpy(slot->msg, msg, req->len);
	slot->used = 1;
	slot->fd = fd;
	slot->req = *req;
	slot->owed = 1;
	slot->age = ++held_clock;
	fd_kind_set(fd, FD_ROUTE_HELD);
	return slot;
}

void held_reply_seen(struct held *h)
{
	if (h->ahead)
		h->ahead--;
	if (h->owed)
		h->owed--;
	if (!h->owed)
		held_drop(h);
}

void held_forget(unsigned lo, unsigned hi)
{
	int i;

	for (i = 0; i < HELD_MAX; i++)
		if (held[i].used && (unsigned)held[i].fd >= lo &&
		    (unsigned)held[i].fd <= hi)
			held_drop(&held[i]);
}
