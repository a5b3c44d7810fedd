/*
 * cancelleak - does a send cancelled inside the shim leak?
 *
 *   cancelleak IFNAME N
 *
 * N times each, a thread with a cancellation request pending sends, on a
 * NETLINK_ROUTE socket: an IPv6 RTM_NEWADDR without IFA_F_NODAD (the shim
 * rewrites a copy), the same followed by a 1 kB NLMSG_NOOP (a copy too
 * large for the shim's stack), and an IPv6 route with a source (the shim
 * holds a copy).  sendto() is a cancellation point: the thread ends there,
 * inside the shim's wrapper, before anything reaches the kernel.
 *
 * The program counts live heap blocks itself (it defines malloc & co on
 * top of glibc's __libc_* functions; the shim's and libc's calls land
 * here too) and prints "cancelleak: kind=K live_delta=D" per kind: blocks
 * still allocated after the N cancelled sends, against before (after one
 * warm-up round, which loads what unwinding needs).  tests/reliability/run.sh
 * compares the deltas with and without the shim in the same run.
 */
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "nltest.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static long live;

void *malloc(size_t n)
{
	void *p = __libc_malloc(n);

	if (p)
		__atomic_add_fetch(&live, 1, __ATOMIC_RELAXED);
	return p;
}

void *calloc(size_t n, size_t m)
{
	void *p = __libc_calloc(n, m);

	if (p)
		__atomic_add_fetch(&live, 1, __ATOMIC_RELAXED);
	return p;
}

void *realloc(void *old, size_t n)
{
	void *p = __libc_realloc(old, n);

	if (p && !old)
		__atomic_add_fetch(&live, 1, __ATOMIC_RELAXED);
	else if (!p && old && n == 0)
		__atomic_sub_fetch(&live, 1, __ATOMIC_RELAXED);
	return p;
}

void *memalign(size_t a, size_t n)
{
	void *p = __libc_memalign(a, n);

	if (p)
		__atomic_add_fetch(&live, 1, __ATOMIC_RELAXED);
	return p;
}

int posix_memalign(void **out, size_t a, size_t n)
{
	void *p = __libc_memalign(a, n);

	if (!p)
		return ENOMEM;
	__atomic_add_fetch(&live, 1, __ATOMIC_RELAXED);
	*out = p;
	return 0;
}

void *aligned_alloc(size_t a, size_t n)
{
	return memalign(a, n);
}

void free(void *p)
{
	if (p)
		__atomic_sub_fetch(&live, 1, __ATOMIC_RELAXED);
	__libc_free(p);
}

static unsigned ifindex;
static int fd;
static struct msg req;
static unsigned char out[2048];	/* what the threads send */
static size_t req_len;
static int seq = 1000;

static void *sender(void *arg)
{
	static const struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	(void)arg;
	/* A seq of its own: a route request is held anew each time. */
	((struct nlmsghdr *)(void *)out)->nlmsg_seq = (uint32_t)__atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED);
	/* Cancelled while cancellation is off: pending until the next
	 * cancellation point, which is the real sendto() inside the shim. */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	pthread_cancel(pthread_self());
	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	sendto(fd, out, req_len, 0, (const struct sockaddr *)&kernel, sizeof(kernel));
	return (void *)1;	/* not cancelled */
}

/* @n threads that each get cancelled in sendto; -1 if one was not. */
static int round_of(int n)
{
	int i;

	for (i = 0; i < n; i++) {
		pthread_t t;
		void *ret = NULL;

		if (pthread_create(&t, NULL, sender, NULL) || pthread_join(t, &ret))
			die("cancelleak: thread");
		if (ret != PTHREAD_CANCELED)
			return -1;
	}
	return 0;
}

static void build(int kind)
{
	struct in6_addr a = { { { 0xfd, 0, 0xcc, 0, [15] = 1 } } };

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_HDRLEN;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	req.h.nlmsg_seq = 7;
	if (kind == 2) {
		req.h.nlmsg_type = RTM_NEWROUTE;
		route6_body(&req, &a, 0xcc, ifindex, 240);
		req_len = req.h.nlmsg_len;
		return;
	}
	req.h.nlmsg_type = RTM_NEWADDR;
	addr6_body(&req, &a, ifindex, 0);
	req_len = req.h.nlmsg_len;
}

int main(int argc, char **argv)
{
	static const char *const kinds[] = { "newaddr", "newaddr+1k-noop", "route" };
	int k, n;

	if (argc != 3 || !(ifindex = if_nametoindex(argv[1])) || (n = atoi(argv[2])) <= 0) {
		fprintf(stderr, "usage: cancelleak IFNAME N\n");
		return 2;
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		die("cancelleak: socket");
	for (k = 0; k < 3; k++) {
		long before;

		build(k);
		memset(out, 0, sizeof(out));
		memcpy(out, &req, req_len);
		if (k == 1) {
			/* The RTM_NEWADDR, then a 1 kB NLMSG_NOOP. */
			struct nlmsghdr noop = { .nlmsg_len = 1024, .nlmsg_type = NLMSG_NOOP,
						 .nlmsg_flags = NLM_F_REQUEST };

			memcpy(out + NLMSG_ALIGN(req_len), &noop, sizeof(noop));
			req_len = NLMSG_ALIGN(req_len) + noop.nlmsg_len;
		}
		if (round_of(1) < 0)
			die("cancelleak: the send was not cancelled");
		before = __atomic_load_n(&live, __ATOMIC_RELAXED);
		if (round_of(n) < 0)
			die("cancelleak: the send was not cancelled");
		printf("cancelleak: kind=%s sends=%d live_delta=%ld\n", kinds[k], n,
		       __atomic_load_n(&live, __ATOMIC_RELAXED) - before);
	}
	close(fd);
	return 0;
}
