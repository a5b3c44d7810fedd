/*
 * faults - things that go wrong while dadshim waits for DAD on behalf of a
 * route request whose preferred source is tentative.
 *
 *   faults CASE IFNAME ADDR [IFNAME2]
 *
 * The program adds ADDR/128 to IFNAME (no IFA_F_NODAD: run it with
 * DADSHIM_NODAD=0 so that the address really is tentative), sends
 * `route fd00:fa::/64 src ADDR table 230` and reads the reply as charon
 * does (blocking recv(MSG_TRUNC)).  While the shim waits, its private
 * socket is one more descriptor in /proc/self/fd: a helper thread watches
 * for it and then makes the fault happen, so nothing depends on timing.
 * CASE is one of:
 *   plain      nothing else (DAD fails when the peer has ADDR; no carrier)
 *   deladdr    ADDR is deleted during the wait
 *   dellink    IFNAME2 (where ADDR lives then) is deleted during the wait
 *   sigwait    SIGUSR1 (handler without SA_RESTART) x3 during the wait
 *   cancel     the thread in the wait is cancelled; then netlink is used
 *              from the main thread
 *   fork       fork() from another thread during the wait; the child adds
 *              ADDR2 = ADDR+1 without NODAD and a route with it as source
 *   close      another thread closes the socket during the wait: the
 *              send says EBADF and nothing is sent
 *   waitforone as plain, every reply read with recvmmsg(MSG_WAITFORONE)
 *
 * Prints "faults: case=CASE key=value ..." (what the process observed:
 * the reply's error or recv's errno, descriptors open before and after,
 * signals caught, the child's status); exits 0 unless the test itself
 * could not run.  The calling script judges the values.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* recvmmsg */
#endif
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nltest.h"

#ifndef RTA_TABLE
#define RTA_TABLE 15
#endif

#define TABLE 230
#define BUFLEN 8192

static const char *mode;
static unsigned ifindex, ifindex2;
static struct in6_addr addr;
static int req_fd = -1;
static int fd_base;		/* descriptors open before the wait */
static volatile sig_atomic_t caught;
static volatile int main_done;
static uint32_t seq_ctr = 100;

static void start(struct msg *m, uint16_t type, uint16_t flags)
{
	memset(m, 0, sizeof(*m));
	m->h.nlmsg_len = NLMSG_HDRLEN;
	m->h.nlmsg_type = type;
	m->h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
	m->h.nlmsg_seq = __atomic_add_fetch(&seq_ctr, 1, __ATOMIC_RELAXED);
}

static void addr_msg(struct msg *m, uint16_t type, unsigned index,
		     const struct in6_addr *a, uint32_t flags)
{
	start(m, type, type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0);
	addr6_body(m, a, index, flags);
}

/* route fd00:@dst_byte::/64 src @src dev @index table TABLE */
static void route_msg(struct msg *m, unsigned index, const struct in6_addr *src,
		      unsigned dst_byte)
{
	start(m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	route6_body(m, src, dst_byte, index, TABLE);
}

static void nl_send(int fd, struct msg *m)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	if (sendto(fd, m, m->h.nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) != (ssize_t)m->h.nlmsg_len)
		die("faults: sendto");
}

/* One datagram, as charon reads it (recv with MSG_TRUNC), or, in case
 * waitforone, with recvmmsg(MSG_WAITFORONE). */
static ssize_t recv_reply(int fd, char *buf, size_t len)
{
	struct iovec iov = { buf, len };
	struct mmsghdr mm;
	int n;

	if (strcmp(mode, "waitforone"))
		return recv(fd, buf, len, MSG_TRUNC);
	memset(&mm, 0, sizeof(mm));
	mm.msg_hdr.msg_iov = &iov;
	mm.msg_hdr.msg_iovlen = 1;
	n = recvmmsg(fd, &mm, 1, MSG_WAITFORONE, NULL);
	return n < 1 ? -1 : (ssize_t)mm.msg_len;
}

/* The reply to @seq as the process sees it: 0, -errno from the kernel,
 * or 1 when recv itself failed (errno in *@rerr). */
static int nl_reply(int fd, uint32_t seq, int *rerr)
{
	char buf[BUFLEN];

	for (;;) {
		ssize_t n = recv_reply(fd, buf, sizeof(buf));
		const struct nlmsghdr *h = (const void *)buf;
		int len = (int)n;

		if (n < 0) {
			*rerr = errno;
			return 1;
		}
		for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len))
			if (h->nlmsg_type == NLMSG_ERROR && h->nlmsg_seq == seq)
				return ((const struct nlmsgerr *)NLMSG_DATA(h))->error;
	}
}

/* A request on a socket of its own; its reply. */
static int nl_do(struct msg *m)
{
	int fd = nl_open(), e, rerr = 0;

	nl_send(fd, m);
	e = nl_reply(fd, m->h.nlmsg_seq, &rerr);
	close(fd);
	return e == 1 ? -rerr : e;
}

static const char *res(int e)
{
	static const struct { int e; const char *name; } names[] = {
		{ EINVAL, "EINVAL" }, { EINTR, "EINTR" }, { EBADF, "EBADF" },
		{ EEXIST, "EEXIST" }, { ESRCH, "ESRCH" }, { ENODEV, "ENODEV" },
		{ EAGAIN, "EAGAIN" }, { ENOTSOCK, "ENOTSOCK" },
		{ EADDRNOTAVAIL, "EADDRNOTAVAIL" }, { ENETUNREACH, "ENETUNREACH" },
	};
	static __thread char b[32];
	size_t i;

	if (e == 0)
		return "ok";
	if (e < 0)
		e = -e;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].e == e)
			return names[i].name;
	snprintf(b, sizeof(b), "errno%d", e);
	return b;
}

/* Until the shim's private socket is open (bounded), or main is done. */
static int wait_seen(void)
{
	int i;

	for (i = 0; i < 4000 && !__atomic_load_n(&main_done, __ATOMIC_ACQUIRE); i++) {
		if (count_fds() > fd_base)
			return 1;
		sleep_ms(5);
	}
	return 0;
}

static void on_usr1(int sig)
{
	(void)sig;
	caught++;
}

/* The request of every case: ADDR, then the route with it as source. */
struct job {
	int result;		/* reply error, or 1 with recv_errno */
	int recv_errno;
};

static void *run_route(void *arg)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct job *j = arg;
	struct msg m;

	route_msg(&m, ifindex2 ? ifindex2 : ifindex, &addr, 0xfa);
	if (sendto(req_fd, &m, m.h.nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) != (ssize_t)m.h.nlmsg_len) {
		j->result = 3;	/* the send failed */
		j->recv_errno = errno;
		return NULL;
	}
	j->result = nl_reply(req_fd, m.h.nlmsg_seq, &j->recv_errno);
	return NULL;
}

struct helper_arg {
	pthread_t target;
	int seen;
};

static void *helper(void *arg)
{
	struct helper_arg *ha = arg;
	struct msg m;
	int i;

	if (!wait_seen())
		return NULL;
	ha->seen = 1;
	if (!strcmp(mode, "deladdr")) {
		addr_msg(&m, RTM_DELADDR, ifindex2 ? ifindex2 : ifindex, &addr, 0);
		if (nl_do(&m))
			fprintf(stderr, "faults: address delete failed\n");
	} else if (!strcmp(mode, "dellink")) {
		struct ifinfomsg *ifi;

		start(&m, RTM_DELLINK, 0);
		ifi = put(&m, sizeof(*ifi));
		ifi->ifi_index = (int)ifindex2;
		if (nl_do(&m))
			fprintf(stderr, "faults: link delete failed\n");
	} else if (!strcmp(mode, "sigwait")) {
		for (i = 0; i < 3; i++) {
			pthread_kill(ha->target, SIGUSR1);
			sleep_ms(50);
		}
	} else if (!strcmp(mode, "close")) {
		close(req_fd);
	}
	return NULL;
}

static int fork_child(void)
{
	struct in6_addr a2 = addr;
	struct msg m;
	int e;

	alarm(30);
	a2.s6_addr[15]++;
	/* Without NODAD: the shim in the child must set it. */
	addr_msg(&m, RTM_NEWADDR, ifindex, &a2, 0);
	if ((e = nl_do(&m)))
		return fprintf(stderr, "faults: child: address: %s\n", res(e)), 1;
	route_msg(&m, ifindex, &a2, 0xfc);
	if ((e = nl_do(&m)))
		return fprintf(stderr, "faults: child: route: %s\n", res(e)), 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	struct helper_arg ha = { 0, 0 };
	struct job j = { 0, 0 };
	pthread_t th, worker;
	int fd_start, fd_end, e, extra = -1, child = -1;
	struct msg m;

	if (argc < 4 || argc > 5 || inet_pton(AF_INET6, argv[3], &addr) != 1) {
		fprintf(stderr, "usage: faults CASE IFNAME ADDR [IFNAME2]\n");
		return 2;
	}
	mode = argv[1];
	ifindex = if_nametoindex(argv[2]);
	ifindex2 = argc == 5 ? if_nametoindex(argv[4]) : 0;
	if (!ifindex || (argc == 5 && !ifindex2))
		die("faults: interface");
	/* A guard against a hang; the script has its own too. */
	alarm(60);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: interrupted calls fail EINTR */
	sigaction(SIGUSR1, &sa, NULL);

	fd_start = count_fds();
	addr_msg(&m, RTM_NEWADDR, ifindex2 ? ifindex2 : ifindex, &addr, 0);
	if ((e = nl_do(&m))) {
		fprintf(stderr, "faults: address add: %s\n", res(e));
		return 2;
	}
	req_fd = nl_open();
	fd_base = count_fds();

	if (!strcmp(mode, "cancel") || !strcmp(mode, "fork") ||
		   !strcmp(mode, "close")) {
		if (pthread_create(&worker, NULL, run_route, &j))
			die("faults: pthread_create");
		if (!strcmp(mode, "close")) {
			ha.target = worker;
			if (pthread_create(&th, NULL, helper, &ha))
				die("faults: pthread_create");
			pthread_join(worker, NULL);
			__atomic_store_n(&main_done, 1, __ATOMIC_RELEASE);
			pthread_join(th, NULL);
			if (!ha.seen)
				close(req_fd);	/* no wait (no shim): nobody did */
		} else if (!strcmp(mode, "cancel")) {
			void *ret = NULL;

			ha.seen = wait_seen();
			if (ha.seen)
				pthread_cancel(worker);
			pthread_join(worker, &ret);
			if (ret == PTHREAD_CANCELED)
				j.result = 2;	/* cancelled */
			close(req_fd);
			/* The shim's lock must be free: netlink from here,
			 * a held route request included. */
			{
				struct in6_addr a3 = addr;

				a3.s6_addr[15] += 2;
				addr_msg(&m, RTM_NEWADDR, ifindex, &a3, IFA_F_NODAD);
				extra = nl_do(&m);
				if (!extra) {
					route_msg(&m, ifindex, &a3, 0xfb);
					extra = nl_do(&m);
				}
			}
		} else {
			pid_t pid;
			int status = 0;

			ha.seen = wait_seen();
			pid = fork();
			if (pid < 0)
				die("faults: fork");
			if (pid == 0)
				exit(fork_child());
			if (waitpid(pid, &status, 0) == pid)
				child = WIFEXITED(status) ? WEXITSTATUS(status)
					: 128 + WTERMSIG(status);
			pthread_join(worker, NULL);
		}
	} else {
		ha.target = pthread_self();
		if (pthread_create(&th, NULL, helper, &ha))
			die("faults: pthread_create");
		run_route(&j);
		__atomic_store_n(&main_done, 1, __ATOMIC_RELEASE);
		pthread_join(th, NULL);
	}
	__atomic_store_n(&main_done, 1, __ATOMIC_RELEASE);
	if (strcmp(mode, "close") && strcmp(mode, "cancel"))
		close(req_fd);
	fd_end = count_fds();
	printf("faults: case=%s result=%s recv_errno=%s wait_seen=%d signals=%d "
	       "after=%s child=%d fds_before=%d fds_after=%d\n", mode,
	       j.result == 3 ? "send-failed" : j.result == 2 ? "cancelled"
	       : j.result == 1 ? "recv-failed" : res(j.result),
	       j.result == 1 || j.result == 3 ? res(j.recv_errno) : "none", ha.seen, (int)caught,
	       extra == -1 ? "none" : res(extra), child, fd_start, fd_end);
	return 0;
}

