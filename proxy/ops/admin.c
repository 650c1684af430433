/* admin.c - operator actions: maintenance, drain, VRRP role, the reload request. */
#include "ops/admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cluster/cluster.h"
#include "net/http.h"
#include "ops/https.h"
#include "ops/routes.h"
#include "base/log.h"
#include "ha/vrrp.h"
#include "cluster/monitor.h"
#include "net/resolve.h"
#include "net/tls.h"
#include "ops/metrics.h"
#include "ops/reload.h"
#include "session/session.h"

#define ADMIN_TICK_MS 100 /* how often pending reloads and drains are looked at */

static int admin_find(const gp_proxy_t *p, const char *name)
{
	for (size_t i = 0; i < p->nbackends; i++)
		if (!strcmp(p->backends[i].conf->name, name))
			return (int)i;
	return -1;
}

static json_t *admin_error(const char *msg)
{
	return json_pack("{s:s}", "error", msg);
}

/* Probe values for decision log lines (zeros for a node never probed). */
static void admin_probe_fields(const gp_proxy_t *p, int b, char *buf, size_t cap)
{
	static const gp_probe_t never;
	const gp_probe_t *pr = gp_cluster_node(&p->cluster, (size_t)b)->probe
	                               ? gp_cluster_node(&p->cluster, (size_t)b)->probe
	                               : &never;
	snprintf(buf, cap, "up=%d probe=%s local_state=%d cluster_size=%d recv_queue=%lld",
	         gp_cluster_node(&p->cluster, (size_t)b)->up, gp_probe_err_name(pr->err),
	         pr->local_state, pr->cluster_size, (long long)pr->recv_queue);
}

/* ---- drains --------------------------------------------------------------------------- */

static void on_tick(uv_timer_t *t);

void gp_admin_tick_on(gp_admin_t *a)
{
	if (!uv_is_active((uv_handle_t *)&a->tick))
		uv_timer_start(&a->tick, on_tick, ADMIN_TICK_MS, ADMIN_TICK_MS);
}

typedef struct admin_drain_walk {
	int b;             /* the backend */
	uint64_t deadline; /* the drain's */
	gp_close_t why;    /* its reason */
	unsigned n;        /* sessions asked */
} admin_drain_walk_t;

static bool admin_drain_one(gp_list_t *link, void *arg)
{
	admin_drain_walk_t *w = arg;
	gp_session_t *s = gp_session_of(link);
	if (s->backend == w->b && s->on_backend) {
		w->n++;
		gp_session_drain(s, w->deadline, w->why);
	}
	return true;
}

/* Drain every session on backend b (any endpoint); returns how many were asked. */
unsigned gp_admin_drain_sessions(gp_proxy_t *p, int b, gp_close_t why)
{
	admin_drain_walk_t w = {b, uv_now(p->loop) + (uint64_t)p->cfg->routing_drain_timeout_ms,
	                        why, 0};
	gp_proxy_each_session(p, GP_SS_FROM(GP_SS_CONNECTING), admin_drain_one, &w);
	return w.n;
}

/* Log drain_start and watch b until its sessions are gone (drain_end). */
void gp_admin_watch_drain(gp_proxy_t *p, int b, const char *reason, unsigned asked)
{
	gp_admin_t *a = p->admin;
	char probe[160];
	uint64_t now = uv_now(p->loop);
	admin_probe_fields(p, b, probe, sizeof(probe));
	gp_log(GP_LOG_INFO, "drain_start",
	       "backend=%s reason=%s sessions=%u timeout_ms=%lld state=%s %s",
	       p->backends[b].conf->name, reason, asked,
	       (long long)p->cfg->routing_drain_timeout_ms,
	       gp_cluster_decided(&p->cluster)
	               ? gp_node_state_name(gp_cluster_out(&p->cluster)->state[b])
	               : "unknown",
	       probe);
	if (!a->drain_deadline[b])
		a->drain_started[b] = now;
	a->drain_deadline[b] = now + (uint64_t)p->cfg->routing_drain_timeout_ms + GP_ADMIN_GRACE_MS;
	gp_admin_tick_on(a);
}

static void admin_check_drains(gp_proxy_t *p, uint64_t now)
{
	gp_admin_t *a = p->admin;
	bool changed = false;
	for (size_t i = 0; i < p->nbackends; i++) {
		if (!a->drain_deadline[i])
			continue;
		uint32_t left = p->backends[i].sessions;
		if (left && now < a->drain_deadline[i])
			continue;
		gp_log(left ? GP_LOG_WARN : GP_LOG_INFO, "drain_end",
		       "backend=%s sessions_left=%u duration_ms=%llu", p->backends[i].conf->name,
		       left, (unsigned long long)(now - a->drain_started[i]));
		a->drain_deadline[i] = 0;
		if (gp_cluster_node(&p->cluster, (size_t)i)->drain) {
			/* The one drain is over: the node is plain SYNCED again. */
			gp_cluster_set_drain(&p->cluster, i, false);
			changed = true;
		}
	}
	if (changed && gp_cluster_decided(&p->cluster))
		gp_cluster_decide(&p->cluster);
}

/* ---- actions ---------------------------------------------------------------------------- */

static bool admin_parse_bool(const char *v, bool *out)
{
	if (!v)
		return false;
	if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "on")) {
		*out = true;
		return true;
	}
	if (!strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "off")) {
		*out = false;
		return true;
	}
	return false;
}

const char *gp_admin_writer_name(const gp_proxy_t *p)
{
	return gp_cluster_writer(&p->cluster) >= 0
	               ? p->backends[gp_cluster_writer(&p->cluster)].conf->name
	               : NULL;
}

int gp_admin_maintenance(gp_proxy_t *p, const char *backend, const char *on, const char *source,
                         json_t **body)
{
	bool want;
	int b = admin_find(p, backend);
	if (b < 0) {
		*body = admin_error("unknown backend");
		return 404;
	}
	if (!admin_parse_bool(on, &want)) {
		*body = admin_error("parameter on must be 1 or 0");
		return 400;
	}
	bool was = gp_cluster_node(&p->cluster, (size_t)b)->maintenance;
	gp_cluster_set_maintenance(&p->cluster, (size_t)b, want);
	if (p->admin->pending)
		p->admin->pending_maint[b] = false; /* the operator's word now, not the reload's */
	gp_log(GP_LOG_INFO, "admin_maintenance", "backend=%s on=%d was=%d source=%s sessions=%u",
	       p->backends[b].conf->name, want, was, source, p->backends[b].sessions);
	if (gp_cluster_decided(&p->cluster))
		gp_cluster_decide(
		        &p->cluster); /* a writer moving away drains its sessions (cluster.c) */
	if (want && !was) {
		unsigned n = gp_admin_drain_sessions(p, b, GP_CLOSE_MAINTENANCE);
		gp_admin_watch_drain(p, b, "maintenance", n);
	}
	const char *w = gp_admin_writer_name(p);
	*body = json_pack("{s:s,s:b,s:s,s:s?,s:i}", "backend", p->backends[b].conf->name,
	                  "maintenance", want, "state",
	                  gp_cluster_decided(&p->cluster)
	                          ? gp_node_state_name(gp_cluster_out(&p->cluster)->state[b])
	                          : "unknown",
	                  "writer", w, "sessions", (json_int_t)p->backends[b].sessions);
	return 200;
}

int gp_admin_drain(gp_proxy_t *p, const char *backend, const char *source, json_t **body)
{
	int b = admin_find(p, backend);
	if (b < 0) {
		*body = admin_error("unknown backend");
		return 404;
	}
	gp_log(GP_LOG_INFO, "admin_drain", "backend=%s source=%s sessions=%u",
	       p->backends[b].conf->name, source, p->backends[b].sessions);
	unsigned n = gp_admin_drain_sessions(p, b, GP_CLOSE_ADMIN_DRAIN);
	if (p->backends[b].sessions && !gp_cluster_node(&p->cluster, (size_t)b)->drain) {
		/* Shown as DRAINING until the sessions are gone; it stays eligible. */
		gp_cluster_set_drain(&p->cluster, (size_t)b, true);
		if (gp_cluster_decided(&p->cluster))
			gp_cluster_decide(&p->cluster);
	}
	gp_admin_watch_drain(p, b, "admin", n);
	*body = json_pack("{s:s,s:i,s:I}", "backend", p->backends[b].conf->name, "sessions",
	                  (json_int_t)n, "drain_timeout_ms",
	                  (json_int_t)p->cfg->routing_drain_timeout_ms);
	return 200;
}

int gp_admin_vrrp(gp_proxy_t *p, const char *state, const char *source, json_t **body)
{
	int s = state ? gp_vrrp_state_parse(state) : -1;
	if (s < 0 || s == GP_VRRP_UNKNOWN) {
		*body = admin_error("parameter state must be MASTER, BACKUP, FAULT or STOP");
		return 400;
	}
	gp_vrrp_notify(p, (gp_vrrp_state_t)s, source);
	*body = json_pack("{s:s, s:s, s:b}", "vrrp_state", gp_vrrp_state_name(p->vrrp->effective),
	                  "notified", gp_vrrp_state_name(p->vrrp->notified), "fenced",
	                  p->vrrp->fenced);
	return 200;
}

int gp_admin_reload_http(gp_proxy_t *p, const char *source, json_t **body)
{
	char msg[512];
	gp_reload_result_t r = gp_admin_reload(p, source, msg, sizeof(msg));
	static const char *const names[] = {"applied", "pending", "invalid", "busy", "resolving"};
	static const int codes[] = {200, 202, 500, 409, 202};
	*body = json_pack("{s:s,s:s,s:I}", "result", names[r], "message", msg, "config_version",
	                  (json_int_t)p->admin->config_version);
	return codes[r];
}

/* ---- the tick: pending reloads and drains ----------------------------------------------- */

static void on_tick(uv_timer_t *t)
{
	gp_admin_t *a = t->data;
	gp_proxy_t *p = a->proxy;
	uint64_t now = uv_now(p->loop);
	gp_reload_tick(p, now);
	admin_check_drains(p, now);
	bool busy = a->pending != NULL || a->resolving != NULL;
	for (size_t i = 0; i < p->nbackends && !busy; i++)
		busy = a->drain_deadline[i] != 0;
	if (!busy)
		uv_timer_stop(&a->tick);
}

/* ---- start / stop ------------------------------------------------------------------------ */

gp_status_t gp_admin_start(gp_proxy_t *p)
{
	gp_metrics_init(p->metrics);
	gp_admin_t *a = calloc(1, sizeof(*a));
	if (!a)
		return GP_ENOMEM;
	a->proxy = p;
	a->config_version = 1;
	a->last_reload_ok = true;
	uv_timer_init(p->loop, &a->tick);
	a->tick.data = a;
	a->tick_open = true;
	p->admin = a;
	if (!p->cfg->top_http_listen[0])
		return GP_OK;
	struct gp_tls_ctx *tls = NULL;
	char err[256];
	if (gp_https_build(p->cfg, &tls, err, sizeof(err)) != GP_OK) {
		gp_log(GP_LOG_ERROR, "https_failed", "error=\"%s\"", err);
		return GP_ECONFIG;
	}
	gp_status_t st = gp_routes_start(p, p->cfg->top_http_listen, &a->http);
	if (st == GP_OK && tls)
		gp_http_set_tls(a->http, tls);
	gp_tls_ctx_unref(tls); /* the server holds its own reference */
	return st;
}

static void on_tick_closed(uv_handle_t *h)
{
	free(h->data);
}

void gp_admin_stop(gp_proxy_t *p)
{
	gp_admin_t *a = p->admin;
	if (!a)
		return;
	p->admin = NULL;
	gp_http_stop(a->http);
	a->http = NULL;
	gp_config_free(a->pending);
	a->pending = NULL;
	gp_reload_abandon(a);
	uv_timer_stop(&a->tick);
	uv_close((uv_handle_t *)&a->tick, on_tick_closed);
}
