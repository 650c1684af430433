/* hist.h - fixed-bucket latency histograms (Prometheus style, bounds per kind). */
#ifndef GP_HIST_H
#define GP_HIST_H

#include <stddef.h>
#include <stdint.h>

#define GP_HIST_BUCKETS 16 /* most finite buckets a histogram has */

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
/* Upper bound i of kind in seconds, ascending; 0 past the last one. */
double gp_hist_bound(gp_hist_kind_t kind, size_t i);

#endif
