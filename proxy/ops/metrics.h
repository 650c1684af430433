/* metrics.h - the Prometheus text of /metrics, from counters kept where state changes. */
#ifndef GP_METRICS_H
#define GP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "base/hist.h"
#include "base/strbuf.h"
#include "cluster/galera.h"
#include "core/counters.h"

/*
 * Two kinds of numbers end up on /metrics. Counters that already live elsewhere
 * (gp_stats_t, gp_backend_t, the cluster's gp_cluster_stats_t, the last Galera decision) are
 * read at scrape time. What nothing else keeps is counted in core/counters.h, by one-line
 * hooks in the session code (gp_metrics_*). Every family is declared once, in GP_METRICS_TABLE
 * (metrics.c), which yields the HELP and TYPE lines and the emitter of its samples.
 * Everything runs on the loop thread: no locks.
 */

struct gp_proxy;

/* Write the whole exposition (text format 0.0.4) into out. */
void gp_metrics_write(const struct gp_proxy *p, gp_strbuf_t *out);

#endif
