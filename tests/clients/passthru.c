/*
 * passthru - deterministic I/O that dadshim must leave alone: UDP on
 * loopback, a pipe, a NETLINK_XFRM request and a NETLINK_GENERIC request.
 * Ports, netlink port ids and sequence numbers are fixed so that two runs
 * in fresh network namespaces produce the same bytes; tests compare strace
 * dumps of a run with and without the shim.
 *
 * It writes "passthru: begin" first: everything the dynamic loader (and a
 * preloaded library's start-up) does comes before that marker.
 * Exit 0 when every exchange completed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define UDP_PORT_A 47001
#define UDP_PORT_B 47002
#define XFRM_PORTID 0x7e5701
#define GENL_PORTID 0x7e5702
#define NL_PID 0x4242   /* nlmsg_pid written in requests */

static int failed;

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "passthru: %s failed: %s\n", what,
			strerror(errno));
		failed = 1;
	}
}

static int udp_socket(uint16_t port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	check(fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0,
	      "udp bind");
	return fd;
}

static int nl_socket(int proto, uint32_t portid)
{
	struct sockaddr_nl sa;
	int fd = socket(AF_NETLINK, SOCK_RAW, proto);

	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	sa.nl_pid = portid;
	check(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
	      "netlink bind");
	return fd;
}

int main(int argc, char **argv)
{
	static const char marker[] = "passthru: begin\n";
	char buf[8192];
	/* a length the compiler cannot prove: fortified builds then call
	 * __recv_chk/__recvfrom_chk/__read_chk, which a preload must wrap */
	static volatile size_t bufsize = sizeof(buf);
	size_t cap = bufsize;
	struct sockaddr_in to, from;
	struct sockaddr_nl kernel;
	socklen_t fromlen;
	int a, b, p[2], x, g;
	ssize_t n;

	(void)argc;
	(void)argv;
	if (write(STDOUT_FILENO, marker, sizeof(marker) - 1) < 0)
		return 2;

	/* UDP: sendto/recvfrom one way, connected send/recv back */
	a = udp_socket(UDP_PORT_A);
	b = udp_socket(UDP_PORT_B);
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons(UDP_PORT_B);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	check(sendto(a, "dadshim passthru udp a->b", 25, 0,
		     (struct sockaddr *)&to, sizeof(to)) == 25, "udp sendto");
	fromlen = sizeof(from);
	n = recvfrom(b, buf, cap, 0, (struct sockaddr *)&from, &fromlen);
	check(n == 25, "udp recvfrom");
	check(connect(b, (struct sockaddr *)&from, fromlen) == 0, "connect");
	check(send(b, "dadshim passthru udp b->a", 25, 0) == 25, "udp send");
	check(recv(a, buf, cap, 0) == 25, "udp recv");
	close(a);
	close(b);

	/* pipe */
	check(pipe(p) == 0, "pipe");
	check(write(p[1], "dadshim passthru pipe", 21) == 21, "pipe write");
	check(read(p[0], buf, cap) == 21, "pipe read");
	close(p[0]);
	close(p[1]);

	memset(&kernel, 0, sizeof(kernel));
	kernel.nl_family = AF_NETLINK;

	/* NETLINK_XFRM: XFRM_MSG_GETSPDINFO via sendmsg/recvmsg */
	x = nl_socket(NETLINK_XFRM, XFRM_PORTID);
	{
		struct {
			struct nlmsghdr h;
			uint32_t flags;
		} req;
		struct iovec iov = { &req, sizeof(req) };
		struct msghdr mh;

		memset(&req, 0, sizeof(req));
		req.h.nlmsg_len = sizeof(req);
		req.h.nlmsg_type = XFRM_MSG_GETSPDINFO;
		req.h.nlmsg_flags = NLM_F_REQUEST;
		req.h.nlmsg_seq = 4242;
		req.h.nlmsg_pid = NL_PID;
		req.flags = 0xFFFFFFFF;
		memset(&mh, 0, sizeof(mh));
		mh.msg_name = &kernel;
		mh.msg_namelen = sizeof(kernel);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		check(sendmsg(x, &mh, 0) == (ssize_t)sizeof(req),
		      "xfrm sendmsg");
		iov.iov_base = buf;
		iov.iov_len = cap;
		n = recvmsg(x, &mh, 0);
		check(n > 0, "xfrm recvmsg");
	}
	/* and an XFRM_MSG_GETSA dump via sendto/recv */
	{
		struct {
			struct nlmsghdr h;
			struct xfrm_usersa_id id;
		} req;

		memset(&req, 0, sizeof(req));
		req.h.nlmsg_len = sizeof(req);
		req.h.nlmsg_type = XFRM_MSG_GETSA;
		req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		req.h.nlmsg_seq = 4243;
		req.h.nlmsg_pid = NL_PID;
		check(sendto(x, &req, sizeof(req), 0,
			     (struct sockaddr *)&kernel,
			     sizeof(kernel)) == (ssize_t)sizeof(req),
		      "xfrm sendto");
		n = recv(x, buf, cap, 0);
		check(n > 0, "xfrm recv");
	}
	close(x);

	/* NETLINK_GENERIC: CTRL_CMD_GETFAMILY "nlctrl" via send/recvfrom */
	g = nl_socket(NETLINK_GENERIC, GENL_PORTID);
	{
		struct {
			struct nlmsghdr h;
			struct genlmsghdr g;
			struct nlattr a;
			char name[8];
		} req;

		memset(&req, 0, sizeof(req));
		req.h.nlmsg_len = sizeof(req);
		req.h.nlmsg_type = GENL_ID_CTRL;
		req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		req.h.nlmsg_seq = 4244;
		req.h.nlmsg_pid = NL_PID;
		req.g.cmd = CTRL_CMD_GETFAMILY;
		req.g.version = 1;
		req.a.nla_len = NLA_HDRLEN + sizeof("nlctrl");
		req.a.nla_type = CTRL_ATTR_FAMILY_NAME;
		memcpy(req.name, "nlctrl", sizeof("nlctrl"));
		check(connect(g, (struct sockaddr *)&kernel,
			      sizeof(kernel)) == 0, "genl connect");
		check(send(g, &req, sizeof(req), 0) == (ssize_t)sizeof(req),
		      "genl send");
		/* the family, then the ack */
		fromlen = sizeof(kernel);
		n = recvfrom(g, buf, cap, 0, (struct sockaddr *)&kernel,
			     &fromlen);
		check(n > 0, "genl recvfrom (family)");
		n = recvfrom(g, buf, cap, 0, NULL, NULL);
		check(n > 0, "genl recvfrom (ack)");
	}
	close(g);

	printf("passthru: %s\n", failed ? "FAILED" : "done");
	return failed;
}
