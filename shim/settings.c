/* settings.c - strict parsing of the DADSHIM_* variables (pure). */
#include <stdio.h>
#include <string.h>

#include "core.h"

const char *const setting_names[SET_COUNT] = {
	"DADSHIM_NODAD", "DADSHIM_RETRY", "DADSHIM_WAIT_MS", "DADSHIM_LOG", "DADSHIM_LOG_TARGET",
};

/* Decimal digits only: no sign, no spaces, no hex, nothing above @max
 * (checked at each digit, so that no value wraps below it). */
static int parse_uint(const char *v, unsigned max, unsigned *out)
{
	unsigned long n = 0;

	if (*v == '\0')
		return -1;
	for (; *v; v++) {
		if (*v < '0' || *v > '9' || (n = n * 10 + (unsigned long)(*v - '0')) > max)
			return -1;
	}
	*out = (unsigned)n;
	return 0;
}

/* "NAME="VALUE" is invalid (expected ...); using the default D", the value
 * cut at 40 characters, non-printables as '?'. */
static void complain(char *msg, const char *name, const char *v, const char *expect,
		     const char *dflt)
{
	char q[48];
	size_t i;

	for (i = 0; i < 40 && v[i]; i++)
		q[i] = (char)((v[i] >= 0x20 && v[i] < 0x7f) ? v[i] : '?');
	memcpy(q + i, v[i] ? "..." : "", v[i] ? 4 : 1);
	(void)snprintf(msg, SETTING_MSG_LEN, "%s=\"%s\" is invalid (expected %s); using the default %s",
		       name, q, expect, dflt);
}

int settings_parse(const char *const values[SET_COUNT], struct settings *s,
		   char msgs[SET_COUNT][SETTING_MSG_LEN])
{
	static const struct {
		unsigned max, dflt;
		const char *expect, *dflt_text;
	} num[SET_LOG_TARGET] = {
		[SET_NODAD] = { 1, 1, "1 or 0", "1" },
		[SET_RETRY] = { 1, 1, "1 or 0", "1" },
		/* ten minutes: a bound, not a wish */
		[SET_WAIT_MS] = { 600000, 5000, "a whole number of milliseconds from 0 to 600000",
				  "5000" },
		[SET_LOG] = { 3, LV_ACTIONS, "0, 1, 2 or 3", "2" },
	};
	const char *t = values[SET_LOG_TARGET];
	unsigned v[SET_LOG_TARGET];
	int i, bad = 0;

	for (i = 0; i < SET_COUNT; i++)
		msgs[i][0] = '\0';
	for (i = 0; i < SET_LOG_TARGET; i++) {
		v[i] = num[i].dflt;
		if (values[i] && *values[i] && parse_uint(values[i], num[i].max, &v[i]) < 0) {
			v[i] = num[i].dflt;
			complain(msgs[i], setting_names[i], values[i], num[i].expect, num[i].dflt_text);
			bad++;
		}
	}
	s->nodad = (int)v[SET_NODAD];
	s->retry = (int)v[SET_RETRY];
	s->wait_ms = v[SET_WAIT_MS];
	s->log_level = (int)v[SET_LOG];
	s->log_stderr = t && strcmp(t, "stderr") == 0;
	if (t && *t && !s->log_stderr && strcmp(t, "syslog") != 0) {
		complain(msgs[SET_LOG_TARGET], setting_names[SET_LOG_TARGET], t, "syslog or stderr",
			 "syslog");
		bad++;
	}
	return bad;
}
