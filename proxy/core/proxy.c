/* proxy.c - small helpers on the proxy's data: names, backend order, session walks. */
#include "core/proxy.h"

#include <string.h>

#include "base/log.h"

static const char *const endpoint_names[GP_EP__COUNT] = {"rw", "ro"};
static const char *const state_names[GP_SS__COUNT] = {
        "waiting", "connecting", "greeting", "handshake", "auth", "ready", "closing",
};

const char *gp_endpoint_name(gp_endpoint_t ep)
{
	return ep < GP_EP__COUNT ? endpoint_names[ep] : "?";
}

const char *gp_session_state_name(gp_session_state_t st)
{
	return st < GP_SS__COUNT ? state_names[st] : "?";
}

size_t gp_proxy_backends_by_priority(const gp_proxy_t *p, int *idx)
{
	size_t n = p->nbackends;
	for (size_t i = 0; i < n; i++)
		idx[i] = (int)i;
	/* insertion sort: a handful of backends */
	for (size_t i = 1; i < n; i++) {
		int v = idx[i];
		const gp_backend_conf_t *cv = p->backends[v].conf;
		size_t j = i;
		while (j > 0) {
			const gp_backend_conf_t *cj = p->backends[idx[j - 1]].conf;
			if (cj->priority < cv->priority ||
			    (cj->priority == cv->priority && strcmp(cj->name, cv->name) <= 0))
				break;
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = v;
	}
	return n;
}

gp_list_t *gp_proxy_each_session(const gp_proxy_t *p, uint32_t mask, gp_proxy_session_fn fn,
                                 void *arg)
{
	gp_list_t *pos, *tmp;
	for (int st = 0; st < GP_SS__COUNT; st++) {
		if (!(mask & GP_SS_BIT(st)))
			continue;
		gp_list_t *head = (gp_list_t *)&p->sessions[st]; /* fn may change what it links */
		gp_list_each_safe(pos, tmp, head)
		{
			if (!fn(pos, arg))
				return pos;
		}
	}
	return NULL;
}

void gp_proxy_move_session(gp_proxy_t *p, gp_list_t *link, int from, int to)
{
	if (from == to)
		return;
	if (from >= 0) {
		gp_list_del(link);
		p->nstate[from]--;
	}
	if (to >= 0) {
		gp_list_append(&p->sessions[to], link);
		p->nstate[to]++;
	}
}

/* Point the libuv timer at the earliest deadline (or stop it). */
static void proxy_deadlines_due(gp_proxy_t *p);

static void on_deadline_timer(uv_timer_t *t)
{
	gp_proxy_t *p = t->data;
	uint64_t now = uv_now(p->loop);
	/* Only what was armed on entry: a callback that arms for 0 ms runs next loop turn, as a
	 * libuv timer would, instead of spinning here. */
	uint32_t budget = p->deadlines.n;
	gp_deadline_t *d;
	while (budget-- > 0 && (d = gp_deadlines_pop_due(&p->deadlines, now)) != NULL)
		d->cb(d); /* may arm or stop others, or free d's session */
	proxy_deadlines_due(p);
}

static void proxy_deadlines_due(gp_proxy_t *p)
{
	const gp_deadline_t *first = gp_deadlines_first(&p->deadlines);
	if (!first) {
		uv_timer_stop(&p->deadline_timer);
		return;
	}
	uint64_t now = uv_now(p->loop);
	uv_timer_start(&p->deadline_timer, on_deadline_timer, first->at > now ? first->at - now : 0,
	               0);
}

void gp_proxy_deadline(gp_proxy_t *p, gp_deadline_t *d, uint64_t ms, gp_deadline_cb cb)
{
	if (gp_deadline_arm(&p->deadlines, d, uv_now(p->loop) + ms, cb)) /* room: reserved */
		proxy_deadlines_due(p);
}

void gp_proxy_deadline_stop(gp_proxy_t *p, gp_deadline_t *d)
{
	if (!gp_deadline_armed(d))
		return;
	gp_deadline_stop(&p->deadlines, d);
	proxy_deadlines_due(p);
}

bool gp_proxy_deadline_room(gp_proxy_t *p, uint32_t n)
{
	return gp_deadlines_reserve(&p->deadlines, n);
}

void gp_proxy_deadlines_init(gp_proxy_t *p)
{
	uv_timer_init(p->loop, &p->deadline_timer);
	p->deadline_timer.data = p;
}

static void on_deadline_timer_closed(uv_handle_t *h)
{
	gp_proxy_t *p = h->data;
	gp_deadlines_free(&p->deadlines);
}

void gp_proxy_deadlines_close(gp_proxy_t *p)
{
	uv_close((uv_handle_t *)&p->deadline_timer, on_deadline_timer_closed);
}

void gp_proxy_session_gone(gp_proxy_t *p)
{
	if (p->shutting_down && p->nsessions == 0 && p->hooks.all_gone)
		p->hooks.all_gone(p);
}

void gp_proxy_stop_now(gp_proxy_t *p)
{
	if (p->hooks.shutdown_now)
		p->hooks.shutdown_now(p);
}

void gp_proxy_refuse(gp_proxy_t *p, uv_stream_t *listener)
{
	gp_endpoint_t ep = listener == (uv_stream_t *)&p->listeners[GP_EP_RO] ? GP_EP_RO : GP_EP_RW;
	gp_log(GP_LOG_ERROR, "client_refused", "endpoint=%s reason=out_of_memory",
	       gp_endpoint_name(ep));
	gp_refuse(&p->refusers[ep], listener);
}
