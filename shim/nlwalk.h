/* nlwalk.h - walking a datagram message by message, as the kernel does.
 * Shared by the pure core (rewrite.c, inspect.c).  Pure: no system calls,
 * no global state, errno never touched, no lock. */
#ifndef DADSHIM_NLWALK_H
#define DADSHIM_NLWALK_H

#include <stddef.h>
#include <string.h>
#include <linux/netlink.h>

/* Calls @fn for every message of @buf.  A datagram counts as well-formed
 * when its messages fill it exactly: each nlmsg_len is at least a header
 * and fits in what is left, and after the last one only its alignment
 * padding (or nothing) remains.  Returns 0, or -1 when @buf is malformed
 * (@fn may have been called for the messages before the fault) or @fn
 * returned non-zero. */
typedef int (*nlwalk_fn)(const struct nlmsghdr *nlh, size_t off, void *data);
int nlwalk(const void *buf, size_t len, nlwalk_fn fn, void *data);

/* Fills @tb[0..@max] with the attributes after the first @hdrlen bytes of
 * @nlh's payload (NULL where absent).  @hdrlen must fit in the message. */
void nl_attr_table(const struct nlmsghdr *nlh, size_t hdrlen,
		   const struct nlattr **tb, unsigned max);

#endif
