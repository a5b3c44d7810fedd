/*
 * heldrx - the receive side of a held route request, as callers see it.
 *
 *   heldrx MODE IFNAME ADDR
 *
 * ADDR/128 is added to IFNAME without IFA_F_NODAD (run it under the shim
 * with DADSHIM_NODAD=0, so that it really is tentative), then source
 * routes with ADDR as their source go into table 232 on one socket:
 *
 *   sameseq, sameseq-poll  two different routes (fd00:e1::/64, and
 *       fd00:e2::/64 with one attribute more), both with seq 0 and port id 0,
 *       sent back to back; their answers read with a blocking recv, or
 *       with poll() + recv(MSG_DONTWAIT) (-poll);
 *   samelen, samelen-poll  the same with two routes whose headers are
 *       identical (fd00:e3::/64 and fd00:e4::/64): same length, seq 0;
 *   dontwait  one route (fd00:e5::/64); at once recv(MSG_DONTWAIT), which
 *       returns the kernel's EINVAL (the shim never waits for a reader
 *       that does not block); then poll() + recv(MSG_DONTWAIT) for any
 *       answer still due;
 *   nonblock  the same on an O_NONBLOCK socket, recv() without flags;
 *   dontwait-next  the route, then an RTM_GETLINK (another seq): the first
 *       recv(MSG_DONTWAIT) returns whatever is at the head;
 *   dontwait-close  the route, recv(MSG_DONTWAIT), then the socket is
 *       closed and a new socket (the same number, likely) makes a request
 *       of its own: it must get its own answer, the process must have no
 *       descriptor more than before ("fds_back"), and the route must not
 *       be added (nobody asked any more);
 *   groups  the route sent with sendto() to {nl_pid 0, nl_groups
 *       RTMGRP_IPV6_ROUTE}; the answer read with a blocking recv;
 *   write  the route sent with write() (no address);
 *   errno  (ADDR added with NODAD, usable) a route whose answer is read
 *       through a dup(), so the shim still holds it; then a blocking recv
 *       on the empty socket, which an RTM_GETLINK from another thread
 *       ends: errno must be what it was before the call.
 *   loglock  (run with DADSHIM_LOG=3 DADSHIM_LOG_TARGET=stderr) stderr is
 *       a full pipe; thread A sends 33 routes nobody reads the answers of,
 *       so the shim forgets the oldest held one and logs that (debug), and
 *       A blocks writing the line.  Then thread B adds a route on a socket
 *       of its own and reads the answer: "b_done" says whether B got
 *       through while A was blocked (the shim's lock must not be held
 *       across a log line).
 *
 * Before every successful receive errno is set to EDOM; "errno_kept" says
 * whether every one left it so.  "spurious" counts the times poll() said
 * readable and recv(MSG_DONTWAIT) then found nothing.  Prints "heldrx: mode=MODE key=value ...";
 * exits 0 unless the test itself could not run.  The script judges.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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
#include <sys/syscall.h>
#include <unistd.h>

#include "nltest.h"

#define TABLE 232
#define BUFLEN 8192

static unsigned ifindex;
static struct in6_addr addr;
static int errno_kept = 1;
static int spurious;	/* poll() said readable, recv(MSG_DONTWAIT) found nothing */
static int sock = -1;
static pid_t main_tid;

static void start(struct msg *m, uint16_t type, uint16_t flags, uint32_t seq)
{
	memset(m, 0, sizeof(*m));
	m->h.nlmsg_len = NLMSG_HDRLEN;
	m->h.nlmsg_type = type;
	m->h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
	m->h.nlmsg_seq = seq;
}

static void nl_send(int fd, const struct msg *m, const struct sockaddr_nl *to)
{
	ssize_t n;

	if (to)
		n = sendto(fd, m, m->h.nlmsg_len, 0, (const struct sockaddr *)to, sizeof(*to));
	else
		n = write(fd, m, m->h.nlmsg_len);
	if (n != (ssize_t)m->h.nlmsg_len)
		die("heldrx: send");
}

static const struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

/* recv() with errno set to EDOM first: a success must leave it so. */
static ssize_t rx(int fd, char *buf, int flags)
{
	ssize_t n;

	errno = EDOM;
	n = recv(fd, buf, BUFLEN, flags);
	if (n >= 0 && errno != EDOM)
		errno_kept = 0;
	return n;
}

/* "LEN:ERROR" of a lone NLMSG_ERROR (the echoed request length), else
 * "type:N". */
static void describe(const char *buf, ssize_t n, char *out, size_t size)
{
	const struct nlmsghdr *h = (const void *)buf;

	if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) || h->nlmsg_type != NLMSG_ERROR) {
		snprintf(out, size, "type:%u", n >= (ssize_t)sizeof(*h) ? h->nlmsg_type : 0u);
		return;
	}
	{
		const struct nlmsgerr *e = NLMSG_DATA(h);

		snprintf(out, size, "%u:%d", e->msg.nlmsg_len, e->error);
	}
}

static int add_addr(uint32_t flags)
{
	struct msg m;
	char buf[BUFLEN];
	int fd = nl_open();
	ssize_t n;

	start(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, 1);
	addr6_body(&m, &addr, ifindex, flags);
	nl_send(fd, &m, &kernel);
	n = recv(fd, buf, sizeof(buf), 0);
	close(fd);
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)))
		return -1;
	return ((const struct nlmsgerr *)NLMSG_DATA((const struct nlmsghdr *)buf))->error;
}

static void route(struct msg *m, unsigned dst_byte, int extra, uint32_t seq)
{
	start(m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, seq);
	route6_body(m, &addr, dst_byte, ifindex, TABLE);
	if (extra) {
		uint32_t prio = 1024;

		attr(m, RTA_PRIORITY, &prio, sizeof(prio));
	}
}

static void getlink(struct msg *m, uint32_t seq)
{
	struct ifinfomsg *ifi;

	start(m, RTM_GETLINK, 0, seq);
	ifi = put(m, sizeof(*ifi));
	ifi->ifi_index = (int)ifindex;
}

/* Reads until @want NLMSG_ERROR answers; blocking, or poll()+MSG_DONTWAIT. */
static int answers(int fd, int want, int use_poll, char desc[][32])
{
	char buf[BUFLEN];
	int got = 0;

	while (got < want) {
		ssize_t n;

		if (use_poll) {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			if (poll(&p, 1, 30000) <= 0)
				break;
			n = rx(fd, buf, MSG_TRUNC | MSG_DONTWAIT);
			if (n < 0 && errno == EAGAIN) {
				/* A queue head the shim keeps to itself would
				 * make a poll loop spin: counted. */
				if (++spurious > 1000)
					break;
				continue;
			}
		} else {
			n = rx(fd, buf, MSG_TRUNC);
		}
		if (n < 0)
			break;
		if (((const struct nlmsghdr *)buf)->nlmsg_type != NLMSG_ERROR)
			continue;
		describe(buf, n, desc[got], sizeof(desc[got]));
		got++;
	}
	return got;
}

/* What one more non-blocking receive finds: "EAGAIN" or the message. */
static void extra(int fd, char *out, size_t size)
{
	char buf[BUFLEN];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_TRUNC | MSG_DONTWAIT);

	if (n < 0)
		snprintf(out, size, "%s", errno == EAGAIN ? "EAGAIN" : strerror(errno));
	else
		describe(buf, n, out, size);
}

/* Sends an RTM_GETLINK on the socket once the main thread blocks in
 * recvfrom (seen in /proc), so that its receive starts on an empty queue. */

static void *kick(void *arg)
{
	struct msg m;
	int i;

	(void)arg;
	for (i = 0; i < 4000 && !in_syscall(main_tid, SYS_recvfrom); i++)
		sleep_ms(5);
	getlink(&m, 77);
	nl_send(sock, &m, &kernel);
	return NULL;
}

static volatile pid_t a_tid;
static volatile int b_done, drain_fd = -1, a_fd = -1;

static void *thread_a(void *arg)
{
	struct msg m;
	int i;

	(void)arg;
	a_tid = (pid_t)syscall(SYS_gettid);
	for (i = 0; i < 33; i++) {
		route(&m, 0x10 + (unsigned)i, 0, 800 + (uint32_t)i);
		nl_send(a_fd, &m, &kernel);
	}
	return NULL;
}

/* Reads the first answer queued on A's socket: the receive path of a
 * socket with held requests, which takes the shim's lock. */
static void *thread_b(void *arg)
{
	char buf[BUFLEN];

	(void)arg;
	if (recv(a_fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		__atomic_store_n(&b_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *drainer(void *arg)
{
	char buf[4096];

	(void)arg;
	while (read(drain_fd, buf, sizeof(buf)) > 0)
		;
	return NULL;
}

/* Returns 1 when B got through while A was blocked in its log line. */
static int loglock(void)
{
	int p[2], saved_err = dup(2), i, got;
	pthread_t a, b, d;
	char fill[4096];

	memset(fill, 'x', sizeof(fill));
	if (saved_err < 0 || pipe(p) < 0)
		die("heldrx: pipe");
	(void)fcntl(p[1], F_SETPIPE_SZ, 4096);
	if (fcntl(p[1], F_SETFL, O_NONBLOCK) < 0)
		die("heldrx: fcntl");
	while (write(p[1], fill, sizeof(fill)) > 0)
		;
	if (fcntl(p[1], F_SETFL, 0) < 0 || dup2(p[1], 2) < 0)
		die("heldrx: stderr");
	a_fd = nl_open();
	if (pthread_create(&a, NULL, thread_a, NULL))
		die("heldrx: pthread_create");
	for (i = 0; i < 4000 && !(a_tid && in_syscall(a_tid, SYS_write)); i++)
		sleep_ms(5);
	if (pthread_create(&b, NULL, thread_b, NULL))
		die("heldrx: pthread_create");
	/* A guard against a hang, not a measure: B needs milliseconds. */
	for (i = 0; i < 2000 && !__atomic_load_n(&b_done, __ATOMIC_ACQUIRE); i++)
		sleep_ms(5);
	got = __atomic_load_n(&b_done, __ATOMIC_ACQUIRE);
	drain_fd = p[0];
	if (pthread_create(&d, NULL, drainer, NULL))
		die("heldrx: pthread_create");
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	dup2(saved_err, 2);
	close(p[1]);
	pthread_join(d, NULL);
	close(p[0]);
	close(a_fd);
	close(saved_err);
	return got;
}

/* What a mode saw, printed as key=value for the script. */
struct result {
	char first[32];		/* the first receive, where a mode makes one */
	char desc[4][32];	/* the NLMSG_ERROR answers read, in order */
	char more[32];		/* one more receive, or the mode's own figure */
	int got;
};

static ssize_t first_rx(int fd, int flags, struct result *r, char *buf)
{
	ssize_t n = rx(fd, buf, flags);

	if (n < 0)
		snprintf(r->first, sizeof(r->first), "%s",
			 errno == EAGAIN ? "EAGAIN" : strerror(errno));
	else
		describe(buf, n, r->first, sizeof(r->first));
	return n;
}

/* sameseq, samelen (-poll): two routes with seq 0, back to back. */
static void two_routes(const char *mode, struct result *r)
{
	int same = !strncmp(mode, "samelen", 7);
	struct msg m;

	route(&m, same ? 0xe3 : 0xe1, 0, 0);
	nl_send(sock, &m, &kernel);
	route(&m, same ? 0xe4 : 0xe2, !same, 0);
	nl_send(sock, &m, &kernel);
	r->got = answers(sock, 2, strstr(mode, "-poll") != NULL, r->desc);
	extra(sock, r->more, sizeof(r->more));
}

/* dontwait, nonblock, dontwait-next: a receive that must not block. */
static void dontwait(const char *mode, struct result *r)
{
	char buf[BUFLEN];
	int flags = MSG_TRUNC | MSG_DONTWAIT, want = 1;
	struct msg m;

	if (!strcmp(mode, "nonblock")) {
		if (fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK) < 0)
			die("heldrx: O_NONBLOCK");
		flags = MSG_TRUNC;
	}
	route(&m, 0xe5, 0, 500);
	nl_send(sock, &m, &kernel);
	if (!strcmp(mode, "dontwait-next")) {
		getlink(&m, 501);
		nl_send(sock, &m, &kernel);
		want = 2;	/* the route's and the get's ack */
	}
	/* The kernel answered inside sendto(): the EINVAL is queued. */
	if (first_rx(sock, flags, r, buf) >= 0 &&
	    ((const struct nlmsghdr *)buf)->nlmsg_type == NLMSG_ERROR)
		want--;
	r->got = answers(sock, want, 1, r->desc);
	extra(sock, r->more, sizeof(r->more));
}

/* dontwait-close: the refused route's socket closed at once, a new one
 * asks for itself; the shim must hold nothing of the old one. */
static void dontwait_close(const char *mode, struct result *r)
{
	char buf[BUFLEN];
	int base, i, back = 0;
	struct msg m;
	ssize_t n;

	(void)mode;
	close(sock);
	base = count_fds();
	sock = nl_open();
	route(&m, 0xe8, 0, 550);
	nl_send(sock, &m, &kernel);
	(void)first_rx(sock, MSG_TRUNC | MSG_DONTWAIT, r, buf);
	close(sock);
	sock = nl_open();
	getlink(&m, 551);
	nl_send(sock, &m, &kernel);
	n = rx(sock, buf, MSG_TRUNC);
	if (n >= 0)
		describe(buf, n, r->desc[r->got++], sizeof(r->desc[0]));
	close(sock);
	for (i = 0; i < 6000 && !back; i++) {
		back = count_fds() == base;
		if (!back)
			sleep_ms(5);
	}
	snprintf(r->more, sizeof(r->more), "fds_back=%d", back);
	sock = nl_open();
}

/* groups, write: the route sent to a group address, or with write(). */
static void one_route(const char *mode, struct result *r)
{
	struct sockaddr_nl g = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_IPV6_ROUTE };
	struct msg m;

	route(&m, 0xe6, 0, 600);
	nl_send(sock, &m, strcmp(mode, "groups") ? NULL : &g);
	r->got = answers(sock, 1, 0, r->desc);
	extra(sock, r->more, sizeof(r->more));
}

/* errno: a blocking recv on an empty held socket, ended by another
 * thread's request, keeps errno. */
static void errno_kept_mode(const char *mode, struct result *r)
{
	char buf[BUFLEN];
	int d = dup(sock);
	pthread_t k;
	struct msg m;
	ssize_t n;

	(void)mode;
	if (d < 0)
		die("heldrx: dup");
	route(&m, 0xe7, 0, 700);
	nl_send(sock, &m, &kernel);
	n = recv(d, buf, sizeof(buf), 0);	/* not seen by the shim */
	close(d);
	describe(buf, n, r->first, sizeof(r->first));
	if (pthread_create(&k, NULL, kick, NULL))
		die("heldrx: pthread_create");
	n = rx(sock, buf, MSG_TRUNC);
	pthread_join(k, NULL);
	if (n >= 0)
		describe(buf, n, r->desc[r->got++], sizeof(r->desc[0]));
	extra(sock, r->more, sizeof(r->more));
}

static void loglock_mode(const char *mode, struct result *r)
{
	(void)mode;
	snprintf(r->more, sizeof(r->more), "b_done=%d", loglock());
}

static const struct mode {
	const char *name;
	void (*run)(const char *mode, struct result *r);
	uint32_t addr_flags;	/* of ADDR: 0, so that it is tentative */
} modes[] = {
	{ "sameseq", two_routes, 0 },	{ "sameseq-poll", two_routes, 0 },
	{ "samelen", two_routes, 0 },	{ "samelen-poll", two_routes, 0 },
	{ "dontwait", dontwait, 0 },	{ "nonblock", dontwait, 0 },
	{ "dontwait-next", dontwait, 0 }, { "dontwait-close", dontwait_close, 0 },
	{ "groups", one_route, 0 },	{ "write", one_route, 0 },
	{ "errno", errno_kept_mode, IFA_F_NODAD }, { "loglock", loglock_mode, 0 },
};

int main(int argc, char **argv)
{
	struct result r = { "none", { "none", "none", "none", "none" }, "none", 0 };
	const struct mode *md = NULL;
	size_t i;
	int e;

	if (argc != 4 || inet_pton(AF_INET6, argv[3], &addr) != 1) {
		fprintf(stderr, "usage: heldrx MODE IFNAME ADDR\n");
		return 2;
	}
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]) && !md; i++)
		if (!strcmp(argv[1], modes[i].name))
			md = &modes[i];
	if (!md) {
		fprintf(stderr, "heldrx: unknown mode %s\n", argv[1]);
		return 2;
	}
	ifindex = if_nametoindex(argv[2]);
	if (!ifindex)
		die("heldrx: interface");
	alarm(60);
	main_tid = (pid_t)syscall(SYS_gettid);
	e = add_addr(md->addr_flags);
	if (e) {
		fprintf(stderr, "heldrx: address add: %s\n", strerror(-e));
		return 2;
	}
	sock = nl_open();
	md->run(md->name, &r);
	close(sock);
	printf("heldrx: mode=%s first=%s answers=%d a1=%s a2=%s extra=%s errno_kept=%d "
	       "spurious=%d\n", md->name, r.first, r.got, r.desc[0], r.desc[1], r.more,
	       errno_kept, spurious);
	return 0;
}
