/* evict.c - evs.evict: a dead node evicted through a survivor, evict lists cleared after. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cluster/monitor_int.h"

#define EVICT_RETRY_MS                                                         \
	10000 /* evidence without a survivor: keep looking this long (Galera's \
	       * own suspect timeout, 5 s, has removed the node by then) */

#define EVICT_CLEAR_AFTER_MS                                                                 \
	200 /* clear our own evict-list entries this long after the last eviction, and once  \
	     * the node's view has shrunk (gp_evict_clear_list). An entry still listed when  \
	     * the node's new incarnation joins holds that join for Galera's suspect timeout \
	     * (5-7 s, commits stalled): bench/DRILL-REJOIN.md */
#define GROUP_SETTLE_MS      3000 /* the group whole this long before entries of others go */
#define EVICT_CLEAR_RETRY_MS 1000 /* per node, between attempts */

/* The eviction carrier, by the policy in galera.c (config order: a pair picks the same). */
int gp_mon_pick_survivor(gp_monitor_t *m, size_t victim, uint64_t tried)
{
	const gp_probe_t *probes[GP_MAX_BACKENDS];
	bool up[GP_MAX_BACKENDS];

	for (size_t i = 0; i < m->n; i++) {
		probes[i] = &m->nodes[i].probe;
		up[i] = m->nodes[i].up;
	}
	return gp_galera_pick_survivor(probes, up, m->n, victim, tried);
}

/*
 * Eviction only hastens what Galera does anyway: the other nodes still up must be a strict
 * majority of the group the victim last saw. Evicting every dead node would hand a lone
 * survivor a Primary component of its own (2 of 3 killed, both evicted: the third stays
 * Primary), where Galera alone loses quorum.
 */
static bool evict_keeps_quorum(const gp_monitor_t *m, const gp_mon_node_t *victim)
{
	int up = 0;
	for (size_t i = 0; i < m->n; i++)
		up += i != victim->idx && m->nodes[i].up;
	return 2 * up > victim->probe.cluster_size;
}

/* Positive evidence: a fresh connect was refused right after a good probe. */
void gp_mon_node_evict(gp_mon_node_t *n)
{
	gp_monitor_t *m = n->m;
	const char *uuid = n->probe.gcomm_uuid;
	char sql[96];
	gp_mon_job_t *j;
	int via;

	if (!m->evict_enabled)
		return;
	if (!n->probe.have_vars || !n->probe.provider || !gp_uuid_valid(uuid)) {
		m->stats.evictions_skipped++;
		gp_log(GP_LOG_WARN, "evict_skipped",
		       "node=%s reason=no_gcomm_uuid evidence=refused", gp_mon_node_name(n));
		return;
	}
	if (!strcmp(n->evicted_uuid, uuid))
		return; /* done already for this incarnation */
	if (!evict_keeps_quorum(m, n)) {
		m->stats.evictions_skipped++;
		gp_log(GP_LOG_WARN, "evict_skipped",
		       "node=%s uuid=%s reason=no_majority cluster_size=%d evidence=refused",
		       gp_mon_node_name(n), uuid, n->probe.cluster_size);
		return;
	}
	via = gp_mon_pick_survivor(m, n->idx, 0);
	if (via < 0) {
		if (!n->evict_until) { /* once per evidence; mon_on_tick retries meanwhile */
			m->stats.evictions_skipped++;
			n->evict_until = (int64_t)uv_now(m->loop) + EVICT_RETRY_MS;
			gp_log(GP_LOG_WARN, "evict_skipped",
			       "node=%s uuid=%s reason=no_synced_primary_survivor evidence=refused "
			       "retry_ms=%d",
			       gp_mon_node_name(n), uuid, EVICT_RETRY_MS);
		}
		return;
	}
	n->evict_until = 0;
	snprintf(sql, sizeof(sql), "SET GLOBAL wsrep_provider_options='evs.evict=%s'", uuid);
	j = gp_mon_job_new(m, via, sql);
	if (!j) {
		m->stats.eviction_failures++;
		gp_log(GP_LOG_ERROR, "evict_failed", "node=%s error=\"out of memory\"",
		       gp_mon_node_name(n));
		return;
	}
	snprintf(n->evicted_uuid, sizeof(n->evicted_uuid), "%s", uuid);
	m->evict_size = m->nodes[via].probe.have_vars ? m->nodes[via].probe.cluster_size : 0;
	j->evict = true;
	j->victim = n->idx;
	snprintf(j->uuid, sizeof(j->uuid), "%s", uuid);
	gp_log(GP_LOG_WARN, "evict", "node=%s uuid=%s via=%s evidence=refused last_ok_ms_ago=%lld",
	       gp_mon_node_name(n), uuid, m->backends[via].name,
	       (long long)((int64_t)uv_now(m->loop) - n->ok_at_ms));
	gp_mon_job_connect(j);
}

/* ---- clearing evict lists --------------------------------------------------------------- */

static bool evict_in_flight(const gp_monitor_t *m)
{
	for (const gp_mon_job_t *j = m->jobs; j; j = j->next)
		if (j->evict)
			return true;
	return false;
}

static void clear_done(void *arg, bool ok, unsigned code, const char *err)
{
	gp_mon_node_t *n = arg;
	char q[200];

	n->clearing = false;
	if (n->m->closing)
		return;
	if (ok)
		gp_log(GP_LOG_INFO, "evict_list_cleared", "node=%s entries=%d proof=%s",
		       gp_mon_node_name(n), n->probe.evict_count, n->clear_proof);
	else
		gp_log(GP_LOG_WARN, "evict_list_clear_failed", "node=%s code=%u error=%s",
		       gp_mon_node_name(n), code,
		       gp_log_quote(q, sizeof(q), err, (unsigned)strlen(err)));
}

/*
 * Whether the group has been whole (gp_galera_group_whole) for GROUP_SETTLE_MS: every
 * backend back in one Primary component under its own UUID, long enough for the views to
 * settle. Fills probes[] for gp_galera_evict_list_stale.
 */
static bool group_settled(gp_monitor_t *m, const gp_probe_t **probes, int64_t now)
{
	bool up[GP_MAX_BACKENDS];

	for (size_t i = 0; i < m->n; i++) {
		probes[i] = &m->nodes[i].probe;
		up[i] = m->nodes[i].up;
	}
	if (!gp_galera_group_whole(probes, up, m->n))
		m->whole_since_ms = 0;
	else if (!m->whole_since_ms)
		m->whole_since_ms = now;
	return m->whole_since_ms && now - m->whole_since_ms >= GROUP_SETTLE_MS;
}

/*
 * While a node's evict list holds anything, the next eviction takes Galera's suspect timeout
 * (gp_galera_evict_list_stale): clear it once every entry is proved gone, either evicted
 * here on the evidence of a refused connect, or named by no member of a whole group (which
 * covers entries left by another proxy, or by this one before a restart or a kill -9). Not
 * while an eviction runs, nor soon after one.
 */
void gp_mon_node_clear_evict_list(gp_mon_node_t *n)
{
	gp_monitor_t *m = n->m;
	const gp_probe_t *p = &n->probe;
	const gp_probe_t *probes[GP_MAX_BACKENDS];
	int64_t now = (int64_t)uv_now(m->loop);
	bool settled = group_settled(m, probes, now);
	gp_mon_job_t *j;

	if (p->evict_count <= 0) {
		n->foreign_logged = false;
		return;
	}
	if (!m->evict_enabled || m->closing || n->clearing || !n->up || p->local_state != 4 ||
	    p->cluster_status != GP_CLUSTER_PRIMARY)
		return;
	if (!gp_galera_evict_list_stale(p, (const char(*)[GP_UUID_MAX])m->dead, m->n_dead,
	                                settled ? probes : NULL, m->n)) {
		if (m->whole_since_ms &&
		    gp_galera_evict_list_stale(p, (const char(*)[GP_UUID_MAX])m->dead, m->n_dead,
		                               probes, m->n))
			return; /* proved gone once the group has settled */
		if (!n->foreign_logged)
			gp_log(GP_LOG_WARN, "evict_list_kept",
			       "node=%s entries=%d reason=not_all_evicted_here first=%s",
			       gp_mon_node_name(n), p->evict_count,
			       p->evict_list[0][0] ? p->evict_list[0] : "-");
		n->foreign_logged = true;
		return;
	}
	if (now - m->evict_done_ms < EVICT_CLEAR_AFTER_MS || evict_in_flight(m) ||
	    (n->clear_at_ms && now - n->clear_at_ms < EVICT_CLEAR_RETRY_MS))
		return;
	/* evs.evict returns once the eviction has begun, not once the view without the victim
	 * is installed (the drill saw that view 1 s after the call returned, under load); an
	 * entry cleared before it undoes the eviction and the group waits for Galera's own
	 * timers (test/drill/RESULTS.md, restart delays). Our own entries go once this node's
	 * view has shrunk; failing that, once the group is whole again (settled). */
	if (!settled && m->evict_size > 0 &&
	    !(p->at_ms > m->evict_done_ms && p->cluster_size > 0 &&
	      p->cluster_size < m->evict_size))
		return;
	j = gp_mon_job_new(m, (int)n->idx, "SET GLOBAL wsrep_provider_options='evs.evict='");
	if (!j)
		return;
	j->cb = clear_done;
	j->arg = n;
	n->clearing = true;
	n->clear_at_ms = now;
	n->clear_proof = gp_galera_evict_list_stale(p, (const char(*)[GP_UUID_MAX])m->dead,
	                                            m->n_dead, NULL, 0)
	                         ? "evicted_here"
	                         : "no_member";
	gp_mon_job_connect(j);
}
