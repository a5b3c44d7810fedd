/* send.c - the outgoing path of NETLINK_ROUTE sockets: IFA_F_NODAD on
 * IPv6 RTM_NEWADDR (on a private copy) and route requests held for a
 * possible retry.  Anything else is sent exactly as the caller gave it. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <linux/netlink.h>

#include "fdstate.h"
#include "inspect.h"
#include "log.h"
#include "paths.h"
#include "real.h"
#include "rewrite.h"

#define SITES 8		/* messages of one datagram described for the log */
#define GATHER_MAX 65536	/* larger sendmsg payloads pass untouched */

/* The bytes of a send as one buffer: the caller's own when they are
 * contiguous, else a private gathered copy. */
struct flat {
	const unsigned char *bytes;
	size_t len;
	unsigned char *owned;	/* malloc'd copy, or NULL */
};

static int flatten(const struct txcall *c, struct flat *f)
{
	const struct msghdr *m = c->msg;
	size_t i, len = 0, at = 0;

	memset(f, 0, sizeof(*f));
	if (c->how != TX_SENDMSG) {
		f->bytes = c->buf;
		f->len = c->len;
		return f->bytes && f->len ? 0 : -1;
	}
	/* More than UIO_MAXIOV entries: the kernel says EMSGSIZE. */
	if (!m || !m->msg_iov || m->msg_iovlen == 0 || m->msg_iovlen > 1024)
		return -1;
	for (i = 0; i < m->msg_iovlen; i++) {
		if (!m->msg_iov[i].iov_base && m->msg_iov[i].iov_len)
			return -1;	/* the kernel says EFAULT */
		if (m->msg_iov[i].iov_len > GATHER_MAX - len)
			return -1;
		len += m->msg_iov[i].iov_len;
	}
	if (len == 0)
		return -1;
	if (m->msg_iovlen == 1) {
		f->bytes = m->msg_iov[0].iov_base;
		f->len = len;
		return 0;
	}
	f->owned = malloc(len);
	if (!f->owned)
		return -1;
	for (i = 0; i < m->msg_iovlen; i++) {
		if (m->msg_iov[i].iov_len)
			memcpy(f->owned + at, m->msg_iov[i].iov_base, m->msg_iov[i].iov_len);
		at += m->msg_iov[i].iov_len;
	}
	f->bytes = f->owned;
	f->len = len;
	return 0;
}

/* What a datagram asks of the shim. */
struct plan {
	struct nodad_site sites[SITES];
	struct route_req reqs[SITES];
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
		p->nreqs = route_scan(f->bytes, f->len, p->reqs, SITES);
		if (p->nreqs < 0)
			return 0;
		if (p->nreqs > SITES)
			p->nreqs = SITES;
	}
	return p->rewrite || p->nreqs > 0 || p->nsites > 0;
}

/* Sends the caller's bytes, or @copy (@len bytes, the whole datagram). */
static ssize_t tx_real(int fd, const struct txcall *c, const void *copy, size_t len)
{
	struct msghdr m;
	struct iovec iov;

	switch (c->how) {
	case TX_SEND:
		return real.send(fd, copy ? copy : c->buf, c->len, c->flags);
	case TX_SENDTO:
		return real.sendto(fd, copy ? copy : c->buf, c->len, c->flags,
				   c->to, c->tolen);
	case TX_WRITE:
		return real.write(fd, copy ? copy : c->buf, c->len);
	case TX_SENDMSG:
		break;
	}
	if (!copy)
		return real.sendmsg(fd, c->msg, c->flags);
	/* The same datagram in one iovec; name, control and flags as given. */
	m = *c->msg;
	iov.iov_base = (void *)copy;
	iov.iov_len = len;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
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
 * send carried none (send, write, or a NULL address). */
static const struct sockaddr_nl *dest_of(const struct txcall *c, struct sockaddr_nl *sa)
{
	const void *to = c->how == TX_SENDTO ? (const void *)c->to
		       : c->how == TX_SENDMSG ? c->msg->msg_name : NULL;
	socklen_t len = c->how == TX_SENDTO ? c->tolen
		      : c->how == TX_SENDMSG ? c->msg->msg_namelen : 0;

	if (!to || len < sizeof(*sa))
		return NULL;	/* none, or one the kernel refuses */
	memcpy(sa, to, sizeof(*sa));
	return sa;
}

static void hold(int fd, const struct txcall *c, const struct plan *p, const struct flat *f)
{
	struct sockaddr_nl sa;
	const struct sockaddr_nl *to = dest_of(c, &sa);
	int cs, i, lost = 0;

	state_lock(&cs);
	for (i = 0; i < p->nreqs; i++)
		if (!held_add(fd, &p->reqs[i], f->bytes + p->reqs[i].off, to))
			lost++;
	state_unlock(cs);
	/* Logged outside the lock: a log line is a few system calls. */
	if (lost)
		shim_log(LV_ERRORS, "cannot hold %d route request(s) (too large or too many); "
			 "a refusal of theirs will not be retried", lost);
}

/* The send failed: the kernel owes no reply for it. */
static void unhold(int fd, const struct plan *p, const struct flat *f)
{
	int cs, i;

	state_lock(&cs);
	for (i = 0; i < p->nreqs; i++)
		held_unsend(fd, &p->reqs[i], f->bytes + p->reqs[i].off);
	state_unlock(cs);
}

int tx_wanted(const struct msghdr *m)
{
	struct txcall c = { TX_SENDMSG, NULL, 0, 0, NULL, 0, m };
	struct flat f;
	struct plan p;
	int want;

	if (flatten(&c, &f) < 0)
		return 0;
	want = plan_make(&f, &p);
	free(f.owned);
	return want;
}

ssize_t tx(int fd, int kind, const struct txcall *c)
{
	struct flat f;
	struct plan p;
	unsigned char *copy = NULL;
	ssize_t ret;
	int saved, fresh = kind == FD_UNKNOWN;

	if (fresh)
		kind = fd_classify(fd);
	if (kind != FD_ROUTE && kind != FD_ROUTE_HELD)
		return tx_real(fd, c, NULL, 0);
	if (flatten(c, &f) < 0)
		return tx_real(fd, c, NULL, 0);
	/* The kind is a hint: confirm before touching or holding anything. */
	if (!plan_make(&f, &p) ||
	    ((p.rewrite || p.nreqs) && !fresh && fd_classify(fd) != FD_ROUTE)) {
		free(f.owned);
		return tx_real(fd, c, NULL, 0);
	}
	if (p.rewrite) {
		copy = f.owned ? f.owned : malloc(f.len);
		if (copy) {
			if (copy != f.owned)
				memcpy(copy, f.bytes, f.len);
			if (!nodad_rewrite(copy, f.len))
				p.rewrite = 0;
		} else {
			shim_log(LV_ERRORS, "no memory to set NODAD; request sent unchanged");
			p.rewrite = 0;
		}
	}
	/* Held before the send: another thread may read the reply before
	 * this one returns. */
	if (p.nreqs)
		hold(fd, c, &p, &f);
	ret = tx_real(fd, c, p.rewrite ? copy : NULL, f.len);
	saved = errno;
	if (ret < 0 && p.nreqs)
		unhold(fd, &p, &f);
	if (ret >= 0)
		log_sites(&p, p.rewrite);
	if (copy != f.owned)
		free(copy);
	free(f.owned);
	errno = saved;
	return ret;
}
