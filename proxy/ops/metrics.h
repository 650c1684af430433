/* metrics.h - counters and histograms the daemon keeps, and their Prometheus exposition. */
#ifndef GP_METRICS_H
#define GP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "cluster/galera.h"
#include "session/close.h"

/*
 * Two kinds of numbers end up on /metrics. Counters that already live elsewhere
 * (gp_stats_t, gp_backend_t, the monitor's stats, the last Galera decision) are read at
 * scrape time. What nothing else keeps is counted here, by one-line hooks in the session
 * and cluster code (gp_metrics_*). Every family is declared once, in GP_METRICS_TABLE
 * (metrics.c), which yields the HELP and TYPE lines and the emitter of its samples.
 * Everything runs on the loop thread: no locks.
 */

#define GP_METRICS_ENDPOINTS 2  /* rw, ro (gp_endpoint_t) */
#define GP_HIST_BUCKETS      16 /* most finite buckets a histogram has */

/* A growable text buffer; failed is sticky (out of memory), checked once at the end. */
typedef struct gp_strbuf {
	char *data;  /* NUL-terminated text, malloc'd */
	size_t len;  /* bytes used, without the NUL */
	size_t cap;  /* bytes allocated */
	bool failed; /* an allocation failed: the text is incomplete */
} gp_strbuf_t;

void gp_strbuf_append(gp_strbuf_t *b, const char *s, size_t n);
void gp_strbuf_printf(gp_strbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gp_strbuf_free(gp_strbuf_t *b);

/* Bucket counts (not cumulative) for the bounds of its kind; the +Inf bucket is count. */
typedef struct gp_hist {
	uint64_t bucket[GP_HIST_BUCKETS]; /* observations <= bound[i] and > bound[i-1] */
	uint64_t count;                   /* all observations */
	double sum;                       /* their sum, in seconds */
} gp_hist_t;

typedef enum gp_hist_kind {
	GP_HIST_REQUEST,  /* command sent -> response complete */
	GP_HIST_PROBE,    /* one health probe (connect + query) */
	GP_HIST_FAILOVER, /* writer lost -> new writer */
	GP_HIST_GAP,      /* longest gap between answers around a writer change */
	GP_HIST__COUNT
} gp_hist_kind_t;

void gp_hist_observe(gp_hist_t *h, gp_hist_kind_t kind, double seconds);

typedef struct gp_metrics {
	uint64_t commands[GP_METRICS_ENDPOINTS][256]; /* commands by endpoint and command byte */
	gp_hist_t request[GP_METRICS_ENDPOINTS];      /* command latency by endpoint */
	gp_hist_t probe[GP_MAX_BACKENDS];             /* successful probe durations by backend */
	uint64_t probe_failures[GP_MAX_BACKENDS][GP_PROBE_ERR_COUNT]; /* by backend and cause */
	uint64_t evictions_base[GP_MAX_BACKENDS]; /* evictions counted by monitors a reload replaced
	                                           */
	uint64_t evictions_gone;                  /* evictions of backends a reload removed */
	uint64_t eviction_failures_base;          /* failures counted by replaced monitors */
	uint64_t writer_changes[GP_REASON_COUNT]; /* writer changes by reason */
	gp_hist_t failover;                       /* writer lost -> new writer */
	gp_hist_t change_gap;                     /* read-write answers' gap per writer change */
	int64_t start_unix_ms;                    /* wall clock at start */
	bool had_writer;                          /* a writer was ever chosen */
	uint64_t no_writer_since_ms;              /* loop ms the current writerless spell began */
	uint64_t no_writer_ms_total;              /* writerless time of spells that ended */
	uint64_t sessions_drained;        /* sessions asked to drain (closed at an idle point) */
	uint64_t sessions_killed;         /* sessions cut: drain deadline, node down */
	uint64_t closed[GP_CLOSE__COUNT]; /* sessions closed, by reason */
	int64_t last_change_unix_ms;      /* wall clock of the last writer change (0: none) */
	char last_from[GP_NAME_MAX];      /* its old writer ("" = none) */
	char last_to[GP_NAME_MAX];        /* its new writer ("" = none) */
	gp_reason_t last_reason;          /* why */
	char last_detail[256];            /* the policy's one-line explanation */
} gp_metrics_t;

struct gp_proxy;

/* Start counting; now_ms is the loop time (no writer yet). */
void gp_metrics_init(gp_metrics_t *m, uint64_t now_ms);
/* A command (first byte cmd) arrived from a client of endpoint ep. */
void gp_metrics_command(gp_metrics_t *m, int ep, uint8_t cmd);
/* A relayed command's response is complete, ns after the command arrived. */
void gp_metrics_request_done(gp_metrics_t *m, int ep, uint64_t ns);
/* A session closed for reason. */
void gp_metrics_session_closed(gp_metrics_t *m, gp_close_t reason);
/* A session was asked to drain (counted once per session). */
void gp_metrics_session_drained(gp_metrics_t *m);
/* A probe of backend idx finished. */
void gp_metrics_probe(gp_metrics_t *m, size_t idx, const gp_probe_t *pr);
/* The writer moves from -> to (backend names, NULL = none) for reason; detail says why. */
void gp_metrics_writer_change(gp_metrics_t *m, const char *from, const char *to, gp_reason_t reason,
                              const char *detail, uint64_t now_ms);
/* A writer change's timeline closed with this longest gap between answers (timeline.h). */
void gp_metrics_change_gap(gp_metrics_t *m, double seconds);
/* Reload: per-backend series follow their backend to its new index (map[old] = new or -1). */
void gp_metrics_remap(gp_metrics_t *m, const int *map, size_t nold);

/* Seconds the proxy has been without a writer now (0 with one). */
double gp_metrics_no_writer_seconds(const struct gp_proxy *p);
/* Write the whole exposition (text format 0.0.4) into out. */
void gp_metrics_write(const struct gp_proxy *p, gp_strbuf_t *out);

#endif
