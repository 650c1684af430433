/* kill_remote.h - a KILL of a session on another node: grant check, run, the proxy's answer. */
#ifndef GP_KILL_REMOTE_H
#define GP_KILL_REMOTE_H

#include "session/session.h"

/*
 * The core found a KILL whose target sits on another node (o->t): the proxy decides as that
 * one server would (the same login user name, or SUPER / CONNECTION ADMIN as the issuer's own
 * server reports them), runs it there over the eviction account and answers the client itself.
 * At most GP_KILL_JOBS_MAX run proxy-wide. Returns the verdict for the KILL's packet.
 */
gp_pkt_action_t gp_kill_remote_start(gp_session_t *s, const gp_core_out_t *o);
/* The issuer's grants are read (after the check's response was scanned): run or refuse. */
void gp_kill_remote_checked(gp_session_t *s);

#endif
