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
