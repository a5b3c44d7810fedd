/* fdstate.c - per-descriptor kinds and held route requests. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
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
static struct held_req held_reqs[HELD_MAX];
static int helpers[HELD_MAX_HELPERS];	/* the descriptor each helper works for,
				 * +1 (0: free; -1: its socket was closed) */
static uint64_t helper_sock[HELD_MAX_HELPERS];	/* ... and its port id */
static uint64_t held_clock;

static void atfork_prepare(void)
{
	pthread_mutex_lock(&lock);
}

static void atfork_release(void)
{
	pthread_mutex_unlock(&lock);
}

/* The child has none of the parent's helper threads: nobody would ever
 * act on their entries there. */
static void atfork_child(void)
{
	int i;

	for (i = 0; i < HELD_MAX; i++)
		if (held_reqs[i].used && held_reqs[i].state == HELD_DETACHED)
			held_drop(&held_reqs[i]);
	memset(helpers, 0, sizeof(helpers));
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

static uint64_t held_order;	/* send order, across all descriptors */

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

static int undecided(const struct held_req *h)
{
	return h->state == HELD_SENT || h->state == HELD_WAITING ||
	       h->state == HELD_DETACHED;
}

static struct held_req *same_request(int fd, const struct route_req *req, const void *msg)
{
	int i;

	for (i = 0; i < HELD_MAX; i++)
		if (held_reqs[i].used && held_reqs[i].fd == fd && held_reqs[i].req.len == req->len &&
		    undecided(&held_reqs[i]) && memcmp(held_reqs[i].msg, msg, req->len) == 0)
			return &held_reqs[i];
	return NULL;
}

struct held_req *held_add(int fd, const struct route_req *req, const void *msg,
		      const struct sockaddr_nl *to)
{
	struct held_req *h, *slot = NULL;
	int i;

	if (req->len > HELD_MSG_MAX || req->len < sizeof(struct nlmsghdr))
		return NULL;
	h = same_request(fd, req, msg);
	if (h) {
		/* The same bytes again: a retransmit, one more answer owed. */
		if (h->nsends >= HELD_SENDS)
			return NULL;
		h->sends[h->nsends++] = ++held_order;
		return h;
	}
	for (i = 0; i < HELD_MAX && !slot; i++)
		if (!held_reqs[i].used)
			slot = &held_reqs[i];
	if (!slot) {
		/* Replies that never came back (or were read elsewhere):
		 * forget the oldest, but never one a helper thread acts on. */
		for (i = 0; i < HELD_MAX; i++)
			if (held_reqs[i].state != HELD_DETACHED &&
			    (!slot || held_reqs[i].age < slot->age))
				slot = &held_reqs[i];
		if (!slot)
			return NULL;
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
	slot->sends[0] = ++held_order;
	slot->nsends = 1;
	slot->gen = ++held_clock;
	slot->age = slot->gen;
	fd_kind_set(fd, FD_ROUTE_HELD);
	return slot;
}

void held_unsend(int fd, const struct route_req *req, const void *msg)
{
	struct held_req *h = same_request(fd, req, msg);

	if (!h || !h->nsends)
		return;
	h->nsends--;
	if (!h->nsends && h->state == HELD_SENT)
		held_drop(h);
}

struct held_req *held_match(int fd, const struct reply_head *rh)
{
	struct held_req *best = NULL;
	int i;

	for (i = 0; i < HELD_MAX; i++) {
		struct held_req *h = &held_reqs[i];

		if (h->used && h->fd == fd && h->nsends && reply_answers(rh, h->msg) &&
		    (!best || h->sends[0] < best->sends[0]))
			best = h;
	}
	return best;
}

void held_answered(struct held_req *h)
{
	if (h->nsends) {
		h->nsends--;
		memmove(h->sends, h->sends + 1, h->nsends * sizeof(h->sends[0]));
	}
	if (!h->nsends && h->state != HELD_WAITING && h->state != HELD_DETACHED)
		held_drop(h);
}

void held_resend_mark(struct held_req *h)
{
	if (h->nsends >= HELD_SENDS) {
		/* Keep the newest: the oldest answers are refusals that the
		 * resend makes moot. */
		h->nsends--;
		memmove(h->sends, h->sends + 1, h->nsends * sizeof(h->sends[0]));
	}
	h->resend = ++held_order;
	h->sends[h->nsends++] = h->resend;
}

void held_resend_failed(struct held_req *h)
{
	if (h->nsends && h->sends[h->nsends - 1] == h->resend)
		h->nsends--;
	h->resend = 0;
	h->state = HELD_GAVE_UP;
}

/* The slot's index in the low 8 bits, its generation above. */
uintptr_t held_ref(const struct held_req *h)
{
	return (uintptr_t)(h->gen << 8) | (uintptr_t)(h - held_reqs);
}

struct held_req *held_deref(uintptr_t ref)
{
	struct held_req *h = &held_reqs[(ref & 0xff) % HELD_MAX];

	return h->used && (uintptr_t)(h->gen << 8) == (ref & ~(uintptr_t)0xff) ? h : NULL;
}

void held_forget(unsigned lo, unsigned hi)
{
	int i;

	for (i = 0; i < HELD_MAX; i++)
		if (held_reqs[i].used && (unsigned)held_reqs[i].fd >= lo &&
		    (unsigned)held_reqs[i].fd <= hi)
			held_drop(&held_reqs[i]);
	/* The number may be reused for another socket: that one gets a
	 * helper of its own. */
	for (i = 0; i < HELD_MAX_HELPERS; i++)
		if (helpers[i] > 0 && (unsigned)(helpers[i] - 1) >= lo &&
		    (unsigned)(helpers[i] - 1) <= hi)
			helpers[i] = -1;
}

int helper_active(int fd, uint64_t sock)
{
	int i;

	for (i = 0; i < HELD_MAX_HELPERS; i++)
		if (helpers[i] == fd + 1 && helper_sock[i] == sock)
			return 1;
	return 0;
}

int helper_add(int fd, uint64_t sock)
{
	int i;

	for (i = 0; i < HELD_MAX_HELPERS; i++)
		if (helpers[i] == 0) {
			helpers[i] = fd + 1;
			helper_sock[i] = sock;
			return i;
		}
	return -1;
}

struct held_req *helper_next(int id)
{
	struct held_req *next = NULL;
	int i;

	for (i = 0; i < HELD_MAX && helpers[id] > 0; i++) {
		struct held_req *h = &held_reqs[i];

		if (h->used && h->fd == helpers[id] - 1 && h->sock == helper_sock[id] &&
		    h->state == HELD_DETACHED && !h->claimed &&
		    (!next || h->refused < next->refused))
			next = h;
	}
	if (next)
		next->claimed = 1;
	else
		helpers[id] = 0;
	return next;
}
