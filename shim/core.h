/* core.h - the pure core (core.c): functions over netlink
 * bytes and setting strings.  None makes a system call, keeps state,
 * touches errno or takes a lock; all are safe on any bytes (fuzzed). */
#ifndef DADSHIM_CORE_H
#define DADSHIM_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <linux/netlink.h>

/* One IPv6 RTM_NEWADDR request of an outgoing datagram. */
struct nodad_site {
	struct in6_addr addr;	/* IFA_LOCAL, else IFA_ADDRESS (for the log) */
	uint32_t ifindex;
	uint8_t prefixlen;
	uint8_t needs_rewrite;	/* 0: already NODAD and not OPTIMISTIC */
};

/* The number of IPv6 RTM_NEWADDR requests in @buf (the first @max in
 * @sites), or -1 when @buf is malformed (not a sequence of messages that
 * fills it exactly, as the kernel walks it): it then goes out as it is. */
int nodad_scan(const void *buf, size_t len, struct nodad_site *sites, size_t max);

/* The one change to outgoing bytes: sets IFA_F_NODAD and clears
 * IFA_F_OPTIMISTIC (refused together) in every IPv6 RTM_NEWADDR request
 * of @buf, the shim's copy, in ifa_flags and in IFA_FLAGS when present (it
 * replaces ifa_flags).  No length changes; a malformed @buf stays as it
 * was.  Returns how many messages changed. */
unsigned nodad_rewrite(void *buf, size_t len);

/* Fills @srcs with the RTA_PREFSRC of every IPv6 RTM_NEWROUTE request in
 * @buf (the first @max; duplicates kept), which ip6_route_info_create()
 * refuses with EINVAL while the source is tentative.  How many there are,
 * or -1 when @buf is malformed. */
int route_scan(const void *buf, size_t len, struct in6_addr *srcs, size_t max);

/* What the kernel says of one address, in a dump or a notification. */
struct addr_event {
	uint32_t ifindex;
	uint32_t flags;		/* IFA_FLAGS when present, else ifa_flags */
	uint8_t deleted;	/* RTM_DELADDR */
};

/* The messages about IPv6 address @want in a datagram of RTM_NEWADDR and
 * RTM_DELADDR: how many (the first @max in @ev).  Sets *@end to 1 on
 * NLMSG_DONE, to -1 on NLMSG_ERROR or a malformed datagram, else leaves it. */
int addr_events(const void *buf, size_t len, const struct in6_addr *want,
		struct addr_event *ev, size_t max, int *end);

/* Where the address stands for ipv6_chk_addr(), which judges RTA_PREFSRC. */
enum dad_state {
	DAD_ABSENT,		/* no such address in the namespace */
	DAD_TENTATIVE,		/* DAD running: the route would be refused */
	DAD_USABLE,		/* some instance is not tentative (or optimistic) */
	DAD_FAILED,		/* dadfailed: refused for good */
	DAD_GONE,		/* the instance waited on was deleted */
};

struct dad_track {
	enum dad_state state;
	uint32_t ifindex;	/* the tentative instance waited on */
};

/* 1 when @flags make an address acceptable as a source. */
int addr_flags_usable(uint32_t flags);

/* Folds one event into @t (DAD_ABSENT before the first: a dump's, then
 * notifications). */
void dad_track_feed(struct dad_track *t, const struct addr_event *ev);

/* Feeds into @t the events about @want in one datagram read by a look or
 * wait: notifications, and the parts of dump @seq (another dump's part,
 * end or error is left out).  1 when dump @seq ended in it, -1 on its
 * error or a malformed datagram, else 0. */
int dump_feed(const void *buf, size_t len, uint32_t seq,
	      const struct in6_addr *want, struct dad_track *t);

enum { LV_NONE, LV_ERRORS, LV_ACTIONS, LV_DEBUG };

struct settings {
	int nodad;		/* DADSHIM_NODAD: set IFA_F_NODAD */
	int retry;		/* DADSHIM_RETRY: hold a route back until DAD ends */
	unsigned wait_ms;	/* DADSHIM_WAIT_MS: bound of that wait */
	int log_level;		/* DADSHIM_LOG */
	int log_stderr;		/* DADSHIM_LOG_TARGET=stderr (else syslog) */
};

enum setting_id { SET_NODAD, SET_RETRY, SET_WAIT_MS, SET_LOG, SET_LOG_TARGET, SET_COUNT };
extern const char *const setting_names[SET_COUNT];
#define SETTING_MSG_LEN 200

/* Parses @values (getenv() of setting_names[i], or NULL).  A missing or
 * empty value takes the default; an invalid one too, with a message in
 * @msgs[i] naming the variable, the value and the default (else
 * msgs[i][0] = 0).  Returns the number of invalid values. */
int settings_parse(const char *const values[SET_COUNT], struct settings *s,
		   char msgs[SET_COUNT][SETTING_MSG_LEN]);

#endif
