/* real.c - resolving the real libc functions behind the wrappers. */
#include <dlfcn.h>

#include "compat.h"
#include "real.h"

struct real_fns real;

/* dlsym() returns void *; POSIX guarantees it converts to a function
 * pointer, which ISO C does not say: copy the representation. */
#define RESOLVE(field, name)                                        \
	do {                                                        \
		void *p_ = dlsym(RTLD_NEXT, name);                  \
		memcpy(&real.field, &p_, sizeof(p_));               \
	} while (0)

void real_resolve(void)
{
	RESOLVE(socket, "socket");
	RESOLVE(close, "close");
	RESOLVE(dup, "dup");
	RESOLVE(dup2, "dup2");
	RESOLVE(dup3, "dup3");
	RESOLVE(close_range, "close_range");
	RESOLVE(closefrom, "closefrom");
	RESOLVE(send, "send");
	RESOLVE(sendto, "sendto");
	RESOLVE(sendmsg, "sendmsg");
	RESOLVE(sendmmsg, "sendmmsg");
	RESOLVE(write, "write");
	RESOLVE(recv, "recv");
	RESOLVE(recvfrom, "recvfrom");
	RESOLVE(recvmsg, "recvmsg");
	RESOLVE(recvmmsg, "recvmmsg");
	RESOLVE(read, "read");
	RESOLVE(recv_chk, "__recv_chk");
	RESOLVE(recvfrom_chk, "__recvfrom_chk");
	RESOLVE(read_chk, "__read_chk");
}
