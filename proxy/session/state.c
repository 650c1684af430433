/* state.c - a session's re-creatable state: tracked schema and variables, reasons it is not
 * movable. */
#include "session/state.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec/myp_track.h"

#define VAR_HEAD 3 /* name length (u8), value length (u16, little-endian) */

void gp_sstate_init(gp_sstate_t *st)
{
	memset(st, 0, sizeof(*st));
}

void gp_sstate_release(gp_sstate_t *st)
{
	free(st->vars);
	free(st->schema);
	gp_sstate_init(st);
}

gp_sstate_t *gp_sstate_new(void)
{
	return calloc(1, sizeof(gp_sstate_t));
}

void gp_sstate_free(gp_sstate_t *st)
{
	if (!st)
		return;
	gp_sstate_release(st);
	free(st);
}

uint32_t gp_sstate_unmovable(const gp_sstate_t *st)
{
	return st->unmovable;
}

const char *gp_sstate_reason_name(uint32_t bit)
{
	switch (bit) {
	case GP_UNMOV_USER_VAR:
		return "user_var";
	case GP_UNMOV_TEMP_TABLE:
		return "temp_table";
	case GP_UNMOV_SQL_PREPARE:
		return "sql_prepare";
	case GP_UNMOV_LOCK:
		return "lock";
	case GP_UNMOV_FOUND_ROWS:
		return "found_rows";
	case GP_UNMOV_UNTRACKED_CHANGE:
		return "untracked_change";
	case GP_UNMOV_NO_TRACKING:
		return "no_tracking";
	case GP_UNMOV_STATE_FULL:
		return "state_full";
	case GP_UNMOV_INSERT_ID_EXPR:
		return "last_insert_id_expr";
	case GP_UNMOV_LONG_QUERY:
		return "long_query";
	case GP_UNMOV_COLLATION:
		return "collation";
	default:
		return "unknown";
	}
}

const char *gp_sstate_schema(const gp_sstate_t *st)
{
	return st->schema ? st->schema : "";
}

bool gp_sstate_has_last_insert_id(const gp_sstate_t *st)
{
	return st->has_last_insert_id;
}

uint64_t gp_sstate_last_insert_id(const gp_sstate_t *st)
{
	return st->last_insert_id;
}

uint32_t gp_sstate_nvars(const gp_sstate_t *st)
{
	return st->nvars;
}

void gp_sstate_add(gp_sstate_t *st, uint32_t bits)
{
	st->unmovable |= bits;
}

void gp_sstate_reset(gp_sstate_t *st)
{
	uint8_t *vars = st->vars;
	uint32_t cap = st->vars_cap;
	free(st->schema);
	memset(st, 0, sizeof(*st));
	st->vars = vars; /* the block stays for the next SET */
	st->vars_cap = cap;
}

void gp_sstate_reset_connection(gp_sstate_t *st)
{
	char *schema = st->schema; /* kept across the reset */
	uint16_t len = st->schema_len;
	st->schema = NULL;
	gp_sstate_reset(st);
	st->schema = schema;
	st->schema_len = len;
}

void gp_sstate_set_schema(gp_sstate_t *st, const uint8_t *name, size_t len)
{
	if (len > GP_SSTATE_SCHEMA_MAX) {
		st->unmovable |= GP_UNMOV_STATE_FULL;
		len = 0;
	}
	if (len == st->schema_len && (len == 0 || memcmp(st->schema, name, len) == 0))
		return; /* the same again (a USE of the current schema, a tracked echo) */
	char *copy = len ? malloc(len + 1) : NULL;
	if (len && !copy) {
		st->unmovable |= GP_UNMOV_STATE_FULL; /* not kept: a move would lose it */
		len = 0;
	}
	if (copy) {
		memcpy(copy, name, len);
		copy[len] = '\0';
	}
	free(st->schema);
	st->schema = copy;
	st->schema_len = (uint16_t)len;
}

/* ---- the variable store -------------------------------------------------------------- */

/* The entry at off: its name and value. */
static void var_at(const gp_sstate_t *st, uint32_t off, const uint8_t **name, size_t *name_len,
                   const uint8_t **value, size_t *value_len)
{
	const uint8_t *e = st->vars + off;
	*name_len = e[0];
	*value_len = (size_t)e[1] | (size_t)e[2] << 8;
	*name = e + VAR_HEAD;
	*value = e + VAR_HEAD + *name_len;
}

/* The offset of variable name (case-insensitive, as the server treats names), or -1. */
static int64_t var_find(const gp_sstate_t *st, const uint8_t *name, size_t len)
{
	uint32_t off = 0;
	while (off < st->vars_len) {
		const uint8_t *n, *v;
		size_t nl, vl;
		var_at(st, off, &n, &nl, &v, &vl);
		if (nl == len && strncasecmp((const char *)n, (const char *)name, len) == 0)
			return off;
		off += (uint32_t)(VAR_HEAD + nl + vl);
	}
	return -1;
}

bool gp_sstate_var(const gp_sstate_t *st, const char *name, const uint8_t **value, size_t *len)
{
	int64_t off = var_find(st, (const uint8_t *)name, strlen(name));
	if (off < 0)
		return false;
	const uint8_t *n;
	size_t nl;
	var_at(st, (uint32_t)off, &n, &nl, value, len);
	return true;
}

/* name=value, replacing an earlier value (moved to the end: replay follows the order of the
 * last changes). Over the bound: not movable, and the variable is forgotten. */
static void var_set(gp_sstate_t *st, const uint8_t *name, size_t nl, const uint8_t *value,
                    size_t vl)
{
	int64_t off = var_find(st, name, nl);
	if (off >= 0) {
		const uint8_t *n, *v;
		size_t onl, ovl;
		var_at(st, (uint32_t)off, &n, &onl, &v, &ovl);
		uint32_t size = (uint32_t)(VAR_HEAD + onl + ovl);
		memmove(st->vars + off, st->vars + off + size, st->vars_len - (uint32_t)off - size);
		st->vars_len -= size;
		st->nvars--;
	}
	size_t need = VAR_HEAD + nl + vl;
	if (nl == 0 || nl > 255 || vl > 0xFFFF || st->vars_len + need > GP_SSTATE_VARS_MAX) {
		st->unmovable |= GP_UNMOV_STATE_FULL;
		return;
	}
	if (st->vars_len + need > st->vars_cap) {
		uint32_t cap = st->vars_cap ? st->vars_cap : 256;
		while (cap < st->vars_len + need)
			cap *= 2;
		if (cap > GP_SSTATE_VARS_MAX)
			cap = GP_SSTATE_VARS_MAX;
		uint8_t *p = realloc(st->vars, cap);
		if (!p) {
			st->unmovable |= GP_UNMOV_STATE_FULL;
			return;
		}
		st->vars = p;
		st->vars_cap = cap;
	}
	uint8_t *e = st->vars + st->vars_len;
	e[0] = (uint8_t)nl;
	e[1] = (uint8_t)(vl & 0xFF);
	e[2] = (uint8_t)(vl >> 8);
	memcpy(e + VAR_HEAD, name, nl);
	if (vl)
		memcpy(e + VAR_HEAD + nl, value, vl);
	st->vars_len += (uint32_t)need;
	st->nvars++;
}

size_t gp_sstate_replay_sql(const gp_sstate_t *st, bool no_backslash_escapes, char *buf, size_t cap)
{
	if (st->nvars == 0 || cap == 0)
		return 0;
	myp_wbuf_t w;
	myp_wbuf_init(&w, (uint8_t *)buf, cap);
	myp_wbuf_bytes(&w, "SET ", 4);
	uint32_t off = 0;
	for (uint32_t i = 0; off < st->vars_len; i++) {
		const uint8_t *n, *v;
		size_t nl, vl;
		var_at(st, off, &n, &nl, &v, &vl);
		if (i)
			myp_wbuf_bytes(&w, ", ", 2);
		myp_track_sysvar_sql(&w, n, nl, v, vl, no_backslash_escapes);
		off += (uint32_t)(VAR_HEAD + nl + vl);
	}
	return w.failed ? 0 : w.len;
}

/* ---- what the server reports ---------------------------------------------------------- */

/* A variable the proxy must not replay: the tracking itself. A session that changes it may
 * stop reporting what it changes. */
static bool var_is_tracking(const uint8_t *name, size_t len)
{
	static const char pre[] = "session_track_";
	return len >= sizeof(pre) - 1 && strncasecmp((const char *)name, pre, sizeof(pre) - 1) == 0;
}

/* One-shot variables the next INSERT consumes: replayed after it ran, they would give the
 * next one a stale id. */
static bool var_is_insert_id(const uint8_t *name, size_t len)
{
	return (len == 9 && strncasecmp((const char *)name, "insert_id", 9) == 0) ||
	       (len == 14 && strncasecmp((const char *)name, "last_insert_id", 14) == 0) ||
	       (len == 8 && strncasecmp((const char *)name, "identity", 8) == 0);
}

void gp_sstate_ok(gp_sstate_t *st, const myp_ok_t *ok, bool whole)
{
	if (ok->last_insert_id) {
		st->last_insert_id = ok->last_insert_id;
		st->has_last_insert_id = true;
	}
	if (!(ok->status & MYP_SERVER_SESSION_STATE_CHANGED))
		return;
	if (!whole || !ok->session_state) {
		st->unmovable |= GP_UNMOV_UNTRACKED_CHANGE; /* changed, but what is not known */
		return;
	}
	myp_track_iter_t it;
	myp_track_entry_t e;
	bool named = false, unnamed = false;
	myp_track_iter_init(&it, ok->session_state, ok->session_state_len);
	while (myp_track_next(&it, &e)) {
		switch (e.type) {
		case MYP_TRACK_SYSVAR:
			named = true;
			if (var_is_tracking(e.name, e.name_len))
				st->unmovable |= GP_UNMOV_NO_TRACKING;
			else if (var_is_insert_id(e.name, e.name_len))
				st->unmovable |= GP_UNMOV_INSERT_ID_EXPR;
			else
				var_set(st, e.name, e.name_len, e.value, e.value_len);
			break;
		case MYP_TRACK_SCHEMA:
			named = true;
			gp_sstate_set_schema(st, e.value, e.value_len);
			break;
		case MYP_TRACK_STATE_CHANGE:
			unnamed = true;
			break;
		case MYP_TRACK_GTIDS:
		case MYP_TRACK_TRX_CHARACTERISTICS:
		case MYP_TRACK_TRX_STATE:
			break; /* the transaction's, not the session's: moves wait for none */
		default:
			unnamed = true; /* a newer kind of state: not known how to re-create it */
			break;
		}
	}
	if (it.failed || (unnamed && !named))
		st->unmovable |= GP_UNMOV_UNTRACKED_CHANGE;
}

void gp_sstate_unnamed_change(gp_sstate_t *st)
{
	st->unmovable |= GP_UNMOV_UNTRACKED_CHANGE;
}

/* ---- the text scan ----------------------------------------------------------------- */

static bool is_word(uint8_t ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '$' || ch >= 0x80;
}

static bool word_is(const uint8_t *w, size_t n, const char *kw)
{
	return strlen(kw) == n && strncasecmp((const char *)w, kw, n) == 0;
}

/* Past a quoted string or identifier opened by q[i] (the quote): the index after its close,
 * n when it runs to the end. */
static size_t skip_quoted(const uint8_t *q, size_t n, size_t i, bool no_backslash_escapes)
{
	uint8_t quote = q[i++];
	while (i < n) {
		if (q[i] == '\\' && quote != '`' && !no_backslash_escapes) {
			i += 2;
			continue;
		}
		if (q[i] == quote) {
			if (i + 1 < n && q[i + 1] == quote) {
				i += 2; /* a doubled quote stands for itself */
				continue;
			}
			return i + 1;
		}
		i++;
	}
	return n;
}

/* Past a comment starting at q[i], or i when there is none there. MariaDB's executable
 * comments (slash-star-bang, slash-star-M-bang) hold code: only their opening is skipped. */
static size_t skip_comment(const uint8_t *q, size_t n, size_t i)
{
	if (q[i] == '#' || (q[i] == '-' && i + 2 < n && q[i + 1] == '-' && (q[i + 2] <= ' ')) ||
	    (q[i] == '-' && i + 2 == n && q[i + 1] == '-')) {
		while (i < n && q[i] != '\n')
			i++;
		return i;
	}
	if (q[i] != '/' || i + 1 >= n || q[i + 1] != '*')
		return i;
	if (i + 2 < n && q[i + 2] == '!')
		return i + 3;
	if (i + 3 < n && (q[i + 2] == 'M' || q[i + 2] == 'm') && q[i + 3] == '!')
		return i + 4;
	for (i += 2; i + 1 < n; i++)
		if (q[i] == '*' && q[i + 1] == '/')
			return i + 2;
	return n;
}

/* What one word says, given the word before it. */
static uint32_t scan_word(const uint8_t *w, size_t n, const uint8_t *prev, size_t pn,
                          const uint8_t *after, size_t an, bool *names)
{
	if (word_is(w, n, "TEMPORARY"))
		return GP_UNMOV_TEMP_TABLE;
	if (word_is(w, n, "PREPARE") || word_is(w, n, "EXECUTE") || word_is(w, n, "DEALLOCATE"))
		return GP_UNMOV_SQL_PREPARE;
	if (word_is(w, n, "GET_LOCK"))
		return GP_UNMOV_LOCK;
	if (word_is(w, n, "SQL_CALC_FOUND_ROWS"))
		return GP_UNMOV_FOUND_ROWS;
	if (word_is(w, n, "CALL"))
		return GP_UNMOV_UNTRACKED_CHANGE; /* a procedure's locks, PREPAREs and temporary
		                                   * tables hide behind the one change it reports */
	/* SET CHARACTER SET / SET CHARSET take the database's collation, SET NAMES .. COLLATE
	 * its own: the tracker names only the character_set_* variables, and replaying those
	 * gives the charset's default collation (checked against MariaDB 10.11). */
	if (word_is(w, n, "COLLATE") && *names)
		return GP_UNMOV_COLLATION;
	if (word_is(w, n, "NAMES") && word_is(prev, pn, "SET"))
		*names = true;
	if ((word_is(w, n, "CHARSET") || word_is(w, n, "CHARACTER")) && word_is(prev, pn, "SET"))
		return GP_UNMOV_COLLATION;
	if ((word_is(w, n, "TABLE") || word_is(w, n, "TABLES")) && word_is(prev, pn, "LOCK"))
		return GP_UNMOV_LOCK;
	if (word_is(w, n, "LOCK") && (word_is(prev, pn, "READ") || word_is(prev, pn, "BACKUP")))
		return GP_UNMOV_LOCK; /* FLUSH TABLES WITH READ LOCK, BACKUP LOCK */
	if (word_is(w, n, "LAST_INSERT_ID")) {
		/* LAST_INSERT_ID() reads; LAST_INSERT_ID(expr) sets what the next read returns */
		size_t i = 0;
		while (i < an && (after[i] == ' ' || after[i] == '\t' || after[i] == '\n' ||
		                  after[i] == '\r'))
			i++;
		if (i < an && after[i] == '(') {
			for (i++; i < an && after[i] <= ' '; i++)
				;
			if (i >= an || after[i] != ')')
				return GP_UNMOV_INSERT_ID_EXPR;
		}
	}
	return 0;
}

uint32_t gp_sstate_scan(const uint8_t *q, size_t n, bool no_backslash_escapes)
{
	uint32_t bits = 0;
	bool names = false; /* a SET NAMES was seen: a COLLATE after it is the connection's */
	const uint8_t *prev = NULL;
	size_t pn = 0;
	size_t i = 0;
	while (i < n) {
		uint8_t ch = q[i];
		size_t j = skip_comment(q, n, i);
		if (j != i) {
			i = j;
			continue;
		}
		if (ch == '\'' || ch == '"' || ch == '`') {
			i = skip_quoted(q, n, i, no_backslash_escapes);
			prev = NULL;
			pn = 0;
			continue;
		}
		if (ch == '@') {
			if (i + 1 < n && q[i + 1] == '@') {
				/* a system variable: @@name, @@session.name; its name is no keyword
				 */
				for (i += 2; i < n && (is_word(q[i]) || q[i] == '.'); i++)
					;
				continue;
			}
			bits |= GP_UNMOV_USER_VAR; /* @a, @`a`, @'a', and 'u'@'h' too: conservative
			                            */
			i++;
			continue;
		}
		if (is_word(ch)) {
			size_t s = i;
			while (i < n && is_word(q[i]))
				i++;
			bits |= scan_word(q + s, i - s, prev, pn, q + i, n - i, &names);
			prev = q + s;
			pn = i - s;
			continue;
		}
		if (ch > ' ') {
			prev = NULL; /* a punctuation breaks "LOCK TABLES" and the like */
			pn = 0;
		}
		i++;
	}
	return bits;
}

void gp_sstate_scan_query(gp_sstate_t *st, const uint8_t *q, size_t n, bool whole)
{
	st->unmovable |= gp_sstate_scan(q, n, false) | gp_sstate_scan(q, n, true);
	if (!whole)
		st->unmovable |= GP_UNMOV_LONG_QUERY;
}
