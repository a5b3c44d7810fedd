/* fuzz_rewrite.c - libFuzzer target for the send-side rewrite:
 * nodad_scan() and nodad_rewrite() on an arbitrary datagram.
 *
 * Invariants (checked against oracle.h, the kernel's reading):
 * - nodad_scan() is -1 exactly when the datagram is not framed; it never
 *   writes; it counts exactly the IPv6 RTM_NEWADDR requests with a whole
 *   ifaddrmsg and an IFA_FLAGS that is absent or a u32, and describes them
 *   as the kernel would read them; with or without @sites, the same count;
 * - nodad_rewrite() leaves a malformed datagram byte-identical; otherwise
 *   it changes exactly the messages nodad_scan() flagged, and in those only
 *   byte 18 (ifa_flags) and the u32 of the IFA_FLAGS the kernel will use,
 *   to (old | IFA_F_NODAD) & ~IFA_F_OPTIMISTIC; lengths never change;
 * - a second rewrite changes nothing, a scan then flags nothing;
 * - no byte outside the datagram is read or written (ASan on an exactly
 *   sized heap copy; a copy before a PROT_NONE page for libmnl's reads). */
#include <stddef.h>
#include <stdint.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "oracle.h"
#include "core.h"

#define SITES 256	/* more than a max_len datagram holds */

struct cand {
	size_t off;		/* message offset in the datagram */
	int needs;		/* effective flags lack NODAD or carry OPTIMISTIC */
	long flags_at;		/* offset of the IFA_FLAGS u32, -1 if absent */
	uint32_t ifindex;
	uint8_t prefixlen;
	unsigned char addr[16];
};

/* The IPv6 RTM_NEWADDR requests of a framed datagram, as the kernel sees
 * them.  Returns their number (the first SITES described). */
static int candidates(const unsigned char *b, const struct o_msg *m, size_t nm,
		      struct cand *c)
{
	static struct o_attrs a;
	size_t i;
	int n = 0;

	for (i = 0; i < nm && i < O_MSGS; i++) {
		const unsigned char *msg = b + m[i].off;

		if (m[i].type != RTM_NEWADDR || !(m[i].flags & NLM_F_REQUEST))
			continue;
		if (!o_parse(msg, m[i].len, sizeof(struct ifaddrmsg), &a))
			continue;
		if (msg[O_HDR] != AF_INET6)
			continue;
		if (o_plen(&a, IFA_FLAGS) >= 0 && o_plen(&a, IFA_FLAGS) != 4)
			continue;	/* documented: left to the kernel */
		if (n < SITES) {
			struct cand *k = &c[n];
			uint32_t eff;
			int local;

			memset(k, 0, sizeof(*k));
			k->off = m[i].off;
			k->flags_at = o_plen(&a, IFA_FLAGS) == 4
				? (long)(m[i].off + a.at[IFA_FLAGS] + 4) : -1;
			eff = k->flags_at >= 0 ? o_u32(b + k->flags_at) : msg[O_HDR + 2];
			k->needs = !(eff & IFA_F_NODAD) || (eff & IFA_F_OPTIMISTIC);
			k->prefixlen = msg[O_HDR + 1];
			k->ifindex = o_u32(msg + O_HDR + 4);
			local = o_plen(&a, IFA_LOCAL) >= 0 ? IFA_LOCAL : IFA_ADDRESS;
			if (o_plen(&a, (unsigned)local) == 16)
				memcpy(k->addr, o_payload(msg, &a, (unsigned)local), 16);
		}
		n++;
	}
	return n;
}

static uint32_t nodad(uint32_t f)
{
	return (f | IFA_F_NODAD) & ~(uint32_t)IFA_F_OPTIMISTIC;
}

/* Byte @j of a candidate that may change. */
static int may_change(const struct cand *c, int n, size_t j)
{
	int i;

	for (i = 0; i < n && i < SITES; i++) {
		if (!c[i].needs)
			continue;
		if (j == c[i].off + O_HDR + 2)
			return 1;
		if (c[i].flags_at >= 0 && j >= (size_t)c[i].flags_at &&
		    j < (size_t)c[i].flags_at + 4)
			return 1;
	}
	return 0;
}

static void check(const uint8_t *data, size_t size, unsigned char *buf,
		  unsigned char *out)
{
	static struct o_msg m[O_MSGS];
	static struct cand c[SITES];
	struct nodad_site s[SITES];
	int ok, nc, sc, i, flagged = 0;
	size_t nm, j;
	unsigned ch;

	nm = o_frame(data, size, m, O_MSGS, &ok);
	sc = nodad_scan(buf, size, s, SITES);
	INVARIANT(size == 0 || memcmp(buf, data, size) == 0, "scan wrote");
	INVARIANT(nodad_scan(buf, size, NULL, 0) == sc, "count differs without sites");
	ch = nodad_rewrite(out, size);
	if (!ok) {
		INVARIANT(sc == -1, "malformed datagram scanned: %d", sc);
		INVARIANT(ch == 0, "malformed datagram rewritten: %u", ch);
		INVARIANT(size == 0 || memcmp(out, data, size) == 0,
			  "malformed datagram changed");
		return;
	}
	INVARIANT(nm <= O_MSGS, "more messages than the oracle holds");
	nc = candidates(data, m, nm, c);
	INVARIANT(sc == nc, "scan %d, the kernel would see %d RTM_NEWADDR", sc, nc);
	for (i = 0; i < nc && i < SITES; i++) {
		INVARIANT(s[i].needs_rewrite == c[i].needs, "site %d needs %d, oracle %d",
			  i, s[i].needs_rewrite, c[i].needs);
		INVARIANT(s[i].ifindex == c[i].ifindex && s[i].prefixlen == c[i].prefixlen,
			  "site %d described wrongly", i);
		INVARIANT(memcmp(&s[i].addr, c[i].addr, 16) == 0, "site %d address", i);
		flagged += c[i].needs;
	}
	if (nc <= SITES)
		INVARIANT(ch == (unsigned)flagged, "rewrote %u, flagged %d", ch, flagged);
	/* Only the documented bytes of flagged messages, to the documented
	 * values; every flagged message really changed. */
	for (j = 0; j < size; j++)
		INVARIANT(out[j] == data[j] || may_change(c, nc, j),
			  "byte %zu changed (%#x -> %#x)", j, data[j], out[j]);
	for (i = 0; i < nc && i < SITES; i++) {
		size_t f = c[i].off + O_HDR + 2;

		if (!c[i].needs) {
			INVARIANT(out[f] == data[f], "unflagged message %d changed", i);
			continue;
		}
		INVARIANT(out[f] == (uint8_t)nodad(data[f]), "ifa_flags of %d: %#x -> %#x",
			  i, data[f], out[f]);
		if (c[i].flags_at >= 0)
			INVARIANT(o_u32(out + c[i].flags_at) ==
				  nodad(o_u32(data + c[i].flags_at)),
				  "IFA_FLAGS of %d", i);
	}
	/* Idempotent. */
	memcpy(buf, out, size);
	INVARIANT(nodad_rewrite(out, size) == 0, "second rewrite changed something");
	INVARIANT(memcmp(buf, out, size) == 0, "second rewrite changed bytes");
	sc = nodad_scan(out, size, s, SITES);
	INVARIANT(sc == nc, "rescan count %d, was %d", sc, nc);
	for (i = 0; i < sc && i < SITES; i++)
		INVARIANT(!s[i].needs_rewrite, "site %d still needs a rewrite", i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *buf = o_heap(data, size), *out = o_heap(data, size);
	unsigned char *g;

	check(data, size, buf, out);
	/* libmnl's own reads are not instrumented: the same call on a copy
	 * that ends at an inaccessible page, same result expected. */
	g = o_guarded(data, size);
	if (g) {
		unsigned gch;

		INVARIANT(nodad_scan(g, size, NULL, 0) == nodad_scan(data, size, NULL, 0),
			  "scan differs at the guard page");
		gch = nodad_rewrite(g, size);
		memcpy(buf, data, size);
		INVARIANT(gch == nodad_rewrite(buf, size) && memcmp(g, buf, size) == 0,
			  "rewrite differs at the guard page");
		INVARIANT(o_guard_check(g, size), "rewrite wrote past the datagram");
	}
	free(buf);
	free(out);
	return 0;
}
