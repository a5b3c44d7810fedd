/* inspect.h - read-only views of netlink bytes: the route requests dadshim
 * may retry, the head of a reply datagram, and IPv6 address notifications.
 * Pure functions: no system calls, no global state, errno never touched,
 * no lock; safe on any bytes (fuzzed). */
#ifndef DADSHIM_INSPECT_H
#define DADSHIM_INSPECT_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

/* An IPv6 RTM_NEWROUTE request with RTA_PREFSRC and NLM_F_ACK: the kind of
 * request that the kernel refuses with -EINVAL while its source is
 * tentative.  Without NLM_F_ACK a success has no reply, so a retry could
 * not be matched to one: such requests are never held. */
struct retry_req {
	size_t off;		/* where the message starts in the datagram */
	uint32_t len;		/* nlmsg_len */
	uint32_t seq;
	uint32_t table;		/* RTA_TABLE, else rtm_table */
	uint32_t oif;		/* RTA_OIF, 0 if absent */
	struct in6_addr prefsrc;
	struct in6_addr dst;	/* RTA_DST, :: if absent */
	uint8_t dst_len;
};

/* Returns the number of such requests in the datagram (the first @max are
 * described in @reqs), or -1 when it is not well-formed. */
int retry_scan(const void *buf, size_t len, struct retry_req *reqs, size_t max);

/* The head of a datagram waiting in a socket's receive queue. */
struct reply_head {
	uint32_t seq;
	int error;		/* nlmsgerr.error: 0 or a negative errno */
	uint16_t orig_type;	/* nlmsg_type of the request it answers */
	/* The request's own header as the kernel echoes it in every
	 * NLMSG_ERROR, acks included: length, type, flags, seq, port id. */
	uint32_t orig_len;
	uint16_t orig_flags;
	uint32_t orig_pid;
};

/* @have bytes of the datagram were peeked into @buf; @total is its real
 * length (MSG_TRUNC).  Returns 1 and fills @rh when the datagram is exactly
 * one NLMSG_ERROR message (an error or an ACK), whose embedded request
 * header carries the same seq; 0 otherwise. */
int reply_head_parse(const void *buf, size_t have, size_t total,
		     struct reply_head *rh);

/* Returns 1 when @rh is the kernel's answer to a request that starts with
 * the header @req (at least sizeof(struct nlmsghdr) bytes, any alignment):
 * the echoed length, type, flags, seq and port id all equal, as libmnl
 * checks seq and port id.  Two requests with the same header get the same
 * echo; the kernel answers a socket's requests in the order sent. */
int reply_answers(const struct reply_head *rh, const void *req);

/* How much of a reply must be peeked for reply_head_parse. */
#define REPLY_HEAD_LEN 36	/* nlmsghdr + nlmsgerr (error + nlmsghdr) */

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
	DAD_TENTATIVE,		/* DAD running: the route is refused for now */
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

/* Feeds the address events about @want in one datagram read from the DAD
 * wait's socket into @t (dumpfeed.c), leaving out every part, end and
 * error of a dump other than the current one, @seq (messages with
 * NLM_F_MULTI, NLMSG_DONE or NLMSG_ERROR and another seq): what is left of
 * an earlier dump must not end or describe this one.  Returns 1 when dump
 * @seq ended, -1 on its error or a malformed datagram, else 0. */
int dump_feed(const void *buf, size_t len, uint32_t seq,
	      const struct in6_addr *want, struct dad_track *t);

/* Returns 1 when @flags make an address acceptable as a source. */
int addr_flags_usable(uint32_t flags);

#endif
