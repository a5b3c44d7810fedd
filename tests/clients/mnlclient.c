/*
 * mnlclient - a libmnl 1.0.4 client (mnl_socket_sendto = sendto,
 * mnl_socket_recvfrom = recvmsg) that adds an IPv6 address without NODAD or
 * a route with a preferred source, to test dadshim against libmnl's calls.
 *
 *   mnlclient addr DEV ADDR/LEN
 *   mnlclient route DEV DST/LEN SRC TABLE
 *
 * Exit 0 on success; otherwise prints the kernel's error (and its extended
 * ack text) and exits 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

static void usage(void)
{
	fprintf(stderr, "usage: mnlclient addr DEV ADDR/LEN\n"
		"       mnlclient route DEV DST/LEN SRC TABLE\n");
	exit(2);
}

static int parse_prefix(const char *s, struct in6_addr *a, unsigned *len)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long v;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return -1;
	*slash++ = '\0';
	v = strtoul(slash, &end, 10);
	if (end == slash || *end || v > 128)
		return -1;
	*len = v;
	return inet_pton(AF_INET6, buf, a) == 1 ? 0 : -1;
}

/* Print the error of an NLMSG_ERROR with its extended ack message. */
static void print_error(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	const char *text = NULL;

	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		/* TLVs follow the echoed request (only its header if capped) */
		size_t off = sizeof(*err);
		const struct nlattr *attr;

		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += mnl_nlmsg_get_payload_len(&err->msg);
		mnl_attr_for_each(attr, nlh, off) {
			if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
			    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
				text = mnl_attr_get_str(attr);
		}
	}
	printf("mnlclient: kernel error: %s (%d)%s%s\n", strerror(-err->error),
	       -err->error, text ? ": " : "", text ? text : "");
}

static int reported;

static int cb_err(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);

	(void)data;
	if (err->error) {
		print_error(nlh);
		reported = 1;
		errno = -err->error;
		return MNL_CB_ERROR;
	}
	return MNL_CB_STOP;
}

int main(int argc, char **argv)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	mnl_cb_t ctl_cb[NLMSG_MIN_TYPE] = { 0 };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct in6_addr a, src;
	unsigned plen, portid, seq, ifindex;
	int one = 1, ret;

	if (argc < 4)
		usage();
	ifindex = if_nametoindex(argv[2]);
	if (!ifindex) {
		fprintf(stderr, "mnlclient: no interface %s\n", argv[2]);
		return 2;
	}
	if (parse_prefix(argv[3], &a, &plen))
		usage();

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE |
			   NLM_F_EXCL;
	nlh->nlmsg_seq = seq = time(NULL);
	if (!strcmp(argv[1], "addr") && argc == 4) {
		struct ifaddrmsg *ifa;

		nlh->nlmsg_type = RTM_NEWADDR;
		ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
		ifa->ifa_family = AF_INET6;
		ifa->ifa_prefixlen = plen;
		ifa->ifa_flags = 0;     /* DAD on, as an unaware client */
		ifa->ifa_scope = RT_SCOPE_UNIVERSE;
		ifa->ifa_index = ifindex;
		mnl_attr_put(nlh, IFA_LOCAL, sizeof(a), &a);
		mnl_attr_put(nlh, IFA_ADDRESS, sizeof(a), &a);
	} else if (!strcmp(argv[1], "route") && argc == 6) {
		struct rtmsg *rtm;
		unsigned long table;
		char *end;

		if (inet_pton(AF_INET6, argv[4], &src) != 1)
			usage();
		table = strtoul(argv[5], &end, 10);
		if (end == argv[5] || *end || table == 0 || table > 0xFFFFFFFFUL)
			usage();
		nlh->nlmsg_type = RTM_NEWROUTE;
		rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
		rtm->rtm_family = AF_INET6;
		rtm->rtm_dst_len = plen;
		rtm->rtm_table = table < 256 ? table : RT_TABLE_UNSPEC;
		rtm->rtm_protocol = RTPROT_STATIC;
		rtm->rtm_scope = RT_SCOPE_UNIVERSE;
		rtm->rtm_type = RTN_UNICAST;
		mnl_attr_put_u32(nlh, RTA_TABLE, table);
		mnl_attr_put(nlh, RTA_DST, sizeof(a), &a);
		mnl_attr_put(nlh, RTA_PREFSRC, sizeof(src), &src);
		mnl_attr_put_u32(nlh, RTA_OIF, ifindex);
	} else {
		usage();
	}

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl) {
		perror("mnl_socket_open");
		return 2;
	}
	/* ask for the kernel's error text ("Invalid source address") */
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("mnl_socket_bind");
		return 2;
	}
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		perror("mnl_socket_sendto");
		return 2;
	}
	ctl_cb[NLMSG_ERROR] = cb_err;
	ret = MNL_CB_OK;
	errno = 0;
	while (ret > 0) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			perror("mnl_socket_recvfrom");
			break;
		}
		ret = mnl_cb_run2(buf, n, seq, portid, NULL, NULL, ctl_cb,
				  NLMSG_MIN_TYPE);
	}
	mnl_socket_close(nl);
	if (ret == MNL_CB_STOP) {
		printf("mnlclient: %s ok\n", argv[1]);
		return 0;
	}
	if (ret < 0 && !reported)
		printf("mnlclient: no valid answer: %s\n", strerror(errno));
	return 1;
}
