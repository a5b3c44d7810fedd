/* inspect.c - read-only views of netlink bytes (pure). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "inspect.h"
#include "nlwalk.h"

static int is_len(const struct nlattr *attr, size_t len)
{
	return attr && mnl_attr_get_payload_len(attr) == len;
}

struct route_ctx {
	struct retry_req *reqs;
	size_t max;
	int n;
};

static int route_one(const struct nlmsghdr *nlh, size_t off, void *data)
{
	const uint16_t want = NLM_F_REQUEST | NLM_F_ACK;
	struct route_ctx *c = data;
	const struct rtmsg *rtm;
	const struct nlattr *tb[RTA_MAX + 1];
	struct retry_req *r;

	if (nlh->nlmsg_type != RTM_NEWROUTE || (nlh->nlmsg_flags & want) != want)
		return 0;
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*rtm))
		return 0;
	rtm = mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_family != AF_INET6)
		return 0;
	nl_attr_table(nlh, sizeof(*rtm), tb, RTA_MAX);
	if (!is_len(tb[RTA_PREFSRC], sizeof(struct in6_addr)))
		return 0;
	if ((size_t)c->n < c->max) {
		r = &c->reqs[c->n];
		memset(r, 0, sizeof(*r));
		r->off = off;
		r->len = nlh->nlmsg_len;
		r->seq = nlh->nlmsg_seq;
		r->table = is_len(tb[RTA_TABLE], 4) ? mnl_attr_get_u32(tb[RTA_TABLE])
						    : rtm->rtm_table;
		r->oif = is_len(tb[RTA_OIF], 4) ? mnl_attr_get_u32(tb[RTA_OIF]) : 0;
		memcpy(&r->prefsrc, mnl_attr_get_payload(tb[RTA_PREFSRC]), sizeof(r->prefsrc));
		if (is_len(tb[RTA_DST], sizeof(r->dst)))
			memcpy(&r->dst, mnl_attr_get_payload(tb[RTA_DST]), sizeof(r->dst));
		r->dst_len = rtm->rtm_dst_len;
	}
	c->n++;
	return 0;
}

int retry_scan(const void *buf, size_t len, struct retry_req *reqs, size_t max)
{
	struct route_ctx c = { reqs, max, 0 };

	if (nlwalk(buf, len, route_one, &c) < 0)
		return -1;
	return c.n;
}

int reply_head_parse(const void *buf, size_t have, size_t total,
		     struct reply_head *rh)
{
	const struct nlmsghdr *nlh = buf;
	const struct nlmsgerr *err;

	if (have < REPLY_HEAD_LEN || have > total)
		return 0;
	if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_len < REPLY_HEAD_LEN ||
	    nlh->nlmsg_len > total)
		return 0;
	/* One message per datagram: the kernel acks each request in an skb
	 * of its own, so anything else is not an ack we could replace. */
	if (NLMSG_ALIGN(nlh->nlmsg_len) != NLMSG_ALIGN(total))
		return 0;
	err = mnl_nlmsg_get_payload(nlh);
	if (err->msg.nlmsg_seq != nlh->nlmsg_seq)
		return 0;
	rh->seq = nlh->nlmsg_seq;
	rh->error = err->error;
	rh->orig_type = err->msg.nlmsg_type;
	rh->orig_len = err->msg.nlmsg_len;
	rh->orig_flags = err->msg.nlmsg_flags;
	rh->orig_pid = err->msg.nlmsg_pid;
	return 1;
}

int reply_answers(const struct reply_head *rh, const void *req)
{
	struct nlmsghdr h;

	memcpy(&h, req, sizeof(h));	/* a caller's copy need not be aligned */
	return h.nlmsg_len == rh->orig_len && h.nlmsg_type == rh->orig_type &&
	       h.nlmsg_flags == rh->orig_flags && h.nlmsg_seq == rh->seq &&
	       h.nlmsg_pid == rh->orig_pid;
}

struct addr_ctx {
	const struct in6_addr *want;
	struct addr_event *ev;
	size_t max;
	int n;
	int *end;
};

static int addr_one(const struct nlmsghdr *nlh, size_t off, void *data)
{
	struct addr_ctx *c = data;
	const struct ifaddrmsg *ifa;
	const struct nlattr *tb[IFA_MAX + 1];
	const struct nlattr *addr;

	(void)off;
	if (nlh->nlmsg_type == NLMSG_DONE) {
		*c->end = 1;
		return 0;
	}
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		*c->end = -1;
		return 0;
	}
	if (nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_DELADDR)
		return 0;
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*ifa))
		return 0;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET6)
		return 0;
	nl_attr_table(nlh, sizeof(*ifa), tb, IFA_MAX);
	/* IPv6 reports the address in IFA_ADDRESS; IFA_LOCAL only appears
	 * with a peer address, and then it is the local one. */
	addr = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!is_len(addr, sizeof(struct in6_addr)) ||
	    memcmp(mnl_attr_get_payload(addr), c->want, sizeof(*c->want)) != 0)
		return 0;
	if ((size_t)c->n < c->max) {
		struct addr_event *e = &c->ev[c->n];

		e->ifindex = ifa->ifa_index;
		e->flags = is_len(tb[IFA_FLAGS], 4) ? mnl_attr_get_u32(tb[IFA_FLAGS])
						    : ifa->ifa_flags;
		e->deleted = nlh->nlmsg_type == RTM_DELADDR;
	}
	c->n++;
	return 0;
}

int addr_events(const void *buf, size_t len, const struct in6_addr *want,
		struct addr_event *ev, size_t max, int *end)
{
	struct addr_ctx c = { want, ev, max, 0, end };

	if (nlwalk(buf, len, addr_one, &c) < 0)
		*end = -1;
	return c.n;
}

int addr_flags_usable(uint32_t flags)
{
	/* ipv6_chk_addr() bans IFA_F_TENTATIVE, except on an optimistic
	 * address; a dadfailed one stays tentative for good. */
	if (flags & IFA_F_DADFAILED)
		return 0;
	return !(flags & IFA_F_TENTATIVE) || (flags & IFA_F_OPTIMISTIC);
}

void dad_track_feed(struct dad_track *t, const struct addr_event *ev)
{
	int ours = t->ifindex == 0 || t->ifindex == ev->ifindex;

	if (t->state == DAD_FAILED || t->state == DAD_GONE)
		return;		/* final */
	if (ev->deleted) {
		if (t->state == DAD_TENTATIVE && ours)
			t->state = DAD_GONE;
		return;
	}
	if (addr_flags_usable(ev->flags)) {
		t->state = DAD_USABLE;
	} else if (t->state == DAD_USABLE) {
		return;		/* another instance is usable: so is the route */
	} else if (ev->flags & IFA_F_DADFAILED) {
		if (ours || t->state == DAD_ABSENT)
			t->state = DAD_FAILED;
	} else if (t->state == DAD_ABSENT) {
		t->state = DAD_TENTATIVE;
		t->ifindex = ev->ifindex;
	}
}
