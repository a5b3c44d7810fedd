/* nltest.h - helpers shared by the C test programs (stress, faults,
 * lifecycle, corners): a netlink request buffer, attributes, descriptor
 * counts, a bound NETLINK_ROUTE socket. */
#ifndef DADSHIM_NLTEST_H
#define DADSHIM_NLTEST_H

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

/* One request: a header and room for its payload and attributes. */
struct msg {
	struct nlmsghdr h;
	/* cppcheck-suppress unusedStructMember ; room for attributes */
	char body[512];
};

static inline void die(const char *what)
{
	perror(what);
	exit(2);
}

static inline void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Open descriptors of this process, not counting the one that reads them:
 * compared before and after a case, it shows a leak. */
static inline int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		die("/proc/self/fd");
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

/* Appends @len zeroed bytes (aligned) to @m and returns them. */
static inline void *put(struct msg *m, size_t len)
{
	char *p = (char *)m + NLMSG_ALIGN(m->h.nlmsg_len);

	memset(p, 0, NLMSG_ALIGN(len));
	m->h.nlmsg_len = NLMSG_ALIGN(m->h.nlmsg_len) + (uint32_t)NLMSG_ALIGN(len);
	return p;
}

static inline void attr(struct msg *m, uint16_t type, const void *data, size_t len)
{
	struct rtattr *a = put(m, RTA_LENGTH(len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
}

/* Appends to a started RTM_NEWADDR or RTM_DELADDR the body of an IPv6
 * @a/128 on @index with ifa_flags @flags (its low byte: callers that need
 * the upper bits add IFA_FLAGS themselves), IFA_LOCAL only. */
static inline void addr6_body(struct msg *m, const struct in6_addr *a,
			      uint32_t index, uint32_t flags)
{
	struct ifaddrmsg *ifa = put(m, sizeof(*ifa));

	ifa->ifa_family = AF_INET6;
	ifa->ifa_prefixlen = 128;
	ifa->ifa_flags = (uint8_t)flags;
	ifa->ifa_index = index;
	attr(m, IFA_LOCAL, a, sizeof(*a));
}

/* Appends to a started RTM_NEWROUTE the body of an IPv6 route
 * fd00:@dst_byte::/64 src @src dev @index table @table: a source route of
 * the kind the shim holds. */
static inline void route6_body(struct msg *m, const struct in6_addr *src,
			       unsigned dst_byte, uint32_t index, uint32_t table)
{
	struct in6_addr dst;
	struct rtmsg *r;

	memset(&dst, 0, sizeof(dst));
	dst.s6_addr[0] = 0xfd;
	dst.s6_addr[3] = (uint8_t)dst_byte;
	r = put(m, sizeof(*r));
	r->rtm_family = AF_INET6;
	r->rtm_dst_len = 64;
	r->rtm_protocol = RTPROT_STATIC;
	r->rtm_type = RTN_UNICAST;
	attr(m, RTA_DST, &dst, sizeof(dst));
	attr(m, RTA_PREFSRC, src, sizeof(*src));
	attr(m, RTA_OIF, &index, sizeof(index));
	attr(m, RTA_TABLE, &table, sizeof(table));
}

/* A NETLINK_ROUTE socket bound to a port the kernel picks; exits on
 * failure. */
static inline int nl_open(void)
{
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("netlink socket");
	return s;
}

#endif
