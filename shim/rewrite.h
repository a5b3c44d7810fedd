/* rewrite.h - the only change dadshim makes to outgoing bytes: IFA_F_NODAD
 * on IPv6 RTM_NEWADDR requests.  Pure functions over a byte buffer: no
 * system calls, no global state, errno never touched, no lock. */
#ifndef DADSHIM_REWRITE_H
#define DADSHIM_REWRITE_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

/* One IPv6 RTM_NEWADDR request found in an outgoing datagram. */
struct nodad_site {
	struct in6_addr addr;	/* IFA_LOCAL, else IFA_ADDRESS (for the log) */
	uint32_t ifindex;
	uint8_t prefixlen;
	uint8_t needs_rewrite;	/* 0: already NODAD and not OPTIMISTIC */
};

/* Scans the datagram @buf of @len bytes.  Returns the number of IPv6
 * RTM_NEWADDR requests it holds (the first @max are described in @sites),
 * or -1 when @buf is not a sequence of well-formed netlink messages that
 * fills it exactly: such a datagram is sent as it is. */
int nodad_scan(const void *buf, size_t len, struct nodad_site *sites,
	       size_t max);

/* Rewrites @buf (the caller's private copy of a datagram that nodad_scan
 * accepted) in place: every IPv6 RTM_NEWADDR request gets IFA_F_NODAD set
 * and IFA_F_OPTIMISTIC cleared, in ifa_flags and in IFA_FLAGS when that
 * attribute is present.  No length changes.  Returns how many messages
 * changed. */
unsigned nodad_rewrite(void *buf, size_t len);

#endif
