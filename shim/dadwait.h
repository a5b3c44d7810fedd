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
 * (DADW_ERROR: no memory, no socket, or it stopped being the shim's; the
 * error number in *@err); stores the time waited in *@waited_ms.
 * Blocks; may change errno.  Must be called without the lock (takes it
 * briefly to mark and to close its socket).  A cancellation point: a
 * cancelled thread leaves nothing behind (socket closed, buffer freed).
 * Signals do not end the wait. */
enum dad_wait_result dad_wait(const struct in6_addr *addr, unsigned bound_ms,
			      unsigned *waited_ms, int *err);

/* For the log: "<text> N ms", e.g. "DAD ended after", "no DAD end within".
 * Returns a static string.  Pure. */
const char *dad_wait_text(enum dad_wait_result r);

#endif
