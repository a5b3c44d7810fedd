/* dadwait.c - the shim's private NETLINK_ROUTE socket, alive only while
 * one wait lasts, subscribed to RTNLGRP_IPV6_IFADDR and nothing else. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "compat.h"
#include "dadwait.h"
#include "inspect.h"
#include "log.h"
#include "real.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#define BUF_LEN 16384

/* What a wait owns, released by the cleanup handler also on cancel. */
struct watch {
	int fd;
	char *buf;
};

static void watch_release(void *arg)
{
	struct watch *w = arg;

	free(w->buf);
	if (w->fd >= 0)
		real.close(w->fd);
}

/* Subscribed first, then the dump: a transition between the two cannot
 * be missed, it arrives as a notification after the dump. */
static int open_watch(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = 1u << (RTNLGRP_IPV6_IFADDR - 1) };
	int fd = real.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		real.close(fd);
		return -1;
	}
	return fd;
}

/* Each dump has a seq of its own: what is left of an earlier one must not
 * be taken for the current one. */
static uint32_t dump_seq;

static int request_dump(int fd, uint32_t seq)
{
	struct {
		struct nlmsghdr nlh;
		struct ifaddrmsg ifa;
	} req = {
		.nlh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETADDR,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = seq },
		.ifa = { .ifa_family = AF_INET6 },
	};
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	return real.sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel,
			   sizeof(kernel)) == (ssize_t)sizeof(req) ? 0 : -1;
}

/* Reads what is queued (without blocking) into @t, until @deadline.
 * Returns 1 when the dump @seq ended, 0 when it did not, -1 after an
 * overrun (notifications were lost: start over) or an error. */
static int drain(const struct watch *w, uint32_t seq, const struct in6_addr *addr,
		 struct dad_track *t, uint64_t deadline)
{
	int done = 0;

	while (now_ms() < deadline) {
		ssize_t n = real.recv(w->fd, w->buf, BUF_LEN, MSG_DONTWAIT);
		int end;

		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? done : -1;
		end = dump_feed(w->buf, (size_t)n, seq, addr, t);
		if (end < 0)
			return -1;
		if (end > 0)
			done = 1;
	}
	return done;
}

/* A socket of its own for each dump after the first: an overrun leaves
 * the earlier dump running on the old one, and a second dump request on
 * it would only get EBUSY.  Not cancellable while the descriptor changes
 * hands. */
static int reopen_watch(struct watch *w)
{
	int cs, fd = w->fd;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cs);
	w->fd = -1;
	real.close(fd);
	w->fd = open_watch();
	pthread_setcancelstate(cs, NULL);
	return w->fd;
}

/* The wait itself, on @w's socket; the caller owns @w's resources. */
static enum dad_wait_result watch(struct watch *w, const struct in6_addr *addr,
				  uint64_t deadline)
{
	struct dad_track t = { DAD_ABSENT, 0 };
	int need_dump = 1, dump_done = 0, first = 1, dumps = 0;
	uint32_t seq = 0;

	for (;;) {
		struct pollfd p = { .fd = w->fd, .events = POLLIN };
		uint64_t now;
		int got;

		if (need_dump) {
			/* Overruns are rare; three in a row mean trouble. */
			if (++dumps > 3 || (dumps > 1 && reopen_watch(w) < 0))
				return DADW_ERROR;
			seq = __atomic_add_fetch(&dump_seq, 1, __ATOMIC_RELAXED);
			if (seq == 0)	/* 0 is the notifications' seq */
				seq = __atomic_add_fetch(&dump_seq, 1, __ATOMIC_RELAXED);
			if (request_dump(w->fd, seq) < 0)
				return DADW_ERROR;
			p.fd = w->fd;
			t.state = DAD_ABSENT;
			t.ifindex = 0;
			need_dump = 0;
			dump_done = 0;
		}
		got = drain(w, seq, addr, &t, deadline);
		if (got < 0) {
			need_dump = 1;	/* notifications lost: look again */
			continue;
		}
		dump_done |= got;
		if (dump_done && first) {
			first = 0;
			/* Usable already: DAD ended between the refusal and
			 * this look (a reply read late); the resend will tell.
			 * Absent: the EINVAL had another cause. */
			if (t.state != DAD_TENTATIVE)
				return t.state == DAD_FAILED ? DADW_FAILED
				     : t.state == DAD_USABLE ? DADW_USABLE
							     : DADW_NOT_TENTATIVE;
		}
		if (dump_done && t.state != DAD_TENTATIVE)
			return t.state == DAD_USABLE ? DADW_USABLE
			     : t.state == DAD_FAILED ? DADW_FAILED : DADW_GONE;
		now = now_ms();
		if (now >= deadline)
			return DADW_TIMEOUT;
		/* A cancellation point; EINTR just goes round again. */
		if (poll(&p, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			return DADW_ERROR;
	}
}

enum dad_wait_result dad_wait(const struct in6_addr *addr, unsigned bound_ms,
			      unsigned *waited_ms)
{
	/* volatile: pthread_cleanup_push() may be a setjmp(). */
	volatile enum dad_wait_result r = DADW_ERROR;
	uint64_t start = now_ms();
	struct watch w = { -1, NULL };

	pthread_cleanup_push(watch_release, &w);
	w.buf = malloc(BUF_LEN);
	if (w.buf)
		w.fd = open_watch();
	if (w.fd >= 0)
		r = watch(&w, addr, start + bound_ms);
	pthread_cleanup_pop(1);
	*waited_ms = (unsigned)(now_ms() - start);
	return r;
}

const char *dad_wait_text(enum dad_wait_result r)
{
	switch (r) {
	case DADW_USABLE:
		return "DAD ended after";
	case DADW_NOT_TENTATIVE:
		return "source not tentative after";
	case DADW_FAILED:
		return "DAD failed after";
	case DADW_GONE:
		return "address removed after";
	case DADW_TIMEOUT:
		return "no DAD end within";
	case DADW_ERROR:
		break;
	}
	return "could not watch the address after";
}
