/*
 * routeup - time from "virtual IP requested" to "source route installed",
 * speaking the netlink of strongSwan 5.5.1's charon (see
 * /work/shared/reference/strongswan-5.5.1-netlink.md and tests/clients/charon551.c):
 * one request socket written with sendto() and read with select() +
 * recv(MSG_TRUNC), one event socket read with recvfrom(MSG_DONTWAIT).
 *
 *   routeup --dev IFNAME --base N --count K [--nodad] [--table T]
 *
 * For i in 0..K-1, with VIP = 2001:db8:ffff::(N+i):
 *   t0; RTM_NEWADDR VIP/128 (ifa_flags 0 as 5.5.1, or IFA_F_NODAD with
 *   --nodad) + IFA_CACHEINFO, ack; wait for the event socket to report VIP
 *   (as charon); RTM_NEWROUTE ::/0 src VIP dev IFNAME table T, ack; t1.
 *   Then, not timed, the route and the address are deleted again.
 * Any refused request ends the run with exit 1 (no figure is printed).
 * Prints the median, minimum and maximum of t1 - t0 in ns (CLOCK_MONOTONIC),
 * then the median of the CPU time this thread spent in the same window
 * (CLOCK_THREAD_CPUTIME_ID, user + kernel: the requests are processed in
 * the sending thread's system calls, and other jobs on a busy machine
 * cannot inflate it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "bench.h"

#define KMAX 10000

static int reqfd, evfd;
static uint32_t seq = 100;

static void fail(const char *what, int err)
{
	fprintf(stderr, "routeup: %s: %s\n", what, strerror(err));
	exit(1);
}

/* Returns the kernel's error for the request (0 = done). */
static int request(struct nlmsghdr *h)
{
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };
	char buf[4096];

	h->nlmsg_seq = ++seq;
	h->nlmsg_pid = (uint32_t)getpid();
	if (sendto(reqfd, h, h->nlmsg_len, 0, (struct sockaddr *)&k, sizeof(k)) !=
	    (ssize_t)h->nlmsg_len)
		fail("sendto", errno);
	for (;;) {
		struct nlmsghdr *r = (struct nlmsghdr *)buf;
		fd_set set;
		ssize_t len;

		FD_ZERO(&set);
		FD_SET(reqfd, &set);
		if (select(reqfd + 1, &set, NULL, NULL, NULL) < 0) {
			if (errno == EINTR)
				continue;
			fail("select", errno);
		}
		len = recv(reqfd, buf, sizeof(buf), MSG_TRUNC);
		if (len < 0 || len > (ssize_t)sizeof(buf))
			fail("recv", len < 0 ? errno : EMSGSIZE);
		for (; NLMSG_OK(r, len); r = NLMSG_NEXT(r, len))
			if (r->nlmsg_seq == seq && r->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(r))->error;
	}
}

static int addr_msg(int type, int ifindex, const struct in6_addr *vip, int nodad)
{
	union {
		struct nlmsghdr h;
		/* cppcheck-suppress unusedStructMember ; room for attributes */
		char buf[256];
	} req;
	struct ifaddrmsg *ifa;
	struct ifa_cacheinfo ci;

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(*ifa));
	req.h.nlmsg_type = (unsigned short)type;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK |
			    (type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0);
	ifa = NLMSG_DATA(&req.h);
	ifa->ifa_family = AF_INET6;
	ifa->ifa_prefixlen = 128;
	ifa->ifa_flags = nodad ? IFA_F_NODAD : 0;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)ifindex;
	add_attr(&req.h, IFA_LOCAL, vip, sizeof(*vip));
	if (type == RTM_NEWADDR) {
		/* as 5.5.1: deprecated at once, only the route selects it */
		memset(&ci, 0, sizeof(ci));
		ci.ifa_valid = 0xffffffff;
		add_attr(&req.h, IFA_CACHEINFO, &ci, sizeof(ci));
	}
	return request(&req.h);
}

static int route_msg(int type, int ifindex, const struct in6_addr *vip,
		     uint32_t table)
{
	union {
		struct nlmsghdr h;
		/* cppcheck-suppress unusedStructMember ; room for attributes */
		char buf[256];
	} req;
	struct rtmsg *rt;
	struct in6_addr any = IN6ADDR_ANY_INIT;
	uint32_t oif = (uint32_t)ifindex;

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(*rt));
	req.h.nlmsg_type = (unsigned short)type;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK |
			    (type == RTM_NEWROUTE ? NLM_F_CREATE | NLM_F_EXCL : 0);
	rt = NLMSG_DATA(&req.h);
	rt->rtm_family = AF_INET6;
	rt->rtm_dst_len = 0;
	rt->rtm_protocol = RTPROT_STATIC;
	rt->rtm_type = RTN_UNICAST;
	rt->rtm_scope = RT_SCOPE_UNIVERSE;
	rt->rtm_table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC;
	if (table >= 256)
		add_attr(&req.h, RTA_TABLE, &table, sizeof(table));
	add_attr(&req.h, RTA_DST, &any, sizeof(any));
	add_attr(&req.h, RTA_PREFSRC, vip, sizeof(*vip));
	add_attr(&req.h, RTA_OIF, &oif, sizeof(oif));
	return request(&req.h);
}

/* charon waits until its event socket reports the new address (it does
 * not look at the tentative flag); so does this. */
static void wait_event(const struct in6_addr *vip)
{
	char buf[8192];

	for (;;) {
		struct pollfd p = { .fd = evfd, .events = POLLIN };
		struct sockaddr_nl sa;
		socklen_t salen = sizeof(sa);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;
		ssize_t len;

		if (poll(&p, 1, 5000) != 1)
			fail("no RTM_NEWADDR event", ETIMEDOUT);
		len = recvfrom(evfd, buf, sizeof(buf), MSG_DONTWAIT,
			       (struct sockaddr *)&sa, &salen);
		if (len < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			fail("recvfrom events", errno);
		}
		for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			struct ifaddrmsg *ifa = NLMSG_DATA(h);
			struct rtattr *rta;
			int rlen;

			if (h->nlmsg_type != RTM_NEWADDR || ifa->ifa_family != AF_INET6)
				continue;
			rlen = (int)IFA_PAYLOAD(h);
			for (rta = IFA_RTA(ifa); RTA_OK(rta, rlen); rta = RTA_NEXT(rta, rlen))
				if ((rta->rta_type == IFA_LOCAL || rta->rta_type == IFA_ADDRESS) &&
				    RTA_PAYLOAD(rta) == sizeof(*vip) &&
				    memcmp(RTA_DATA(rta), vip, sizeof(*vip)) == 0)
					return;
		}
	}
}

/* Events of the untimed clean-up are not wanted by the next round. */
static void drain_events(void)
{
	char buf[8192];

	while (recv(evfd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static unsigned long num(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > max) {
		fprintf(stderr, "routeup: bad number %s\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static uint64_t t[KMAX], c[KMAX];
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	const char *dev = NULL;
	unsigned long base = 0x100, count = 0, table = 220, i;
	int nodad = 0, ifindex, a;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--nodad"))
			nodad = 1;
		else if (a + 1 >= argc)
			return 2;
		else if (!strcmp(argv[a], "--dev"))
			dev = argv[++a];
		else if (!strcmp(argv[a], "--base"))
			base = num(argv[++a], 0xffff);
		else if (!strcmp(argv[a], "--count"))
			count = num(argv[++a], KMAX);
		else if (!strcmp(argv[a], "--table"))
			table = num(argv[++a], 0xffffffffUL);
		else
			return 2;
	}
	if (!dev || count == 0 || base + count > 0x10000)
		return 2;
	ifindex = (int)if_nametoindex(dev);
	if (!ifindex)
		fail(dev, ENODEV);
	reqfd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (reqfd < 0 || bind(reqfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fail("request socket", errno);
	sa.nl_groups = RTMGRP_IPV6_IFADDR;
	evfd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (evfd < 0 || bind(evfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fail("event socket", errno);

	for (i = 0; i < count; i++) {
		struct in6_addr vip;
		uint64_t t0, c0;
		int e;

		inet_pton(AF_INET6, "2001:db8:ffff::", &vip);
		vip.s6_addr[14] = (unsigned char)((base + i) >> 8);
		vip.s6_addr[15] = (unsigned char)(base + i);
		drain_events();
		t0 = now_ns(CLOCK_MONOTONIC);
		c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
		if ((e = addr_msg(RTM_NEWADDR, ifindex, &vip, nodad)))
			fail("RTM_NEWADDR", -e);
		wait_event(&vip);
		if ((e = route_msg(RTM_NEWROUTE, ifindex, &vip, (uint32_t)table)))
			fail("RTM_NEWROUTE", -e);
		c[i] = now_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
		t[i] = now_ns(CLOCK_MONOTONIC) - t0;
		if ((e = route_msg(RTM_DELROUTE, ifindex, &vip, (uint32_t)table)))
			fail("RTM_DELROUTE", -e);
		if ((e = addr_msg(RTM_DELADDR, ifindex, &vip, 0)))
			fail("RTM_DELADDR", -e);
	}
	qsort(t, count, sizeof(t[0]), cmp_u64);
	qsort(c, count, sizeof(c[0]), cmp_u64);
	printf("%llu %llu %llu %llu\n", (unsigned long long)t[count / 2],
	       (unsigned long long)t[0], (unsigned long long)t[count - 1],
	       (unsigned long long)c[count / 2]);
	return 0;
}
