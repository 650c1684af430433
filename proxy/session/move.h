/* move.h - moving an idle session to another node: log in there, replay its state, swap legs. */
#ifndef GP_MOVE_H
#define GP_MOVE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/close.h"
#include "core/proxy.h"
#include "net/io.h"
#include "session/core.h"

typedef struct gp_session gp_session_t;
typedef struct gp_move gp_move_t; /* move.c's: one per session while it moves */

/*
 * Issue 17. Where the proxy would close or drain a session to get it off a node (a writer
 * change, maintenance, an operator's drain, a reload removing the backend, a reader no
 * longer eligible, the loss of its node), a session that is idle (no command in flight, no
 * transaction) and movable gets a new server leg instead: a backend connection to the
 * target through a handshake slot, a login as its user with the secret learned at its login
 * and the new server's nonce, its state replayed (schema, variables, the last insert id, its
 * prepared statements prepared again), all answers kept from the client. A planned move
 * first asks the old session for LAST_INSERT_ID() (MOVE_LASTID), which its OKs do not
 * always tell. Then the new leg
 * replaces the old one; the client's connection is never touched, and its next command,
 * held meanwhile, runs on the new node once the switch barrier lets it (the new writer has
 * applied the old writer's commits). A refused login or a failed replay closes the session
 * (move_failed), with the server's own error if the client waits for an answer; a refused
 * login also drops the learned secret.
 */

/* Close reasons a move may replace (drains and closes that only want the session off). */
bool gp_move_reason(gp_close_t why);
/* GP_UNMOV_* bits (stmts.h) of why s cannot move now; 0: it can. */
uint32_t gp_move_unmovable(const gp_session_t *s);
/* s is to leave its node for why: begin a move instead if that is possible now (true: s is
 * moving and must not be closed or drained for it). */
bool gp_move_instead(gp_session_t *s, gp_close_t why);
/* The backend leg of s ended (its node died): move s once there is somewhere to go (true),
 * or false to close it as before. */
bool gp_move_after_loss(gp_session_t *s);
/* Moves waiting for a target or for the switch barrier: look again (the cluster's wake). */
void gp_move_wake(gp_proxy_t *p);
/* Some move waits for the cluster (keeps the cluster's wake coming). */
bool gp_move_waiting(const gp_proxy_t *p);
/* A reload renumbered the backends (map[old] = new index, -1: removed). */
void gp_move_remap(gp_session_t *s, const int *map, size_t nold);
/* The session is freed: whatever its move and statements hold. */
void gp_move_release(gp_session_t *s);

/* The core's packet calls, with what moves need around them: a client command waits while
 * its session moves, statement ids are mapped, PREPARE answers noted. */
gp_pkt_action_t gp_move_client_packet(gp_session_t *s, gp_pkt_t *pkt, gp_core_out_t *o);
gp_pkt_action_t gp_move_server_packet(gp_session_t *s, gp_pkt_t *pkt, gp_core_out_t *o);

#endif
