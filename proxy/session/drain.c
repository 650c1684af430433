/* drain.c - closing sessions at their next idle point: drains, fences, planned shutdown. */
#include "session/drain.h"

#include "session/move.h"
#include "session/session.h"

#include "base/log.h"
#include "core/counters.h"

/* Whether now is a moment to close s, its transaction state aside. */
static bool drain_moment(const gp_session_t *s, uint64_t now)
{
	/* A young session is most likely one request's own connection (PHP: connect, a few
	 * statements, close): it ends by itself within moments, and a pause between its
	 * statements on a loaded machine must not get it cut. */
	if (now - s->opened_at < GP_DRAIN_YOUNG_MS)
		return false;
	/* Quiet for a moment, or drained long enough that it is a busy persistent client
	 * rather than one request's statements: then any idle instant will do. */
	return now - s->last_active >= GP_DRAIN_QUIET_MS ||
	       (s->draining && now - s->drain_started >= GP_DRAIN_PATIENCE_MS);
}

void gp_session_drain(gp_session_t *s, uint64_t deadline, gp_close_t why)
{
	if (s->state == GP_SS_CLOSING)
		return;
	gp_proxy_t *p = s->proxy;
	if (gp_move_instead(s, why))
		return; /* idle and movable: it leaves by moving */
	s->drain_why = why;
	if (!s->draining)
		gp_metrics_session_drained(p->metrics);
	if (gp_session_drain_quiet(s, uv_now(p->loop))) {
		gp_session_close(s, why);
		return;
	}
	if (!s->draining || deadline < s->drain_deadline)
		s->drain_deadline = deadline;
	if (s->draining)
		return;
	gp_log(GP_LOG_INFO, "session_drain",
	       "conn=%u client=" GP_CLIENT_FMT " backend=%s reason=%s state=%s in_trans=%s", s->id,
	       GP_CLIENT_ARGS(s), s->backend >= 0 ? p->backends[s->backend].conf->name : "-",
	       gp_close_name(why), gp_session_state_name(s->state),
	       myp_trans_name(gp_core_txn(&s->core)));
	s->draining = true;
	s->drain_started = uv_now(p->loop);
	gp_list_append(&p->draining, &s->drain_link);
	if (!uv_is_active((uv_handle_t *)&p->drain_timer))
		uv_timer_start(&p->drain_timer, gp_session_drain_tick, GP_DRAIN_TICK_MS,
		               GP_DRAIN_TICK_MS);
	if (drain_moment(s, s->drain_started))
		gp_session_txn_ask(s);
}

bool gp_session_drain_quiet(const gp_session_t *s, uint64_t now)
{
	return gp_session_idle(s) && drain_moment(s, now);
}

void gp_session_drain_tick(uv_timer_t *t)
{
	gp_proxy_t *p = t->data;
	uint64_t now = uv_now(p->loop);
	gp_list_t *pos, *tmp;
	gp_list_each_safe(pos, tmp, &p->draining)
	{
		gp_session_t *s = gp_container_of(pos, gp_session_t, drain_link);
		/* Past the deadline a statement in flight may still finish (and then closes
		 * the session): cutting it could let it commit after a writer switch released
		 * the new writer. Only GP_DRAIN_HARD_MS later is it cut too. */
		bool overdue = now >= s->drain_deadline &&
		               (s->state != GP_SS_READY || !gp_core_in_flight(&s->core) ||
		                now >= s->drain_deadline + GP_DRAIN_HARD_MS);
		if (overdue)
			gp_session_close(s, GP_CLOSE_DRAIN_TIMEOUT);
		else if (gp_session_drain_quiet(s, now) && !gp_move_instead(s, s->drain_why))
			gp_session_close(s, GP_CLOSE_DRAINED);
		else if (drain_moment(s, now))
			gp_session_txn_ask(s); /* unsure whether it holds a transaction: ask */
	}
	if (gp_list_empty(&p->draining))
		uv_timer_stop(&p->drain_timer);
}
