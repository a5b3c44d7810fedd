/*
 * charon551 - reproduces how strongSwan 5.5.1's charon (kernel-netlink
 * plugin) installs an IPv6 virtual IP and its source route, down to the libc
 * calls, the message layouts and the threading, so that dadshim can be tested
 * against exactly the pattern it has to fix without a real IKE exchange.
 *
 *   charon551 --dev IFNAME --vip IPV6 [--dst PREFIX/LEN] [--table N]
 *             [--parallel] [--timeout-ms N] [--retries N] [--skip-addr]
 *             [--style 5.5|5.2|5.1] [--mobike N]
 *
 * Request socket: sendto() one message per call; replies read either by the
 * sending thread (select() + recv(MSG_TRUNC), socket mutex held) or, with
 * --parallel, by a watcher thread (poll() + recv(MSG_TRUNC|MSG_DONTWAIT))
 * that hands them to the sender through a condition variable.  Event socket:
 * read by the watcher with recvfrom(MSG_DONTWAIT).  Exit 0 iff the route was
 * installed.
 *
 * --style selects the reader of older releases (netlink_send() in
 * kernel_netlink_shared.c), which have no select() and no timeout: the
 * sender blocks in the receive, then peeks 16 bytes without waiting to spot
 * further parts of a multi-part answer:
 *   5.2  (5.2.1, Debian jessie): recv(buf[4096], 0), then
 *        recv(16, MSG_PEEK | MSG_DONTWAIT)
 *   5.1  (5.0.x/5.1.x, Ubuntu 14.04): recvfrom(buf[4096], 0, &addr), then
 *        recvfrom(16, MSG_PEEK | MSG_DONTWAIT, &addr)
 * The lengths passed are the buffers' own sizes, constants, so even a
 * _FORTIFY_SOURCE build calls plain recv/recvfrom here, as the
 * distributions' binaries of those releases do.
 *
 * --mobike N repeats N times what a MOBIKE address change does to a client
 * with a virtual IP (child_sa.c update(): the policies and their route are
 * removed, reinstall_vip() deletes the virtual IP and waits until it is gone,
 * adds it again, then the route is installed again): RTM_DELROUTE,
 * RTM_DELADDR (waiting for its event), RTM_NEWADDR (waiting for its event),
 * RTM_NEWROUTE.  Every step runs even when an earlier install failed, as in
 * charon; exit 0 iff every RTM_NEWROUTE was installed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef RTA_TABLE
#define RTA_TABLE 15
#endif

/* Replies collected for the one request in flight (charon's entry_t). */
#define REPLY_MAX 65536

struct entry {
	int active;             /* a sender waits for seq */
	uint32_t seq;
	int complete;
	size_t len;
	char data[REPLY_MAX];
	pthread_cond_t cond;
};

static struct {
	int fd;                 /* request socket */
	int evfd;               /* event socket */
	int pipefd[2];          /* watcher notification pipe */
	uint32_t seq;
	unsigned timeout_ms;
	unsigned retries;
	int parallel;
	int style;              /* 55, 52 or 51 */
	size_t buflen;
	pthread_mutex_t mutex;  /* socket mutex, recursive as charon's */
	struct entry entry;
	/* virtual IP bookkeeping, fed by the event socket */
	pthread_mutex_t vip_lock;
	pthread_cond_t vip_cond;
	int vip_seen;
	struct in6_addr vip;
} nl;

static void usage(void)
{
	fprintf(stderr, "usage: charon551 --dev IFNAME --vip IPV6 "
		"[--dst PREFIX/LEN] [--table N] [--parallel] [--timeout-ms N] "
		"[--retries N] [--skip-addr] [--style 5.5|5.2|5.1] [--mobike N]\n");
	exit(2);
}

static void add_attr(struct nlmsghdr *hdr, size_t bufsize, int type,
		     const void *data, size_t len)
{
	struct rtattr *rta;

	if (NLMSG_ALIGN(hdr->nlmsg_len) + RTA_LENGTH(len) > bufsize) {
		fprintf(stderr, "unable to add attribute, buffer too small\n");
		return;
	}
	rta = (struct rtattr *)((char *)hdr + NLMSG_ALIGN(hdr->nlmsg_len));
	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	hdr->nlmsg_len = NLMSG_ALIGN(hdr->nlmsg_len) + rta->rta_len;
}

static int write_msg(struct nlmsghdr *msg)
{
	struct sockaddr_nl addr;

	memset(&addr, 0, sizeof(addr));
	addr.nl_family = AF_NETLINK;
	for (;;) {
		ssize_t len = sendto(nl.fd, msg, msg->nlmsg_len, 0,
			     (struct sockaddr *)&addr, sizeof(addr));
		if (len != (ssize_t)msg->nlmsg_len) {
			if (len < 0 && errno == EINTR)
				continue;
			fprintf(stderr, "netlink write error: %s\n",
				len < 0 ? strerror(errno) : "short write");
			return -1;
		}
		return 0;
	}
}

/* Queue one reply message for its waiter; 0 if nobody waits for its seq. */
static int queue(struct nlmsghdr *hdr)
{
	struct entry *e = &nl.entry;
	int known;

	pthread_mutex_lock(&nl.mutex);
	known = e->active && !e->complete && e->seq == hdr->nlmsg_seq;
	if (known) {
		if (e->len + hdr->nlmsg_len <= sizeof(e->data)) {
			memcpy(e->data + e->len, hdr, hdr->nlmsg_len);
			e->len += hdr->nlmsg_len;
		}
		if (hdr->nlmsg_type == NLMSG_DONE ||
		    !(hdr->nlmsg_flags & NLM_F_MULTI)) {
			e->complete = 1;
			pthread_cond_signal(&e->cond);
		}
	} else {
		printf("received unknown netlink seq %u, ignored\n",
		       hdr->nlmsg_seq);
		fflush(stdout);
	}
	pthread_mutex_unlock(&nl.mutex);
	return known;
}

/* Returns 1 on timeout (blocking mode only), 0 otherwise. */
static int read_and_queue(int block)
{
#ifdef FIXED_BUFLEN
	char buf[FIXED_BUFLEN];
#else
	char buf[nl.buflen];
#endif
	/* a run-time length, as charon's this->buflen: with a buffer of known
	 * size this is what makes fortified glibc call __recv_chk */
	size_t buflen = nl.buflen;
	struct nlmsghdr *hdr;
	ssize_t len;

	if (block) {
		struct timeval tv;
		fd_set set;

		FD_ZERO(&set);
		FD_SET(nl.fd, &set);
		tv.tv_sec = nl.timeout_ms / 1000;
		tv.tv_usec = (nl.timeout_ms % 1000) * 1000;
		if (select(nl.fd + 1, &set, NULL, NULL,
			   nl.timeout_ms ? &tv : NULL) <= 0)
			return 1;
	}
	len = recv(nl.fd, buf, buflen, MSG_TRUNC | (block ? 0 : MSG_DONTWAIT));
	if (len > (ssize_t)buflen) {
		fprintf(stderr, "netlink response exceeds buffer size\n");
		return 0;
	}
	if (len < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			fprintf(stderr, "netlink read error: %s\n",
				strerror(errno));
		return 0;
	}
	hdr = (struct nlmsghdr *)buf;
	while (NLMSG_OK(hdr, len)) {
		if (!queue(hdr))
			break;
		hdr = NLMSG_NEXT(hdr, len);
	}
	return 0;
}

static void process_events(void)
{
#ifdef FIXED_BUFLEN
	char buf[FIXED_BUFLEN];
#else
	char buf[nl.buflen];
#endif
	struct sockaddr_nl sa;
	socklen_t salen = sizeof(sa);
	struct nlmsghdr *hdr;
	ssize_t len;

	len = recvfrom(nl.evfd, buf, nl.buflen, MSG_DONTWAIT,
		       (struct sockaddr *)&sa, &salen);
	if (len < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			fprintf(stderr, "unable to receive from RT event "
				"socket: %s\n", strerror(errno));
		return;
	}
	for (hdr = (struct nlmsghdr *)buf; NLMSG_OK(hdr, len);
	     hdr = NLMSG_NEXT(hdr, len)) {
		struct ifaddrmsg *ifa = NLMSG_DATA(hdr);
		struct rtattr *rta;
		const void *local = NULL, *address = NULL;
		int rtalen;

		if ((hdr->nlmsg_type != RTM_NEWADDR &&
		     hdr->nlmsg_type != RTM_DELADDR) ||
		    ifa->ifa_family != AF_INET6)
			continue;
		rtalen = IFA_PAYLOAD(hdr);
		for (rta = IFA_RTA(ifa); RTA_OK(rta, rtalen);
		     rta = RTA_NEXT(rta, rtalen)) {
			if (RTA_PAYLOAD(rta) != sizeof(struct in6_addr))
				continue;
			if (rta->rta_type == IFA_LOCAL)
				local = RTA_DATA(rta);
			else if (rta->rta_type == IFA_ADDRESS)
				address = RTA_DATA(rta);
		}
		/* As charon: IFA_LOCAL if present, else IFA_ADDRESS; the
		 * tentative flag is not looked at. */
		if (!local)
			local = address;
		if (local && memcmp(local, &nl.vip, sizeof(nl.vip)) == 0) {
			pthread_mutex_lock(&nl.vip_lock);
			nl.vip_seen = hdr->nlmsg_type == RTM_NEWADDR;
			pthread_cond_broadcast(&nl.vip_cond);
			pthread_mutex_unlock(&nl.vip_lock);
		}
	}
}

/* charon's watcher thread: the notification pipe, the event socket and,
 * with --parallel, the request socket. */
static void *watcher(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd pfd[3];
		int n = 2;
		char c;

		pfd[0].fd = nl.pipefd[0];
		pfd[0].events = POLLIN;
		pfd[1].fd = nl.evfd;
		pfd[1].events = POLLIN;
		if (nl.parallel) {
			pfd[2].fd = nl.fd;
			pfd[2].events = POLLIN;
			n = 3;
		}
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			return NULL;
		}
		if (pfd[0].revents & POLLIN) {
			if (read(nl.pipefd[0], &c, 1) == 1 && c == 'q')
				return NULL;
		}
		if (pfd[1].revents & POLLIN)
			process_events();
		if (n == 3 && (pfd[2].revents & POLLIN))
			read_and_queue(0);
	}
}

/* One attempt: 0 reply complete, 1 timeout, -1 error. */
static int send_once(struct nlmsghdr *in, uint32_t seq, char *out,
		     size_t *out_len)
{
	struct entry *e = &nl.entry;
	int rc = 0;

	in->nlmsg_seq = seq;
	in->nlmsg_pid = getpid();

	pthread_mutex_lock(&nl.mutex);
	if (write_msg(in) < 0) {
		pthread_mutex_unlock(&nl.mutex);
		return -1;
	}
	e->active = 1;
	e->seq = seq;
	e->complete = 0;
	e->len = 0;
	while (!e->complete) {
		if (nl.parallel) {
			if (nl.timeout_ms) {
				struct timespec ts;

				clock_gettime(CLOCK_REALTIME, &ts);
				ts.tv_sec += nl.timeout_ms / 1000;
				ts.tv_nsec += (long)(nl.timeout_ms % 1000) *
					      1000000L;
				if (ts.tv_nsec >= 1000000000L) {
					ts.tv_sec++;
					ts.tv_nsec -= 1000000000L;
				}
				if (pthread_cond_timedwait(&e->cond, &nl.mutex,
							   &ts) == ETIMEDOUT &&
				    !e->complete)
					break;
			} else {
				pthread_cond_wait(&e->cond, &nl.mutex);
			}
		} else if (read_and_queue(1)) {
			break;
		}
	}
	e->active = 0;
	if (e->complete) {
		memcpy(out, e->data, e->len);
		*out_len = e->len;
	} else {
		rc = 1;
	}
	pthread_mutex_unlock(&nl.mutex);
	return rc;
}

/* netlink_send() of 5.2.1 and earlier: the sender holds the socket mutex,
 * blocks in the receive (no select, no timeout), collects every datagram
 * with its seq, and after each one peeks 16 bytes without waiting: another
 * datagram with the same seq is a further part.  0 ok, -1 error. */
static int send_old(struct nlmsghdr *in, uint32_t seq, char *out,
		    size_t *out_len)
{
	union {
		struct nlmsghdr hdr;
		unsigned char bytes[4096];
	} response;
	struct nlmsghdr peek;
	struct sockaddr_nl addr;
	socklen_t addr_len = sizeof(addr);
	ssize_t len;

	in->nlmsg_seq = seq;
	in->nlmsg_pid = getpid();
	*out_len = 0;
	pthread_mutex_lock(&nl.mutex);
	if (write_msg(in) < 0) {
		pthread_mutex_unlock(&nl.mutex);
		return -1;
	}
	for (;;) {
		if (nl.style == 51) {
			memset(&addr, 0, sizeof(addr));
			addr.nl_family = AF_NETLINK;
			addr.nl_pid = getpid();
			addr_len = sizeof(addr);
			len = recvfrom(nl.fd, response.bytes, sizeof(response.bytes),
				       0, (struct sockaddr *)&addr, &addr_len);
		} else {
			len = recv(nl.fd, &response, sizeof(response), 0);
		}
		if (len < 0) {
			if (errno == EINTR) {
				printf("got interrupted\n");
				continue;
			}
			printf("error reading from netlink socket: %s\n",
			       strerror(errno));
			pthread_mutex_unlock(&nl.mutex);
			return -1;
		}
		if (!NLMSG_OK(&response.hdr, len)) {
			printf("received corrupted netlink message\n");
			pthread_mutex_unlock(&nl.mutex);
			return -1;
		}
		if (response.hdr.nlmsg_seq != seq) {
			printf("received invalid netlink sequence number\n");
			if (response.hdr.nlmsg_seq < seq)
				continue;
			pthread_mutex_unlock(&nl.mutex);
			return -1;
		}
		if (*out_len + (size_t)len <= REPLY_MAX) {
			memcpy(out + *out_len, response.bytes, (size_t)len);
			*out_len += (size_t)len;
		}
		/* "NLM_F_MULTI flag does not seem to be set correctly, we use
		 * sequence numbers to detect multi header messages" */
		if (nl.style == 51)
			len = recvfrom(nl.fd, &peek, sizeof(peek),
				       MSG_PEEK | MSG_DONTWAIT,
				       (struct sockaddr *)&addr, &addr_len);
		else
			len = recv(nl.fd, &peek, sizeof(peek),
				   MSG_PEEK | MSG_DONTWAIT);
		if (len == (ssize_t)sizeof(peek) && peek.nlmsg_seq == seq)
			continue;
		break;
	}
	pthread_mutex_unlock(&nl.mutex);
	return 0;
}

/* charon's netlink_send() + netlink_send_ack(): 0 ok, -EEXIST, -errno. */
static int send_ack(struct nlmsghdr *in)
{
	static char out[REPLY_MAX];
	uint32_t seq = ++nl.seq;
	unsigned try;

	for (try = 0; try <= nl.retries; ++try) {
		struct nlmsghdr *hdr;
		size_t len;
		int rc;

		if (try > 0) {
			printf("retransmitting Netlink request (%u/%u)\n",
			       try, nl.retries);
			fflush(stdout);
		}
		rc = nl.style == 55 ? send_once(in, seq, out, &len)
				    : send_old(in, seq, out, &len);
		if (rc < 0)
			return -EIO;
		if (rc > 0)
			continue;
		for (hdr = (struct nlmsghdr *)out; NLMSG_OK(hdr, len);
		     hdr = NLMSG_NEXT(hdr, len)) {
			struct nlmsgerr *err;

			if (hdr->nlmsg_type == NLMSG_DONE)
				break;
			if (hdr->nlmsg_type != NLMSG_ERROR)
				continue;
			err = NLMSG_DATA(hdr);
			if (err->error == -EBUSY) {
				try--;
				goto again;
			}
			if (err->error == -EEXIST || err->error == -ESRCH)
				return err->error;
			if (err->error) {
				printf("received netlink error: %s (%d)\n",
				       strerror(-err->error), -err->error);
				fflush(stdout);
				return err->error;
			}
			return 0;
		}
		printf("netlink request not acknowledged\n");
		return -EIO;
again:
		;
	}
	printf("Netlink request timed out after %u retransmits\n", nl.retries);
	return -ETIMEDOUT;
}

static int open_sockets(void)
{
	struct sockaddr_nl addr;
	pthread_mutexattr_t attr;

	memset(&addr, 0, sizeof(addr));
	addr.nl_family = AF_NETLINK;
	nl.fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (nl.fd < 0 || bind(nl.fd, (struct sockaddr *)&addr, sizeof(addr))) {
		perror("unable to create netlink socket");
		return -1;
	}
	/* Subscribe before the address is added so its event is not missed. */
	addr.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR |
			 RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE | RTMGRP_LINK;
	nl.evfd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (nl.evfd < 0 ||
	    bind(nl.evfd, (struct sockaddr *)&addr, sizeof(addr))) {
		perror("unable to bind RT event socket");
		return -1;
	}
	if (pipe(nl.pipefd)) {
		perror("pipe");
		return -1;
	}
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&nl.mutex, &attr);
	pthread_mutexattr_destroy(&attr);
	pthread_cond_init(&nl.entry.cond, NULL);
	pthread_mutex_init(&nl.vip_lock, NULL);
	pthread_cond_init(&nl.vip_cond, NULL);
	return 0;
}

/* manage_ipaddr(RTM_NEWADDR) as 5.5.1 builds it: no IFA_F_NODAD; then
 * waits until the event socket reports the address.  With @del, the
 * RTM_DELADDR of del_ip(), waiting until the address is reported gone. */
static int manage_ip(int ifindex, int del)
{
	union {
		struct nlmsghdr hdr;
		/* cppcheck-suppress unusedStructMember ; room for attributes */
		char buf[1024];
	} req;
	struct ifaddrmsg *msg;
	struct ifa_cacheinfo ci;
	struct timespec ts;
	int rc;

	memset(&req, 0, sizeof(req));
	req.hdr.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK |
			      (del ? 0 : NLM_F_CREATE | NLM_F_EXCL);
	req.hdr.nlmsg_type = del ? RTM_DELADDR : RTM_NEWADDR;
	req.hdr.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	msg = NLMSG_DATA(&req.hdr);
	msg->ifa_family = AF_INET6;
	msg->ifa_flags = 0;
	msg->ifa_prefixlen = 128;
	msg->ifa_scope = RT_SCOPE_UNIVERSE;
	msg->ifa_index = ifindex;
	add_attr(&req.hdr, sizeof(req), IFA_LOCAL, &nl.vip, sizeof(nl.vip));
	if (!del) {
		/* deprecated at once: only the source route selects it */
		memset(&ci, 0, sizeof(ci));
		ci.ifa_prefered = 0;
		ci.ifa_valid = 0xFFFFFFFF;
		add_attr(&req.hdr, sizeof(req), IFA_CACHEINFO, &ci, sizeof(ci));
	}

	rc = send_ack(&req.hdr);
	if (rc != 0)
		return -1;
	/* wait until the event socket reports the address (tentative or not),
	 * or reports it gone */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 1;
	pthread_mutex_lock(&nl.vip_lock);
	while (nl.vip_seen == del) {
		if (pthread_cond_timedwait(&nl.vip_cond, &nl.vip_lock, &ts) ==
		    ETIMEDOUT)
			break;
	}
	rc = nl.vip_seen != del ? 0 : -1;
	pthread_mutex_unlock(&nl.vip_lock);
	if (rc)
		printf("virtual IP did not %s\n", del ? "disappear" : "appear");
	return rc;
}

/* manage_srcroute(RTM_NEWROUTE) as 5.5.1 builds it; with @del the
 * RTM_DELROUTE of del_route(). */
static int manage_route(int ifindex, const struct in6_addr *dst, int dst_len,
			uint32_t table, int del)
{
	union {
		struct nlmsghdr hdr;
		/* cppcheck-suppress unusedStructMember ; room for attributes */
		char buf[1024];
	} req;
	struct rtmsg *msg;
	uint32_t oif = ifindex;

	memset(&req, 0, sizeof(req));
	req.hdr.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK |
			      (del ? 0 : NLM_F_CREATE | NLM_F_EXCL);
	req.hdr.nlmsg_type = del ? RTM_DELROUTE : RTM_NEWROUTE;
	req.hdr.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	msg = NLMSG_DATA(&req.hdr);
	msg->rtm_family = AF_INET6;
	msg->rtm_dst_len = dst_len;
	msg->rtm_protocol = RTPROT_STATIC;
	msg->rtm_type = RTN_UNICAST;
	msg->rtm_scope = RT_SCOPE_UNIVERSE;
	if (table < 256) {
		msg->rtm_table = table;
	} else {
		msg->rtm_table = RT_TABLE_UNSPEC;
		add_attr(&req.hdr, sizeof(req), RTA_TABLE, &table,
			 sizeof(table));
	}
	add_attr(&req.hdr, sizeof(req), RTA_DST, dst, sizeof(*dst));
	add_attr(&req.hdr, sizeof(req), RTA_PREFSRC, &nl.vip, sizeof(nl.vip));
	add_attr(&req.hdr, sizeof(req), RTA_OIF, &oif, sizeof(oif));
	return send_ack(&req.hdr);
}

static unsigned long parse_num(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	const char *dev = NULL, *vip = NULL, *dst = "::/0";
	char dstbuf[INET6_ADDRSTRLEN + 8], *slash;
	struct in6_addr dst_addr;
	unsigned long table = 220;
	int skip_addr = 0, ifindex, dst_len, rc, i, failures = 0;
	unsigned long mobike = 0, round;
	long pagesize;
	pthread_t thr;
	char q = 'q';

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--parallel")) {
			nl.parallel = 1;
		} else if (!strcmp(a, "--skip-addr")) {
			skip_addr = 1;
		} else if (i + 1 >= argc) {
			usage();
		} else if (!strcmp(a, "--dev")) {
			dev = argv[++i];
		} else if (!strcmp(a, "--vip")) {
			vip = argv[++i];
		} else if (!strcmp(a, "--dst")) {
			dst = argv[++i];
		} else if (!strcmp(a, "--table")) {
			table = parse_num(argv[++i], 0xFFFFFFFFUL);
		} else if (!strcmp(a, "--timeout-ms")) {
			nl.timeout_ms = parse_num(argv[++i], 3600000);
		} else if (!strcmp(a, "--retries")) {
			nl.retries = parse_num(argv[++i], 1000);
		} else if (!strcmp(a, "--style")) {
			const char *v = argv[++i];

			if (!strcmp(v, "5.5"))
				nl.style = 55;
			else if (!strcmp(v, "5.2"))
				nl.style = 52;
			else if (!strcmp(v, "5.1"))
				nl.style = 51;
			else
				usage();
		} else if (!strcmp(a, "--mobike")) {
			mobike = parse_num(argv[++i], 100);
		} else {
			usage();
		}
	}
	if (!dev || !vip || inet_pton(AF_INET6, vip, &nl.vip) != 1)
		usage();
	if (!nl.style)
		nl.style = 55;
	/* before 5.2.2 there is no parallel reader and no timeout */
	if (nl.style != 55 && (nl.parallel || nl.timeout_ms || nl.retries))
		usage();
	if (strlen(dst) >= sizeof(dstbuf))
		usage();
	strcpy(dstbuf, dst);
	slash = strchr(dstbuf, '/');
	if (!slash)
		usage();
	*slash = '\0';
	dst_len = parse_num(slash + 1, 128);
	if (inet_pton(AF_INET6, dstbuf, &dst_addr) != 1)
		usage();
	ifindex = if_nametoindex(dev);
	if (!ifindex) {
		fprintf(stderr, "charon551: no interface %s\n", dev);
		return 2;
	}
	pagesize = sysconf(_SC_PAGESIZE);
	if (pagesize == -1)
		pagesize = 4096;
	nl.buflen = pagesize < 8192 ? pagesize : 8192;
#ifdef FIXED_BUFLEN
	if (nl.buflen > FIXED_BUFLEN)
		nl.buflen = FIXED_BUFLEN;
#endif
	nl.seq = 200;
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (open_sockets())
		return 2;
	if (pthread_create(&thr, NULL, watcher, NULL)) {
		fprintf(stderr, "charon551: cannot start the watcher\n");
		return 2;
	}

	rc = 1;
	for (round = 0; round <= mobike; round++) {
		if (round > 0) {
			/* MOBIKE: policies (and their route) out, the
			 * virtual IP deleted and added again, routes back */
			printf("address change %lu: reinstalling virtual IP %s\n",
			       round, vip);
			(void)manage_route(ifindex, &dst_addr, dst_len, table, 1);
			if (manage_ip(ifindex, 1))
				printf("unable to delete virtual IP %s\n", vip);
		}
		if (!skip_addr || round > 0) {
			if (manage_ip(ifindex, 0)) {
				printf("unable to install virtual IP %s\n", vip);
				goto out;
			}
			printf("installed virtual IP %s\n", vip);
		}
		switch (manage_route(ifindex, &dst_addr, dst_len, table, 0)) {
		case 0:
			printf("installed source route for %s\n", vip);
			break;
		case -EEXIST:
			/* charon's ALREADY_DONE: the route is there */
			printf("source route for %s exists already\n", vip);
			break;
		default:
			printf("unable to install source route for %s\n", vip);
			failures++;
			break;
		}
	}
	rc = failures ? 1 : 0;
out:
	if (write(nl.pipefd[1], &q, 1) != 1)
		perror("write");
	pthread_join(thr, NULL);
	close(nl.fd);
	close(nl.evfd);
	return rc;
}
