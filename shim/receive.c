/* receive.c - the incoming path of a NETLINK_ROUTE socket that has route
 * requests held: where an EINVAL for a tentative source is replaced by the
 * answer to the same request sent again after DAD.
 *
 * The shim never fabricates or copies a reply into the caller's buffers:
 * it peeks at the head of the queue, and the caller's own call, made by
 * the shim, always delivers the datagram.  The only datagrams the shim
 * takes for itself are the EINVAL it replaces and EINVALs of earlier sends
 * of the same request that its resend made moot.  The states of a held
 * request, what moves them and who may: fdstate.h and shim/DESIGN.md. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "compat.h"
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

static void log_outcome(const struct held_req *h, enum dad_wait_result r,
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

/* The answer to the shim's own send of @h went to the caller. */
static void log_retry(const struct held_req *h, int error)
{
	const char *answer = error ? strerror(-error) : "ok";
	char result[120];

	if (h->wait_result == DADW_USABLE)
		(void)snprintf(result, sizeof(result), "retry: %s", answer);
	else
		(void)snprintf(result, sizeof(result),
			       "sent again for a non-blocking reader, the kernel's answer returned: %s",
			       answer);
	log_outcome(h, (enum dad_wait_result)h->wait_result, h->dad_ms, result);
}

/* What a resend needs, copied out of the entry under the lock. */
struct resend {
	unsigned char msg[HELD_MSG_MAX];
	size_t len;
	struct sockaddr_nl to;
	int has_to;
};

static uint32_t refused_seq(const struct resend *r)
{
	struct nlmsghdr nlh;

	memcpy(&nlh, r->msg, sizeof(nlh));
	return nlh.nlmsg_seq;
}

static void resend_copy(const struct held_req *h, struct resend *r)
{
	memcpy(r->msg, h->msg, h->req.len);
	r->len = h->req.len;
	r->to = h->to;
	r->has_to = h->has_to;
}

/* Under the lock, just before the shim sends @h again: marked first,
 * because another thread may read the answer before the send returns. */
static void resend_begin(struct held_req *h, struct resend *rs, enum dad_wait_result r,
			 unsigned ms)
{
	resend_copy(h, rs);
	held_resend_mark(h);
	h->state = HELD_RETRIED;
	h->wait_result = (int)r;
	h->dad_ms = ms;
}

/* Sends @r on @fd, to the address the caller used.  Returns 0, or -1 with
 * errno set. */
static int resend_send(int fd, const struct resend *r)
{
	ssize_t n = real.sendto(fd, r->msg, r->len, 0,
				r->has_to ? (const struct sockaddr *)&r->to : NULL,
				r->has_to ? (socklen_t)sizeof(r->to) : 0);

	if (n == (ssize_t)r->len)
		return 0;
	if (n >= 0)
		errno = EMSGSIZE;
	return -1;
}

/* A descriptor of the shim's own for the same socket, made under the lock
 * while the entry still exists (so @fd is still the caller's socket): a
 * send on it reaches that socket even if the caller's number is closed
 * and reused meanwhile. */
static int private_dup(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

/* The EINVAL at the head is the first refusal of @h, and the reader may
 * block: wait for DAD in this thread, the EINVAL left at the head (so a
 * cancelled or interrupted wait, a closed socket or a failed resend still
 * leave the kernel's answer for the caller), then send again.  Called and
 * returns with the lock released (@cs). */
static void wait_in_place(int fd, struct held_req *h, int cs)
{
	uintptr_t ref = held_ref(h);
	uint64_t refused = h->sends[0];
	struct in6_addr src = h->req.prefsrc;
	enum dad_wait_result r = DADW_TIMEOUT;
	unsigned char head[REPLY_HEAD_LEN];
	struct reply_head rh;
	struct resend rs;
	struct held_req copy;
	unsigned ms = 0;
	int is_reply = 0, dup;
	char result[96];

	h->state = HELD_WAITING;
	state_unlock(cs);
	if (settings.wait_ms)
		r = dad_wait(&src, settings.wait_ms, &ms);
	state_lock(&cs);
	/* Another reader may have acted meanwhile, or the socket been
	 * closed: only act while the same EINVAL is still at the head. */
	h = held_deref(ref);
	if (!h || h->state != HELD_WAITING || !h->nsends || h->sends[0] != refused ||
	    peek_head(fd, head, 0, &rh, &is_reply) < 0 || !is_reply ||
	    rh.error != -EINVAL || held_match(fd, &rh) != h) {
		state_unlock(cs);
		return;
	}
	if (r != DADW_USABLE) {
		h->state = HELD_GAVE_UP;
		copy = *h;
		state_unlock(cs);
		log_outcome(&copy, r, ms, "original error returned");
		return;
	}
	dup = private_dup(fd);
	if (dup < 0) {
		int e = errno;

		h->state = HELD_GAVE_UP;
		copy = *h;
		state_unlock(cs);
		/* strerror() may allocate: never under the lock. */
		(void)snprintf(result, sizeof(result), "resend failed (%s), original error returned",
			       strerror(e));
		log_outcome(&copy, r, ms, result);
		return;
	}
	/* Marked before the send: another thread may read its answer first.
	 * From here the EINVAL at the head is an earlier send's, dropped by
	 * whichever reader meets it. */
	resend_begin(h, &rs, r, ms);
	state_unlock(cs);
	if (resend_send(dup, &rs) == 0) {
		real.close(dup);
		shim_log(LV_DEBUG, "route seq %u sent again on fd %d", refused_seq(&rs), fd);
		return;
	}
	(void)snprintf(result, sizeof(result), "resend failed (%s), original error returned",
		       strerror(errno));
	real.close(dup);
	state_lock(&cs);
	h = held_deref(ref);
	if (!h) {
		state_unlock(cs);
		return;
	}
	held_resend_failed(h);
	copy = *h;
	state_unlock(cs);
	log_outcome(&copy, r, ms, result);
}

/* The wait and the resend for one DETACHED entry (@ref), on @dup, a
 * private descriptor of the socket.  Without @wait (no helper thread could
 * be started) it sends again at once.  The resend happens whatever the
 * wait gave: after a failed or ended wait the kernel refuses it again,
 * and that refusal is the caller's answer.  Never called with the lock
 * held. */
static void detached_resend(uintptr_t ref, int dup, int wait)
{
	enum dad_wait_result r = DADW_ERROR;
	struct in6_addr src;
	struct resend rs;
	struct held_req copy;
	struct held_req *h;
	unsigned ms = 0;
	int cs, e;

	state_lock(&cs);
	h = held_deref(ref);
	if (h)
		src = h->req.prefsrc;
	state_unlock(cs);
	if (h && wait) {
		r = DADW_TIMEOUT;
		if (settings.wait_ms)
			r = dad_wait(&src, settings.wait_ms, &ms);
	}
	state_lock(&cs);
	h = held_deref(ref);
	if (!h || h->state != HELD_DETACHED || h->answered) {
		/* Closed, or the caller had an answer anyway: nobody waits
		 * for another one. */
		if (h && !h->nsends)
			held_drop(h);
		else if (h)
			h->state = HELD_GAVE_UP;
		state_unlock(cs);
		return;
	}
	resend_begin(h, &rs, r, ms);
	state_unlock(cs);
	if (resend_send(dup, &rs) == 0)
		return;
	e = errno;
	state_lock(&cs);
	h = held_deref(ref);
	if (h) {
		held_resend_failed(h);
		copy = *h;
		if (!h->nsends)
			held_drop(h);
	}
	state_unlock(cs);
	if (h)
		shim_log(LV_ERRORS, "route seq %u on fd %d could not be sent again (%s): "
			 "the caller gets no answer to it", copy.req.seq, copy.fd, strerror(e));
}

/* A helper's work: the DETACHED entries of its socket, oldest refusal
 * first, so that the resends go out in the order the caller sent. */
static void helper_run(int id, int dup, int wait)
{
	for (;;) {
		struct held_req *h;
		uintptr_t ref;
		int cs;

		state_lock(&cs);
		h = helper_next(id);
		ref = h ? held_ref(h) : 0;
		state_unlock(cs);
		if (!h)
			break;
		detached_resend(ref, dup, wait);
	}
	real.close(dup);
}

/* What a helper starts with; slot @id is written before pthread_create()
 * and read once at the helper's start, while its id stays registered. */
struct helper_job {
	int id;
	int dup;
};

static struct helper_job jobs[HELD_MAX_HELPERS];

static void *helper_main(void *arg)
{
	struct helper_job job = *(struct helper_job *)arg;

	helper_run(job.id, job.dup, 1);
	return NULL;
}

/* Starts a detached helper thread with every signal blocked (a handler of
 * the host must never run on a thread of the shim).  Returns 0, or an
 * error number. */
static int helper_start(int id, int dup)
{
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t tid;
	int cs, err;

	if ((err = pthread_attr_init(&attr)) != 0)
		return err;
	(void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	(void)pthread_attr_setstacksize(&attr, (size_t)256 * 1024);
	sigfillset(&all);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cs);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	jobs[id].id = id;
	jobs[id].dup = dup;
	err = pthread_create(&tid, &attr, helper_main, &jobs[id]);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_setcancelstate(cs, NULL);
	pthread_attr_destroy(&attr);
	return err;
}

/* The EINVAL at the head is the first refusal of @h, and the reader must
 * not block: take the EINVAL off the queue, so that poll() does not report
 * it again, and leave the wait and the resend to the socket's helper
 * thread (started here unless one works for it already).  The caller's
 * call goes on as if the EINVAL had never been queued; the answer to the
 * resend arrives later, as poll() will tell.  Called and returns with the
 * lock released (@cs). */
static void detach(int fd, struct held_req *h, int cs)
{
	struct sockaddr_nl sa = { .nl_family = AF_UNSPEC };
	socklen_t salen = sizeof(sa);
	uint64_t sock = 0;
	int dup = -1, id = -1, err;

	/* The socket's identity: its port id, unique among the namespace's
	 * netlink sockets (bound: it has sent). */
	if (getsockname(fd, (struct sockaddr *)&sa, &salen) == 0 && sa.nl_family == AF_NETLINK)
		sock = sa.nl_pid;
	if (!helper_active(fd, sock)) {
		dup = private_dup(fd);
		id = dup < 0 ? -1 : helper_add(fd, sock);
		if (id < 0) {
			/* Nothing to send on later: the caller gets the
			 * kernel's refusal now. */
			err = dup < 0 ? errno : EAGAIN;
			h->state = HELD_GAVE_UP;
			state_unlock(cs);
			if (dup >= 0)
				real.close(dup);
			shim_log(LV_ERRORS, "cannot retry for a non-blocking reader (%s); "
				 "original error returned", strerror(err));
			return;
		}
	}
	h->state = HELD_DETACHED;
	h->claimed = 0;
	h->refused = h->sends[0];
	h->sock = sock;
	take_head(fd);
	held_answered(h);
	state_unlock(cs);
	if (id < 0)
		return;		/* the socket's helper will come to it */
	err = helper_start(id, dup);
	if (err) {
		shim_log(LV_ERRORS, "cannot start a thread to wait for DAD (%s); route sent again at once",
			 strerror(err));
		helper_run(id, dup, 0);
	}
}

/* Whether the caller's receive must not block: MSG_DONTWAIT, or an
 * O_NONBLOCK socket (asked only here, on the slow path). */
static int nonblocking(int fd, const struct rxcall *c)
{
	int fl;

	if (c->how != RX_READ && (c->flags & MSG_DONTWAIT))
		return 1;
	fl = fcntl(fd, F_GETFL);
	return fl >= 0 && (fl & O_NONBLOCK);
}

/* The head is an EINVAL for RTM_NEWROUTE answering @h's oldest owed send.
 * Returns 1 when it was dealt with (lock released: look at the head
 * again), 0 when it goes to the caller (lock still held). */
static int refusal(int fd, const struct rxcall *c, struct held_req *h, int cs)
{
	if (h->state == HELD_DETACHED || (h->resend && h->sends[0] < h->resend)) {
		/* An earlier send's refusal, made moot by the resend (done
		 * or pending in a helper): the resend's answer is the one. */
		take_head(fd);
		held_answered(h);
		state_unlock(cs);
		return 1;
	}
	if (h->state != HELD_SENT && h->state != HELD_WAITING)
		return 0;	/* GAVE_UP, or the resend's own refusal */
	if (nonblocking(fd, c))
		detach(fd, h, cs);
	else
		wait_in_place(fd, h, cs);
	return 1;
}

ssize_t rx_held(int fd, const struct rxcall *c)
{
	int saved = errno;
	int nowait = c->how != RX_READ && (c->flags & MSG_DONTWAIT);
	int peeking = c->how != RX_READ && (c->flags & MSG_PEEK);
	unsigned char head[REPLY_HEAD_LEN];

	for (;;) {
		struct reply_head rh;
		struct held_req *h = NULL;
		int cs, is_reply = 0, e;
		ssize_t ret;

		state_lock(&cs);
		if (fd_kind(fd) != FD_ROUTE_HELD) {
			state_unlock(cs);
			errno = saved;
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
				errno = saved;
				return rx_real(fd, c, 0);
			}
			/* EAGAIN, EINTR, ENOBUFS (an overrun, which the peek
			 * has just reported and cleared): as the call would. */
			errno = e;
			return -1;
		}
		if (is_reply)
			h = held_match(fd, &rh);
		if (h && rh.error == -EINVAL && rh.orig_type == RTM_NEWROUTE &&
		    refusal(fd, c, h, cs))
			continue;
		/* Deliver: the data is there, so the caller's call cannot
		 * block under the lock; MSG_DONTWAIT makes sure of it. */
		ret = rx_real(fd, c, MSG_DONTWAIT);
		e = errno;
		if (ret < 0 && (e == EAGAIN || e == EWOULDBLOCK) && !nowait) {
			state_unlock(cs);
			continue;	/* taken by a reader outside the shim */
		}
		if (ret >= 0 && h && !peeking) {
			int retry_reply = h->resend && h->sends[0] == h->resend;
			struct held_req copy;

			if (retry_reply)
				copy = *h;	/* for the log, written unlocked */
			if (h->state == HELD_DETACHED)
				h->answered = 1;	/* no resend needed now */
			held_answered(h);
			state_unlock(cs);
			if (retry_reply)
				log_retry(&copy, rh.error);
		} else {
			state_unlock(cs);
		}
		errno = ret < 0 ? e : saved;
		return ret;
	}
}
