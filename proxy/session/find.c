/* find.c - finding a session by its proxy id, or by a server thread it had before a move. */
#include "session/session.h"

#include <stdlib.h>
#include <string.h>

#include "core/proxy.h"

static bool session_not_id(gp_list_t *link, void *arg)
{
	return gp_session_conn_id(gp_session_of(link)) != *(const uint64_t *)arg;
}

gp_session_t *gp_session_find(gp_proxy_t *p, uint64_t conn_id)
{
	gp_list_t *l =
	        gp_proxy_each_session(p, GP_SS_FROM(GP_SS_GREETING), session_not_id, &conn_id);
	return l ? gp_session_of(l) : NULL;
}

static void session_target(const gp_session_t *s, const gp_session_t *t, gp_core_target_t *out)
{
	*out = (gp_core_target_t){.conn_id = gp_session_conn_id(t),
	                          .thread = t->core.server_thread,
	                          .backend = gp_session_backend_name(t),
	                          .same_node = t->backend == s->backend};
}

bool gp_session_core_find(const gp_core_t *c, uint64_t id, gp_core_target_t *out)
{
	const gp_session_t *s = gp_container_of(c, gp_session_t, core);
	gp_session_t *t = gp_session_find(s->proxy, id);
	if (!t || !t->on_backend)
		return false;
	session_target(s, t, out);
	return true;
}

typedef struct past_query {
	uint32_t thread;          /* the id the KILL names */
	int backend;              /* the asker's backend */
	const gp_session_t *now;  /* a session on that backend with that thread now */
	const gp_session_t *past; /* a session that had it before a move */
} past_query_t;

static bool session_past_scan(gp_list_t *link, void *arg)
{
	past_query_t *q = arg;
	const gp_session_t *t = gp_session_of(link);
	if (!t->on_backend)
		return true;
	if (t->backend == q->backend && t->core.server_thread == q->thread) {
		q->now = t;
		return false; /* the server's own meaning wins */
	}
	for (uint8_t i = 0; i < t->npast && !q->past; i++)
		if (t->past_thread[i] == q->thread)
			q->past = t;
	return true;
}

bool gp_session_core_find_past(const gp_core_t *c, uint64_t id, gp_core_target_t *out)
{
	const gp_session_t *s = gp_container_of(c, gp_session_t, core);
	if (id == 0 || id > UINT32_MAX || !s->on_backend)
		return false;
	past_query_t q = {.thread = (uint32_t)id, .backend = s->backend};
	gp_proxy_each_session(s->proxy, GP_SS_FROM(GP_SS_READY), session_past_scan, &q);
	if (q.now || !q.past)
		return false;
	session_target(s, q.past, out);
	return true;
}

void gp_session_note_past(gp_session_t *s, uint32_t thread)
{
	if (thread == 0)
		return;
	if (!s->past_thread) { /* its first move: most sessions never make one */
		s->past_thread = calloc(GP_SESSION_PAST, sizeof(*s->past_thread));
		if (!s->past_thread)
			return; /* a KILL of that thread then means the server's own, if any */
	}
	memmove(&s->past_thread[1], &s->past_thread[0],
	        (GP_SESSION_PAST - 1) * sizeof(*s->past_thread));
	s->past_thread[0] = thread;
	if (s->npast < GP_SESSION_PAST)
		s->npast++;
}
