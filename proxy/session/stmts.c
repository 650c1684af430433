/* stmts.c - a session's server-side prepared statements: text, ids on both sides, bound types. */
#include "session/stmts.h"

#include <stdlib.h>
#include <string.h>

#include "codec/myp_stmt.h"

/* A statement id in a command or PREPARE_OK, little-endian after the first byte. */
static void stmts_put_id(uint8_t *p, uint32_t id)
{
	p[1] = (uint8_t)id;
	p[2] = (uint8_t)(id >> 8);
	p[3] = (uint8_t)(id >> 16);
	p[4] = (uint8_t)(id >> 24);
}

void gp_stmts_init(gp_stmts_t *st)
{
	memset(st, 0, sizeof(*st));
	st->rebuild = -1;
}

static void stmt_free(gp_stmt_t *s)
{
	free(s->types);
	free(s->sql);
}

/* The two flags a statement's commands change, each with its count. */
static void stmt_set_cursor(gp_stmts_t *st, gp_stmt_t *s, bool on)
{
	if (s->cursor != on)
		on ? st->n_cursor++ : st->n_cursor--;
	s->cursor = on;
}

static void stmt_set_long_data(gp_stmts_t *st, gp_stmt_t *s, bool on)
{
	if (s->long_data != on)
		on ? st->n_long_data++ : st->n_long_data--;
	s->long_data = on;
}

void gp_stmts_clear(gp_stmts_t *st)
{
	for (uint32_t i = 0; i < st->n; i++)
		stmt_free(&st->v[i]);
	st->n = 0;
	st->full = false;
	st->n_cursor = st->n_long_data = st->n_unknown = 0;
	free(st->pending_sql);
	st->pending_sql = NULL;
	st->pending = false;
	st->rebuild = -1;
	/* max_client and moved stay: ids the client once held are never handed out again */
}

void gp_stmts_free(gp_stmts_t *st)
{
	gp_stmts_clear(st);
	free(st->v);
	st->v = NULL;
	st->cap = 0;
}

static gp_stmt_t *stmts_find(gp_stmts_t *st, uint32_t client_id)
{
	for (uint32_t i = 0; i < st->n; i++)
		if (st->v[i].client_id == client_id)
			return &st->v[i];
	return NULL;
}

static void stmts_remove(gp_stmts_t *st, gp_stmt_t *s)
{
	stmt_set_cursor(st, s, false);
	stmt_set_long_data(st, s, false);
	if (!s->sql)
		st->n_unknown--;
	stmt_free(s);
	*s = st->v[--st->n];
}

/* EXECUTE of s (p[0..n) of len): cursor, long data, types; whether it must be rebuilt. */
static gp_stmts_act_t stmts_execute(gp_stmts_t *st, gp_stmt_t *s, const uint8_t *p, uint32_t n,
                                    uint32_t len)
{
	myp_stmt_exec_t e;
	stmt_set_long_data(st, s, false);
	if (myp_stmt_execute_parse(p, n, s->params, &e) != MYP_OK)
		return GP_STMTS_RELAY; /* the server judges it */
	stmt_set_cursor(st, s, e.flags != 0);
	if (e.types_bound) {
		uint8_t *t = s->types ? s->types : malloc(e.types_len);
		if (t) {
			memcpy(t, e.types, e.types_len);
			s->types = t;
		}
		s->rebind = false;
		return GP_STMTS_RELAY;
	}
	if (!s->rebind || !s->params || !s->types)
		return GP_STMTS_RELAY;
	if (n != len)
		return GP_STMTS_REFUSE;
	st->rebuild = (int32_t)(s - st->v);
	return GP_STMTS_REBUILD;
}

gp_stmts_act_t gp_stmts_command(gp_stmts_t *st, uint8_t *p, uint32_t n, uint32_t len)
{
	uint32_t id;
	if (n == 0)
		return GP_STMTS_RELAY;
	switch (p[0]) {
	case MYP_COM_STMT_PREPARE:
		free(st->pending_sql);
		st->pending_sql = NULL;
		st->pending = true;
		if (n == len && len - 1 <= GP_STMTS_TEXT &&
		    (st->pending_sql = malloc(len)) != NULL) {
			memcpy(st->pending_sql, p + 1, len - 1);
			st->pending_sql[len - 1] = '\0';
			st->pending_len = len - 1;
		}
		return GP_STMTS_RELAY;
	case MYP_COM_RESET_CONNECTION:
	case MYP_COM_CHANGE_USER:
		gp_stmts_clear(st); /* the server forgets its statements too */
		return GP_STMTS_RELAY;
	default:
		break;
	}
	if (!myp_stmt_cmd_has_id(p[0]) || myp_stmt_id_parse(p, n, &id) != MYP_OK)
		return GP_STMTS_RELAY;
	gp_stmt_t *s = stmts_find(st, id == MYP_STMT_ID_DIRECT ? st->last_client : id);
	if (!s) {
		/* Unknown to the proxy: after a move it may be a live id on the new server that
		 * names another statement; 0 is no statement's (the server refuses it). */
		if (st->moved && id != MYP_STMT_ID_DIRECT)
			stmts_put_id(p, 0);
		return GP_STMTS_RELAY;
	}
	if (st->moved) /* DIRECT too: the new server prepared another statement last */
		stmts_put_id(p, s->server_id);
	switch (p[0]) {
	case MYP_COM_STMT_EXECUTE:
		return stmts_execute(st, s, p, n, len);
	case MYP_COM_STMT_SEND_LONG_DATA:
		stmt_set_long_data(st, s, true);
		break;
	case MYP_COM_STMT_RESET:
		stmt_set_cursor(st, s, false);
		stmt_set_long_data(st, s, false);
		break;
	case MYP_COM_STMT_CLOSE:
		stmts_remove(st, s);
		break;
	default:
		break;
	}
	return GP_STMTS_RELAY;
}

void gp_stmts_prepared(gp_stmts_t *st, uint8_t *p, uint32_t n)
{
	myp_stmt_prepare_ok_t ok;
	if (!st->pending)
		return;
	st->pending = false;
	char *sql = st->pending_sql;
	st->pending_sql = NULL;
	if (n == 0 || p[0] != 0x00 || myp_stmt_prepare_ok_parse(p, n, &ok) != MYP_OK) {
		free(sql); /* refused: nothing to keep */
		return;
	}
	uint32_t client = ok.stmt_id;
	if (st->moved) {
		client = st->max_client + 1; /* never one the client holds */
		stmts_put_id(p, client);
	}
	if (client > st->max_client)
		st->max_client = client;
	st->last_client = client;
	if (st->n == st->cap) {
		uint32_t cap = st->cap ? st->cap * 2 : 8;
		gp_stmt_t *v = cap <= GP_STMTS_MAX ? realloc(st->v, cap * sizeof(*v)) : NULL;
		if (!v) {
			st->full = true;
			free(sql);
			return;
		}
		st->v = v;
		st->cap = cap;
	}
	st->v[st->n++] = (gp_stmt_t){.client_id = client,
	                             .server_id = ok.stmt_id,
	                             .params = ok.params,
	                             .sql = sql,
	                             .sql_len = sql ? st->pending_len : 0};
	if (!sql)
		st->n_unknown++;
}

bool gp_stmts_rebuild(gp_stmts_t *st, const uint8_t *p, uint32_t n, myp_wbuf_t *w)
{
	myp_stmt_exec_t e;
	if (st->rebuild < 0 || (uint32_t)st->rebuild >= st->n)
		return false;
	gp_stmt_t *s = &st->v[st->rebuild];
	st->rebuild = -1;
	if (myp_stmt_execute_parse(p, n, s->params, &e) != MYP_OK)
		return false;
	myp_stmt_execute_build(w, &e, s->server_id, s->types,
	                       (size_t)s->params * MYP_STMT_PARAM_TYPE_LEN);
	if (w->failed)
		return false;
	s->rebind = false;
	return true;
}

uint32_t gp_stmts_unmovable(const gp_stmts_t *st)
{
	uint32_t why = st->full || st->n_unknown ? GP_UNMOV_STMT_UNKNOWN : 0;
	if (st->n_cursor)
		why |= GP_UNMOV_CURSOR;
	if (st->n_long_data)
		why |= GP_UNMOV_LONG_DATA;
	return why;
}

void gp_stmts_moving(gp_stmts_t *st)
{
	st->moved = true;
	for (uint32_t i = 0; i < st->n; i++)
		if (st->v[i].client_id > st->max_client)
			st->max_client = st->v[i].client_id;
}

void gp_stmts_reprepared(gp_stmts_t *st, uint32_t i, uint32_t server_id)
{
	if (i >= st->n)
		return;
	st->v[i].server_id = server_id;
	st->v[i].rebind = st->v[i].params > 0;
}

const char *gp_stmts_reason_name(uint32_t bit)
{
	switch (bit) {
	case GP_UNMOV_CURSOR:
		return "cursor";
	case GP_UNMOV_LONG_DATA:
		return "long_data";
	case GP_UNMOV_NOT_LEARNED:
		return "not_learned";
	case GP_UNMOV_CLIENT_CONT:
		return "client_cont";
	case GP_UNMOV_STMT_UNKNOWN:
		return "stmt_unknown";
	default:
		return "";
	}
}
