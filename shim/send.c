/* send.c - the outgoing path of NETLINK_ROUTE sockets: IFA_F_NODAD on
 * IPv6 RTM_NEWADDR (on a private copy) and route requests held for a
 * possible retry.  Anything else is sent exactly as the caller gave it. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <linux/netlink.h>

#include "compat.h"
#include "fdstate.h"
#include "inspect.h"
#include "log.h"
#include "real.h"
#include "rewrite.h"
#include "send.h"
#include "settings.h"
#include "vm.h"

#define SITES 8		/* messages of one datagram described for the log */
#define COPY_MAX 65536	/* larger datagrams pass untouched */
#define STACK_COPY 1024	/* datagrams up to this size are copied to the stack */
#define IOV_CHUNK 32	/* iovecs looked at per system call */

/* The bytes of a send, copied by the kernel into the shim's own memory
 * (the caller's pointers are never dereferenced: a bad one makes the copy
 * fail, and the caller's own call then gets the kernel's verdict). */
struct flat {
	unsigned char *bytes;	/* @stack, or @heap */
	size_t len;
	unsigned char *heap;	/* malloc'd when the datagram is large */
	struct msghdr msg;	/* TX_SENDMSG: a copy of the caller's msghdr */
	struct iovec *mirror;	/* TX_SENDMSG with empty iovecs: see mirror() */
};

/* Sums the lengths of the caller's @n iovecs at @iov, read through the
 * kernel, and counts the empty ones in *@empty.  Returns -1 when the array
 * is unreadable or the sum too large. */
static int iov_total(const struct iovec *iov, size_t n, size_t *total, size_t *empty)
{
	struct iovec chunk[IOV_CHUNK];
	size_t i, len = 0;

	*empty = 0;
	for (i = 0; i < n; i++) {
		const struct iovec *e = &chunk[i % IOV_CHUNK];

		if (i % IOV_CHUNK == 0) {
			size_t k = n - i < IOV_CHUNK ? n - i : IOV_CHUNK;

			if (vm_read(chunk, iov + i, k * sizeof(*iov)) < 0)
				return -1;
		}
		if (e->iov_len > COPY_MAX - len)
			return -1;
		len += e->iov_len;
		*empty += e->iov_len == 0;
	}
	*total = len;
	return 0;
}

/* The caller's @n iovecs at @src again, each non-empty one pointing into
 * the shim's copy @bytes, each empty one keeping the caller's address:
 * process_vm_readv skips empty iovecs whatever their address, while
 * sendmsg() refuses one outside user space (EFAULT), and must still see
 * it to do so.  Returns the array (malloc'd), or NULL. */
static struct iovec *mirror(const struct iovec *src, size_t n, unsigned char *bytes)
{
	struct iovec *m = malloc(n * sizeof(*m));
	size_t i;

	if (!m || vm_read(m, src, n * sizeof(*m)) < 0) {
		free(m);
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (m[i].iov_len) {
			m[i].iov_base = bytes;
			bytes += m[i].iov_len;
		}
	return m;
}

/* Copies the datagram of @c into @stack (STACK_COPY bytes) or the heap.
 * Returns -1, owning nothing, when there is nothing to look at, it is too
 * large, the caller's memory is not readable, or there is no memory: the
 * call then goes out as the caller made it. */
static int flatten(const struct txcall *c, struct flat *f, unsigned char *stack)
{
	const struct iovec *src;
	struct iovec one;
	size_t n = 1, empty = 0;

	memset(f, 0, sizeof(*f));
	if (c->how != TX_SENDMSG) {
		if (!c->buf || !c->len || c->len > COPY_MAX)
			return -1;
		one.iov_base = (void *)c->buf;
		one.iov_len = c->len;
		src = &one;
		f->len = c->len;
	} else {
		if (!c->msg || vm_read(&f->msg, c->msg, sizeof(f->msg)) < 0)
			return -1;
		/* More than UIO_MAXIOV entries: the kernel says EMSGSIZE. */
		src = f->msg.msg_iov;
		n = f->msg.msg_iovlen;
		if (!src || n == 0 || n > 1024 || iov_total(src, n, &f->len, &empty) < 0 ||
		    f->len == 0)
			return -1;
	}
	if (f->len > STACK_COPY) {
		f->heap = malloc(f->len);
		if (!f->heap) {
			shim_log(LV_ERRORS, "no memory to look at a %zu-byte request; sent unchanged",
				 f->len);
			return -1;
		}
	}
	f->bytes = f->heap ? f->heap : stack;
	/* The kernel reads the caller's iovec array itself here. */
	if (vm_gather(f->bytes, f->len, src, n) < 0 ||
	    (empty && !(f->mirror = mirror(src, n, f->bytes)))) {
		free(f->heap);
		f->heap = NULL;
		return -1;
	}
	return 0;
}

static void flat_free(struct flat *f)
{
	free(f->heap);
	free(f->mirror);
}

/* What a datagram asks of the shim. */
struct plan {
	struct nodad_site sites[SITES];
	struct retry_req reqs[SITES];
	uintptr_t held[SITES];	/* handles of the entries held for them */
	int nsites, nreqs, rewrite;
};

static int plan_make(const struct flat *f, struct plan *p)
{
	memset(p, 0, sizeof(*p));
	if (f->len < sizeof(struct nlmsghdr))
		return 0;
	if (settings.nodad) {
		p->nsites = nodad_scan(f->bytes, f->len, p->sites, SITES);
		if (p->nsites < 0)
			return 0;	/* malformed: the kernel judges it */
		for (int i = 0; i < p->nsites; i++)
			p->rewrite |= i >= SITES || p->sites[i].needs_rewrite;
	}
	if (settings.retry) {
		p->nreqs = retry_scan(f->bytes, f->len, p->reqs, SITES);
		if (p->nreqs < 0)
			return 0;
		if (p->nreqs > SITES)
			p->nreqs = SITES;
	}
	return p->rewrite || p->nreqs > 0 || p->nsites > 0;
}

/* Sends the caller's call as made, or, with @f, the shim's copy of its
 * datagram (with the caller's address, control data and flags). */
static ssize_t tx_real(int fd, const struct txcall *c, const struct flat *f)
{
	struct msghdr m;
	struct iovec iov;

	switch (c->how) {
	case TX_SEND:
		return real.send(fd, f ? f->bytes : c->buf, c->len, c->flags);
	case TX_SENDTO:
		return real.sendto(fd, f ? f->bytes : c->buf, c->len, c->flags,
				   c->to, c->tolen);
	case TX_WRITE:
		return real.write(fd, f ? f->bytes : c->buf, c->len);
	case TX_SENDMSG:
		break;
	}
	if (!f)
		return real.sendmsg(fd, c->msg, c->flags);
	/* The same datagram in one iovec (or the mirror of the caller's);
	 * name, control and flags as given. */
	m = f->msg;
	iov.iov_base = f->bytes;
	iov.iov_len = f->len;
	m.msg_iov = f->mirror ? f->mirror : &iov;
	m.msg_iovlen = f->mirror ? m.msg_iovlen : 1;
	return real.sendmsg(fd, &m, c->flags);
}

/* @rewritten: the NODAD copy is what went out (else the caller's bytes). */
static void log_sites(const struct plan *p, int rewritten)
{
	char a[INET6_ADDRSTRLEN];
	int i;

	if (!shim_log_on(LV_ACTIONS))
		return;
	for (i = 0; i < p->nsites && i < SITES; i++) {
		const struct nodad_site *s = &p->sites[i];

		if (s->needs_rewrite && !rewritten)
			continue;	/* already reported as an error */
		inet_ntop(AF_INET6, &s->addr, a, sizeof(a));
		if (s->needs_rewrite)
			shim_log(LV_ACTIONS, "NODAD set on %s/%u ifindex %u", a,
				 s->prefixlen, s->ifindex);
		else
			shim_log(LV_ACTIONS, "NODAD already set on %s/%u ifindex %u, request unchanged",
				 a, s->prefixlen, s->ifindex);
	}
}

/* The destination the caller gave, for the shim's resend: NULL when the
 * send carried none (send, write, or a NULL address), or one the kernel
 * refuses (too short, or not readable: read through the kernel, from the
 * shim's copy of the msghdr, like the datagram). */
static const struct sockaddr_nl *dest_of(const struct txcall *c, const struct flat *f,
					 struct sockaddr_nl *sa)
{
	const void *to = c->how == TX_SENDTO ? (const void *)c->to
		       : c->how == TX_SENDMSG ? f->msg.msg_name : NULL;
	socklen_t len = c->how == TX_SENDTO ? c->tolen
		      : c->how == TX_SENDMSG ? f->msg.msg_namelen : 0;

	if (!to || len < sizeof(*sa) || vm_read(sa, to, sizeof(*sa)) < 0)
		return NULL;
	return sa;
}

void tx_follows(int fd)
{
	int cs;

	state_lock(&cs);
	held_followed(fd);
	state_unlock(cs);
}

/* Holds @p's requests before they are sent (another thread may read an
 * answer before this one returns); held_add() marks what @fd held before
 * as followed by them. */
static void tx_hold(int fd, const struct txcall *c, struct plan *p, const struct flat *f)
{
	struct sockaddr_nl sa;
	const struct sockaddr_nl *to = dest_of(c, f, &sa);
	int cs, i, lost = 0;

	state_lock(&cs);
	for (i = 0; i < p->nreqs; i++) {
		struct held_req *h = held_add(fd, &p->reqs[i], f->bytes + p->reqs[i].off, to);

		p->held[i] = h ? held_ref(h) : 0;
		lost += !h;
	}
	state_unlock(cs);
	/* Logged outside the lock: a log line is a few system calls. */
	if (lost)
		shim_log(LV_ERRORS, "cannot hold %d route request(s) (too large); "
			 "a refusal of theirs will not be retried", lost);
}

/* The send failed: the kernel owes no answer for it. */
static void tx_unhold(const struct plan *p)
{
	int cs, i;

	state_lock(&cs);
	for (i = 0; i < p->nreqs; i++) {
		struct held_req *h = p->held[i] ? held_deref(p->held[i]) : NULL;

		if (h)
			held_drop(h);
	}
	state_unlock(cs);
}

/* See send.h.  Reads the caller's memory only through the kernel: an
 * entry it cannot read is "not wanted", and its own sendmsg() or
 * sendmmsg() then meets the kernel's EFAULT.  No lock. */
int tx_wanted(const struct msghdr *m)
{
	struct txcall c = { TX_SENDMSG, NULL, 0, 0, NULL, 0, m };
	unsigned char stack[STACK_COPY];
	struct flat f;
	struct plan p;
	int want, saved = errno;

	if (flatten(&c, &f, stack) < 0) {
		errno = saved;	/* the caller's call has not been made yet */
		return 0;
	}
	want = plan_make(&f, &p);
	flat_free(&f);
	return want;
}

/* What a cancelled send leaves to undo (the send is a cancellation point,
 * and the shim's own work must leak nothing). */
struct undo {
	const struct plan *p;	/* requests to drop, or NULL */
	struct flat *f;		/* the copy to free */
};

static void undo_send(void *arg)
{
	const struct undo *u = arg;

	if (u->p && u->p->nreqs)
		tx_unhold(u->p);
	flat_free(u->f);
}

/* See send.h.  Returns what the kernel returned for the datagram sent
 * (the caller's call, or its NODAD copy), with errno as that call left it
 * (errno is kept when the call succeeds).  Takes the lock only to hold or
 * drop route requests, never across the send, which is the caller's
 * cancellation point: a cancelled send frees the copy and drops what it
 * held. */
ssize_t tx(int fd, int kind, const struct txcall *c)
{
	unsigned char stack[STACK_COPY];
	struct flat f;
	struct plan p;
	struct undo u;
	ssize_t ret;
	/* volatile: pthread_cleanup_push() may be a setjmp(). */
	volatile int saved = errno;
	int fresh = kind == FD_UNKNOWN;

	if (fresh)
		kind = fd_classify(fd);
	if (kind != FD_ROUTE && kind != FD_ROUTE_HELD)
		return tx_real(fd, c, NULL);
	if (kind == FD_ROUTE_HELD)
		tx_follows(fd);
	if (flatten(c, &f, stack) < 0) {
		/* A failed look (EFAULT, a refusal) is not the caller's
		 * errno: its own call decides. */
		errno = saved;
		return tx_real(fd, c, NULL);
	}
	/* The kind is a hint: confirm before touching or holding anything. */
	if (!plan_make(&f, &p) ||
	    ((p.rewrite || p.nreqs) && !fresh && fd_classify(fd) != FD_ROUTE)) {
		flat_free(&f);
		return tx_real(fd, c, NULL);
	}
	/* The copy is the shim's own: NODAD is set in place. */
	if (p.rewrite && !nodad_rewrite(f.bytes, f.len))
		p.rewrite = 0;
	/* Held before the send: another thread may read the reply before
	 * this one returns. */
	if (p.nreqs)
		tx_hold(fd, c, &p, &f);
	u.p = &p;
	u.f = &f;
	pthread_cleanup_push(undo_send, &u);
	ret = tx_real(fd, c, p.rewrite ? &f : NULL);
	if (ret < 0)
		saved = errno;	/* else the caller's errno, as on entry */
	u.p = ret < 0 ? &p : NULL;	/* the kernel owes no reply */
	if (ret >= 0)
		log_sites(&p, p.rewrite);
	pthread_cleanup_pop(1);
	errno = saved;
	return ret;
}
