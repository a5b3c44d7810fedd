/* nlwalk.c - walking netlink messages and attributes (pure). */
#include <libmnl/libmnl.h>

#include "nlwalk.h"

int nlwalk(const void *buf, size_t len, nlwalk_fn fn, void *data)
{
	size_t off = 0;

	if (!buf || len < MNL_NLMSG_HDRLEN)
		return -1;
	/* Not mnl_nlmsg_ok(): libmnl (1.0.4) compares (int)nlmsg_len with
	 * the length left, so an nlmsg_len >= 2^31 passes its check and the
	 * walk leaves the buffer.  Lengths are compared unsigned here. */
	while (len - off >= MNL_NLMSG_HDRLEN) {
		const struct nlmsghdr *nlh =
			(const struct nlmsghdr *)((const char *)buf + off);

		if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN || nlh->nlmsg_len > len - off)
			return -1;
		if (fn(nlh, off, data) != 0)
			return -1;
		/* The last message may come without its alignment padding. */
		if (MNL_ALIGN(nlh->nlmsg_len) >= len - off)
			return 0;
		off += MNL_ALIGN(nlh->nlmsg_len);
	}
	return -1;	/* trailing bytes too short for a header */
}

void nl_attr_table(const struct nlmsghdr *nlh, size_t hdrlen,
		   const struct nlattr **tb, unsigned max)
{
	const char *end = (const char *)nlh + nlh->nlmsg_len;
	const struct nlattr *attr;
	unsigned i;

	for (i = 0; i <= max; i++)
		tb[i] = NULL;
	/* Like the kernel's nla_parse(): the last of duplicates wins, and the
	 * walk stops at the first attribute whose length does not fit (the
	 * kernel ignores what follows it too).  Bounded by nlmsg_len itself,
	 * as nlmsg_attrlen() is: libmnl's mnl_attr_for_each() runs to
	 * MNL_ALIGN(nlmsg_len), up to 3 bytes past an unpadded last message. */
	for (attr = mnl_nlmsg_get_payload_offset(nlh, hdrlen);
	     mnl_attr_ok(attr, (int)(end - (const char *)attr));
	     attr = mnl_attr_next(attr)) {
		uint16_t type = mnl_attr_get_type(attr);

		if (type <= max)
			tb[type] = attr;
	}
}
