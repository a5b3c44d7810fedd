/* log.c - logging without touching the host process's own: openlog() would
 * replace charon's syslog ident, so a line goes to /dev/log directly in
 * the RFC 3164 form glibc's syslog() uses (ident "dadshim", facility
 * daemon), through a socket of the shim's own (shim_fd_open()). */
#include <errno.h>	/* program_invocation_short_name */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "shim.h"

int shim_log_on(int lvl)
{
	return lvl <= settings.log_level && lvl >= LV_ERRORS;
}

static void to_syslog(int lvl, const char *line, int len)
{
	static const struct sockaddr_un dev_log = { AF_UNIX, "/dev/log" };
	static const int severity[] = { 0, LOG_ERR, LOG_NOTICE, LOG_DEBUG };
	char buf[600], stamp[32] = "";
	time_t now = time(NULL);
	struct tm tm;
	int fd, n;

	if (localtime_r(&now, &tm))
		(void)strftime(stamp, sizeof(stamp), "%b %e %T", &tm);
	n = snprintf(buf, sizeof(buf), "<%d>%s %.*s", LOG_DAEMON | severity[lvl], stamp, len, line);
	fd = n < 0 ? -1 : shim_fd_open(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0)
		return;
	/* MSG_DONTWAIT: a stalled log daemon must not stall charon. */
	(void)real.sendto(fd, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1,
			  MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *)&dev_log,
			  sizeof(dev_log));
	shim_fd_close(fd);
}

void shim_log(int lvl, const char *fmt, ...)
{
	char line[512];
	int n, m;

	if (!shim_log_on(lvl))
		return;
	/* "dadshim[PID]: PROG: message\n", cut to fit, the newline kept. */
	n = snprintf(line, sizeof(line), "dadshim[%d]: %s: ", (int)getpid(),
		     program_invocation_short_name);
	m = -1;
	if (n >= 0 && n < (int)sizeof(line) - 2) {
		va_list ap;

		va_start(ap, fmt);
		/* clang 14's analyzer loses va_start() here (a known false alarm). */
		m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized) */
		va_end(ap);
	}
	if (m >= 0) {
		n = n + m > (int)sizeof(line) - 2 ? (int)sizeof(line) - 2 : n + m;
		line[n++] = '\n';
		if (settings.log_stderr)
			(void)real.write(STDERR_FILENO, line, (size_t)n);
		else
			to_syslog(lvl, line, n - 1);
	}
}
