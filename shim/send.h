/* send.h - the send path of NETLINK_ROUTE sockets (send.c): what the send
 * wrappers of interpose.c hand over once the descriptor table says the
 * descriptor is, or may be, a NETLINK_ROUTE socket. */
#ifndef DADSHIM_SEND_H
#define DADSHIM_SEND_H

#include <sys/types.h>
#include <sys/socket.h>

/* A send, in the shape the caller used. */
struct txcall {
	enum { TX_SEND, TX_SENDTO, TX_WRITE, TX_SENDMSG } how;
	const void *buf;
	size_t len;
	int flags;
	const struct sockaddr *to;
	socklen_t tolen;
	const struct msghdr *msg;
};

/* Sends @c on @fd (of kind @kind, FD_UNKNOWN if not yet known, then
 * classified here): on a NETLINK_ROUTE socket, IFA_F_NODAD set on a
 * private copy where needed, and IPv6 source-route requests held (before
 * the send) for a possible retry.  Anything else is the caller's call as
 * made.  Returns what the kernel returned for the datagram sent; errno as
 * that call left it on failure, unchanged on success (a failed look at the
 * caller's memory never shows in errno).  Takes the lock only to hold or
 * drop route requests, never across the send, which is the caller's
 * cancellation point: a cancelled send frees the copy and drops what it
 * held. */
ssize_t tx(int fd, int kind, const struct txcall *c);

/* Returns 1 when sendmmsg's message @m would be changed or held by tx(),
 * else 0 (also when @m or its data cannot be read: the caller's own call
 * then meets the kernel's EFAULT).  Reads the caller's memory only through
 * the kernel; errno is kept when it cannot.  No lock. */
int tx_wanted(const struct msghdr *m);

/* Something is about to be sent on @fd, a socket with requests held: none
 * of them may be sent again by the shim, or it would take effect after
 * this send (the order in which requests take effect is the caller's).
 * Keeps errno.  Takes the lock. */
void tx_follows(int fd);

#endif
