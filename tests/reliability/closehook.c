/*
 * closehook - a preload placed after dadshim (LD_PRELOAD="dadshim hook"),
 * so that the shim's "real" close() is this one: it closes, then, before
 * returning to the shim, calls closehook_fn (set by the test program) with
 * the number just freed.  That is the moment another thread can be given
 * the same number; tests/reliability/lifecycle.c (case closerace) uses it to make that
 * happen every time instead of by chance.
 */
#include <unistd.h>
#include <sys/syscall.h>

/* cppcheck-suppress unusedFunction ; found with dlsym() */
void (*closehook_fn)(int) __attribute__((visibility("default")));
void (*closehook_fn)(int);

int close(int fd)
{
	int ret = (int)syscall(SYS_close, fd);
	void (*fn)(int) = closehook_fn;

	if (ret == 0 && fn) {
		closehook_fn = NULL;	/* once */
		fn(fd);
	}
	return ret;
}
