/* log.h - dadshim's log: one line per action, to syslog or stderr. */
#ifndef DADSHIM_LOG_H
#define DADSHIM_LOG_H

#include "settings.h"

/* Takes the level and target from @s (until then: LV_ACTIONS, syslog).
 * Called once, from start-up.  Keeps errno; no lock. */
void log_setup(const struct settings *s);

/* Returns 1 when a line at @level would be written: lets callers skip
 * formatting addresses nobody will read.  Keeps errno; no lock. */
int shim_log_on(int level);

/* Logs at @level (LV_ERRORS, LV_ACTIONS, LV_DEBUG) when the setting
 * allows it.  Never changes errno.  A few system calls (stderr, or the
 * /dev/log socket): never call it with the lock held. */
void shim_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
