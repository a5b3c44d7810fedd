/* send.c - the outgoing path of NETLINK_ROUTE sockets: IFA_F_NODAD on IPv6
 * RTM_NEWADDR (in the shim's copy), and a source route held back in the
 * sending thread while its source is tentative.  Anything else is sent
 * exactly as the caller gave it.
 *
 * The caller's memory is read directly, as socket_wrapper and libfaketime
 * do: a pointer the kernel would refuse with EFAULT faults here instead
 * (README, Limits).  NULL pointers are left to the kernel. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <linux/netlink.h>

#include "compat.h"
#include "dadwait.h"
#include "fds.h"
#include "inspect.h"
#include "log.h"
#include "real.h"
#include "rewrite.h"
#include "send.h"
#include "settings.h"

#define SITES 8	/* messages of one datagram described (logged, waited for) */

/* The datagram of a send, in the shim's own buffer. */
struct copy {
	unsigned char bytes[COPY_LEN];
	size_t len;
};

/* Gathers @n iovecs into @cp.  Returns -1 when there is nothing to look at
 * or too much, or a NULL the kernel must judge. */
static int gather(const struct iovec *iov, size_t n, struct copy *cp)
{
	size_t i;

	cp->len = 0;
	if (!iov || n == 0 || n > 1024)
		return -1;
	for (i = 0; i < n; i++) {
		if (iov[i].iov_len == 0)
			continue;
		if (iov[i].iov_len > COPY_LEN - cp->len || !iov[i].iov_base)
			return -1;
		memcpy(cp->bytes + cp->len, iov[i].iov_base, iov[i].iov_len);
		cp->len += iov[i].iov_len;
	}
	return cp->len >= sizeof(struct nlmsghdr) ? 0 : -1;
}

static int copy_in(const struct txcall *c, struct copy *cp)
{
	struct iovec one = { (void *)c->buf, c->len };

	switch (c->how) {
	case TX_SENDMSG:
		return c->msg ? gather(c->msg->msg_iov, c->msg->msg_iovlen, cp) : -1;
	case TX_WRITEV:
		return c->iovcnt > 0 ? gather(c->iov, (size_t)c->iovcnt, cp) : -1;
	default:
		return gather(&one, 1, cp);
	}
}

/* What a datagram asks of the shim. */
struct plan {
	struct nodad_site sites[SITES];
	struct in6_addr srcs[SITES];
	int nsites, nsrcs, rewrite;
};

static int plan_make(const struct copy *cp, struct plan *p)
{
	memset(p, 0, sizeof(*p));
	if (settings.nodad) {
		p->nsites = nodad_scan(cp->bytes, cp->len, p->sites, SITES);
		if (p->nsites < 0)
			return 0;	/* malformed: the kernel judges it */
		for (int i = 0; i < p->nsites; i++)
			p->rewrite |= i >= SITES || p->sites[i].needs_rewrite;
	}
	if (settings.retry && settings.wait_ms) {
		p->nsrcs = route_scan(cp->bytes, cp->len, p->srcs, SITES);
		if (p->nsrcs < 0)
			return 0;
		if (p->nsrcs > SITES)
			p->nsrcs = SITES;
	}
	return p->rewrite || p->nsrcs > 0 || p->nsites > 0;
}

int tx_wanted(const struct msghdr *m)
{
	struct txcall c = { .how = TX_SENDMSG, .msg = m };
	struct copy cp;
	struct plan p;

	return copy_in(&c, &cp) == 0 && plan_make(&cp, &p);
}

/* Sends the caller's call as made, or, with @cp, the shim's copy of its
 * datagram with the caller's address, control data and flags.  Returns
 * the kernel's result or -errno. */
static ssize_t tx_real(int fd, const struct txcall *c, const struct copy *cp)
{
	struct iovec iov = { cp ? (void *)cp->bytes : NULL, cp ? cp->len : 0 };
	struct msghdr m;
	ssize_t r;

	switch (c->how) {
	case TX_SEND:
		r = real.send(fd, cp ? cp->bytes : c->buf, c->len, c->flags);
		break;
	case TX_SENDTO:
		r = real.sendto(fd, cp ? cp->bytes : c->buf, c->len, c->flags, c->to, c->tolen);
		break;
	case TX_WRITE:
		r = real.write(fd, cp ? cp->bytes : c->buf, c->len);
		break;
	case TX_WRITEV:
		r = cp ? real.writev(fd, &iov, 1) : real.writev(fd, c->iov, c->iovcnt);
		break;
	default:
		if (cp) {
			m = *c->msg;
			m.msg_iov = &iov;
			m.msg_iovlen = 1;
		}
		r = real.sendmsg(fd, cp ? &m : c->msg, c->flags);
		break;
	}
	return r < 0 ? -errno : r;
}

static void log_sites(const struct plan *p)
{
	char a[INET6_ADDRSTRLEN];
	int i;

	for (i = 0; shim_log_on(LV_ACTIONS) && i < p->nsites && i < SITES; i++) {
		const struct nodad_site *s = &p->sites[i];

		inet_ntop(AF_INET6, &s->addr, a, sizeof(a));
		shim_log(LV_ACTIONS, "NODAD %s on %s/%u ifindex %u%s",
			 s->needs_rewrite ? "set" : "already set", a, s->prefixlen,
			 s->ifindex, s->needs_rewrite ? "" : ", request unchanged");
	}
}

/* The bound of a wait on @fd: DADSHIM_WAIT_MS, or the socket's
 * SO_SNDTIMEO when that is shorter. */
static unsigned bound_of(int fd)
{
	struct timeval tv;
	socklen_t len = sizeof(tv);
	unsigned long ms;

	if (getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len) < 0 ||
	    (tv.tv_sec == 0 && tv.tv_usec == 0))
		return settings.wait_ms;
	ms = (unsigned long)tv.tv_sec * 1000u + (unsigned long)tv.tv_usec / 1000u;
	return ms < settings.wait_ms ? (unsigned)ms : settings.wait_ms;
}

/* 1 when a send of @c on @fd may block: no MSG_DONTWAIT, no O_NONBLOCK. */
static int blocking(int fd, const struct txcall *c)
{
	int fl;

	if ((c->how == TX_SEND || c->how == TX_SENDTO || c->how == TX_SENDMSG) &&
	    (c->flags & MSG_DONTWAIT))
		return 0;
	fl = fcntl(fd, F_GETFL);
	return fl >= 0 && !(fl & O_NONBLOCK);
}

static void log_wait(const struct in6_addr *src, enum wait_end r, unsigned ms, int err)
{
	static const char *const then[] = {
		[WAIT_USABLE] = "sent at once",
		[WAIT_DAD_ENDED] = "sent",
		[WAIT_ABSENT] = "sent at once",
		[WAIT_FAILED] = "sent unchanged; the kernel refuses it",
		[WAIT_GONE] = "sent unchanged; the kernel refuses it",
		[WAIT_TIMEOUT] = "sent unchanged; the kernel refuses it",
		[WAIT_OTHER_NETNS] = "sent without waiting",
		[WAIT_ERROR] = "sent without waiting",
	};
	int lvl = r == WAIT_USABLE || r == WAIT_ABSENT ? LV_DEBUG
		: r == WAIT_ERROR ? LV_ERRORS : LV_ACTIONS;
	char a[INET6_ADDRSTRLEN];

	if (!shim_log_on(lvl))
		return;
	inet_ntop(AF_INET6, src, a, sizeof(a));
	if (r == WAIT_ERROR)
		shim_log(lvl, "route with source %s: cannot watch the address (%s); %s", a,
			 strerror(err), then[r]);
	else if (r == WAIT_DAD_ENDED || r == WAIT_GONE || r == WAIT_TIMEOUT)
		shim_log(lvl, "route with source %s: %s %u ms; %s", a, wait_end_text(r), ms,
			 then[r]);
	else
		shim_log(lvl, "route with source %s: %s; %s", a, wait_end_text(r), then[r]);
}

/* Holds the send back while a source of @p is tentative, within one
 * bound for them all.  Returns 0, or -EBADF when @fd is no longer the
 * socket it was (closed, or its number reused, meanwhile). */
static int hold_back(int fd, const struct plan *p)
{
	unsigned bound = bound_of(fd), spent = 0;
	struct stat before, after;
	int i, waited = 0;

	if (compat_fstat(fd, &before) < 0)
		return -EBADF;
	for (i = 0; i < p->nsrcs && spent < bound; i++) {
		unsigned ms = 0;
		int err = 0;
		enum wait_end r = dad_wait(fd, &p->srcs[i], bound - spent, &ms, &err);

		spent += ms;
		waited |= r != WAIT_USABLE && r != WAIT_ABSENT;
		log_wait(&p->srcs[i], r, ms, err);
	}
	if (waited && (compat_fstat(fd, &after) < 0 || after.st_ino != before.st_ino ||
		       after.st_dev != before.st_dev)) {
		shim_log(LV_ERRORS, "the socket was closed during the wait for DAD; "
			 "the route was not sent (EBADF)");
		return -EBADF;
	}
	return 0;
}

ssize_t tx(int fd, const struct txcall *c)
{
	int kind = fd_kind_fast(fd);
	int fresh = kind != FD_ROUTE && kind != FD_OTHER;
	struct copy cp;
	struct plan p;
	ssize_t ret;

	if (fresh)
		kind = fd_classify(fd);
	if (kind != FD_ROUTE || copy_in(c, &cp) < 0 || !plan_make(&cp, &p))
		return tx_real(fd, c, NULL);
	/* The table is a hint (a number closed behind the shim's back may be
	 * another file now): ask the kernel before changing anything. */
	if ((p.rewrite || p.nsrcs) && !fresh && fd_classify(fd) != FD_ROUTE)
		return tx_real(fd, c, NULL);
	if (p.rewrite && !nodad_rewrite(cp.bytes, cp.len))
		p.rewrite = 0;
	if (p.nsrcs && !blocking(fd, c))
		shim_log(LV_DEBUG, "route with a source on a non-blocking send: sent without waiting");
	else if (p.nsrcs && (ret = hold_back(fd, &p)) < 0)
		return ret;
	ret = tx_real(fd, c, p.rewrite ? &cp : NULL);
	if (ret >= 0)
		log_sites(&p);
	return ret;
}
