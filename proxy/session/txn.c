/* txn.c - each session's transaction as the proxy knows it: asked, counted per backend. */
#include "session/session.h"

/* Its backend's transaction counts follow a ready session's txn (read by the barrier and
 * /status without walking the sessions). */
void gp_session_txn_recount(gp_session_t *s)
{
	myp_trans_t txn = gp_core_txn(&s->core);
	myp_trans_t want = s->state == GP_SS_READY && s->backend >= 0 && txn != MYP_TRANS_NONE
	                           ? txn
	                           : MYP_TRANS_NONE;
	if (want == s->txn_counted) {
		gp_session_movable_recount(s);
		return;
	}
	if (s->backend >= 0) {
		gp_backend_t *b = &s->proxy->backends[s->backend];
		if (s->txn_counted == MYP_TRANS_OPEN)
			b->txn_open[s->endpoint]--;
		else if (s->txn_counted == MYP_TRANS_UNKNOWN)
			b->txn_unknown[s->endpoint]--;
		if (want == MYP_TRANS_OPEN)
			b->txn_open[s->endpoint]++;
		else if (want == MYP_TRANS_UNKNOWN)
			b->txn_unknown[s->endpoint]++;
	}
	s->txn_counted = want;
	gp_session_movable_recount(s);
}

void gp_session_txn_ask(gp_session_t *s)
{
	if (s->state != GP_SS_READY)
		return;
	gp_core_out_t o;
	gp_core_out_init(&o);
	if (gp_core_txn_ask(&s->core, &o))
		gp_session_apply(s, &o);
}

void gp_session_txn_count(const gp_proxy_t *p, int b, int ep, uint32_t *open, uint32_t *unknown)
{
	*open = *unknown = 0;
	if (b < 0 || (size_t)b >= p->nbackends)
		return;
	const gp_backend_t *be = &p->backends[b];
	for (int e = 0; e < GP_EP__COUNT; e++) {
		if (ep >= 0 && e != ep)
			continue;
		*open += be->txn_open[e];
		*unknown += be->txn_unknown[e];
	}
}
