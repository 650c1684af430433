/* kill.c - KILL through the proxy: the statements it translates, who may run them (pure). */
#include "session/kill.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "codec/myp.h"

static size_t kill_skip_space(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* Match a keyword followed by whitespace; returns the index after it or 0. */
static size_t kill_word(const char *s, size_t n, size_t i, const char *word)
{
	size_t w = strlen(word);
	if (i + w >= n || strncasecmp(s + i, word, w) != 0)
		return 0;
	char c = s[i + w];
	if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
		return 0;
	return kill_skip_space(s, n, i + w);
}

bool gp_kill_parse(const char *sql, size_t n, gp_kill_t *out)
{
	memset(out, 0, sizeof(*out));
	out->hardsoft = "";
	size_t i = kill_skip_space(sql, n, 0), j;
	if (!(j = kill_word(sql, n, i, "KILL")))
		return false;
	i = j;
	if ((j = kill_word(sql, n, i, "HARD"))) {
		out->hardsoft = "HARD";
		i = j;
	} else if ((j = kill_word(sql, n, i, "SOFT"))) {
		out->hardsoft = "SOFT";
		i = j;
	}
	if ((j = kill_word(sql, n, i, "CONNECTION"))) {
		i = j;
	} else if ((j = kill_word(sql, n, i, "QUERY"))) {
		out->query = true;
		i = j;
	}
	size_t start = i;
	uint64_t id = 0;
	while (i < n && sql[i] >= '0' && sql[i] <= '9') {
		if (i - start >= 19)
			return false;
		id = id * 10 + (uint64_t)(sql[i] - '0');
		i++;
	}
	if (i == start)
		return false;
	size_t end = i;
	i = kill_skip_space(sql, n, i);
	if (i < n && sql[i] == ';')
		i = kill_skip_space(sql, n, i + 1);
	if (i != n)
		return false;
	out->id = id;
	out->id_off = start;
	out->id_len = end - start;
	return true;
}

bool gp_kill_sql(char *buf, size_t cap, const gp_kill_t *k, uint32_t thread)
{
	int w = snprintf(buf, cap, "KILL %s%s%s %u", k->hardsoft, *k->hardsoft ? " " : "",
	                 k->query ? "QUERY" : "CONNECTION", thread);
	return w > 0 && (size_t)w < cap;
}

const char *gp_kill_message(char *buf, size_t cap, unsigned code, uint64_t id)
{
	const char *fmt = code == GP_ER_NO_SUCH_THREAD ? "Unknown thread id: %llu"
	                  : code == GP_ER_KILL_DENIED  ? "You are not owner of thread %llu"
	                                               : NULL;
	if (!fmt || cap == 0)
		return NULL;
	snprintf(buf, cap, fmt, (unsigned long long)id);
	return buf;
}

/* ---- who may KILL whom --------------------------------------------------------- */

#define KILL_USERNAME_BYTES 384 /* USERNAME_LENGTH: the server's buffer for a converted name */
#define KILL_CS_SWE7        10  /* swe7_swedish_ci: 7-bit, but @[\]^`{|}~ are letters */
#define KILL_CS_SWE7_BIN    82  /* swe7_bin */

static bool kill_ascii(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == 0 || s[i] >= 0x80)
			return false;
	return true;
}

void gp_kill_login_set(gp_kill_login_t *l, const uint8_t *name, size_t n, uint16_t charset,
                       bool handshake)
{
	gp_kill_login_clear(l);
	l->charset = charset;
	bool ascii = kill_ascii(name, n);
	/* A non-ASCII name is held only when short enough that the server cuts nothing off it:
	 * <= 128 bytes are <= 128 characters, <= 384 bytes once in utf8. */
	if (!ascii && n > GP_KILL_USER_MAX)
		return;
	if (handshake) {
		/* ASCII converts byte for byte, so the server's steps apply to the raw name:
		 * into 384 bytes, enclosing quotes off, then 128 characters. Quotes are ASCII in
		 * every client charset the server accepts, and never a multi-byte tail. */
		if (n > KILL_USERNAME_BYTES)
			n = KILL_USERNAME_BYTES;
		if (n > 1 && name[0] == '\'' && name[n - 1] == '\'') {
			name++;
			n -= 2;
		}
		if (n > GP_KILL_USER_MAX)
			n = GP_KILL_USER_MAX;
	} else if (n > GP_KILL_USER_MAX) {
		return; /* COM_CHANGE_USER keeps longer names, which no account can have */
	}
	l->name = malloc(n ? n : 1);
	if (!l->name)
		return;
	memcpy(l->name, name, n);
	l->len = (uint8_t)n;
	l->known = true;
}

void gp_kill_login_clear(gp_kill_login_t *l)
{
	free(l->name);
	memset(l, 0, sizeof(*l));
}

void gp_kill_login_move(gp_kill_login_t *dst, gp_kill_login_t *src)
{
	gp_kill_login_clear(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

const char *gp_kill_login_log(char *buf, size_t cap, const gp_kill_login_t *l)
{
	return l->known ? gp_log_quote(buf, (unsigned)cap, l->name, l->len) : "-";
}

/* Bytes that mean the same character in every client charset the server converts from. */
static bool kill_login_plain(const gp_kill_login_t *l)
{
	bool swe7 = l->charset == 0 || l->charset == KILL_CS_SWE7 || l->charset == KILL_CS_SWE7_BIN;
	for (size_t i = 0; i < l->len; i++) {
		uint8_t c = (uint8_t)l->name[i];
		if (c == 0 || c >= 0x80 || (swe7 && strchr("@[\\]^`{|}~", c)))
			return false;
	}
	return true;
}

bool gp_kill_login_same(const gp_kill_login_t *a, const gp_kill_login_t *b)
{
	if (!a->known || !b->known || a->len != b->len || memcmp(a->name, b->name, a->len) != 0)
		return false;
	if (kill_login_plain(a) && kill_login_plain(b))
		return true;
	return a->charset != 0 && a->charset == b->charset;
}

/* One item of a grant's privilege list lets its holder KILL other users' threads. */
static bool kill_priv_allows(const char *s, size_t n)
{
	static const char *const privs[] = {"SUPER", "CONNECTION ADMIN", "ALL PRIVILEGES", "ALL"};
	while (n && s[0] == ' ') {
		s++;
		n--;
	}
	while (n && s[n - 1] == ' ')
		n--;
	for (size_t i = 0; i < sizeof(privs) / sizeof(privs[0]); i++)
		if (n == strlen(privs[i]) && memcmp(s, privs[i], n) == 0)
			return true;
	return false;
}

bool gp_kill_grant_allows(const char *line, size_t n)
{
	static const char grant[] = "GRANT ", on[] = " ON ", global[] = "*.* TO ";
	size_t glen = sizeof(grant) - 1, olen = sizeof(on) - 1, tlen = sizeof(global) - 1;
	if (n < glen || memcmp(line, grant, glen) != 0)
		return false;
	bool allows = false;
	size_t item = glen;
	unsigned depth = 0;
	char quote = 0;
	for (size_t i = glen; i < n; i++) {
		char c = line[i];
		if (quote) {
			if (c == quote) {
				if (i + 1 < n && line[i + 1] == quote)
					i++; /* doubled: part of the name */
				else
					quote = 0;
			}
			continue;
		}
		if (c == '`' || c == '"' || c == '\'') {
			quote = c;
		} else if (c == '(') {
			depth++; /* a column list */
		} else if (c == ')') {
			if (depth == 0)
				return false;
			depth--;
		} else if (depth == 0 && c == ',') {
			allows |= kill_priv_allows(line + item, i - item);
			item = i + 1;
		} else if (depth == 0 && n - i >= olen && memcmp(line + i, on, olen) == 0) {
			allows |= kill_priv_allows(line + item, i - item);
			i += olen;
			return allows && n - i >= tlen && memcmp(line + i, global, tlen) == 0;
		}
	}
	return false; /* no "ON" (a role granted: GRANT `r` TO ...), or cut before it */
}

bool gp_kill_grant_row_allows(const uint8_t *p, size_t n)
{
	uint64_t len;
	size_t used;
	bool is_null;
	if (myp_lenenc_int(p, n, &len, &used, &is_null) != MYP_OK || is_null)
		return false;
	size_t visible = len < n - used ? (size_t)len : n - used;
	return gp_kill_grant_allows((const char *)p + used, visible);
}

bool gp_kill_slot_take(uint32_t *inflight)
{
	if (*inflight >= GP_KILL_JOBS_MAX)
		return false;
	(*inflight)++;
	return true;
}

void gp_kill_slot_give(uint32_t *inflight)
{
	if (*inflight > 0)
		(*inflight)--;
}
