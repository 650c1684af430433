/* hist.c - fixed-bucket latency histograms (Prometheus style, bounds per kind). */
#include "base/hist.h"

/* Upper bounds in seconds, ascending; each list ends at 0 (no more buckets). */
static const double hist_bounds[GP_HIST__COUNT][GP_HIST_BUCKETS + 1] = {
        [GP_HIST_REQUEST] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                             0.25, 0.5, 1, 2.5, 5, 10},
        [GP_HIST_PROBE] = {0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                           1, 2.5, 5},
        [GP_HIST_FAILOVER] = {0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300},
        [GP_HIST_GAP] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120},
};

void gp_hist_observe(gp_hist_t *h, gp_hist_kind_t kind, double seconds)
{
	if (!(seconds >= 0))
		seconds = 0; /* NaN and clock steps count as instantaneous */
	const double *b = hist_bounds[kind];
	for (size_t i = 0; i < GP_HIST_BUCKETS && b[i] > 0; i++) {
		if (seconds <= b[i]) {
			h->bucket[i]++;
			break;
		}
	}
	h->count++;
	h->sum += seconds;
}

double gp_hist_bound(gp_hist_kind_t kind, size_t i)
{
	return i < GP_HIST_BUCKETS ? hist_bounds[kind][i] : 0;
}
