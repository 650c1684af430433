/* status.c - the operator's view of the proxy: /health, the /status document. */
#include "ops/status.h"
#include "ops/admin.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cluster/cluster.h"
#include "ha/vrrp.h"
#include "ops/metrics.h"
#include "session/accounts.h"
#include "session/session.h"

/* RFC 3339 UTC with milliseconds, e.g. 2024-05-01T12:00:00.123Z */
static json_t *status_time_json(int64_t unix_ms)
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

int gp_status_health(const gp_proxy_t *p, char *msg, size_t cap)
{
	if (p->shutting_down || p->vrrp->leaving) {
		snprintf(msg, cap, "unavailable: shutting down");
		return 503;
	}
	if (!p->listening[GP_EP_RW]) {
		snprintf(msg, cap, "unavailable: listener down");
		return 503;
	}
	if (gp_cluster_writer(&p->cluster) < 0) {
		snprintf(msg, cap, "unavailable: no writer (%s)",
		         gp_cluster_decided(&p->cluster) ? gp_cluster_out(&p->cluster)->reason_text
		                                         : "no probe finished yet");
		return 503;
	}
	snprintf(msg, cap, "ok: writer %s", p->backends[gp_cluster_writer(&p->cluster)].conf->name);
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
	const gp_probe_t *pr = gp_cluster_node(&p->cluster, (size_t)i)->probe;
	const gp_probe_t *v = pr && pr->have_vars ? pr : NULL;
	const char *role =
	        gp_cluster_writer(&p->cluster) == (int)i ? "writer"
	        : gp_cluster_decided(&p->cluster) && gp_cluster_out(&p->cluster)->reader_eligible[i]
	                ? "reader"
	                : "none";
	json_t *o = json_pack("{s:s,s:s,s:I,s:s,s:s,s:s,s:b,s:b,s:b,s:I,s:I,s:I}", "name",
	                      b->conf->name, "address", b->conf->address, "priority",
	                      (json_int_t)b->conf->priority, "state",
	                      gp_cluster_decided(&p->cluster)
	                              ? gp_node_state_name(gp_cluster_out(&p->cluster)->state[i])
	                              : "unknown",
	                      "reason",
	                      gp_cluster_decided(&p->cluster)
	                              ? gp_reason_name(gp_cluster_out(&p->cluster)->why[i])
	                              : "no_data",
	                      "role", role, "up", gp_cluster_node(&p->cluster, (size_t)i)->up,
	                      "maintenance", gp_cluster_node(&p->cluster, (size_t)i)->maintenance,
	                      "draining", p->admin && p->admin->drain_deadline[i] != 0, "sessions",
	                      (json_int_t)b->sessions, "sessions_rw", (json_int_t)b->sessions_rw,
	                      "connect_failures", (json_int_t)b->connect_failures);
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
	json_object_set_new(o, "session_track", v ? json_boolean(gp_probe_tracks(v)) : json_null());
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

/* Ready sessions movable, and not movable by reason (every named reason, 0s included). */
static json_t *status_movable_json(const gp_proxy_t *p)
{
	json_t *by = json_object();
	for (uint32_t b = 0; b < GP_UNMOV_BITS; b++) {
		const char *name = gp_session_unmov_name(1u << b);
		if (strcmp(name, "unknown") != 0 || p->sessions_not_movable[b])
			json_object_set_new(by, name,
			                    json_integer((json_int_t)p->sessions_not_movable[b]));
	}
	return json_pack("{s:I,s:o}", "movable", (json_int_t)p->sessions_movable, "not_movable",
	                 by);
}

json_t *gp_status_document(const gp_proxy_t *p)
{
	const gp_admin_t *a = p->admin;
	const gp_metrics_t *m = p->metrics;
	char health[300];
	int hcode = gp_status_health(p, health, sizeof(health));
	json_t *o = json_object();
	if (!o)
		return NULL;
	const char *w = gp_admin_writer_name(p);
	json_object_set_new(o, "version", json_string(GP_VERSION));
	json_object_set_new(o, "writer", w ? json_string(w) : json_null());
	json_object_set_new(o, "proxy", json_string(p->vrrp->name));
	json_object_set_new(o, "vrrp_state", json_string(gp_vrrp_state_name(p->vrrp->effective)));
	json_object_set_new(o, "vrrp_notified", json_string(gp_vrrp_state_name(p->vrrp->notified)));
	json_object_set_new(o, "vip_present",
	                    p->vrrp->vip_present < 0 ? json_null()
	                                             : json_boolean(p->vrrp->vip_present));
	json_object_set_new(o, "fenced", json_boolean(p->vrrp->fenced));
	json_object_set_new(
	        o, "peer",
	        !p->vrrp->view.valid
	                ? json_null()
	                : json_pack("{s:s, s:s, s:s?}", "proxy", p->vrrp->view.name, "vrrp_state",
	                            gp_vrrp_state_name(p->vrrp->view.state), "writer",
	                            p->vrrp->view.writer[0] ? p->vrrp->view.writer : NULL));
	json_object_set_new(o, "config_version", json_integer((json_int_t)a->config_version));
	json_object_set_new(o, "healthy", json_boolean(hcode == 200));
	json_object_set_new(o, "health", json_string(health));
	json_object_set_new(o, "decided", json_boolean(gp_cluster_decided(&p->cluster)));
	json_object_set_new(o, "standalone_mode",
	                    json_boolean(gp_cluster_decided(&p->cluster) &&
	                                 gp_cluster_out(&p->cluster)->standalone_mode));
	json_object_set_new(
	        o, "barrier_from",
	        gp_cluster_barrier_from(&p->cluster) >= 0
	                ? json_string(p->backends[gp_cluster_barrier_from(&p->cluster)].conf->name)
	                : json_null());
	json_object_set_new(o, "no_writer_seconds",
	                    json_real(gp_cluster_no_writer_seconds(&p->cluster)));
	json_object_set_new(o, "writer_changes",
	                    json_integer((json_int_t)gp_cluster_writer_changes(&p->cluster)));
	json_object_set_new(o, "started_at", status_time_json(m->start_unix_ms));
	const gp_cluster_stats_t *cs = gp_cluster_stats(&p->cluster);
	if (cs->last_change_unix_ms) {
		json_object_set_new(o, "last_change",
		                    json_pack("{s:o,s:s?,s:s?,s:s,s:s}", "at",
		                              status_time_json(cs->last_change_unix_ms), "from",
		                              cs->last_from[0] ? cs->last_from : NULL, "to",
		                              cs->last_to[0] ? cs->last_to : NULL, "reason",
		                              gp_reason_name(cs->last_reason), "detail",
		                              cs->last_detail));
	} else {
		json_object_set_new(o, "last_change", json_null());
	}
	json_object_set_new(o, "last_change_timeline", gp_cluster_timeline_json(&p->cluster));
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
	                  "last_at", status_time_json(a->last_reload_unix_ms), "last_error",
	                  a->last_reload_error[0] ? a->last_reload_error : NULL, "pending",
	                  a->pending != NULL, "resolving", a->resolving != NULL));
	const gp_accounts_stats_t *as = gp_accounts_stats(p->acct);
	json_object_set_new(o, "auth",
	                    json_pack("{s:s,s:I,s:I,s:I}", "accounts_state",
	                              gp_accounts_state_name(gp_accounts_state(p->acct)),
	                              "accounts", (json_int_t)gp_accounts_count(p->acct),
	                              "sessions_learned", (json_int_t)as->learned_now,
	                              "secrets_dropped", (json_int_t)as->dropped));
	json_object_set_new(o, "session_state", status_movable_json(p));
	json_t *bs = json_array();
	for (size_t i = 0; i < p->nbackends; i++)
		json_array_append_new(bs, admin_backend_json(p, i));
	json_object_set_new(o, "backends", bs);
	return o;
}
