/* log.c - logging without touching the host process's own logging.
 *
 * openlog() would replace charon's syslog ident process-wide, so syslog
 * lines are written to /dev/log directly, in the RFC 3164 form glibc's
 * syslog() uses, with ident "dadshim" and facility daemon, through a
 * socket of the shim's own (shim_fd_open(): never a number the program
 * could be using, never closed under a sweep of the program's). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "fds.h"
#include "log.h"
#include "real.h"

static int level = LV_ACTIONS;
static int to_stderr;

void log_setup(const struct settings *s)
{
	level = s->log_level;
	to_stderr = s->log_stderr;
}

int shim_log_on(int lvl)
{
	return lvl <= level && lvl >= LV_ERRORS;
}

static const int severity[] = {
	[LV_ERRORS] = LOG_ERR, [LV_ACTIONS] = LOG_NOTICE, [LV_DEBUG] = LOG_DEBUG,
};

static void to_syslog(int lvl, const char *line, size_t len)
{
	static const struct sockaddr_un dev_log = { AF_UNIX, "/dev/log" };
	char buf[600];
	char stamp[32];
	struct tm tm;
	time_t now = time(NULL);
	int fd, n;

	if (!localtime_r(&now, &tm) || !strftime(stamp, sizeof(stamp), "%b %e %T", &tm))
		stamp[0] = '\0';
	n = snprintf(buf, sizeof(buf), "<%d>%s %.*s", LOG_DAEMON | severity[lvl],
		     stamp, (int)len, line);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	fd = shim_fd_open(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0)
		return;
	/* MSG_DONTWAIT: a stalled log daemon must not stall charon. */
	if (shim_fd_check(fd) == 0)
		(void)real.sendto(fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL,
				  (const struct sockaddr *)&dev_log, sizeof(dev_log));
	shim_fd_close(fd);
}

/* "dadshim[PID]: PROG: message\n" into @line; returns its length. */
static size_t format_line(char *line, size_t size, const char *fmt, va_list ap)
{
	int n = snprintf(line, size, "dadshim[%d]: %s: ", (int)getpid(),
			 program_invocation_short_name);
	int m;

	if (n < 0 || (size_t)n >= size - 2)
		return 0;
	/* @ap was started by shim_log(); the analyzer loses that across
	 * the call. */
	m = vsnprintf(line + n, size - (size_t)n - 1, fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized) */
	if (m < 0)
		return 0;
	n += m;
	if ((size_t)n > size - 2)
		n = (int)size - 2;	/* cut, but keep the newline */
	line[n++] = '\n';
	return (size_t)n;
}

void shim_log(int lvl, const char *fmt, ...)
{
	int saved = errno;
	char line[512];
	va_list ap;
	size_t n;

	if (!shim_log_on(lvl))
		return;
	va_start(ap, fmt);
	n = format_line(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n && to_stderr)
		(void)real.write(STDERR_FILENO, line, n);
	else if (n)
		to_syslog(lvl, line, n - 1);
	errno = saved;
}
