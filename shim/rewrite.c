/* rewrite.c - IFA_F_NODAD on IPv6 RTM_NEWADDR requests (pure). */
#include <string.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "nlwalk.h"
#include "rewrite.h"

/* Returns 1 for an IPv6 RTM_NEWADDR request with a complete ifaddrmsg and
 * a usable IFA_FLAGS (absent, or exactly a u32), filling @tb. */
static int newaddr6(const struct nlmsghdr *nlh, const struct nlattr **tb)
{
	const struct ifaddrmsg *ifa;

	if (nlh->nlmsg_type != RTM_NEWADDR || !(nlh->nlmsg_flags & NLM_F_REQUEST))
		return 0;
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*ifa))
		return 0;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET6)
		return 0;
	nl_attr_table(nlh, sizeof(*ifa), tb, IFA_MAX);
	/* A short IFA_FLAGS is refused by the kernel; a long one would be
	 * read by nla_get_u32() in a way we would rather not guess at. */
	if (tb[IFA_FLAGS] && mnl_attr_get_payload_len(tb[IFA_FLAGS]) != sizeof(uint32_t))
		return 0;
	return 1;
}

static int wants_change(uint32_t flags)
{
	return !(flags & IFA_F_NODAD) || (flags & IFA_F_OPTIMISTIC);
}

static uint32_t effective_flags(const struct ifaddrmsg *ifa,
				const struct nlattr *const *tb)
{
	/* IFA_FLAGS replaces ifa_flags; it is not combined with it. */
	return tb[IFA_FLAGS] ? mnl_attr_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
}

struct scan_ctx {
	struct nodad_site *sites;
	size_t max;
	int n;
};

static int scan_one(const struct nlmsghdr *nlh, size_t off, void *data)
{
	struct scan_ctx *c = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1];

	(void)off;
	if (!newaddr6(nlh, tb))
		return 0;
	if ((size_t)c->n < c->max) {
		struct nodad_site *s = &c->sites[c->n];
		const struct nlattr *addr = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];

		memset(s, 0, sizeof(*s));
		if (addr && mnl_attr_get_payload_len(addr) == sizeof(s->addr))
			memcpy(&s->addr, mnl_attr_get_payload(addr), sizeof(s->addr));
		s->ifindex = ifa->ifa_index;
		s->prefixlen = ifa->ifa_prefixlen;
		s->needs_rewrite = (uint8_t)wants_change(effective_flags(ifa, tb));
	}
	c->n++;
	return 0;
}

int nodad_scan(const void *buf, size_t len, struct nodad_site *sites, size_t max)
{
	struct scan_ctx c = { sites, max, 0 };

	if (nlwalk(buf, len, scan_one, &c) < 0)
		return -1;
	return c.n;
}

static uint32_t nodad_flags(uint32_t flags)
{
	/* The kernel refuses NODAD together with OPTIMISTIC. */
	return (flags | IFA_F_NODAD) & ~(uint32_t)IFA_F_OPTIMISTIC;
}

struct rewrite_ctx {
	unsigned char *buf;
	unsigned changed;
};

static int rewrite_one(const struct nlmsghdr *nlh, size_t off, void *data)
{
	struct rewrite_ctx *c = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1];

	if (!newaddr6(nlh, tb) || !wants_change(effective_flags(ifa, tb)))
		return 0;
	/* The walk saw the buffer through const pointers: write through the
	 * caller's own pointer at the same offsets. */
	c->buf[off + MNL_NLMSG_HDRLEN + offsetof(struct ifaddrmsg, ifa_flags)] =
		(unsigned char)nodad_flags(ifa->ifa_flags);
	if (tb[IFA_FLAGS]) {
		size_t at = (size_t)((const char *)mnl_attr_get_payload(tb[IFA_FLAGS]) -
				     (const char *)nlh) + off;
		uint32_t v = nodad_flags(mnl_attr_get_u32(tb[IFA_FLAGS]));

		memcpy(c->buf + at, &v, sizeof(v));
	}
	c->changed++;
	return 0;
}

unsigned nodad_rewrite(void *buf, size_t len)
{
	struct rewrite_ctx c = { buf, 0 };

	/* Validate the whole datagram before the first write, so that a
	 * malformed one is left exactly as it was. */
	if (nodad_scan(buf, len, NULL, 0) < 0)
		return 0;
	nlwalk(buf, len, rewrite_one, &c);
	return c.changed;
}
