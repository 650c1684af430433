/* counters.h - the session counters /metrics shows, kept by the session code as it goes. */
#ifndef GP_COUNTERS_H
#define GP_COUNTERS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/close.h"
#include "base/hist.h"

/*
 * What nothing else keeps is counted here, by one-line hooks in the session code
 * (gp_metrics_*), and read by ops/metrics.c at scrape time. Everything runs on the loop
 * thread: no locks.
 */

#define GP_METRICS_ENDPOINTS 2 /* rw, ro (gp_endpoint_t) */

typedef struct gp_metrics {
	uint64_t commands[GP_METRICS_ENDPOINTS][256]; /* commands by endpoint and command byte */
	gp_hist_t request[GP_METRICS_ENDPOINTS];      /* command latency by endpoint */
	int64_t start_unix_ms;                        /* wall clock at start */
	uint64_t sessions_drained;        /* sessions asked to drain (closed at an idle point) */
	uint64_t sessions_killed;         /* sessions cut: drain deadline, node down */
	uint64_t closed[GP_CLOSE__COUNT]; /* sessions closed, by reason */
	uint64_t moved[2];                /* sessions moved to another node: loss, planned */
	uint64_t move_failed;             /* moves that ended in a close (move_failed) */
	gp_hist_t move_time;              /* decision to the swap */
} gp_metrics_t;

/* Start counting. */
void gp_metrics_init(gp_metrics_t *m);
/* A command (first byte cmd) arrived from a client of endpoint ep. */
void gp_metrics_command(gp_metrics_t *m, int ep, uint8_t cmd);
/* A relayed command's response is complete, ns after the command arrived. */
void gp_metrics_request_done(gp_metrics_t *m, int ep, uint64_t ns);
/* A session closed for reason. */
void gp_metrics_session_closed(gp_metrics_t *m, gp_close_t reason);
/* A session was asked to drain (counted once per session). */
void gp_metrics_session_drained(gp_metrics_t *m);
/* A session moved to another node (planned, or after a loss) in ns. */
void gp_metrics_session_moved(gp_metrics_t *m, bool planned, uint64_t ns);
/* A move failed (the session was closed). */
void gp_metrics_session_move_failed(gp_metrics_t *m);

#endif
