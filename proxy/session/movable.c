/* movable.c - ready sessions counted movable, or not movable by reason, as their state changes. */
#include "session/session.h"

#include "session/move.h"

/* Counted where the state changes (like txn.c), so /metrics and /status never walk sessions.
 * A node whose probe says it does not track session state makes its sessions not movable. */
void gp_session_movable_recount(gp_session_t *s)
{
	gp_proxy_t *p = s->proxy;
	bool ready = s->state == GP_SS_READY && s->backend >= 0;
	gp_sstate_t *st = gp_core_sstate(&s->core);
	if (ready && !gp_probe_tracks(gp_cluster_node(&p->cluster, (size_t)s->backend)->probe))
		gp_sstate_add(st, GP_UNMOV_NO_TRACKING);
	uint32_t want = ready ? gp_move_unmovable(s) : 0; /* the state's, statements', login's */
	if (ready == s->mov_counted && want == s->unmov_counted)
		return;
	if (s->mov_counted && s->unmov_counted == 0)
		p->sessions_movable--;
	if (ready && want == 0)
		p->sessions_movable++;
	for (uint32_t b = 0; b < GP_UNMOV_BITS; b++) {
		uint32_t bit = 1u << b;
		if (s->unmov_counted & bit)
			p->sessions_not_movable[b]--;
		if (want & bit)
			p->sessions_not_movable[b]++;
	}
	s->mov_counted = ready;
	s->unmov_counted = want;
}

const char *gp_session_unmov_name(uint32_t bit)
{
	const char *n = gp_stmts_reason_name(bit);
	return n[0] ? n : gp_sstate_reason_name(bit);
}
