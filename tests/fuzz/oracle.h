/* oracle.h - an independent reading of netlink bytes for the fuzz targets,
 * written from the kernel's rules (netlink_rcv_skb(), nlmsg_parse(),
 * nla_ok()/nla_next() in include/net/netlink.h and lib/nlattr.c), not
 * from shim/: the targets compare the shim's answers with these.
 *
 * Also the helpers every target shares: exactly-sized heap copies (ASan
 * sees any read past the end) and a copy that ends at an inaccessible
 * page (libmnl is not instrumented: a read past the end there faults). */
#ifndef DADSHIM_FUZZ_ORACLE_H
#define DADSHIM_FUZZ_ORACLE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define O_HDR 16u		/* struct nlmsghdr */
#define O_ALIGN(n) (((n) + 3u) & ~(size_t)3u)
#define O_MSGS 512		/* a datagram of max_len bytes holds fewer */
#define O_TYPE_MASK 0x3fff	/* NLA_TYPE_MASK */
#define O_TYPES 32		/* types the targets look at are all below */

/* A failed invariant: say which, show the input, abort (libFuzzer keeps
 * the input as a crash artifact). */
#define INVARIANT(cond, ...)                                              \
	do {                                                              \
		if (!(cond)) {                                            \
			fprintf(stderr, "invariant failed at %s:%d: %s: ",  \
				__FILE__, __LINE__, #cond);               \
			fprintf(stderr, __VA_ARGS__);                     \
			fprintf(stderr, "\n");                            \
			abort();                                          \
		}                                                         \
	} while (0)

static inline uint16_t o_u16(const unsigned char *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t o_u32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

struct o_msg {
	size_t off;
	uint32_t len;
	uint16_t type, flags;
	uint32_t seq;
};

/* Splits @b into messages.  Returns how many were framed before any fault
 * (at most @max are described) and sets *@ok when the messages fill the
 * datagram exactly: each nlmsg_len at least a header and inside the
 * datagram, each next message at the aligned end of the previous one, and
 * after the last one nothing but (part of) its alignment padding. */
static inline size_t o_frame(const unsigned char *b, size_t len,
			     struct o_msg *m, size_t max, int *ok)
{
	size_t off = 0, n = 0;

	*ok = 0;
	while (len - off >= O_HDR) {
		uint32_t l = o_u32(b + off);

		if (l < O_HDR || l > len - off)
			return n;
		if (n < max) {
			m[n].off = off;
			m[n].len = l;
			m[n].type = o_u16(b + off + 4);
			m[n].flags = o_u16(b + off + 6);
			m[n].seq = o_u32(b + off + 8);
		}
		n++;
		if (len - off <= O_ALIGN(l)) {
			*ok = 1;
			return n;
		}
		off += O_ALIGN(l);
	}
	return n;
}

/* The attributes of one message as the kernel parses them: after
 * @famlen bytes of family header (aligned), bounded by nlmsg_len itself,
 * stopping at the first attribute that does not fit; the last instance
 * of a type wins.  at[type] is the attribute's offset in the message
 * (0: absent), alen[type] its nla_len.  Returns 0 when the message is too
 * short for its family header (nlmsg_parse() says -EINVAL). */
struct o_attrs {
	uint32_t at[O_TYPES];
	uint16_t alen[O_TYPES];
};

static inline int o_parse(const unsigned char *msg, uint32_t len, size_t famlen,
			  struct o_attrs *a)
{
	size_t pos = O_HDR + O_ALIGN(famlen);

	memset(a, 0, sizeof(*a));
	if (len < O_HDR + famlen)
		return 0;
	while (pos + 4 <= len) {
		uint16_t l = o_u16(msg + pos);
		uint16_t t = o_u16(msg + pos + 2) & O_TYPE_MASK;

		if (l < 4 || l > len - pos)
			break;
		if (t < O_TYPES) {
			a->at[t] = (uint32_t)pos;
			a->alen[t] = l;
		}
		pos += O_ALIGN(l);
	}
	return 1;
}

/* Payload length of attribute @t, or -1 when absent. */
static inline int o_plen(const struct o_attrs *a, unsigned t)
{
	return a->at[t] ? (int)a->alen[t] - 4 : -1;
}

static inline const unsigned char *o_payload(const unsigned char *msg,
					     const struct o_attrs *a, unsigned t)
{
	return msg + a->at[t] + 4;
}

/* An exactly-sized heap copy (malloc(0) may return NULL: use NULL). */
static inline unsigned char *o_heap(const uint8_t *data, size_t size)
{
	unsigned char *p;

	if (size == 0)
		return NULL;
	p = malloc(size);
	if (!p)
		abort();
	memcpy(p, data, size);
	return p;
}

/* A copy of @data, 4-byte aligned as netlink buffers are, that ends
 * where a PROT_NONE page begins, or at most 3 bytes before it (those
 * hold a canary that o_guard_check() verifies).  Returns NULL when @size
 * does not fit (the caller skips it). */
#define O_GUARD_SPACE 65536u
#define O_CANARY 0xa5
static unsigned char *o_guard_region;

static inline unsigned char *o_guarded(const uint8_t *data, size_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *p;

	if (size == 0 || size > O_GUARD_SPACE)
		return NULL;
	if (!o_guard_region) {
		void *r = mmap(NULL, O_GUARD_SPACE + (size_t)page,
			       PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (r == MAP_FAILED ||
		    mprotect((char *)r + O_GUARD_SPACE, (size_t)page, PROT_NONE) != 0)
			abort();
		o_guard_region = r;
	}
	p = o_guard_region + O_GUARD_SPACE - O_ALIGN(size);
	memcpy(p, data, size);
	memset(p + size, O_CANARY, O_ALIGN(size) - size);
	return p;
}

/* Returns 1 when nothing was written between the copy and the guard. */
static inline int o_guard_check(const unsigned char *p, size_t size)
{
	size_t i;

	for (i = size; i < O_ALIGN(size); i++)
		if (p[i] != O_CANARY)
			return 0;
	return 1;
}

#endif
