/* reload.c - configuration reloads: validate, resolve, wait for removed backends, swap in. */
#include "ops/reload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "cluster/cluster.h"
#include "cluster/monitor.h"
#include "net/resolve.h"
#include "net/tls.h"
#include "ops/admin.h"
#include "session/accounts.h"
#include "session/session.h"

#define RELOAD_RESOLVE_MS 10000 /* a reload's host names must resolve within this */

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
	       RELOAD_DIFF_STR(o->eviction_password, n->eviction_password) ||
	       RELOAD_DIFF_STR(o->tls_backend, n->tls_backend) || /* the monitor's TLS */
	       RELOAD_DIFF_STR(o->tls_backend_ca, n->tls_backend_ca) ||
	       RELOAD_DIFF_STR(o->tls_backend_cert, n->tls_backend_cert) ||
	       RELOAD_DIFF_STR(o->tls_backend_key, n->tls_backend_key);
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

static bool reload_not_on(gp_list_t *link, void *arg)
{
	return gp_session_of(link)->backend != *(const int *)arg;
}

/* A removed backend that sessions still point at (connecting, open, or counted on it). */
static bool reload_busy(const gp_proxy_t *p, int b)
{
	if (p->backends[b].sessions)
		return true;
	return gp_proxy_each_session(p, GP_SS_FROM(GP_SS_CONNECTING), reload_not_on, &b) != NULL;
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
	a->last_reload_unix_ms = gp_wall_ms();
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
			gp_cluster_set_maintenance(&p->cluster, i, false);
			any = true;
		}
		a->pending_maint[i] = false;
	}
	if (any && gp_cluster_decided(&p->cluster))
		gp_cluster_decide(&p->cluster);
}

typedef struct reload_map_walk {
	const int *map; /* map[old] = new index or -1 */
	size_t nold;    /* entries of map */
} reload_map_walk_t;

static bool reload_remap_one(gp_list_t *link, void *arg)
{
	const reload_map_walk_t *w = arg;
	gp_session_t *s = gp_session_of(link);
	uint32_t tried = 0;
	s->backend = reload_index(w->map, w->nold, s->backend);
	for (size_t i = 0; i < w->nold; i++)
		if ((s->tried & (1u << i)) && w->map[i] >= 0)
			tried |= 1u << w->map[i];
	s->tried = tried;
	return true;
}

/* Sessions keep their backends under the new indexes (tried masks too). */
static void reload_remap_sessions(gp_proxy_t *p, const int *map, size_t nold)
{
	reload_map_walk_t w = {map, nold};
	gp_proxy_each_session(p, GP_SS_ALL, reload_remap_one, &w);
}

/* The admin's drain watches follow their backends to the new indexes. */
static void reload_remap_drains(gp_proxy_t *p, const int *map, size_t nold)
{
	gp_admin_t *a = p->admin;
	uint64_t dd[GP_MAX_BACKENDS] = {0}, ds[GP_MAX_BACKENDS] = {0};
	for (size_t i = 0; i < nold; i++) {
		int j = map[i];
		if (j < 0)
			continue;
		dd[j] = a->drain_deadline[i];
		ds[j] = a->drain_started[i];
	}
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

	/* Everything that can fail comes first; every address was resolved before. The TLS
	 * context is built anew each time: a renewed certificate keeps its path. */
	struct gp_tls_ctx *tls = NULL, *btls = NULL;
	if (gp_session_tls_build(nw, &tls, msg, cap) != GP_OK)
		return GP_ECONFIG;
	if (gp_session_btls_build(nw, &btls, msg, cap) != GP_OK) {
		gp_tls_ctx_unref(tls);
		return GP_ECONFIG;
	}
	memset(nb, 0, sizeof(nb));
	for (size_t j = 0; j < nw->nbackends; j++) {
		nb[j].conf = &nw->backends[j];
		nb[j].last_error = GP_OK;
		nb[j].addr = nw->backends[j].addr;
	}
	gp_monitor_t *m = NULL;
	if (restart && gp_cluster_monitor_new(&p->cluster, nw, &m) != GP_OK) {
		gp_tls_ctx_unref(tls);
		gp_tls_ctx_unref(btls);
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
	reload_remap_drains(p, map, nold);
	memcpy(p->backends, nb, sizeof(nb));
	p->nbackends = nw->nbackends;
	p->cfg = nw;
	gp_tls_ctx_unref(p->tls); /* open TLS sessions keep theirs: new clients get the new one */
	p->tls = tls;
	gp_tls_ctx_unref(p->btls); /* new backend legs (and the monitor, restarted) use btls */
	p->btls = btls;
	int lvl = gp_log_level_parse(nw->top_log_level);
	if (lvl >= 0)
		gp_log_min_level = (gp_log_level_t)lvl;
	gp_cluster_reload(&p->cluster, nw, map, nold, restart ? m : NULL);
	gp_accounts_reload(p->acct, nw);
	gp_config_free(old);
	a->config_version++;
	a->reloads_ok++;
	a->last_reload_ok = true;
	a->last_reload_unix_ms = gp_wall_ms();
	a->last_reload_error[0] = '\0';
	gp_log(GP_LOG_INFO, "reload_done",
	       "source=%s config_version=%llu backends=%zu added=%s removed=%s changed=%s "
	       "monitor_restarted=%d writer=%s",
	       source, (unsigned long long)a->config_version, p->nbackends, added[0] ? added : "-",
	       removed[0] ? removed : "-", changed[0] ? changed : "-", restart,
	       gp_admin_writer_name(p) ? gp_admin_writer_name(p) : "none");
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
void gp_reload_abandon(gp_admin_t *a)
{
	gp_resolve_cancel(a->resolving);
	a->resolving = NULL;
	gp_config_free(a->resolving_cfg);
	a->resolving_cfg = NULL;
}

void gp_reload_tick(gp_proxy_t *p, uint64_t now)
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
		         RELOAD_RESOLVE_MS);
		gp_reload_abandon(a);
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
		if (map[i] >= 0 || gp_cluster_node(&p->cluster, (size_t)i)->maintenance)
			continue;
		gp_cluster_set_maintenance(&p->cluster, i, true);
		a->pending_maint[i] = true;
	}
	if (gp_cluster_decided(&p->cluster))
		gp_cluster_decide(&p->cluster);
	for (size_t i = 0; i < p->nbackends; i++) {
		if (map[i] >= 0)
			continue;
		unsigned n = gp_admin_drain_sessions(p, (int)i, GP_CLOSE_BACKEND_REMOVED);
		asked += n;
		if (n)
			gp_admin_watch_drain(p, (int)i, "reload", n);
	}
	if (!reload_any_busy(p, map))
		return reload_finish(p, nw, source, msg, cap);
	a->pending = nw;
	a->pending_deadline =
	        uv_now(p->loop) + (uint64_t)p->cfg->routing_drain_timeout_ms + GP_ADMIN_GRACE_MS;
	gp_admin_tick_on(a);
	gp_log(GP_LOG_INFO, "reload_pending", "source=%s sessions=%u timeout_ms=%lld", source,
	       asked, (long long)(p->cfg->routing_drain_timeout_ms + GP_ADMIN_GRACE_MS));
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
	a->resolve_deadline = uv_now(p->loop) + RELOAD_RESOLVE_MS;
	snprintf(a->resolving_source, sizeof(a->resolving_source), "%s", source);
	gp_admin_tick_on(a);
	gp_log(GP_LOG_INFO, "reload_resolving", "source=%s names=%zu timeout_ms=%d", source, names,
	       RELOAD_RESOLVE_MS);
	snprintf(msg, cap,
	         "valid; resolving %zu host name(s), then applied or refused as a whole "
	         "(see /status reload)",
	         names);
	return GP_RELOAD_RESOLVING;
}
