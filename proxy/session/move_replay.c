/* move_replay.c - what a moved session replays on its new node: state, then statements. */
#include "session/move_replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/myp_stmt.h"
#include "session/session.h"

#define GP_REPLAY_SQL_MAX 16384 /* the longest replay statement (the SET of every variable) */

enum {
	REPLAY_VARS,      /* SET @@SESSION.a=..., ... */
	REPLAY_COLLATION, /* SET collation_connection, as the old session answered */
	REPLAY_RO,        /* the read-only endpoint's session is read-only */
	REPLAY_SYNC,      /* ...and reads with wsrep_sync_wait (routing.ro_causal_reads) */
	REPLAY_INSERT_ID, /* DO LAST_INSERT_ID(n) */
	REPLAY_STMTS      /* then statement i at REPLAY_STMTS + i */
};

const char *gp_move_replay_schema(const gp_session_t *s)
{
	return gp_sstate_schema(&s->core.st);
}

uint32_t gp_move_replay_unmovable(const gp_session_t *s)
{
	return gp_sstate_unmovable(&s->core.st);
}

/* The SET that gives the new server session the variables the client changed (0: none),
 * written for the new session's NO_BACKSLASH_ESCAPES as its login OK said. */
static size_t replay_vars(const gp_session_t *s, const gp_move_replay_t *r, char *buf, size_t cap)
{
	bool nbe = (r->status & MYP_SERVER_STATUS_NO_BACKSLASH_ESCAPES) != 0;
	return gp_sstate_replay_sql(&s->core.st, nbe, buf, cap);
}

/* Last insert id the session holds (false: none, or 0): the old session's answer if it
 * gave one, else the last OK's. */
static bool replay_insert_id(const gp_session_t *s, const gp_move_replay_t *r, uint64_t *id)
{
	if (r->id_read) {
		*id = r->insert_id;
		return *id != 0;
	}
	*id = gp_sstate_last_insert_id(&s->core.st);
	return gp_sstate_has_last_insert_id(&s->core.st) && *id != 0;
}

/* Send one command built in w (payload after the header) and track its answer. */
static gp_replay_step_t replay_send(gp_session_t *s, gp_move_replay_t *r, const myp_wbuf_t *w)
{
	if (w->failed || w->len <= MYP_HEADER_LEN)
		return GP_REPLAY_FAILED;
	myp_resp_begin(&r->resp, s->core.caps | MYP_CLIENT_PROTOCOL_41, w->buf + MYP_HEADER_LEN,
	               w->len - MYP_HEADER_LEN);
	return gp_io_send(&s->server, w->buf, w->len) == GP_OK ? GP_REPLAY_SENT : GP_REPLAY_FAILED;
}

/* The row's second column, if it is a collation's name (else coll_read stays false). */
static void replay_read_collation(gp_move_replay_t *r, const uint8_t *p, size_t n)
{
	const uint8_t *v;
	uint64_t vn;
	size_t used, off;
	if (myp_lenenc_str(p, n, &v, &vn, &used) != MYP_OK)
		return;
	off = used;
	if (myp_lenenc_str(p + off, n - off, &v, &vn, &used) != MYP_OK || vn == 0 ||
	    vn >= sizeof(r->collation))
		return;
	for (uint64_t i = 0; i < vn; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		      (v[i] >= '0' && v[i] <= '9') || v[i] == '_'))
			return;
	memcpy(r->collation, v, vn);
	r->collation[vn] = '\0';
	r->coll_read = true;
}

bool gp_move_replay_read_id(gp_session_t *s, gp_move_replay_t *r)
{
	static const char sql[] = "SELECT LAST_INSERT_ID(), @@collation_connection";
	uint8_t pkt[MYP_HEADER_LEN + 16 + sizeof(sql)];
	myp_wbuf_t w;
	myp_wbuf_init(&w, pkt, sizeof(pkt));
	myp_query_build(&w, s->core.caps, sql, sizeof(sql) - 1);
	r->id_read = r->id_row = r->coll_read = false;
	return replay_send(s, r, &w) == GP_REPLAY_SENT;
}

gp_replay_step_t gp_move_replay_id_packet(gp_move_replay_t *r, const gp_pkt_t *pkt)
{
	if (myp_resp_is_row(&r->resp, pkt->len, pkt->p, pkt->n)) {
		if (r->id_row || pkt->n != pkt->len ||
		    myp_row_first_uint(pkt->p, pkt->n, &r->insert_id) != MYP_OK)
			return GP_REPLAY_FAILED; /* one row of one number, whole */
		r->id_row = true;
		replay_read_collation(r, pkt->p, pkt->n);
	}
	myp_resp_event_t ev = myp_resp_feed_server(&r->resp, pkt->len, pkt->p, pkt->n);
	if (ev == MYP_RESP_EPROTO)
		return GP_REPLAY_FAILED;
	if (ev == MYP_RESP_CONTINUE)
		return GP_REPLAY_SENT;
	if (r->resp.failed || !r->id_row)
		return GP_REPLAY_FAILED;
	r->id_read = true;
	return GP_REPLAY_DONE;
}

gp_replay_step_t gp_move_replay_next(gp_session_t *s, gp_move_replay_t *r)
{
	static const char ro_sql[] = "SET SESSION TRANSACTION READ ONLY";
	static const char sync_sql[] = "SET SESSION wsrep_sync_wait = 1";
	size_t cap = GP_REPLAY_SQL_MAX + 64;
	char *sql = malloc(cap);
	uint8_t *pkt = malloc(cap + MYP_HEADER_LEN + 8);
	gp_replay_step_t out = GP_REPLAY_FAILED;
	if (!sql || !pkt)
		goto done;
	if (r->step == REPLAY_VARS)
		gp_stmts_moving(&s->stmts);
	for (;;) {
		uint32_t step = r->step++;
		size_t n = 0;
		uint64_t id;
		myp_wbuf_t w;
		myp_wbuf_init(&w, pkt, cap + MYP_HEADER_LEN + 8);
		r->preparing = false;
		switch (step) {
		case REPLAY_VARS:
			n = replay_vars(s, r, sql, GP_REPLAY_SQL_MAX);
			break;
		case REPLAY_COLLATION:
			if (r->coll_read) /* after the SET: its character_set_connection resets it
			                   */
				n = (size_t)snprintf(sql, cap,
				                     "SET @@SESSION.collation_connection = '%s'",
				                     r->collation);
			break;
		case REPLAY_RO:
			if (s->core.ro)
				n = (size_t)snprintf(sql, cap, "%s", ro_sql);
			break;
		case REPLAY_SYNC:
			if (s->core.ro && s->proxy->cfg->routing_ro_causal_reads)
				n = (size_t)snprintf(sql, cap, "%s", sync_sql);
			break;
		case REPLAY_INSERT_ID:
			if (replay_insert_id(s, r, &id))
				n = (size_t)snprintf(sql, cap, "DO LAST_INSERT_ID(%llu)",
				                     (unsigned long long)id);
			break;
		default: {
			uint32_t i = step - REPLAY_STMTS;
			if (i >= s->stmts.n) {
				out = GP_REPLAY_DONE;
				goto done;
			}
			const gp_stmt_t *st = &s->stmts.v[i];
			if (!st->sql)
				goto done; /* not movable: never gets here */
			myp_stmt_prepare_build(&w, st->sql, st->sql_len);
			r->preparing = true;
			r->stmt = i;
			out = replay_send(s, r, &w);
			goto done;
		}
		}
		if (n) {
			myp_query_build(&w, s->core.caps, sql, n);
			out = replay_send(s, r, &w);
			goto done;
		}
	}
done:
	free(sql);
	free(pkt);
	return out;
}

gp_replay_step_t gp_move_replay_packet(gp_session_t *s, gp_move_replay_t *r, const gp_pkt_t *pkt)
{
	myp_resp_event_t ev = myp_resp_feed_server(&r->resp, pkt->len, pkt->p, pkt->n);
	if (ev == MYP_RESP_EPROTO)
		return GP_REPLAY_FAILED;
	if (ev == MYP_RESP_CONTINUE)
		return GP_REPLAY_SENT;
	if (r->resp.failed)
		return GP_REPLAY_FAILED;
	if (r->preparing) {
		gp_stmts_reprepared(&s->stmts, r->stmt, r->resp.stmt_id);
		r->reprepared++;
	}
	return GP_REPLAY_DONE;
}

void gp_move_replay_free(gp_move_replay_t *r)
{
	(void)r;
}
