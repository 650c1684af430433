/* cluster.c - the proxy's live view of the cluster: probes in, writer changes and drains out. */
#include "cluster/cluster.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cluster/monitor.h"
#include "session/session.h"

/* Sessions on a node in one of these states cannot finish anything: close them at once. */
static bool cluster_node_dead(gp_node_state_t st)
{
	return st == GP_NODE_DOWN || st == GP_NODE_NON_PRIMARY;
}

static const char *cluster_name(const gp_proxy_t *p, int b)
{
	return b >= 0 ? p->backends[b].conf->name : "none";
}

typedef void (*cluster_session_fn)(gp_proxy_t *p, gp_session_t *s, gp_close_t why);

/* Apply fn to every live session on backend b (any endpoint when ep < 0). */
static void cluster_each_session(gp_proxy_t *p, int b, int ep, cluster_session_fn fn,
                                 gp_close_t why)
{
	gp_list_t *pos, *tmp;
	for (int st = GP_SS_CONNECTING; st < GP_SS_CLOSING; st++) {
		gp_list_each_safe(pos, tmp, &p->sessions[st])
		{
			gp_session_t *s = gp_container_of(pos, gp_session_t, link);
			if (s->backend == b && s->on_backend && (ep < 0 || (int)s->endpoint == ep))
				fn(p, s, why);
		}
	}
}

static void cluster_close_fn(gp_proxy_t *p, gp_session_t *s, gp_close_t why)
{
	(void)p;
	gp_session_close(s, why);
}

static void cluster_drain_fn(gp_proxy_t *p, gp_session_t *s, gp_close_t why)
{
	uint64_t deadline = uv_now(p->loop) + (uint64_t)p->cfg->routing_drain_timeout_ms;
	gp_session_drain(s, deadline, why);
}

static void cluster_drain_now_fn(gp_proxy_t *p, gp_session_t *s, gp_close_t why)
{
	gp_session_drain(s, uv_now(p->loop), why);
}

static void cluster_wake_waiting(gp_proxy_t *p)
{
	gp_list_t *pos, *tmp;
	gp_list_each_safe(pos, tmp, &p->sessions[GP_SS_WAITING])
	{
		gp_session_wake(gp_container_of(pos, gp_session_t, link));
	}
}

static void on_writer_synced(void *arg, bool ok, unsigned code, const char *msg);

/* The new writer has applied every write set committed before this moment: nothing the
 * old writer acknowledged can still be in its apply queue, where it would conflict with
 * (BF-abort, fail certification of) the first transactions it takes. */
#define GP_SYNC_SQL "SET STATEMENT wsrep_sync_wait=1 FOR SELECT 1"

static void cluster_barrier_end(gp_proxy_t *p, const char *how)
{
	if (p->barrier_from < 0)
		return;
	gp_log(GP_LOG_INFO, "barrier_end", "from=%s to=%s how=%s",
	       p->backends[p->barrier_from].conf->name,
	       p->writer >= 0 ? p->backends[p->writer].conf->name : "none", how);
	p->barrier_from = -1;
	uv_timer_stop(&p->barrier_timer);
	uint32_t gen = ++p->sync_gen;
	if (p->writer >= 0 && !p->gout.standalone_mode && p->monitor &&
	    gp_monitor_exec(p->monitor, (size_t)p->writer, GP_SYNC_SQL, on_writer_synced,
	                    (void *)(uintptr_t)gen) == GP_OK) {
		p->syncing = true;
		p->sync_started = uv_now(p->loop);
		return;
	}
	cluster_wake_waiting(p);
}

static gp_proxy_t *sync_proxy; /* the one proxy (callbacks carry the generation) */

static void on_writer_synced(void *arg, bool ok, unsigned code, const char *msg)
{
	gp_proxy_t *p = sync_proxy;
	if (!p || (uint32_t)(uintptr_t)arg != p->sync_gen || !p->syncing)
		return; /* a later switch took over */
	p->syncing = false;
	gp_log(ok ? GP_LOG_INFO : GP_LOG_WARN, "writer_synced",
	       "writer=%s ok=%d ms=%llu code=%u%s%s", cluster_name(p, p->writer), ok,
	       (unsigned long long)(uv_now(p->loop) - p->sync_started), code,
	       ok ? "" : " error=", ok ? "" : "see_monitor_log");
	(void)msg;
	cluster_wake_waiting(p);
}

static void on_barrier_timeout(uv_timer_t *t)
{
	gp_proxy_t *p = t->data;
	int b = p->barrier_from;
	if (b < 0)
		return;
	uint32_t open, unknown;
	gp_session_txn_count(p, b, GP_EP_RW, &open, &unknown);
	gp_log(GP_LOG_WARN, "barrier_timeout", "backend=%s sessions=%u in_trans=%u txn_unknown=%u",
	       p->backends[b].conf->name, p->backends[b].sessions_rw, open, unknown);
	/* Transactions still open on the old writer are cut (statements in flight finish
	 * first): two writers never overlap. */
	cluster_each_session(p, b, GP_EP_RW, cluster_drain_now_fn, GP_CLOSE_DRAIN_TIMEOUT);
	gp_session_drain_tick(&p->drain_timer);
}

void gp_cluster_session_left(gp_proxy_t *p, int b)
{
	if (b >= 0 && b == p->barrier_from && p->backends[b].sessions_rw == 0)
		cluster_barrier_end(p, "drained");
}

static void cluster_log_node(const gp_proxy_t *p, int i, const gp_galera_out_t *out)
{
	static const gp_probe_t never; /* a node not probed yet logs zeros */
	const gp_probe_t *pr = p->gin.node[i].probe ? p->gin.node[i].probe : &never;
	gp_log(GP_LOG_INFO, "node_state",
	       "backend=%s from=%s to=%s why=%s up=%d probe=%s local_state=%d cluster_status=%d "
	       "ready=%d desync=%d read_only=%d reject=%d recv_queue=%lld cluster_size=%d",
	       p->backends[i].conf->name,
	       p->decided ? gp_node_state_name(p->gout.state[i]) : "unknown",
	       gp_node_state_name(out->state[i]), gp_reason_name(out->why[i]), p->gin.node[i].up,
	       gp_probe_err_name(pr->err), pr->local_state, (int)pr->cluster_status, pr->ready,
	       pr->desync, pr->read_only, (int)pr->reject_queries, (long long)pr->recv_queue,
	       pr->cluster_size);
}

/* Node i could be the writer as far as its last probe can tell (an operator's maintenance
 * does not count against it): answered, up, and a state that allows writing. */
static bool cluster_probe_fit(const gp_proxy_t *p, const gp_galera_out_t *out, int i)
{
	const gp_probe_t *pr = p->gin.node[i].probe;
	return pr && pr->ok && p->gin.node[i].up &&
	       (out->why[i] == GP_REASON_NONE || out->why[i] == GP_REASON_MAINTENANCE);
}

static void cluster_log_ms(char *buf, size_t cap, double s)
{
	if (isnan(s))
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%.1f", s * 1000.0);
}

/* A writer change's timeline is complete: one line, and the gap into the histogram. */
static void cluster_timeline_done(gp_proxy_t *p, const gp_tl_rec_t *r)
{
	char ms[GP_TL__COUNT][24];
	for (int ph = 0; ph < GP_TL__COUNT; ph++)
		cluster_log_ms(ms[ph], sizeof(ms[ph]), gp_tl_phase_s(r, (gp_tl_phase_t)ph));
	gp_log(GP_LOG_INFO, "writer_timeline",
	       "from=%s to=%s reason=%s changes=%u detect_ms=%s evict_ms=%s first_answer_ms=%s "
	       "gap_ms=%s busy=%d",
	       r->from_name[0] ? r->from_name : "none", r->to_name[0] ? r->to_name : "none",
	       gp_reason_name(r->reason), r->changes, ms[GP_TL_DETECT], ms[GP_TL_EVICT],
	       ms[GP_TL_FIRST_ANSWER], ms[GP_TL_GAP], r->busy);
	double gap = gp_tl_phase_s(r, GP_TL_GAP);
	if (!isnan(gap))
		gp_metrics_change_gap(&p->metrics, gap);
}

/* After a probe: what it says of the node, an eviction that finished, a record that is due. */
static void cluster_timeline_probe(gp_proxy_t *p, size_t idx)
{
	gp_timeline_t *tl = &p->timeline;
	uint64_t now = uv_hrtime();
	gp_tl_rec_t closed;
	if (p->decided)
		gp_timeline_probe(tl, (int)idx, cluster_probe_fit(p, &p->gout, (int)idx), now);
	if (tl->last.open && tl->last.from >= 0 && p->monitor)
		gp_timeline_evicted(tl, tl->last.from,
		                    gp_monitor_node_evicted_ns(p->monitor, (size_t)tl->last.from));
	if (gp_timeline_tick(tl, now, &closed))
		cluster_timeline_done(p, &closed);
}

void gp_cluster_rw_answer(gp_proxy_t *p, int b, uint64_t t_ns)
{
	gp_timeline_answer(&p->timeline, b, t_ns);
}

json_t *gp_cluster_timeline_json(const gp_proxy_t *p)
{
	const gp_tl_rec_t *r = &p->timeline.last;
	char summary[300];
	if (!r->valid)
		return json_null();
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "from", r->from_name[0] ? json_string(r->from_name) : json_null());
	json_object_set_new(o, "to", r->to_name[0] ? json_string(r->to_name) : json_null());
	json_object_set_new(o, "reason", json_string(gp_reason_name(r->reason)));
	json_object_set_new(o, "changes", json_integer((json_int_t)r->changes));
	json_object_set_new(o, "open", json_boolean(r->open));
	json_object_set_new(o, "busy", json_boolean(r->busy));
	for (int ph = 0; ph < GP_TL__COUNT; ph++) {
		char key[32];
		double s = gp_tl_phase_s(r, (gp_tl_phase_t)ph);
		snprintf(key, sizeof(key), "%s_ms", gp_tl_phase_name((gp_tl_phase_t)ph));
		json_object_set_new(o, key, isnan(s) ? json_null() : json_real(s * 1000.0));
	}
	gp_tl_summary(r, summary, sizeof(summary));
	json_object_set_new(o, "summary", json_string(summary));
	return o;
}

static void cluster_writer_change(gp_proxy_t *p, const gp_galera_out_t *out)
{
	int from = p->writer, to = out->writer;
	uint64_t now = uv_now(p->loop);
	char detail[300];
	gp_log_quote(detail, sizeof(detail), out->reason_text, (unsigned)strlen(out->reason_text));
	gp_log(GP_LOG_WARN, "writer_change", "from=%s to=%s reason=%s detail=%s",
	       cluster_name(p, from), cluster_name(p, to), gp_reason_name(out->reason), detail);
	gp_metrics_writer_change(&p->metrics, from >= 0 ? cluster_name(p, from) : NULL,
	                         to >= 0 ? cluster_name(p, to) : NULL, out->reason,
	                         out->reason_text, now);
	p->writer_changes++;
	gp_tl_rec_t closed;
	if (gp_timeline_change(&p->timeline, from, to, from >= 0 ? cluster_name(p, from) : NULL,
	                       to >= 0 ? cluster_name(p, to) : NULL, out->reason,
	                       from >= 0 && !cluster_probe_fit(p, out, from), uv_hrtime(), &closed))
		cluster_timeline_done(p, &closed);
	p->writer = to;
	if (to < 0) {
		if (!p->no_writer_since)
			p->no_writer_since = now ? now : 1;
	} else if (p->no_writer_since) {
		gp_log(GP_LOG_INFO, "failover_done", "to=%s without_writer_ms=%llu",
		       cluster_name(p, to), (unsigned long long)(now - p->no_writer_since));
		p->no_writer_since = 0;
	}
	if (from < 0)
		return;
	if (cluster_node_dead(out->state[from])) {
		/* Nothing there can commit: its clients see the drop now, not a hang. */
		cluster_each_session(p, from, GP_EP_RW, cluster_close_fn, GP_CLOSE_WRITER_DOWN);
		return;
	}
	if (to == p->barrier_from) {
		cluster_barrier_end(p, "writer_returned");
		return;
	}
	/* A planned switch: a barrier holds new sessions until the old writer's
	 * transactions are done and the new writer has applied them, so two nodes never
	 * take writes from this proxy. */
	cluster_each_session(p, from, GP_EP_RW, cluster_drain_fn, GP_CLOSE_WRITER_CHANGED);
	if (p->barrier_from >= 0)
		return;
	p->barrier_from = from;
	/* It waits for the sessions in a transaction; one an ERR left unsure about is asked
	 * (gp_session_txn_ask) rather than waited for. */
	uint32_t open, unknown;
	gp_session_txn_count(p, from, GP_EP_RW, &open, &unknown);
	gp_log(GP_LOG_INFO, "barrier_start",
	       "from=%s to=%s sessions=%u in_trans=%u txn_unknown=%u timeout_ms=%lld",
	       cluster_name(p, from), cluster_name(p, to), p->backends[from].sessions_rw, open,
	       unknown, (long long)p->cfg->routing_drain_timeout_ms);
	if (p->backends[from].sessions_rw == 0) {
		cluster_barrier_end(p, "no_sessions");
		return;
	}
	uv_timer_start(&p->barrier_timer, on_barrier_timeout,
	               (uint64_t)p->cfg->routing_drain_timeout_ms, 0);
}

void gp_cluster_decide(gp_proxy_t *p)
{
	gp_galera_out_t out;
	p->gin.writer = p->writer;
	p->gin.peer_writer = gp_vrrp_peer_writer(p);
	p->gin.now_ms = (int64_t)uv_now(p->loop);
	gp_galera_decide(p->cfg, &p->gin, &out);
	for (size_t i = 0; i < p->nbackends; i++) {
		p->gin.node[i].eligible_since_ms = out.eligible_since_ms[i];
		if (!p->decided || out.state[i] != p->gout.state[i])
			cluster_log_node(p, (int)i, &out);
	}
	if (out.writer != p->writer)
		cluster_writer_change(p, &out);
	bool was_decided = p->decided;
	p->gout = out;
	p->decided = true;
	/* Read-only sessions on nodes that may no longer serve reads. */
	for (size_t i = 0; i < p->nbackends; i++) {
		if (out.reader_eligible[i] || !p->backends[i].sessions)
			continue;
		if (cluster_node_dead(out.state[i]))
			cluster_each_session(p, (int)i, GP_EP_RO, cluster_close_fn,
			                     GP_CLOSE_READER_DOWN);
		else
			cluster_each_session(p, (int)i, GP_EP_RO, cluster_drain_fn,
			                     GP_CLOSE_READER_INELIGIBLE);
	}
	if (!was_decided || !gp_list_empty(&p->sessions[GP_SS_WAITING]))
		cluster_wake_waiting(p);
}

static void on_probe(gp_monitor_t *m, const gp_monitor_event_t *ev, void *arg)
{
	gp_proxy_t *p = arg;
	(void)m;
	if (ev->idx >= p->nbackends)
		return;
	gp_metrics_probe(&p->metrics, ev->idx, ev->probe);
	p->gin.node[ev->idx].probe = ev->probe;
	p->gin.node[ev->idx].up = ev->up;
	if (p->decided)
		gp_cluster_decide(p);
	else
		gp_cluster_decide_first(p);
	cluster_timeline_probe(p, ev->idx);
}

void gp_cluster_decide_first(gp_proxy_t *p)
{
	if (p->decided)
		return;
	/* The first decision waits until every node has answered or failed once, so the first
	 * writer is the best one, not the quickest to answer; and, with a peer, until the peer
	 * has answered or failed once, so a proxy started beside a MASTER takes its writer
	 * instead of picking its own and switching a moment later. */
	for (size_t i = 0; i < p->nbackends; i++) {
		if (!p->gin.node[i].probe)
			return;
	}
	if (!gp_vrrp_peer_settled(p))
		return;
	gp_cluster_decide(p);
}

void gp_cluster_on_probe(struct gp_monitor *m, const struct gp_monitor_event *ev, void *arg)
{
	on_probe(m, ev, arg);
}

gp_status_t gp_cluster_start(gp_proxy_t *p)
{
	gp_galera_in_init(&p->gin);
	gp_timeline_init(&p->timeline);
	p->writer = -1;
	p->barrier_from = -1;
	p->no_writer_since = 0;
	uv_timer_init(p->loop, &p->barrier_timer);
	p->barrier_timer.data = p;
	sync_proxy = p;
	gp_status_t st = gp_monitor_new(p->loop, p->cfg, on_probe, p, &p->monitor);
	if (st != GP_OK)
		return st;
	return gp_monitor_start(p->monitor);
}

static void on_monitor_closed(gp_monitor_t *m, void *arg)
{
	gp_proxy_t *p = arg;
	gp_monitor_free(m);
	p->monitor = NULL;
}

void gp_cluster_stop(gp_proxy_t *p)
{
	if (!p->barrier_timer.data)
		return; /* never started (a listener failed first) */
	uv_close((uv_handle_t *)&p->barrier_timer, NULL);
	if (p->monitor)
		gp_monitor_close(p->monitor, on_monitor_closed, p);
}
