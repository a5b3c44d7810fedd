/* fuzz_addr.c - libFuzzer target for the address-state parsing the wait
 * relies on: addr_events() on a dump or a batch of notifications, and
 * dad_track_feed() folding the events.  Input: 16 bytes of wanted IPv6
 * address, then the datagram.
 *
 * Invariants (against oracle.h, the kernel's reading):
 * - events only for the wanted address, exactly one per IPv6
 *   RTM_NEWADDR/RTM_DELADDR about it (IFA_LOCAL, else IFA_ADDRESS, of 16
 *   bytes) among the messages before any framing fault, in order, with
 *   ifindex, flags (IFA_FLAGS u32 over ifa_flags) and deleted as sent;
 * - *end: 1 after NLMSG_DONE, -1 after NLMSG_ERROR (the later one wins)
 *   or on a malformed datagram, untouched otherwise;
 * - dad_track_feed(): DAD_FAILED and DAD_GONE are final; a non-tentative
 *   non-dadfailed address makes the state DAD_USABLE; DAD_FAILED only from
 *   a dadfailed event, DAD_GONE only from a deletion of the instance waited
 *   on while tentative; never back to DAD_ABSENT; the instance waited on is
 *   chosen once, when the state becomes DAD_TENTATIVE;
 * - nothing outside the bytes is read or written. */
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "core.h"
#include "oracle.h"

#define EVENTS 256	/* more than a max_len datagram holds */
#define UNTOUCHED 7

static void track(const struct addr_event *ev, int n)
{
	struct dad_track t = { DAD_ABSENT, 0 };
	int i;

	for (i = 0; i < n; i++) {
		struct dad_track p = t;
		int usable = !(ev[i].flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED));

		dad_track_feed(&t, &ev[i]);
		if (p.state == DAD_FAILED || p.state == DAD_GONE) {
			INVARIANT(t.state == p.state && t.ifindex == p.ifindex,
				  "left final state %d", p.state);
			continue;
		}
		if (usable && !ev[i].deleted)
			INVARIANT(t.state == DAD_USABLE, "usable event gave state %d",
				  t.state);
		INVARIANT(t.state != DAD_ABSENT || p.state == DAD_ABSENT, "back to absent");
		if (t.state == DAD_FAILED)
			INVARIANT(!ev[i].deleted && (ev[i].flags & IFA_F_DADFAILED),
				  "failed without a dadfailed event");
		if (t.state == DAD_GONE)
			INVARIANT(ev[i].deleted && p.state == DAD_TENTATIVE &&
				  (p.ifindex == 0 || p.ifindex == ev[i].ifindex),
				  "gone without deleting the instance waited on");
		if (t.state == DAD_TENTATIVE && p.state == DAD_ABSENT)
			INVARIANT(t.ifindex == ev[i].ifindex && !ev[i].deleted,
				  "tentative on another instance");
		else
			INVARIANT(t.ifindex == p.ifindex, "instance changed %u -> %u",
				  p.ifindex, t.ifindex);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct o_msg m[O_MSGS];
	static struct o_attrs a;
	static struct addr_event ev[EVENTS];
	struct in6_addr want;
	unsigned char *buf, *buf2;
	size_t len, nm, i;
	int ok, end = UNTOUCHED, want_end = UNTOUCHED, n, k = 0;

	if (size < 16)
		return 0;
	memcpy(&want, data, 16);
	data += 16;
	len = size - 16;
	buf = o_heap(data, len);
	nm = o_frame(data, len, m, O_MSGS, &ok);
	n = addr_events(buf, len, &want, ev, EVENTS, &end);
	INVARIANT(len == 0 || memcmp(buf, data, len) == 0, "addr_events wrote");
	for (i = 0; i < nm && i < O_MSGS; i++) {
		const unsigned char *msg = data + m[i].off;
		unsigned at;

		if (m[i].type == NLMSG_DONE)
			want_end = 1;
		if (m[i].type == NLMSG_ERROR)
			want_end = -1;
		if (m[i].type != RTM_NEWADDR && m[i].type != RTM_DELADDR)
			continue;
		if (!o_parse(msg, m[i].len, sizeof(struct ifaddrmsg), &a) ||
		    msg[O_HDR] != AF_INET6)
			continue;
		at = o_plen(&a, IFA_LOCAL) >= 0 ? IFA_LOCAL : IFA_ADDRESS;
		if (o_plen(&a, at) != 16 || memcmp(o_payload(msg, &a, at), &want, 16) != 0)
			continue;
		INVARIANT(k < n, "event for message %zu missing", i);
		INVARIANT(ev[k].ifindex == o_u32(msg + O_HDR + 4), "event %d ifindex", k);
		INVARIANT(ev[k].flags == (o_plen(&a, IFA_FLAGS) == 4
					  ? o_u32(o_payload(msg, &a, IFA_FLAGS))
					  : msg[O_HDR + 2]),
			  "event %d flags %#x", k, ev[k].flags);
		INVARIANT(ev[k].deleted == (m[i].type == RTM_DELADDR), "event %d deleted", k);
		k++;
	}
	if (!ok)
		want_end = -1;
	INVARIANT(n == k, "%d events, the kernel sent %d about the address", n, k);
	INVARIANT(end == want_end, "end %d, expected %d", end, want_end);
	track(ev, n < EVENTS ? n : EVENTS);
	/* libmnl's reads are not instrumented: again before a PROT_NONE page. */
	buf2 = o_guarded(data, len);
	if (buf2) {
		int end2 = UNTOUCHED;

		INVARIANT(addr_events(buf2, len, &want, NULL, 0, &end2) == n && end2 == end,
			  "addr_events differs at the guard page");
	}
	free(buf);
	return 0;
}
