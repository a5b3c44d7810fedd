/* dadwait.c - the shim's private NETLINK_ROUTE socket, alive only while
 * one look or wait lasts, subscribed to RTNLGRP_IPV6_IFADDR and nothing
 * else.  Subscribed first, then the dump: a transition between the two
 * cannot be missed, it arrives as a notification after the dump. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "compat.h"
#include "dadwait.h"
#include "fds.h"
#include "inspect.h"
#include "real.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

#define BUF_LEN 16384	/* a dump part is at most a page or 8 kB */
#define DUMP_SEQ 1	/* the socket's one dump; notifications carry 0 */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* What a wait owns, released by the cleanup handler, also on cancel. */
struct watch {
	int fd;
	char *buf;
};

static void watch_release(void *arg)
{
	struct watch *w = arg;

	free(w->buf);
	if (w->fd >= 0)
		shim_fd_close(w->fd);
}

/* Returns -errno, or 0 with the socket subscribed and the dump asked. */
static int watch_open(struct watch *w)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = 1u << (RTNLGRP_IPV6_IFADDR - 1) };
	struct {
		struct nlmsghdr nlh;
		struct ifaddrmsg ifa;
	} req = {
		.nlh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETADDR,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = DUMP_SEQ },
		.ifa = { .ifa_family = AF_INET6 },
	};
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	w->buf = malloc(BUF_LEN);
	if (!w->buf)
		return -ENOMEM;
	w->fd = shim_fd_open(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (w->fd < 0)
		return w->fd;
	if (bind(w->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    real.sendto(w->fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel,
			sizeof(kernel)) != (ssize_t)sizeof(req))
		return -errno;
	return 0;
}

/* 1 when the kernel tells that @a and @b live in different namespaces. */
static int other_netns(int a, int b)
{
	uint64_t ca, cb;
	socklen_t la = sizeof(ca), lb = sizeof(cb);

	if (getsockopt(a, SOL_SOCKET, SO_NETNS_COOKIE, &ca, &la) < 0 ||
	    getsockopt(b, SOL_SOCKET, SO_NETNS_COOKIE, &cb, &lb) < 0)
		return 0;	/* before Linux 5.14: cannot tell */
	return ca != cb;
}

/* Reads what is queued, without blocking, into @t.  Returns 1 when the
 * dump ended, 0 when it has not, or -errno (ENOBUFS: notifications were
 * lost in an overrun; EBADF: the socket is no longer the shim's). */
static int drain(const struct watch *w, const struct in6_addr *addr, struct dad_track *t)
{
	int done = 0;

	for (;;) {
		ssize_t n;
		int end;

		if (shim_fd_check(w->fd) < 0)
			return -EBADF;
		n = recv(w->fd, w->buf, BUF_LEN, MSG_DONTWAIT);	/* not wrapped */
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? done : -errno;
		end = dump_feed(w->buf, (size_t)n, DUMP_SEQ, addr, t);
		if (end < 0)
			return -EPROTO;
		done |= end;
	}
}

static enum wait_end watch(struct watch *w, int prog_fd, const struct in6_addr *addr,
			   uint64_t deadline, int *err)
{
	struct dad_track t = { DAD_ABSENT, 0 };
	int dumped = 0;

	/* A look in the thread's namespace would judge another one's address. */
	if (other_netns(prog_fd, w->fd))
		return WAIT_OTHER_NETNS;
	for (;;) {
		struct pollfd p = { .fd = w->fd, .events = POLLIN };
		uint64_t now;
		int got = drain(w, addr, &t);

		if (got < 0) {
			*err = -got;
			return WAIT_ERROR;
		}
		if (got && !dumped) {
			dumped = 1;
			if (t.state == DAD_USABLE)
				return WAIT_USABLE;
			if (t.state != DAD_TENTATIVE)
				return t.state == DAD_FAILED ? WAIT_FAILED : WAIT_ABSENT;
		}
		if (dumped && t.state != DAD_TENTATIVE)
			return t.state == DAD_USABLE ? WAIT_DAD_ENDED
			     : t.state == DAD_FAILED ? WAIT_FAILED : WAIT_GONE;
		now = now_ms();
		if (now >= deadline)
			return dumped ? WAIT_TIMEOUT : WAIT_ERROR;
		/* A cancellation point; EINTR just goes round again. */
		if (poll(&p, 1, (int)(deadline - now)) < 0 && errno != EINTR) {
			*err = errno;
			return WAIT_ERROR;
		}
	}
}

enum wait_end dad_wait(int prog_fd, const struct in6_addr *addr, unsigned bound_ms,
		       unsigned *waited_ms, int *err)
{
	/* volatile: pthread_cleanup_push() may be a setjmp(). */
	volatile enum wait_end r = WAIT_ERROR;
	uint64_t start = now_ms();
	struct watch w = { -1, NULL };
	int e;

	*err = ETIMEDOUT;
	pthread_cleanup_push(watch_release, &w);
	e = watch_open(&w);
	if (e < 0)
		*err = -e;
	else
		r = watch(&w, prog_fd, addr, start + bound_ms, err);
	pthread_cleanup_pop(1);
	*waited_ms = (unsigned)(now_ms() - start);
	return r;
}

const char *wait_end_text(enum wait_end r)
{
	switch (r) {
	case WAIT_USABLE:
		return "source usable, no wait";
	case WAIT_DAD_ENDED:
		return "DAD ended after";
	case WAIT_ABSENT:
		return "no such source address";
	case WAIT_FAILED:
		return "DAD failed";
	case WAIT_GONE:
		return "address removed after";
	case WAIT_TIMEOUT:
		return "no DAD end within";
	case WAIT_OTHER_NETNS:
		return "the socket is in another network namespace";
	case WAIT_ERROR:
		break;
	}
	return "cannot watch the address";
}
