/*
 * cancelhook - a preload placed after dadshim (LD_PRELOAD="dadshim hook"),
 * so that the shim's "real" sendto/sendmsg/send/write are these: once the test
 * program sets cancelhook_armed, the next RTM_NEWROUTE sent through them
 * (the shim's resend of a refused route: the program sends nothing more)
 * cancels the sending thread right there, before the system call, as a
 * cancellation request arriving at that cancellation point would.
 * cancelhook_fired counts the times.  tests/reliability/corners.c (mode
 * cancel) then looks for descriptors the shim left behind.
 */
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

/* cppcheck-suppress unusedFunction ; found with dlsym() */
int cancelhook_armed __attribute__((visibility("default")));
/* cppcheck-suppress unusedFunction ; found with dlsym() */
unsigned cancelhook_fired __attribute__((visibility("default")));

static void maybe_cancel(const void *buf, size_t len)
{
	struct nlmsghdr h;

	if (!buf || len < sizeof(h) || !__atomic_load_n(&cancelhook_armed, __ATOMIC_SEQ_CST))
		return;
	memcpy(&h, buf, sizeof(h));
	if (h.nlmsg_type != RTM_NEWROUTE)
		return;
	__atomic_store_n(&cancelhook_armed, 0, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&cancelhook_fired, 1, __ATOMIC_SEQ_CST);
	pthread_cancel(pthread_self());
	pthread_testcancel();
}

/* Contract: sendto(2), cancelled first when armed and it carries a route. */
ssize_t sendto(int fd, const void *buf, size_t len, int flags, __CONST_SOCKADDR_ARG to,
	       socklen_t tolen)
{
	maybe_cancel(buf, len);
	return syscall(SYS_sendto, fd, buf, len, flags, to.__sockaddr__, tolen);
}

/* Contract: send(2), the same. */
ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	maybe_cancel(buf, len);
	return syscall(SYS_sendto, fd, buf, len, flags, NULL, 0);
}

/* Contract: write(2), the same. */
ssize_t write(int fd, const void *buf, size_t len)
{
	maybe_cancel(buf, len);
	return syscall(SYS_write, fd, buf, len);
}

/* Contract: sendmsg(2), the same (the first iovec is looked at). */
ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (msg && msg->msg_iovlen > 0 && msg->msg_iov)
		maybe_cancel(msg->msg_iov[0].iov_base, msg->msg_iov[0].iov_len);
	return syscall(SYS_sendmsg, fd, msg, flags);
}
