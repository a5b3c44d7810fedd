/*
 * corners - the twelve defects of issue 16, one mode each, as a program
 * sees them: return values, errno, signals, its own descriptors and
 * threads (/proc/self/fd, /proc/self/status), and what the kernel answered.
 *
 *   corners MODE IFNAME PREFIX
 *
 * PREFIX is the first two groups of the IPv6 addresses the mode adds to
 * IFNAME (PREFIX::1, PREFIX::2, ...), with ifa_flags 0 and no IFA_F_NODAD:
 * run the route modes under the shim with DADSHIM_NODAD=0, so that the
 * address really is tentative and the kernel refuses a route with it as
 * its source (EINVAL).  Routes go into table 233, fd00:XX::/64 (XX per
 * mode, below).  Every mode prints one line "corners: mode=MODE k=v ...";
 * an answer is 0 or -errno as the kernel's NLMSG_ERROR said, or
 * -1000 - errno when the receive itself failed (-1011: EAGAIN, the
 * socket's 20 s receive timeout, i.e. a read that would have hung).
 * tests/reliability/corners.sh compares with and without the shim and
 * asks `ip` what the kernel did.
 *
 *   sendmmsg   (defect 1) in a child with process_vm_writev refused by
 *              seccomp (EPERM), an RTM_NEWADDR of ::1 by sendmmsg() whose
 *              mmsghdr array is in a read-only page: "sendmmsg" is the
 *              result (-errno), "signal" the signal that ended the child
 *   forkown    (defect 2) children made by glibc's _Fork() and by a raw
 *              clone() without CLONE_VM each add an address (::2, ::4)
 *              from a buffer their parent then overwrites in its own
 *              memory with another one (::3, ::5): the kernel must get
 *              the child's
 *   zeroiov    (defect 3) sendmsg() of an RTM_NEWADDR of ::1 with a second
 *              iovec of length 0 at a kernel address
 *   sameseq    (defect 4) one route (fd00:44::/64) sent twice, same seq,
 *              before reading: a1, a2 the two answers, "extra" the
 *              answers queued after them
 *   adddel     (defect 5) an add of fd00:45::/64 (seq 501) then its delete
 *              (seq 502), pipelined: the answers in the order read
 *   stdin      (defect 6) stdin closed; a route (fd00:46::/64) read with
 *              MSG_DONTWAIT, then fd 0 watched until DAD ended; then a
 *              route (fd00:47::/64) read by a blocked thread while the
 *              main thread watches fd 0 (struct fd0_watch: "open",
 *              "held", "ack")
 *   closerange-nb  (defect 6) a route (fd00:48::/64) read with
 *              MSG_DONTWAIT, then close_range(3, ~0U, 0) and new
 *              descriptors (a UDP pair, files): until DAD ended and 1 s
 *              more, were any closed behind the program's back ("lost"),
 *              did anything arrive on its UDP receiver ("foreign")?
 *   closerange-wait  (defect 6) 4 rounds: a thread blocked on a route's
 *              answer (fd00:60::/64, 61, 62, 63); as soon as the lowest
 *              free number is taken (the wait's first descriptor), and
 *              4 us, 32 us, 256 us, 2 ms later, the main thread closes
 *              every number above its socket (close_range in rounds 0
 *              and 2, closefrom in 1 and 3) and opens files:
 *              "wait_seen" (rounds), "lost", "answers" (a list)
 *   rebind     (defect 7) a socket bound to an explicit nl_pid reads a
 *              route's (fd00:4a::/64) answer with MSG_DONTWAIT, is
 *              closed, and a new one binds the same nl_pid: "rebind"
 *   forkwait   (defect 8) 4 rounds, a thread blocked on a route's answer
 *              (fd00:70::/64, 71, 72, 73) and a fork(): in round 0 while
 *              the thread waits, in the others as soon as the wait's first
 *              descriptor appears (+4 us, 32 us, 256 us): "child_extra",
 *              the children's descriptors the program never opened,
 *              "wait_seen" (rounds), "answers"
 *   threads    (defect 9) a single-threaded program reads a route's
 *              (fd00:4c::/64) answer with MSG_DONTWAIT ("first"), then
 *              another's (fd00:4f::/64) on the socket made O_NONBLOCK
 *              ("nonblock"); then "threads" (/proc/self/status) and
 *              unshare(CLONE_NEWUSER)
 *   vfork      (defect 10) three routes (fd00:a0/a1/a2::/64), each read by
 *              a blocking recv after: no child; a vfork() child that
 *              closes its copy of the socket; a vfork() child that calls
 *              close_range(3, ~0U, 0) and execs /bin/true (Python's
 *              subprocess)
 *   cancel     (defect 11; with build/tests/reliability/cancelhook.so
 *              preloaded after the shim) a thread blocked on a route's
 *              (fd00:4d::/64) answer is cancelled when the shim sends
 *              the route again: "hooked", "cancelled", "leaked"; then
 *              one (fd00:80::/64) is cancelled by the main thread while
 *              it waits for DAD: "wait_cancelled", "wait_leaked"; then an
 *              address is added on the same socket ("after")
 *   emfile     (defect 12) a blocking read of a route's (fd00:4e::/64)
 *              answer with every descriptor taken (RLIMIT_NOFILE)
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nltest.h"

#ifndef RTA_TABLE
#define RTA_TABLE 15
#endif

#define TABLE 233
#define MAXFD 65536	/* the shim's own numbers may be high: up to 4096 */

/* glibc >= 2.34 (the shim wraps them); declared here for -std=gnu99. */
int close_range(unsigned first, unsigned last, int flags);
void closefrom(int lowfd);

extern char **environ;

static unsigned ifindex;
static char prefix[64];
static uint32_t seq_ctr = 500;

/* PREFIX::@n */
static struct in6_addr addr_n(unsigned n)
{
	char s[96];
	struct in6_addr a;

	snprintf(s, sizeof(s), "%s::%x", prefix, n);
	if (inet_pton(AF_INET6, s, &a) != 1)
		die("corners: address");
	return a;
}

/* strongSwan 5.5.1's RTM_NEWADDR: ifa_flags 0, no NODAD. */
static void newaddr(struct msg *m, const struct in6_addr *a)
{
	memset(m, 0, sizeof(*m));
	m->h.nlmsg_len = NLMSG_HDRLEN;
	m->h.nlmsg_type = RTM_NEWADDR;
	m->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	m->h.nlmsg_seq = ++seq_ctr;
	addr6_body(m, a, ifindex, 0);
}

static void route(struct msg *m, uint16_t type, const struct in6_addr *src,
		  unsigned dst_byte, uint32_t seq)
{
	memset(m, 0, sizeof(*m));
	m->h.nlmsg_len = NLMSG_HDRLEN;
	m->h.nlmsg_type = type;
	m->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (type == RTM_NEWROUTE)
		m->h.nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
	m->h.nlmsg_seq = seq ? seq : ++seq_ctr;
	route6_body(m, src, dst_byte, ifindex, TABLE);
}

/* Every receive on it ends within 20 s: a read that would hang fails
 * with EAGAIN instead, and the case says so. */
static void bound_reads(int s)
{
	struct timeval tv = { 20, 0 };

	if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		die("corners: SO_RCVTIMEO");
}

static int nl_sock(void)
{
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (s < 0)
		die("corners: netlink socket");
	bound_reads(s);
	return s;
}

static void nl_send(int s, const struct msg *m)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	if (sendto(s, m, m->h.nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) != (ssize_t)m->h.nlmsg_len)
		die("corners: sendto");
}

/* The next NLMSG_ERROR read from @s (@seq set): its error, or -1000 -
 * errno when the receive failed. */
static int next_answer(int s, int flags, uint32_t *seq)
{
	char buf[8192];

	for (;;) {
		ssize_t n = recv(s, buf, sizeof(buf), flags);
		const struct nlmsghdr *h = (const void *)buf;
		int len = (int)n;

		if (n < 0)
			return -1000 - errno;
		for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len))
			if (h->nlmsg_type == NLMSG_ERROR) {
				*seq = h->nlmsg_seq;
				return ((const struct nlmsgerr *)NLMSG_DATA(h))->error;
			}
	}
}

/* The answer to @seq (earlier ones skipped). */
static int answer(int s, uint32_t seq, int flags)
{
	for (;;) {
		uint32_t got = 0;
		int e = next_answer(s, flags, &got);

		if (e <= -1000 || got == seq)
			return e;
	}
}

static int nl_do(int s, const struct msg *m)
{
	nl_send(s, m);
	return answer(s, m->h.nlmsg_seq, 0);
}

/* Adds PREFIX::@n (tentative: DAD runs); exits unless the kernel says ok. */
static struct in6_addr add_addr(int s, unsigned n)
{
	struct in6_addr a = addr_n(n);
	struct msg m;
	int e;

	newaddr(&m, &a);
	if ((e = nl_do(s, &m)) != 0) {
		fprintf(stderr, "corners: adding %s::%x: %d\n", prefix, n, e);
		exit(2);
	}
	return a;
}

/* The kernel's flags of @a (/proc/net/if_inet6), or -1 when absent. */
static int addr_flags(const struct in6_addr *a)
{
	char want[33], line[256];
	FILE *f = fopen("/proc/net/if_inet6", "r");
	int i, flags = -1;

	if (!f)
		die("corners: /proc/net/if_inet6");
	for (i = 0; i < 16; i++)
		snprintf(want + 2 * i, 3, "%02x", a->s6_addr[i]);
	while (fgets(line, sizeof(line), f)) {
		unsigned idx, plen, scope, fl;
		char hex[40];

		if (sscanf(line, "%39s %x %x %x %x", hex, &idx, &plen, &scope, &fl) == 5 &&
		    !strcmp(hex, want))
			flags = (int)fl;
	}
	fclose(f);
	return flags;
}

/* Until DAD of @a ended (bounded: 20 s). */
static void wait_dad(const struct in6_addr *a)
{
	int i;

	for (i = 0; i < 400; i++) {
		int fl = addr_flags(a);

		if (fl >= 0 && !(fl & IFA_F_TENTATIVE))
			return;
		sleep_ms(50);
	}
}

/* ---- descriptors ---- */

struct fdset {
	unsigned char on[MAXFD / 8];	/* a bit per number */
};

static int fd_in(const struct fdset *set, int fd)
{
	return (set->on[fd / 8] >> (fd % 8)) & 1;
}

/* The open descriptors, without the one reading them. */
static void fds_now(struct fdset *set)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	memset(set, 0, sizeof(*set));
	if (!d)
		return;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] != '.' && fd != dirfd(d) && fd >= 0 && fd < MAXFD)
			set->on[fd / 8] |= (unsigned char)(1u << (fd % 8));
	}
	closedir(d);
}

/* Open descriptors not in @base. */
static int fds_extra(const struct fdset *base)
{
	struct fdset now;
	int fd, n = 0;

	fds_now(&now);
	for (fd = 0; fd < MAXFD; fd++)
		if (fd_in(&now, fd) && !fd_in(base, fd))
			n++;
	return n;
}

static int is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* ---- a thread blocked on a route's answer ---- */

struct waiter {
	int s;
	struct msg m;
	int answer;
	int done;
	int testcancel;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;

	nl_send(w->s, &w->m);
	if (w->testcancel) {
		/* The hook cancels this thread at the shim's resend. */
		int *armed = dlsym(RTLD_DEFAULT, "cancelhook_armed");

		if (armed)
			__atomic_store_n(armed, 1, __ATOMIC_SEQ_CST);
	}
	w->answer = answer(w->s, w->m.h.nlmsg_seq, 0);
	if (w->testcancel)
		pthread_testcancel();	/* a cancel left pending in the shim */
	__atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void waiter_start(pthread_t *t, struct waiter *w)
{
	if (pthread_create(t, NULL, waiter_main, w))
		die("corners: thread");
}

static int waiter_done(struct waiter *w)
{
	return __atomic_load_n(&w->done, __ATOMIC_SEQ_CST);
}

/* Until a descriptor outside @base appears (the shim's wait has begun) or
 * @w is done; bounded (15 s). */
static int wait_begun(const struct fdset *base, struct waiter *w)
{
	int i;

	for (i = 0; i < 1500 && !waiter_done(w); i++) {
		if (fds_extra(base) > 0)
			return 1;
		sleep_ms(10);
	}
	return 0;
}

/* ---- the modes ---- */

static int mode_sendmmsg(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_writev, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(filter) / sizeof(filter[0]), filter };
	int status = 0, sig = 0, code = -1;
	pid_t pid = fork();

	if (pid < 0)
		die("corners: fork");
	if (pid == 0) {
		static struct msg m;
		static struct iovec iov;
		struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
		struct in6_addr a = addr_n(1);
		struct mmsghdr *vec;
		int s = nl_sock(), n;

		vec = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (vec == MAP_FAILED)
			_exit(120);
		newaddr(&m, &a);
		iov.iov_base = &m;
		iov.iov_len = m.h.nlmsg_len;
		vec[0].msg_hdr.msg_name = &kernel;
		vec[0].msg_hdr.msg_namelen = sizeof(kernel);
		vec[0].msg_hdr.msg_iov = &iov;
		vec[0].msg_hdr.msg_iovlen = 1;
		/* Readable, not writable: the kernel cannot store msg_len. */
		if (mprotect(vec, 4096, PROT_READ) < 0 ||
		    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
			_exit(121);
		n = sendmmsg(s, vec, 1, 0);
		_exit(n < 0 ? (errno < 100 ? errno : 99) : 100 + n);
	}
	if (waitpid(pid, &status, 0) != pid)
		die("corners: waitpid");
	if (WIFSIGNALED(status))
		sig = WTERMSIG(status);
	else
		code = WEXITSTATUS(status);
	printf("corners: mode=sendmmsg sendmmsg=%d signal=%d\n",
	       code < 0 ? 0 : code >= 100 ? code - 100 : -code, sig);
	return 0;
}

static struct msg fork_req;

/* A child by _Fork() (@how 0) or a raw clone() (1) sends fork_req after
 * its parent has overwritten its own copy with PREFIX::@other. Returns
 * the child's status: 0 (acked), 1 (refused), 128 + signal, -1 when the
 * way is missing. */
static int child_sends(int s, int how, unsigned other)
{
	pid_t (*fork_fn)(void) = NULL;
	void *p = dlsym(RTLD_DEFAULT, "_Fork");
	struct in6_addr a = addr_n(other);
	int sync[2], status = 0;
	uint32_t seq;
	pid_t pid;

	if (pipe(sync) < 0)
		die("corners: pipe");
	if (how == 0) {
		if (!p)
			return -1;
		memcpy(&fork_fn, &p, sizeof(p));
		pid = fork_fn();
	} else {
		pid = (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, NULL);
	}
	if (pid < 0)
		die("corners: _Fork/clone");
	if (pid == 0) {
		char c;

		if (read(sync[0], &c, 1) != 1)
			_exit(3);
		_exit(nl_do(s, &fork_req) == 0 ? 0 : 1);
	}
	/* The parent's memory only: the child has its own copy.  The same
	 * seq, so that a child given these bytes still gets an answer. */
	seq = fork_req.h.nlmsg_seq;
	newaddr(&fork_req, &a);
	fork_req.h.nlmsg_seq = seq;
	if (write(sync[1], "x", 1) != 1)
		die("corners: pipe write");
	if (waitpid(pid, &status, 0) != pid)
		die("corners: waitpid");
	close(sync[0]);
	close(sync[1]);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int mode_forkown(void)
{
	int s = nl_sock(), f, c;
	struct in6_addr a;

	add_addr(s, 1);	/* the shim has looked at this process */
	a = addr_n(2);
	newaddr(&fork_req, &a);
	f = child_sends(s, 0, 3);
	a = addr_n(4);
	newaddr(&fork_req, &a);
	c = child_sends(s, 1, 5);
	printf("corners: mode=forkown fork_child=%d clone_child=%d\n", f, c);
	return 0;
}

static int mode_zeroiov(void)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct in6_addr a = addr_n(1);
	struct iovec iov[2];
	struct msghdr mh;
	struct msg m;
	int s = nl_sock(), r = 0;
	ssize_t n;

	newaddr(&m, &a);
	iov[0].iov_base = &m;
	iov[0].iov_len = m.h.nlmsg_len;
	iov[1].iov_base = (void *)(uintptr_t)0xffff888000000000ull;	/* kernel space */
	iov[1].iov_len = 0;
	memset(&mh, 0, sizeof(mh));
	mh.msg_name = &kernel;
	mh.msg_namelen = sizeof(kernel);
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	n = sendmsg(s, &mh, 0);
	if (n >= 0)
		r = answer(s, m.h.nlmsg_seq, 0);
	printf("corners: mode=zeroiov sendmsg=%d answer=%d\n", n < 0 ? -errno : (int)n, r);
	return 0;
}

static int mode_sameseq(void)
{
	int s = nl_sock(), a1, a2, extra = 0;
	struct in6_addr a = add_addr(s, 1);
	uint32_t q1 = 0, q2 = 0, q3 = 0;
	struct msg m;

	route(&m, RTM_NEWROUTE, &a, 0x44, 0);
	nl_send(s, &m);
	nl_send(s, &m);
	a1 = next_answer(s, 0, &q1);
	a2 = next_answer(s, 0, &q2);
	/* Anything more queued would be a third answer to two requests. */
	while (next_answer(s, MSG_DONTWAIT, &q3) > -1000)
		extra++;
	printf("corners: mode=sameseq seq=%u a1=%d a2=%d seq1=%u seq2=%u extra=%d\n",
	       m.h.nlmsg_seq, a1, a2, q1, q2, extra);
	return 0;
}

static int mode_adddel(void)
{
	int s = nl_sock(), e1, e2;
	struct in6_addr a = add_addr(s, 1);
	uint32_t q1 = 0, q2 = 0;
	struct msg add, del;

	route(&add, RTM_NEWROUTE, &a, 0x45, 501);
	route(&del, RTM_DELROUTE, &a, 0x45, 502);
	nl_send(s, &add);
	nl_send(s, &del);
	e1 = next_answer(s, 0, &q1);
	e2 = next_answer(s, 0, &q2);
	printf("corners: mode=adddel first_seq=%u first=%d second_seq=%u second=%d\n",
	       q1, e1, q2, e2);
	return 0;
}

/* What was seen at fd 0, closed by the program, sample after sample:
 * ever open (the shim's wait socket may pass through the lowest free
 * number for the moment it takes to move it high), "held" (the same open
 * file still there 200 ms after it was first seen: a descriptor the shim
 * keeps at 0), a netlink answer read from it. */
struct fd0_watch {
	int open;
	int held;
	int ack;
	dev_t dev;
	ino_t ino;
	uint64_t since;	/* ms; 0: nothing at fd 0 at the last sample */
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t now_ms(void)
{
	return now_us() / 1000u;
}

static void watch_fd0(struct fd0_watch *r)
{
	struct pollfd p = { 0, POLLIN, 0 };
	struct stat st;

	if (fstat(0, &st) < 0) {
		r->since = 0;
		return;
	}
	r->open = 1;
	if (!r->since || st.st_dev != r->dev || st.st_ino != r->ino) {
		r->dev = st.st_dev;
		r->ino = st.st_ino;
		r->since = now_ms();
	} else if (now_ms() - r->since >= 200) {
		r->held = 1;
	}
	if (poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
		char buf[4096];
		ssize_t n = recv(0, buf, sizeof(buf), MSG_DONTWAIT);
		const struct nlmsghdr *h = (const void *)buf;

		if (n >= (ssize_t)sizeof(*h) && h->nlmsg_type == NLMSG_ERROR)
			r->ack = 1;
	}
}

static int mode_stdin(void)
{
	struct fd0_watch nb, wt;
	struct waiter w;
	struct in6_addr a;
	struct msg m;
	pthread_t t;
	int s, first, i;

	memset(&nb, 0, sizeof(nb));
	memset(&wt, 0, sizeof(wt));
	/* The program's own socket first: it must not be the one at 0. */
	s = nl_sock();
	close(0);
	/* A non-blocking reader. */
	a = add_addr(s, 1);
	route(&m, RTM_NEWROUTE, &a, 0x46, 0);
	nl_send(s, &m);
	first = answer(s, m.h.nlmsg_seq, MSG_DONTWAIT);
	for (i = 0; i < 400 && (i < 20 || (addr_flags(&a) & IFA_F_TENTATIVE)); i++) {
		watch_fd0(&nb);
		sleep_ms(50);
	}
	/* A thread that waits, the main thread watching. */
	memset(&w, 0, sizeof(w));
	w.s = s;
	a = add_addr(s, 2);
	route(&w.m, RTM_NEWROUTE, &a, 0x47, 0);
	waiter_start(&t, &w);
	for (i = 0; i < 3000 && !waiter_done(&w); i++) {
		watch_fd0(&wt);
		sleep_ms(10);
	}
	pthread_join(t, NULL);
	printf("corners: mode=stdin first=%d nb_fd0_open=%d nb_fd0_held=%d nb_fd0_ack=%d "
	       "wait_fd0_open=%d wait_fd0_held=%d wait_fd0_ack=%d answer=%d\n",
	       first, nb.open, nb.held, nb.ack, wt.open, wt.held, wt.ack, w.answer);
	return 0;
}

/* Opens @n files (/dev/null) into @fds. */
static void open_files(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if ((fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
			die("corners: /dev/null");
}

static int closed_of(const int *fds, int n)
{
	int i, lost = 0;

	for (i = 0; i < n; i++)
		lost += !is_open(fds[i]);
	return lost;
}

static int mode_closerange_nb(void)
{
	int s = nl_sock(), first, rx, tx, files[6], i, foreign = 0, lost;
	struct sockaddr_in6 sa;
	socklen_t salen = sizeof(sa);
	struct in6_addr a = add_addr(s, 1);
	struct msg m;

	route(&m, RTM_NEWROUTE, &a, 0x48, 0);
	nl_send(s, &m);
	first = answer(s, m.h.nlmsg_seq, MSG_DONTWAIT);
	if (close_range(3, ~0U, 0) < 0)
		die("corners: close_range");
	/* New objects at the numbers just freed: a UDP pair first. */
	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_addr = in6addr_loopback;
	rx = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (rx < 0 || bind(rx, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(rx, (struct sockaddr *)&sa, &salen) < 0)
		die("corners: udp receiver");
	tx = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (tx < 0 || connect(tx, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("corners: udp sender");
	open_files(files, 6);
	/* Until DAD ended, and 1 s more: what a helper would do is done. */
	wait_dad(&a);
	for (i = 0; i < 20; i++) {
		char buf[512];

		while (recv(rx, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
			foreign++;
		sleep_ms(50);
	}
	lost = closed_of(files, 6) + !is_open(rx) + !is_open(tx);
	printf("corners: mode=closerange-nb first=%d foreign=%d lost=%d\n", first, foreign, lost);
	return 0;
}

/* The lowest number not in @set: where the next new descriptor goes. */
static int lowest_free(const struct fdset *set)
{
	int fd = 0;

	while (fd < MAXFD - 1 && fd_in(set, fd))
		fd++;
	return fd;
}

/* Until @fd is open (the shim's wait made its first descriptor, at the
 * lowest free number) or @w is done, bounded (15 s); then @spin_us more,
 * spinning.  Whether @fd was seen open. */
static int wait_begun_at(int fd, struct waiter *w, unsigned spin_us)
{
	uint64_t end = now_us() + 15000000u;

	while (!is_open(fd) && !waiter_done(w))
		if (now_us() > end)
			return 0;
	if (!is_open(fd))
		return 0;
	end = now_us() + spin_us;
	while (now_us() < end)
		;
	return 1;
}

/* Rounds of mode closerange-wait: each a chance to land in the instant
 * the shim moves its wait's descriptor. */
#define CR_ROUNDS 4

/* Starts round @k of a wait mode: a fresh tentative address (@k + 1) on
 * @s, and a waiter thread that sends a route from it (to fd00:...:@dst::)
 * and reads the answer; @base gets the descriptors before the thread. */
static void round_start(int s, unsigned k, unsigned dst, struct waiter *w, pthread_t *t,
			struct fdset *base)
{
	struct in6_addr a = add_addr(s, k + 1);

	memset(w, 0, sizeof(*w));
	w->s = s;
	route(&w->m, RTM_NEWROUTE, &a, dst, 0);
	fds_now(base);
	waiter_start(t, w);
}

/* Ends round @k: joins its waiter and appends its answer to @answers. */
static void round_end(pthread_t t, const struct waiter *w, unsigned k, char *answers,
		      size_t size)
{
	size_t used;

	pthread_join(t, NULL);
	used = strlen(answers);
	snprintf(answers + used, size - used, "%s%d", k ? "," : "", w->answer);
}

static int mode_closerange_wait(void)
{
	int s = nl_sock(), k, begun = 0, lost = 0, files[6] = { -1, -1, -1, -1, -1, -1 };
	char answers[64] = "";

	for (k = 0; k < CR_ROUNDS; k++) {
		struct fdset base;
		struct waiter w;
		pthread_t t;

		round_start(s, (unsigned)k, 0x60 + (unsigned)k, &w, &t, &base);
		begun += wait_begun_at(lowest_free(&base), &w, 4u << (3 * k));
		/* Everything above the program's socket (the files of the
		 * round before too), then new files there. */
		if (k % 2)
			closefrom(s + 1);
		else if (close_range((unsigned)s + 1, ~0U, 0) < 0)
			die("corners: close_range");
		open_files(files, 6);
		round_end(t, &w, (unsigned)k, answers, sizeof(answers));
		lost += closed_of(files, 6);
	}
	printf("corners: mode=closerange-wait wait_seen=%d lost=%d answers=%s\n", begun, lost,
	       answers);
	return 0;
}

static int mode_rebind(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int s = nl_sock(), s2, first, rebind;
	struct in6_addr a;
	struct msg m;

	sa.nl_pid = 0x7d000000u | ((uint32_t)getpid() & 0xffffffu);
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("corners: bind");
	a = add_addr(s, 1);
	route(&m, RTM_NEWROUTE, &a, 0x4a, 0);
	nl_send(s, &m);
	first = answer(s, m.h.nlmsg_seq, MSG_DONTWAIT);
	close(s);
	s2 = nl_sock();
	rebind = bind(s2, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	printf("corners: mode=rebind first=%d rebind=%d\n", first, rebind);
	return 0;
}

/* One fork() of mode forkwait: the child's descriptors outside @base. */
static int fork_extra(const struct fdset *base)
{
	int status = 0;
	pid_t pid = fork();

	if (pid < 0)
		die("corners: fork");
	if (pid == 0) {
		int n = fds_extra(base);

		_exit(n > 100 ? 100 : n);
	}
	if (waitpid(pid, &status, 0) != pid)
		die("corners: waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int mode_forkwait(void)
{
	int s = nl_sock(), k, begun = 0, extra = 0;
	char answers[64] = "";

	for (k = 0; k < 4; k++) {
		struct fdset base;
		struct waiter w;
		pthread_t t;

		round_start(s, (unsigned)k, 0x70 + (unsigned)k, &w, &t, &base);
		/* Round 0 forks during the wait, the others as it begins. */
		if (k == 0)
			begun += wait_begun(&base, &w);
		else
			begun += wait_begun_at(lowest_free(&base), &w, 4u << (3 * (k - 1)));
		extra += fork_extra(&base);
		round_end(t, &w, (unsigned)k, answers, sizeof(answers));
	}
	printf("corners: mode=forkwait wait_seen=%d child_extra=%d answers=%s\n", begun, extra,
	       answers);
	return 0;
}

static int threads_now(void)
{
	char line[128];
	FILE *f = fopen("/proc/self/status", "r");
	int n = -1;

	if (!f)
		die("corners: /proc/self/status");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

static int mode_threads(void)
{
	int s = nl_sock(), first, nonblock, before, after, us;
	struct in6_addr a = add_addr(s, 1);
	struct msg m;

	before = threads_now();
	route(&m, RTM_NEWROUTE, &a, 0x4c, 0);
	nl_send(s, &m);
	first = answer(s, m.h.nlmsg_seq, MSG_DONTWAIT);
	/* The same on an O_NONBLOCK socket, read without flags (the source
	 * is still tentative: DAD takes a second at least). */
	if (fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK) < 0)
		die("corners: O_NONBLOCK");
	route(&m, RTM_NEWROUTE, &a, 0x4f, 0);
	nl_send(s, &m);
	nonblock = answer(s, m.h.nlmsg_seq, 0);
	after = threads_now();
	us = unshare(CLONE_NEWUSER) < 0 ? -errno : 0;
	printf("corners: mode=threads first=%d nonblock=%d threads_before=%d threads=%d unshare=%d\n",
	       first, nonblock, before, after, us);
	return 0;
}

/* The children of mode vfork; in their own frames, so that nothing the
 * parent keeps in registers is shared with the child. */
static __attribute__((noinline)) void vfork_close(int s)
{
	int status;
	pid_t pid = vfork();

	if (pid == 0) {
		close(s);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		die("corners: vfork");
}

static __attribute__((noinline)) void vfork_exec(void)
{
	static char *const argv[] = { (char *)"true", NULL };
	int status;
	pid_t pid = vfork();

	if (pid == 0) {
		/* Python's subprocess: close what is not passed, exec. */
		close_range(3, ~0U, 0);
		execve("/bin/true", argv, environ);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		die("corners: vfork");
}

static int mode_vfork(void)
{
	int s = nl_sock(), k, ans[3];

	for (k = 0; k < 3; k++) {
		struct in6_addr a = add_addr(s, (unsigned)k + 1);
		struct msg m;

		route(&m, RTM_NEWROUTE, &a, 0xa0 + (unsigned)k, 0);
		nl_send(s, &m);
		if (k == 1)
			vfork_close(s);
		else if (k == 2)
			vfork_exec();
		ans[k] = answer(s, m.h.nlmsg_seq, 0);
	}
	printf("corners: mode=vfork none=%d close=%d closerange_exec=%d\n", ans[0], ans[1],
	       ans[2]);
	return 0;
}

static int mode_cancel(void)
{
	struct fdset base;
	struct waiter w;
	pthread_t t;
	void *ret = NULL;
	unsigned *fired = dlsym(RTLD_DEFAULT, "cancelhook_fired"), hooked;
	int *armed = dlsym(RTLD_DEFAULT, "cancelhook_armed");
	int s = nl_sock(), cancelled, leaked, seen;
	struct in6_addr a;

	if (!fired) {
		fprintf(stderr, "corners: cancel needs cancelhook.so preloaded\n");
		return 2;
	}
	memset(&w, 0, sizeof(w));
	w.s = s;
	w.testcancel = 1;
	a = add_addr(w.s, 1);
	route(&w.m, RTM_NEWROUTE, &a, 0x4d, 0);
	fds_now(&base);
	waiter_start(&t, &w);
	if (pthread_join(t, &ret))
		die("corners: join");
	hooked = __atomic_load_n(fired, __ATOMIC_SEQ_CST);
	cancelled = ret == PTHREAD_CANCELED;
	leaked = fds_extra(&base);
	if (armed)
		__atomic_store_n(armed, 0, __ATOMIC_SEQ_CST);
	/* Cancelled by another thread while it waits for DAD. */
	memset(&w, 0, sizeof(w));
	w.s = s;
	a = add_addr(s, 2);
	route(&w.m, RTM_NEWROUTE, &a, 0x80, 0);
	fds_now(&base);
	waiter_start(&t, &w);
	seen = wait_begun(&base, &w);
	pthread_cancel(t);
	if (pthread_join(t, &ret))
		die("corners: join");
	/* And the shim still serves the socket (no lock left held). */
	add_addr(s, 3);
	printf("corners: mode=cancel hooked=%u cancelled=%d leaked=%d wait_seen=%d "
	       "wait_cancelled=%d wait_leaked=%d after=0\n", hooked, cancelled, leaked, seen,
	       ret == PTHREAD_CANCELED, fds_extra(&base));
	return 0;
}

static int mode_emfile(void)
{
	struct rlimit rl = { 64, 64 };
	int s = nl_sock(), fill[64], n = 0, e, i;
	struct in6_addr a = add_addr(s, 1);
	struct msg m;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("corners: getrlimit");
	rl.rlim_cur = 64;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("corners: setrlimit");
	route(&m, RTM_NEWROUTE, &a, 0x4e, 0);
	nl_send(s, &m);
	/* Every number taken: nothing can be opened for a wait. */
	while (n < 64 && (fill[n] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		n++;
	e = errno;
	if (n == 64 || e != EMFILE) {
		fprintf(stderr, "corners: could not take every descriptor\n");
		return 2;
	}
	i = answer(s, m.h.nlmsg_seq, 0);
	while (n > 0)
		close(fill[--n]);
	printf("corners: mode=emfile answer=%d\n", i);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} modes[] = {
		{ "sendmmsg", mode_sendmmsg }, { "forkown", mode_forkown },
		{ "zeroiov", mode_zeroiov }, { "sameseq", mode_sameseq },
		{ "adddel", mode_adddel }, { "stdin", mode_stdin },
		{ "closerange-nb", mode_closerange_nb },
		{ "closerange-wait", mode_closerange_wait }, { "rebind", mode_rebind },
		{ "forkwait", mode_forkwait }, { "threads", mode_threads },
		{ "vfork", mode_vfork }, { "cancel", mode_cancel }, { "emfile", mode_emfile },
	};
	size_t i;

	if (argc != 4 || !(ifindex = if_nametoindex(argv[2])) ||
	    strlen(argv[3]) >= sizeof(prefix)) {
		fprintf(stderr, "usage: corners MODE IFNAME PREFIX\n");
		return 2;
	}
	strcpy(prefix, argv[3]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(120);	/* a guard against a hang */
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(argv[1], modes[i].name))
			return modes[i].fn();
	fprintf(stderr, "corners: no mode %s\n", argv[1]);
	return 2;
}
