/*
 * passbench - the calls a VPN daemon makes all the time, in a tight loop, so
 * that their cost can be compared with and without dadshim preloaded.
 *
 *   passbench udp N          N x (sendto + recv) of 64 bytes on loopback UDP
 *   passbench pipe N         N x (write + read) of 1 byte on a pipe
 *   passbench route4 N DEV   N x (IPv4 RTM_NEWROUTE + ack, RTM_DELROUTE + ack)
 *                            of 192.0.2.200/32 dev DEV, as charon sends them
 *                            (sendto, then select + recv(MSG_TRUNC))
 *   passbench route6src N DEV SRC
 *                            N x the same for IPv6 fd00:bench::/64 dev DEV
 *                            with RTA_PREFSRC SRC (an address that is not
 *                            tentative: the shim looks, and does not wait)
 *   passbench getlink N      N x RTM_GETLINK dump (send, recv to NLMSG_DONE)
 *   passbench rss            a few of the calls above, then prints its own
 *                            VmRSS (status) and Rss/Pss (smaps_rollup), kB
 *
 * Prints the loop's elapsed CLOCK_MONOTONIC time and the CPU time the
 * process spent in it (CLOCK_PROCESS_CPUTIME_ID: what other jobs on a busy
 * machine cannot inflate by taking the CPU away), both in ns.  Every call's
 * result is checked (lengths, netlink acks): a failing loop exits 1, so a
 * figure is never printed for work that was not done.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "bench.h"

static void die(const char *what)
{
	fprintf(stderr, "passbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static unsigned long count_arg(const char *s)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || end == s || *end || n == 0)
		exit(2);
	return n;
}

static void loop_udp(unsigned long n)
{
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	char buf[64], in[128];
	unsigned long i;
	int fd;

	memset(&sa, 0, sizeof(sa));
	memset(buf, 'x', sizeof(buf));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &salen) < 0)
		die("udp socket");
	for (i = 0; i < n; i++) {
		if (sendto(fd, buf, sizeof(buf), 0, (struct sockaddr *)&sa,
			   sizeof(sa)) != (ssize_t)sizeof(buf))
			die("sendto");
		if (recv(fd, in, sizeof(in), 0) != (ssize_t)sizeof(buf))
			die("recv");
	}
	close(fd);
}

static void loop_pipe(unsigned long n)
{
	unsigned long i;
	int p[2];
	char c = 'x';

	if (pipe(p) < 0)
		die("pipe");
	for (i = 0; i < n; i++) {
		if (write(p[1], &c, 1) != 1)
			die("write");
		if (read(p[0], &c, 1) != 1)
			die("read");
	}
	close(p[0]);
	close(p[1]);
}

static int nl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("netlink socket");
	return fd;
}

/* charon's netlink_send_ack(): sendto, select, recv(MSG_TRUNC); the
 * kernel's ack must say 0. */
static void request_ack(int fd, struct nlmsghdr *h)
{
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };
	char buf[4096];
	struct nlmsghdr *r;
	fd_set set;
	ssize_t len;

	if (sendto(fd, h, h->nlmsg_len, 0, (struct sockaddr *)&k, sizeof(k)) !=
	    (ssize_t)h->nlmsg_len)
		die("netlink sendto");
	FD_ZERO(&set);
	FD_SET(fd, &set);
	if (select(fd + 1, &set, NULL, NULL, NULL) != 1)
		die("select");
	len = recv(fd, buf, sizeof(buf), MSG_TRUNC);
	if (len < 0 || len > (ssize_t)sizeof(buf))
		die("netlink recv");
	r = (struct nlmsghdr *)buf;
	if (!NLMSG_OK(r, len) || r->nlmsg_type != NLMSG_ERROR ||
	    r->nlmsg_seq != h->nlmsg_seq) {
		errno = EPROTO;
		die("netlink reply");
	}
	if (((struct nlmsgerr *)NLMSG_DATA(r))->error) {
		errno = -((struct nlmsgerr *)NLMSG_DATA(r))->error;
		die("netlink ack");
	}
}

/* @src NULL: IPv4 192.0.2.200/32; else IPv6 fd00:be::/64 src @src. */
static void route(int fd, int type, uint32_t seq, int ifindex, const struct in6_addr *src)
{
	union {
		struct nlmsghdr h;
		/* cppcheck-suppress unusedStructMember ; room for attributes */
		char buf[256];
	} req;
	struct rtmsg *rt;
	struct in_addr dst;
	uint32_t oif = (uint32_t)ifindex;

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(*rt));
	req.h.nlmsg_type = (unsigned short)type;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK |
			    (type == RTM_NEWROUTE ? NLM_F_CREATE | NLM_F_EXCL : 0);
	req.h.nlmsg_seq = seq;
	req.h.nlmsg_pid = (uint32_t)getpid();
	rt = NLMSG_DATA(&req.h);
	rt->rtm_family = src ? AF_INET6 : AF_INET;
	rt->rtm_dst_len = src ? 64 : 32;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = RTPROT_STATIC;
	rt->rtm_scope = src ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rt->rtm_type = RTN_UNICAST;
	if (src) {
		struct in6_addr dst6;

		inet_pton(AF_INET6, "fd00:be::", &dst6);
		add_attr(&req.h, RTA_DST, &dst6, sizeof(dst6));
		add_attr(&req.h, RTA_PREFSRC, src, sizeof(*src));
	} else {
		inet_pton(AF_INET, "192.0.2.200", &dst);
		add_attr(&req.h, RTA_DST, &dst, sizeof(dst));
	}
	add_attr(&req.h, RTA_OIF, &oif, sizeof(oif));
	request_ack(fd, &req.h);
}

static void loop_route(unsigned long n, const char *dev, const char *src)
{
	int ifindex = (int)if_nametoindex(dev);
	int fd = nl_open();
	uint32_t seq = 1;
	unsigned long i;
	struct in6_addr a;

	if (!ifindex)
		die(dev);
	if (src && inet_pton(AF_INET6, src, &a) != 1)
		die(src);
	for (i = 0; i < n; i++) {
		route(fd, RTM_NEWROUTE, seq++, ifindex, src ? &a : NULL);
		route(fd, RTM_DELROUTE, seq++, ifindex, src ? &a : NULL);
	}
	close(fd);
}

static void loop_getlink(unsigned long n)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg ifi;
	} req;
	static char buf[32768];
	int fd = nl_open();
	unsigned long i;

	for (i = 0; i < n; i++) {
		unsigned links = 0;
		int done = 0;

		memset(&req, 0, sizeof(req));
		req.h.nlmsg_len = sizeof(req);
		req.h.nlmsg_type = RTM_GETLINK;
		req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		req.h.nlmsg_seq = (uint32_t)i + 1;
		req.ifi.ifi_family = AF_UNSPEC;
		if (send(fd, &req, sizeof(req), 0) != (ssize_t)sizeof(req))
			die("netlink send");
		while (!done) {
			ssize_t len = recv(fd, buf, sizeof(buf), 0);
			struct nlmsghdr *h = (struct nlmsghdr *)buf;

			if (len <= 0)
				die("netlink recv");
			for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
				if (h->nlmsg_type == NLMSG_DONE)
					done = 1;
				else if (h->nlmsg_type == RTM_NEWLINK)
					links++;
				else {
					errno = EPROTO;
					die("dump reply");
				}
			}
		}
		if (links == 0) {
			errno = ENODEV;
			die("dump without links");
		}
	}
	close(fd);
}

/* Prints the lines of @path whose key is one of @keys (NULL-terminated). */
static void print_keys(const char *path, const char *const *keys)
{
	char line[256];
	FILE *f = fopen(path, "r");
	int k;

	if (!f)
		die(path);
	while (fgets(line, sizeof(line), f))
		for (k = 0; keys[k]; k++)
			if (strncmp(line, keys[k], strlen(keys[k])) == 0)
				fputs(line, stdout);
	fclose(f);
}

int main(int argc, char **argv)
{
	static const char *const status_keys[] = { "VmRSS:", NULL };
	static const char *const rollup_keys[] = { "Rss:", "Pss:", NULL };
	uint64_t t0, t1, c0, c1;

	if (argc == 2 && strcmp(argv[1], "rss") == 0) {
		/* The calls a daemon makes, so that whatever they touch
		 * in the shim is resident when measured. */
		loop_udp(100);
		loop_pipe(100);
		loop_getlink(1);
		print_keys("/proc/self/status", status_keys);
		print_keys("/proc/self/smaps_rollup", rollup_keys);
		return 0;
	}
	if (argc < 3)
		return 2;
	t0 = now_ns(CLOCK_MONOTONIC);
	c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	if (strcmp(argv[1], "udp") == 0 && argc == 3)
		loop_udp(count_arg(argv[2]));
	else if (strcmp(argv[1], "pipe") == 0 && argc == 3)
		loop_pipe(count_arg(argv[2]));
	else if (strcmp(argv[1], "route4") == 0 && argc == 4)
		loop_route(count_arg(argv[2]), argv[3], NULL);
	else if (strcmp(argv[1], "route6src") == 0 && argc == 5)
		loop_route(count_arg(argv[2]), argv[3], argv[4]);
	else if (strcmp(argv[1], "getlink") == 0 && argc == 3)
		loop_getlink(count_arg(argv[2]));
	else
		return 2;
	c1 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	t1 = now_ns(CLOCK_MONOTONIC);
	printf("%llu %llu\n", (unsigned long long)(t1 - t0),
	       (unsigned long long)(c1 - c0));
	return 0;
}
