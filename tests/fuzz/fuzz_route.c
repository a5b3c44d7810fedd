/* fuzz_route.c - libFuzzer target for route_scan(), which picks the
 * source routes the shim may hold back until DAD ends.
 *
 * Invariants (against oracle.h, the kernel's reading):
 * - -1 exactly when the datagram is not framed (and then nodad_scan()
 *   says -1 too: both sides agree on what they leave alone);
 * - it lists exactly the IPv6 RTM_NEWROUTE requests with a whole rtmsg
 *   and an RTA_PREFSRC (the last one, as the kernel uses) of 16 bytes,
 *   each by the source the kernel would check, in order;
 * - the bytes are never written; nothing outside them is read. */
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <linux/rtnetlink.h>

#include "core.h"
#include "oracle.h"

#define REQS 256	/* more than a max_len datagram holds */

static void check(const uint8_t *data, size_t size, const unsigned char *buf)
{
	static struct o_msg m[O_MSGS];
	static struct o_attrs a;
	static struct in6_addr r[REQS];
	int ok, rs, n = 0;
	size_t nm, i;

	nm = o_frame(data, size, m, O_MSGS, &ok);
	rs = route_scan(buf, size, r, REQS);
	INVARIANT(size == 0 || memcmp(buf, data, size) == 0, "route_scan wrote");
	INVARIANT(route_scan(buf, size, NULL, 0) == rs, "count differs without a list");
	INVARIANT((rs == -1) == !ok, "route_scan %d on a %s datagram", rs,
		  ok ? "framed" : "malformed");
	INVARIANT((nodad_scan(buf, size, NULL, 0) == -1) == !ok,
		  "nodad_scan and route_scan disagree on framing");
	if (!ok)
		return;
	for (i = 0; i < nm && i < O_MSGS; i++) {
		const unsigned char *msg = data + m[i].off;
		if (m[i].type != RTM_NEWROUTE || !(m[i].flags & NLM_F_REQUEST))
			continue;
		if (!o_parse(msg, m[i].len, sizeof(struct rtmsg), &a) ||
		    msg[O_HDR] != AF_INET6 || o_plen(&a, RTA_PREFSRC) != 16)
			continue;
		INVARIANT(n < rs, "route %zu (offset %zu) not found", i, m[i].off);
		INVARIANT(memcmp(&r[n], o_payload(msg, &a, RTA_PREFSRC), 16) == 0,
			  "route %d: another source than the kernel checks", n);
		n++;
	}
	INVARIANT(rs == n, "route_scan %d, the kernel would see %d", rs, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *buf = o_heap(data, size);
	unsigned char *g;

	check(data, size, buf);
	g = o_guarded(data, size);
	if (g)
		INVARIANT(route_scan(g, size, NULL, 0) == route_scan(data, size, NULL, 0),
			  "route_scan differs at the guard page");
	free(buf);
	return 0;
}
