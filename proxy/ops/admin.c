/* admin.c - operator actions (maintenance, drain, reload, VRRP role) and the /status view. */
#include "ops/admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cluster/cluster.h"
#include "net/http.h"
#include "base/log.h"
#include "cluster/monitor.h"
#include "net/resolve.h"
#include "session/session.h"

#define ADMIN_TICK_MS    100   /* how often pending reloads and drains are looked at */
#define ADMIN_GRACE_MS   10000 /* beyond drain_timeout_ms: closing sessions need time too */
#define ADMIN_RESOLVE_MS 10000 /* a reload's host names must resolve within this */

static int64_t admin_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* RFC 3339 UTC with milliseconds, e.g. 2024-05-01T12:00:00.123Z */
static json_t *admin_time_json(int64_t unix_ms)
{
	if (unix_ms <= 0)
		return json_null();
	char buf[40];
	time_t t = (time_t)(unix_ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof(buf) - n, ".%03dZ", (int)(unix_ms % 1000));
	return json_string(buf);
}

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
	const gp_probe_t *pr = p->gin.node[b].probe ? p->gin.node[b].probe : &never;
	snprintf(buf, cap, "up=%d probe=%s local_state=%d cluster_size=%d recv_queue=%lld",
	         p->gin.node[b].up, gp_probe_err_name(pr->err), pr->local_state, pr->cluster_size,
	         (long long)pr->recv_queue);
}

/* ---- drains --------------------------------------------------------------------------- */

static void on_tick(uv_timer_t *t);

static void admin_tick_on(gp_admin_t *a)
{
	if (!uv_is_active((uv_handle_t *)&a->tick))
		uv_timer_start(&a->tick, on_tick, ADMIN_TICK_MS, ADMIN_TICK_MS);
}

/* Drain every session on backend b (any endpoint); returns how many were asked. */
static unsigned admin_drain_sessions(gp_proxy_t *p, int b, gp_close_t why)
{
	uint64_t deadline = uv_now(p->loop) + (uint64_t)p->cfg->routing_drain_timeout_ms;
	unsigned n = 0;
	gp_list_t *pos, *tmp;
	for (int st = GP_SS_CONNECTING; st < GP_SS_CLOSING; st++) {
		gp_list_each_safe(pos, tmp, &p->sessions[st])
		{
			gp_session_t *s = gp_container_of(pos, gp_session_t, link);
			if (s->backend == b && s->on_backend) {
				n++;
				gp_session_drain(s, deadline, why);
			}
		}
	}
	return n;
}

/* Log drain_start and watch b until its sessions are gone (drain_end). */
static void admin_watch_drain(gp_proxy_t *p, int b, const char *reason, unsigned asked)
{
	gp_admin_t *a = p->admin;
	char probe[160];
	uint64_t now = uv_now(p->loop);
	admin_probe_fields(p, b, probe, sizeof(probe));
	gp_log(GP_LOG_INFO, "drain_start",
	       "backend=%s reason=%s sessions=%u timeout_ms=%lld state=%s %s",
	       p->backends[b].conf->name, reason, asked,
	       (long long)p->cfg->routing_drain_timeout_ms,
	       p->decided ? gp_node_state_name(p->gout.state[b]) : "unknown", probe);
	if (!a->drain_deadline[b])
		a->drain_started[b] = now;
	a->drain_deadline[b] = now + (uint64_t)p->cfg->routing_drain_timeout_ms + ADMIN_GRACE_MS;
	admin_tick_on(a);
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
		if (p->gin.node[i].drain) {
			/* The one drain is over: the node is plain SYNCED again. */
			p->gin.node[i].drain = false;
			changed = true;
		}
	}
	if (changed && p->decided)
		gp_cluster_decide(p);
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

static const char *admin_writer_name(const gp_proxy_t *p)
{
	return p->writer >= 0 ? p->backends[p->writer].conf->name : NULL;
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
	bool was = p->gin.node[b].maintenance;
	p->gin.node[b].maintenance = want;
	if (p->admin->pending)
		p->admin->pending_maint[b] = false; /* the operator's word now, not the reload's */
	gp_log(GP_LOG_INFO, "admin_maintenance", "backend=%s on=%d was=%d source=%s sessions=%u",
	       p->backends[b].conf->name, want, was, source, p->backends[b].sessions);
	if (p->decided)
		gp_cluster_decide(p); /* a writer moving away drains its sessions (cluster.c) */
	if (want && !was) {
		unsigned n = admin_drain_sessions(p, b, GP_CLOSE_MAINTENANCE);
		admin_watch_drain(p, b, "maintenance", n);
	}
	const char *w = admin_writer_name(p);
	*body = json_pack("{s:s,s:b,s:s,s:s?,s:i}", "backend", p->backends[b].conf->name,
	                  "maintenance", want, "state",
	                  p->decided ? gp_node_state_name(p->gout.state[b]) : "unknown", "writer",
	                  w, "sessions", (json_int_t)p->backends[b].sessions);
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
	unsigned n = admin_drain_sessions(p, b, GP_CLOSE_ADMIN_DRAIN);
	if (p->backends[b].sessions && !p->gin.node[b].drain) {
		/* Shown as DRAINING until the sessions are gone; it stays eligible. */
		p->gin.node[b].drain = true;
		if (p->decided)
			gp_cluster_decide(p);
	}
	admin_watch_drain(p, b, "admin", n);
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
	*body = json_pack("{s:s, s:s, s:b}", "vrrp_state", gp_vrrp_state_name(p->vrrp.effective),
	                  "notified", gp_vrrp_state_name(p->vrrp.notified), "fenced",
	                  p->vrrp.fenced);
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

/* ---- health and status ------------------------------------------------------------------ */

int gp_admin_health(const gp_proxy_t *p, char *msg, size_t cap)
{
	if (p->shutting_down || p->vrrp.leaving) {
		snprintf(msg, cap, "unavailable: shutting down");
		return 503;
	}
	if (!p->listening[GP_EP_RW]) {
		snprintf(msg, cap, "unavailable: listener down");
		return 503;
	}
	if (p->writer < 0) {
		snprintf(msg, cap, "unavailable: no writer (%s)",
		         p->decided ? p->gout.reason_text : "no probe finished yet");
		return 503;
	}
	snprintf(msg, cap, "ok: writer %s", p->backends[p->writer].conf->name);
	return 200;
}

static const char *admin_cluster_status(gp_cluster_status_t s)
{
	switch (s) {
	case GP_CLUSTER_PRIMARY:
		return "Primary";
	case GP_CLUSTER_NON_PRIMARY:
		return "non-Primary";
	case GP_CLUSTER_DISCONNECTED:
		return "Disconnected";
	default:
		return NULL;
	}
}

static json_t *admin_backend_json(const gp_proxy_t *p, size_t i)
{
	const gp_backend_t *b = &p->backends[i];
	const gp_probe_t *pr = p->gin.node[i].probe;
	const gp_probe_t *v = pr && pr->have_vars ? pr : NULL;
	const char *role = p->writer == (int)i                        ? "writer"
	                   : p->decided && p->gout.reader_eligible[i] ? "reader"
	                                                              : "none";
	json_t *o = json_pack(
	        "{s:s,s:s,s:I,s:s,s:s,s:s,s:b,s:b,s:b,s:I,s:I,s:I}", "name", b->conf->name,
	        "address", b->conf->address, "priority", (json_int_t)b->conf->priority, "state",
	        p->decided ? gp_node_state_name(p->gout.state[i]) : "unknown", "reason",
	        p->decided ? gp_reason_name(p->gout.why[i]) : "no_data", "role", role, "up",
	        p->gin.node[i].up, "maintenance", p->gin.node[i].maintenance, "draining",
	        p->admin && p->admin->drain_deadline[i] != 0, "sessions", (json_int_t)b->sessions,
	        "sessions_rw", (json_int_t)b->sessions_rw, "connect_failures",
	        (json_int_t)b->connect_failures);
	if (!o)
		return NULL;
	uint32_t open, unknown;
	gp_session_txn_count(p, (int)i, -1, &open, &unknown);
	json_object_set_new(o, "sessions_in_transaction", json_integer((json_int_t)open));
	json_object_set_new(o, "sessions_transaction_unknown", json_integer((json_int_t)unknown));
	json_object_set_new(o, "wsrep_local_state",
	                    v && (v->seen & GP_VAR_LOCAL_STATE) ? json_integer(v->local_state)
	                                                        : json_null());
	json_object_set_new(o, "wsrep_local_state_comment",
	                    v && v->local_state_comment[0] ? json_string(v->local_state_comment)
	                                                   : json_null());
	const char *cs = v ? admin_cluster_status(v->cluster_status) : NULL;
	json_object_set_new(o, "cluster_status", cs ? json_string(cs) : json_null());
	json_object_set_new(o, "cluster_size",
	                    v && (v->seen & GP_VAR_CLUSTER_SIZE) ? json_integer(v->cluster_size)
	                                                         : json_null());
	json_object_set_new(o, "recv_queue",
	                    v && (v->seen & GP_VAR_RECV_QUEUE) ? json_integer(v->recv_queue)
	                                                       : json_null());
	json_object_set_new(o, "galera", v ? json_boolean(v->provider) : json_null());
	json_object_set_new(o, "read_only", v ? json_boolean(v->read_only) : json_null());
	json_t *probe = json_object();
	if (pr) {
		json_object_set_new(probe, "ok", json_boolean(pr->ok));
		json_object_set_new(probe, "error",
		                    pr->ok ? json_null() : json_string(gp_probe_err_name(pr->err)));
		json_object_set_new(
		        probe, "latency_ms",
		        pr->ok ? json_real((double)(pr->connect_us + pr->latency_us) / 1000.0)
		               : json_null());
	}
	json_object_set_new(o, "probe", pr ? probe : json_null());
	if (!pr)
		json_decref(probe);
	return o;
}

json_t *gp_admin_status(const gp_proxy_t *p)
{
	const gp_admin_t *a = p->admin;
	const gp_metrics_t *m = &p->metrics;
	char health[300];
	int hcode = gp_admin_health(p, health, sizeof(health));
	json_t *o = json_object();
	if (!o)
		return NULL;
	const char *w = admin_writer_name(p);
	json_object_set_new(o, "version", json_string(GP_VERSION));
	json_object_set_new(o, "writer", w ? json_string(w) : json_null());
	json_object_set_new(o, "proxy", json_string(p->vrrp.name));
	json_object_set_new(o, "vrrp_state", json_string(gp_vrrp_state_name(p->vrrp.effective)));
	json_object_set_new(o, "vrrp_notified", json_string(gp_vrrp_state_name(p->vrrp.notified)));
	json_object_set_new(o, "vip_present",
	                    p->vrrp.vip_present < 0 ? json_null()
	                                            : json_boolean(p->vrrp.vip_present));
	json_object_set_new(o, "fenced", json_boolean(p->vrrp.fenced));
	json_object_set_new(
	        o, "peer",
	        !p->vrrp.view.valid
	                ? json_null()
	                : json_pack("{s:s, s:s, s:s?}", "proxy", p->vrrp.view.name, "vrrp_state",
	                            gp_vrrp_state_name(p->vrrp.view.state), "writer",
	                            p->vrrp.view.writer[0] ? p->vrrp.view.writer : NULL));
	json_object_set_new(o, "config_version", json_integer((json_int_t)a->config_version));
	json_object_set_new(o, "healthy", json_boolean(hcode == 200));
	json_object_set_new(o, "health", json_string(health));
	json_object_set_new(o, "decided", json_boolean(p->decided));
	json_object_set_new(o, "standalone_mode",
	                    json_boolean(p->decided && p->gout.standalone_mode));
	json_object_set_new(o, "barrier_from",
	                    p->barrier_from >= 0
	                            ? json_string(p->backends[p->barrier_from].conf->name)
	                            : json_null());
	json_object_set_new(o, "no_writer_seconds", json_real(gp_metrics_no_writer_seconds(p)));
	json_object_set_new(o, "writer_changes", json_integer((json_int_t)p->writer_changes));
	json_object_set_new(o, "started_at", admin_time_json(m->start_unix_ms));
	if (m->last_change_unix_ms) {
		json_object_set_new(o, "last_change",
		                    json_pack("{s:o,s:s?,s:s?,s:s,s:s}", "at",
		                              admin_time_json(m->last_change_unix_ms), "from",
		                              m->last_from[0] ? m->last_from : NULL, "to",
		                              m->last_to[0] ? m->last_to : NULL, "reason",
		                              gp_reason_name(m->last_reason), "detail",
		                              m->last_detail));
	} else {
		json_object_set_new(o, "last_change", json_null());
	}
	json_object_set_new(o, "last_change_timeline", gp_cluster_timeline_json(p));
	json_object_set_new(o, "listeners",
	                    json_pack("{s:s,s:s?,s:s?}", "rw", p->cfg->top_listen, "ro",
	                              p->cfg->top_listen_ro[0] ? p->cfg->top_listen_ro : NULL,
	                              "http",
	                              p->cfg->top_http_listen[0] ? p->cfg->top_http_listen : NULL));
	json_object_set_new(o, "clients",
	                    json_pack("{s:I,s:I,s:I}", "active", (json_int_t)p->nclients,
	                              "sessions", (json_int_t)p->nsessions, "limit",
	                              (json_int_t)p->cfg->limits_max_client_connections));
	json_object_set_new(
	        o, "reload",
	        json_pack("{s:I,s:I,s:b,s:o,s:s?,s:b,s:b}", "successes", (json_int_t)a->reloads_ok,
	                  "failures", (json_int_t)a->reloads_failed, "last_ok", a->last_reload_ok,
	                  "last_at", admin_time_json(a->last_reload_unix_ms), "last_error",
	                  a->last_reload_error[0] ? a->last_reload_error : NULL, "pending",
	                  a->pending != NULL, "resolving", a->resolving != NULL));
	json_t *bs = json_array();
	for (size_t i = 0; i < p->nbackends; i++)
		json_array_append_new(bs, admin_backend_json(p, i));
	json_object_set_new(o, "backends", bs);
	return o;
}

/* ---- reload ------------------------------------------------------------------------------ */

static void admin_reload_tick(gp_proxy_t *p, uint64_t now);

static void on_tick(uv_timer_t *t)
{
	gp_admin_t *a = t->data;
	gp_proxy_t *p = a->proxy;
	uint64_t now = uv_now(p->loop);
	admin_reload_tick(p, now);
	admin_check_drains(p, now);
	bool busy = a->pending != NULL || a->resolving != NULL;
	for (size_t i = 0; i < p->nbackends && !busy; i++)
		busy = a->drain_deadline[i] != 0;
	if (!busy)
		uv_timer_stop(&a->tick);
}

/* Same backend: same name and same address (a moved address is a new server). */
static bool reload_same(const gp_backend_conf_t *a, const gp_backend_conf_t *b)
{
	return !strcmp(a->name, b->name) && !strcmp(a->host, b->host) && a->port == b->port;
}

/* map[old index] = index of the same backend in nw, or -1 if nw removes it. */
static void reload_map(const gp_config_t *old, const gp_config_t *nw, int *map)
{
	for (size_t i = 0; i < old->nbackends; i++) {
		map[i] = -1;
		for (size_t j = 0; j < nw->nbackends; j++)
			if (reload_same(&old->backends[i], &nw->backends[j]))
				map[i] = (int)j;
	}
}

static int reload_index(const int *map, size_t nold, int i)
{
	return i >= 0 && (size_t)i < nold ? map[i] : -1;
}

#define RELOAD_DIFF_STR(a, b)    strcmp((a) ? (a) : "", (b) ? (b) : "")
#define RELOAD_DIFF_INT(a, b)    ((a) != (b))
#define RELOAD_DIFF_BOOL(a, b)   ((a) != (b))
#define RELOAD_DIFF_SECRET(a, b) RELOAD_DIFF_STR(a, b)

/* The scalar keys that differ, "monitor.interval_ms,routing.failback" (names only, no values). */
static void reload_changed_keys(const gp_config_t *o, const gp_config_t *n, char *buf, size_t cap)
{
	size_t len = 0;
	buf[0] = '\0';
#define RELOAD_KEY(sec, field, key, type, def, help)                                              \
	if (RELOAD_DIFF_##type(o->sec##_##field, n->sec##_##field) && len < cap) {                \
		int w = snprintf(buf + len, cap - len, "%s%s%s%s", len ? "," : "",                \
		                 strcmp(#sec, "top") ? #sec : "", strcmp(#sec, "top") ? "." : "", \
		                 key);                                                            \
		len += w > 0 ? (size_t)w : 0;                                                     \
	}
	GP_CONFIG_TABLE(RELOAD_KEY)
#undef RELOAD_KEY
	if (len >= cap)
		buf[cap - 1] = '\0';
}

static bool reload_monitor_changed(const gp_config_t *o, const gp_config_t *n)
{
	return RELOAD_DIFF_STR(o->monitor_user, n->monitor_user) ||
	       RELOAD_DIFF_STR(o->monitor_password, n->monitor_password) ||
	       o->monitor_interval_ms != n->monitor_interval_ms ||
	       o->monitor_timeout_ms != n->monitor_timeout_ms ||
	       o->monitor_fall != n->monitor_fall || o->monitor_rise != n->monitor_rise ||
	       o->eviction_enabled != n->eviction_enabled ||
	       RELOAD_DIFF_STR(o->eviction_user, n->eviction_user) ||
	       RELOAD_DIFF_STR(o->eviction_password, n->eviction_password);
}

static bool reload_moved(const gp_config_t *o, const gp_config_t *n, const int *map)
{
	if (o->nbackends != n->nbackends)
		return true;
	for (size_t i = 0; i < o->nbackends; i++)
		if (map[i] != (int)i)
			return true;
	return false;
}

/* A backend kept by name and host whose host now resolves elsewhere (the monitor probes the
 * address, so it starts again). */
static bool reload_readdressed(const gp_config_t *o, const gp_config_t *n, const int *map)
{
	bool any = false;
	for (size_t i = 0; i < o->nbackends; i++) {
		if (map[i] < 0 || !strcmp(o->backends[i].ip, n->backends[map[i]].ip))
			continue;
		gp_log(GP_LOG_INFO, "reload_readdressed", "backend=%s host=%s from=%s to=%s",
		       o->backends[i].name, o->backends[i].host, o->backends[i].ip,
		       n->backends[map[i]].ip);
		any = true;
	}
	return any;
}

/* A removed backend that sessions still point at (connecting, open, or counted on it). */
static bool reload_busy(const gp_proxy_t *p, int b)
{
	if (p->backends[b].sessions)
		return true;
	const gp_list_t *pos;
	for (int st = GP_SS_CONNECTING; st < GP_SS_CLOSING; st++)
		for (pos = p->sessions[st].next; pos != &p->sessions[st]; pos = pos->next)
			if (gp_container_of(pos, gp_session_t, link)->backend == b)
				return true;
	return false;
}

static bool reload_any_busy(const gp_proxy_t *p, const int *map)
{
	for (size_t i = 0; i < p->nbackends; i++)
		if (map[i] < 0 && reload_busy(p, (int)i))
			return true;
	return false;
}

/* Listener addresses stay as they run (a restart moves them); the log says so. */
static void reload_keep_listeners(gp_config_t *old, gp_config_t *nw)
{
	struct {
		const char *key;
		char **o, **n;
	} keys[] = {
	        {"listen", &old->top_listen, &nw->top_listen},
	        {"listen_ro", &old->top_listen_ro, &nw->top_listen_ro},
	        {"http_listen", &old->top_http_listen, &nw->top_http_listen},
	};
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		if (!RELOAD_DIFF_STR(*keys[k].o, *keys[k].n))
			continue;
		gp_log(GP_LOG_WARN, "reload_restart_required",
		       "key=%s running=\"%s\" configured=\"%s\" detail=\"takes effect at the next "
		       "restart\"",
		       keys[k].key, *keys[k].o, *keys[k].n);
		char *t = *keys[k].o;
		*keys[k].o = *keys[k].n;
		*keys[k].n = t;
	}
}

static void reload_failed(gp_proxy_t *p, const char *source, const char *why)
{
	gp_admin_t *a = p->admin;
	char q[600];
	a->reloads_failed++;
	a->last_reload_ok = false;
	a->last_reload_unix_ms = admin_wall_ms();
	snprintf(a->last_reload_error, sizeof(a->last_reload_error), "%s", why);
	gp_log(GP_LOG_ERROR, "reload_failed", "source=%s error=%s config_version=%llu", source,
	       gp_log_quote(q, sizeof(q), why, (unsigned)strlen(why)),
	       (unsigned long long)a->config_version);
}

/* Undo the maintenance flags a reload set on backends it meant to remove. */
static void reload_restore_maint(gp_proxy_t *p)
{
	gp_admin_t *a = p->admin;
	bool any = false;
	for (size_t i = 0; i < GP_MAX_BACKENDS; i++) {
		if (a->pending_maint[i] && i < p->nbackends) {
			p->gin.node[i].maintenance = false;
			any = true;
		}
		a->pending_maint[i] = false;
	}
	if (any && p->decided)
		gp_cluster_decide(p);
}

static void on_old_monitor_closed(gp_monitor_t *m, void *arg)
{
	(void)arg;
	gp_monitor_free(m);
}

/* Sessions keep their backends under the new indexes (tried masks too). */
static void reload_remap_sessions(gp_proxy_t *p, const int *map, size_t nold)
{
	gp_list_t *pos;
	for (int st = 0; st < GP_SS__COUNT; st++) {
		for (pos = p->sessions[st].next; pos != &p->sessions[st]; pos = pos->next) {
			gp_session_t *s = gp_container_of(pos, gp_session_t, link);
			uint32_t tried = 0;
			s->backend = reload_index(map, nold, s->backend);
			for (size_t i = 0; i < nold; i++)
				if ((s->tried & (1u << i)) && map[i] >= 0)
					tried |= 1u << map[i];
			s->tried = tried;
		}
	}
}

/* Policy state follows the backends; a new monitor starts from no probes. */
static void reload_remap_policy(gp_proxy_t *p, const int *map, size_t nold, size_t nnew,
                                bool fresh_probes)
{
	gp_admin_t *a = p->admin;
	gp_galera_in_t gin;
	gp_galera_out_t gout = p->gout;
	uint64_t dd[GP_MAX_BACKENDS] = {0}, ds[GP_MAX_BACKENDS] = {0};
	gp_galera_in_init(&gin);
	for (size_t j = 0; j < nnew; j++) {
		gout.state[j] = GP_NODE_DOWN;
		gout.why[j] = GP_REASON_NO_DATA;
		gout.writer_eligible[j] = gout.reader_eligible[j] = false;
		gout.eligible_since_ms[j] = -1;
	}
	for (size_t i = 0; i < nold; i++) {
		int j = map[i];
		if (j < 0)
			continue;
		gin.node[j].maintenance = p->gin.node[i].maintenance;
		gin.node[j].drain = p->gin.node[i].drain;
		gin.node[j].eligible_since_ms = p->gin.node[i].eligible_since_ms;
		if (!fresh_probes) {
			gin.node[j].probe = p->gin.node[i].probe;
			gin.node[j].up = p->gin.node[i].up;
		}
		gout.state[j] = p->gout.state[i];
		gout.why[j] = p->gout.why[i];
		gout.writer_eligible[j] = p->gout.writer_eligible[i];
		gout.reader_eligible[j] = p->gout.reader_eligible[i];
		gout.eligible_since_ms[j] = p->gout.eligible_since_ms[i];
		dd[j] = a->drain_deadline[i];
		ds[j] = a->drain_started[i];
	}
	p->writer = reload_index(map, nold, p->writer);
	p->barrier_from = reload_index(map, nold, p->barrier_from);
	gin.writer = p->writer;
	gin.now_ms = p->gin.now_ms;
	gout.writer = reload_index(map, nold, p->gout.writer);
	p->gin = gin;
	p->gout = gout;
	memcpy(a->drain_deadline, dd, sizeof(dd));
	memcpy(a->drain_started, ds, sizeof(ds));
	memset(a->pending_maint, 0, sizeof(a->pending_maint));
}

/* Swap in nw (valid, removed backends idle). On failure nothing changed and msg says why. */
static gp_status_t reload_apply(gp_proxy_t *p, gp_config_t *nw, const char *source, char *msg,
                                size_t cap)
{
	gp_admin_t *a = p->admin;
	gp_config_t *old = p->cfg;
	size_t nold = old->nbackends;
	int map[GP_MAX_BACKENDS];
	gp_backend_t nb[GP_MAX_BACKENDS];
	char changed[400], added[400] = "", removed[400] = "";
	reload_map(old, nw, map);
	bool readdressed = reload_readdressed(old, nw, map); /* logs each one */
	bool restart = readdressed || reload_moved(old, nw, map) || reload_monitor_changed(old, nw);

	/* Everything that can fail comes first; every address was resolved before. */
	memset(nb, 0, sizeof(nb));
	for (size_t j = 0; j < nw->nbackends; j++) {
		nb[j].conf = &nw->backends[j];
		nb[j].last_error = GP_OK;
		nb[j].addr = nw->backends[j].addr;
	}
	gp_monitor_t *m = NULL;
	if (restart && gp_monitor_new(p->loop, nw, gp_cluster_on_probe, p, &m) != GP_OK) {
		snprintf(msg, cap, "cannot start the monitor for the new configuration");
		return GP_ENOMEM;
	}

	reload_keep_listeners(old, nw);
	reload_changed_keys(old, nw, changed, sizeof(changed));
	for (size_t i = 0; i < nold; i++) {
		if (map[i] < 0) {
			size_t l = strlen(removed);
			snprintf(removed + l, sizeof(removed) - l, "%s%s", l ? "," : "",
			         old->backends[i].name);
			continue;
		}
		struct sockaddr_storage addr = nb[map[i]].addr;
		nb[map[i]] = p->backends[i]; /* sessions, counters */
		nb[map[i]].conf = &nw->backends[map[i]];
		nb[map[i]].addr = addr;
	}
	for (size_t j = 0; j < nw->nbackends; j++) {
		bool known = false;
		for (size_t i = 0; i < nold; i++)
			known |= map[i] == (int)j;
		size_t l = strlen(added);
		if (!known)
			snprintf(added + l, sizeof(added) - l, "%s%s", l ? "," : "",
			         nw->backends[j].name);
	}
	reload_remap_sessions(p, map, nold);
	gp_timeline_remap(&p->timeline, map, nold);
	reload_remap_policy(p, map, nold, nw->nbackends, restart);
	if (restart) {
		/* The old monitor's counters live on in the metrics. */
		for (size_t i = 0; p->monitor && i < nold && i < gp_monitor_count(p->monitor); i++)
			p->metrics.evictions_base[i] += gp_monitor_node_evictions(p->monitor, i);
		if (p->monitor)
			p->metrics.eviction_failures_base +=
			        gp_monitor_stats(p->monitor)->eviction_failures;
		gp_metrics_remap(&p->metrics, map, nold);
	}
	memcpy(p->backends, nb, sizeof(nb));
	p->nbackends = nw->nbackends;
	p->cfg = nw;
	int lvl = gp_log_level_parse(nw->top_log_level);
	if (lvl >= 0)
		gp_log_min_level = (gp_log_level_t)lvl;
	if (restart) {
		if (p->monitor)
			gp_monitor_close(p->monitor, on_old_monitor_closed, NULL);
		p->monitor = m;
		/* No decision until every node answered the new monitor once; sessions keep
		 * running and the writer stays (sticky) unless the new probes say otherwise. */
		p->decided = false;
		if (gp_monitor_start(m) != GP_OK)
			gp_log(GP_LOG_ERROR, "monitor_start_failed", "detail=\"after reload\"");
	} else if (p->decided) {
		gp_cluster_decide(p); /* priorities and routing knobs apply now */
	}
	gp_config_free(old);
	a->config_version++;
	a->reloads_ok++;
	a->last_reload_ok = true;
	a->last_reload_unix_ms = admin_wall_ms();
	a->last_reload_error[0] = '\0';
	gp_log(GP_LOG_INFO, "reload_done",
	       "source=%s config_version=%llu backends=%zu added=%s removed=%s changed=%s "
	       "monitor_restarted=%d writer=%s",
	       source, (unsigned long long)a->config_version, p->nbackends, added[0] ? added : "-",
	       removed[0] ? removed : "-", changed[0] ? changed : "-", restart,
	       admin_writer_name(p) ? admin_writer_name(p) : "none");
	snprintf(msg, cap, "applied: config_version %llu", (unsigned long long)a->config_version);
	return GP_OK;
}

static gp_reload_result_t reload_finish(gp_proxy_t *p, gp_config_t *nw, const char *source,
                                        char *msg, size_t cap)
{
	if (reload_apply(p, nw, source, msg, cap) != GP_OK) {
		gp_config_free(nw);
		reload_restore_maint(p);
		reload_failed(p, source, msg);
		return GP_RELOAD_INVALID;
	}
	return GP_RELOAD_APPLIED;
}

/* Forget the lookup of a reload's host names (its answers are dropped when they come). */
static void reload_resolve_abandon(gp_admin_t *a)
{
	gp_resolve_cancel(a->resolving);
	a->resolving = NULL;
	gp_config_free(a->resolving_cfg);
	a->resolving_cfg = NULL;
}

static void admin_reload_tick(gp_proxy_t *p, uint64_t now)
{
	gp_admin_t *a = p->admin;
	char msg[512];
	int map[GP_MAX_BACKENDS];
	if (a->resolving && now >= a->resolve_deadline) {
		char source[sizeof(a->resolving_source)];
		snprintf(source, sizeof(source), "%s", a->resolving_source);
		snprintf(msg, sizeof(msg),
		         "%s: %zu host name(s) did not resolve within %d ms; the running "
		         "configuration is kept",
		         a->resolving_cfg->path, gp_resolve_waiting(a->resolving),
		         ADMIN_RESOLVE_MS);
		reload_resolve_abandon(a);
		reload_failed(p, source, msg);
	}
	if (!a->pending)
		return;
	reload_map(p->cfg, a->pending, map);
	gp_config_t *nw = a->pending;
	if (!reload_any_busy(p, map)) {
		a->pending = NULL;
		reload_finish(p, nw, "pending", msg, sizeof(msg));
		return;
	}
	if (now < a->pending_deadline)
		return;
	a->pending = NULL;
	gp_config_free(nw);
	reload_restore_maint(p);
	reload_failed(p, "pending", "removed backends still had sessions at the deadline");
}

/* nw is valid and every backend has its address: apply now, or once removed backends are
 * idle. */
static gp_reload_result_t reload_resolved(gp_proxy_t *p, gp_config_t *nw, const char *source,
                                          char *msg, size_t cap)
{
	gp_admin_t *a = p->admin;
	int map[GP_MAX_BACKENDS];
	reload_map(p->cfg, nw, map);
	bool any_removed = false;
	for (size_t i = 0; i < p->nbackends; i++)
		any_removed |= map[i] < 0;
	if (!any_removed)
		return reload_finish(p, nw, source, msg, cap);

	/* Removed backends are excluded first, so a removed writer hands over and its
	 * sessions drain; the swap waits until nothing points at them any more. */
	unsigned asked = 0;
	for (size_t i = 0; i < p->nbackends; i++) {
		if (map[i] >= 0 || p->gin.node[i].maintenance)
			continue;
		p->gin.node[i].maintenance = true;
		a->pending_maint[i] = true;
	}
	if (p->decided)
		gp_cluster_decide(p);
	for (size_t i = 0; i < p->nbackends; i++) {
		if (map[i] >= 0)
			continue;
		unsigned n = admin_drain_sessions(p, (int)i, GP_CLOSE_BACKEND_REMOVED);
		asked += n;
		if (n)
			admin_watch_drain(p, (int)i, "reload", n);
	}
	if (!reload_any_busy(p, map))
		return reload_finish(p, nw, source, msg, cap);
	a->pending = nw;
	a->pending_deadline =
	        uv_now(p->loop) + (uint64_t)p->cfg->routing_drain_timeout_ms + ADMIN_GRACE_MS;
	admin_tick_on(a);
	gp_log(GP_LOG_INFO, "reload_pending", "source=%s sessions=%u timeout_ms=%lld", source,
	       asked, (long long)(p->cfg->routing_drain_timeout_ms + ADMIN_GRACE_MS));
	snprintf(msg, cap, "valid; applied once the sessions of removed backends are gone");
	return GP_RELOAD_PENDING;
}

static void on_reload_resolved(gp_resolve_t *r, void *arg)
{
	gp_proxy_t *p = arg;
	gp_admin_t *a = p->admin;
	gp_config_t *nw = a->resolving_cfg;
	char source[sizeof(a->resolving_source)], msg[512], q[GP_ADDR_MAX + 2];
	snprintf(source, sizeof(source), "%s", a->resolving_source);
	a->resolving = NULL;
	a->resolving_cfg = NULL;
	for (size_t i = 0; i < nw->nbackends; i++) {
		int st = gp_resolve_status(r, i);
		if (st == 0) {
			gp_config_backend_resolved(&nw->backends[i], gp_resolve_addr(r, i));
			continue;
		}
		snprintf(msg, sizeof(msg),
		         "%s: backend '%s': cannot resolve %s (%s); the running configuration is "
		         "kept",
		         nw->path, nw->backends[i].name,
		         gp_log_quote(q, sizeof(q), nw->backends[i].host,
		                      (unsigned)strlen(nw->backends[i].host)),
		         uv_strerror(st));
		gp_resolve_free(r);
		gp_config_free(nw);
		reload_failed(p, source, msg);
		return;
	}
	gp_resolve_free(r);
	for (size_t i = 0; i < nw->nbackends; i++)
		if (strcmp(nw->backends[i].host, nw->backends[i].ip))
			gp_log(GP_LOG_INFO, "reload_resolved", "source=%s backend=%s host=%s ip=%s",
			       source, nw->backends[i].name, nw->backends[i].host,
			       nw->backends[i].ip);
	if (p->shutting_down) {
		gp_config_free(nw);
		reload_failed(p, source, "shutting down");
		return;
	}
	reload_resolved(p, nw, source, msg, sizeof(msg));
}

gp_reload_result_t gp_admin_reload(gp_proxy_t *p, const char *source, char *msg, size_t cap)
{
	gp_admin_t *a = p->admin;
	char err[512];
	gp_config_t *nw = NULL;
	if (!a || p->shutting_down || a->pending || a->resolving) {
		snprintf(msg, cap, "%s",
		         !a || p->shutting_down ? "shutting down"
		         : a->pending           ? "an earlier reload is still pending"
		                      : "an earlier reload is still resolving host names");
		gp_log(GP_LOG_WARN, "reload_busy", "source=%s detail=\"%s\"", source, msg);
		return GP_RELOAD_BUSY;
	}
	gp_log(GP_LOG_INFO, "reload_start", "source=%s file=%s config_version=%llu", source,
	       p->cfg->path, (unsigned long long)a->config_version);
	if (gp_config_load(p->cfg->path, &nw, err, sizeof(err)) != GP_OK) {
		snprintf(msg, cap, "%s", err);
		reload_failed(p, source, err);
		return GP_RELOAD_INVALID;
	}

	/* Numeric addresses need no resolver: the reload completes in this call. */
	const char *hosts[GP_MAX_BACKENDS];
	uint16_t ports[GP_MAX_BACKENDS];
	size_t names = 0;
	for (size_t i = 0; i < nw->nbackends; i++) {
		struct sockaddr_storage ss;
		hosts[i] = nw->backends[i].host;
		ports[i] = nw->backends[i].port;
		if (gp_resolve_numeric(hosts[i], ports[i], &ss))
			gp_config_backend_resolved(&nw->backends[i], &ss);
		else
			names++;
	}
	if (names == 0)
		return reload_resolved(p, nw, source, msg, cap);

	/* Names: all of them are looked up off the loop thread first, then the reload goes
	 * on as one (on_reload_resolved); until then the running configuration is untouched. */
	gp_status_t st = gp_resolve_start(p->loop, nw->nbackends, hosts, ports, on_reload_resolved,
	                                  p, &a->resolving);
	if (st != GP_OK) {
		snprintf(msg, cap, "%s: cannot look up host names: %s", nw->path, gp_strerror(st));
		gp_config_free(nw);
		reload_failed(p, source, msg);
		return GP_RELOAD_INVALID;
	}
	a->resolving_cfg = nw;
	a->resolve_deadline = uv_now(p->loop) + ADMIN_RESOLVE_MS;
	snprintf(a->resolving_source, sizeof(a->resolving_source), "%s", source);
	admin_tick_on(a);
	gp_log(GP_LOG_INFO, "reload_resolving", "source=%s names=%zu timeout_ms=%d", source, names,
	       ADMIN_RESOLVE_MS);
	snprintf(msg, cap,
	         "valid; resolving %zu host name(s), then applied or refused as a whole "
	         "(see /status reload)",
	         names);
	return GP_RELOAD_RESOLVING;
}

/* ---- start / stop ------------------------------------------------------------------------ */

gp_status_t gp_admin_start(gp_proxy_t *p)
{
	gp_metrics_init(&p->metrics, uv_now(p->loop));
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
	return gp_http_start(p, p->cfg->top_http_listen, &a->http);
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
	reload_resolve_abandon(a);
	uv_timer_stop(&a->tick);
	uv_close((uv_handle_t *)&a->tick, on_tick_closed);
}
