/* send.c - the send path of NETLINK_ROUTE sockets: IFA_F_NODAD on IPv6
 * RTM_NEWADDR (in the shim's copy), and a route whose source is tentative
 * held back in its own send, in the sending thread, until DAD is over.
 * Anything else is sent exactly as the caller gave it.
 *
 * The caller's memory is read directly, as socket_wrapper and libfaketime
 * do: a pointer the kernel would refuse with EFAULT faults here instead
 * (README, Limits); NULL pointers are left to the kernel. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <linux/rtnetlink.h>

#include "compat.h"
#include "shim.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

#define SITES 8		/* messages of one datagram logged, and sources waited for */
#define EVENTS_LEN 16384	/* a dump part is at most a page or 8 kB */

/* The shim's copy of a send's datagram, and what it asks of the shim. */
struct plan {
	unsigned char bytes[COPY_LEN];
	size_t len;
	struct nodad_site sites[SITES];
	struct in6_addr srcs[SITES];
	int nsites, nsrcs, rewrite;
};

/* Gathers @n iovecs into @p: -1 when there is too much, too little, or a
 * NULL for the kernel to judge. */
static int gather(const struct iovec *iov, size_t n, struct plan *p)
{
	p->len = 0;
	if (!iov || n == 0 || n > 1024)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (iov[i].iov_len == 0)
			continue;
		if (iov[i].iov_len > COPY_LEN - p->len || !iov[i].iov_base)
			return -1;
		memcpy(p->bytes + p->len, iov[i].iov_base, iov[i].iov_len);
		p->len += iov[i].iov_len;
	}
	return p->len >= sizeof(struct nlmsghdr) ? 0 : -1;
}

/* 1 when the datagram of @c, copied into @p, asks for NODAD or holds a
 * source route; 0 when it goes out as the caller made it (also malformed:
 * the kernel judges it). */
static int plan_make(const struct txcall *c, struct plan *p)
{
	struct iovec one = { (void *)c->buf, c->len };
	int r = c->how == TX_SENDMSG ? (c->msg ? gather(c->msg->msg_iov, c->msg->msg_iovlen, p) : -1)
	      : c->how == TX_WRITEV ? (c->iovcnt > 0 ? gather(c->iov, (size_t)c->iovcnt, p) : -1)
	      : gather(&one, 1, p);

	p->nsites = p->nsrcs = p->rewrite = 0;
	if (r < 0 || (settings.nodad && (p->nsites = nodad_scan(p->bytes, p->len, p->sites, SITES)) < 0) ||
	    (settings.retry && settings.wait_ms &&
	     (p->nsrcs = route_scan(p->bytes, p->len, p->srcs, SITES)) < 0))
		return 0;
	for (int i = 0; i < p->nsites; i++)
		p->rewrite |= i >= SITES || p->sites[i].needs_rewrite;
	if (p->nsrcs > SITES)
		p->nsrcs = SITES;
	return p->nsites > 0 || p->nsrcs > 0;
}

int tx_wanted(const struct msghdr *m)
{
	struct txcall c = { .how = TX_SENDMSG, .msg = m };
	struct plan p;

	return plan_make(&c, &p);
}

/* The caller's call as made, or, with @p, the shim's copy of its datagram
 * (with the caller's address, control data and flags): the kernel's
 * result or -errno. */
static ssize_t tx_real(int fd, const struct txcall *c, const struct plan *p)
{
	const void *buf = p ? p->bytes : c->buf;
	struct iovec iov = { (void *)buf, p ? p->len : 0 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r;

	if (c->how == TX_SENDMSG && p) {
		m = *c->msg;
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
	}
	r = c->how == TX_SEND ? real.send(fd, buf, c->len, c->flags)
	  : c->how == TX_SENDTO ? real.sendto(fd, buf, c->len, c->flags, c->to, c->tolen)
	  : c->how == TX_WRITE ? real.write(fd, buf, c->len)
	  : c->how == TX_WRITEV ? (p ? real.writev(fd, &iov, 1) : real.writev(fd, c->iov, c->iovcnt))
	  : real.sendmsg(fd, p ? &m : c->msg, c->flags);
	return r < 0 ? -errno : r;
}

/* ---- the look at a source, and the wait for the end of DAD ---- */

/* How a look (and maybe a wait) ended; its log line's level, and a format
 * of the time waited or of why it could not (%s). */
enum wait_end {
	WAIT_USABLE, WAIT_ABSENT, WAIT_DAD_ENDED, WAIT_FAILED, WAIT_GONE, WAIT_TIMEOUT,
	WAIT_OTHER_NETNS, WAIT_NOT_ROUTE, WAIT_NONBLOCK, WAIT_ERROR,
};

static const struct {
	int level;
	const char *text;
} wait_log[] = {
	[WAIT_USABLE] = { LV_DEBUG, "source usable, no wait; sent at once" },
	[WAIT_ABSENT] = { LV_DEBUG, "no such source address; sent at once" },
	[WAIT_DAD_ENDED] = { LV_ACTIONS, "DAD ended after %u ms; sent" },
	[WAIT_FAILED] = { LV_ACTIONS, "DAD failed; sent unchanged; the kernel refuses it" },
	[WAIT_GONE] = { LV_ACTIONS, "address removed after %u ms; sent unchanged; the kernel refuses it" },
	[WAIT_TIMEOUT] = { LV_ACTIONS, "no DAD end within %u ms; sent unchanged; the kernel refuses it" },
	[WAIT_OTHER_NETNS] = { LV_ACTIONS, "the socket is in another network namespace; sent without waiting" },
	[WAIT_NOT_ROUTE] = { LV_DEBUG, "not sent on a NETLINK_ROUTE socket; sent without waiting" },
	[WAIT_NONBLOCK] = { LV_DEBUG, "tentative, on a non-blocking send; sent without waiting" },
	[WAIT_ERROR] = { LV_ERRORS, "cannot watch the address (%s); sent without waiting" },
};

/* A send held back.  What only a wait needs is learned once a source turns
 * out tentative, so that a usable one costs no more than the look. */
struct hold {
	int fd;			/* the program's socket */
	enum wait_end ready;	/* WAIT_ERROR: not learned; WAIT_USABLE: learned */
	unsigned bound, spent;	/* ms: of every wait of this send */
	struct stat st;		/* to know the socket again after the wait */
	int wfd;		/* the look's socket and buffer (released by */
	char *buf;		/* hold_release(), also on cancel), and why it */
	int err;		/* could not watch */
};

static void hold_release(void *arg)
{
	struct hold *h = arg;

	free(h->buf);
	h->buf = NULL;
	if (h->wfd >= 0)
		shim_fd_close(h->wfd);
	h->wfd = -1;
}

/* Asks for dump @seq of the IPv6 addresses: 0 or -errno. */
static int ask_dump(int fd, uint32_t seq)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct {
		struct nlmsghdr nlh;
		struct ifaddrmsg ifa;
	} req = { { sizeof(req), RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, seq, 0 },
		  { .ifa_family = AF_INET6 } };

	return real.sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel,
			   sizeof(kernel)) == (ssize_t)sizeof(req) ? 0 : -errno;
}

/* 1 when the kernel can tell (SO_NETNS_COOKIE, Linux 5.14) that the two
 * sockets live in different network namespaces. */
static int other_netns(int a, int b)
{
	uint64_t ca, cb;
	socklen_t la = sizeof(ca), lb = sizeof(cb);

	return getsockopt(a, SOL_SOCKET, SO_NETNS_COOKIE, &ca, &la) == 0 &&
	       getsockopt(b, SOL_SOCKET, SO_NETNS_COOKIE, &cb, &lb) == 0 && ca != cb;
}

/* Reads what is queued, without blocking, into @t: 1 when dump @seq ended,
 * 0 when not yet, or -errno (ENOBUFS: events lost in an overrun; EBADF:
 * the socket is no longer the shim's, checked once it waits). */
static int drain(struct hold *h, uint32_t seq, const struct in6_addr *addr, struct dad_track *t)
{
	int done = 0;

	if (seq > 1 && shim_fd_check(h->wfd) < 0)
		return -EBADF;
	for (;;) {
		ssize_t n = recv(h->wfd, h->buf, EVENTS_LEN, MSG_DONTWAIT);	/* not wrapped */
		int end;

		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? done : -errno;
		if ((end = dump_feed(h->buf, (size_t)n, seq, addr, t)) < 0)
			return -EPROTO;
		done |= end;
		if (done && t->state != DAD_TENTATIVE)
			return done;	/* nothing to wait for */
	}
}

/* Learns, once, what a wait needs of the program's socket: WAIT_USABLE,
 * or why the send must not wait (non-blocking; not a NETLINK_ROUTE socket
 * after all: the table's hint was stale).  The bound is DADSHIM_WAIT_MS,
 * or the socket's SO_SNDTIMEO when that is shorter. */
static enum wait_end hold_ready(struct hold *h)
{
	struct timeval tv;
	socklen_t len = sizeof(tv);
	unsigned long ms;
	int fl;

	if (h->ready != WAIT_ERROR)
		return h->ready;
	if ((fl = fcntl(h->fd, F_GETFL)) < 0 || (fl & O_NONBLOCK))
		return h->ready = WAIT_NONBLOCK;
	if (fd_classify(h->fd) != FD_ROUTE || compat_fstat(h->fd, &h->st) < 0)
		return h->ready = WAIT_NOT_ROUTE;
	h->bound = settings.wait_ms;
	if (getsockopt(h->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len) == 0 && (tv.tv_sec || tv.tv_usec) &&
	    (ms = (unsigned long)tv.tv_sec * 1000u + (unsigned long)tv.tv_usec / 1000u) < h->bound)
		h->bound = (unsigned)ms;
	return h->ready = WAIT_USABLE;
}

/* The look: dump 1 on an unsubscribed socket.  For a tentative source the
 * wait follows: the socket, checked first (the dump just read proved it
 * the shim's), joins the IPv6 address group before it asks for dump 2, so
 * that no change between the two is missed, and waits in @h's bound. */
static enum wait_end watch(struct hold *h, const struct in6_addr *addr)
{
	struct dad_track t = { DAD_ABSENT, 0 };
	uint64_t now, deadline = now_ms() + 1000;	/* a dump comes within the send */
	int group = RTNLGRP_IPV6_IFADDR, e;
	uint32_t seq = 1;			/* the dump being read; 0: dump 2 ended */

	for (e = ask_dump(h->wfd, 1); e == 0;) {
		struct pollfd p = { .fd = h->wfd, .events = POLLIN };
		int got;

		if ((got = drain(h, seq ? seq : 2, addr, &t)) < 0) {
			e = got;
			break;
		}
		if (got && seq == 1) {
			if (t.state == DAD_USABLE)
				return WAIT_USABLE;
			/* The look judged the thread's namespace, not the socket's. */
			if (other_netns(h->fd, h->wfd))
				return WAIT_OTHER_NETNS;
			if (t.state != DAD_TENTATIVE)
				return t.state == DAD_FAILED ? WAIT_FAILED : WAIT_ABSENT;
			if (hold_ready(h) != WAIT_USABLE)
				return h->ready;
			if ((e = shim_fd_check(h->wfd)) == 0 &&
			    setsockopt(h->wfd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0)
				e = -errno;
			if (e < 0 || (e = ask_dump(h->wfd, 2)) < 0)
				break;
			t = (struct dad_track){ DAD_ABSENT, 0 };
			seq = 2;
			deadline = now_ms() + (h->bound > h->spent ? h->bound - h->spent : 0);
			continue;
		}
		if (got)
			seq = 0;
		if (!seq && t.state != DAD_TENTATIVE)
			return t.state == DAD_USABLE ? WAIT_DAD_ENDED
			     : t.state == DAD_FAILED ? WAIT_FAILED : WAIT_GONE;
		if ((now = now_ms()) >= deadline)
			return seq == 1 ? WAIT_ERROR : WAIT_TIMEOUT;
		/* A cancellation point; a signal just goes round again. */
		if (poll(&p, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			e = -errno;
	}
	h->err = -e;
	return WAIT_ERROR;
}

/* Looks at @addr in the calling thread's namespace and, while it is
 * tentative, waits for the end of DAD within @h's bound; logs how it
 * ended.  A cancellation point that leaves nothing behind. */
static void dad_wait(struct hold *h, const struct in6_addr *addr)
{
	/* volatile: pthread_cleanup_push() may be a setjmp(). */
	volatile enum wait_end r = WAIT_ERROR;
	uint64_t start = now_ms();
	unsigned ms;

	h->err = ETIMEDOUT;
	pthread_cleanup_push(hold_release, h);
	h->buf = malloc(EVENTS_LEN);
	h->wfd = h->buf ? shim_fd_open(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE) : -ENOMEM;
	if (h->wfd < 0)
		h->err = -h->wfd;
	else
		r = watch(h, addr);
	pthread_cleanup_pop(1);
	ms = (unsigned)(now_ms() - start);
	h->spent += ms;
	if (shim_log_on(wait_log[r].level)) {
		char a[INET6_ADDRSTRLEN], line[160];

		inet_ntop(AF_INET6, addr, a, sizeof(a));
		if (r == WAIT_ERROR)
			(void)snprintf(line, sizeof(line), wait_log[r].text, strerror(h->err));
		else
			(void)snprintf(line, sizeof(line), wait_log[r].text, ms);
		shim_log(wait_log[r].level, "route with source %s: %s", a, line);
	}
}

/* Holds the send back while a source of @p is tentative, one bound for
 * them all; a send with MSG_DONTWAIT is not even looked at, one on an
 * O_NONBLOCK socket never waits.  0, or -EBADF when @fd stopped being the
 * socket it was while the send waited. */
static int hold_back(int fd, const struct txcall *c, const struct plan *p)
{
	struct hold h = { .fd = fd, .ready = WAIT_ERROR, .wfd = -1 };
	struct stat now;

	if (c->how != TX_WRITE && c->how != TX_WRITEV && (c->flags & MSG_DONTWAIT)) {
		shim_log(LV_DEBUG, "route with a source on a non-blocking send: sent without waiting");
		return 0;
	}
	for (int i = 0; i < p->nsrcs && (h.ready == WAIT_ERROR ||
					 (h.ready == WAIT_USABLE && h.spent < h.bound)); i++)
		dad_wait(&h, &p->srcs[i]);
	/* Ready: a source was tentative, and the send may have waited. */
	if (h.ready == WAIT_USABLE && (compat_fstat(fd, &now) < 0 || now.st_ino != h.st.st_ino ||
				       now.st_dev != h.st.st_dev)) {
		shim_log(LV_ERRORS, "the socket was closed during the wait for DAD; "
				    "the route was not sent (EBADF)");
		return -EBADF;
	}
	return 0;
}

ssize_t tx(int fd, const struct txcall *c)
{
	int kind = fd_kind_fast(fd), fresh = kind != FD_ROUTE && kind != FD_OTHER;
	char a[INET6_ADDRSTRLEN];
	struct plan p;
	ssize_t ret;

	if (fresh)
		kind = fd_classify(fd);
	if (kind != FD_ROUTE || !plan_make(c, &p))
		return tx_real(fd, c, NULL);
	/* The table is a hint (a number closed behind the shim's back may be
	 * another file now): the kernel says before a byte changes, or before
	 * a send waits (hold_ready()). */
	if (p.rewrite && !fresh && fd_classify(fd) != FD_ROUTE)
		return tx_real(fd, c, NULL);
	if (p.rewrite && !nodad_rewrite(p.bytes, p.len))
		p.rewrite = 0;
	if (p.nsrcs && (ret = hold_back(fd, c, &p)) < 0)
		return ret;
	ret = tx_real(fd, c, p.rewrite ? &p : NULL);
	for (int i = 0; ret >= 0 && shim_log_on(LV_ACTIONS) && i < p.nsites && i < SITES; i++) {
		const struct nodad_site *s = &p.sites[i];

		inet_ntop(AF_INET6, &s->addr, a, sizeof(a));
		shim_log(LV_ACTIONS, "NODAD %s on %s/%u ifindex %u%s",
			 s->needs_rewrite ? "set" : "already set", a, s->prefixlen, s->ifindex,
			 s->needs_rewrite ? "" : ", request unchanged");
	}
	return ret;
}
