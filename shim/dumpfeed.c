/* dumpfeed.c - the messages of a datagram on the DAD wait's socket that
 * belong to the current address dump or are notifications (pure). */
#include <string.h>
#include <linux/netlink.h>

#include "inspect.h"

int dump_feed(const void *buf, size_t len, uint32_t seq,
	      const struct in6_addr *want, struct dad_track *t)
{
	const unsigned char *p = buf;
	struct addr_event ev[16];
	int end = 0;

	while (len >= sizeof(struct nlmsghdr)) {
		struct nlmsghdr h;
		size_t step;

		memcpy(&h, p, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len)
			return -1;
		step = NLMSG_ALIGN(h.nlmsg_len) < len ? NLMSG_ALIGN(h.nlmsg_len) : len;
		/* Dump parts carry NLM_F_MULTI and the dump's seq; notifications
		 * neither. */
		if (h.nlmsg_seq == seq ||
		    !((h.nlmsg_flags & NLM_F_MULTI) || h.nlmsg_type == NLMSG_DONE ||
		      h.nlmsg_type == NLMSG_ERROR)) {
			int i, k = addr_events(p, h.nlmsg_len, want, ev, 16, &end);

			for (i = 0; i < k && i < 16; i++)
				dad_track_feed(t, &ev[i]);
			if (end)
				return end;
		}
		p += step;
		len -= step;
	}
	return len ? -1 : 0;
}
