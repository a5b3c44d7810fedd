/* receive.h - the receive path of a NETLINK_ROUTE socket that has route
 * requests held for a retry (receive.c): what the receive wrappers of
 * interpose.c hand over for a descriptor in FD_ROUTE_HELD. */
#ifndef DADSHIM_RECEIVE_H
#define DADSHIM_RECEIVE_H

#include <sys/types.h>
#include <sys/socket.h>
#include <time.h>

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
	unsigned vlen;			/* recvmmsg: as the caller asked, for */
	struct timespec *timeout;	/* a call that passes straight through */
};

/* The flags a held receive path understands; with any other flag
 * (MSG_ERRQUEUE, MSG_OOB...) the call passes straight through. */
#define RX_FLAGS (MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT | MSG_WAITALL | \
		  MSG_CMSG_CLOEXEC)

/* Receives for the caller on a descriptor in FD_ROUTE_HELD: an EINVAL
 * reply to a held route whose source is tentative is replaced by the reply
 * to the same request sent again once DAD is over, when the caller blocks
 * (no MSG_DONTWAIT, no O_NONBLOCK) and nothing was sent on the socket
 * after that request; the wait happens in the caller's thread, bounded by
 * DADSHIM_WAIT_MS and the socket's SO_RCVTIMEO.  Otherwise the caller gets
 * the kernel's answer.  Returns what the caller's call returned; sets
 * errno only on failure (a success leaves it as it was).  Takes the lock,
 * never across a blocking call. */
ssize_t rx_held(int fd, const struct rxcall *c);

#endif
