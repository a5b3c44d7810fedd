/* fuzz_reply.c - libFuzzer target for reply_head_parse(), which decides
 * whether the datagram at the head of a socket's queue is an ack or error
 * the shim may replace.  The input is the whole datagram; the shim peeks
 * at most REPLY_HEAD_LEN bytes of it (MSG_PEEK|MSG_TRUNC gives the real
 * length), so that is what the parse gets, in a buffer of exactly that
 * size.
 *
 * Invariants:
 * - it accepts exactly a lone NLMSG_ERROR: the datagram is one message
 *   (framed as oracle.h says, so nlmsg_len is inside the datagram), of
 *   type NLMSG_ERROR, long enough for struct nlmsgerr, whose embedded
 *   request header carries the same seq;
 * - then seq, error and the request's header (length, type, flags, port
 *   id) are those bytes, and reply_answers() matches that header;
 * - the answer is the same whether the parse sees 36 bytes or all;
 * - fewer bytes than the head, or "have" beyond "total": refused;
 * - nothing outside the peeked bytes is read. */
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

#include "inspect.h"
#include "oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t have = size < REPLY_HEAD_LEN ? size : REPLY_HEAD_LEN;
	unsigned char *head = o_heap(data, have), *all = o_heap(data, size);
	struct o_msg m[2];
	struct reply_head rh, rh2;
	int ok, lone, r;
	size_t nm;

	nm = o_frame(data, size, m, 2, &ok);
	lone = ok && nm == 1 && m[0].type == NLMSG_ERROR &&
	       m[0].len >= REPLY_HEAD_LEN && o_u32(data + 28) == m[0].seq;
	r = reply_head_parse(head, have, size, &rh);
	INVARIANT(r == lone, "parse says %d, a lone NLMSG_ERROR: %d (len %zu)", r,
		  lone, size);
	if (r) {
		INVARIANT(rh.seq == o_u32(data + 8), "seq");
		INVARIANT(rh.error == (int)o_u32(data + 16), "error");
		INVARIANT(rh.orig_type == o_u16(data + 24), "orig_type");
		INVARIANT(rh.orig_len == o_u32(data + 20) && rh.orig_flags == o_u16(data + 26) &&
			  rh.orig_pid == o_u32(data + 32), "echoed header");
		/* The echoed header answers exactly a request with that header. */
		INVARIANT(reply_answers(&rh, data + 20) == 1, "its own echo does not match");
	}
	INVARIANT(reply_head_parse(all, size, size, &rh2) == r,
		  "the whole datagram parses differently from its head");
	if (r)
		INVARIANT(rh2.seq == rh.seq && rh2.error == rh.error &&
			  rh2.orig_type == rh.orig_type, "fields differ");
	if (have > 0)
		INVARIANT(reply_head_parse(head, have, have - 1, &rh2) == 0,
			  "accepted more bytes than the datagram has");
	if (have > 1)
		INVARIANT(reply_head_parse(head, have - 1, size, &rh2) == 0,
			  "accepted a peek shorter than the head");
	free(head);
	free(all);
	return 0;
}
