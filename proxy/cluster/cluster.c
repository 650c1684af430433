/* cluster.c - the proxy's live view of the cluster: probes in; writer changes, drains out. */
#include "cluster/cluster.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cluster/monitor.h"

/* Sessions on a node in one of these states cannot finish anything: close them at once. */
static bool cluster_node_dead(gp_node_state_t st)
{
	return st == GP_NODE_DOWN || st == GP_NODE_NON_PRIMARY;
}

static const char *cluster_name(const gp_cluster_t *c, int b)
{
	return b >= 0 ? c->cfg->backends[b].name : "none";
}

static size_t cluster_count(const gp_cluster_t *c)
{
	return c->cfg->nbackends;
}

static uint64_t cluster_now(const gp_cluster_t *c)
{
	return c->loop ? uv_now(c->loop) : 0;
}

/* ---- calls out to the sessions (hooks the daemon wires) ---- */

static void cluster_close(gp_cluster_t *c, int b, int ep, gp_close_t reason)
{
	if (c->hooks.close)
		c->hooks.close(c->hooks.arg, b, ep, reason);
}

static void cluster_drain(gp_cluster_t *c, int b, int ep, uint64_t deadline, gp_close_t reason)
{
	if (c->hooks.drain)
		c->hooks.drain(c->hooks.arg, b, ep, deadline, reason);
}

static void cluster_wake_waiting(gp_cluster_t *c)
{
	if (c->hooks.wake)
		c->hooks.wake(c->hooks.arg);
}

static uint32_t cluster_sessions(const gp_cluster_t *c, int b, int ep)
{
	return c->hooks.sessions ? c->hooks.sessions(c->hooks.arg, b, ep) : 0;
}

static void cluster_txn_count(gp_cluster_t *c, int b, uint32_t *open, uint32_t *unknown)
{
	*open = *unknown = 0;
	if (c->hooks.txn_count)
		c->hooks.txn_count(c->hooks.arg, b, GP_CLUSTER_RW, open, unknown);
}

static void on_writer_synced(void *arg, bool ok, unsigned code, const char *msg);

/* The new writer has applied every write set committed before this moment: nothing the
 * old writer acknowledged can still be in its apply queue, where it would conflict with
 * (BF-abort, fail certification of) the first transactions it takes. */
#define GP_SYNC_SQL "SET STATEMENT wsrep_sync_wait=1 FOR SELECT 1"

/* One catch-up query in flight: its generation tells a stale answer from the live one. */
typedef struct cluster_sync {
	gp_cluster_t *c; /* whose */
	uint32_t gen;    /* c->sync_gen when it was sent */
} cluster_sync_t;

static void cluster_barrier_end(gp_cluster_t *c, const char *how)
{
	if (c->barrier_from < 0)
		return;
	gp_log(GP_LOG_INFO, "barrier_end", "from=%s to=%s how=%s", cluster_name(c, c->barrier_from),
	       cluster_name(c, c->writer), how);
	c->barrier_from = -1;
	uv_timer_stop(&c->barrier_timer);
	uint32_t gen = ++c->sync_gen;
	if (c->writer >= 0 && !c->gout.standalone_mode && c->monitor) {
		cluster_sync_t *t = malloc(sizeof(*t));
		if (t) {
			t->c = c;
			t->gen = gen;
			if (gp_monitor_exec(c->monitor, (size_t)c->writer, GP_SYNC_SQL,
			                    on_writer_synced, t) == GP_OK) {
				c->syncing = true;
				c->sync_started = cluster_now(c);
				return;
			}
			free(t);
		}
	}
	cluster_wake_waiting(c);
}

static void on_writer_synced(void *arg, bool ok, unsigned code, const char *msg)
{
	cluster_sync_t *t = arg;
	gp_cluster_t *c = t->c;
	uint32_t gen = t->gen;
	free(t);
	if (gen != c->sync_gen || !c->syncing)
		return; /* a later switch took over */
	c->syncing = false;
	gp_log(ok ? GP_LOG_INFO : GP_LOG_WARN, "writer_synced",
	       "writer=%s ok=%d ms=%llu code=%u%s%s", cluster_name(c, c->writer), ok,
	       (unsigned long long)(cluster_now(c) - c->sync_started), code,
	       ok ? "" : " error=", ok ? "" : "see_monitor_log");
	(void)msg;
	cluster_wake_waiting(c);
}

static void on_barrier_timeout(uv_timer_t *tm)
{
	gp_cluster_t *c = tm->data;
	int b = c->barrier_from;
	if (b < 0)
		return;
	uint32_t open, unknown;
	cluster_txn_count(c, b, &open, &unknown);
	gp_log(GP_LOG_WARN, "barrier_timeout", "backend=%s sessions=%u in_trans=%u txn_unknown=%u",
	       cluster_name(c, b), cluster_sessions(c, b, GP_CLUSTER_RW), open, unknown);
	/* Transactions still open on the old writer are cut (statements in flight finish
	 * first): two writers never overlap. */
	cluster_drain(c, b, GP_CLUSTER_RW, cluster_now(c), GP_CLOSE_DRAIN_TIMEOUT);
	if (c->hooks.drain_due)
		c->hooks.drain_due(c->hooks.arg);
}

void gp_cluster_session_left(gp_cluster_t *c, int b)
{
	if (b >= 0 && b == c->barrier_from && cluster_sessions(c, b, GP_CLUSTER_RW) == 0)
		cluster_barrier_end(c, "drained");
}

static void cluster_log_node(const gp_cluster_t *c, int i, const gp_galera_out_t *out)
{
	static const gp_probe_t never; /* a node not probed yet logs zeros */
	const gp_probe_t *pr = c->gin.node[i].probe ? c->gin.node[i].probe : &never;
	gp_log(GP_LOG_INFO, "node_state",
	       "backend=%s from=%s to=%s why=%s up=%d probe=%s local_state=%d cluster_status=%d "
	       "ready=%d desync=%d read_only=%d reject=%d recv_queue=%lld cluster_size=%d",
	       cluster_name(c, i), c->decided ? gp_node_state_name(c->gout.state[i]) : "unknown",
	       gp_node_state_name(out->state[i]), gp_reason_name(out->why[i]), c->gin.node[i].up,
	       gp_probe_err_name(pr->err), pr->local_state, (int)pr->cluster_status, pr->ready,
	       pr->desync, pr->read_only, (int)pr->reject_queries, (long long)pr->recv_queue,
	       pr->cluster_size);
}

/* Node i could be the writer as far as its last probe can tell (an operator's maintenance
 * does not count against it): answered, up, and a state that allows writing. */
static bool cluster_probe_fit(const gp_cluster_t *c, const gp_galera_out_t *out, int i)
{
	const gp_probe_t *pr = c->gin.node[i].probe;
	return pr && pr->ok && c->gin.node[i].up &&
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
static void cluster_timeline_done(gp_cluster_t *c, const gp_tl_rec_t *r)
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
		gp_cluster_stats_change_gap(&c->stats, gap);
}

/* After a probe: what it says of the node, an eviction that finished, a record that is due. */
static void cluster_timeline_probe(gp_cluster_t *c, size_t idx)
{
	gp_timeline_t *tl = &c->timeline;
	uint64_t now = uv_hrtime();
	gp_tl_rec_t closed;
	if (c->decided)
		gp_timeline_probe(tl, (int)idx, cluster_probe_fit(c, &c->gout, (int)idx), now);
	if (tl->last.open && tl->last.from >= 0 && c->monitor)
		gp_timeline_evicted(tl, tl->last.from,
		                    gp_monitor_node_evicted_ns(c->monitor, (size_t)tl->last.from));
	if (gp_timeline_tick(tl, now, &closed))
		cluster_timeline_done(c, &closed);
}

void gp_cluster_rw_answer(gp_cluster_t *c, int b, uint64_t t_ns)
{
	gp_timeline_answer(&c->timeline, b, t_ns);
}

json_t *gp_cluster_timeline_json(const gp_cluster_t *c)
{
	const gp_tl_rec_t *r = &c->timeline.last;
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

static void cluster_writer_change(gp_cluster_t *c, const gp_galera_out_t *out)
{
	int from = c->writer, to = out->writer;
	uint64_t now = cluster_now(c);
	char detail[300];
	gp_log_quote(detail, sizeof(detail), out->reason_text, (unsigned)strlen(out->reason_text));
	gp_log(GP_LOG_WARN, "writer_change", "from=%s to=%s reason=%s detail=%s",
	       cluster_name(c, from), cluster_name(c, to), gp_reason_name(out->reason), detail);
	gp_cluster_stats_writer_change(&c->stats, from >= 0 ? cluster_name(c, from) : NULL,
	                               to >= 0 ? cluster_name(c, to) : NULL, out->reason,
	                               out->reason_text, now);
	c->writer_changes++;
	gp_tl_rec_t closed;
	if (gp_timeline_change(&c->timeline, from, to, from >= 0 ? cluster_name(c, from) : NULL,
	                       to >= 0 ? cluster_name(c, to) : NULL, out->reason,
	                       from >= 0 && !cluster_probe_fit(c, out, from), uv_hrtime(), &closed))
		cluster_timeline_done(c, &closed);
	c->writer = to;
	if (to < 0) {
		if (!c->no_writer_since)
			c->no_writer_since = now ? now : 1;
	} else if (c->no_writer_since) {
		gp_log(GP_LOG_INFO, "failover_done", "to=%s without_writer_ms=%llu",
		       cluster_name(c, to), (unsigned long long)(now - c->no_writer_since));
		c->no_writer_since = 0;
	}
	if (from < 0)
		return;
	if (cluster_node_dead(out->state[from])) {
		/* Nothing there can commit: its clients see the drop now, not a hang. */
		cluster_close(c, from, GP_CLUSTER_RW, GP_CLOSE_WRITER_DOWN);
		return;
	}
	if (to == c->barrier_from) {
		cluster_barrier_end(c, "writer_returned");
		return;
	}
	/* A planned switch: a barrier holds new sessions until the old writer's
	 * transactions are done and the new writer has applied them, so two nodes never
	 * take writes from this proxy. */
	cluster_drain(c, from, GP_CLUSTER_RW, now + (uint64_t)c->cfg->routing_drain_timeout_ms,
	              GP_CLOSE_WRITER_CHANGED);
	if (c->barrier_from >= 0)
		return;
	c->barrier_from = from;
	/* It waits for the sessions in a transaction; one an ERR left unsure about is asked
	 * (gp_session_txn_ask) rather than waited for. */
	uint32_t open, unknown;
	cluster_txn_count(c, from, &open, &unknown);
	uint32_t left = cluster_sessions(c, from, GP_CLUSTER_RW);
	gp_log(GP_LOG_INFO, "barrier_start",
	       "from=%s to=%s sessions=%u in_trans=%u txn_unknown=%u timeout_ms=%lld",
	       cluster_name(c, from), cluster_name(c, to), left, open, unknown,
	       (long long)c->cfg->routing_drain_timeout_ms);
	if (left == 0) {
		cluster_barrier_end(c, "no_sessions");
		return;
	}
	uv_timer_start(&c->barrier_timer, on_barrier_timeout,
	               (uint64_t)c->cfg->routing_drain_timeout_ms, 0);
}

static int cluster_peer_writer(const gp_cluster_t *c)
{
	if (!c->peer_writer[0])
		return -1;
	for (size_t i = 0; i < cluster_count(c); i++) {
		if (!strcmp(c->cfg->backends[i].name, c->peer_writer))
			return (int)i;
	}
	return -1;
}

void gp_cluster_set_peer_writer(gp_cluster_t *c, const char *name)
{
	snprintf(c->peer_writer, sizeof(c->peer_writer), "%s", name ? name : "");
}

void gp_cluster_decide(gp_cluster_t *c)
{
	gp_galera_out_t out;
	c->gin.writer = c->writer;
	c->gin.peer_writer = cluster_peer_writer(c);
	c->gin.now_ms = (int64_t)cluster_now(c);
	gp_galera_decide(c->cfg, &c->gin, &out);
	for (size_t i = 0; i < cluster_count(c); i++) {
		c->gin.node[i].eligible_since_ms = out.eligible_since_ms[i];
		if (!c->decided || out.state[i] != c->gout.state[i])
			cluster_log_node(c, (int)i, &out);
	}
	if (out.writer != c->writer)
		cluster_writer_change(c, &out);
	bool was_decided = c->decided;
	c->gout = out;
	c->decided = true;
	/* Read-only sessions on nodes that may no longer serve reads. */
	for (size_t i = 0; i < cluster_count(c); i++) {
		if (out.reader_eligible[i] || !cluster_sessions(c, (int)i, GP_CLUSTER_ANY))
			continue;
		if (cluster_node_dead(out.state[i]))
			cluster_close(c, (int)i, GP_CLUSTER_RO, GP_CLOSE_READER_DOWN);
		else
			cluster_drain(c, (int)i, GP_CLUSTER_RO,
			              cluster_now(c) + (uint64_t)c->cfg->routing_drain_timeout_ms,
			              GP_CLOSE_READER_INELIGIBLE);
	}
	if (!was_decided || (c->hooks.waiting && c->hooks.waiting(c->hooks.arg)))
		cluster_wake_waiting(c);
}

static void on_probe(gp_monitor_t *m, const gp_monitor_event_t *ev, void *arg)
{
	gp_cluster_t *c = arg;
	(void)m;
	if (ev->idx >= cluster_count(c))
		return;
	gp_cluster_stats_probe(&c->stats, ev->idx, ev->probe);
	c->gin.node[ev->idx].probe = ev->probe;
	c->gin.node[ev->idx].up = ev->up;
	if (c->decided)
		gp_cluster_decide(c);
	else
		gp_cluster_decide_first(c);
	cluster_timeline_probe(c, ev->idx);
}

void gp_cluster_decide_first(gp_cluster_t *c)
{
	if (c->decided)
		return;
	/* The first decision waits until every node has answered or failed once, so the first
	 * writer is the best one, not the quickest to answer; and, with a peer, until the peer
	 * has answered or failed once, so a proxy started beside a MASTER takes its writer
	 * instead of picking its own and switching a moment later. */
	for (size_t i = 0; i < cluster_count(c); i++) {
		if (!c->gin.node[i].probe)
			return;
	}
	if (c->hooks.peer_settled && !c->hooks.peer_settled(c->hooks.arg))
		return;
	gp_cluster_decide(c);
}

void gp_cluster_init(gp_cluster_t *c, uv_loop_t *loop, const gp_config_t *cfg,
                     const gp_cluster_hooks_t *hooks)
{
	memset(c, 0, sizeof(*c));
	c->loop = loop;
	c->cfg = cfg;
	if (hooks)
		c->hooks = *hooks;
	gp_galera_in_init(&c->gin);
	gp_timeline_init(&c->timeline);
	gp_cluster_stats_init(&c->stats, cluster_now(c));
	c->writer = -1;
	c->barrier_from = -1;
}

gp_status_t gp_cluster_start(gp_cluster_t *c)
{
	uv_timer_init(c->loop, &c->barrier_timer);
	c->barrier_timer.data = c;
	c->barrier_timer_open = true;
	gp_status_t st = gp_monitor_new(c->loop, c->cfg, on_probe, c, &c->monitor);
	if (st != GP_OK)
		return st;
	return gp_monitor_start(c->monitor);
}

static void on_monitor_closed(gp_monitor_t *m, void *arg)
{
	gp_cluster_t *c = arg;
	gp_monitor_free(m);
	if (c && c->monitor == m)
		c->monitor = NULL;
}

void gp_cluster_stop(gp_cluster_t *c)
{
	if (!c->barrier_timer_open)
		return; /* never started (a listener failed first) */
	c->barrier_timer_open = false;
	uv_close((uv_handle_t *)&c->barrier_timer, NULL);
	if (c->monitor)
		gp_monitor_close(c->monitor, on_monitor_closed, c);
}

/* ---- reload ---- */

gp_status_t gp_cluster_monitor_new(gp_cluster_t *c, const gp_config_t *nw, gp_monitor_t **out)
{
	return gp_monitor_new(c->loop, nw, on_probe, c, out);
}

static int cluster_remap_index(const int *map, size_t nold, int i)
{
	return i >= 0 && (size_t)i < nold ? map[i] : -1;
}

/* Policy state follows the backends; a new monitor starts from no probes. */
static void cluster_remap_policy(gp_cluster_t *c, const int *map, size_t nold, size_t nnew,
                                 bool fresh_probes)
{
	gp_galera_in_t gin;
	gp_galera_out_t gout = c->gout;
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
		gin.node[j].maintenance = c->gin.node[i].maintenance;
		gin.node[j].drain = c->gin.node[i].drain;
		gin.node[j].eligible_since_ms = c->gin.node[i].eligible_since_ms;
		if (!fresh_probes) {
			gin.node[j].probe = c->gin.node[i].probe;
			gin.node[j].up = c->gin.node[i].up;
		}
		gout.state[j] = c->gout.state[i];
		gout.why[j] = c->gout.why[i];
		gout.writer_eligible[j] = c->gout.writer_eligible[i];
		gout.reader_eligible[j] = c->gout.reader_eligible[i];
		gout.eligible_since_ms[j] = c->gout.eligible_since_ms[i];
	}
	c->writer = cluster_remap_index(map, nold, c->writer);
	c->barrier_from = cluster_remap_index(map, nold, c->barrier_from);
	gin.writer = c->writer;
	gin.now_ms = c->gin.now_ms;
	gout.writer = cluster_remap_index(map, nold, c->gout.writer);
	c->gin = gin;
	c->gout = gout;
}

void gp_cluster_reload(gp_cluster_t *c, const gp_config_t *nw, const int *map, size_t nold,
                       gp_monitor_t *m)
{
	gp_timeline_remap(&c->timeline, map, nold);
	cluster_remap_policy(c, map, nold, nw->nbackends, m != NULL);
	if (m) {
		/* The old monitor's counters live on in the metrics. */
		for (size_t i = 0; c->monitor && i < nold && i < gp_monitor_count(c->monitor); i++)
			c->stats.evictions_base[i] += gp_monitor_node_evictions(c->monitor, i);
		if (c->monitor)
			c->stats.eviction_failures_base +=
			        gp_monitor_stats(c->monitor)->eviction_failures;
		gp_cluster_stats_remap(&c->stats, map, nold);
	}
	c->cfg = nw;
	if (m) {
		if (c->monitor)
			gp_monitor_close(c->monitor, on_monitor_closed, NULL);
		c->monitor = m;
		/* No decision until every node answered the new monitor once; sessions keep
		 * running and the writer stays (sticky) unless the new probes say otherwise. */
		c->decided = false;
		if (gp_monitor_start(m) != GP_OK)
			gp_log(GP_LOG_ERROR, "monitor_start_failed", "detail=\"after reload\"");
	} else if (c->decided) {
		gp_cluster_decide(c); /* priorities and routing knobs apply now */
	}
}

/* ---- accessors ---- */

int gp_cluster_writer(const gp_cluster_t *c)
{
	return c->writer;
}

bool gp_cluster_decided(const gp_cluster_t *c)
{
	return c->decided;
}

const gp_galera_out_t *gp_cluster_out(const gp_cluster_t *c)
{
	return &c->gout;
}

const gp_galera_node_in_t *gp_cluster_node(const gp_cluster_t *c, size_t i)
{
	return &c->gin.node[i];
}

int gp_cluster_barrier_from(const gp_cluster_t *c)
{
	return c->barrier_from;
}

bool gp_cluster_syncing(const gp_cluster_t *c)
{
	return c->syncing;
}

uint64_t gp_cluster_writer_changes(const gp_cluster_t *c)
{
	return c->writer_changes;
}

gp_monitor_t *gp_cluster_monitor(const gp_cluster_t *c)
{
	return c->monitor;
}

const gp_tl_rec_t *gp_cluster_last_change(const gp_cluster_t *c)
{
	return &c->timeline.last;
}

const gp_cluster_stats_t *gp_cluster_stats(const gp_cluster_t *c)
{
	return &c->stats;
}

double gp_cluster_no_writer_seconds(const gp_cluster_t *c)
{
	const gp_cluster_stats_t *s = &c->stats;
	if (c->writer >= 0 || !s->no_writer_since_ms || !c->loop)
		return 0;
	uint64_t now = uv_now(c->loop);
	return now > s->no_writer_since_ms ? (double)(now - s->no_writer_since_ms) / 1000.0 : 0;
}

uint64_t gp_cluster_node_evictions(const gp_cluster_t *c, size_t i)
{
	uint64_t n = c->stats.evictions_base[i];
	if (c->monitor && i < gp_monitor_count(c->monitor))
		n += gp_monitor_node_evictions(c->monitor, i);
	return n;
}

uint64_t gp_cluster_eviction_failures(const gp_cluster_t *c)
{
	uint64_t n = c->stats.eviction_failures_base;
	if (c->monitor)
		n += gp_monitor_stats(c->monitor)->eviction_failures;
	return n;
}

void gp_cluster_set_maintenance(gp_cluster_t *c, size_t i, bool on)
{
	c->gin.node[i].maintenance = on;
}

void gp_cluster_set_drain(gp_cluster_t *c, size_t i, bool on)
{
	c->gin.node[i].drain = on;
}
