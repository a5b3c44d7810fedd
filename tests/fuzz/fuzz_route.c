/* fuzz_route.c - libFuzzer target for retry_scan(), which picks the route
 * requests the shim holds for a retry.
 *
 * Invariants (against oracle.h, the kernel's reading):
 * - -1 exactly when the datagram is not framed (and then nodad_scan()
 *   says -1 too: both sides agree on what they leave alone);
 * - it counts exactly the IPv6 RTM_NEWROUTE requests with NLM_F_ACK, a
 *   whole rtmsg and an RTA_PREFSRC (the last one, as the kernel uses) of
 *   16 bytes, and describes each as the kernel would read it: offset,
 *   length, seq, table (RTA_TABLE over rtm_table), oif, dst, source;
 * - the bytes are never written; nothing outside them is read. */
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <linux/rtnetlink.h>

#include "inspect.h"
#include "oracle.h"
#include "rewrite.h"

#define REQS 256	/* more than a max_len datagram holds */

static void check(const uint8_t *data, size_t size, const unsigned char *buf)
{
	static struct o_msg m[O_MSGS];
	static struct o_attrs a;
	static struct retry_req r[REQS];
	int ok, rs, n = 0;
	size_t nm, i;

	nm = o_frame(data, size, m, O_MSGS, &ok);
	rs = retry_scan(buf, size, r, REQS);
	INVARIANT(size == 0 || memcmp(buf, data, size) == 0, "retry_scan wrote");
	INVARIANT(retry_scan(buf, size, NULL, 0) == rs, "count differs without reqs");
	INVARIANT((rs == -1) == !ok, "retry_scan %d on a %s datagram", rs,
		  ok ? "framed" : "malformed");
	INVARIANT((nodad_scan(buf, size, NULL, 0) == -1) == !ok,
		  "nodad_scan and retry_scan disagree on framing");
	if (!ok)
		return;
	for (i = 0; i < nm && i < O_MSGS; i++) {
		const unsigned char *msg = data + m[i].off;
		const struct retry_req *q = &r[n];
		unsigned char zero[16] = { 0 };
		uint32_t table;

		if (m[i].type != RTM_NEWROUTE ||
		    (m[i].flags & (NLM_F_REQUEST | NLM_F_ACK)) != (NLM_F_REQUEST | NLM_F_ACK))
			continue;
		if (!o_parse(msg, m[i].len, sizeof(struct rtmsg), &a) ||
		    msg[O_HDR] != AF_INET6 || o_plen(&a, RTA_PREFSRC) != 16)
			continue;
		INVARIANT(n < rs, "route %zu (offset %zu) not found", i, m[i].off);
		INVARIANT(q->off == m[i].off && q->len == m[i].len && q->seq == m[i].seq,
			  "req %d: off %zu/%zu len %u/%u", n, q->off, m[i].off, q->len,
			  m[i].len);
		table = o_plen(&a, RTA_TABLE) == 4 ? o_u32(o_payload(msg, &a, RTA_TABLE))
						   : msg[O_HDR + 4];
		INVARIANT(q->table == table, "req %d table %u, kernel %u", n, q->table, table);
		INVARIANT(q->oif == (o_plen(&a, RTA_OIF) == 4
				     ? o_u32(o_payload(msg, &a, RTA_OIF)) : 0),
			  "req %d oif", n);
		INVARIANT(memcmp(&q->prefsrc, o_payload(msg, &a, RTA_PREFSRC), 16) == 0,
			  "req %d prefsrc", n);
		INVARIANT(memcmp(&q->dst, o_plen(&a, RTA_DST) == 16
				 ? o_payload(msg, &a, RTA_DST) : zero, 16) == 0,
			  "req %d dst", n);
		INVARIANT(q->dst_len == msg[O_HDR + 1], "req %d dst_len", n);
		n++;
	}
	INVARIANT(rs == n, "retry_scan %d, the kernel would see %d", rs, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *buf = o_heap(data, size);
	unsigned char *g;

	check(data, size, buf);
	g = o_guarded(data, size);
	if (g)
		INVARIANT(retry_scan(g, size, NULL, 0) == retry_scan(data, size, NULL, 0),
			  "retry_scan differs at the guard page");
	free(buf);
	return 0;
}
