/* inspect.c - read-only views of netlink bytes (pure). */
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
	struct in6_addr *srcs;
	size_t max;
	int n;
};

static int route_one(const struct nlmsghdr *nlh, size_t off, void *data)
{
	struct route_ctx *c = data;
	const struct rtmsg *rtm;
	const struct nlattr *tb[RTA_MAX + 1];

	(void)off;
	if (nlh->nlmsg_type != RTM_NEWROUTE || !(nlh->nlmsg_flags & NLM_F_REQUEST))
		return 0;
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*rtm))
		return 0;
	rtm = mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_family != AF_INET6)
		return 0;
	nl_attr_table(nlh, sizeof(*rtm), tb, RTA_MAX);
	/* The kernel reads RTA_PREFSRC as 16 bytes (nla_memcpy); any other
	 * length is refused or judged without us. */
	if (!is_len(tb[RTA_PREFSRC], sizeof(struct in6_addr)))
		return 0;
	if ((size_t)c->n < c->max)
		memcpy(&c->srcs[c->n], mnl_attr_get_payload(tb[RTA_PREFSRC]),
		       sizeof(struct in6_addr));
	c->n++;
	return 0;
}

int route_scan(const void *buf, size_t len, struct in6_addr *srcs, size_t max)
{
	struct route_ctx c = { srcs, max, 0 };

	if (nlwalk(buf, len, route_one, &c) < 0)
		return -1;
	return c.n;
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

struct feed_ctx {
	uint32_t seq;
	const struct in6_addr *want;
	struct dad_track *t;
	int end;
};

static int feed_one(const struct nlmsghdr *nlh, size_t off, void *data)
{
	struct feed_ctx *c = data;
	struct addr_event ev[4];
	int i, k, end = 0;

	(void)off;
	/* Dump parts carry NLM_F_MULTI and the dump's seq, notifications
	 * neither: a part, end or error of another dump is not this one's. */
	if (nlh->nlmsg_seq != c->seq &&
	    ((nlh->nlmsg_flags & NLM_F_MULTI) || nlh->nlmsg_type == NLMSG_DONE ||
	     nlh->nlmsg_type == NLMSG_ERROR))
		return 0;
	k = addr_events(nlh, nlh->nlmsg_len, c->want, ev, 4, &end);
	for (i = 0; i < k && i < 4; i++)
		dad_track_feed(c->t, &ev[i]);
	if (end && !c->end)
		c->end = end;
	return 0;
}

int dump_feed(const void *buf, size_t len, uint32_t seq,
	      const struct in6_addr *want, struct dad_track *t)
{
	struct feed_ctx c = { seq, want, t, 0 };

	if (nlwalk(buf, len, feed_one, &c) < 0)
		return -1;
	return c.end;
}
