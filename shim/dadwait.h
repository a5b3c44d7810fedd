/* dadwait.h - waiting, event-driven and bounded, until DAD of an address
 * is over.  The only place that opens a netlink socket of the shim's own. */
#ifndef DADSHIM_DADWAIT_H
#define DADSHIM_DADWAIT_H

#include <netinet/in.h>

/* How a look at (and maybe a wait for) an address ended. */
enum wait_end {
	WAIT_USABLE,	/* usable at the first look: no wait */
	WAIT_DAD_ENDED,	/* was tentative; DAD ended within the bound */
	WAIT_ABSENT,	/* no such address: the kernel will judge the route */
	WAIT_FAILED,	/* dadfailed (at the first look or later) */
	WAIT_GONE,	/* was tentative, then deleted */
	WAIT_TIMEOUT,	/* still tentative when the bound ran out */
	WAIT_OTHER_NETNS, /* the program's socket is in another namespace */
	WAIT_ERROR,	/* the shim could not look (no socket, no memory...) */
};

/* Looks at @addr in the network namespace of the calling thread and, if
 * it is tentative there, waits until DAD is over, at most @bound_ms (> 0;
 * the dump that answers the first look comes within the send that asks
 * for it).  @prog_fd is the program's socket: when the kernel can
 * tell (SO_NETNS_COOKIE, Linux 5.14) that it lives in another namespace,
 * the wait is not made.  Returns how it ended; for WAIT_ERROR, the error
 * number in *@err.  Stores the time waited in *@waited_ms.  Blocks; may
 * change errno.  Takes no lock.  A cancellation point (poll()): a
 * cancelled thread leaves nothing behind.  Signals do not end the wait. */
enum wait_end dad_wait(int prog_fd, const struct in6_addr *addr, unsigned bound_ms,
		       unsigned *waited_ms, int *err);

/* For the log, e.g. "DAD ended after".  A static string.  Pure. */
const char *wait_end_text(enum wait_end r);

#endif
