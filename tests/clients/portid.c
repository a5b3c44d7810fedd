/*
 * portid - two sockets, one seq: each reads its own answers.
 * Two NETLINK_ROUTE sockets, every request with seq 42, all 76 bytes,
 * all with NLM_F_REQUEST|NLM_F_ACK|NLM_F_CREATE|NLM_F_EXCL:
 *   socket A: first an IPv4 route whose source does not exist (nlmsg_pid
 *   0x1111; the kernel says EINVAL; nothing for the shim), then an IPv6
 *   route with the tentative source SRC6 (nlmsg_pid 0x2222: the shim
 *   holds it back until DAD is over);
 *   socket B: an IPv6 route with the absent source BAD6 (nlmsg_pid 0x2222;
 *   EINVAL for a reason that is not DAD: sent at once).
 * It reads B's answer, then A's two, each with a blocking recv, and prints
 *   portid: b1=ERR:PID a1=ERR:PID a2=ERR:PID
 * (ERR the NLMSG_ERROR's error, PID the nlmsg_pid of the request it
 * echoes, in hex). Without the shim: b1=-22:2222 a1=-22:1111 a2=-22:2222;
 * with it a2 is the ack of the route sent after DAD, 0:2222, the others
 * as without.
 * usage: portid IFNAME SRC6 BAD6. Exit 0 when every answer was read.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SEQ 42

struct req {
	struct nlmsghdr n;
	struct rtmsg r;
	char attrs[48];
};

static size_t put(struct req *q, size_t off, unsigned short type, const void *v,
		  unsigned short len)
{
	struct rtattr a;

	a.rta_len = (unsigned short)RTA_LENGTH(len);
	a.rta_type = type;
	memcpy(q->attrs + off, &a, sizeof(a));
	memcpy(q->attrs + off + RTA_LENGTH(0), v, len);
	return off + RTA_ALIGN(a.rta_len);
}

/* A 76-byte RTM_NEWROUTE for table 250: IPv6 DST, PREFSRC, OIF (20+20+8),
 * or IPv4 DST, PREFSRC, OIF, PRIORITY, FLOW, TABLE (6 x 8). */
static void build(struct req *q, int family, const char *dst, const char *src,
		  unsigned ifindex, uint32_t pid)
{
	unsigned char d[16], s[16];
	uint32_t one = 1, table = 250;
	size_t off = 0;
	unsigned short alen = family == AF_INET6 ? 16 : 4;

	memset(q, 0, sizeof(*q));
	inet_pton(family, dst, d);
	inet_pton(family, src, s);
	q->r.rtm_family = (unsigned char)family;
	q->r.rtm_dst_len = (unsigned char)(alen * 8);
	q->r.rtm_table = (unsigned char)table;
	q->r.rtm_protocol = RTPROT_BOOT;
	q->r.rtm_scope = RT_SCOPE_UNIVERSE;
	q->r.rtm_type = RTN_UNICAST;
	off = put(q, off, RTA_DST, d, alen);
	off = put(q, off, RTA_PREFSRC, s, alen);
	off = put(q, off, RTA_OIF, &ifindex, 4);
	if (family == AF_INET) {
		off = put(q, off, RTA_PRIORITY, &one, 4);
		off = put(q, off, RTA_FLOW, &one, 4);
		off = put(q, off, RTA_TABLE, &table, 4);
	}
	q->n.nlmsg_len = (uint32_t)(NLMSG_LENGTH(sizeof(q->r)) + off);
	q->n.nlmsg_type = RTM_NEWROUTE;
	q->n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	q->n.nlmsg_seq = SEQ;
	q->n.nlmsg_pid = pid;
}

static int nl_socket(void)
{
	struct sockaddr_nl sa;
	int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);

	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	return fd;
}

static int send_req(int fd, const struct req *q)
{
	struct sockaddr_nl to;

	memset(&to, 0, sizeof(to));
	to.nl_family = AF_NETLINK;
	return sendto(fd, q, q->n.nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to)) ==
	       (ssize_t)q->n.nlmsg_len ? 0 : -1;
}

/* One blocking recv: "ERR:PID" of the NLMSG_ERROR read, or what went wrong. */
static int answer(int fd, char *out, size_t size)
{
	char buf[8192];
	struct nlmsghdr h;
	struct nlmsgerr e;
	ssize_t n = recv(fd, buf, sizeof(buf), 0);

	if (n < 0) {
		snprintf(out, size, "recv:%s", strerror(errno));
		return -1;
	}
	memcpy(&h, buf, sizeof(h));
	if (n < (ssize_t)(NLMSG_HDRLEN + sizeof(e)) || h.nlmsg_type != NLMSG_ERROR) {
		snprintf(out, size, "type:%u", (unsigned)h.nlmsg_type);
		return -1;
	}
	memcpy(&e, buf + NLMSG_HDRLEN, sizeof(e));
	snprintf(out, size, "%d:%x", e.error, (unsigned)e.msg.nlmsg_pid);
	return 0;
}

int main(int argc, char **argv)
{
	struct req n4, h6, b6;
	char b1[64], a1[64], a2[64];
	unsigned ifindex;
	int a, b, bad = 0;

	if (argc != 4 || !(ifindex = if_nametoindex(argv[1]))) {
		fprintf(stderr, "usage: portid IFNAME SRC6 BAD6\n");
		return 2;
	}
	alarm(60);	/* a guard against a hang */
	build(&n4, AF_INET, "198.51.100.42", "203.0.113.42", ifindex, 0x1111);
	build(&h6, AF_INET6, "2001:db8:42::", argv[2], ifindex, 0x2222);
	build(&b6, AF_INET6, "2001:db8:43::", argv[3], ifindex, 0x2222);
	if (n4.n.nlmsg_len != 76 || h6.n.nlmsg_len != 76 || b6.n.nlmsg_len != 76) {
		fprintf(stderr, "portid: the requests are not all 76 bytes\n");
		return 2;
	}
	a = nl_socket();
	b = nl_socket();
	if (a < 0 || b < 0 || send_req(a, &n4) || send_req(a, &h6) || send_req(b, &b6)) {
		fprintf(stderr, "portid: socket or send: %s\n", strerror(errno));
		return 1;
	}
	bad |= answer(b, b1, sizeof(b1));
	bad |= answer(a, a1, sizeof(a1));
	bad |= answer(a, a2, sizeof(a2));
	printf("portid: b1=%s a1=%s a2=%s\n", b1, a1, a2);
	return bad ? 1 : 0;
}
