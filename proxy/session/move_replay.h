/* move_replay.h - what a moved session replays on its new node: state, then statements. */
#ifndef GP_MOVE_REPLAY_H
#define GP_MOVE_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "codec/myp.h"
#include "net/io.h"

typedef struct gp_session gp_session_t;

/*
 * The replay runs on the new leg, one statement at a time, and every answer stays with the
 * proxy: one SET of the session variables the client changed, the read-only endpoint's own
 * settings, DO LAST_INSERT_ID(n) (an OK, no result set), then each prepared statement
 * prepared again. Any ERR ends the move.
 */

typedef enum gp_replay_step {
	GP_REPLAY_SENT,  /* a statement is on its way (or its answer goes on) */
	GP_REPLAY_DONE,  /* this answer is complete (gp_move_replay_next: nothing left) */
	GP_REPLAY_FAILED /* the server refused, or the proxy could not send */
} gp_replay_step_t;

typedef struct gp_move_replay {
	uint32_t step;       /* the next step */
	uint32_t stmt;       /* the statement being prepared (its index) */
	bool preparing;      /* the answer in flight is a PREPARE's */
	uint32_t reprepared; /* statements prepared again (the log line) */
	uint16_t status;     /* the new session's status flags (its login OK) */
	bool id_read;        /* insert_id is LAST_INSERT_ID() as the old session answered */
	bool id_row;         /* ...and its row has come */
	uint64_t insert_id;  /* that answer */
	bool coll_read;      /* collation is @@collation_connection as the old session answered */
	char collation[64];  /* that answer (a collation name: letters, digits, '_') */
	myp_resp_t resp;     /* the answer in flight */
} gp_move_replay_t;

/* The default schema the new login names ("" for none). */
const char *gp_move_replay_schema(const gp_session_t *s);
/* GP_UNMOV_* bits of the state the replay cannot re-create. */
uint32_t gp_move_replay_unmovable(const gp_session_t *s);
/* A planned move asks the old session (still on its node, idle) for LAST_INSERT_ID() and
 * @@collation_connection (the tracker never names a collation: state.h, GP_UNMOV_COLLATION;
 * when read it is replayed after the variables, whose character_set_connection would reset
 * it). For LAST_INSERT_ID(): the
 * OKs the proxy saw do not always tell it (state.h). Its answer, all kept from the client,
 * replaces the tracked value in the replay (0: nothing to replay); without one (a send that
 * fails, an ERR, a leg that ends, a timeout) the replay keeps the tracked value, as after a
 * loss. gp_move_replay_read_id sends the query on the old leg (false: it could not). */
bool gp_move_replay_read_id(gp_session_t *s, gp_move_replay_t *r);
/* A packet of its answer: SENT while more follows, DONE once the value is known, FAILED for
 * an ERR or an answer that is not one unsigned number. */
gp_replay_step_t gp_move_replay_id_packet(gp_move_replay_t *r, const gp_pkt_t *pkt);
/* Send the next statement of the replay (GP_REPLAY_SENT), or DONE when none is left. */
gp_replay_step_t gp_move_replay_next(gp_session_t *s, gp_move_replay_t *r);
/* A packet of the answer in flight: SENT while more follows, DONE when it is complete. */
gp_replay_step_t gp_move_replay_packet(gp_session_t *s, gp_move_replay_t *r, const gp_pkt_t *pkt);
/* What the replay holds (nothing beyond the struct so far). */
void gp_move_replay_free(gp_move_replay_t *r);

#endif
