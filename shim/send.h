/* send.h - the send path of NETLINK_ROUTE sockets (send.c): what the send
 * wrappers of interpose.c hand over once the descriptor table says the
 * descriptor is, or may be, a NETLINK_ROUTE socket. */
#ifndef DADSHIM_SEND_H
#define DADSHIM_SEND_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* A send, in the shape the caller used. */
struct txcall {
	enum { TX_SEND, TX_SENDTO, TX_WRITE, TX_SENDMSG, TX_WRITEV } how;
	const void *buf;		/* TX_SEND, TX_SENDTO, TX_WRITE */
	size_t len;
	int flags;			/* TX_SEND, TX_SENDTO, TX_SENDMSG */
	const struct sockaddr *to;	/* TX_SENDTO */
	socklen_t tolen;
	const struct msghdr *msg;	/* TX_SENDMSG */
	const struct iovec *iov;	/* TX_WRITEV */
	int iovcnt;
};

/* Sends @c on @fd.  On a NETLINK_ROUTE socket, a datagram of at most
 * COPY_LEN bytes is read into the shim's own buffer: IPv6 RTM_NEWADDR
 * requests get IFA_F_NODAD there, and a blocking send that carries an
 * IPv6 RTM_NEWROUTE whose RTA_PREFSRC is tentative first waits until DAD
 * is over (dad_wait()).  Then the datagram goes out once, on @fd.
 * Anything else is the caller's call as made.  Returns what the kernel
 * returned, or -errno (-EBADF when @fd stopped being the same socket
 * during the wait: nothing was sent).  May change errno; takes no lock.
 * A cancellation point (the send, and the wait). */
ssize_t tx(int fd, const struct txcall *c);

/* Returns 1 when tx() would change or hold back the datagram of
 * sendmmsg()'s entry @m, else 0.  Changes nothing; no system call. */
int tx_wanted(const struct msghdr *m);

#define COPY_LEN 4096	/* larger datagrams go out unchanged */

#endif
