/* receive.c - the incoming path of a NETLINK_ROUTE socket that has route
 * requests held: where an EINVAL for a tentative source is replaced by the
 * answer to the same request sent again after DAD.
 *
 * The shim never fabricates or copies a reply into the caller's buffers:
 * it peeks at the head of the queue, and the caller's own call, made by
 * the shim, always delivers the datagram.  The only datagram the shim takes
 * for itself is the EINVAL it replaces (and EINVALs of retransmits of the
 * same seq that its resend made moot). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "dadwait.h"
#include "fdstate.h"
#include "inspect.h"
#include "log.h"
#include "paths.h"
#include "real.h"

static ssize_t rx_real(int fd, const struct rxcall *c, int extra)
{
	switch (c->how) {
	case RX_READ:
		/* read() on a socket is recv() with no flags. */
		if (!extra)
			return real.read(fd, c->buf, c->len);
		return real.recvfrom(fd, c->buf, c->len, extra, NULL, NULL);
	case RX_RECVFROM:
		return real.recvfrom(fd, c->buf, c->len, c->flags | extra,
				     c->from, c->fromlen);
	case RX_RECVMSG:
		return real.recvmsg(fd, c->msg, c->flags | extra);
	case RX_RECVMMSG:
		/* One datagram per call on a held socket: each must be
		 * looked at before it is handed over. */
		return real.recvmmsg(fd, c->vec, 1, c->flags | extra, NULL);
	}
	errno = EINVAL;
	return -1;
}

static int peek_head(int fd, unsigned char *head, int wait,
		     struct reply_head *rh, int *is_reply)
{
	ssize_t n = real.recvfrom(fd, head, REPLY_HEAD_LEN,
				  MSG_PEEK | MSG_TRUNC | (wait ? 0 : MSG_DONTWAIT),
				  NULL, NULL);

	if (n < 0)
		return -1;
	*is_reply = reply_head_parse(head, (size_t)n < REPLY_HEAD_LEN ? (size_t)n
								   : REPLY_HEAD_LEN,
				     (size_t)n, rh);
	return 0;
}

/* Takes the head datagram (the EINVAL being replaced) off the queue. */
static void take_head(int fd)
{
	unsigned char sink[REPLY_HEAD_LEN];

	(void)real.recvfrom(fd, sink, sizeof(sink), MSG_DONTWAIT | MSG_TRUNC, NULL, NULL);
}

static void route_text(const struct route_req *r, char *dst, size_t dlen,
		       char *src, size_t slen)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, &r->dst, a, sizeof(a));
	(void)snprintf(dst, dlen, "%s/%u", a, r->dst_len);
	inet_ntop(AF_INET6, &r->prefsrc, src, (socklen_t)slen);
}

static void log_outcome(const struct held *h, enum dad_wait_result r,
			unsigned ms, const char *result)
{
	char dst[INET6_ADDRSTRLEN + 4], src[INET6_ADDRSTRLEN];

	if (!shim_log_on(LV_ACTIONS))
		return;
	route_text(&h->req, dst, sizeof(dst), src, sizeof(src));
	if (r == DADW_NOT_TENTATIVE)
		shim_log(LV_ACTIONS, "route %s src %s table %u got EINVAL, source not tentative, %s",
			 dst, src, h->req.table, result);
	else if (r == DADW_TIMEOUT && !settings.wait_ms)
		shim_log(LV_ACTIONS, "route %s src %s table %u got EINVAL with a tentative source, waiting disabled (DADSHIM_WAIT_MS=0), %s",
			 dst, src, h->req.table, result);
	else
		shim_log(LV_ACTIONS, "route %s src %s table %u got EINVAL with a tentative source, %s %u ms, %s",
			 dst, src, h->req.table, dad_wait_text(r), ms, result);
}

/* The head is an EINVAL for held request @seq, never retried: wait for
 * DAD without the lock, then resend, or give up.  Returns with the lock
 * released; the caller loops and looks at the head again. */
static void settle(int fd, uint32_t seq, struct held *h, int cs)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	unsigned char head[REPLY_HEAD_LEN];
	struct in6_addr src = h->req.prefsrc;
	enum dad_wait_result r = DADW_TIMEOUT;
	struct reply_head rh;
	unsigned ms = 0;
	int is_reply = 0;
	char result[96];

	state_unlock(cs);
	if (settings.wait_ms)
		r = dad_wait(&src, settings.wait_ms, &ms);
	state_lock(&cs);
	/* Another reader may have settled it meanwhile, or the socket been
	 * closed: only act while the same EINVAL is still at the head. */
	h = held_find(fd, seq);
	if (!h || h->retried || h->gave_up || peek_head(fd, head, 0, &rh, &is_reply) < 0 ||
	    !is_reply || rh.seq != seq || rh.error != -EINVAL) {
		state_unlock(cs);
		return;
	}
	if (r == DADW_USABLE) {
		/* Resend first: if that fails the original error is still
		 * there to be delivered. */
		if (real.sendto(fd, h->msg, h->req.len, 0, (struct sockaddr *)&kernel,
				sizeof(kernel)) == (ssize_t)h->req.len) {
			h->ahead = h->owed;
			h->owed++;
			h->retried = 1;
			h->dad_ms = ms;
			take_head(fd);
			held_reply_seen(h);
			state_unlock(cs);
			shim_log(LV_DEBUG, "route seq %u sent again on fd %d", seq, fd);
			return;
		}
		(void)snprintf(result, sizeof(result), "resend failed (%s), original error returned",
			 strerror(errno));
	} else {
		(void)snprintf(result, sizeof(result), "original error returned");
	}
	h->gave_up = 1;
	{
		struct held copy = *h;

		state_unlock(cs);
		log_outcome(&copy, r, ms, result);
	}
}

ssize_t rx_held(int fd, const struct rxcall *c)
{
	int nowait = c->how != RX_READ && (c->flags & MSG_DONTWAIT);
	int peeking = c->how != RX_READ && (c->flags & MSG_PEEK);
	unsigned char head[REPLY_HEAD_LEN];

	for (;;) {
		struct reply_head rh;
		struct held *h = NULL;
		int cs, is_reply = 0, e;
		ssize_t ret;

		state_lock(&cs);
		if (fd_kind(fd) != FD_ROUTE_HELD) {
			state_unlock(cs);
			return rx_real(fd, c, 0);
		}
		if (peek_head(fd, head, 0, &rh, &is_reply) < 0) {
			e = errno;
			state_unlock(cs);
			if ((e == EAGAIN || e == EWOULDBLOCK) && !nowait) {
				/* Block as the caller's call would, taking
				 * nothing; its errors are the caller's. */
				if (peek_head(fd, head, 1, &rh, &is_reply) == 0)
					continue;
				e = errno;
			}
			if (e == EBADF || e == ENOTSOCK) {
				/* Closed behind the shim's back. */
				fd_reset((unsigned)fd, (unsigned)fd, FD_UNKNOWN);
				return rx_real(fd, c, 0);
			}
			/* EAGAIN, EINTR, ENOBUFS (an overrun, which the peek
			 * has just reported and cleared): as the call would. */
			errno = e;
			return -1;
		}
		if (is_reply)
			h = held_find(fd, rh.seq);
		if (h && rh.error == -EINVAL && rh.orig_type == RTM_NEWROUTE) {
			if (h->retried && h->ahead) {
				/* A retransmit's EINVAL, overtaken by our resend. */
				take_head(fd);
				held_reply_seen(h);
				state_unlock(cs);
				continue;
			}
			if (!h->retried && !h->gave_up) {
				settle(fd, rh.seq, h, cs);
				continue;
			}
		}
		/* Deliver: the data is there, so the caller's call cannot
		 * block under the lock; MSG_DONTWAIT makes sure of it. */
		ret = rx_real(fd, c, MSG_DONTWAIT);
		e = errno;
		if (ret < 0 && (e == EAGAIN || e == EWOULDBLOCK) && !nowait) {
			state_unlock(cs);
			continue;	/* taken by a reader outside the shim */
		}
		if (ret >= 0 && h && !peeking) {
			struct held copy = *h;
			int retry_reply = h->retried && !h->ahead;

			held_reply_seen(h);
			state_unlock(cs);
			if (retry_reply) {
				char result[80];

				(void)snprintf(result, sizeof(result), "retry: %s",
					 rh.error ? strerror(-rh.error) : "ok");
				log_outcome(&copy, DADW_USABLE, copy.dad_ms, result);
			}
		} else {
			state_unlock(cs);
		}
		errno = e;
		return ret;
	}
}
