/* core.c - the pure core over netlink bytes: the walk, the NODAD rewrite,
 * source routes and address events (core.h). */
#include <string.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "core.h"

int nlwalk(const void *buf, size_t len, nlwalk_fn fn, void *data)
{
	size_t off = 0;

	if (!buf || len < MNL_NLMSG_HDRLEN)
		return -1;
	/* Not mnl_nlmsg_ok(): libmnl (1.0.4) compares (int)nlmsg_len with
	 * the length left, so an nlmsg_len >= 2^31 passes its check and the
	 * walk leaves the buffer.  Lengths are compared unsigned here. */
	while (len - off >= MNL_NLMSG_HDRLEN) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)((const char *)buf + off);

		if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN || nlh->nlmsg_len > len - off ||
		    fn(nlh, off, data) != 0)
			return -1;
		/* The last message may come without its alignment padding. */
		if (MNL_ALIGN(nlh->nlmsg_len) >= len - off)
			return 0;
		off += MNL_ALIGN(nlh->nlmsg_len);
	}
	return -1;	/* trailing bytes too short for a header */
}

/* The payload of @nlh when it is of @type (a request if @request), with a
 * complete family header of @hdrlen bytes whose first byte is AF_INET6;
 * then @tb[0..@max] holds its attributes (NULL where absent).  Else NULL. */
static const void *v6_payload(const struct nlmsghdr *nlh, uint16_t type, int request,
			      size_t hdrlen, const struct nlattr **tb, unsigned max)
{
	const char *end = (const char *)nlh + nlh->nlmsg_len;
	const unsigned char *p = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;

	if (nlh->nlmsg_type != type || (request && !(nlh->nlmsg_flags & NLM_F_REQUEST)) ||
	    nlh->nlmsg_len < MNL_NLMSG_HDRLEN + hdrlen || p[0] != AF_INET6)
		return NULL;
	for (unsigned i = 0; i <= max; i++)
		tb[i] = NULL;
	/* As the kernel's nla_parse(): the last of duplicates wins, and the
	 * walk stops at the first attribute that does not fit.  Bounded by
	 * nlmsg_len itself, as nlmsg_attrlen() is: libmnl's
	 * mnl_attr_for_each() runs to MNL_ALIGN(nlmsg_len), up to 3 bytes past
	 * an unpadded last message. */
	for (attr = mnl_nlmsg_get_payload_offset(nlh, hdrlen);
	     mnl_attr_ok(attr, (int)(end - (const char *)attr)); attr = mnl_attr_next(attr))
		if (mnl_attr_get_type(attr) <= max)
			tb[mnl_attr_get_type(attr)] = attr;
	return p;
}

static int is_len(const struct nlattr *attr, size_t len)
{
	return attr && mnl_attr_get_payload_len(attr) == len;
}

/* IPv6 reports the address in IFA_ADDRESS; IFA_LOCAL only comes with a
 * peer address, and is then the local one. */
static const struct nlattr *ifa_addr(const struct nlattr *const *tb)
{
	const struct nlattr *a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];

	return is_len(a, sizeof(struct in6_addr)) ? a : NULL;
}

/* ---- NODAD ---- */

struct nodad_ctx {
	struct nodad_site *sites;	/* scan: the first @max */
	size_t max;
	unsigned char *buf;		/* rewrite: the bytes to change */
	int n;
};

static uint32_t nodad_flags(uint32_t flags)
{
	return (flags | IFA_F_NODAD) & ~(uint32_t)IFA_F_OPTIMISTIC;
}

static int nodad_one(const struct nlmsghdr *nlh, size_t off, void *data)
{
	struct nodad_ctx *c = data;
	const struct nlattr *tb[IFA_MAX + 1];
	const struct ifaddrmsg *ifa =
		v6_payload(nlh, RTM_NEWADDR, 1, sizeof(*ifa), tb, IFA_MAX);
	uint32_t flags;

	/* A short IFA_FLAGS is refused by the kernel; a long one would be
	 * read by nla_get_u32() in a way we would rather not guess at. */
	if (!ifa || (tb[IFA_FLAGS] && !is_len(tb[IFA_FLAGS], sizeof(uint32_t))))
		return 0;
	/* IFA_FLAGS replaces ifa_flags; it is not combined with it. */
	flags = tb[IFA_FLAGS] ? mnl_attr_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
	if (c->buf && flags == nodad_flags(flags))
		return 0;
	if (c->buf) {
		/* The walk read through const pointers: write through the
		 * caller's own pointer, at the same offsets. */
		c->buf[off + MNL_NLMSG_HDRLEN + offsetof(struct ifaddrmsg, ifa_flags)] =
			(unsigned char)nodad_flags(ifa->ifa_flags);
		if (tb[IFA_FLAGS]) {
			flags = nodad_flags(flags);
			memcpy(c->buf + off + (size_t)((const char *)mnl_attr_get_payload(tb[IFA_FLAGS]) -
						       (const char *)nlh), &flags, sizeof(flags));
		}
	} else if ((size_t)c->n < c->max) {
		struct nodad_site *s = &c->sites[c->n];
		const struct nlattr *a = ifa_addr(tb);

		memset(s, 0, sizeof(*s));
		if (a)
			memcpy(&s->addr, mnl_attr_get_payload(a), sizeof(s->addr));
		s->ifindex = ifa->ifa_index;
		s->prefixlen = ifa->ifa_prefixlen;
		s->needs_rewrite = flags != nodad_flags(flags);
	}
	c->n++;
	return 0;
}

int nodad_scan(const void *buf, size_t len, struct nodad_site *sites, size_t max)
{
	struct nodad_ctx c = { sites, max, NULL, 0 };

	return nlwalk(buf, len, nodad_one, &c) < 0 ? -1 : c.n;
}

unsigned nodad_rewrite(void *buf, size_t len)
{
	struct nodad_ctx c = { NULL, 0, buf, 0 };

	/* The whole datagram is checked before the first write. */
	if (nodad_scan(buf, len, NULL, 0) < 0)
		return 0;
	(void)nlwalk(buf, len, nodad_one, &c);
	return (unsigned)c.n;
}

/* ---- source routes ---- */

struct route_ctx {
	struct in6_addr *srcs;
	size_t max;
	int n;
};

static int route_one(const struct nlmsghdr *nlh, size_t off, void *data)
{
	struct route_ctx *c = data;
	const struct nlattr *tb[RTA_MAX + 1];

	(void)off;
	/* The kernel reads RTA_PREFSRC as 16 bytes (nla_memcpy); any other
	 * length is refused or judged without us. */
	if (!v6_payload(nlh, RTM_NEWROUTE, 1, sizeof(struct rtmsg), tb, RTA_MAX) ||
	    !is_len(tb[RTA_PREFSRC], sizeof(struct in6_addr)))
		return 0;
	if ((size_t)c->n < c->max)
		memcpy(&c->srcs[c->n], mnl_attr_get_payload(tb[RTA_PREFSRC]), sizeof(*c->srcs));
	c->n++;
	return 0;
}

int route_scan(const void *buf, size_t len, struct in6_addr *srcs, size_t max)
{
	struct route_ctx c = { srcs, max, 0 };

	return nlwalk(buf, len, route_one, &c) < 0 ? -1 : c.n;
}

/* ---- address events and the DAD state ---- */

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
	const struct nlattr *tb[IFA_MAX + 1], *a;
	const struct ifaddrmsg *ifa;

	(void)off;
	if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR)
		*c->end = nlh->nlmsg_type == NLMSG_DONE ? 1 : -1;
	ifa = v6_payload(nlh, nlh->nlmsg_type == RTM_DELADDR ? RTM_DELADDR : RTM_NEWADDR, 0,
			 sizeof(*ifa), tb, IFA_MAX);
	if (!ifa || !(a = ifa_addr(tb)) || 
	    memcmp(mnl_attr_get_payload(a), c->want, sizeof(*c->want)) != 0)
		return 0;
	if ((size_t)c->n < c->max) {
		struct addr_event *e = &c->ev[c->n];

		e->ifindex = ifa->ifa_index;
		e->flags = is_len(tb[IFA_FLAGS], 4) ? mnl_attr_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
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
	return !(flags & IFA_F_DADFAILED) &&
	       (!(flags & IFA_F_TENTATIVE) || (flags & IFA_F_OPTIMISTIC));
}

void dad_track_feed(struct dad_track *t, const struct addr_event *ev)
{
	int ours = t->ifindex == 0 || t->ifindex == ev->ifindex;

	if (t->state == DAD_FAILED || t->state == DAD_GONE)
		return;		/* final */
	if (ev->deleted) {
		if (t->state == DAD_TENTATIVE && ours)
			t->state = DAD_GONE;
	} else if (addr_flags_usable(ev->flags)) {
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
	if (nlh->nlmsg_seq != c->seq && ((nlh->nlmsg_flags & NLM_F_MULTI) ||
					 nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR))
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

	return nlwalk(buf, len, feed_one, &c) < 0 ? -1 : c.end;
}
