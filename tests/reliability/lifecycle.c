/*
 * lifecycle - descriptor numbers that change what they are under dadshim:
 * a netlink number closed and reused for UDP, then netlink again; dup2 over
 * a tracked netlink descriptor; close_range() (the raw system call, which
 * the shim never sees, and libc's); exec of a child during a DAD wait.
 *
 *   lifecycle reuse      IFNAME ADDR1 ADDR2
 *   lifecycle dup2       IFNAME ADDR1 ADDR2
 *   lifecycle closerange IFNAME ADDR1 ADDR2
 *   lifecycle exec       IFNAME ADDR
 *   lifecycle seccomp    IFNAME ADDR1 ADDR2 (a seccomp filter that kills
 *                         on process_vm_readv/writev, as systemd's
 *                         SystemCallFilter= allow-lists do: ADDR1 by
 *                         sendto(), ADDR2 by sendmsg())
 *   lifecycle forkpid    IFNAME ADDR1 ADDR2 (ADDR2 sent by a fork()ed child
 *                         from memory its parent overwrites meanwhile:
 *                         the shim must read the child's own memory)
 *   lifecycle closerace  IFNAME ADDR1 ADDR2 (with build/tests/reliability/closehook.so
 *                         preloaded after the shim: a number closed and at
 *                         once reused by a socket that holds a route)
 *   lifecycle fdlist     (what exec runs: lists its descriptors, exits with
 *                         their number, to compare with what the parent
 *                         itself inherited)
 *
 * ADDR1/ADDR2 are added with an RTM_NEWADDR exactly as strongSwan 5.5.1
 * builds it (ifa_flags 0, no NODAD): whether the kernel got NODAD is for
 * the caller to see with `ip`.  The bytes sent on the other descriptors
 * are that same RTM_NEWADDR; what arrives at the other end is compared
 * with what was sent.  Prints "lifecycle: case=CASE key=value ..." with
 * what the process observed; exits 0 unless the test could not run.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nltest.h"

#ifndef RTA_TABLE
#define RTA_TABLE 15
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

extern char **environ;
/* glibc >= 2.34 (the shim wraps them); declared here for -std=gnu99. */
int close_range(unsigned first, unsigned last, int flags);
void closefrom(int lowfd);
int dup3(int old, int new, int flags);

static unsigned ifindex;
static uint32_t seq_ctr = 500;

/* strongSwan 5.5.1's RTM_NEWADDR: flags 0, IFA_LOCAL, IFA_CACHEINFO. */
static void newaddr(struct msg *m, const struct in6_addr *a, uint32_t flags)
{
	struct ifa_cacheinfo ci = { 0, 0xffffffffu, 0, 0 };

	memset(m, 0, sizeof(*m));
	m->h.nlmsg_len = NLMSG_HDRLEN;
	m->h.nlmsg_type = RTM_NEWADDR;
	m->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	m->h.nlmsg_seq = ++seq_ctr;
	m->h.nlmsg_pid = (uint32_t)getpid();
	addr6_body(m, a, ifindex, flags);
	attr(m, IFA_CACHEINFO, &ci, sizeof(ci));
}

static void newroute(struct msg *m, const struct in6_addr *src, unsigned dst_byte)
{
	memset(m, 0, sizeof(*m));
	m->h.nlmsg_len = NLMSG_HDRLEN;
	m->h.nlmsg_type = RTM_NEWROUTE;
	m->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	m->h.nlmsg_seq = ++seq_ctr;
	route6_body(m, src, dst_byte, ifindex, 231);
}

/* Unbound, unlike nltest.h's nl_open(): the kernel picks the port at the
 * first send, as for a client that never calls bind(). */
static int nl_unbound(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		die("lifecycle: netlink socket");
	return fd;
}

static void nl_send(int fd, const struct msg *m)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	if (sendto(fd, m, m->h.nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) != (ssize_t)m->h.nlmsg_len)
		die("lifecycle: sendto");
}

/* The reply to @seq: 0 or -errno; -1000 - errno when recv failed. */
static int nl_reply(int fd, uint32_t seq)
{
	char buf[8192];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_TRUNC);
		const struct nlmsghdr *h = (const void *)buf;
		int len = (int)n;

		if (n < 0)
			return -1000 - errno;
		for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len))
			if (h->nlmsg_type == NLMSG_ERROR && h->nlmsg_seq == seq)
				return ((const struct nlmsgerr *)NLMSG_DATA(h))->error;
	}
}

static int nl_do(int fd, const struct msg *m)
{
	nl_send(fd, m);
	return nl_reply(fd, m->h.nlmsg_seq);
}

/* A UDP receiver on ::1 and a UDP socket connected to it. */
static int udp_pair(int *rx)
{
	struct sockaddr_in6 sa;
	socklen_t len = sizeof(sa);
	int tx;

	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_addr = in6addr_loopback;
	*rx = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (*rx < 0 || bind(*rx, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(*rx, (struct sockaddr *)&sa, &len) < 0)
		die("lifecycle: udp receiver");
	tx = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (tx < 0 || connect(tx, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("lifecycle: udp sender");
	return tx;
}

/* Sends @m's bytes on @fd with write, send, sendto and sendmsg; returns
 * how many of those arrived at @rx byte for byte as sent. */
static int same_bytes(int fd, int rx, const struct msg *m)
{
	char got[512];
	int i, same = 0;

	for (i = 0; i < 4; i++) {
		struct iovec iov[2] = {
			{ (void *)m, 16 },
			{ (char *)m + 16, m->h.nlmsg_len - 16 },
		};
		struct msghdr mh = { NULL, 0, iov, 2, NULL, 0, 0 };
		ssize_t n;

		switch (i) {
		case 0: n = write(fd, m, m->h.nlmsg_len); break;
		case 1: n = send(fd, m, m->h.nlmsg_len, 0); break;
		case 2: n = sendto(fd, m, m->h.nlmsg_len, 0, NULL, 0); break;
		default: n = sendmsg(fd, &mh, 0); break;
		}
		if (n != (ssize_t)m->h.nlmsg_len)
			continue;
		n = read(rx, got, sizeof(got));
		if (n == (ssize_t)m->h.nlmsg_len && !memcmp(got, m, (size_t)n))
			same++;
	}
	return same;
}

static int parse(const char *s, struct in6_addr *a)
{
	return inet_pton(AF_INET6, s, a) == 1;
}

static int case_reuse(const struct in6_addr *a1, const struct in6_addr *a2)
{
	struct msg m;
	int n, u, rx, n2, e1, e2, same;

	n = nl_unbound();
	newaddr(&m, a1, 0);
	e1 = nl_do(n, &m);
	close(n);
	u = udp_pair(&rx);
	if (u != n) {
		/* udp_pair's receiver took the number: swap roles. */
		int t = u;

		u = rx;
		rx = t;
		if (u != n)
			fprintf(stderr, "lifecycle: number %d not reused (%d/%d)\n", n, u, rx);
	}
	{
		/* Connect whichever is at @n to the other. */
		struct sockaddr_in6 sa;
		socklen_t len = sizeof(sa);

		if (getsockname(rx, (struct sockaddr *)&sa, &len) < 0 ||
		    connect(u, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			die("lifecycle: connect");
	}
	newaddr(&m, a2, 0);	/* bytes of an RTM_NEWADDR without NODAD */
	same = same_bytes(u, rx, &m);
	close(u);
	close(rx);
	n2 = nl_unbound();
	newaddr(&m, a2, 0);
	e2 = nl_do(n2, &m);
	close(n2);
	printf("lifecycle: case=reuse number=%d udp_number=%d netlink_again_number=%d "
	       "addr1=%d udp_sent=4 udp_unchanged=%d addr2=%d\n", n, u, n2, e1, same, e2);
	return 0;
}

static int case_dup2(const struct in6_addr *a1, const struct in6_addr *a2)
{
	struct msg m, look;
	int n, u, rx, other, orx, e1, e2, same, got_same = 0;
	struct nlmsgerr fake;

	n = nl_unbound();
	newaddr(&m, a1, IFA_F_NODAD);
	e1 = nl_do(n, &m);
	/* A route the shim holds; its reply stays queued, unread. */
	newroute(&m, a1, 0xd1);
	nl_send(n, &m);
	u = udp_pair(&rx);
	if (dup2(u, n) != n)
		die("lifecycle: dup2");
	close(u);
	/* The number is UDP now: bytes go out as given ... */
	newaddr(&look, a2, 0);
	same = same_bytes(n, rx, &look);
	/* ... and what comes in is delivered as it came, even an EINVAL
	 * for the seq of the route sent on the old netlink socket. */
	memset(&fake, 0, sizeof(fake));
	fake.error = -EINVAL;
	fake.msg = m.h;
	{
		struct { struct nlmsghdr h; struct nlmsgerr e; } d = {
			{ sizeof(d), NLMSG_ERROR, 0, m.h.nlmsg_seq, 0 }, fake };
		struct sockaddr_in6 sa;
		socklen_t len = sizeof(sa);
		char buf[512];
		ssize_t r;

		if (getsockname(n, (struct sockaddr *)&sa, &len) < 0 ||
		    sendto(rx, &d, sizeof(d), 0, (struct sockaddr *)&sa, len) != sizeof(d))
			die("lifecycle: udp reply");
		r = recv(n, buf, sizeof(buf), MSG_TRUNC);
		got_same = r == (ssize_t)sizeof(d) && !memcmp(buf, &d, sizeof(d));
	}
	/* A netlink socket dup2'ed over a UDP number. */
	other = udp_pair(&orx);
	{
		int nl = nl_unbound();

		if (dup2(nl, other) != other)
			die("lifecycle: dup2");
		close(nl);
	}
	newaddr(&m, a2, 0);
	e2 = nl_do(other, &m);
	close(other);
	close(orx);
	close(n);
	close(rx);
	printf("lifecycle: case=dup2 addr1=%d udp_sent=4 udp_unchanged=%d "
	       "udp_received_as_sent=%d addr2=%d\n", e1, same, got_same, e2);
	return 0;
}

static int case_closerange(const struct in6_addr *a1, const struct in6_addr *a2)
{
	char path[] = "/tmp/dadshim-lifecycle.XXXXXX";
	int a, b, c, f, f2, sp[2], same_file, same_file2 = 0, same_unix = 0;
	int e1, e2, e3, n;
	struct msg m, look;
	char buf[512];

	a = nl_unbound();
	b = nl_unbound();
	c = nl_unbound();
	newaddr(&m, a1, IFA_F_NODAD);
	e1 = nl_do(a, &m);
	/* b has sent a route, its reply unread. */
	newroute(&m, a1, 0xd2);
	nl_send(b, &m);
	/* Behind the shim's back. */
	if (syscall(SYS_close_range, (unsigned)a, (unsigned)c, 0u) < 0)
		die("lifecycle: close_range");
	f = mkstemp(path);	/* takes a */
	if (f < 0)
		die("lifecycle: mkstemp");
	unlink(path);
	f2 = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);	/* takes b */
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sp) < 0)	/* c */
		die("lifecycle: socketpair");
	newaddr(&look, a2, 0);
	/* a: a file written with what looks like an RTM_NEWADDR. */
	{
		ssize_t w = write(f, &look, look.h.nlmsg_len);

		same_file = w == (ssize_t)look.h.nlmsg_len &&
			    pread(f, buf, sizeof(buf), 0) == w &&
			    !memcmp(buf, &look, (size_t)w);
	}
	/* b was the netlink socket with a reply unread: read() on the file there must be
	 * the file's bytes. */
	{
		char want[64];
		ssize_t r1 = pread(f2, want, sizeof(want), 0);
		ssize_t r2 = read(f2, buf, sizeof(want));

		same_file2 = r1 == (ssize_t)sizeof(want) && r2 == r1 && !memcmp(want, buf, sizeof(want));
	}
	/* c: a datagram socket the shim never saw being made. */
	if (send(sp[0], &look, look.h.nlmsg_len, 0) == (ssize_t)look.h.nlmsg_len &&
	    recv(sp[1], buf, sizeof(buf), 0) == (ssize_t)look.h.nlmsg_len &&
	    !memcmp(buf, &look, look.h.nlmsg_len))
		same_unix = 1;
	printf("lifecycle: case=closerange numbers=%d,%d,%d reused_as=%d,%d,%d "
	       "file_unchanged=%d held_number_read_as_file=%d unix_unchanged=%d ",
	       a, b, c, f, f2, sp[0], same_file, same_file2, same_unix);
	/* libc's close_range(), which the shim wraps; then netlink again. */
	if (close_range((unsigned)a, (unsigned)(sp[1] > c ? sp[1] : c), 0) < 0)
		die("lifecycle: close_range()");
	n = nl_unbound();
	newaddr(&m, a2, 0);
	e2 = nl_do(n, &m);
	newroute(&m, a2, 0xd3);
	e3 = nl_do(n, &m);
	printf("netlink_again_number=%d addr1=%d addr2=%d route=%d\n", n, e1, e2, e3);
	close(n);
	return 0;
}

/* exec during a DAD wait */
static int ex_fd = -1, ex_result = 1;
static struct in6_addr ex_addr;

static void *ex_route(void *arg)
{
	struct msg m;

	(void)arg;
	newroute(&m, &ex_addr, 0xd4);
	ex_result = nl_do(ex_fd, &m);
	return NULL;
}

static int case_exec(const char *self, const struct in6_addr *a)
{
	char *const args[] = { (char *)self, (char *)"fdlist", NULL };
	struct msg m;
	pthread_t t;
	int base, i, seen = 0, st1 = -1, st2 = -1, e, status;
	int inherited = count_fds();	/* what this process got at exec */
	pid_t pid;

	ex_addr = *a;
	ex_fd = nl_unbound();
	newaddr(&m, a, 0);	/* tentative, unless the shim sets NODAD */
	e = nl_do(ex_fd, &m);
	base = count_fds();
	if (pthread_create(&t, NULL, ex_route, NULL))
		die("lifecycle: pthread_create");
	/* The shim's private socket open means the wait is on. */
	for (i = 0; i < 2000 && !seen; i++) {
		seen = count_fds() > base;
		if (!seen)
			sleep_ms(5);
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("lifecycle: fork");
	if (pid == 0) {
		execve(self, args, environ);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) == pid && WIFEXITED(status))
		st1 = WEXITSTATUS(status);
	if (posix_spawn(&pid, self, NULL, NULL, args, environ) == 0 &&
	    waitpid(pid, &status, 0) == pid && WIFEXITED(status))
		st2 = WEXITSTATUS(status);
	pthread_join(t, NULL);
	close(ex_fd);
	printf("lifecycle: case=exec addr=%d wait_seen=%d inherited_fds=%d "
	       "fork_exec_child_fds=%d posix_spawn_child_fds=%d route=%d\n", e, seen,
	       inherited, st1, st2, ex_result);
	return 0;
}

/* Exit status: the number of descriptors open (all listed on stdout). */
static int fdlist(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int nfds = 0;

	if (!d)
		return 100;
	while ((e = readdir(d))) {
		char p[64], target[256];
		ssize_t n;
		int fd = atoi(e->d_name);

		if (e->d_name[0] == '.' || fd == dirfd(d))
			continue;
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		n = readlink(p, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		printf("lifecycle: fdlist: child %d has fd %d -> %s\n", (int)getpid(), fd, target);
		nfds++;
	}
	closedir(d);
	return nfds;
}

/* A NETLINK_ROUTE socket the shim never saw made (as one inherited
 * across exec would be): made by the raw system call.  Its first use
 * classifies it: the RTM_NEWADDR, sent with write(), gets NODAD. */
static int case_inherit(const struct in6_addr *a1, const struct in6_addr *a2)
{
	struct msg m;
	int fd = (int)syscall(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
			      NETLINK_ROUTE);
	int e1, e2;

	if (fd < 0)
		die("lifecycle: raw netlink socket");
	newaddr(&m, a1, 0);
	if (write(fd, &m, m.h.nlmsg_len) != (ssize_t)m.h.nlmsg_len)
		die("lifecycle: write");
	e1 = nl_reply(fd, m.h.nlmsg_seq);
	newaddr(&m, a2, 0);
	e2 = nl_do(fd, &m);
	close(fd);
	printf("lifecycle: case=inherit addr1=%d addr2=%d\n", e1, e2);
	return 0;
}

/* @mh: @m in one iovec @iov, addressed to the kernel, for sendmsg(). */
static void msg_to_kernel(struct msghdr *mh, struct iovec *iov, struct msg *m)
{
	static struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	iov->iov_base = m;
	iov->iov_len = m->h.nlmsg_len;
	memset(mh, 0, sizeof(*mh));
	mh->msg_name = &kernel;
	mh->msg_namelen = sizeof(kernel);
	mh->msg_iov = iov;
	mh->msg_iovlen = 1;
}

/* closerace: closehook.so calls this right after the real close() of the
 * first socket, before the shim's close() returns: a new socket gets the
 * number and sends a route whose source is tentative, which the shim
 * holds.  Its state must survive the end of the shim's close(). */
static int race_fd = -1;
static struct in6_addr race_src;
static uint32_t race_seq;

static void race_reuse(int number)
{
	struct msg m;

	race_fd = nl_unbound();
	if (race_fd != number)
		fprintf(stderr, "lifecycle: number %d not reused (%d)\n", number, race_fd);
	newroute(&m, &race_src, 0xe6);
	nl_send(race_fd, &m);
	race_seq = m.h.nlmsg_seq;
}

static int case_closerace(const struct in6_addr *a1, const struct in6_addr *a2)
{
	void (**hook)(int) = (void (**)(int))dlsym(RTLD_DEFAULT, "closehook_fn");
	struct msg m;
	int fd, number, e1, e2;

	if (!hook)
		die("lifecycle: closehook.so is not preloaded");
	fd = nl_unbound();
	newaddr(&m, a1, 0);	/* tentative: DADSHIM_NODAD=0 */
	e1 = nl_do(fd, &m);
	race_src = *a1;
	number = fd;
	*hook = race_reuse;
	close(fd);
	e2 = race_fd >= 0 ? nl_reply(race_fd, race_seq) : -2000;
	if (race_fd >= 0)
		close(race_fd);
	(void)a2;
	printf("lifecycle: case=closerace addr1=%d reused=%d route=%d\n", e1,
	       race_fd == number, e2);
	return 0;
}

/* seccomp: the process is killed if anything in it asks the kernel to
 * copy its memory (process_vm_readv/writev); the shim reads it directly,
 * so the requests go out with NODAD and the process lives. */
#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS SECCOMP_RET_KILL
#endif
static int case_seccomp(const struct in6_addr *a1, const struct in6_addr *a2)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_readv, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_writev, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(filter) / sizeof(filter[0]), filter };
	struct iovec iov;
	struct msghdr mh;
	struct msg m;
	int fd = nl_unbound(), e1, e2, ok_errno;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
		die("lifecycle: seccomp");
	newaddr(&m, a1, 0);
	e1 = nl_do(fd, &m);
	newaddr(&m, a2, 0);
	msg_to_kernel(&mh, &iov, &m);
	errno = 0;
	if (sendmsg(fd, &mh, 0) != (ssize_t)m.h.nlmsg_len)
		die("lifecycle: sendmsg");
	ok_errno = errno;	/* a success leaves errno alone */
	e2 = nl_reply(fd, m.h.nlmsg_seq);
	close(fd);
	printf("lifecycle: case=seccomp addr1=%d addr2=%d ok_errno=%d\n", e1, e2, ok_errno);
	return 0;
}

/* forkpid: the shim reads the caller's bytes through the kernel by pid;
 * after fork() it must be the child's pid.  The parent clears the request
 * the child is about to send: read from the parent, it would look like
 * nothing to change, and ADDR2 would reach the kernel without NODAD. */
static struct msg fork_req;

static int case_forkpid(const struct in6_addr *a1, const struct in6_addr *a2)
{
	struct msg m;
	int fd = nl_unbound(), e1, status = 0;
	pid_t pid;

	newaddr(&m, a1, 0);
	e1 = nl_do(fd, &m);	/* the shim has looked at this process */
	newaddr(&fork_req, a2, 0);
	pid = fork();
	if (pid < 0)
		die("lifecycle: fork");
	if (pid == 0) {
		sleep_ms(200);	/* until the parent has cleared fork_req */
		_exit(nl_do(fd, &fork_req) == 0 ? 0 : 1);
	}
	memset(&fork_req, 0, sizeof(fork_req));
	if (waitpid(pid, &status, 0) != pid)
		die("lifecycle: waitpid");
	close(fd);
	printf("lifecycle: case=forkpid addr1=%d child=%d\n", e1,
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

int main(int argc, char **argv)
{
	struct in6_addr a1, a2;

	if (argc == 2 && !strcmp(argv[1], "fdlist"))
		return fdlist();
	if (argc < 4 || !(ifindex = if_nametoindex(argv[2])) || !parse(argv[3], &a1) ||
	    (argc > 4 && !parse(argv[4], &a2))) {
		fprintf(stderr, "usage: lifecycle CASE IFNAME ADDR1 [ADDR2]\n");
		return 2;
	}
	alarm(60);	/* a guard against a hang */
	if (!strcmp(argv[1], "exec"))
		return case_exec("/proc/self/exe", &a1);
	if (argc != 5)
		return 2;
	if (!strcmp(argv[1], "reuse"))
		return case_reuse(&a1, &a2);
	if (!strcmp(argv[1], "dup2"))
		return case_dup2(&a1, &a2);
	if (!strcmp(argv[1], "closerange"))
		return case_closerange(&a1, &a2);
	if (!strcmp(argv[1], "inherit"))
		return case_inherit(&a1, &a2);
	if (!strcmp(argv[1], "forkpid"))
		return case_forkpid(&a1, &a2);
	if (!strcmp(argv[1], "seccomp"))
		return case_seccomp(&a1, &a2);
	if (!strcmp(argv[1], "closerace"))
		return case_closerace(&a1, &a2);
	return 2;
}
