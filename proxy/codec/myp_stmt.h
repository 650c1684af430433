/* myp_stmt.h - server-side prepared statements: prepare, its OK, statement ids, EXECUTE. */
#ifndef MYP_STMT_H
#define MYP_STMT_H

#include "myp.h"

/*
 * What moving a session's prepared statements to another server needs: prepare them again
 * (myp_stmt_prepare_build, myp_stmt_prepare_ok_parse), send the client's commands with the
 * new server's ids (myp_stmt_id_rewrite), and send the parameter types again on the first
 * EXECUTE there, which the client will not (myp_stmt_execute_parse, myp_stmt_execute_build).
 * The layouts are MariaDB 10.11's (mysqld_stmt_execute, mysql_stmt_get_longdata,
 * mysqld_stmt_fetch, mysqld_stmt_reset, mysqld_stmt_close, mysqld_stmt_bulk_execute): the
 * statement id is 4 bytes right after the command byte in all six. Not for sessions with
 * CLIENT_QUERY_ATTRIBUTES (MySQL 8 adds a parameter count to EXECUTE).
 */

/* MariaDB: "the statement prepared last on this connection" (prepare and execute sent
 * together without waiting for the id). */
#define MYP_STMT_ID_DIRECT 0xFFFFFFFFu

/* Build COM_STMT_PREPARE (seq 0) of sql[0..len). */
void myp_stmt_prepare_build(myp_wbuf_t *w, const char *sql, size_t len);

typedef struct myp_stmt_prepare_ok {
	uint32_t stmt_id;  /* the server's id */
	uint16_t columns;  /* column definitions that follow */
	uint16_t params;   /* parameter definitions that follow */
	uint16_t warnings; /* warning count */
} myp_stmt_prepare_ok_t;

/* Parse the first packet of a successful COM_STMT_PREPARE response (payload, 0x00 first). */
MYP_WUR myp_status_t myp_stmt_prepare_ok_parse(const uint8_t *p, size_t n,
                                               myp_stmt_prepare_ok_t *out);

/* True for the commands that name a statement by its id: EXECUTE, SEND_LONG_DATA, FETCH,
 * RESET, CLOSE, BULK_EXECUTE. */
bool myp_stmt_cmd_has_id(uint8_t cmd);
/* The statement id of such a command payload. */
MYP_WUR myp_status_t myp_stmt_id_parse(const uint8_t *p, size_t n, uint32_t *id);

/* The session's map from a client's statement id to the server's: false if unknown. */
typedef bool (*myp_stmt_map_fn)(void *ctx, uint32_t client_id, uint32_t *server_id);

/* Rewrite in place the statement id of a command payload (p[0] the command) through map.
 * MYP_OK: rewritten, or left alone (MYP_STMT_ID_DIRECT, or a command without an id);
 * MYP_EPROTO: map does not know the id (p unchanged: answer the client as the server would,
 * ER_UNKNOWN_STMT_HANDLER) or p is malformed; MYP_NEED_MORE: p is cut before the id. */
MYP_WUR myp_status_t myp_stmt_id_rewrite(uint8_t *p, size_t n, myp_stmt_map_fn map, void *ctx);

#define MYP_STMT_PARAM_TYPE_LEN 2 /* a parameter's type and its flags (0x80: unsigned) */

typedef struct myp_stmt_exec {
	uint32_t stmt_id;      /* statement id */
	uint8_t flags;         /* cursor type (1: read only cursor) */
	uint32_t iterations;   /* always 1 */
	const uint8_t *nulls;  /* NULL bitmap, (params + 7) / 8 bytes (slice; NULL if none) */
	size_t nulls_len;      /* its length */
	bool types_bound;      /* new_params_bound_flag: the types follow */
	const uint8_t *types;  /* the types, MYP_STMT_PARAM_TYPE_LEN a parameter (slice) */
	size_t types_len;      /* its length (0 unless types_bound) */
	const uint8_t *values; /* the parameter values: the rest of the payload (slice) */
	size_t values_len;     /* its length */
} myp_stmt_exec_t;

/* Parse a whole COM_STMT_EXECUTE payload of a statement with params parameters (from its
 * prepare OK). */
MYP_WUR myp_status_t myp_stmt_execute_parse(const uint8_t *p, size_t n, uint16_t params,
                                            myp_stmt_exec_t *out);
/* Build e again (seq 0) for statement stmt_id. When it has parameters, new_params_bound_flag
 * is 1 and types[0..types_len) (2 bytes a parameter: e's own if e->types_bound, else the
 * last ones the client bound) go before the values: a server that prepared the statement
 * anew has not seen them. */
void myp_stmt_execute_build(myp_wbuf_t *w, const myp_stmt_exec_t *e, uint32_t stmt_id,
                            const uint8_t *types, size_t types_len);

#endif
