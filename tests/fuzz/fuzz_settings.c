/* fuzz_settings.c - libFuzzer target for settings_parse().  Input: one
 * byte whose low five bits say which variables are unset (NULL), then the
 * values separated by NUL bytes, each copied into an exactly-sized heap
 * string.
 *
 * Invariants:
 * - a numeric value is taken exactly when it is decimal digits only, not
 *   empty, and not above its maximum (1, 1, 600000, 3), and then it is
 *   the number; DADSHIM_LOG_TARGET exactly when "stderr" or "syslog";
 * - unset and empty values give the defaults without a message;
 * - anything else gives the default and a message, NUL-terminated inside
 *   SETTING_MSG_LEN, printable, naming the variable and the default;
 * - the return value is the number of messages;
 * - nothing outside the strings is read. */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>

#include "oracle.h"
#include "core.h"

static const unsigned max_of[SET_LOG_TARGET] = { 1, 1, 600000, 3 };
static const unsigned dflt_of[SET_LOG_TARGET] = { 1, 1, 5000, 2 };

/* Decimal digits only, not above @max: 1 and *@v, else 0. */
static int decimal(const char *s, unsigned max, unsigned *v)
{
	unsigned long long n = 0;
	size_t i;

	if (!*s)
		return 0;
	for (i = 0; s[i]; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		if (n <= max)	/* stays small: anything above is refused */
			n = n * 10 + (unsigned)(s[i] - '0');
	}
	if (n > max)
		return 0;
	*v = (unsigned)n;
	return 1;
}

static void check_msg(const char *msg, int i, const char *dflt)
{
	char want[64];
	size_t len = strnlen(msg, SETTING_MSG_LEN), j;

	INVARIANT(len < SETTING_MSG_LEN, "message %d not terminated", i);
	for (j = 0; j < len; j++)
		INVARIANT(msg[j] >= 0x20 && msg[j] < 0x7f, "message %d byte %zu", i, j);
	snprintf(want, sizeof(want), "%s=\"", setting_names[i]);
	INVARIANT(strncmp(msg, want, strlen(want)) == 0, "message %d: %s", i, msg);
	snprintf(want, sizeof(want), "using the default %s", dflt);
	INVARIANT(strstr(msg, want) != NULL, "message %d: %s", i, msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v[SET_COUNT] = { NULL, NULL, NULL, NULL, NULL };
	const char *cv[SET_COUNT];
	char msgs[SET_COUNT][SETTING_MSG_LEN];
	struct settings s;
	unsigned want[SET_LOG_TARGET];
	size_t at = 1;
	int i, bad = 0, nmsg = 0, ret;
	char dflt[16];

	if (size < 1)
		return 0;
	for (i = 0; i < SET_COUNT; i++) {
		const uint8_t *end = at < size ? memchr(data + at, 0, size - at) : NULL;
		size_t l = end ? (size_t)(end - (data + at)) : (at < size ? size - at : 0);

		if (!(data[0] & (1u << i))) {
			v[i] = malloc(l + 1);
			if (!v[i])
				abort();
			memcpy(v[i], data + at, l);
			v[i][l] = '\0';
		}
		at += l + 1;
		cv[i] = v[i];
	}
	memset(msgs, 0xaa, sizeof(msgs));
	ret = settings_parse(cv, &s, msgs);
	for (i = 0; i < SET_COUNT; i++)
		nmsg += msgs[i][0] != '\0';
	INVARIANT(ret == nmsg, "returned %d, %d messages", ret, nmsg);
	for (i = 0; i < SET_LOG_TARGET; i++) {
		want[i] = dflt_of[i];
		if (v[i] && *v[i] && !decimal(v[i], max_of[i], &want[i])) {
			bad = 1;
			want[i] = dflt_of[i];
			snprintf(dflt, sizeof(dflt), "%u", dflt_of[i]);
			INVARIANT(msgs[i][0], "no message for bad %s", setting_names[i]);
			check_msg(msgs[i], i, dflt);
		} else {
			INVARIANT(!msgs[i][0], "message for good %s: %s", setting_names[i],
				  msgs[i]);
		}
	}
	INVARIANT((unsigned)s.nodad == want[SET_NODAD], "nodad %d", s.nodad);
	INVARIANT((unsigned)s.retry == want[SET_RETRY], "retry %d", s.retry);
	INVARIANT(s.wait_ms == want[SET_WAIT_MS], "wait_ms %u", s.wait_ms);
	INVARIANT((unsigned)s.log_level == want[SET_LOG], "log %d", s.log_level);
	i = SET_LOG_TARGET;
	if (!v[i] || !*v[i] || strcmp(v[i], "syslog") == 0) {
		INVARIANT(!s.log_stderr && !msgs[i][0], "target syslog");
	} else if (strcmp(v[i], "stderr") == 0) {
		INVARIANT(s.log_stderr && !msgs[i][0], "target stderr");
	} else {
		INVARIANT(!s.log_stderr && msgs[i][0], "bad target taken");
		check_msg(msgs[i], i, "syslog");
		bad = 1;
	}
	INVARIANT(bad == (ret > 0), "return %d", ret);
	for (i = 0; i < SET_COUNT; i++)
		free(v[i]);
	return 0;
}
