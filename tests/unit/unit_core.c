/* unit_core.c - the pure core of dadshim on byte vectors: the reference's
 * two test vectors, malformed and truncated datagrams, several messages in
 * one buffer, IFA_FLAGS present and absent, OPTIMISTIC set,
 * address notifications, the DAD state and the settings.  Prints TAP: one
 * "ok N - ..." or "not ok N - ..." per check, then the plan "1..N". */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "core.h"

static int checks, failed;

/* A precondition on the test's own data (a vector's length, a reply the
 * test built): not a check of the shim, so never counted as a pass; if it
 * does not hold the test itself is broken and stops. */
#define REQUIRE(cond, what)                                              \
	do {                                                             \
		if (!(cond)) {                                           \
			printf("not ok %d - unit_core: broken test data (%s)\n" \
			       "#   at %s:%d\n1..%d\n", checks + 1, what,     \
			       __FILE__, __LINE__, checks + 1);          \
			exit(1);                                         \
		}                                                        \
	} while (0)

/* TAP_ONLY (tests/run-all.sh --only): the shell pattern of the checks to
 * report, matched as tests/lib/tap.sh's tap_selected() does: the whole
 * name, or a start of it that ends before a character other than a letter,
 * digit, '-' or '_'.  Every check still runs: they take microseconds, and a later
 * one may use what an earlier one's condition did. */
static const char *only;
static int hidden;
/* The running test function's name without "test_": the first word of
 * each of its checks' names ("settings: ..."), so that a group can be
 * selected as a whole. */
static const char *group = "";
#define RUN(fn) (group = #fn + sizeof "test_" - 1, fn())

static int selected(const char *name)
{
	char pat[512];

	if (!only || !*only || fnmatch(only, name, 0) == 0)
		return 1;
	if ((size_t)snprintf(pat, sizeof pat, "%s[!0-9A-Za-z_-]*", only) >= sizeof pat)
		return 0;
	return fnmatch(pat, name, 0) == 0;
}

#define CHECK(cond, ...)                                                 \
	do {                                                             \
		int ok_ = !!(cond);                                      \
		char name_[512];                                         \
		int n_ = snprintf(name_, sizeof name_, "%s: ", group);   \
		snprintf(name_ + n_, sizeof name_ - n_, __VA_ARGS__);    \
		if (!selected(name_)) {                                  \
			hidden++;                                        \
			if (!ok_)                                        \
				printf("# not selected, failed: %s\n", name_); \
			break;                                           \
		}                                                        \
		failed += !ok_;                                          \
		printf("%s %d - %s\n", ok_ ? "ok" : "not ok", ++checks, name_); \
		if (!ok_)                                                \
			printf("#   at %s:%d\n", __FILE__, __LINE__);     \
	} while (0)

/* The reference's vectors, exactly as 5.5.1 builds them. */
static const char route_hex[] =
	"4c00000018000506d0000000410c00000a000000dc0400010000000014000100"
	"000000000000000000000000000000001400070020010db8d800005200000000"
	"000000010800040003000000";
static const char addr_hex[] =
	"4000000014000506cf000000410c00000a800000030000001400020020010db8"
	"d800005200000000000000011400060000000000ffffffff0000000000000000";

static size_t unhex(const char *hex, unsigned char *out)
{
	size_t n = strlen(hex) / 2, i;

	for (i = 0; i < n; i++) {
		unsigned v;

		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (unsigned char)v;
	}
	return n;
}

static struct in6_addr in6(const char *s)
{
	struct in6_addr a;

	inet_pton(AF_INET6, s, &a);
	return a;
}

/* Appends an attribute to the message at @buf (nlmsg_len grows). */
static void put_attr(unsigned char *buf, uint16_t type, const void *data, uint16_t len)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct nlattr *a = (struct nlattr *)(buf + NLMSG_ALIGN(nlh->nlmsg_len));

	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy((unsigned char *)a + NLA_HDRLEN, data, len);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + NLA_ALIGN(a->nla_len);
}

/* An RTM_NEWADDR request as iproute2 builds it. */
static size_t make_newaddr(unsigned char *buf, int family, uint8_t ifa_flags,
			   const uint32_t *attr_flags, uint16_t attr_flags_len)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct ifaddrmsg *ifa = (struct ifaddrmsg *)(buf + NLMSG_HDRLEN);
	struct in6_addr a = in6("fdfd::fd");
	uint32_t v4 = htonl(0xc0000201);

	memset(buf, 0, 256);
	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(*ifa));
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	nlh->nlmsg_seq = 7;
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = family == AF_INET6 ? 128 : 32;
	ifa->ifa_flags = ifa_flags;
	ifa->ifa_index = 2;
	if (family == AF_INET6) {
		put_attr(buf, IFA_LOCAL, &a, sizeof(a));
		put_attr(buf, IFA_ADDRESS, &a, sizeof(a));
	} else {
		put_attr(buf, IFA_LOCAL, &v4, sizeof(v4));
	}
	if (attr_flags)
		put_attr(buf, IFA_FLAGS, attr_flags, attr_flags_len);
	return nlh->nlmsg_len;
}

static uint32_t attr_flags_of(const unsigned char *buf)
{
	const struct nlmsghdr *nlh = (const void *)buf;
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct ifaddrmsg));

	while (off + NLA_HDRLEN <= nlh->nlmsg_len) {
		const struct nlattr *a = (const void *)(buf + off);
		uint32_t v;

		if (a->nla_type == IFA_FLAGS) {
			memcpy(&v, buf + off + NLA_HDRLEN, 4);
			return v;
		}
		off += NLA_ALIGN(a->nla_len);
	}
	return 0xdeadbeef;
}

static void test_addr_vector(void)
{
	unsigned char in[64], out[64], want[64];
	struct nodad_site s[4];
	struct in6_addr a = in6("2001:db8:d800:52::1");
	size_t n = unhex(addr_hex, in);

	REQUIRE(n == 64, "the RTM_NEWADDR vector is 64 bytes");
	CHECK(nodad_scan(in, n, s, 4) == 1, "one RTM_NEWADDR found");
	CHECK(s[0].needs_rewrite == 1 && s[0].ifindex == 3 && s[0].prefixlen == 128 &&
	      memcmp(&s[0].addr, &a, 16) == 0, "site describes the vip");
	memcpy(out, in, n);
	CHECK(nodad_rewrite(out, n) == 1, "one message rewritten");
	/* The reference: byte 18 (ifa_flags) = IFA_F_NODAD, nothing else. */
	memcpy(want, in, n);
	want[18] = 0x02;
	CHECK(memcmp(out, want, n) == 0, "only byte 18 changed, to 0x02");
	CHECK(nodad_scan(out, n, s, 4) == 1 && s[0].needs_rewrite == 0,
	      "the rewritten message needs nothing more");
	CHECK(nodad_rewrite(out, n) == 0 && memcmp(out, want, n) == 0,
	      "rewriting twice changes nothing");
}

static void test_route_vector(void)
{
	unsigned char in[76], copy[76];
	struct in6_addr r[2];
	struct nodad_site s[2];
	struct in6_addr src = in6("2001:db8:d800:52::1");
	size_t n = unhex(route_hex, in);

	REQUIRE(n == 76, "the RTM_NEWROUTE vector is 76 bytes");
	CHECK(route_scan(in, n, r, 2) == 1, "one source route");
	CHECK(memcmp(&r[0], &src, 16) == 0, "its RTA_PREFSRC");
	memcpy(copy, in, n);
	CHECK(nodad_scan(in, n, s, 2) == 0 && nodad_rewrite(copy, n) == 0 &&
	      memcmp(copy, in, n) == 0, "a route is never rewritten");
}

static void test_route_variants(void)
{
	unsigned char in[128];
	struct in6_addr r[2];
	size_t n = unhex(route_hex, in);
	struct nlmsghdr *nlh = (struct nlmsghdr *)in;

	/* The kernel refuses a tentative source with or without NLM_F_ACK. */
	nlh->nlmsg_flags &= (uint16_t)~NLM_F_ACK;
	CHECK(route_scan(in, n, r, 2) == 1, "no NLM_F_ACK: still a source route");
	unhex(route_hex, in);
	nlh->nlmsg_flags &= (uint16_t)~NLM_F_REQUEST;
	CHECK(route_scan(in, n, r, 2) == 0, "not a request: none");
	unhex(route_hex, in);
	in[16] = AF_INET;
	CHECK(route_scan(in, n, r, 2) == 0, "IPv4: none");
	unhex(route_hex, in);
	in[4] = RTM_DELROUTE;
	CHECK(route_scan(in, n, r, 2) == 0, "RTM_DELROUTE: none");
	/* Without RTA_PREFSRC: the vector up to RTA_DST, then RTA_OIF. */
	unhex(route_hex, in);
	memmove(in + 48, in + 68, 8);
	nlh->nlmsg_len = 56;
	CHECK(route_scan(in, 56, r, 2) == 0, "no RTA_PREFSRC: none");
	/* RTA_PREFSRC of 4 bytes in an IPv6 route: the kernel refuses it
	 * itself; nothing to wait for. */
	unhex(route_hex, in);
	in[52] = 8;
	memmove(in + 56, in + 68, 8);
	nlh->nlmsg_len = 64;
	CHECK(route_scan(in, 64, r, 2) == 0, "a 4-byte RTA_PREFSRC: none");
}

static void test_flags(void)
{
	unsigned char buf[256], orig[256];
	struct nodad_site s[2];
	uint32_t f;
	size_t n;

	n = make_newaddr(buf, AF_INET6, IFA_F_OPTIMISTIC, NULL, 0);
	CHECK(nodad_scan(buf, n, s, 2) == 1 && s[0].needs_rewrite, "OPTIMISTIC needs it");
	CHECK(nodad_rewrite(buf, n) == 1 && buf[18] == IFA_F_NODAD,
	      "OPTIMISTIC cleared, NODAD set: %#x", buf[18]);

	n = make_newaddr(buf, AF_INET6, IFA_F_NODAD, NULL, 0);
	memcpy(orig, buf, n);
	CHECK(nodad_scan(buf, n, s, 2) == 1 && !s[0].needs_rewrite, "NODAD already set");
	CHECK(nodad_rewrite(buf, n) == 0 && memcmp(buf, orig, n) == 0, "left alone");

	/* iproute2's `noprefixroute`: flags > 0xff go in IFA_FLAGS only. */
	f = IFA_F_NOPREFIXROUTE;
	n = make_newaddr(buf, AF_INET6, 0, &f, 4);
	memcpy(orig, buf, n);
	CHECK(nodad_scan(buf, n, s, 2) == 1 && s[0].needs_rewrite, "IFA_FLAGS without NODAD");
	CHECK(nodad_rewrite(buf, n) == 1, "rewritten");
	CHECK(buf[18] == IFA_F_NODAD && attr_flags_of(buf) == (IFA_F_NOPREFIXROUTE | IFA_F_NODAD),
	      "both ifa_flags and IFA_FLAGS carry NODAD: %#x %#x", buf[18], attr_flags_of(buf));
	buf[18] = orig[18];
	{
		uint32_t v = IFA_F_NOPREFIXROUTE;
		size_t at = n - 4;

		memcpy(buf + at, &v, 4);
	}
	CHECK(memcmp(buf, orig, n) == 0, "no other byte changed");

	/* `nodad noprefixroute`: IFA_FLAGS replaces ifa_flags, so an
	 * ifa_flags of 0 beside it is not a reason to change anything. */
	f = IFA_F_NOPREFIXROUTE | IFA_F_NODAD;
	n = make_newaddr(buf, AF_INET6, 0, &f, 4);
	memcpy(orig, buf, n);
	CHECK(nodad_scan(buf, n, s, 2) == 1 && !s[0].needs_rewrite, "IFA_FLAGS has NODAD");
	CHECK(nodad_rewrite(buf, n) == 0 && memcmp(buf, orig, n) == 0, "unchanged");

	f = IFA_F_NODAD | IFA_F_OPTIMISTIC;
	n = make_newaddr(buf, AF_INET6, IFA_F_NODAD, &f, 4);
	CHECK(nodad_rewrite(buf, n) == 1 && attr_flags_of(buf) == IFA_F_NODAD,
	      "OPTIMISTIC cleared in IFA_FLAGS");

	f = 0;
	n = make_newaddr(buf, AF_INET6, 0, &f, 2);
	memcpy(orig, buf, n);
	CHECK(nodad_scan(buf, n, s, 2) == 0 && nodad_rewrite(buf, n) == 0 &&
	      memcmp(buf, orig, n) == 0, "IFA_FLAGS of the wrong size: left to the kernel");

	n = make_newaddr(buf, AF_INET, 0, NULL, 0);
	memcpy(orig, buf, n);
	CHECK(nodad_scan(buf, n, s, 2) == 0 && nodad_rewrite(buf, n) == 0 &&
	      memcmp(buf, orig, n) == 0, "IPv4 untouched");

	n = make_newaddr(buf, AF_INET6, 0, NULL, 0);
	((struct nlmsghdr *)buf)->nlmsg_flags = 0;
	memcpy(orig, buf, n);
	CHECK(nodad_rewrite(buf, n) == 0 && memcmp(buf, orig, n) == 0,
	      "not a request: untouched");
}

static void test_malformed(void)
{
	unsigned char in[64], buf[200], orig[200];
	struct nodad_site s[2];
	struct in6_addr r[2];
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	size_t n = unhex(addr_hex, in), cut;
	int bad = 0;

	/* Every truncation of the vector passes through byte-identical. */
	for (cut = 0; cut < n; cut++) {
		memcpy(buf, in, n);
		if (nodad_rewrite(buf, cut) != 0 || memcmp(buf, in, n) != 0)
			bad++;
		if (route_scan(buf, cut, r, 2) > 0)
			bad++;
	}
	CHECK(bad == 0, "%d truncations were touched", bad);

	memcpy(buf, in, n);
	nlh->nlmsg_len = 8;
	CHECK(nodad_scan(buf, n, s, 2) == -1 && nodad_rewrite(buf, n) == 0 &&
	      buf[18] == 0, "nlmsg_len below a header: malformed, untouched");
	memcpy(buf, in, n);
	nlh->nlmsg_len = 65;
	CHECK(nodad_scan(buf, n, s, 2) == -1 && nodad_rewrite(buf, n) == 0 &&
	      buf[18] == 0, "nlmsg_len beyond the buffer: malformed, untouched");
	memcpy(buf, in, n);
	memset(buf + 64, 0xee, 20);
	CHECK(nodad_scan(buf, 84, s, 2) == -1 && nodad_rewrite(buf, 84) == 0 &&
	      buf[18] == 0, "trailing garbage: malformed, untouched");

	/* An RTM_NEWADDR cut inside its ifaddrmsg, but well framed. */
	memcpy(buf, in, n);
	nlh->nlmsg_len = NLMSG_HDRLEN + 4;
	memcpy(orig, buf, 20);
	CHECK(nodad_scan(buf, 20, s, 2) == 0 && nodad_rewrite(buf, 20) == 0 &&
	      memcmp(buf, orig, 20) == 0, "cut inside ifaddrmsg: untouched");

	/* An attribute whose length overruns the message: like the kernel,
	 * the attributes before it count, the rest is ignored. */
	memcpy(buf, in, n);
	buf[24] = 0xff;		/* IFA_LOCAL's nla_len */
	memcpy(orig, buf, n);
	CHECK(nodad_scan(buf, n, s, 2) == 1 && nodad_rewrite(buf, n) == 1 &&
	      buf[18] == IFA_F_NODAD && memcmp(buf + 19, orig + 19, n - 19) == 0,
	      "impossible attribute length: only ifa_flags set");

	CHECK(nodad_scan(NULL, 0, s, 2) == -1 && nodad_rewrite(NULL, 0) == 0,
	      "empty buffer");

	/* The last message unpadded (nlmsg_len 30): an IFA_FLAGS whose
	 * nla_len (8) reaches past nlmsg_len is not an attribute, as for the
	 * kernel; nothing past byte 30 may be read or written. */
	{
		unsigned char *m = malloc(30);
		struct nlmsghdr *h = (struct nlmsghdr *)m;
		struct ifaddrmsg *ifa = (struct ifaddrmsg *)(m + NLMSG_HDRLEN);
		struct nlattr *fa = (struct nlattr *)(m + 24);
		unsigned char keep[30];

		memset(m, 0, 30);
		h->nlmsg_len = 30;
		h->nlmsg_type = RTM_NEWADDR;
		h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		ifa->ifa_family = AF_INET6;
		ifa->ifa_prefixlen = 128;
		ifa->ifa_index = 3;
		fa->nla_len = 8;
		fa->nla_type = IFA_FLAGS;
		memcpy(keep, m, 30);
		CHECK(nodad_scan(m, 30, s, 2) == 1 && nodad_rewrite(m, 30) == 1 &&
		      m[18] == IFA_F_NODAD && memcmp(m + 19, keep + 19, 11) == 0,
		      "attribute past an unaligned nlmsg_len is ignored");
		free(m);
	}
	CHECK(nodad_scan(in, n, NULL, 0) == 1, "counting without describing");
}

static void test_several(void)
{
	unsigned char buf[512], one[256], route[76], orig[512];
	struct nodad_site s[4];
	struct in6_addr r[4], src = in6("2001:db8:d800:52::1");
	size_t a = make_newaddr(one, AF_INET6, 0, NULL, 0), at = 0, rl, n;

	rl = unhex(route_hex, route);
	memcpy(buf + at, one, a), at += NLMSG_ALIGN(a);
	memcpy(buf + at, route, rl), at += NLMSG_ALIGN(rl);
	memcpy(buf + at, one, a), at += NLMSG_ALIGN(a);
	n = at;
	memcpy(orig, buf, n);
	CHECK(nodad_scan(buf, n, s, 4) == 2 && s[0].needs_rewrite && s[1].needs_rewrite,
	      "two RTM_NEWADDR among three messages");
	CHECK(route_scan(buf, n, r, 4) == 1 && memcmp(&r[0], &src, 16) == 0,
	      "the route between them is found, with its source");
	CHECK(nodad_rewrite(buf, n) == 2, "both rewritten");
	CHECK(buf[18] == IFA_F_NODAD && buf[NLMSG_ALIGN(a) + NLMSG_ALIGN(rl) + 18] == IFA_F_NODAD,
	      "NODAD in both");
	buf[18] = 0;
	buf[NLMSG_ALIGN(a) + NLMSG_ALIGN(rl) + 18] = 0;
	CHECK(memcmp(buf, orig, n) == 0, "nothing else changed");
	CHECK(nodad_scan(buf, n, s, 1) == 2, "more messages than sites: still counted");
}

/* An address notification as the kernel sends it. */
static size_t make_notify(unsigned char *buf, uint16_t type, const char *addr,
			  uint32_t ifindex, uint32_t flags, int with_attr)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct ifaddrmsg *ifa = (struct ifaddrmsg *)(buf + NLMSG_HDRLEN);
	struct in6_addr a = in6(addr);

	memset(buf, 0, 128);
	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(*ifa));
	nlh->nlmsg_type = type;
	ifa->ifa_family = AF_INET6;
	ifa->ifa_prefixlen = 128;
	ifa->ifa_flags = (uint8_t)flags;
	ifa->ifa_index = ifindex;
	put_attr(buf, IFA_ADDRESS, &a, 16);
	if (with_attr)
		put_attr(buf, IFA_FLAGS, &flags, 4);
	return nlh->nlmsg_len;
}

static void test_events(void)
{
	unsigned char buf[512];
	struct addr_event ev[4];
	struct in6_addr want = in6("fdfd::fd");
	size_t n = 0;
	int end = 0;
	struct nlmsghdr *done;

	n += make_notify(buf + n, RTM_NEWADDR, "fdfd::fd", 3, IFA_F_TENTATIVE, 1);
	n += make_notify(buf + n, RTM_NEWADDR, "fdfd::fe", 3, 0, 1);
	n += make_notify(buf + n, RTM_DELADDR, "fdfd::fd", 4, IFA_F_PERMANENT | 0x100, 1);
	done = (struct nlmsghdr *)(buf + n);
	memset(done, 0, 20);
	done->nlmsg_len = 20;
	done->nlmsg_type = NLMSG_DONE;
	n += 20;
	CHECK(addr_events(buf, n, &want, ev, 4, &end) == 2 && end == 1, "dump walked");
	CHECK(ev[0].ifindex == 3 && (ev[0].flags & IFA_F_TENTATIVE) && !ev[0].deleted,
	      "tentative event");
	CHECK(ev[1].ifindex == 4 && ev[1].deleted && ev[1].flags == (IFA_F_PERMANENT | 0x100),
	      "IFA_FLAGS read beyond 8 bits");
	end = 0;
	CHECK(addr_events(buf, n - 1, &want, ev, 4, &end) >= 0 && end == -1,
	      "malformed datagram reported");
}

static void feed(struct dad_track *t, uint32_t ifindex, uint32_t flags, int deleted)
{
	struct addr_event e = { ifindex, flags, (uint8_t)deleted };

	dad_track_feed(t, &e);
}

static void test_track(void)
{
	struct dad_track t;

	t = (struct dad_track){ DAD_ABSENT, 0 };
	feed(&t, 3, IFA_F_TENTATIVE, 0);
	CHECK(t.state == DAD_TENTATIVE && t.ifindex == 3, "tentative");
	feed(&t, 4, IFA_F_TENTATIVE, 0);
	feed(&t, 4, 0, 1);
	CHECK(t.state == DAD_TENTATIVE, "another instance comes and goes");
	feed(&t, 3, IFA_F_PERMANENT, 0);
	CHECK(t.state == DAD_USABLE, "DAD over");

	t = (struct dad_track){ DAD_ABSENT, 0 };
	feed(&t, 3, IFA_F_TENTATIVE, 0);
	feed(&t, 3, IFA_F_TENTATIVE | IFA_F_DADFAILED, 0);
	CHECK(t.state == DAD_FAILED, "dadfailed");
	feed(&t, 3, 0, 0);
	CHECK(t.state == DAD_FAILED, "failed is final");

	t = (struct dad_track){ DAD_ABSENT, 0 };
	feed(&t, 3, IFA_F_TENTATIVE, 0);
	feed(&t, 3, IFA_F_TENTATIVE, 1);
	CHECK(t.state == DAD_GONE, "deleted while tentative");

	t = (struct dad_track){ DAD_ABSENT, 0 };
	feed(&t, 3, IFA_F_TENTATIVE | IFA_F_OPTIMISTIC, 0);
	CHECK(t.state == DAD_USABLE, "optimistic counts as usable");
	CHECK(!addr_flags_usable(IFA_F_TENTATIVE | IFA_F_OPTIMISTIC | IFA_F_DADFAILED),
	      "dadfailed never usable");
}

static void test_settings(void)
{
	const char *v[SET_COUNT] = { NULL, NULL, NULL, NULL, NULL };
	char msgs[SET_COUNT][SETTING_MSG_LEN];
	struct settings s;
	static const char *bad_wait[] = { "abc", "-1", "99999999999999999999", "18446744073709551621", "5000 ",
					  " 5", "0x10", "600001", "+5" };
	size_t i;

	CHECK(settings_parse(v, &s, msgs) == 0 && s.nodad == 1 && s.retry == 1 &&
	      s.wait_ms == 5000 && s.log_level == 2 && !s.log_stderr, "defaults");
	v[SET_NODAD] = "0";
	v[SET_RETRY] = "0";
	v[SET_WAIT_MS] = "0";
	v[SET_LOG] = "3";
	v[SET_LOG_TARGET] = "stderr";
	CHECK(settings_parse(v, &s, msgs) == 0 && s.nodad == 0 && s.retry == 0 &&
	      s.wait_ms == 0 && s.log_level == 3 && s.log_stderr, "all set");
	for (i = 0; i < sizeof(bad_wait) / sizeof(bad_wait[0]); i++) {
		v[SET_WAIT_MS] = bad_wait[i];
		CHECK(settings_parse(v, &s, msgs) == 1 && s.wait_ms == 5000 &&
		      strstr(msgs[SET_WAIT_MS], "DADSHIM_WAIT_MS=") &&
		      strstr(msgs[SET_WAIT_MS], "using the default 5000"),
		      "bad wait '%s': %s", bad_wait[i], msgs[SET_WAIT_MS]);
	}
	v[SET_WAIT_MS] = "";
	CHECK(settings_parse(v, &s, msgs) == 0 && s.wait_ms == 5000, "empty is unset");
	v[SET_NODAD] = "2";
	v[SET_LOG_TARGET] = "file";
	CHECK(settings_parse(v, &s, msgs) == 2 && s.nodad == 1 && !s.log_stderr &&
	      strcmp(msgs[SET_NODAD], "DADSHIM_NODAD=\"2\" is invalid (expected 1 or 0); using the default 1") == 0 &&
	      strstr(msgs[SET_LOG_TARGET], "DADSHIM_LOG_TARGET=\"file\""), "%s | %s",
	      msgs[SET_NODAD], msgs[SET_LOG_TARGET]);
	v[SET_NODAD] = "\x01\x02zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz";
	CHECK(settings_parse(v, &s, msgs) >= 1 && strstr(msgs[SET_NODAD], "\"??zz") &&
	      strstr(msgs[SET_NODAD], "...\""), "odd values are quoted safely: %s",
	      msgs[SET_NODAD]);
}


/* ==== BEGIN dump_feed (issue 10: the DAD wait's re-dump) ==== */
static size_t dump_part(unsigned char *buf, uint16_t type, uint32_t seq, uint32_t flags)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	size_t n;

	if (type == NLMSG_DONE || type == NLMSG_ERROR) {
		memset(buf, 0, 36);
		n = type == NLMSG_DONE ? 20 : 36;
		nlh->nlmsg_len = (uint32_t)n;
		nlh->nlmsg_type = type;
		if (type == NLMSG_ERROR)
			buf[16] = 0xf0;	/* -16, EBUSY */
	} else {
		n = make_notify(buf, type, "fdfd::fd", 3, flags, 1);
	}
	nlh->nlmsg_flags = seq ? NLM_F_MULTI : 0;
	nlh->nlmsg_seq = seq;
	return NLMSG_ALIGN(n);
}

static void test_dump_feed(void)
{
	unsigned char buf[512];
	struct in6_addr want = in6("fdfd::fd");
	struct dad_track t = { DAD_ABSENT, 0 };
	size_t n = 0;

	/* The rest of dump 1 (tentative, then its DONE), read while dump 2
	 * runs: neither its entry nor its end counts for dump 2. */
	n += dump_part(buf + n, RTM_NEWADDR, 1, IFA_F_TENTATIVE);
	n += dump_part(buf + n, NLMSG_DONE, 1, 0);
	CHECK(dump_feed(buf, n, 2, &want, &t) == 0 && t.state == DAD_ABSENT,
	      "an earlier dump neither ends nor describes the current one");
	CHECK(dump_feed(buf, n, 1, &want, &t) == 1 && t.state == DAD_TENTATIVE,
	      "the current dump's entry and end count");
	/* An earlier dump's error (a second request got EBUSY) is not ours. */
	t.state = DAD_ABSENT;
	n = dump_part(buf, NLMSG_ERROR, 1, 0);
	CHECK(dump_feed(buf, n, 2, &want, &t) == 0, "an earlier dump's error is ignored");
	CHECK(dump_feed(buf, n, 1, &want, &t) == -1, "the current dump's error ends it");
	/* Notifications (seq 0, no NLM_F_MULTI) always count. */
	n = dump_part(buf, RTM_NEWADDR, 0, 0);
	t.state = DAD_TENTATIVE;
	t.ifindex = 3;
	CHECK(dump_feed(buf, n, 2, &want, &t) == 0 && t.state == DAD_USABLE,
	      "a notification counts during any dump");
	CHECK(dump_feed(buf, n - 1, 2, &want, &t) == -1, "malformed datagram reported");
}
/* ==== END dump_feed ==== */

int main(void)
{
	only = getenv("TAP_ONLY");
	RUN(test_addr_vector);
	RUN(test_route_vector);
	RUN(test_route_variants);
	RUN(test_flags);
	RUN(test_malformed);
	RUN(test_several);
	RUN(test_events);
	RUN(test_track);
	RUN(test_settings);
	RUN(test_dump_feed);
	if (only && *only)
		printf("# only '%s': %d check(s) reported; %d other(s) ran, not reported\n",
		       only, checks, hidden);
	printf("1..%d\n# unit: %d passed, %d failed\n", checks, checks - failed, failed);
	return failed ? 1 : 0;
}
