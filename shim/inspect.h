/* inspect.h - read-only views of netlink bytes: the source routes dadshim
 * may hold back until DAD ends, and IPv6 address notifications.
 * Pure functions: no system calls, no global state, errno never touched,
 * no lock; safe on any bytes (fuzzed). */
#ifndef DADSHIM_INSPECT_H
#define DADSHIM_INSPECT_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

/* Fills @srcs with the RTA_PREFSRC of every IPv6 RTM_NEWROUTE request in
 * the datagram (the first @max, duplicates kept: the caller waits for each
 * in turn).  These are what ip6_route_info_create() refuses with EINVAL
 * while the source is tentative.  Returns how many there are, or -1 when
 * the datagram is not well-formed (nlwalk()): it then goes out as given. */
int route_scan(const void *buf, size_t len, struct in6_addr *srcs, size_t max);

/* What the kernel says about one address, from a dump or a notification. */
struct addr_event {
	uint32_t ifindex;
	uint32_t flags;		/* IFA_FLAGS when present, else ifa_flags */
	uint8_t deleted;	/* RTM_DELADDR */
};

/* Walks a datagram of RTM_NEWADDR/RTM_DELADDR messages (a dump or
 * notifications) and reports those about IPv6 address @want.  Returns the
 * number of such messages (the first @max in @ev), and sets *@end to 1 on
 * NLMSG_DONE, to -1 on NLMSG_ERROR or a malformed datagram, else leaves it. */
int addr_events(const void *buf, size_t len, const struct in6_addr *want,
		struct addr_event *ev, size_t max, int *end);

/* Where the address stands in the eyes of ipv6_chk_addr(), which decides
 * whether RTA_PREFSRC is accepted. */
enum dad_state {
	DAD_ABSENT,		/* no such address in the namespace */
	DAD_TENTATIVE,		/* DAD running: the route would be refused */
	DAD_USABLE,		/* some instance is not tentative (or optimistic) */
	DAD_FAILED,		/* dadfailed: refused for good */
	DAD_GONE,		/* the instance waited on was deleted */
};

struct dad_track {
	enum dad_state state;
	uint32_t ifindex;	/* the tentative instance waited on */
};

/* Folds one event into @t.  The first events come from a dump (state
 * DAD_ABSENT until then), later ones from notifications. */
void dad_track_feed(struct dad_track *t, const struct addr_event *ev);

/* Feeds the events about @want in one datagram read from the DAD wait's
 * socket into @t: notifications, and the parts of dump @seq (a part, end
 * or error of any other dump is left out).  Returns 1 when dump @seq
 * ended in this datagram, -1 on its error or a malformed datagram, else 0. */
int dump_feed(const void *buf, size_t len, uint32_t seq,
	      const struct in6_addr *want, struct dad_track *t);

/* Returns 1 when @flags make an address acceptable as a source. */
int addr_flags_usable(uint32_t flags);

#endif
