/* dadwait.h - waiting, event-driven and bounded, until DAD of an address
 * is over.  The only place that opens a socket of the shim's own. */
#ifndef DADSHIM_DADWAIT_H
#define DADSHIM_DADWAIT_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "inspect.h"

enum dad_wait_result {
	DADW_USABLE,		/* DAD ended (maybe before the first look): the
				 * address can be a source now */
	DADW_NOT_TENTATIVE,	/* no such address: EINVAL had another cause */
	DADW_FAILED,		/* DAD failed (dadfailed) */
	DADW_GONE,		/* the address (or its interface) went away */
	DADW_TIMEOUT,		/* the bound ran out */
	DADW_ERROR,		/* the shim could not watch (no socket, ...) */
};

/* Waits at most @bound_ms for @addr to leave the tentative state, on a
 * NETLINK_ROUTE socket of its own subscribed to IPv6 address events (a
 * dump after subscribing, then poll()).  Returns how the wait ended
 * (DADW_ERROR: no memory or no socket); stores the time waited in
 * *@waited_ms.  Blocks; may change errno.  Must be called without the
 * lock.  A cancellation point: a cancelled thread leaves nothing behind
 * (socket closed, buffer freed).  Signals do not end the wait. */
enum dad_wait_result dad_wait(const struct in6_addr *addr, unsigned bound_ms,
			      unsigned *waited_ms);

/* Pure (dumpfeed.c).  Feeds the address events about @want in one
 * datagram read from the wait's socket into @t, leaving out every part,
 * end and error of a dump other than the current one, @seq (messages with
 * NLM_F_MULTI, NLMSG_DONE or NLMSG_ERROR and another seq): what is left of
 * an earlier dump must not end or describe this one.  Returns 1 when dump
 * @seq ended, -1 on its error or a malformed datagram, else 0.  No lock,
 * no system call. */
int dump_feed(const void *buf, size_t len, uint32_t seq,
	      const struct in6_addr *want, struct dad_track *t);

/* For the log: "<text> N ms", e.g. "DAD ended after", "no DAD end within".
 * Returns a static string.  Pure. */
const char *dad_wait_text(enum dad_wait_result r);

#endif
