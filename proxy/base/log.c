/* log.c - logfmt lines to stderr, each written with a single write(2). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

#define GP_LOG_LINE_MAX 2048 /* longer lines are cut and marked, never split */

gp_log_level_t gp_log_min_level = GP_LOG_INFO;

static const char *const gp_log_names[] = {
        [GP_LOG_DEBUG] = "debug",
        [GP_LOG_INFO] = "info",
        [GP_LOG_WARN] = "warn",
        [GP_LOG_ERROR] = "error",
};

int gp_log_level_parse(const char *s)
{
	if (s == NULL)
		return -1;
	for (unsigned i = 0; i < sizeof(gp_log_names) / sizeof(gp_log_names[0]); i++)
		if (strcmp(s, gp_log_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *gp_log_level_name(gp_log_level_t lvl)
{
	if ((unsigned)lvl >= sizeof(gp_log_names) / sizeof(gp_log_names[0]))
		return "unknown";
	return gp_log_names[lvl];
}

/* Writes the UTC timestamp with milliseconds; returns its length (0 on failure). */
static size_t gp_log_format_ts(char *buf, size_t cap)
{
	struct timespec ts;
	struct tm tm;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || gmtime_r(&ts.tv_sec, &tm) == NULL)
		return 0;
	size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n == 0)
		return 0;
	int m = snprintf(buf + n, cap - n, ".%03ldZ", ts.tv_nsec / 1000000L);
	if (m < 0 || (size_t)m >= cap - n)
		return 0;
	return n + (size_t)m;
}

/* One write(2) so lines from one process never interleave; retry only what is left. */
static void gp_log_write_all(const char *p, size_t n)
{
	int saved = errno; /* logging must not clobber the caller's errno */

	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			break; /* nowhere to report a failing stderr */
		}
		p += w;
		n -= (size_t)w;
	}
	errno = saved;
}

void gp_vlog(gp_log_level_t lvl, const char *event, const char *fmt, va_list ap)
{
	static const char trunc_mark[] = " log_truncated=true\n";
	char line[GP_LOG_LINE_MAX];
	char ts[40];
	size_t len;
	int n;

	if (!gp_log_enabled(lvl))
		return;
	if (gp_log_format_ts(ts, sizeof(ts)) == 0)
		strcpy(ts, "1970-01-01T00:00:00.000Z");
	n = snprintf(line, sizeof(line), "ts=%s level=%s event=%s", ts, gp_log_level_name(lvl),
	             event != NULL && event[0] != '\0' ? event : "unknown");
	len = n < 0 ? 0 : (size_t)n;
	if (len < sizeof(line) - 1 && fmt != NULL && fmt[0] != '\0') {
		line[len++] = ' ';
		n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
		if (n <= 0) {
			line[--len] = '\0'; /* nothing (or garbage) to add: drop the separator */
		} else {
			len += (size_t)n;
		}
	}
	if (len + 1 >= sizeof(line)) {
		/* The line did not fit (with its newline): cut it and say so. */
		len = sizeof(line) - sizeof(trunc_mark);
		memcpy(line + len, trunc_mark, sizeof(trunc_mark) - 1);
		len += sizeof(trunc_mark) - 1;
	} else {
		line[len++] = '\n';
	}
	gp_log_write_all(line, len);
}

void gp_log(gp_log_level_t lvl, const char *event, const char *fmt, ...)
{
	va_list ap;

	if (!gp_log_enabled(lvl))
		return;
	va_start(ap, fmt);
	gp_vlog(lvl, event, fmt, ap);
	va_end(ap);
}

static int gp_log_needs_escape(unsigned char ch)
{
	return ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\';
}

static int gp_log_needs_quotes(const char *s, unsigned len)
{
	for (unsigned i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == ' ' || ch == '=' || ch == '"' || ch < 0x20 || ch == 0x7f)
			return 1;
	}
	return 0;
}

const char *gp_log_quote(char *buf, unsigned cap, const char *s, unsigned len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned o = 0;

	if (buf == NULL || cap == 0)
		return "";
	if (s == NULL)
		len = 0;
	if (len > 0 && !gp_log_needs_quotes(s, len)) {
		unsigned n = len < cap - 1 ? len : cap - 1;
		memcpy(buf, s, n);
		buf[n] = '\0';
		return buf;
	}
	if (cap < 3) { /* not even room for "" */
		buf[0] = '\0';
		return buf;
	}
	buf[o++] = '"';
	for (unsigned i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		char esc[4];
		unsigned elen = 0;

		if (!gp_log_needs_escape(ch)) {
			esc[elen++] = (char)ch;
		} else if (ch == '"' || ch == '\\') {
			esc[elen++] = '\\';
			esc[elen++] = (char)ch;
		} else if (ch == '\n' || ch == '\t') {
			esc[elen++] = '\\';
			esc[elen++] = ch == '\n' ? 'n' : 't';
		} else {
			esc[elen++] = '\\';
			esc[elen++] = 'x';
			esc[elen++] = hex[ch >> 4];
			esc[elen++] = hex[ch & 0xf];
		}
		/* Keep room for the closing quote and the NUL; never split an escape. */
		if (o + elen + 2 > cap)
			break;
		memcpy(buf + o, esc, elen);
		o += elen;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}
