/* dadwait.c - the shim's private NETLINK_ROUTE socket, alive only while
 * one wait lasts, subscribed to RTNLGRP_IPV6_IFADDR and nothing else.
 *
 * It is the only descriptor the shim keeps across a blocking call, so it
 * stays out of the program's way: moved at once to a high number
 * (fd_private_min()), marked FD_SHIM so that the close wrappers spare it,
 * close-on-exec, closed in a fork() child, and confirmed to be the same
 * socket (its inode) before every use and before it is closed: a program
 * that closed it behind the shim's back (a raw close_range) and reused the
 * number keeps its own file, and the wait ends. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "compat.h"
#include "dadwait.h"
#include "fdstate.h"
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
	struct stat st;	/* of @fd, to know it is still the shim's */
	char *buf;
	int err;	/* why the wait could not go on (DADW_ERROR) */
};

/* Returns 1 when @w->fd is still the socket the shim opened. */
static int watch_ours(const struct watch *w)
{
	struct stat now;

	return fd_kind(w->fd) == FD_SHIM && compat_fstat(w->fd, &now) == 0 &&
	       now.st_ino == w->st.st_ino && now.st_dev == w->st.st_dev;
}

/* Closes the watch's socket, if it is still the shim's, and unmarks the
 * number in the same locked step, so that a close() of the program never
 * meets a number the shim has given back (shim_own() in interpose.c). */
static void watch_close(struct watch *w)
{
	int cs;

	if (w->fd < 0)
		return;
	state_lock(&cs);
	if (watch_ours(w)) {
		(void)real.close(w->fd);
		fd_kind_set(w->fd, FD_UNKNOWN);
	}
	state_unlock(cs);
	w->fd = -1;
}

static void watch_release(void *arg)
{
	struct watch *w = arg;

	free(w->buf);
	watch_close(w);
}

/* Subscribed first, then the dump: a transition between the two cannot
 * be missed, it arrives as a notification after the dump.  The socket
 * gets the lowest free number, and at once a high one of its own. */
static int open_watch(struct watch *w)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = 1u << (RTNLGRP_IPV6_IFADDR - 1) };
	struct stat low;
	int cs, fd, checked;

	w->fd = -1;
	fd_move_begin();	/* no close_range() of the program meanwhile */
	fd = real.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0 || compat_fstat(fd, &low) < 0) {
		w->err = errno;
		if (fd >= 0)
			(void)real.close(fd);
		fd_move_end();
		return -1;
	}
	state_lock(&cs);
	w->fd = fcntl(fd, F_DUPFD_CLOEXEC, fd_private_min());
	w->err = errno;
	checked = w->fd >= 0 && compat_fstat(w->fd, &w->st) == 0;
	if (!checked || w->st.st_ino == low.st_ino)
		(void)real.close(fd);	/* the socket made above: off its low number */
	if (w->fd >= 0 && (!checked || w->st.st_ino != low.st_ino)) {
		/* The low number was closed (a plain close() of the program)
		 * and reused meanwhile: that file is the program's, the copy
		 * made of it is not.  Or the copy cannot be checked. */
		(void)real.close(w->fd);
		w->fd = -1;
		w->err = EBADF;
	}
	if (w->fd >= 0)
		fd_kind_set(w->fd, FD_SHIM);
	state_unlock(cs);
	fd_move_end();
	if (w->fd >= 0 && bind(w->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		w->err = errno;
		watch_close(w);
	}
	return w->fd;
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
 * overrun (notifications were lost: start over) or an error, -2 when the
 * socket is no longer the shim's. */
static int drain(const struct watch *w, uint32_t seq, const struct in6_addr *addr,
		 struct dad_track *t, uint64_t deadline)
{
	int done = 0;

	while (now_ms() < deadline) {
		ssize_t n;
		int end;

		if (!watch_ours(w))
			return -2;
		n = real.recv(w->fd, w->buf, BUF_LEN, MSG_DONTWAIT);
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
	int cs;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cs);
	watch_close(w);
	(void)open_watch(w);
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
			if (++dumps > 3 || (dumps > 1 && reopen_watch(w) < 0)) {
				if (dumps > 3)
					w->err = ENOBUFS;
				return DADW_ERROR;
			}
			seq = __atomic_add_fetch(&dump_seq, 1, __ATOMIC_RELAXED);
			if (seq == 0)	/* 0 is the notifications' seq */
				seq = __atomic_add_fetch(&dump_seq, 1, __ATOMIC_RELAXED);
			if (!watch_ours(w) || request_dump(w->fd, seq) < 0) {
				w->err = watch_ours(w) ? errno : EBADF;
				return DADW_ERROR;
			}
			p.fd = w->fd;
			t.state = DAD_ABSENT;
			t.ifindex = 0;
			need_dump = 0;
			dump_done = 0;
		}
		got = drain(w, seq, addr, &t, deadline);
		if (got == -2) {
			w->err = EBADF;
			return DADW_ERROR;
		}
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
		if (poll(&p, 1, (int)(deadline - now)) < 0 && errno != EINTR) {
			w->err = errno;
			return DADW_ERROR;
		}
	}
}

enum dad_wait_result dad_wait(const struct in6_addr *addr, unsigned bound_ms,
			      unsigned *waited_ms, int *err)
{
	/* volatile: pthread_cleanup_push() may be a setjmp(). */
	volatile enum dad_wait_result r = DADW_ERROR;
	uint64_t start = now_ms();
	struct watch w = { -1, { 0 }, NULL, ENOMEM };

	pthread_cleanup_push(watch_release, &w);
	w.buf = malloc(BUF_LEN);
	if (w.buf && open_watch(&w) >= 0)
		r = watch(&w, addr, start + bound_ms);
	pthread_cleanup_pop(1);
	*waited_ms = (unsigned)(now_ms() - start);
	*err = w.err;
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
