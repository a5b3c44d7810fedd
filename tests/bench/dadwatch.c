/*
 * dadwatch - an independent observer of one virtual IP coming up: it
 * listens to the kernel's own notifications (RTNLGRP_IPV6_IFADDR and
 * RTNLGRP_IPV6_ROUTE) in the namespace and timestamps, with
 * CLOCK_MONOTONIC when each is read:
 *   tent  the first RTM_NEWADDR of VIP carrying IFA_F_TENTATIVE
 *   dad   the first RTM_NEWADDR of VIP without IFA_F_TENTATIVE (DAD over)
 *   route the first RTM_NEWROUTE of table T with RTA_PREFSRC = VIP
 *
 *   dadwatch --vip VIP [--table T] [--timeout-ms MS]
 *
 * Prints "ready" once subscribed (start the actor only after that), then,
 * when both dad and route were seen, one line:
 *   tentative=0|1 order=dad-route|route-dad latency_ns=N coalesced=0|1
 * where latency_ns = |route - dad|.  coalesced=1 says the route event was
 * already queued when the DAD event was read (the listener was late, so
 * the figure is too small); it runs SCHED_FIFO, when allowed, to be on
 * time.  Exit 1 when either was not seen within the time limit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "bench.h"

/* The address event's flags: IFA_FLAGS (u32) when present, else ifa_flags. */
static int addr_of(struct nlmsghdr *h, const struct in6_addr *vip, uint32_t *flags)
{
	struct ifaddrmsg *ifa = NLMSG_DATA(h);
	struct rtattr *rta;
	int len = (int)IFA_PAYLOAD(h), match = 0;

	if (ifa->ifa_family != AF_INET6)
		return 0;
	*flags = ifa->ifa_flags;
	for (rta = IFA_RTA(ifa); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if ((rta->rta_type == IFA_LOCAL || rta->rta_type == IFA_ADDRESS) &&
		    RTA_PAYLOAD(rta) == sizeof(*vip) &&
		    memcmp(RTA_DATA(rta), vip, sizeof(*vip)) == 0)
			match = 1;
		if (rta->rta_type == IFA_FLAGS && RTA_PAYLOAD(rta) == 4)
			memcpy(flags, RTA_DATA(rta), 4);
	}
	return match;
}

static int route_of(struct nlmsghdr *h, const struct in6_addr *vip, uint32_t table)
{
	struct rtmsg *rt = NLMSG_DATA(h);
	struct rtattr *rta;
	int len = (int)RTM_PAYLOAD(h), src = 0;
	uint32_t tab = rt->rtm_table;

	if (rt->rtm_family != AF_INET6)
		return 0;
	for (rta = RTM_RTA(rt); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == RTA_TABLE && RTA_PAYLOAD(rta) == 4)
			memcpy(&tab, RTA_DATA(rta), 4);
		if (rta->rta_type == RTA_PREFSRC && RTA_PAYLOAD(rta) == sizeof(*vip) &&
		    memcmp(RTA_DATA(rta), vip, sizeof(*vip)) == 0)
			src = 1;
	}
	return src && tab == table;
}

int main(int argc, char **argv)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE };
	static char buf[65536];
	struct in6_addr vip;
	const char *vips = NULL;
	unsigned long table = 220, timeout_ms = 30000;
	uint64_t deadline, t_dad = 0, t_route = 0;
	struct sched_param prio = { .sched_priority = 10 };
	int fd, a, tentative = 0, rcvbuf = 1 << 20, blocked = 0, coalesced = 0;

	for (a = 1; a + 1 < argc; a += 2) {
		if (!strcmp(argv[a], "--vip"))
			vips = argv[a + 1];
		else if (!strcmp(argv[a], "--table"))
			table = strtoul(argv[a + 1], NULL, 10);
		else if (!strcmp(argv[a], "--timeout-ms"))
			timeout_ms = strtoul(argv[a + 1], NULL, 10);
		else
			return 2;
	}
	if (a != argc || !vips || inet_pton(AF_INET6, vips, &vip) != 1)
		return 2;
	fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("dadwatch: socket");
		return 1;
	}
	/* Bursts of route and address events must not overrun us. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	(void)sched_setscheduler(0, SCHED_FIFO, &prio);
	printf("ready\n");
	fflush(stdout);
	deadline = now_ns(CLOCK_MONOTONIC) + (uint64_t)timeout_ms * 1000000u;
	while (!t_dad || !t_route) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = now_ns(CLOCK_MONOTONIC), t;
		struct nlmsghdr *h = (struct nlmsghdr *)buf;
		ssize_t len;

		if (now >= deadline)
			break;
		/* Read what is queued; sleep only when nothing is. */
		len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		t = now_ns(CLOCK_MONOTONIC);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
				perror("dadwatch: recv");	/* ENOBUFS: events lost */
				return 1;
			}
			blocked = 1;
			if (poll(&p, 1, (int)((deadline - now) / 1000000u) + 1) < 0 &&
			    errno != EINTR)
				break;
			continue;
		}
		for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			uint32_t flags;

			if (h->nlmsg_type == RTM_NEWADDR && addr_of(h, &vip, &flags)) {
				if (flags & IFA_F_TENTATIVE) {
					tentative = 1;
				} else if (!t_dad) {
					t_dad = t;
					blocked = 0;
				}
			} else if (h->nlmsg_type == RTM_NEWROUTE && !t_route &&
				   route_of(h, &vip, (uint32_t)table)) {
				t_route = t;
				coalesced = t_dad && !blocked;
			}
		}
	}
	if (!t_dad || !t_route) {
		printf("timeout dad=%d route=%d tentative=%d\n", !!t_dad, !!t_route,
		       tentative);
		return 1;
	}
	printf("tentative=%d order=%s latency_ns=%llu coalesced=%d\n", tentative,
	       t_route >= t_dad ? "dad-route" : "route-dad",
	       (unsigned long long)(t_route >= t_dad ? t_route - t_dad : t_dad - t_route),
	       coalesced);
	return 0;
}
