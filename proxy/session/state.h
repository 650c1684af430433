/* state.h - a session's re-creatable state, from the server's session tracking and a text scan. */
#ifndef GP_STATE_H
#define GP_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/myp.h"

/*
 * Issue 17 step 3. What another node needs to carry a session on: its default schema, the
 * system variables the client changed (SYSVAR entries of every OK, as name=value), its last
 * insert id. What no node can be given makes the session not movable: sticky reason bits,
 * from the tracker (a STATE_CHANGE that names nothing: user variables, temporary tables) and
 * from a conservative scan of COM_QUERY text where the tracker is silent (locks, found rows,
 * SQL-level PREPARE). The scan may only ever add a reason. COM_CHANGE_USER and
 * COM_RESET_CONNECTION reset everything, reasons too, as the server does.
 *
 * Embedded in gp_core_t (c->st): a zeroed gp_sstate_t is an empty state. The variables live
 * in a heap block grown on the first SYSVAR up to GP_SSTATE_VARS_MAX bytes (beyond:
 * GP_UNMOV_STATE_FULL); gp_sstate_release frees it and the schema's copy. Fields are
 * state.c's.
 */

#define GP_SSTATE_SCHEMA_MAX 256  /* a schema name: 64 characters in utf8mb4 */
#define GP_SSTATE_VARS_MAX   4096 /* bytes of name=value pairs one session may keep */

typedef struct gp_sstate {
	uint32_t unmovable;      /* GP_UNMOV_* bits, sticky until a reset */
	uint32_t nvars;          /* variables in vars */
	uint8_t *vars;           /* [name_len u8][value_len u16][name][value]... */
	uint32_t vars_len;       /* bytes used */
	uint32_t vars_cap;       /* bytes allocated */
	uint64_t last_insert_id; /* the last non-zero OK last_insert_id */
	bool has_last_insert_id; /* last_insert_id is known */
	uint16_t schema_len;     /* bytes of schema */
	char *schema;            /* the default schema (heap, exact size: an idle
	                          * session pays its length, not the maximum);
	                          * NULL when none */
} gp_sstate_t;

/* Not-movable reasons, sticky bits; gp_sstate_reason_name(bit) -> "user_var", ... */
enum {
	GP_UNMOV_USER_VAR = 1u << 0,         /* a user variable (@a) may be set */
	GP_UNMOV_TEMP_TABLE = 1u << 1,       /* a temporary table may exist */
	GP_UNMOV_SQL_PREPARE = 1u << 2,      /* SQL-level PREPARE / EXECUTE / DEALLOCATE */
	GP_UNMOV_LOCK = 1u << 3,             /* GET_LOCK, LOCK TABLES, a READ / BACKUP LOCK */
	GP_UNMOV_FOUND_ROWS = 1u << 4,       /* SQL_CALC_FOUND_ROWS: FOUND_ROWS() may follow */
	GP_UNMOV_UNTRACKED_CHANGE = 1u << 5, /* the tracker reported a change it did not name */
	GP_UNMOV_NO_TRACKING = 1u << 6,      /* the server does not track (monitor) or untrack
	                                      * failed, or the session turned tracking off */
	GP_UNMOV_STATE_FULL = 1u << 7,       /* more variables than the store holds */
	GP_UNMOV_INSERT_ID_EXPR = 1u << 8,   /* LAST_INSERT_ID(expr), SET insert_id */
	GP_UNMOV_LONG_QUERY = 1u << 9,       /* a query longer than the proxy reads whole */
	GP_UNMOV_COLLATION = 1u << 10,       /* SET NAMES .. COLLATE, SET CHARACTER SET: a
	                                      * collation the tracker does not report */
	/* H-move adds its own from 1u << 16 up (cursor, long_data, not_learned, ...) */
};
#define GP_UNMOV_BITS 32 /* reason bits a counter table needs room for */

/* Start empty (what a zeroed struct is). */
void gp_sstate_init(gp_sstate_t *st);
/* Free what st holds (not st itself); st is empty after. */
void gp_sstate_release(gp_sstate_t *st);
/* On the heap, for a copy the caller keeps (NULL if out of memory); free with gp_sstate_free. */
gp_sstate_t *gp_sstate_new(void);
void gp_sstate_free(gp_sstate_t *st);

/* ---- reading it ---------------------------------------------------------------- */

uint32_t gp_sstate_unmovable(const gp_sstate_t *st);
/* One reason bit's name ("user_var", ...); "unknown" for a bit without one. */
const char *gp_sstate_reason_name(uint32_t bit);
/* The default schema, "" when none. */
const char *gp_sstate_schema(const gp_sstate_t *st);
/* The last non-zero last_insert_id of an OK. Checked against MariaDB 10.11, it is not always
 * what LAST_INSERT_ID() returns: an INSERT of an explicit value into an AUTO_INCREMENT column
 * reports that value (100) while LAST_INSERT_ID() keeps the last generated one (1); SELECT
 * LAST_INSERT_ID(77) reports 0 (the scan marks that last_insert_id_expr). A planned move
 * reads LAST_INSERT_ID() from the old session (move_replay.h); this is the fallback after a
 * loss or a failed read. */
bool gp_sstate_has_last_insert_id(const gp_sstate_t *st);
uint64_t gp_sstate_last_insert_id(const gp_sstate_t *st);
/* Variables kept (each name once, its last value). */
uint32_t gp_sstate_nvars(const gp_sstate_t *st);
/* The value of variable name (case-insensitive) into *value, *len: false if not kept. */
bool gp_sstate_var(const gp_sstate_t *st, const char *name, const uint8_t **value, size_t *len);
/*
 * One "SET @@SESSION.`a`=..., @@SESSION.`b`=..." of every variable the client changed
 * (character_set_*, collation_*, autocommit, sql_mode, time_zone, tx_isolation /
 * transaction_isolation, ...), in the order they were last changed, built with
 * myp_track_sysvar_sql for a target session whose NO_BACKSLASH_ESCAPES is as given: its
 * length (no NUL written), 0 when nothing to replay or cap is too small.
 */
size_t gp_sstate_replay_sql(const gp_sstate_t *st, bool no_backslash_escapes, char *buf,
                            size_t cap);

/* ---- feeding it (the core, where OKs and commands pass) --------------------------- */

/* Add reason bits (they stay until a reset). */
void gp_sstate_add(gp_sstate_t *st, uint32_t bits);
/* The client's default schema at login or COM_INIT_DB (name[0..len), len 0: none). */
void gp_sstate_set_schema(gp_sstate_t *st, const uint8_t *name, size_t len);
/* An OK the server sent (payload parsed with the session's caps): its last insert id and
 * its state block. whole: the block was read in full (false: a peeked OK: whatever it
 * changed is unknown, GP_UNMOV_UNTRACKED_CHANGE). */
void gp_sstate_ok(gp_sstate_t *st, const myp_ok_t *ok, bool whole);
/* A classic EOF (or OK) with SERVER_SESSION_STATE_CHANGED and no block to tell what. */
void gp_sstate_unnamed_change(gp_sstate_t *st);
/* The text of a COM_QUERY (q[0..n), the statement after the command byte). whole: n is all
 * of it (false: GP_UNMOV_LONG_QUERY). Scanned with backslashes as escapes and as plain
 * characters, the union of both: a statement may change NO_BACKSLASH_ESCAPES for the next. */
void gp_sstate_scan_query(gp_sstate_t *st, const uint8_t *q, size_t n, bool whole);
/* The scan alone: the reason bits q[0..n) would add, under one reading of backslashes. */
uint32_t gp_sstate_scan(const uint8_t *q, size_t n, bool no_backslash_escapes);
/* COM_CHANGE_USER succeeded: the server started the session afresh (its OK names the new
 * schema). */
void gp_sstate_reset(gp_sstate_t *st);
/* COM_RESET_CONNECTION succeeded: the same, but the default schema stays (checked against
 * MariaDB 10.11: DATABASE() is unchanged, variables are back to the globals and the login's
 * character set, and its OK carries no state block). */
void gp_sstate_reset_connection(gp_sstate_t *st);

#endif
