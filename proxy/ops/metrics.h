/* metrics.h - what /metrics shows: session counters kept by hooks, the Prometheus text. */
#ifndef GP_METRICS_H
#define GP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "base/hist.h"
#include "base/strbuf.h"
#include "cluster/galera.h"

/*
 * Two kinds of numbers end up on /metrics. Counters that already live elsewhere
 * (gp_stats_t, gp_backend_t, the cluster's gp_cluster_stats_t, the last Galera decision) are
 * read at scrape time. What nothing else keeps is counted here, by one-line hooks in the
 * session code (gp_metrics_*). Every family is declared once, in GP_METRICS_TABLE
 * (metrics.c), which yields the HELP and TYPE lines and the emitter of its samples.
 * Everything runs on the loop thread: no locks.
 */

#define GP_METRICS_ENDPOINTS 2  /* rw, ro (gp_endpoint_t) */
#define GP_METRICS_REASONS   40 /* distinct session close reasons kept by name */

typedef struct gp_metrics_reason {
	const char *reason; /* a string literal of the caller (never freed) */
	uint64_t n;         /* sessions closed for it */
} gp_metrics_reason_t;

typedef struct gp_metrics {
	uint64_t commands[GP_METRICS_ENDPOINTS][256]; /* commands by endpoint and command byte */
	gp_hist_t request[GP_METRICS_ENDPOINTS];      /* command latency by endpoint */
	int64_t start_unix_ms;                        /* wall clock at start */
	uint64_t sessions_drained; /* sessions asked to drain (closed at an idle point) */
	uint64_t sessions_killed;  /* sessions cut: drain deadline, node down */
	gp_metrics_reason_t closed[GP_METRICS_REASONS]; /* sessions closed, by reason */
	size_t nclosed;                                 /* entries of closed in use */
	uint64_t closed_other;                          /* reasons beyond the table */
} gp_metrics_t;

struct gp_proxy;

/* Start counting. */
void gp_metrics_init(gp_metrics_t *m);
/* A command (first byte cmd) arrived from a client of endpoint ep. */
void gp_metrics_command(gp_metrics_t *m, int ep, uint8_t cmd);
/* A relayed command's response is complete, ns after the command arrived. */
void gp_metrics_request_done(gp_metrics_t *m, int ep, uint64_t ns);
/* A session closed (reason: a string literal). */
void gp_metrics_session_closed(gp_metrics_t *m, const char *reason);
/* A session was asked to drain (counted once per session). */
void gp_metrics_session_drained(gp_metrics_t *m);
/* Write the whole exposition (text format 0.0.4) into out. */
void gp_metrics_write(const struct gp_proxy *p, gp_strbuf_t *out);

#endif
