/* metrics.c - the Prometheus text of /metrics, from counters kept where state changes. */
#include "ops/metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/admin.h"
#include "session/handoff.h"
#include "ha/vrrp.h"
#include "net/http.h"
#include "net/io_zlib.h"
#include "net/tls.h"
#include "cluster/monitor.h"
#include "codec/myp.h"
#include "core/proxy.h"
#include "session/accounts.h"
#include "session/session.h"

#define GP_METRICS_PREFIX "galera_proxy_"

/* ---- exposition -------------------------------------------------------------------- */

typedef struct mw {
	gp_strbuf_t *o;      /* output */
	const char *name;    /* family name without the prefix */
	const gp_proxy_t *p; /* what is exposed */
} mw_t;

/* Label values are escaped as the text format wants: backslash, quote, newline. */
static void put_label_value(gp_strbuf_t *o, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			gp_strbuf_printf(o, "\\%c", *v);
		else if (*v == '\n')
			gp_strbuf_append(o, "\\n", 2);
		else
			gp_strbuf_append(o, v, 1);
	}
}

/* name{k="v",...} with an optional extra label (le) after the others. */
static void put_series(mw_t *w, const char *suffix, const char *const *lb, size_t nlb,
                       const char *extra_k, const char *extra_v)
{
	gp_strbuf_printf(w->o, GP_METRICS_PREFIX "%s%s", w->name, suffix);
	if (!nlb && !extra_k)
		return;
	gp_strbuf_append(w->o, "{", 1);
	for (size_t i = 0; i + 1 < nlb * 2; i += 2) {
		gp_strbuf_printf(w->o, "%s%s=\"", i ? "," : "", lb[i]);
		put_label_value(w->o, lb[i + 1]);
		gp_strbuf_append(w->o, "\"", 1);
	}
	if (extra_k) {
		gp_strbuf_printf(w->o, "%s%s=\"", nlb ? "," : "", extra_k);
		put_label_value(w->o, extra_v);
		gp_strbuf_append(w->o, "\"", 1);
	}
	gp_strbuf_append(w->o, "}", 1);
}

static void sample_d(mw_t *w, const char *const *lb, size_t nlb, double v)
{
	put_series(w, "", lb, nlb, NULL, NULL);
	if (isnan(v))
		gp_strbuf_append(w->o, " NaN\n", 5);
	else if (isinf(v))
		gp_strbuf_printf(w->o, " %sInf\n", v > 0 ? "+" : "-");
	else
		gp_strbuf_printf(w->o, " %.12g\n", v);
}

static void sample_u(mw_t *w, const char *const *lb, size_t nlb, uint64_t v)
{
	put_series(w, "", lb, nlb, NULL, NULL);
	gp_strbuf_printf(w->o, " %llu\n", (unsigned long long)v);
}

static void sample_hist(mw_t *w, const char *const *lb, size_t nlb, const gp_hist_t *h,
                        gp_hist_kind_t kind)
{
	uint64_t cum = 0;
	char le[32];
	for (size_t i = 0; i < GP_HIST_BUCKETS && gp_hist_bound(kind, i) > 0; i++) {
		cum += h->bucket[i];
		snprintf(le, sizeof(le), "%g", gp_hist_bound(kind, i));
		put_series(w, "_bucket", lb, nlb, "le", le);
		gp_strbuf_printf(w->o, " %llu\n", (unsigned long long)cum);
	}
	put_series(w, "_bucket", lb, nlb, "le", "+Inf");
	gp_strbuf_printf(w->o, " %llu\n", (unsigned long long)h->count);
	put_series(w, "_sum", lb, nlb, NULL, NULL);
	gp_strbuf_printf(w->o, " %.12g\n", h->sum);
	put_series(w, "_count", lb, nlb, NULL, NULL);
	gp_strbuf_printf(w->o, " %llu\n", (unsigned long long)h->count);
}

static const char *bname(const gp_proxy_t *p, size_t i)
{
	return p->backends[i].conf->name;
}

static const gp_probe_t *bprobe(const gp_proxy_t *p, size_t i)
{
	const gp_probe_t *pr = gp_cluster_node(&p->cluster, i)->probe;
	return pr && pr->have_vars ? pr : NULL;
}

/* ---- per-family emitters (the table below says which is which) ---------------------- */

typedef double (*backend_value_fn)(const gp_proxy_t *p, size_t i);

static void emit_backend_gauge(mw_t *w, backend_value_fn fn)
{
	for (size_t i = 0; i < w->p->nbackends; i++) {
		const char *lb[] = {"backend", bname(w->p, i)};
		sample_d(w, lb, 1, fn(w->p, i));
	}
}

static double v_up(const gp_proxy_t *p, size_t i)
{
	return gp_cluster_node(&p->cluster, i)->up;
}

static double v_is_writer(const gp_proxy_t *p, size_t i)
{
	return gp_cluster_writer(&p->cluster) == (int)i;
}

static double v_is_reader(const gp_proxy_t *p, size_t i)
{
	return gp_cluster_decided(&p->cluster) && gp_cluster_out(&p->cluster)->reader_eligible[i];
}

static double v_maintenance(const gp_proxy_t *p, size_t i)
{
	return gp_cluster_node(&p->cluster, i)->maintenance;
}

static double v_priority(const gp_proxy_t *p, size_t i)
{
	return (double)p->backends[i].conf->priority;
}

/* wsrep values: NaN when the node never answered or does not report them (no Galera). */
static double v_local_state(const gp_proxy_t *p, size_t i)
{
	const gp_probe_t *pr = bprobe(p, i);
	return pr && (pr->seen & GP_VAR_LOCAL_STATE) ? pr->local_state : NAN;
}

static double v_cluster_size(const gp_proxy_t *p, size_t i)
{
	const gp_probe_t *pr = bprobe(p, i);
	return pr && (pr->seen & GP_VAR_CLUSTER_SIZE) ? pr->cluster_size : NAN;
}

static double v_recv_queue(const gp_proxy_t *p, size_t i)
{
	const gp_probe_t *pr = bprobe(p, i);
	return pr && (pr->seen & GP_VAR_RECV_QUEUE) ? (double)pr->recv_queue : NAN;
}

static double v_hs_slots(const gp_proxy_t *p, size_t i)
{
	return p->backends[i].hs_slots;
}

static double v_hs_queued(const gp_proxy_t *p, size_t i)
{
	return p->backends[i].hs_queued;
}

static double v_parked(const gp_proxy_t *p, size_t i)
{
	return p->backends[i].parked;
}

static void emit_park_events(mw_t *w)
{
	static const char *const names[] = {"parked", "reused", "finished", "dropped", "warmed"};
	for (size_t i = 0; i < w->p->nbackends; i++) {
		for (size_t e = 0; e < sizeof(names) / sizeof(names[0]); e++) {
			const char *lb[] = {"backend", bname(w->p, i), "event", names[e]};
			sample_u(w, lb, 2, w->p->backends[i].park_events[e]);
		}
	}
}

static void emit_deferred(mw_t *w)
{
	for (size_t i = 0; i < w->p->nbackends; i++) {
		const char *lb[] = {"backend", bname(w->p, i)};
		sample_u(w, lb, 1, w->p->backends[i].deferred);
	}
}

static void emit_build_info(mw_t *w)
{
	const char *lb[] = {"version", GP_VERSION};
	sample_u(w, lb, 1, 1);
}

static void emit_start_time(mw_t *w)
{
	sample_d(w, NULL, 0, (double)w->p->metrics->start_unix_ms / 1000.0);
}

static void emit_config_version(mw_t *w)
{
	sample_u(w, NULL, 0, w->p->admin ? w->p->admin->config_version : 1);
}

static void emit_reloads(mw_t *w)
{
	const gp_admin_t *a = w->p->admin;
	const char *ok[] = {"result", "success"}, *bad[] = {"result", "failure"};
	sample_u(w, ok, 1, a ? a->reloads_ok : 0);
	sample_u(w, bad, 1, a ? a->reloads_failed : 0);
}

static void emit_last_reload_ok(mw_t *w)
{
	const gp_admin_t *a = w->p->admin;
	sample_u(w, NULL, 0, !a || a->last_reload_ok || !a->last_reload_unix_ms);
}

static void emit_vrrp(mw_t *w)
{
	gp_vrrp_state_t cur = w->p->vrrp->effective;
	for (int s = 0; s < GP_VRRP__COUNT; s++) {
		const char *lb[] = {"state", gp_vrrp_state_name((gp_vrrp_state_t)s)};
		sample_u(w, lb, 1, s == (int)cur);
	}
}

static void emit_listener_up(mw_t *w)
{
	for (int ep = 0; ep < GP_EP__COUNT; ep++) {
		const char *lb[] = {"endpoint", gp_endpoint_name((gp_endpoint_t)ep)};
		sample_u(w, lb, 1, w->p->listening[ep]);
	}
}

static void emit_has_writer(mw_t *w)
{
	sample_u(w, NULL, 0, gp_cluster_writer(&w->p->cluster) >= 0);
}

static void emit_no_writer(mw_t *w)
{
	sample_d(w, NULL, 0, gp_cluster_no_writer_seconds(&w->p->cluster));
}

static void emit_no_writer_total(mw_t *w)
{
	double s = (double)gp_cluster_stats(&w->p->cluster)->no_writer_ms_total / 1000.0;
	sample_d(w, NULL, 0, s + gp_cluster_no_writer_seconds(&w->p->cluster));
}

static void emit_writer_changes(mw_t *w)
{
	for (int r = 0; r < GP_REASON_COUNT; r++) {
		const char *lb[] = {"reason", gp_reason_name((gp_reason_t)r)};
		sample_u(w, lb, 1, gp_cluster_stats(&w->p->cluster)->writer_changes[r]);
	}
}

static void emit_failover(mw_t *w)
{
	sample_hist(w, NULL, 0, &gp_cluster_stats(&w->p->cluster)->failover, GP_HIST_FAILOVER);
}

static void emit_last_change(mw_t *w)
{
	for (int ph = 0; ph < GP_TL__COUNT; ph++) {
		const char *lb[] = {"phase", gp_tl_phase_name((gp_tl_phase_t)ph)};
		sample_d(w, lb, 1,
		         gp_tl_phase_s(gp_cluster_last_change(&w->p->cluster), (gp_tl_phase_t)ph));
	}
}

static void emit_change_gap(mw_t *w)
{
	sample_hist(w, NULL, 0, &gp_cluster_stats(&w->p->cluster)->change_gap, GP_HIST_GAP);
}

static void emit_backend_state(mw_t *w)
{
	const gp_proxy_t *p = w->p;
	for (size_t i = 0; i < p->nbackends; i++) {
		int cur = gp_cluster_decided(&p->cluster)
		                  ? (int)gp_cluster_out(&p->cluster)->state[i]
		                  : -1;
		for (int s = 0; s < GP_NODE_STATE_COUNT; s++) {
			const char *lb[] = {"backend", bname(p, i), "state",
			                    gp_node_state_name((gp_node_state_t)s)};
			sample_u(w, lb, 2, s == cur);
		}
		const char *lb[] = {"backend", bname(p, i), "state", "unknown"};
		sample_u(w, lb, 2, cur < 0);
	}
}

static void emit_probe_duration(mw_t *w)
{
	for (size_t i = 0; i < w->p->nbackends; i++) {
		const char *lb[] = {"backend", bname(w->p, i)};
		sample_hist(w, lb, 1, &gp_cluster_stats(&w->p->cluster)->probe[i], GP_HIST_PROBE);
	}
}

static void emit_probe_failures(mw_t *w)
{
	for (size_t i = 0; i < w->p->nbackends; i++) {
		for (int e = GP_PROBE_OK + 1; e < GP_PROBE_ERR_COUNT; e++) {
			const char *lb[] = {"backend", bname(w->p, i), "reason",
			                    gp_probe_err_name((gp_probe_err_t)e)};
			sample_u(w, lb, 2, gp_cluster_stats(&w->p->cluster)->probe_failures[i][e]);
		}
	}
}

static void emit_backend_sessions(mw_t *w)
{
	for (size_t i = 0; i < w->p->nbackends; i++) {
		const gp_backend_t *b = &w->p->backends[i];
		const char *rw[] = {"backend", bname(w->p, i), "endpoint", "rw"};
		const char *ro[] = {"backend", bname(w->p, i), "endpoint", "ro"};
		sample_u(w, rw, 2, b->sessions_rw);
		sample_u(w, ro, 2, b->sessions - b->sessions_rw);
	}
}

static void emit_connect_failures(mw_t *w)
{
	for (size_t i = 0; i < w->p->nbackends; i++) {
		const char *lb[] = {"backend", bname(w->p, i)};
		sample_u(w, lb, 1, w->p->backends[i].connect_failures);
	}
}

static void emit_backend_evictions(mw_t *w)
{
	for (size_t i = 0; i < w->p->nbackends; i++) {
		const char *lb[] = {"backend", bname(w->p, i)};
		sample_u(w, lb, 1, gp_cluster_node_evictions(&w->p->cluster, i));
	}
}

static void emit_evictions(mw_t *w)
{
	uint64_t n = gp_cluster_stats(&w->p->cluster)->evictions_gone;
	for (size_t i = 0; i < w->p->nbackends; i++)
		n += gp_cluster_node_evictions(&w->p->cluster, i);
	sample_u(w, NULL, 0, n);
}

static void emit_accounts(mw_t *w)
{
	sample_u(w, NULL, 0, gp_accounts_count(w->p->acct));
}

static void emit_accounts_state(mw_t *w)
{
	gp_accounts_state_t now = gp_accounts_state(w->p->acct);
	for (int s = 0; s < GP_ACCOUNTS__COUNT; s++) {
		const char *lb[] = {"state", gp_accounts_state_name((gp_accounts_state_t)s)};
		sample_u(w, lb, 1, s == (int)now);
	}
}

static void emit_accounts_reads(mw_t *w)
{
	const gp_accounts_stats_t *st = gp_accounts_stats(w->p->acct);
	for (int s = GP_ACCOUNTS_OK; s < GP_ACCOUNTS__COUNT; s++) {
		const char *lb[] = {"result", gp_accounts_state_name((gp_accounts_state_t)s)};
		sample_u(w, lb, 1, st->reads[s]);
	}
}

static void emit_accounts_unknown(mw_t *w)
{
	sample_u(w, NULL, 0, gp_accounts_stats(w->p->acct)->unknown_user_reads);
}

static void emit_auth_logins(mw_t *w)
{
	const gp_accounts_stats_t *st = gp_accounts_stats(w->p->acct);
	for (int r = 0; r < GP_LEARN__COUNT; r++) {
		const char *lb[] = {"result", gp_learn_result_name((gp_learn_result_t)r)};
		sample_u(w, lb, 1, st->learn[r]);
	}
}

static void emit_auth_learned(mw_t *w)
{
	sample_u(w, NULL, 0, gp_accounts_stats(w->p->acct)->learned_now);
}

static void emit_auth_dropped(mw_t *w)
{
	sample_u(w, NULL, 0, gp_accounts_stats(w->p->acct)->dropped);
}

static void emit_eviction_failures(mw_t *w)
{
	sample_u(w, NULL, 0, gp_cluster_eviction_failures(&w->p->cluster));
}

static void emit_accepted(mw_t *w)
{
	sample_u(w, NULL, 0, w->p->stats.accepted);
}

static void emit_rejected(mw_t *w)
{
	const gp_stats_t *s = &w->p->stats;
	const char *lim[] = {"reason", "max_connections"}, *nb[] = {"reason", "no_backend"},
	           *sd[] = {"reason", "shutdown"};
	sample_u(w, lim, 1, s->rejected_limit);
	sample_u(w, nb, 1, s->rejected_other);
	sample_u(w, sd, 1, s->rejected_shutdown);
}

static void emit_closed(mw_t *w)
{
	const gp_metrics_t *m = w->p->metrics;
	for (int i = 0; i < GP_CLOSE__COUNT; i++) {
		const char *lb[] = {"reason", gp_close_name((gp_close_t)i)};
		sample_u(w, lb, 1, m->closed[i]);
	}
	const char *lb[] = {"reason", "other"}; /* always 0 now; kept for existing queries */
	sample_u(w, lb, 1, 0);
}

static void emit_active(mw_t *w)
{
	sample_u(w, NULL, 0, w->p->nclients);
}

static void emit_sessions(mw_t *w)
{
	for (int st = 0; st < GP_SS__COUNT; st++) {
		const char *lb[] = {"state", gp_session_state_name((gp_session_state_t)st)};
		sample_u(w, lb, 1, w->p->nstate[st]);
	}
}

static void emit_commands(mw_t *w)
{
	/* Always present, so that rate() has a series from the start. */
	static const uint8_t common[] = {MYP_COM_QUERY, MYP_COM_STMT_PREPARE, MYP_COM_STMT_EXECUTE,
	                                 MYP_COM_PING,  MYP_COM_INIT_DB,      MYP_COM_QUIT};
	for (int ep = 0; ep < GP_EP__COUNT; ep++) {
		for (int c = 0; c < 256; c++) {
			uint64_t n = w->p->metrics->commands[ep][c];
			bool show = n > 0;
			for (size_t k = 0; k < sizeof(common) && !show; k++)
				show = common[k] == c;
			if (!show)
				continue;
			const char *lb[] = {"endpoint", gp_endpoint_name((gp_endpoint_t)ep),
			                    "command", myp_cmd_name((uint8_t)c)};
			sample_u(w, lb, 2, n);
		}
	}
}

static void emit_bytes_in(mw_t *w)
{
	sample_u(w, NULL, 0, w->p->stats.bytes_in);
}

static void emit_bytes_out(mw_t *w)
{
	sample_u(w, NULL, 0, w->p->stats.bytes_out);
}

/* Compressed clients: the frames on the wire and the packets' bytes inside them. */
static void emit_zbytes(mw_t *w, uint64_t in, uint64_t out)
{
	const char *lin[] = {"direction", "in"}, *lout[] = {"direction", "out"};
	sample_u(w, lin, 1, in);
	sample_u(w, lout, 1, out);
}

static void emit_zwire(mw_t *w)
{
	emit_zbytes(w, gp_zio_stats()->wire_in, gp_zio_stats()->wire_out);
}

static void emit_zpayload(mw_t *w)
{
	emit_zbytes(w, gp_zio_stats()->plain_in, gp_zio_stats()->plain_out);
}

static void emit_zactive(mw_t *w)
{
	sample_u(w, NULL, 0, gp_zio_stats()->active);
}

static void emit_zstarted(mw_t *w)
{
	sample_u(w, NULL, 0, gp_zio_stats()->started);
}

static void emit_zfailed(mw_t *w)
{
	sample_u(w, NULL, 0, gp_zio_stats()->failed);
}

/* TLS clients: SSL requests, finished and resumed handshakes, failures, plain refusals. */
static void emit_tls(mw_t *w)
{
	const gp_stats_t *st = &w->p->stats;
	const char *ls[] = {"outcome", "started"}, *lh[] = {"outcome", "established"},
	           *lr[] = {"outcome", "resumed"}, *lf[] = {"outcome", "failed"},
	           *lp[] = {"outcome", "plain_refused"};
	sample_u(w, ls, 1, st->tls_started);
	sample_u(w, lh, 1, st->tls_handshakes);
	sample_u(w, lr, 1, st->tls_resumed);
	sample_u(w, lf, 1, st->tls_failed);
	sample_u(w, lp, 1, st->tls_refused_plain);
}

/* TLS to the nodes (tls.backend): SSL requests sent, handshakes done and resumed, failed
 * handshakes, greetings that offered no TLS. */
static void emit_btls(mw_t *w)
{
	const gp_stats_t *st = &w->p->stats;
	const char *ls[] = {"outcome", "started"}, *lh[] = {"outcome", "established"},
	           *lr[] = {"outcome", "resumed"}, *lf[] = {"outcome", "failed"},
	           *lu[] = {"outcome", "unsupported"};
	sample_u(w, ls, 1, st->btls_started);
	sample_u(w, lh, 1, st->btls_handshakes);
	sample_u(w, lr, 1, st->btls_resumed);
	sample_u(w, lf, 1, st->btls_failed);
	sample_u(w, lu, 1, st->btls_unsupported);
}

/* The certificate new TLS clients get: its notAfter; 0 without tls (a sample all the same,
 * so that queries and the alert find the series; the alert skips 0). */
static void emit_tls_expiry(mw_t *w)
{
	int64_t t = w->p->tls ? gp_tls_ctx_not_after(w->p->tls) : 0;
	sample_d(w, NULL, 0, t > 0 ? (double)t : 0.0);
}

static void emit_err_packets(mw_t *w)
{
	sample_u(w, NULL, 0, w->p->stats.err_packets);
}

static void emit_request_duration(mw_t *w)
{
	for (int ep = 0; ep < GP_EP__COUNT; ep++) {
		const char *lb[] = {"endpoint", gp_endpoint_name((gp_endpoint_t)ep)};
		sample_hist(w, lb, 1, &w->p->metrics->request[ep], GP_HIST_REQUEST);
	}
}

static void emit_drained(mw_t *w)
{
	sample_u(w, NULL, 0, w->p->metrics->sessions_drained);
}

static void emit_killed(mw_t *w)
{
	sample_u(w, NULL, 0, w->p->metrics->sessions_killed);
}

static void emit_moved(mw_t *w)
{
	for (int planned = 1; planned >= 0; planned--) {
		const char *lb[] = {"reason", planned ? "planned" : "loss"};
		sample_u(w, lb, 1, w->p->metrics->moved[planned]);
	}
}

static void emit_move_failed(mw_t *w)
{
	sample_u(w, NULL, 0, w->p->metrics->move_failed);
}

static void emit_move_time(mw_t *w)
{
	sample_hist(w, NULL, 0, &w->p->metrics->move_time, GP_HIST_REQUEST);
}

static void emit_movable(mw_t *w)
{
	sample_u(w, NULL, 0, w->p->sessions_movable);
}

/* Every named reason, from the start (a series for rate() and alerts); a session with two
 * reasons counts under both. */
static void emit_not_movable(mw_t *w)
{
	for (uint32_t b = 0; b < GP_UNMOV_BITS; b++) {
		const char *name = gp_session_unmov_name(1u << b);
		if (strcmp(name, "unknown") == 0 && w->p->sessions_not_movable[b] == 0)
			continue;
		const char *lb[] = {"reason", name};
		sample_u(w, lb, 1, w->p->sessions_not_movable[b]);
	}
}

static void http_count_cb(void *arg, const char *handler, int code, uint64_t n)
{
	char c[8];
	snprintf(c, sizeof(c), "%d", code);
	const char *lb[] = {"handler", handler, "code", c};
	sample_u(arg, lb, 2, n);
}

static void emit_http_requests(mw_t *w)
{
	if (w->p->admin && w->p->admin->http)
		gp_http_each_count(w->p->admin->http, http_count_cb, w);
}

/* HTTPS handshakes on http_listen (http_tls); zero samples without it, so the series exist. */
static void emit_http_tls(mw_t *w)
{
	uint64_t ok = 0, failed = 0;
	if (w->p->admin && w->p->admin->http)
		gp_http_tls_counts(w->p->admin->http, &ok, &failed);
	const char *le[] = {"outcome", "established"}, *lf[] = {"outcome", "failed"};
	sample_u(w, le, 1, ok);
	sample_u(w, lf, 1, failed);
}

/* ---- the table ------------------------------------------------------------------------ */

#include "ops/metrics_table.h" /* GP_METRICS_TABLE: every family, in output order */

typedef struct family {
	const char *name;       /* without the prefix */
	const char *type;       /* gauge, counter, histogram */
	const char *help;       /* HELP text */
	void (*emit)(mw_t *w);  /* samples, or NULL for a per-backend gauge */
	backend_value_fn value; /* the per-backend gauge's value */
} family_t;

static const family_t families[] = {
#define GP_METRICS_FAMILY(name, type, help, emit, value) {name, type, help, emit, value},
        GP_METRICS_TABLE(GP_METRICS_FAMILY)
#undef GP_METRICS_FAMILY
};

void gp_metrics_write(const gp_proxy_t *p, gp_strbuf_t *out)
{
	mw_t w = {.o = out, .p = p};
	for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
		const family_t *fam = &families[f];
		gp_strbuf_printf(out, "# HELP " GP_METRICS_PREFIX "%s %s.\n", fam->name, fam->help);
		gp_strbuf_printf(out, "# TYPE " GP_METRICS_PREFIX "%s %s\n", fam->name, fam->type);
		w.name = fam->name;
		if (fam->emit)
			fam->emit(&w);
		else
			emit_backend_gauge(&w, fam->value);
	}
}
