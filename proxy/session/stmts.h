/* stmts.h - a session's server-side prepared statements: text, ids on both sides, bound types. */
#ifndef GP_STMTS_H
#define GP_STMTS_H

#include <stdbool.h>
#include <stdint.h>

#include "codec/myp.h"

/*
 * To move a session to another node its prepared statements are prepared there again, and
 * the new server gives them ids of its own. The client keeps the ids it was given: every
 * command that names one (EXECUTE, SEND_LONG_DATA, FETCH, RESET, CLOSE, BULK_EXECUTE) is
 * rewritten to the server's id, MYP_STMT_ID_DIRECT to the statement the client prepared last.
 * After a move, a new PREPARE_OK is rewritten too, so that the client never gets an id it
 * already holds. A statement prepared anew has not seen its parameter types: the first
 * EXECUTE there is rebuilt with the last types the client bound (the client sends them only
 * once). Pure: no I/O; memory from malloc, freed with gp_stmts_free.
 */

#define GP_STMTS_MAX  256   /* statements kept per session; one more makes it not movable */
#define GP_STMTS_TEXT 16384 /* longest PREPARE text kept (a tracked leg's peek is shorter) */

/* Why a session cannot move, from the statements' side (issue 17: bits from 1u << 16). */
enum {
	GP_UNMOV_CURSOR = 1u << 16,       /* an EXECUTE opened a cursor, not reset or closed */
	GP_UNMOV_LONG_DATA = 1u << 17,    /* SEND_LONG_DATA not consumed by an EXECUTE yet */
	GP_UNMOV_NOT_LEARNED = 1u << 18,  /* no usable secret (another plugin, dropped, ...) */
	GP_UNMOV_CLIENT_CONT = 1u << 19,  /* mid-command (a packet of 16 MB continues) */
	GP_UNMOV_STMT_UNKNOWN = 1u << 20, /* a statement whose text was too long to keep */
};

typedef struct gp_stmt {
	uint32_t client_id; /* the id the client holds */
	uint32_t server_id; /* the id on the current server */
	uint16_t params;    /* parameters (its prepare OK) */
	bool rebind;        /* prepared anew: the next EXECUTE must carry the types */
	bool cursor;        /* an EXECUTE asked for a cursor (flags != 0), not reset since */
	bool long_data;     /* SEND_LONG_DATA since its last EXECUTE or RESET */
	uint8_t *types;     /* the last bound types (params * 2 bytes), NULL before any */
	char *sql;          /* the COM_STMT_PREPARE text (NULL: too long, not kept) */
	uint32_t sql_len;   /* its length */
} gp_stmt_t;

typedef struct gp_stmts {
	gp_stmt_t *v;         /* the statements */
	uint32_t n, cap;      /* how many, room */
	uint32_t max_client;  /* the highest id the client was ever given */
	bool moved;           /* ids may differ from the server's: rewrite them */
	bool full;            /* a statement did not fit (GP_STMTS_MAX, memory) */
	bool pending;         /* a PREPARE is in flight */
	char *pending_sql;    /* its text (NULL: not seen whole) */
	uint32_t pending_len; /* its length */
	uint32_t last_client; /* the client's id of the statement prepared last (DIRECT) */
	int32_t rebuild;      /* GP_STMTS_REBUILD: the statement's index */
	/* How many statements hold each not-movable flag, kept where a flag changes so that
	 * gp_stmts_unmovable (asked after every response) never walks the statements. */
	uint32_t n_cursor, n_long_data, n_unknown;
} gp_stmts_t;

/* What to do with a client command after gp_stmts_command. */
typedef enum gp_stmts_act {
	GP_STMTS_RELAY,   /* relay it (its id rewritten in place where needed) */
	GP_STMTS_REBUILD, /* an EXECUTE that must carry its types: gp_stmts_rebuild */
	GP_STMTS_REFUSE /* such an EXECUTE, longer than the peek: answer ER_UNKNOWN_STMT_HANDLER */
} gp_stmts_act_t;

void gp_stmts_init(gp_stmts_t *st);
/* Forget every statement (COM_RESET_CONNECTION, COM_CHANGE_USER, session end). */
void gp_stmts_clear(gp_stmts_t *st);
void gp_stmts_free(gp_stmts_t *st);
/* A new client command: p[0..n) of its payload (len in all, p patchable), seen before it is
 * relayed. Notes PREPARE texts, cursors, long data, types; maps statement ids. */
gp_stmts_act_t gp_stmts_command(gp_stmts_t *st, uint8_t *p, uint32_t n, uint32_t len);
/* The first server packet answering a PREPARE (p/n, patchable): the statement is known from
 * here; after a move its id is replaced with a fresh one in place. */
void gp_stmts_prepared(gp_stmts_t *st, uint8_t *p, uint32_t n);
/* The EXECUTE p[0..n) (whole) that GP_STMTS_REBUILD named, built again into w (seq 0) with
 * the server's id and the statement's types; false if it cannot be parsed. */
bool gp_stmts_rebuild(gp_stmts_t *st, const uint8_t *p, uint32_t n, myp_wbuf_t *w);
/* GP_UNMOV_* bits of the statements (0: they can all be prepared elsewhere). */
uint32_t gp_stmts_unmovable(const gp_stmts_t *st);
/* The statements went to a new server: each gets its id there (gp_stmts_reprepared). */
void gp_stmts_moving(gp_stmts_t *st);
/* Statement i was prepared again on the new server with id server_id. */
void gp_stmts_reprepared(gp_stmts_t *st, uint32_t i, uint32_t server_id);
/* "cursor", "long_data", "not_learned", "client_cont", "stmt_unknown" ("" for others). */
const char *gp_stmts_reason_name(uint32_t bit);

#endif
