/* cluster_stats.c - the cluster's counters, kept where writer changes or probes happen. */
#include "cluster/cluster.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"

static void stats_copy_name(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

void gp_cluster_stats_init(gp_cluster_stats_t *s, uint64_t now_ms)
{
	memset(s, 0, sizeof(*s));
	s->no_writer_since_ms = now_ms ? now_ms : 1;
}

void gp_cluster_stats_probe(gp_cluster_stats_t *s, size_t idx, const gp_probe_t *pr)
{
	if (idx >= GP_MAX_BACKENDS || !pr)
		return;
	if (pr->ok)
		gp_hist_observe(&s->probe[idx], GP_HIST_PROBE,
		                (double)(pr->connect_us + pr->latency_us) / 1e6);
	else if ((unsigned)pr->err < GP_PROBE_ERR_COUNT)
		s->probe_failures[idx][pr->err]++;
}

void gp_cluster_stats_writer_change(gp_cluster_stats_t *s, const char *from, const char *to,
                                    gp_reason_t reason, const char *detail, uint64_t now_ms)
{
	if ((unsigned)reason < GP_REASON_COUNT)
		s->writer_changes[reason]++;
	s->last_change_unix_ms = gp_wall_ms();
	stats_copy_name(s->last_from, sizeof(s->last_from), from);
	stats_copy_name(s->last_to, sizeof(s->last_to), to);
	s->last_reason = reason;
	stats_copy_name(s->last_detail, sizeof(s->last_detail), detail);
	if (!to) {
		if (!s->no_writer_since_ms)
			s->no_writer_since_ms = now_ms ? now_ms : 1;
		return;
	}
	/* A failover: the old writer became unusable (not a failback or peer hand-over). */
	bool lost = reason != GP_REASON_FAILBACK && reason != GP_REASON_PEER &&
	            reason != GP_REASON_INITIAL && reason != GP_REASON_NONE;
	if (s->no_writer_since_ms) {
		uint64_t gap = now_ms > s->no_writer_since_ms ? now_ms - s->no_writer_since_ms : 0;
		s->no_writer_ms_total += gap;
		if (s->had_writer)
			gp_hist_observe(&s->failover, GP_HIST_FAILOVER, (double)gap / 1000.0);
		s->no_writer_since_ms = 0;
	} else if (from && lost) {
		gp_hist_observe(&s->failover, GP_HIST_FAILOVER, 0);
	}
	s->had_writer = true;
}

void gp_cluster_stats_change_gap(gp_cluster_stats_t *s, double seconds)
{
	gp_hist_observe(&s->change_gap, GP_HIST_GAP, seconds);
}

void gp_cluster_stats_remap(gp_cluster_stats_t *s, const int *map, size_t nold)
{
	gp_hist_t probe[GP_MAX_BACKENDS] = {0};
	uint64_t fails[GP_MAX_BACKENDS][GP_PROBE_ERR_COUNT] = {{0}};
	uint64_t ev[GP_MAX_BACKENDS] = {0};
	for (size_t i = 0; i < nold && i < GP_MAX_BACKENDS; i++) {
		int j = map[i];
		if (j < 0 || j >= GP_MAX_BACKENDS) {
			s->evictions_gone += s->evictions_base[i];
			continue;
		}
		probe[j] = s->probe[i];
		memcpy(fails[j], s->probe_failures[i], sizeof(fails[j]));
		ev[j] = s->evictions_base[i];
	}
	memcpy(s->probe, probe, sizeof(probe));
	memcpy(s->probe_failures, fails, sizeof(fails));
	memcpy(s->evictions_base, ev, sizeof(ev));
}
