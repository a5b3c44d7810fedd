/* core.c - the pure core (core.h): the NODAD rewrite, source routes and
 * address events over netlink bytes, and the settings' strict parser. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "core.h"

#define BAD SIZE_MAX	/* *off of a malformed datagram */

/* The message of @buf at *@off, and *@off moved past it; NULL at the end,
 * with *@off == @len when the datagram is well-formed: its messages fill
 * it exactly (each nlmsg_len at least a header and within what is left;
 * after the last, only its alignment padding or nothing), else BAD.
 * Not mnl_nlmsg_ok(): libmnl (1.0.4) compares (int)nlmsg_len with the
 * length left, so an nlmsg_len >= 2^31 passes and the walk leaves the
 * buffer.  Lengths are compared unsigned here. */
static const struct nlmsghdr *nl_next(const void *buf, size_t len, size_t *off)
{
	const struct nlmsghdr *nlh;

	if (*off == len && len)
		return NULL;
	nlh = buf && *off <= len && len - *off >= MNL_NLMSG_HDRLEN
		? (const struct nlmsghdr *)((const char *)buf + *off) : NULL;
	if (!nlh || nlh->nlmsg_len < MNL_NLMSG_HDRLEN || nlh->nlmsg_len > len - *off) {
		*off = BAD;
		return NULL;
	}
	*off = MNL_ALIGN(nlh->nlmsg_len) >= len - *off ? len : *off + MNL_ALIGN(nlh->nlmsg_len);
	return nlh;
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
	 * nlmsg_len, as nlmsg_attrlen() is: libmnl's mnl_attr_for_each() runs
	 * to MNL_ALIGN(nlmsg_len), 3 bytes past an unpadded last message. */
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

static uint32_t nodad_flags(uint32_t flags)
{
	return (flags | IFA_F_NODAD) & ~(uint32_t)IFA_F_OPTIMISTIC;
}

/* The IPv6 RTM_NEWADDR request @nlh, with its effective flags in *@flags
 * (IFA_FLAGS replaces ifa_flags, it is not combined with it), or NULL. */
static const struct ifaddrmsg *newaddr6(const struct nlmsghdr *nlh, const struct nlattr **tb,
					uint32_t *flags)
{
	const struct ifaddrmsg *ifa = v6_payload(nlh, RTM_NEWADDR, 1, sizeof(*ifa), tb, IFA_MAX);

	/* A short IFA_FLAGS is refused by the kernel; a long one would be
	 * read by nla_get_u32() in a way we would rather not guess at. */
	if (!ifa || (tb[IFA_FLAGS] && !is_len(tb[IFA_FLAGS], sizeof(uint32_t))))
		return NULL;
	*flags = tb[IFA_FLAGS] ? mnl_attr_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
	return ifa;
}

int nodad_scan(const void *buf, size_t len, struct nodad_site *sites, size_t max)
{
	const struct nlattr *tb[IFA_MAX + 1], *a;
	const struct nlmsghdr *nlh;
	const struct ifaddrmsg *ifa;
	size_t off = 0;
	uint32_t flags;
	int n = 0;

	while ((nlh = nl_next(buf, len, &off)))
		if ((ifa = newaddr6(nlh, tb, &flags)) && (size_t)n++ < max) {
			struct nodad_site *s = &sites[n - 1];

			memset(s, 0, sizeof(*s));
			if ((a = ifa_addr(tb)))
				memcpy(&s->addr, mnl_attr_get_payload(a), sizeof(s->addr));
			s->ifindex = ifa->ifa_index;
			s->prefixlen = ifa->ifa_prefixlen;
			s->needs_rewrite = flags != nodad_flags(flags);
		}
	return off == len ? n : -1;
}

unsigned nodad_rewrite(void *buf, size_t len)
{
	const struct nlattr *tb[IFA_MAX + 1];
	const struct nlmsghdr *nlh;
	const struct ifaddrmsg *ifa;
	unsigned char *b = buf;
	unsigned n = 0;
	size_t off = 0;
	uint32_t flags;

	/* The whole datagram is checked before the first write. */
	if (nodad_scan(buf, len, NULL, 0) < 0)
		return 0;
	while ((nlh = nl_next(buf, len, &off))) {
		if (!(ifa = newaddr6(nlh, tb, &flags)) || flags == nodad_flags(flags))
			continue;
		/* The walk read through const pointers: write through the
		 * caller's own, at the same offsets. */
		b[(const unsigned char *)&ifa->ifa_flags - b] = (unsigned char)nodad_flags(ifa->ifa_flags);
		flags = nodad_flags(flags);
		if (tb[IFA_FLAGS])
			memcpy(b + ((const unsigned char *)mnl_attr_get_payload(tb[IFA_FLAGS]) - b),
			       &flags, sizeof(flags));
		n++;
	}
	return n;
}

int route_scan(const void *buf, size_t len, struct in6_addr *srcs, size_t max)
{
	const struct nlattr *tb[RTA_MAX + 1];
	const struct nlmsghdr *nlh;
	size_t off = 0;
	int n = 0;

	/* The kernel reads RTA_PREFSRC as 16 bytes (nla_memcpy); any other
	 * length is refused or judged without us. */
	while ((nlh = nl_next(buf, len, &off)))
		if (v6_payload(nlh, RTM_NEWROUTE, 1, sizeof(struct rtmsg), tb, RTA_MAX) &&
		    is_len(tb[RTA_PREFSRC], sizeof(struct in6_addr)) && (size_t)n++ < max)
			memcpy(&srcs[n - 1], mnl_attr_get_payload(tb[RTA_PREFSRC]), sizeof(*srcs));
	return off == len ? n : -1;
}

/* 1 when @nlh is an RTM_NEWADDR or RTM_DELADDR about IPv6 address @want,
 * then described in @ev. */
static int addr_of(const struct nlmsghdr *nlh, const struct in6_addr *want, struct addr_event *ev)
{
	const struct nlattr *tb[IFA_MAX + 1], *a;
	const struct ifaddrmsg *ifa = v6_payload(nlh, nlh->nlmsg_type == RTM_DELADDR ? RTM_DELADDR
							: RTM_NEWADDR, 0, sizeof(*ifa), tb, IFA_MAX);

	if (!ifa || !(a = ifa_addr(tb)) || memcmp(mnl_attr_get_payload(a), want, sizeof(*want)) != 0)
		return 0;
	ev->ifindex = ifa->ifa_index;
	ev->flags = is_len(tb[IFA_FLAGS], 4) ? mnl_attr_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
	ev->deleted = nlh->nlmsg_type == RTM_DELADDR;
	return 1;
}

/* 1 on NLMSG_DONE, -1 on NLMSG_ERROR, else 0. */
static int end_of(const struct nlmsghdr *nlh)
{
	return nlh->nlmsg_type == NLMSG_DONE ? 1 : nlh->nlmsg_type == NLMSG_ERROR ? -1 : 0;
}

int addr_events(const void *buf, size_t len, const struct in6_addr *want,
		struct addr_event *ev, size_t max, int *end)
{
	const struct nlmsghdr *nlh;
	struct addr_event e;
	size_t off = 0;
	int n = 0;

	while ((nlh = nl_next(buf, len, &off))) {
		if (end_of(nlh))
			*end = end_of(nlh);
		if (addr_of(nlh, want, &e) && (size_t)n++ < max)
			ev[n - 1] = e;
	}
	if (off != len)
		*end = -1;
	return n;
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

int dump_feed(const void *buf, size_t len, uint32_t seq,
	      const struct in6_addr *want, struct dad_track *t)
{
	const struct nlmsghdr *nlh;
	struct addr_event ev;
	size_t off = 0;
	int end = 0;

	while ((nlh = nl_next(buf, len, &off))) {
		/* Dump parts carry NLM_F_MULTI and the dump's seq, notifications
		 * neither: a part, end or error of another dump is not this one's. */
		if (nlh->nlmsg_seq != seq && ((nlh->nlmsg_flags & NLM_F_MULTI) || end_of(nlh)))
			continue;
		if (!end)
			end = end_of(nlh);
		if (addr_of(nlh, want, &ev))
			dad_track_feed(t, &ev);
	}
	return off == len ? end : -1;
}

/* ---- settings ---- */

const char *const setting_names[SET_COUNT] = {
	"DADSHIM_NODAD", "DADSHIM_RETRY", "DADSHIM_WAIT_MS", "DADSHIM_LOG", "DADSHIM_LOG_TARGET",
};

/* Decimal digits only: no sign, no spaces, no hex, nothing above @max
 * (checked at each digit, so that no value wraps below it). */
static int parse_uint(const char *v, unsigned max, unsigned *out)
{
	unsigned long n = 0;

	for (; *v; v++)
		if (*v < '0' || *v > '9' || (n = n * 10 + (unsigned long)(*v - '0')) > max)
			return -1;
	*out = (unsigned)n;
	return 0;
}

/* "NAME="VALUE" is invalid (expected ...); using the default D", the value
 * cut at 40 characters, non-printables as '?'. */
static void complain(char *msg, const char *name, const char *v, const char *expect,
		     const char *dflt)
{
	char q[48];
	size_t i;

	for (i = 0; i < 40 && v[i]; i++)
		q[i] = (char)((v[i] >= 0x20 && v[i] < 0x7f) ? v[i] : '?');
	memcpy(q + i, v[i] ? "..." : "", v[i] ? 4 : 1);
	(void)snprintf(msg, SETTING_MSG_LEN, "%s=\"%s\" is invalid (expected %s); using the default %s",
		       name, q, expect, dflt);
}

int settings_parse(const char *const values[SET_COUNT], struct settings *s,
		   char msgs[SET_COUNT][SETTING_MSG_LEN])
{
	static const struct {
		unsigned max, dflt;
		const char *expect, *dflt_text;
	} num[SET_LOG_TARGET] = {
		[SET_NODAD] = { 1, 1, "1 or 0", "1" },
		[SET_RETRY] = { 1, 1, "1 or 0", "1" },
		/* ten minutes: a bound, not a wish */
		[SET_WAIT_MS] = { 600000, 5000, "a whole number of milliseconds from 0 to 600000",
				  "5000" },
		[SET_LOG] = { 3, LV_ACTIONS, "0, 1, 2 or 3", "2" },
	};
	const char *t = values[SET_LOG_TARGET];
	unsigned v[SET_LOG_TARGET];
	int i, bad = 0;

	for (i = 0; i < SET_COUNT; i++)
		msgs[i][0] = '\0';
	for (i = 0; i < SET_LOG_TARGET; i++) {
		v[i] = num[i].dflt;
		if (values[i] && *values[i] && parse_uint(values[i], num[i].max, &v[i]) < 0) {
			complain(msgs[i], setting_names[i], values[i], num[i].expect, num[i].dflt_text);
			bad++;
		}
	}
	s->nodad = (int)v[SET_NODAD];
	s->retry = (int)v[SET_RETRY];
	s->wait_ms = v[SET_WAIT_MS];
	s->log_level = (int)v[SET_LOG];
	s->log_stderr = t && strcmp(t, "stderr") == 0;
	if (t && *t && !s->log_stderr && strcmp(t, "syslog") != 0) {
		complain(msgs[SET_LOG_TARGET], setting_names[SET_LOG_TARGET], t, "syslog or stderr",
			 "syslog");
		bad++;
	}
	return bad;
}
