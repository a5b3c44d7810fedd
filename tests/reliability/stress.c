/*
 * stress - many threads issuing mixed NETLINK_ROUTE requests at once, on
 * sockets of their own and on sockets shared by several threads, to check
 * that dadshim never loses, duplicates or misdelivers a reply.
 *
 *   stress IFNAME THREADS ROUNDS TENTATIVE
 *
 * Half of the threads own a socket and read it as charon does by default
 * (poll, then a blocking recv(MSG_TRUNC)); the others share one socket per
 * four threads and read whatever is there with recv/recvmsg(MSG_DONTWAIT),
 * handing each message to the record of its seq, as charon's watcher does.
 * Each round a thread adds and deletes an IPv4 route, an IPv6 address
 * (without IFA_F_NODAD) and an IPv6 route with a preferred source, and
 * dumps addresses or routes.  Halfway, after a barrier, every thread adds
 * TENTATIVE addresses without NODAD and at once a route with that address
 * as its source (the DAD race), all threads together.
 *
 * Every seq is checked: answered exactly once (an NLMSG_ERROR, or for a
 * dump an NLMSG_DONE), on the socket that sent it (the reply's port id),
 * by a reply that echoes the request's type and seq; no message for a seq
 * never sent.  At the end each thread leaves one address and two routes
 * behind, for the caller to compare with `ip`.
 *
 * Prints "stress: key=value ..." and exits 0 iff every invariant held and
 * every request other than the tentative-source routes succeeded; those
 * are counted (ok/einval/other) for the caller, which compares runs with
 * and without the shim.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "nltest.h"

#ifndef RTA_TABLE
#define RTA_TABLE 15
#endif

#define SHARE 4			/* threads per shared socket */
#define SEQ_SPAN (1u << 20)	/* each socket numbers in its own range */
#define BUFLEN 65536
#define LOST_MS 60000		/* a reply not there after this is lost */

struct rec {
	uint16_t type;		/* nlmsg_type sent */
	uint8_t sent;
	uint8_t dump;
	uint8_t get;		/* a get answered by one message, then an ACK */
	unsigned answers;	/* NLMSG_ERROR / NLMSG_DONE seen */
	unsigned parts;		/* dump messages seen */
	int error;
};

struct nlsock {
	int fd;
	int shared;
	uint32_t portid;
	uint32_t base;		/* first seq of this socket */
	uint32_t next;		/* seqs used: base+1 .. base+next */
	uint32_t cap;
	struct rec *recs;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static struct {
	unsigned long requests, unknown, dup, mismatch, lost, truncated,
		failed, tent, tent_ok, tent_einval, tent_other, recv_err;
} st;
static pthread_mutex_t st_mu = PTHREAD_MUTEX_INITIALIZER;
static int in_flight, max_overlap;	/* tentative routes, under st_mu */
static pthread_barrier_t barrier;
static unsigned ifindex, rounds, tentative;

#define COUNT(field) do { pthread_mutex_lock(&st_mu); st.field++; \
	pthread_mutex_unlock(&st_mu); } while (0)

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void start(struct msg *m, uint16_t type, uint16_t flags)
{
	memset(m, 0, sizeof(*m));
	m->h.nlmsg_len = NLMSG_HDRLEN;
	m->h.nlmsg_type = type;
	m->h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
}

/* fd00:MAJOR:0:T::N */
static struct in6_addr a6(unsigned major, unsigned t, unsigned n)
{
	struct in6_addr a;

	memset(&a, 0, sizeof(a));
	a.s6_addr[0] = 0xfd;
	a.s6_addr[2] = (uint8_t)(major >> 8);
	a.s6_addr[3] = (uint8_t)major;
	a.s6_addr[6] = (uint8_t)(t >> 8);
	a.s6_addr[7] = (uint8_t)t;
	a.s6_addr[14] = (uint8_t)(n >> 8);
	a.s6_addr[15] = (uint8_t)n;
	return a;
}

static void addr6(struct msg *m, int add, const struct in6_addr *a, uint32_t flags)
{
	start(m, add ? RTM_NEWADDR : RTM_DELADDR,
	      NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0));
	addr6_body(m, a, ifindex, flags);
	if (flags > 0xff)
		attr(m, IFA_FLAGS, &flags, sizeof(flags));
}

static void route(struct msg *m, int add, int family, const void *dst,
		  unsigned dst_len, const struct in6_addr *src, uint32_t table)
{
	struct rtmsg *r;

	start(m, add ? RTM_NEWROUTE : RTM_DELROUTE,
	      NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0));
	r = put(m, sizeof(*r));
	r->rtm_family = (uint8_t)family;
	r->rtm_dst_len = (uint8_t)dst_len;
	r->rtm_table = RT_TABLE_UNSPEC;
	r->rtm_protocol = add ? RTPROT_STATIC : 0;
	r->rtm_scope = !add ? RT_SCOPE_NOWHERE
		     : family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
	r->rtm_type = RTN_UNICAST;
	attr(m, RTA_DST, dst, family == AF_INET ? 4 : 16);
	if (src)
		attr(m, RTA_PREFSRC, src, sizeof(*src));
	attr(m, RTA_OIF, &ifindex, sizeof(ifindex));
	attr(m, RTA_TABLE, &table, sizeof(table));
}

static void dump(struct msg *m, int routes)
{
	start(m, routes ? RTM_GETROUTE : RTM_GETADDR, NLM_F_DUMP);
	if (routes) {
		struct rtmsg *r = put(m, sizeof(*r));

		r->rtm_family = AF_INET6;
	} else {
		struct ifaddrmsg *ifa = put(m, sizeof(*ifa));

		ifa->ifa_family = AF_INET6;
	}
}

static void getlink(struct msg *m)
{
	struct ifinfomsg *ifi;

	start(m, RTM_GETLINK, NLM_F_ACK);
	ifi = put(m, sizeof(*ifi));
	ifi->ifi_index = (int)ifindex;
}

/* Files every message of a datagram read from @s under the seq it carries. */
static void dispatch(struct nlsock *s, const char *buf, ssize_t n)
{
	const struct nlmsghdr *h;
	int len = (int)n;

	if (n > BUFLEN) {
		COUNT(truncated);
		return;
	}
	pthread_mutex_lock(&s->mu);
	for (h = (const void *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
		uint32_t seq = h->nlmsg_seq;
		struct rec *r;

		if (seq <= s->base || seq > s->base + s->next ||
		    !s->recs[seq - s->base].sent) {
			st.unknown++;
			continue;
		}
		r = &s->recs[seq - s->base];
		if (h->nlmsg_pid != s->portid)
			st.mismatch++;
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)) ||
			    e->msg.nlmsg_seq != seq || e->msg.nlmsg_type != r->type)
				st.mismatch++;
			if (r->answers++)
				st.dup++;
			else
				r->error = e->error;
		} else if (h->nlmsg_type == NLMSG_DONE) {
			if (!r->dump || r->answers)
				st.mismatch++;
			if (r->answers++)
				st.dup++;
		} else {
			/* A part of a dump, before its end. */
			/* A part of a dump or the answer of a get.  Readers
			 * of a shared socket may file datagrams out of order:
			 * parts are counted, checked after the run. */
			if (!r->dump && !r->get)
				st.mismatch++;
			r->parts++;
		}
	}
	if (len)
		st.mismatch++;	/* trailing bytes: not a well-formed datagram */
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* Reads @s until @seq is answered.  Returns the NLMSG_ERROR's error, 0 for
 * a dump, or 1 when the answer never came. */
static int await(struct nlsock *s, uint32_t seq, char *buf, unsigned *turn)
{
	uint64_t deadline = now_ms() + LOST_MS;

	for (;;) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		struct rec *r = &s->recs[seq - s->base];
		ssize_t n;
		int done, err;

		pthread_mutex_lock(&s->mu);
		done = r->answers > 0;
		err = r->error;
		pthread_mutex_unlock(&s->mu);
		if (done)
			return err;
		if (now_ms() > deadline) {
			COUNT(lost);
			return 1;
		}
		if (poll(&p, 1, 100) <= 0)
			continue;
		if (!s->shared) {
			n = recv(s->fd, buf, BUFLEN, MSG_TRUNC);
		} else if ((*turn)++ & 1) {
			n = recv(s->fd, buf, BUFLEN, MSG_TRUNC | MSG_DONTWAIT);
		} else {
			struct iovec iov = { buf, BUFLEN };
			struct sockaddr_nl from;
			struct msghdr mh = { &from, sizeof(from), &iov, 1, NULL, 0, 0 };

			n = recvmsg(s->fd, &mh, MSG_DONTWAIT);
			if (n >= 0 && (mh.msg_flags & MSG_TRUNC))
				n = BUFLEN + 1;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				COUNT(recv_err);
			continue;
		}
		dispatch(s, buf, n);
	}
}

/* Sends @m on @s and waits for its answer (see await). */
static int request(struct nlsock *s, struct msg *m, char *buf, unsigned *turn)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	uint32_t seq;

	/* Recorded before the send: another thread may read the reply first. */
	pthread_mutex_lock(&s->mu);
	if (s->next + 1 >= s->cap) {
		pthread_mutex_unlock(&s->mu);
		fprintf(stderr, "stress: seq space exhausted\n");
		exit(2);
	}
	seq = s->base + ++s->next;
	s->recs[seq - s->base].type = m->h.nlmsg_type;
	/* NLM_F_DUMP shares a bit with NLM_F_EXCL: go by the type. */
	s->recs[seq - s->base].dump = m->h.nlmsg_type == RTM_GETADDR ||
				      m->h.nlmsg_type == RTM_GETROUTE;
	s->recs[seq - s->base].get = m->h.nlmsg_type == RTM_GETLINK;
	s->recs[seq - s->base].sent = 1;
	pthread_mutex_unlock(&s->mu);
	m->h.nlmsg_seq = seq;
	COUNT(requests);
	if (sendto(s->fd, m, m->h.nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) != (ssize_t)m->h.nlmsg_len) {
		perror("stress: sendto");
		exit(2);
	}
	return await(s, seq, buf, turn);
}

struct worker {
	pthread_t tid;
	unsigned t;
	struct nlsock *s;
};

/* A request that must succeed. */
static void must(struct worker *w, struct msg *m, char *buf, unsigned *turn,
		 const char *what)
{
	int e = request(w->s, m, buf, turn);

	if (e) {
		COUNT(failed);
		fprintf(stderr, "stress: thread %u: %s: %s\n", w->t, what,
			e > 0 ? "no answer" : strerror(-e));
	}
}

static void tentative_phase(struct worker *w, char *buf, unsigned *turn)
{
	struct msg m;
	unsigned k;

	for (k = 0; k < tentative; k++) {
		struct in6_addr a = a6(0xa3, w->t, k + 1), d = a6(0xb3, w->t, k + 1);
		int e;

		/* No NODAD: without the shim's help the address is tentative
		 * when the route arrives, 1-2 s before DAD ends. */
		addr6(&m, 1, &a, 0);
		must(w, &m, buf, turn, "tentative address add");
		route(&m, 1, AF_INET6, &d, 128, &a, 3000 + w->t);
		pthread_mutex_lock(&st_mu);
		st.tent++;
		if (++in_flight > max_overlap)
			max_overlap = in_flight;
		pthread_mutex_unlock(&st_mu);
		e = request(w->s, &m, buf, turn);
		pthread_mutex_lock(&st_mu);
		in_flight--;
		if (e == 0)
			st.tent_ok++;
		else if (e == -EINVAL)
			st.tent_einval++;
		else
			st.tent_other++;
		pthread_mutex_unlock(&st_mu);
		if (e == 0) {
			/* The kernel deletes only a route it has. */
			route(&m, 0, AF_INET6, &d, 128, NULL, 3000 + w->t);
			must(w, &m, buf, turn, "tentative-source route delete");
		}
		addr6(&m, 0, &a, 0);
		must(w, &m, buf, turn, "tentative address delete");
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;
	char *buf = malloc(BUFLEN);
	struct in6_addr home = a6(0xa1, w->t, 1), d;
	unsigned r, turn = w->t;
	uint8_t v4[4] = { 192, 0, 2, 0 };
	struct msg m;

	if (!buf)
		abort();
	/* This thread's source address, usable at once in every mode. */
	addr6(&m, 1, &home, IFA_F_NODAD);
	must(w, &m, buf, &turn, "home address add");
	for (r = 0; r < rounds; r++) {
		if (r == rounds / 2) {
			pthread_barrier_wait(&barrier);
			tentative_phase(w, buf, &turn);
		}
		v4[3] = (uint8_t)(r % 200 + 1);
		route(&m, 1, AF_INET, v4, 32, NULL, 1000 + w->t);
		must(w, &m, buf, &turn, "IPv4 route add");
		route(&m, 0, AF_INET, v4, 32, NULL, 1000 + w->t);
		must(w, &m, buf, &turn, "IPv4 route delete");

		d = a6(0xa2, w->t, r + 1);
		addr6(&m, 1, &d, 0);
		must(w, &m, buf, &turn, "IPv6 address add");
		addr6(&m, 0, &d, 0);
		must(w, &m, buf, &turn, "IPv6 address delete");

		d = a6(0xb2, w->t, r + 1);
		route(&m, 1, AF_INET6, &d, 128, &home, 2000 + w->t);
		must(w, &m, buf, &turn, "IPv6 source route add");
		route(&m, 0, AF_INET6, &d, 128, NULL, 2000 + w->t);
		must(w, &m, buf, &turn, "IPv6 source route delete");

		/* Two dumps at once on one socket are refused (EBUSY), and
		 * two readers of a dumping socket race in the kernel: dumps
		 * only on sockets of their own, a get on shared ones. */
		if (w->s->shared)
			getlink(&m);
		else
			dump(&m, (r + w->t) & 1);
		must(w, &m, buf, &turn, w->s->shared ? "get link" : "dump");
	}
	if (rounds == 0) {
		pthread_barrier_wait(&barrier);
		tentative_phase(w, buf, &turn);
	}
	/* What stays: one route per table, for the caller to find. */
	v4[3] = 250;
	route(&m, 1, AF_INET, v4, 32, NULL, 1000 + w->t);
	must(w, &m, buf, &turn, "final IPv4 route add");
	d = a6(0xb9, w->t, 0);
	route(&m, 1, AF_INET6, &d, 64, &home, 2000 + w->t);
	must(w, &m, buf, &turn, "final IPv6 route add");
	free(buf);
	return NULL;
}

static void open_sock(struct nlsock *s, unsigned i, int shared, uint32_t cap)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	socklen_t len = sizeof(sa);

	memset(s, 0, sizeof(*s));
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(s->fd, (struct sockaddr *)&sa, &len) < 0) {
		perror("stress: netlink socket");
		exit(2);
	}
	s->portid = sa.nl_pid;
	s->shared = shared;
	s->base = (i + 1) * SEQ_SPAN;
	s->cap = cap;
	s->recs = calloc(cap, sizeof(*s->recs));
	if (!s->recs)
		abort();
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
}

int main(int argc, char **argv)
{
	unsigned threads, i, nsocks, owners;
	struct nlsock *socks;
	struct worker *w;
	unsigned long answered = 0, unanswered = 0;
	uint32_t cap;
	int ok;

	if (argc != 5) {
		fprintf(stderr, "usage: stress IFNAME THREADS ROUNDS TENTATIVE\n");
		return 2;
	}
	ifindex = if_nametoindex(argv[1]);
	threads = (unsigned)strtoul(argv[2], NULL, 10);
	rounds = (unsigned)strtoul(argv[3], NULL, 10);
	tentative = (unsigned)strtoul(argv[4], NULL, 10);
	if (!ifindex || threads < 2 || threads > 256 || rounds > 60000) {
		fprintf(stderr, "stress: bad arguments\n");
		return 2;
	}
	owners = threads / 2;
	nsocks = owners + (threads - owners + SHARE - 1) / SHARE;
	cap = SHARE * (rounds * 7 + tentative * 4 + 8) + 2;
	if (cap > SEQ_SPAN) {
		fprintf(stderr, "stress: too many rounds\n");
		return 2;
	}
	socks = calloc(nsocks, sizeof(*socks));
	w = calloc(threads, sizeof(*w));
	if (!socks || !w)
		abort();
	for (i = 0; i < nsocks; i++)
		open_sock(&socks[i], i, i >= owners, cap);
	pthread_barrier_init(&barrier, NULL, threads);
	for (i = 0; i < threads; i++) {
		w[i].t = i;
		w[i].s = i < owners ? &socks[i] : &socks[owners + (i - owners) / SHARE];
		if (pthread_create(&w[i].tid, NULL, work, &w[i])) {
			perror("stress: pthread_create");
			return 2;
		}
	}
	for (i = 0; i < threads; i++)
		pthread_join(w[i].tid, NULL);
	/* Every seq ever sent, on every socket: answered exactly once. */
	for (i = 0; i < nsocks; i++) {
		uint32_t q;

		for (q = 1; q <= socks[i].next; q++) {
			const struct rec *r = &socks[i].recs[q];

			if ((r->dump && !r->parts) || (r->get && r->parts != 1) ||
			    (!r->dump && !r->get && r->parts))
				st.mismatch++;
			if (r->answers == 1)
				answered++;
			else if (r->answers == 0)
				unanswered++;
		}
		close(socks[i].fd);
	}
	ok = answered == st.requests && !unanswered && !st.unknown && !st.dup &&
	     !st.mismatch && !st.lost && !st.truncated && !st.failed &&
	     !st.recv_err && st.tent == (unsigned long)threads * tentative;
	printf("stress: threads=%u sockets=%u shared_sockets=%u requests=%lu answered=%lu "
	       "unanswered=%lu unknown=%lu duplicated=%lu mismatched=%lu lost=%lu "
	       "truncated=%lu recv_errors=%lu failed=%lu tentative_routes=%lu "
	       "tentative_ok=%lu tentative_einval=%lu tentative_other=%lu max_overlap=%d\n",
	       threads, nsocks, nsocks - owners, st.requests, answered, unanswered,
	       st.unknown, st.dup, st.mismatch, st.lost, st.truncated, st.recv_err,
	       st.failed, st.tent, st.tent_ok, st.tent_einval, st.tent_other, max_overlap);
	return ok ? 0 : 1;
}
