/*
 * corners - the fourteen defects of issue 23 and the rules of the wait in
 * send, one mode each.  Every mode adds the tentative source ADDR/128 to
 * IFNAME itself, without IFA_F_NODAD (run it with DADSHIM_NODAD=0 under
 * the shim), except where it says otherwise.  Routes go to table 233.
 *
 *   corners MODE IFNAME ADDR [IFNAME2]
 *
 *   adddel     (1) one datagram: add fd00:c1::/64 src ADDR, delete it
 *   writev     (2) ADDR2 = ADDR+1 added by writev() in two pieces; then
 *              add by send(), delete by writev()
 *   threads    (3) thread A adds a route; while A's send has not returned,
 *              thread B deletes it on the same socket
 *   overrun    (4) the socket is also subscribed to IPv6 address events
 *              with a small buffer; 64 addresses come and go during the
 *              wait
 *   reuse      (5) while a thread's send waits, its socket is closed and
 *              the number goes to a UDP socket
 *   dup2       (6) while a thread's send waits, a pipe is dup2()ed onto
 *              the shim's own number (or number 1000 without the shim)
 *   dup2sock   (6) the same with a UDP socket that has a datagram queued:
 *              the datagram is still there for the program afterwards
 *   cancel     (7) a thread with a cancellation pending sends the route
 *   clonevm    (9) a clone(CLONE_VM) child adds ADDR (no tentative source:
 *              an address) after its parent exec'd sleep
 *   mmsg       (10) sendmmsg() of two IPv6 RTM_NEWADDR (ADDR, ADDR+1)
 *              after a seccomp filter made process_vm_writev fail (EPERM)
 *   netns      (11) the socket is opened, the address added, then the
 *              thread unshare()s its network namespace and sends the route
 *   logsweep   (12) thread L: closefrom() + open() + check, 20000 times;
 *              thread S: 2000 IPv6 RTM_NEWADDR (each a log line)
 *   forkwait   (13) while a thread's send waits (IFNAME2: a link without
 *              carrier), 50 children of _Fork() sweep their descriptors,
 *              use netlink and exit
 *   dontwait   a route sent with MSG_DONTWAIT
 *   nonblock   a route sent on an O_NONBLOCK socket
 *   sndtimeo   a route on a socket with SO_SNDTIMEO 300 ms (IFNAME: a link
 *              without carrier)
 *   v4         an IPv4 route with RTA_PREFSRC 192.0.2.1 (no IPv6 address)
 *   usable     a route whose source (added with NODAD) is not tentative
 *   waitms     a route (IFNAME: a link without carrier), as charon sends it
 *
 * Prints "corners: case=MODE key=value ...": what the process saw (the
 * kernel's answers as errno names, return values, descriptors); exits 0
 * unless the test itself could not run.  corners.sh judges the values, and
 * the kernel's tables, against a run without the shim.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_addr.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nltest.h"

#define TABLE 233

static unsigned ifindex, ifindex2;
static struct in6_addr addr;
static uint32_t seq_ctr = 500;
static int base_fds;

static void start(struct msg *m, uint16_t type, uint16_t flags)
{
	memset(m, 0, sizeof(*m));
	m->h.nlmsg_len = NLMSG_HDRLEN;
	m->h.nlmsg_type = type;
	m->h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
	m->h.nlmsg_seq = __atomic_add_fetch(&seq_ctr, 1, __ATOMIC_RELAXED);
}

static void route(struct msg *m, uint16_t type, const struct in6_addr *src, unsigned dst)
{
	start(m, type, type == RTM_NEWROUTE ? NLM_F_CREATE | NLM_F_EXCL : 0);
	route6_body(m, src, dst, ifindex, TABLE);
}

static void newaddr(struct msg *m, const struct in6_addr *a, unsigned index, uint32_t flags)
{
	start(m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	addr6_body(m, a, index, flags);
}

/* sendto() the kernel; returns 0 or errno. */
static int send_to(int fd, const void *buf, size_t len, int flags)
{
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };

	return sendto(fd, buf, len, flags, (struct sockaddr *)&k, sizeof(k)) ==
	       (ssize_t)len ? 0 : errno;
}

/* The next answer (NLMSG_ERROR) on @fd, as a negative errno or 0; notifications
 * are skipped; ENOBUFS is counted in *@nobufs when given.  1 when none came
 * within 10 s (SO_RCVTIMEO), 2 on another error. */
static int answer(int fd, uint32_t *seq, int *nobufs)
{
	struct timeval tv = { 10, 0 };
	char buf[8192];

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (n < 0 && errno == ENOBUFS && nobufs) {
			(*nobufs)++;
			continue;
		}
		if (n < 0)
			return errno == EAGAIN ? 1 : 2;
		for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n))
			if (h->nlmsg_type == NLMSG_ERROR) {
				if (seq)
					*seq = h->nlmsg_seq;
				return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
			}
	}
}

/* Sends @m and returns its answer (or a positive errno of the send). */
static int nl_do(int fd, struct msg *m)
{
	int e = send_to(fd, m, m->h.nlmsg_len, 0);

	return e ? e : answer(fd, NULL, NULL);
}

static const char *name(int e)
{
	static char b[8][24];
	static int k;
	char *s = b[k++ % 8];

	if (e == 0)
		return "0";
	if (e == 1)
		return "none";
	snprintf(s, 24, "%s%s", e < 0 ? "" : "send:", strerrorname_np(e < 0 ? -e : e));
	return s;
}

/* ADDR (or @a) on IFNAME without NODAD: tentative (DADSHIM_NODAD=0). */
static void add_tentative(const struct in6_addr *a, unsigned index)
{
	struct msg m;
	int fd = nl_open(), e;

	newaddr(&m, a, index, 0);
	e = nl_do(fd, &m);
	close(fd);
	if (e) {
		fprintf(stderr, "corners: address add: %s\n", name(e));
		exit(2);
	}
}

/* Waits until a send of another thread sits in the shim's wait: the shim's
 * socket is one descriptor more (bounded: without the shim, 300 ms). */
static int wait_begun(void)
{
	int i;

	for (i = 0; i < 60; i++) {
		if (count_fds() > base_fds)
			return 1;
		sleep_ms(5);
	}
	return 0;
}

/* The highest open descriptor number. */
static int highest_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int hi = -1;

	if (!d)
		die("/proc/self/fd");
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && atoi(e->d_name) > hi && atoi(e->d_name) != dirfd(d))
			hi = atoi(e->d_name);
	closedir(d);
	return hi;
}

/* Whether table 233 holds fd00:@dst::/64. */
static int route_there(unsigned dst)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "ip -6 route show table %d | grep -q '^fd00:%x::/64 '",
		 TABLE, dst);
	return system(cmd) == 0;
}

/* ---- 1: add and delete in one datagram ---- */
static void m_adddel(void)
{
	struct msg a, d;
	char buf[1200];
	int fd = nl_open(), e, e1, e2;
	size_t la;

	add_tentative(&addr, ifindex);
	route(&a, RTM_NEWROUTE, &addr, 0xc1);
	route(&d, RTM_DELROUTE, &addr, 0xc1);
	la = NLMSG_ALIGN(a.h.nlmsg_len);
	memcpy(buf, &a, a.h.nlmsg_len);
	memcpy(buf + la, &d, d.h.nlmsg_len);
	e = send_to(fd, buf, la + d.h.nlmsg_len, 0);
	e1 = e ? e : answer(fd, NULL, NULL);
	e2 = e ? e : answer(fd, NULL, NULL);
	printf("corners: case=adddel add=%s del=%s route=%d\n", name(e1), name(e2),
	       route_there(0xc1));
}

/* ---- 2: writev ---- */
static void m_writev(void)
{
	struct in6_addr a2 = addr;
	struct msg m;
	struct iovec iov[2];
	int fd = nl_open(), ea, e1, e2 = 0;

	a2.s6_addr[15]++;
	newaddr(&m, &a2, ifindex, 0);
	iov[0].iov_base = &m;
	iov[0].iov_len = 10;	/* the header cut in two */
	iov[1].iov_base = (char *)&m + 10;
	iov[1].iov_len = m.h.nlmsg_len - 10;
	ea = writev(fd, iov, 2) == (ssize_t)m.h.nlmsg_len ? answer(fd, NULL, NULL) : errno;
	add_tentative(&addr, ifindex);
	route(&m, RTM_NEWROUTE, &addr, 0xc2);
	e1 = send(fd, &m, m.h.nlmsg_len, 0) == (ssize_t)m.h.nlmsg_len ? answer(fd, NULL, NULL)
									: errno;
	route(&m, RTM_DELROUTE, &addr, 0xc2);
	iov[0].iov_len = m.h.nlmsg_len;
	iov[0].iov_base = &m;
	e2 = writev(fd, iov, 1) == (ssize_t)m.h.nlmsg_len ? answer(fd, NULL, NULL) : errno;
	printf("corners: case=writev addr2=%s add=%s del=%s route=%d\n", name(ea), name(e1),
	       name(e2), route_there(0xc2));
}

/* ---- 3, 5, 6: a thread whose send waits ---- */
struct sender {
	int fd;
	struct msg m;
	int flags;
	int err;	/* 0, or the send's errno */
	int done;
};

static void *send_thread(void *arg)
{
	struct sender *s = arg;

	s->err = send_to(s->fd, &s->m, s->m.h.nlmsg_len, s->flags);
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Adds the tentative ADDR, then thread @t sends the route fd00:@dst::/64
 * from it on @a->fd.  Returns 1 once that send sits in the shim's wait (0
 * after 300 ms without the shim).  Every descriptor of the case must be
 * open before: the wait is seen as one more. */
static int start_sender(struct sender *a, pthread_t *t, unsigned dst)
{
	add_tentative(&addr, ifindex);
	base_fds = count_fds();
	route(&a->m, RTM_NEWROUTE, &addr, dst);
	if (pthread_create(t, NULL, send_thread, a))
		die("pthread_create");
	return wait_begun();
}

static void m_threads(void)
{
	struct sender a = { .fd = nl_open() };
	struct msg d;
	pthread_t t;
	uint32_t s1 = 0, s2 = 0;
	int e1, e2, in_wait = start_sender(&a, &t, 0xc3);

	route(&d, RTM_DELROUTE, &addr, 0xc3);
	if (send_to(a.fd, &d, d.h.nlmsg_len, 0))
		die("send delete");
	pthread_join(t, NULL);
	e1 = a.err ? a.err : answer(a.fd, &s1, NULL);
	e2 = a.err ? a.err : answer(a.fd, &s2, NULL);
	printf("corners: case=threads in_wait=%d first=%s:%s second=%s:%s route=%d\n", in_wait,
	       s1 == a.m.h.nlmsg_seq ? "add" : "del", name(e1),
	       s2 == a.m.h.nlmsg_seq ? "add" : "del", name(e2), route_there(0xc3));
}

/* ---- 4: overrun of a request socket that also takes events ---- */
static void m_overrun(void)
{
	struct sender a;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = RTMGRP_IPV6_IFADDR };
	int small = 1, nobufs = 0, e, i, fl;
	pthread_t t;
	uint32_t seq = 0;

	add_tentative(&addr, ifindex);
	a.fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (a.fd < 0 || setsockopt(a.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) ||
	    bind(a.fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("event socket");
	a.flags = 0;
	a.done = 0;
	base_fds = count_fds();
	route(&a.m, RTM_NEWROUTE, &addr, 0xc4);
	if (pthread_create(&t, NULL, send_thread, &a))
		die("pthread_create");
	fl = wait_begun();
	for (i = 0; i < 64; i++) {	/* the events that fill the buffer */
		struct in6_addr x = addr;
		struct msg m;
		int fd = nl_open();

		x.s6_addr[13] = 0xee;
		x.s6_addr[15] = (uint8_t)i;
		newaddr(&m, &x, ifindex, IFA_F_NODAD);
		(void)nl_do(fd, &m);
		m.h.nlmsg_type = RTM_DELADDR;
		m.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		(void)nl_do(fd, &m);
		close(fd);
	}
	pthread_join(t, NULL);
	/* What the program reads: the overrun, then what is queued (the
	 * answer itself may have been dropped in the overrun). */
	e = a.err ? 1 : answer(a.fd, &seq, &nobufs);
	printf("corners: case=overrun in_wait=%d send=%s nobufs=%d answer=%s route=%d\n", fl,
	       name(a.err), nobufs > 0, seq == a.m.h.nlmsg_seq ? name(e) : "none",
	       route_there(0xc4));
}

static void m_reuse(void)
{
	struct sender a = { .fd = nl_open() };
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	pthread_t t;
	char buf[16];
	int u = -1, number = a.fd, in_wait = start_sender(&a, &t, 0xc5);
	ssize_t n;

	if (in_wait) {
		close(a.fd);
		u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (u < 0 || bind(u, (struct sockaddr *)&lo, sizeof(lo)))
			die("udp");
	}
	pthread_join(t, NULL);
	n = u >= 0 ? recv(u, buf, sizeof(buf), MSG_DONTWAIT) : -1;
	printf("corners: case=reuse in_wait=%d udp_number=%s send=%s udp_got=%s route=%d\n",
	       in_wait, u == number ? "same" : "other", name(a.err),
	       n < 0 ? name(errno) : "data", route_there(0xc5));
}

/* Cases 6 and 6b: while @a's send waits, @fd is dup2()ed onto the shim's
 * socket (the highest number), or without the shim onto one nobody uses;
 * returns when the send is over.  Sets *@in_wait; the number dup2()ed to. */
static int dup2_during_wait(struct sender *a, int fd, int *in_wait)
{
	pthread_t t;
	int target;

	*in_wait = start_sender(a, &t, 0xc6);
	target = *in_wait ? highest_fd() : 1000;
	if (dup2(fd, target) != target)
		die("dup2");
	pthread_join(t, NULL);
	return target;
}

static void m_dup2(void)
{
	struct sender a = { .fd = nl_open() };
	int p[2], target, in_wait, kept, wrote, child_has = -1, close_ret, status;
	char c = 0;
	pid_t pid;

	if (pipe(p))
		die("pipe");
	target = dup2_during_wait(&a, p[1], &in_wait);
	kept = fcntl(target, F_GETFD) >= 0;
	wrote = write(target, "x", 1) == 1 && read(p[0], &c, 1) == 1 && c == 'x';
	pid = fork();
	if (pid == 0)
		_exit(fcntl(target, F_GETFD) >= 0 ? 0 : 1);
	if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
		child_has = WEXITSTATUS(status) == 0;
	close_ret = close(target);
	printf("corners: case=dup2 in_wait=%d target_not_pipe=%d send=%s kept=%d wrote=%d "
	       "child_has=%d close=%d fds_left=%d\n", in_wait, target != p[0] && target != p[1],
	       name(a.err), kept, wrote, child_has, close_ret, count_fds() - base_fds);
}

static void m_dup2sock(void)
{
	struct sender a = { .fd = nl_open() };
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(lo);
	int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), target, in_wait;
	char buf[16];
	ssize_t n;

	if (u < 0 || bind(u, (struct sockaddr *)&lo, sizeof(lo)) ||
	    getsockname(u, (struct sockaddr *)&lo, &len) ||
	    sendto(u, "dadshim", 7, 0, (struct sockaddr *)&lo, len) != 7)
		die("udp");
	target = dup2_during_wait(&a, u, &in_wait);
	n = recv(target, buf, sizeof(buf), MSG_DONTWAIT);
	printf("corners: case=dup2sock in_wait=%d target_not_udp=%d send=%s datagram=%s close=%d\n",
	       in_wait, target != u, name(a.err), n == 7 && !memcmp(buf, "dadshim", 7) ? "kept" : "lost",
	       close(target));
	close(u);
}

/* ---- 7: a pending cancellation ---- */
static void *cancel_thread(void *arg)
{
	struct sender *s = arg;

	pthread_cancel(pthread_self());
	s->err = send_to(s->fd, &s->m, s->m.h.nlmsg_len, 0);
	s->done = 1;	/* never reached: sendto() is a cancellation point */
	return NULL;
}

static void m_cancel(void)
{
	struct sender a = { .fd = nl_open() };
	pthread_t t;
	void *ret = NULL;

	add_tentative(&addr, ifindex);
	base_fds = count_fds();
	route(&a.m, RTM_NEWROUTE, &addr, 0xc7);
	if (pthread_create(&t, NULL, cancel_thread, &a))
		die("pthread_create");
	pthread_join(t, &ret);
	printf("corners: case=cancel cancelled=%d fds_left=%d route=%d\n",
	       ret == PTHREAD_CANCELED && !a.done, count_fds() - base_fds, route_there(0xc7));
}

/* ---- 9: a clone(CLONE_VM) child after its parent's exec ---- */
static pid_t parent_pid;

static int clone_child(void *arg)
{
	char path[64], comm[32] = "";
	struct msg m;
	int i, fd, e = 1;

	(void)arg;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)parent_pid);
	for (i = 0; i < 400 && strncmp(comm, "sleep", 5); i++) {
		FILE *f = fopen(path, "r");

		comm[0] = 0;
		if (f) {
			if (!fgets(comm, sizeof(comm), f))
				comm[0] = 0;
			fclose(f);
		}
		sleep_ms(5);
	}
	/* The bytes live in this child's memory, which the exec'd parent no
	 * longer shares. */
	fd = nl_open();
	newaddr(&m, &addr, ifindex, 0);
	if (!strncmp(comm, "sleep", 5))
		e = nl_do(fd, &m);
	printf("corners: case=clonevm parent_execd=%d add=%s\n", !strncmp(comm, "sleep", 5),
	       name(e));
	fflush(stdout);
	return 0;
}

static void m_clonevm(void)
{
	static char stack[256 * 1024];

	parent_pid = getpid();
	if (clone(clone_child, stack + sizeof(stack), CLONE_VM, NULL) < 0)
		die("clone");
	execlp("sleep", "sleep", "3", (char *)NULL);
	die("exec");
}

/* ---- 10: sendmmsg with process_vm_writev refused ---- */
static void m_mmsg(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_writev, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(filter) / sizeof(filter[0]), filter };
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };
	struct in6_addr a2 = addr;
	struct msg m[2];
	struct iovec iov[2];
	struct mmsghdr v[2];
	int fd = nl_open(), i, n, e1, e2;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		die("seccomp");
	a2.s6_addr[15]++;
	newaddr(&m[0], &addr, ifindex, 0);
	newaddr(&m[1], &a2, ifindex, 0);
	memset(v, 0, sizeof(v));
	for (i = 0; i < 2; i++) {
		iov[i].iov_base = &m[i];
		iov[i].iov_len = m[i].h.nlmsg_len;
		v[i].msg_hdr.msg_name = &k;
		v[i].msg_hdr.msg_namelen = sizeof(k);
		v[i].msg_hdr.msg_iov = &iov[i];
		v[i].msg_hdr.msg_iovlen = 1;
	}
	n = sendmmsg(fd, v, 2, 0);
	e1 = n > 0 ? answer(fd, NULL, NULL) : errno;
	e2 = n > 1 ? answer(fd, NULL, NULL) : errno;
	printf("corners: case=mmsg ret=%d len0=%u len1=%u add1=%s add2=%s\n", n, v[0].msg_len,
	       v[1].msg_len, name(e1), name(e2));
}

/* ---- 11: the socket in another namespace than the thread ---- */
static void m_netns(void)
{
	struct msg m;
	int fd = nl_open(), e;

	add_tentative(&addr, ifindex);
	if (unshare(CLONE_NEWNET))
		die("unshare");
	route(&m, RTM_NEWROUTE, &addr, 0xcb);
	e = nl_do(fd, &m);
	printf("corners: case=netns route_answer=%s\n", name(e));
}

/* ---- 12: the program's sweeps against the shim's log socket ---- */
static int sweep_base;
static volatile int log_done;

static void *log_thread(void *arg)
{
	struct in6_addr a = addr;
	struct msg m;
	int fd = *(int *)arg, i;

	for (i = 0; i < 2000; i++) {
		a.s6_addr[14] = (uint8_t)(i >> 8);
		a.s6_addr[15] = (uint8_t)i;
		newaddr(&m, &a, ifindex, 0);
		(void)nl_do(fd, &m);
		m.h.nlmsg_type = RTM_DELADDR;
		m.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		(void)nl_do(fd, &m);
	}
	log_done = 1;
	return NULL;
}

static void m_logsweep(void)
{
	struct stat null_st, st;
	pthread_t t;
	int i, damaged = 0, sweeps = 0, log_fd;

	if (stat("/dev/null", &null_st))
		die("/dev/null");
	/* Its socket below the sweeps, before they begin. */
	log_fd = nl_open();
	sweep_base = highest_fd() + 8;
	if (pthread_create(&t, NULL, log_thread, &log_fd))
		die("pthread_create");
	for (i = 0; i < 20000 || !log_done; i++, sweeps++) {
		int fd;

		closefrom(sweep_base);
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		/* A while later, is it still the file it opened? */
		sched_yield();
		if (fstat(fd, &st) || st.st_rdev != null_st.st_rdev || !S_ISCHR(st.st_mode)) {
			if (!damaged++)
				printf("corners: first damage: fd %d %s\n", fd,
				       fstat(fd, &st) ? strerror(errno) :
				       S_ISSOCK(st.st_mode) ? "a socket" : "another file");
		}
		if (i > 200000)
			break;
	}
	pthread_join(t, NULL);
	printf("corners: case=logsweep sweeps=%d damaged=%d\n", sweeps, damaged);
}

/* ---- 13: _Fork() children while a send waits ---- */
static void m_forkwait(void)
{
	struct sender a = { .fd = nl_open() };
	pthread_t t;
	int i, ok = 0, hung = 0, in_wait;

	add_tentative(&addr, ifindex2);
	base_fds = count_fds();
	start(&a.m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	route6_body(&a.m, &addr, 0xcd, ifindex2, TABLE);
	if (pthread_create(&t, NULL, send_thread, &a))
		die("pthread_create");
	in_wait = wait_begun();
	for (i = 0; i < 50; i++) {
		pid_t pid = _Fork();	/* no fork handlers run */
		int status;

		if (pid == 0) {
			struct in6_addr x = addr;
			struct msg m;
			int fd;

			alarm(10);
			closefrom(3);
			fd = nl_open();
			x.s6_addr[13] = 0xcd;
			x.s6_addr[14] = addr.s6_addr[15];	/* one set per run */
			x.s6_addr[15] = (uint8_t)i;
			newaddr(&m, &x, ifindex, IFA_F_NODAD);
			_exit(nl_do(fd, &m) == 0 ? 0 : 3);
		}
		if (pid < 0)
			die("_Fork");
		if (waitpid(pid, &status, 0) == pid) {
			ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
			hung += WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM;
		}
	}
	pthread_join(t, NULL);
	printf("corners: case=forkwait in_wait=%d children_ok=%d hung=%d\n", in_wait, ok, hung);
}

/* ---- the rules of the wait ---- */
static void m_rule(const char *mode)
{
	struct timeval tv = { 0, 300000 };
	struct msg m;
	int fd = nl_open(), e, flags = 0;

	if (!strcmp(mode, "v4")) {
		struct in_addr src, dst;
		struct rtmsg *r;
		uint32_t table = TABLE;

		inet_pton(AF_INET, "192.0.2.1", &src);
		inet_pton(AF_INET, "198.51.100.0", &dst);
		start(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
		r = put(&m, sizeof(*r));
		r->rtm_family = AF_INET;
		r->rtm_dst_len = 24;
		r->rtm_protocol = RTPROT_STATIC;
		r->rtm_type = RTN_UNICAST;
		attr(&m, RTA_DST, &dst, sizeof(dst));
		attr(&m, RTA_PREFSRC, &src, sizeof(src));
		attr(&m, RTA_OIF, &ifindex, sizeof(ifindex));
		attr(&m, RTA_TABLE, &table, sizeof(table));
	} else {
		if (!strcmp(mode, "usable")) {
			int afd = nl_open();

			newaddr(&m, &addr, ifindex, IFA_F_NODAD);
			if (nl_do(afd, &m))
				die("nodad address");
			close(afd);
		} else {
			add_tentative(&addr, ifindex);
		}
		/* One route per run: runs share a namespace pair. */
		route(&m, RTM_NEWROUTE, &addr, 0xd0 + (addr.s6_addr[15] & 0xf));
	}
	if (!strcmp(mode, "dontwait"))
		flags = MSG_DONTWAIT;
	if (!strcmp(mode, "nonblock") && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK))
		die("O_NONBLOCK");
	if (!strcmp(mode, "sndtimeo") && setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		die("SO_SNDTIMEO");
	e = send_to(fd, &m, m.h.nlmsg_len, flags);
	if (!e) {
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		e = answer(fd, NULL, NULL);
	}
	printf("corners: case=%s route_answer=%s\n", mode, name(e));
}

int main(int argc, char **argv)
{
	const char *mode;

	if (argc < 4 || inet_pton(AF_INET6, argv[3], &addr) != 1) {
		fprintf(stderr, "usage: corners MODE IFNAME ADDR [IFNAME2]\n");
		return 2;
	}
	mode = argv[1];
	ifindex = if_nametoindex(argv[2]);
	ifindex2 = argc > 4 ? if_nametoindex(argv[4]) : 0;
	if (!ifindex || (argc > 4 && !ifindex2))
		die("if_nametoindex");
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(mode, "adddel"))
		m_adddel();
	else if (!strcmp(mode, "writev"))
		m_writev();
	else if (!strcmp(mode, "threads"))
		m_threads();
	else if (!strcmp(mode, "overrun"))
		m_overrun();
	else if (!strcmp(mode, "reuse"))
		m_reuse();
	else if (!strcmp(mode, "dup2"))
		m_dup2();
	else if (!strcmp(mode, "dup2sock"))
		m_dup2sock();
	else if (!strcmp(mode, "cancel"))
		m_cancel();
	else if (!strcmp(mode, "clonevm"))
		m_clonevm();
	else if (!strcmp(mode, "mmsg"))
		m_mmsg();
	else if (!strcmp(mode, "netns"))
		m_netns();
	else if (!strcmp(mode, "logsweep"))
		m_logsweep();
	else if (!strcmp(mode, "forkwait"))
		m_forkwait();
	else if (!strcmp(mode, "dontwait") || !strcmp(mode, "nonblock") ||
		 !strcmp(mode, "sndtimeo") || !strcmp(mode, "v4") || !strcmp(mode, "usable") ||
		 !strcmp(mode, "waitms"))
		m_rule(mode);
	else
		return 2;
	return 0;
}
