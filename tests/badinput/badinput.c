/*
 * badinput - bad and unusual arguments through the real libc entry points
 * that dadshim wraps, on NETLINK_ROUTE sockets and on descriptors that are
 * not.  Prints one line per case (return value, errno, and what a receive
 * reported); tests/badinput/run.sh runs it with and without the shim, under
 * strace, and compares the lines and the bytes the kernel received.
 *
 *   badinput [GROUP]
 *
 * The cases come in groups (see main()); with GROUP only that one runs, so
 * that tests/badinput/run.sh can give each group a fresh network namespace and
 * no case depends on what an earlier one left behind.  Without GROUP every
 * group runs, in order.
 *
 * Run it in a throwaway network namespace: it adds IPv6 addresses and a
 * route on lo (ifindex 1).  stdout is unbuffered so that each case's line
 * follows that case's system calls in a trace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

/* strongSwan 5.5.1's RTM_NEWADDR (the reference's vector, on lo), its
 * source route, and the same route with a source nobody holds. */
static const char addr_hex[] =
	"4000000014000506cf000000410c00000a800000010000001400020020010db8"
	"d800005200000000000000011400060000000000ffffffff0000000000000000";
static const char route_hex[] =
	"4c00000018000506d0000000410c00000a000000dc0400010000000014000100"
	"000000000000000000000000000000001400070020010db8d800005200000000"
	"000000010800040001000000";
static const char route_nosrc_hex[] =
	"4c00000018000506d1000000410c00000a000000dc0400010000000014000100"
	"000000000000000000000000000000001400070020010db8d800005200000000"
	"000000990800040001000000";
/* An IPv4 RTM_NEWADDR (192.0.2.1/24 on lo), for mixed datagrams. */
static const char addr4_hex[] =
	"2800000014000506d2000000410c00000218000001000000080002" "00c0000201"
	"08000100c0000201";

static const struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

/* The group asked for on the command line, or NULL for all. */
static const char *only;

static int group(const char *name)
{
	return !only || !strcmp(only, name);
}

/* errno before a call whose errno is compared: no send returns it, so a
 * wrapper that hands back a stale errno is seen. */
#define STALE_ERRNO ERANGE

static size_t unhex(const char *hex, unsigned char *out)
{
	size_t n = strlen(hex) / 2, i;

	for (i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			exit(2);
		out[i] = (unsigned char)v;
	}
	return n;
}

static void set_seq(unsigned char *msg, uint32_t seq)
{
	memcpy(msg + 8, &seq, 4);
}

static int nl(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0) {
		perror("socket");
		exit(2);
	}
	return fd;
}

/* One line per case: the name, the return value and errno (when it
 * failed), then what the case adds. */
static void report(const char *name, ssize_t ret, int err, const char *extra)
{
	if (ret < 0)
		printf("case %s: ret=%zd errno=%d (%s)%s%s\n", name, ret, err,
		       strerror(err), *extra ? " " : "", extra);
	else
		printf("case %s: ret=%zd%s%s\n", name, ret, *extra ? " " : "", extra);
}

/* Reads the reply to the last request and describes it: type and, for
 * NLMSG_ERROR, the error code. */
static void reply(const char *name, int fd)
{
	unsigned char buf[8192];
	char extra[96];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	int e = errno;
	uint16_t type = 0;
	int32_t error = 0;

	extra[0] = '\0';
	if (n >= 16) {
		memcpy(&type, buf + 4, 2);
		if (type == NLMSG_ERROR && n >= 20)
			memcpy(&error, buf + 16, 4);
		snprintf(extra, sizeof(extra), "type=%u error=%d", type, error);
	}
	report(name, n, e, extra);
}

static void send_case(const char *name, int fd, const void *buf, size_t len)
{
	ssize_t r = sendto(fd, buf, len, 0, (const struct sockaddr *)&kernel,
			   sizeof(kernel));

	report(name, r, errno, "");
}

/* ==== BEGIN bad non-NULL pointers (issue 10, item 1) ====
 * Every wrapped call on a NETLINK_ROUTE socket with a pointer that is not
 * NULL but not readable (0x10, or a structure that runs into a PROT_NONE
 * page).  Each call runs in a child, so that a crash is reported as a
 * result ("killed by signal N") instead of ending the run; the child
 * inherits the parent's socket, and after it exits the parent reads what
 * the kernel queued on it: the replies tell what the kernel received.  The
 * receive cases first send a route with a source (the shim holds it: the
 * held receive path runs) and then receive its ACK into bad memory. */
#include <sys/mman.h>
#include <sys/wait.h>

/* volatile: the compiler must not see (and warn about) the bad address */
static volatile uintptr_t bp_bad = 0x10;
#define BAD ((void *)bp_bad)

static unsigned char *bp_page;	/* a readable page followed by a PROT_NONE one */
static unsigned char *bp_ro;	/* a read-only page */
static unsigned char bp_addr[64], bp_route[76];
static size_t bp_pagesz;

/* bp_addr for 2001:db8:d800:52::@last, seq @seq */
static void bp_newaddr(unsigned char *out, unsigned last, uint32_t seq)
{
	memcpy(out, bp_addr, sizeof(bp_addr));
	out[43] = (unsigned char)last;
	set_seq(out, seq);
}

/* Inside the child: the call of case @k on @fd.  ret/errno into @v. */
static void bp_call(int k, int fd, long v[2])
{
	static const struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	unsigned char a[64], big[8192];
	struct iovec iov[2], *iovp;
	struct msghdr m, *mp;
	struct mmsghdr mm[2], *mmp;
	struct sockaddr_nl from;
	socklen_t fl = sizeof(from);
	ssize_t r = 0;

	memset(&m, 0, sizeof(m));
	memset(mm, 0, sizeof(mm));
	bp_newaddr(a, 0x70 + (unsigned)k, 0x700 + (uint32_t)k);
	if (k >= 20) {
		/* A route with a source on lo, in a table of its own: held. */
		unsigned char rt[76];

		memcpy(rt, bp_route, sizeof(rt));
		rt[20] = (unsigned char)(100 + k);
		set_seq(rt, 0x700 + (uint32_t)k);
		if (sendto(fd, rt, sizeof(rt), 0, (const struct sockaddr *)&to,
			   sizeof(to)) != (ssize_t)sizeof(rt)) {
			v[0] = -2;
			v[1] = errno;
			return;
		}
	}
	errno = 0;
	switch (k) {
	case 0: r = send(fd, BAD, 64, 0); break;
	case 1: r = sendto(fd, BAD, 64, 0, (const struct sockaddr *)&to, sizeof(to)); break;
	case 2: r = write(fd, BAD, 64); break;
	case 3: r = sendmsg(fd, BAD, 0); break;
	case 4:
		m.msg_iov = BAD;
		m.msg_iovlen = 1;
		r = sendmsg(fd, &m, 0);
		break;
	case 5:
		iov[0].iov_base = BAD;
		iov[0].iov_len = 64;
		m.msg_iov = iov;
		m.msg_iovlen = 1;
		r = sendmsg(fd, &m, 0);
		break;
	case 6:
		iov[0].iov_base = a;
		iov[0].iov_len = 16;
		iov[1].iov_base = BAD;
		iov[1].iov_len = 48;
		m.msg_iov = iov;
		m.msg_iovlen = 2;
		r = sendmsg(fd, &m, 0);
		break;
	case 7:
		/* The iovec array runs into the PROT_NONE page. */
		iovp = (struct iovec *)(bp_page + bp_pagesz - sizeof(*iovp));
		iovp->iov_base = a;
		iovp->iov_len = sizeof(a);
		m.msg_iov = iovp;
		m.msg_iovlen = 2;
		r = sendmsg(fd, &m, 0);
		break;
	case 8:
		/* The msghdr itself runs into the PROT_NONE page from msg_iov on,
		 * the first field the shim reads after msg_name: offset 16 on
		 * 64-bit ABIs, 8 on 32-bit ones (a fixed 16 left the whole iovec
		 * pointer readable there, and the case tested nothing). */
		mp = (struct msghdr *)(bp_page + bp_pagesz - offsetof(struct msghdr, msg_iov));
		r = sendmsg(fd, mp, 0);
		break;
	case 9:
		/* An RTM_NEWADDR the shim rewrites, with a bad address. */
		iov[0].iov_base = a;
		iov[0].iov_len = sizeof(a);
		m.msg_iov = iov;
		m.msg_iovlen = 1;
		m.msg_name = BAD;
		m.msg_namelen = sizeof(to);
		r = sendmsg(fd, &m, 0);
		break;
	case 10: r = sendmmsg(fd, BAD, 2, 0); break;
	case 11:
		mm[0].msg_hdr.msg_iov = BAD;
		mm[0].msg_hdr.msg_iovlen = 1;
		r = sendmmsg(fd, mm, 1, 0);
		break;
	case 12:
		/* A datagram the shim rewrites, then a bad one: one is sent. */
		iov[0].iov_base = a;
		iov[0].iov_len = sizeof(a);
		iov[1].iov_base = BAD;
		iov[1].iov_len = 64;
		mm[0].msg_hdr.msg_iov = &iov[0];
		mm[0].msg_hdr.msg_iovlen = 1;
		mm[1].msg_hdr.msg_iov = &iov[1];
		mm[1].msg_hdr.msg_iovlen = 1;
		r = sendmmsg(fd, mm, 2, 0);
		break;
	case 13:
		/* The second mmsghdr runs into the PROT_NONE page. */
		mmp = (struct mmsghdr *)(bp_page + bp_pagesz - sizeof(*mmp) - 8);
		memset(mmp, 0, sizeof(*mmp));
		iov[0].iov_base = a;
		iov[0].iov_len = sizeof(a);
		mmp->msg_hdr.msg_iov = iov;
		mmp->msg_hdr.msg_iovlen = 1;
		r = sendmmsg(fd, mmp, 2, 0);
		break;
	case 14:
		/* A read-only mmsghdr: the datagram is sent, msg_len cannot
		 * be stored. */
		mmp = (struct mmsghdr *)bp_ro;
		r = sendmmsg(fd, mmp, 1, 0);
		break;
	case 15:
		r = sendto(fd, a, sizeof(a), 0, BAD, sizeof(to));
		break;
	case 16:
		/* The datagram's last bytes are on the PROT_NONE page. */
		memcpy(bp_page + bp_pagesz - 32, a, 32);
		r = send(fd, bp_page + bp_pagesz - 32, sizeof(a), 0);
		break;
	case 20: r = recv(fd, BAD, sizeof(big), 0); break;
	case 21: r = recvfrom(fd, BAD, sizeof(big), 0, NULL, NULL); break;
	case 22: r = recvfrom(fd, big, sizeof(big), 0, (struct sockaddr *)&from, BAD); break;
	case 23: r = read(fd, BAD, sizeof(big)); break;
	case 24: r = recvmsg(fd, BAD, 0); break;
	case 25:
		iov[0].iov_base = BAD;
		iov[0].iov_len = sizeof(big);
		m.msg_iov = iov;
		m.msg_iovlen = 1;
		r = recvmsg(fd, &m, 0);
		break;
	case 26:
		iov[0].iov_base = BAD;
		iov[0].iov_len = sizeof(big);
		m.msg_iov = iov;
		m.msg_iovlen = 1;
		r = recvmsg(fd, &m, MSG_PEEK);
		break;
	case 27: r = recvmmsg(fd, BAD, 1, 0, NULL); break;
	case 28:
		iov[0].iov_base = BAD;
		iov[0].iov_len = sizeof(big);
		mm[0].msg_hdr.msg_iov = iov;
		mm[0].msg_hdr.msg_iovlen = 1;
		r = recvmmsg(fd, mm, 1, MSG_WAITFORONE, NULL);
		break;
	case 29: r = recvmsg(fd, (struct msghdr *)(bp_page + bp_pagesz - 16), 0); break;
	default: break;
	}
	(void)fl;
	v[0] = (long)r;
	v[1] = errno;
}

static const char *const bp_names[] = {
	[0] = "bad-ptr-send-buf", [1] = "bad-ptr-sendto-buf", [2] = "bad-ptr-write-buf",
	[3] = "bad-ptr-sendmsg-msghdr", [4] = "bad-ptr-sendmsg-msg_iov",
	[5] = "bad-ptr-sendmsg-iov_base", [6] = "bad-ptr-sendmsg-second-iov_base",
	[7] = "bad-ptr-sendmsg-second-iovec-unmapped", [8] = "bad-ptr-sendmsg-msghdr-unmapped-end",
	[9] = "bad-ptr-sendmsg-msg_name-newaddr", [10] = "bad-ptr-sendmmsg-vec",
	[11] = "bad-ptr-sendmmsg-msg_iov", [12] = "bad-ptr-sendmmsg-newaddr-then-bad",
	[13] = "bad-ptr-sendmmsg-second-mmsghdr-unmapped", [14] = "bad-ptr-sendmmsg-readonly-vec",
	[15] = "bad-ptr-sendto-dest-newaddr", [16] = "bad-ptr-send-buf-unmapped-end",
	[20] = "bad-ptr-recv-held", [21] = "bad-ptr-recvfrom-held",
	[22] = "bad-ptr-recvfrom-fromlen-held", [23] = "bad-ptr-read-held",
	[24] = "bad-ptr-recvmsg-msghdr-held", [25] = "bad-ptr-recvmsg-iov_base-held",
	[26] = "bad-ptr-recvmsg-peek-iov_base-held", [27] = "bad-ptr-recvmmsg-vec-held",
	[28] = "bad-ptr-recvmmsg-waitforone-iov_base-held",
	[29] = "bad-ptr-recvmsg-msghdr-unmapped-end-held",
};

/* What the kernel queued on @fd: "replies=seq/type/error,..." */
static void bp_replies(int fd, char *out, size_t size)
{
	size_t at = (size_t)snprintf(out, size, "replies=");
	int i;

	for (i = 0; i < 4 && at < size; i++) {
		unsigned char b[1024];
		ssize_t n = recv(fd, b, sizeof(b), MSG_DONTWAIT);
		uint32_t seq = 0;
		uint16_t type = 0;
		int32_t error = 0;

		if (n < 16)
			break;
		memcpy(&type, b + 4, 2);
		memcpy(&seq, b + 8, 4);
		if (type == NLMSG_ERROR && n >= 20)
			memcpy(&error, b + 16, 4);
		at += (size_t)snprintf(out + at, size - at, "%s%#x/%u/%d", i ? "," : "",
				       seq, type, error);
	}
}

static void settle_lo(void);

static void bad_pointer_cases(void)
{
	unsigned char a[64];
	int k;

	bp_pagesz = (size_t)sysconf(_SC_PAGESIZE);
	bp_page = mmap(NULL, 3 * bp_pagesz, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (bp_page == MAP_FAILED)
		exit(2);
	bp_ro = bp_page + 2 * bp_pagesz;
	unhex(addr_hex, bp_addr);
	unhex(route_hex, bp_route);
	bp_route[67] = 0x6f;	/* source 2001:db8:d800:52::6f */
	{
		/* The read-only mmsghdr of case 14, pointing at its datagram. */
		static unsigned char dgram[64];
		static struct iovec div;
		struct mmsghdr *mmp = (struct mmsghdr *)bp_ro;

		bp_newaddr(dgram, 0x70 + 14, 0x700 + 14);
		div.iov_base = dgram;
		div.iov_len = sizeof(dgram);
		memset(mmp, 0, sizeof(*mmp));
		mmp->msg_hdr.msg_iov = &div;
		mmp->msg_hdr.msg_iovlen = 1;
	}
	if (mprotect(bp_page + bp_pagesz, bp_pagesz, PROT_NONE) != 0 ||
	    mprotect(bp_ro, bp_pagesz, PROT_READ) != 0)
		exit(2);
	/* The source of the held routes, on lo. */
	k = nl();
	bp_newaddr(a, 0x6f, 0x6ff);
	send_case("bad-ptr-source-on-lo", k, a, sizeof(a));
	reply("bad-ptr-source-on-lo-reply", k);
	close(k);
	settle_lo();	/* a tentative source would race with the cases */

	for (k = 0; k < (int)(sizeof(bp_names) / sizeof(bp_names[0])); k++) {
		long v[2] = { 0, 0 };
		int fd, p[2], st = 0;
		pid_t pid;

		if (!bp_names[k])
			continue;
		fd = nl();
		if (pipe(p) != 0)
			exit(2);
		pid = fork();
		if (pid < 0)
			exit(2);
		if (pid == 0) {
			close(p[0]);
			bp_call(k, fd, v);
			if (write(p[1], v, sizeof(v)) != (ssize_t)sizeof(v))
				_exit(3);
			_exit(0);
		}
		close(p[1]);
		if (read(p[0], v, sizeof(v)) != (ssize_t)sizeof(v))
			v[0] = -3;
		close(p[0]);
		if (waitpid(pid, &st, 0) != pid)
			exit(2);
		if (WIFSIGNALED(st)) {
			printf("case %s: killed by signal %d\n", bp_names[k], WTERMSIG(st));
		} else {
			char extra[160];

			bp_replies(fd, extra, sizeof(extra));
			report(bp_names[k], v[0], (int)v[1], extra);
		}
		close(fd);
	}
}
/* ==== END bad non-NULL pointers ==== */

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* Waits (bounded) until no address on lo is tentative.  An address added
 * without NODAD is tentative on lo too, until the kernel's DAD work runs
 * (it skips the probes there): a route with it as source sent at once can
 * race with that.  Run by a child, so a trace of this process (no -f)
 * shows none of it. */
static void settle_lo(void)
{
	if (system("i=0; while ip -6 addr show dev lo tentative | grep -q inet6 &&"
		   " [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done") != 0)
		fprintf(stderr, "badinput: could not wait for lo's DAD\n");
}

/* @len bytes: @msg (a request of @msglen bytes) grown by one attribute of
 * type 0 to @len: a request the shim changes or holds, too large for a
 * socket whose send buffer was made as small as it goes (EMSGSIZE). */
static size_t grow(unsigned char *out, const unsigned char *msg, size_t msglen,
		   size_t len)
{
	uint32_t l32 = (uint32_t)len;
	uint16_t alen = (uint16_t)(len - msglen), type = 0;

	memset(out, 0, len);
	memcpy(out, msg, msglen);
	memcpy(out, &l32, 4);
	memcpy(out + msglen, &alen, 2);
	memcpy(out + msglen + 2, &type, 2);
	return len;
}

/* Failed sends, one per send-family call, of a datagram the shim would
 * change (@what "addr": NODAD) or hold (@what "route"): the return value and
 * errno must be the kernel's, as without the shim.  Each call starts with
 * errno = STALE_ERRNO. */
static void failing_sends(const char *what, const unsigned char *msg, size_t len,
			  const unsigned char *big, size_t biglen)
{
	static const struct sockaddr_in inet = { .sin_family = AF_INET };
	struct sockaddr_nl shortaddr = { .nl_family = AF_NETLINK };
	struct iovec one = { (void *)msg, len }, large = { (void *)big, biglen };
	struct mmsghdr mm;
	struct msghdr m;
	char name[96];
	ssize_t r;
	int fd = nl(), small = 1, e;

	/* the smallest send buffer the kernel allows: @big cannot go out */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)) != 0)
		perror("badinput: SO_SNDBUF");

#define FAILING(label, call)                                             \
	do {                                                             \
		snprintf(name, sizeof(name), "%s-%s", label, what);      \
		errno = STALE_ERRNO;                                     \
		r = (call);                                              \
		e = errno;                                               \
		report(name, r, e, "");                                  \
	} while (0)

	FAILING("sendto-inet-address", sendto(fd, msg, len, 0,
		(const struct sockaddr *)&inet, sizeof(inet)));
	FAILING("sendto-short-address", sendto(fd, msg, len, 0,
		(const struct sockaddr *)&shortaddr, 4));
	FAILING("send-msg-oob", send(fd, msg, len, MSG_OOB));
	FAILING("sendto-too-big", sendto(fd, big, biglen, 0,
		(const struct sockaddr *)&kernel, sizeof(kernel)));
	FAILING("send-too-big", send(fd, big, biglen, 0));
	FAILING("write-too-big", write(fd, big, biglen));
	memset(&m, 0, sizeof(m));
	m.msg_iov = &one;
	m.msg_iovlen = 1;
	m.msg_name = (void *)&inet;
	m.msg_namelen = sizeof(inet);
	FAILING("sendmsg-inet-address", sendmsg(fd, &m, 0));
	m.msg_name = (void *)&kernel;
	m.msg_namelen = sizeof(kernel);
	FAILING("sendmsg-msg-oob", sendmsg(fd, &m, MSG_OOB));
	m.msg_iov = &large;
	FAILING("sendmsg-too-big", sendmsg(fd, &m, 0));
	memset(&mm, 0, sizeof(mm));
	mm.msg_hdr = m;
	FAILING("sendmmsg-too-big", sendmmsg(fd, &mm, 1, 0));
	mm.msg_hdr.msg_iov = &one;
	mm.msg_hdr.msg_name = (void *)&inet;
	mm.msg_hdr.msg_namelen = sizeof(inet);
	FAILING("sendmmsg-inet-address", sendmmsg(fd, &mm, 1, 0));
#undef FAILING
	/* nothing went out: no reply is owed, nothing is held */
	snprintf(name, sizeof(name), "recv-dontwait-after-failed-%s", what);
	errno = STALE_ERRNO;
	r = recv(fd, name, 0, MSG_DONTWAIT | MSG_TRUNC);
	report(name, r, errno, "");
	close(fd);
}

int main(int argc, char **argv)
{
	unsigned char addr[64], route[76], nosrc[76], addr4[40], buf[512], small[16];
	size_t al = unhex(addr_hex, addr), rl = unhex(route_hex, route);
	size_t a4 = unhex(addr4_hex, addr4);
	struct msghdr m;
	struct iovec iov[6];
	char extra[96];
	int fd, pfd[2];
	ssize_t r;

	setvbuf(stdout, NULL, _IONBF, 0);
	unhex(route_nosrc_hex, nosrc);
	if (argc > 2)
		return 2;
	only = argc == 2 ? argv[1] : NULL;

	/* ---- sends that are not a well-formed datagram ---- */
	if (group("malformed")) {
	fd = nl();
	r = send(fd, NULL, 0, 0);
	report("send-null-0", r, errno, "");
	r = sendto(fd, NULL, 0, 0, (const struct sockaddr *)&kernel, sizeof(kernel));
	report("sendto-null-0", r, errno, "");
	r = write(fd, addr, 0);
	report("write-0", r, errno, "");
	send_case("shorter-than-header", fd, addr, 10);
	memcpy(buf, addr, al);
	buf[0] = 8;	/* nlmsg_len below a header */
	send_case("nlmsg_len-below-header", fd, buf, al);
	memcpy(buf, addr, al);
	buf[0] = 200;	/* nlmsg_len beyond the buffer */
	send_case("nlmsg_len-beyond-buffer", fd, buf, al);
	memcpy(buf, addr, al);
	buf[0] = 20;	/* cut inside its ifaddrmsg */
	set_seq(buf, 0x101);
	send_case("newaddr-cut-in-ifaddrmsg", fd, buf, 20);
	reply("newaddr-cut-in-ifaddrmsg-reply", fd);
	memcpy(buf, addr, al);
	memset(buf + al, 0xee, 7);	/* trailing garbage */
	send_case("trailing-garbage", fd, buf, al + 7);
	close(fd);
	}

	/* Attributes with impossible lengths: framed, so the shim sets
	 * NODAD; the kernel stops at the attribute and refuses. */
	if (group("attrs")) {
	fd = nl();
	memcpy(buf, addr, al);
	buf[24] = 0xff;	/* IFA_LOCAL's nla_len beyond the message */
	set_seq(buf, 0x102);
	send_case("attr-len-beyond-message", fd, buf, al);
	reply("attr-len-beyond-message-reply", fd);
	memcpy(buf, addr, al);
	buf[24] = 2;	/* below an attribute header */
	set_seq(buf, 0x103);
	send_case("attr-len-below-header", fd, buf, al);
	reply("attr-len-below-header-reply", fd);
	close(fd);
	}

	/* ---- sendmsg: NULL, empty, zero-length iovecs, a split header ---- */
	if (group("sendmsg")) {
	fd = nl();
	r = sendmsg(fd, NULL, 0);
	report("sendmsg-null-msghdr", r, errno, "");
	memset(&m, 0, sizeof(m));
	m.msg_name = (void *)&kernel;
	m.msg_namelen = sizeof(kernel);
	r = sendmsg(fd, &m, 0);
	report("sendmsg-no-iovec", r, errno, "");
	iov[0].iov_base = addr;
	iov[0].iov_len = 0;
	iov[1].iov_base = NULL;
	iov[1].iov_len = 0;
	m.msg_iov = iov;
	m.msg_iovlen = 2;
	r = sendmsg(fd, &m, 0);
	report("sendmsg-zero-length-iovecs", r, errno, "");
	iov[0].iov_base = NULL;
	iov[0].iov_len = 16;
	m.msg_iovlen = 1;
	r = sendmsg(fd, &m, 0);
	report("sendmsg-null-iov-base", r, errno, "");
	/* The 5.5.1 RTM_NEWADDR (for 2001:db8:d800:52::3) split inside its
	 * nlmsghdr and inside its ifaddrmsg, zero-length entries after: the
	 * kernel gathers one datagram, and it must get NODAD. */
	memcpy(buf, addr, al);
	buf[43] = 3;
	set_seq(buf, 0x105);
	iov[0].iov_base = buf;
	iov[0].iov_len = 10;
	iov[1].iov_base = buf + 10;
	iov[1].iov_len = 9;
	iov[2].iov_base = buf + 19;
	iov[2].iov_len = al - 19;
	iov[3].iov_base = buf;
	iov[3].iov_len = 0;
	iov[4].iov_base = NULL;
	iov[4].iov_len = 0;
	m.msg_iov = iov;
	m.msg_iovlen = 5;
	r = sendmsg(fd, &m, 0);
	report("sendmsg-split-newaddr", r, errno, "");
	reply("sendmsg-split-newaddr-reply", fd);
	/* The same (for ::4) with zero-length entries first and between
	 * (strace cannot dump these bytes: the kernel's view tells). */
	memcpy(buf + 64, addr, al);
	buf[64 + 43] = 4;
	set_seq(buf + 64, 0x106);
	iov[0].iov_base = buf + 64;
	iov[0].iov_len = 0;
	iov[1].iov_base = buf + 64;
	iov[1].iov_len = 10;
	iov[2].iov_base = NULL;
	iov[2].iov_len = 0;
	iov[3].iov_base = buf + 74;
	iov[3].iov_len = 9;
	iov[4].iov_base = buf + 83;
	iov[4].iov_len = al - 19;
	m.msg_iovlen = 5;
	r = sendmsg(fd, &m, 0);
	report("sendmsg-split-zero-first", r, errno, "");
	reply("sendmsg-split-zero-first-reply", fd);
	close(fd);
	}

	/* ---- several messages in one send: an IPv6 RTM_NEWADDR (for
	 * 2001:db8:d800:52::2, must get NODAD), an IPv4 one, a route (its
	 * source ::1 exists nowhere in this group's namespace: EINVAL) ---- */
	if (group("several")) {
	fd = nl();
	memcpy(buf, addr, al);
	buf[43] = 2;
	memcpy(buf + al, addr4, a4);
	memcpy(buf + al + a4, route, rl);
	set_seq(buf + al + a4, 0x104);
	send_case("several-messages", fd, buf, al + a4 + rl);
	reply("several-messages-reply-1", fd);
	reply("several-messages-reply-2", fd);
	reply("several-messages-reply-3", fd);
	close(fd);
	}

	/* ---- descriptors that are not NETLINK_ROUTE sockets ---- */
	if (group("descriptors")) {
	r = sendto(-1, addr, al, 0, (const struct sockaddr *)&kernel, sizeof(kernel));
	report("sendto-fd-minus-1", r, errno, "");
	r = sendto(1000000, addr, al, 0, (const struct sockaddr *)&kernel, sizeof(kernel));
	report("sendto-fd-huge", r, errno, "");
	r = recv(-1, buf, sizeof(buf), 0);
	report("recv-fd-minus-1", r, errno, "");
	fd = nl();
	close(fd);
	r = sendto(fd, addr, al, 0, (const struct sockaddr *)&kernel, sizeof(kernel));
	report("sendto-closed-fd", r, errno, "");
	if (pipe(pfd) != 0)
		return 2;
	r = sendto(pfd[1], addr, al, 0, (const struct sockaddr *)&kernel, sizeof(kernel));
	report("sendto-pipe", r, errno, "");
	r = write(pfd[1], addr, al);
	report("write-pipe", r, errno, "");
	r = read(pfd[0], buf, sizeof(buf));
	report("read-pipe", r, errno, "");
	close(pfd[0]);
	close(pfd[1]);
	int devnull = open("/dev/null", O_WRONLY);

	memset(&m, 0, sizeof(m));
	m.msg_name = (void *)&kernel;
	m.msg_namelen = sizeof(kernel);
	iov[0].iov_base = addr;
	iov[0].iov_len = al;
	m.msg_iov = iov;
	m.msg_iovlen = 1;
	r = sendmsg(devnull, &m, 0);
	report("sendmsg-devnull", r, errno, "");
	close(devnull);
	}

	/* ---- receives ---- */
	if (group("receives")) {
	fd = nl();
	r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	report("recv-dontwait-empty", r, errno, "");
	r = recv(fd, NULL, 0, MSG_DONTWAIT);
	report("recv-null-0-dontwait-empty", r, errno, "");
	close(fd);
	}

	/* The 5.5.1 pair on lo: the address (no DAD probes on lo, but
	 * without NODAD it is tentative until the kernel's DAD work has run:
	 * waited for, so that both runs send the route to a usable source),
	 * then its route, held by the shim until its ACK has been read. */
	if (group("lo-pair")) {
	fd = nl();
	send_case("addr-on-lo", fd, addr, al);
	reply("addr-on-lo-reply", fd);
	settle_lo();
	send_case("route-on-lo", fd, route, rl);
	/* iproute2's way of sizing a reply: a peek with an empty iovec. */
	memset(&m, 0, sizeof(m));
	iov[0].iov_base = NULL;
	iov[0].iov_len = 0;
	m.msg_iov = iov;
	m.msg_iovlen = 1;
	r = recvmsg(fd, &m, MSG_PEEK | MSG_TRUNC);
	snprintf(extra, sizeof(extra), "msg_flags=%#x", (unsigned)m.msg_flags);
	report("recvmsg-peek-empty-iovec", r, errno, extra);
	reply("route-on-lo-reply", fd);
	r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	report("recv-dontwait-after-reply", r, errno, "");
	close(fd);
	}

	/* A route whose source nobody holds: EINVAL, read into buffers too
	 * small for it (MSG_TRUNC reports the real length). */
	if (group("absent-src")) {
	fd = nl();
	send_case("route-absent-src", fd, nosrc, sizeof(nosrc));
	r = recv(fd, small, sizeof(small), MSG_PEEK | MSG_TRUNC);
	report("recv-peek-trunc-16", r, errno, "");
	memset(&m, 0, sizeof(m));
	iov[0].iov_base = small;
	iov[0].iov_len = sizeof(small);
	m.msg_iov = iov;
	m.msg_iovlen = 1;
	r = recvmsg(fd, &m, 0);
	snprintf(extra, sizeof(extra), "msg_flags=%#x type=%u", (unsigned)m.msg_flags,
		 r >= 16 ? (unsigned)(small[4] | small[5] << 8) : 0u);
	report("recvmsg-16-of-reply", r, errno, extra);
	r = recv(fd, small, sizeof(small), MSG_DONTWAIT | MSG_TRUNC);
	report("recv-dontwait-after-truncated", r, errno, "");
	send_case("route-absent-src-again", fd, nosrc, sizeof(nosrc));
	r = recv(fd, small, 0, MSG_TRUNC);
	report("recv-0-trunc", r, errno, "");
	close(fd);
	}

	/* ---- bad non-NULL pointers to every wrapper ---- */
	if (group("bad-pointers"))
		bad_pointer_cases();

	/* ---- a signal (no SA_RESTART) during a blocking read() on a socket
	 * with a route held whose reply was taken through a dup(), so that
	 * nothing is queued: EINTR, as without the shim ---- */
	if (group("eintr")) {
		struct itimerval it;
		struct sigaction sa;
		int d;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_alarm;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGALRM, &sa, NULL) != 0)
			return 2;
		fd = nl();
		send_case("eintr-addr-on-lo", fd, addr, al);
		reply("eintr-addr-on-lo-reply", fd);
		settle_lo();
		d = dup(fd);
		send_case("eintr-route-on-lo", fd, route, rl);
		reply("eintr-route-reply-via-dup", d);
		memset(&it, 0, sizeof(it));
		it.it_value.tv_usec = 200000;	/* one signal, once it blocks */
		setitimer(ITIMER_REAL, &it, NULL);
		r = read(fd, buf, sizeof(buf));
		snprintf(extra, sizeof(extra), "signals=%d", (int)alarms);
		report("eintr-read-held-empty", r, errno, extra);
		close(d);
		close(fd);
	}

	/* ---- failed sends of datagrams the shim changes or holds: every
	 * send-family call, each failing in the kernel ---- */
	if (group("failing-sends")) {
		static unsigned char big[16384];
		size_t bl = grow(big, addr, al, sizeof(big));

		failing_sends("addr", addr, al, big, bl);
		bl = grow(big, route, rl, sizeof(big));
		failing_sends("route", route, rl, big, bl);
	}

	/* ---- a NETLINK_ROUTE number reused behind the shim's back (raw
	 * dup3, which the shim never sees) by a UDP socket and by a pipe: the
	 * shim must confirm before it changes anything, so the bytes arrive
	 * as sent ---- */
	if (group("reused-number")) {
		struct sockaddr_in to = { .sin_family = AF_INET };
		socklen_t tl = sizeof(to);
		int u, rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (rx < 0 || bind(rx, (struct sockaddr *)&to, sizeof(to)) != 0 ||
		    getsockname(rx, (struct sockaddr *)&to, &tl) != 0)
			return 2;
		fd = nl();
		u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (u < 0 || syscall(SYS_dup3, u, fd, O_CLOEXEC) != fd)
			return 2;
		close(u);
		r = sendto(fd, addr, al, 0, (struct sockaddr *)&to, sizeof(to));
		report("reused-as-udp-sendto", r, errno, "");
		memset(&m, 0, sizeof(m));
		iov[0].iov_base = route;
		iov[0].iov_len = rl;
		m.msg_iov = iov;
		m.msg_iovlen = 1;
		m.msg_name = &to;
		m.msg_namelen = sizeof(to);
		r = sendmsg(fd, &m, 0);
		report("reused-as-udp-sendmsg", r, errno, "");
		for (u = 0; u < 2; u++) {
			r = recv(rx, buf, sizeof(buf), MSG_DONTWAIT);
			snprintf(extra, sizeof(extra), "type=%u byte18=%#x",
				 r >= 16 ? (unsigned)(buf[4] | buf[5] << 8) : 0u,
				 r > 18 ? (unsigned)buf[18] : 0u);
			report(u ? "reused-as-udp-received-2" : "reused-as-udp-received-1",
			       r, errno, extra);
		}
		close(fd);
		close(rx);
		fd = nl();
		if (pipe(pfd) != 0 || syscall(SYS_dup3, pfd[1], fd, O_CLOEXEC) != fd)
			return 2;
		close(pfd[1]);
		r = write(fd, addr, al);
		report("reused-as-pipe-write", r, errno, "");
		r = read(pfd[0], buf, sizeof(buf));
		snprintf(extra, sizeof(extra), "byte18=%#x", r > 18 ? (unsigned)buf[18] : 0u);
		report("reused-as-pipe-read", r, errno, extra);
		close(fd);
		close(pfd[0]);
	}
	return 0;
}
