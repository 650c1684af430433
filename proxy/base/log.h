/* log.h - logfmt logging to stderr; every line names its connection. */
#ifndef GP_LOG_H
#define GP_LOG_H

#include <stdarg.h>

typedef enum gp_log_level {
	GP_LOG_DEBUG = 0,
	GP_LOG_INFO = 1,
	GP_LOG_WARN = 2,
	GP_LOG_ERROR = 3
} gp_log_level_t;

extern gp_log_level_t gp_log_min_level; /* lines below this level are dropped */

/* Parse "debug"|"info"|"warn"|"error"; returns -1 if unknown. */
int gp_log_level_parse(const char *s);
const char *gp_log_level_name(gp_log_level_t lvl);

/*
 * Emit one logfmt line: ts=... level=... event=EVENT <fields>. fmt builds the rest
 * of the line as "key=value key=value"; values with spaces must be quoted by the
 * caller with gp_log_quote(). Example:
 *   gp_log(GP_LOG_INFO, "client_accept", "conn=%u client=%s", id, addr);
 */
void gp_log(gp_log_level_t lvl, const char *event, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
void gp_vlog(gp_log_level_t lvl, const char *event, const char *fmt, va_list ap);

/* Quote a value for logfmt into buf (always NUL-terminated, truncated to cap). */
const char *gp_log_quote(char *buf, unsigned cap, const char *s, unsigned len);

#define gp_log_enabled(lvl) ((lvl) >= gp_log_min_level)

#endif
