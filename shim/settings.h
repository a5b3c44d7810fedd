/* settings.h - dadshim's settings, from environment variables read once. */
#ifndef DADSHIM_SETTINGS_H
#define DADSHIM_SETTINGS_H

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

/* The settings in force: defined in interpose.c, written once at start-up
 * (before any wrapper leaves its fast path), read-only after. */
extern struct settings settings;

/* Parses @values (getenv() of setting_names[i], or NULL).  A missing or
 * empty value takes the default; an invalid one too, with a message in
 * @msgs[i] naming the variable, the value and the default (else
 * msgs[i][0] = 0).  Returns the number of invalid values.  Pure: no
 * system call, errno untouched, no lock. */
int settings_parse(const char *const values[SET_COUNT], struct settings *s,
		   char msgs[SET_COUNT][SETTING_MSG_LEN]);

#endif
