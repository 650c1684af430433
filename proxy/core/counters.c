/* counters.c - the session counters /metrics shows, kept by the session code as it goes. */
#include "core/counters.h"

#include <string.h>

#include "base/clock.h"

void gp_metrics_init(gp_metrics_t *m)
{
	memset(m, 0, sizeof(*m));
	m->start_unix_ms = gp_wall_ms();
}

void gp_metrics_command(gp_metrics_t *m, int ep, uint8_t cmd)
{
	if (ep >= 0 && ep < GP_METRICS_ENDPOINTS)
		m->commands[ep][cmd]++;
}

void gp_metrics_request_done(gp_metrics_t *m, int ep, uint64_t ns)
{
	if (ep >= 0 && ep < GP_METRICS_ENDPOINTS)
		gp_hist_observe(&m->request[ep], GP_HIST_REQUEST, (double)ns / 1e9);
}

void gp_metrics_session_closed(gp_metrics_t *m, gp_close_t reason)
{
	if ((unsigned)reason >= GP_CLOSE__COUNT)
		return;
	if (gp_close_is_cut(reason))
		m->sessions_killed++;
	m->closed[reason]++;
}

void gp_metrics_session_drained(gp_metrics_t *m)
{
	m->sessions_drained++;
}

void gp_metrics_session_moved(gp_metrics_t *m, bool planned, uint64_t ns)
{
	m->moved[planned ? 1 : 0]++;
	gp_hist_observe(&m->move_time, GP_HIST_REQUEST, (double)ns / 1e9);
}

void gp_metrics_session_move_failed(gp_metrics_t *m)
{
	m->move_failed++;
}
