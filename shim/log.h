/* log.h - dadshim's log: one line per action, to syslog or stderr.  No
 * function here takes a lock; shim_log() may change errno. */
#ifndef DADSHIM_LOG_H
#define DADSHIM_LOG_H

#include "settings.h"

/* Takes the level and target from @s (until then: LV_ACTIONS, syslog);
 * once, from start-up. */
void log_setup(const struct settings *s);

/* 1 when a line at @level would be written (callers skip formatting). */
int shim_log_on(int level);

/* Logs at @level (LV_ERRORS, LV_ACTIONS, LV_DEBUG) when the setting allows:
 * a few system calls (a write to stderr, or a socket to /dev/log). */
void shim_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
