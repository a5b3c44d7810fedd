/* receive.c - the incoming path of a NETLINK_ROUTE socket that has
 * requests held: where an EINVAL for a tentative source is replaced by the
 * answer to the same request sent again after DAD.
 *
 * Only a reader that blocks waits, in its own thread, and only for a
 * request that nothing was sent after (a resend must not overtake a later
 * request).  The shim never fabricates or copies a reply into the
 * caller's buffers: it peeks at the head of the queue, and the caller's
 * own call, made by the shim, always delivers the datagram.  The only
 * datagram the shim takes for itself is the EINVAL it replaces.  The
 * states of a held request: fdstate.h and shim/DESIGN.md. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "dadwait.h"
#include "fdstate.h"
#include "inspect.h"
#include "log.h"
#include "real.h"
#include "receive.h"
#include "settings.h"

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
		/* Passing straight through (@extra 0): the caller's call as
		 * made.  Delivering on a held socket: one datagram per call,
		 * each must be looked at before it is handed over. */
		if (!extra)
			return real.recvmmsg(fd, c->vec, c->vlen, c->flags, c->timeout);
		return real.recvmmsg(fd, c->vec, 1, c->flags | extra, NULL);
	}
	errno = EINVAL;
	return -1;
}

/* Peeks at the head datagram of @fd (@wait: blocking).  Returns -1 with
 * errno, else 1 when it is a reply described in *@rh, 0 when not. */
static int peek_head(int fd, int wait, struct reply_head *rh)
{
	unsigned char head[REPLY_HEAD_LEN];
	ssize_t n = real.recvfrom(fd, head, sizeof(head),
				  MSG_PEEK | MSG_TRUNC | (wait ? 0 : MSG_DONTWAIT),
				  NULL, NULL);

	if (n < 0)
		return -1;
	return reply_head_parse(head, (size_t)n < sizeof(head) ? (size_t)n : sizeof(head),
				(size_t)n, rh);
}

/* Under the lock: the held entry that the head of @fd answers, NULL when
 * none (*@rh describes the head then); -1 with errno when nothing can be
 * peeked. */
static int head_entry(int fd, struct reply_head *rh, struct held_req **h)
{
	int r = peek_head(fd, 0, rh);

	*h = r > 0 ? held_match(fd, rh) : NULL;
	return r < 0 ? -1 : 0;
}

/* Whether the reader may block: not MSG_DONTWAIT, not an O_NONBLOCK
 * socket (a system call: asked only where a refusal could be waited on,
 * or is logged). */
static int reader_blocks(int fd, const struct rxcall *c)
{
	int fl;

	if (c->how != RX_READ && (c->flags & MSG_DONTWAIT))
		return 0;
	fl = fcntl(fd, F_GETFL);
	return fl >= 0 && !(fl & O_NONBLOCK);
}

/* The caller's own receive timeout (SO_RCVTIMEO) also bounds the wait: it
 * said how long it would block.  0: none. */
static unsigned rcvtimeo_ms(int fd)
{
	struct timeval tv;
	socklen_t len = sizeof(tv);

	if (getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) < 0 || tv.tv_sec < 0)
		return 0;
	if ((unsigned long)tv.tv_sec > 600000)
		return 0;	/* longer than any DADSHIM_WAIT_MS */
	return (unsigned)tv.tv_sec * 1000u + (unsigned)((tv.tv_usec + 999) / 1000);
}

/* "route DST/LEN src SRC table T got EINVAL, WHY, RESULT" */
static void log_route(const struct retry_req *r, const char *why, const char *result)
{
	char dst[INET6_ADDRSTRLEN], src[INET6_ADDRSTRLEN];

	if (!shim_log_on(LV_ACTIONS))
		return;
	inet_ntop(AF_INET6, &r->dst, dst, sizeof(dst));
	inet_ntop(AF_INET6, &r->prefsrc, src, sizeof(src));
	shim_log(LV_ACTIONS, "route %s/%u src %s table %u got EINVAL%s, %s", dst,
		 r->dst_len, src, r->table, why, result);
}

/* Why a wait ended, for the log. */
static void log_wait(const struct retry_req *r, enum dad_wait_result w, unsigned ms,
		     int err, const char *result)
{
	char why[120];

	if (w == DADW_NOT_TENTATIVE)
		(void)snprintf(why, sizeof(why), ", source not tentative");
	else if (w == DADW_ERROR)
		(void)snprintf(why, sizeof(why), " with a tentative source, cannot watch "
			       "the address (%s)", strerror(err));
	else
		(void)snprintf(why, sizeof(why), " with a tentative source, %s %u ms",
			       dad_wait_text(w), ms);
	log_route(r, why, result);
}

/* Sends @h again on @fd, where its EINVAL is at the head of the queue,
 * and takes that EINVAL off the queue once the resend is accepted.
 * Called with the lock held, so that no send of another thread comes
 * between the check that nothing followed @h and this one: a netlink
 * request to the kernel is handled in the call itself and never waits
 * for buffer space, and cancellation is off under the lock.  Returns 0,
 * or an error number (the EINVAL stays for the caller). */
static int resend_locked(int fd, struct held_req *h)
{
	unsigned char sink[REPLY_HEAD_LEN];
	ssize_t n = real.sendto(fd, h->msg, h->req.len, MSG_DONTWAIT,
				h->has_to ? (const struct sockaddr *)&h->to : NULL,
				h->has_to ? (socklen_t)sizeof(h->to) : 0);

	if (n != (ssize_t)h->req.len)
		return n < 0 ? errno : EMSGSIZE;
	(void)real.recvfrom(fd, sink, sizeof(sink), MSG_DONTWAIT | MSG_TRUNC, NULL, NULL);
	return 0;
}

/* A blocking reader met the EINVAL of @h (WAITING, @ref) at the head:
 * wait for DAD of its source in this thread, the EINVAL left in place (a
 * cancelled or interrupted wait, a closed socket or a failed resend leave
 * the kernel's answer for the caller), then, if the same EINVAL is still
 * at the head and nothing was sent after @h, send it again.  Called and
 * returns without the lock. */
static void wait_and_resend(int fd, uintptr_t ref, struct retry_req req, unsigned bound)
{
	struct reply_head rh;
	struct held_req *h, *head;
	unsigned ms = 0;
	int cs, err = 0, e, followed;
	enum dad_wait_result w = dad_wait(&req.prefsrc, bound, &ms, &e);
	char result[96];

	state_lock(&cs);
	h = held_deref(ref);
	/* Another reader may have acted meanwhile, or the socket been
	 * closed: act only while the same EINVAL is still at the head. */
	if (!h || h->state != HELD_WAITING || head_entry(fd, &rh, &head) < 0 ||
	    head != h || rh.error != -EINVAL) {
		state_unlock(cs);
		return;
	}
	followed = h->followed;
	if (w == DADW_USABLE && !followed)
		err = resend_locked(fd, h);
	if (w == DADW_USABLE && !followed && !err) {
		held_retried(h, (int)w, ms);
		state_unlock(cs);
		shim_log(LV_DEBUG, "route seq %u sent again on fd %d", req.seq, fd);
		return;
	}
	held_give_up(h);
	state_unlock(cs);
	if (w == DADW_USABLE && followed)
		(void)snprintf(result, sizeof(result), "not sent again: a later request "
			       "was sent on the socket meanwhile, original error returned");
	else if (err)
		(void)snprintf(result, sizeof(result), "resend failed (%s), original "
			       "error returned", strerror(err));
	else
		(void)snprintf(result, sizeof(result), "original error returned");
	log_wait(&req, w, ms, e, result);
}

/* The answer to @h's resend went to the caller. */
static void log_retry(const struct held_req *h, int error)
{
	char result[80];

	(void)snprintf(result, sizeof(result), "retry: %s", error ? strerror(-error) : "ok");
	log_wait(&h->req, (enum dad_wait_result)h->wait_result, h->dad_ms, 0, result);
}

/* The first EINVAL of a held request that cannot wait: said once. */
static void log_no_retry(const struct held_req *h, int blocks)
{
	if (h->state == HELD_SENT && h->followed)
		log_route(&h->req, "", "a later request was sent on the socket, "
			  "original error returned");
	else if (h->state == HELD_SENT && !blocks)
		log_route(&h->req, "", "read without waiting (non-blocking), "
			  "original error returned");
	else if (h->state == HELD_SENT)
		log_route(&h->req, " with a tentative source", "waiting disabled "
			  "(DADSHIM_WAIT_MS=0), original error returned");
}

/* Hands the head datagram to the caller with its own call, under the lock
 * (@cs): the data is there, so MSG_DONTWAIT only makes sure it cannot
 * block.  @h is the held entry it answers, if any.  Returns the call's
 * result, or -2 (errno EAGAIN) when a reader outside the shim took the
 * datagram first and the caller did not ask MSG_DONTWAIT: look again (on
 * an O_NONBLOCK socket the look says EAGAIN).  Releases the lock. */
static ssize_t deliver(int fd, const struct rxcall *c, struct held_req *h,
		       const struct reply_head *rh, int nowait, int cs)
{
	int peeking = c->how != RX_READ && (c->flags & MSG_PEEK);
	ssize_t ret = rx_real(fd, c, MSG_DONTWAIT);
	int e = errno, retried = 0;
	struct held_req copy;

	if (ret < 0 && (e == EAGAIN || e == EWOULDBLOCK) && !nowait) {
		state_unlock(cs);
		return -2;
	}
	if (ret >= 0 && h && !peeking) {
		copy = *h;	/* for the log, written unlocked */
		retried = h->state == HELD_RETRIED;
		held_drop(h);
	}
	state_unlock(cs);
	if (retried)
		log_retry(&copy, rh->error);
	else if (ret >= 0 && h && !peeking && rh->error == -EINVAL &&
		 rh->orig_type == RTM_NEWROUTE)
		log_no_retry(&copy, reader_blocks(fd, c));
	errno = e;
	return ret;
}

/* Nothing could be peeked (errno @e): unless the caller asked
 * MSG_DONTWAIT, block as its own call would (on an O_NONBLOCK socket: at
 * once EAGAIN), taking nothing (returns 1: look again).  Else
 * returns -1 with errno as the caller's call would have it, or 0 when the
 * descriptor was closed behind the shim's back (forgotten: the caller's
 * call decides). */
static int rx_empty(int fd, int nowait, int e)
{
	struct reply_head rh;

	if ((e == EAGAIN || e == EWOULDBLOCK) && !nowait) {
		if (peek_head(fd, 1, &rh) >= 0)
			return 1;
		e = errno;
	}
	if (e == EBADF || e == ENOTSOCK) {
		fd_reset((unsigned)fd, (unsigned)fd, FD_UNKNOWN);
		return 0;
	}
	/* EAGAIN, EINTR, ENOBUFS (an overrun, which the peek has just
	 * reported and cleared): as the call would. */
	errno = e;
	return -1;
}

/* The bound of a wait for @fd's reader: DADSHIM_WAIT_MS, or the caller's
 * own receive timeout if that is shorter. */
static unsigned wait_bound(int fd)
{
	unsigned timeo = settings.wait_ms ? rcvtimeo_ms(fd) : 0;

	return timeo && timeo < settings.wait_ms ? timeo : settings.wait_ms;
}

ssize_t rx_held(int fd, const struct rxcall *c)
{
	int saved = errno, nowait = c->how != RX_READ && (c->flags & MSG_DONTWAIT);

	for (;;) {
		struct reply_head rh;
		struct held_req *h;
		int cs;
		ssize_t ret;

		state_lock(&cs);
		if (fd_kind(fd) != FD_ROUTE_HELD) {
			state_unlock(cs);
			errno = saved;
			return rx_real(fd, c, 0);
		}
		if (head_entry(fd, &rh, &h) < 0) {
			int r = errno;

			state_unlock(cs);
			r = rx_empty(fd, nowait, r);
			if (r > 0)
				continue;
			if (r < 0)
				return -1;
			errno = saved;
			return rx_real(fd, c, 0);
		}
		if (h && rh.error == -EINVAL && rh.orig_type == RTM_NEWROUTE &&
		    held_retryable(h) && settings.wait_ms && reader_blocks(fd, c)) {
			struct retry_req req = h->req;
			uintptr_t ref = held_wait(h);

			state_unlock(cs);
			wait_and_resend(fd, ref, req, wait_bound(fd));
			continue;
		}
		ret = deliver(fd, c, h, &rh, nowait, cs);
		if (ret == -2)
			continue;
		if (ret >= 0)
			errno = saved;
		return ret;
	}
}
