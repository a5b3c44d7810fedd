/* paths.h - the two netlink paths behind the wrappers: what is sent on a
 * NETLINK_ROUTE socket (send.c) and what is received on one that has a
 * route request held for a retry (receive.c). */
#ifndef DADSHIM_PATHS_H
#define DADSHIM_PATHS_H

#include <sys/types.h>
#include <sys/socket.h>

#include "settings.h"

extern struct settings settings;

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

/* Sends @c on @fd (of kind @kind, FD_UNKNOWN if not yet known): NODAD
 * set on a private copy where needed, route requests held.  Returns what
 * the kernel returned. */
ssize_t tx(int fd, int kind, const struct txcall *c);

/* Returns 1 when sendmmsg's message @m would be changed or held. */
int tx_wanted(const struct msghdr *m);

/* A receive, in the shape the caller used (recv is a recvfrom). */
struct rxcall {
	enum { RX_RECVFROM, RX_RECVMSG, RX_RECVMMSG, RX_READ } how;
	void *buf;
	size_t len;
	int flags;
	struct sockaddr *from;
	socklen_t *fromlen;
	struct msghdr *msg;
	struct mmsghdr *vec;
};

/* The flags a held receive path understands; with any other flag
 * (MSG_ERRQUEUE, MSG_OOB...) the call passes straight through. */
#define RX_FLAGS (MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT | MSG_WAITALL | \
		  MSG_CMSG_CLOEXEC)

/* Receives for the caller on a descriptor in FD_ROUTE_HELD: an EINVAL
 * reply to a held route whose source is tentative is replaced by the reply
 * to the same request sent again once DAD is over.  A blocking call waits
 * for that in its own thread; a non-blocking one (MSG_DONTWAIT, or an
 * O_NONBLOCK socket) returns at once and leaves the wait and the resend to
 * a helper thread.  Returns what the caller's call returned; sets errno
 * only on failure (a success leaves it as it was).  Takes the lock, never
 * across a blocking call. */
ssize_t rx_held(int fd, const struct rxcall *c);

#endif
