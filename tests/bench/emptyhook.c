/*
 * emptyhook - a preloadable library that does nothing, but needs what
 * libdadshim.so needs (libmnl, libdl, libpthread: the Makefile links them
 * in): make bench's start-up figure for the dynamic loader's share, beside
 * which the shim's own start-up is measured.
 */
#include <libmnl/libmnl.h>

/* One reference, so that libmnl stays needed whatever the linker's
 * --as-needed default. */
__attribute__((visibility("default"))) size_t emptyhook_ref(void);
size_t emptyhook_ref(void)
{
	return mnl_nlmsg_size(0);
}
