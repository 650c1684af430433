/* cluster.h - the proxy's live view of the cluster: probes in; writer changes, drains out. */
#ifndef GP_CLUSTER_H
#define GP_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/close.h"
#include "base/config.h"
#include "base/hist.h"
#include "base/status.h"
#include "cluster/galera.h"
#include "cluster/timeline.h"

struct gp_monitor;
struct gp_monitor_event;
struct json_t;

/* Endpoints as the hooks name them (the same numbers as gp_endpoint_t). */
#define GP_CLUSTER_ANY (-1) /* any endpoint */
#define GP_CLUSTER_RW  0    /* the read-write endpoint */
#define GP_CLUSTER_RO  1    /* the read-only endpoint */

/*
 * What the cluster asks of the layers above it (sessions, the peer proxy). The daemon wires
 * them; every one may be NULL (a unit test's cluster has no sessions). ep is an endpoint
 * (0 rw, 1 ro) or -1 for any.
 */
typedef struct gp_cluster_hooks {
	void *arg; /* passed to every hook */
	/* Close the sessions of endpoint ep on backend b now. */
	void (*close)(void *arg, int b, int ep, gp_close_t reason);
	/* Ask them to close at their next idle point, at the latest at deadline (loop ms). */
	void (*drain)(void *arg, int b, int ep, uint64_t deadline, gp_close_t reason);
	/* Act on the drains that are due (a deadline just passed). */
	void (*drain_due)(void *arg);
	/* Sessions waiting for a backend may try again. */
	void (*wake)(void *arg);
	/* True if any session waits for a backend. */
	bool (*waiting)(void *arg);
	/* Sessions of endpoint ep on backend b. */
	uint32_t (*sessions)(void *arg, int b, int ep);
	/* Of those, how many are in a transaction, and how many may be (an ERR left it unsure). */
	void (*txn_count)(void *arg, int b, int ep, uint32_t *open, uint32_t *unknown);
	/* No peer proxy is configured, or it answered or failed at least once. */
	bool (*peer_settled)(void *arg);
} gp_cluster_hooks_t;

/* What the cluster did, kept where it happens so /metrics only reads it. */
typedef struct gp_cluster_stats {
	uint64_t writer_changes[GP_REASON_COUNT]; /* writer changes by reason */
	gp_hist_t failover;                       /* writer lost -> new writer */
	gp_hist_t change_gap;                     /* read-write answers' gap per writer change */
	bool had_writer;                          /* a writer was ever chosen */
	uint64_t no_writer_since_ms;              /* loop ms the current writerless spell began */
	uint64_t no_writer_ms_total;              /* writerless time of spells that ended */
	int64_t last_change_unix_ms;      /* wall clock of the last writer change (0: none) */
	char last_from[GP_NAME_MAX];      /* its old writer ("" = none) */
	char last_to[GP_NAME_MAX];        /* its new writer ("" = none) */
	gp_reason_t last_reason;          /* why */
	char last_detail[256];            /* the policy's one-line explanation */
	gp_hist_t probe[GP_MAX_BACKENDS]; /* successful probe durations by backend */
	uint64_t probe_failures[GP_MAX_BACKENDS][GP_PROBE_ERR_COUNT]; /* by backend and cause */
	uint64_t evictions_base[GP_MAX_BACKENDS]; /* evictions counted by replaced monitors */
	uint64_t evictions_gone;                  /* evictions of backends a reload removed */
	uint64_t eviction_failures_base;          /* failures counted by replaced monitors */
} gp_cluster_stats_t;

typedef struct gp_cluster {
	uv_loop_t *loop;               /* the one loop (NULL in unit tests) */
	const gp_config_t *cfg;        /* running configuration: backends in config order */
	gp_cluster_hooks_t hooks;      /* calls out to sessions and the peer */
	struct gp_monitor *monitor;    /* health probes */
	gp_galera_in_t gin;            /* policy input, kept between decisions */
	gp_galera_out_t gout;          /* last decision */
	bool decided;                  /* gout holds a decision */
	int writer;                    /* current writer, -1 if none */
	char peer_writer[GP_NAME_MAX]; /* the writer the peer proxy suggests ("" = none) */
	int barrier_from;              /* old writer still draining, -1 if none */
	uv_timer_t barrier_timer;      /* closes what the barrier still waits for */
	bool barrier_timer_open;       /* barrier_timer initialised */
	bool syncing;                  /* new writer catching up before release */
	uint32_t sync_gen;             /* tells a stale catch-up answer from the live one */
	uint64_t sync_started;         /* loop ms the catch-up began */
	uint64_t writer_changes;       /* writer changes since start */
	uint64_t no_writer_since;      /* loop ms the writer was lost (0: have one) */
	gp_timeline_t timeline;        /* the last writer change's timeline */
	gp_cluster_stats_t stats;      /* counters for /metrics */
} gp_cluster_t;

/* Set the state up (no writer, no decision); loop may be NULL in unit tests. */
void gp_cluster_init(gp_cluster_t *c, uv_loop_t *loop, const gp_config_t *cfg,
                     const gp_cluster_hooks_t *hooks);
/* Create and start the monitor; decisions begin once every node was probed once. */
GP_WUR gp_status_t gp_cluster_start(gp_cluster_t *c);
/* Close the monitor's handles (teardown). */
void gp_cluster_stop(gp_cluster_t *c);
/* A session left backend b: a writer-switch barrier may be over. */
void gp_cluster_session_left(gp_cluster_t *c, int b);
/* An OK or result set reached a client of the read-write endpoint from backend b at t_ns
 * (uv_hrtime()): the failover timeline's first answers and gaps. Cheap: every answer. */
void gp_cluster_rw_answer(gp_cluster_t *c, int b, uint64_t t_ns);
/* Run the policy now (admin flags changed, peer writer changed). */
void gp_cluster_decide(gp_cluster_t *c);
/* The first decision, once every node and the peer (if any) have answered or failed once. */
void gp_cluster_decide_first(gp_cluster_t *c);
/* The peer proxy suggests this writer (backend name; NULL or "" = none). Takes effect at the
 * next decision. */
void gp_cluster_set_peer_writer(gp_cluster_t *c, const char *name);

/* Reload, step 1 (may fail, changes nothing): a monitor for the new configuration. */
GP_WUR gp_status_t gp_cluster_monitor_new(gp_cluster_t *c, const gp_config_t *nw,
                                          struct gp_monitor **out);
/* Reload, step 2: the cluster's state follows its backends to nw (map[old] = new index or
 * -1); m (from step 1) replaces the monitor and the next decision waits for its probes, or,
 * with m NULL, the running monitor stays and the policy runs now. */
void gp_cluster_reload(gp_cluster_t *c, const gp_config_t *nw, const int *map, size_t nold,
                       struct gp_monitor *m);

/* ---- what sessions, the router, /status and /metrics read ---- */

/* The writer, -1 if none. */
int gp_cluster_writer(const gp_cluster_t *c);
/* The policy has decided at least once since start (or the last monitor restart). */
bool gp_cluster_decided(const gp_cluster_t *c);
/* The last decision (meaningful once decided). */
const gp_galera_out_t *gp_cluster_out(const gp_cluster_t *c);
/* What the policy knows of node i: last probe, up, maintenance, drain. */
const gp_galera_node_in_t *gp_cluster_node(const gp_cluster_t *c, size_t i);
/* The old writer a switch still drains, -1 if none. */
int gp_cluster_barrier_from(const gp_cluster_t *c);
/* The new writer is catching up before it takes sessions. */
bool gp_cluster_syncing(const gp_cluster_t *c);
/* Writer changes since start. */
uint64_t gp_cluster_writer_changes(const gp_cluster_t *c);
/* The health-probe monitor (NULL before start). */
struct gp_monitor *gp_cluster_monitor(const gp_cluster_t *c);
/* The last writer change's timeline record. */
const gp_tl_rec_t *gp_cluster_last_change(const gp_cluster_t *c);
/* Counters for /metrics. */
const gp_cluster_stats_t *gp_cluster_stats(const gp_cluster_t *c);
/* Seconds without a writer now (0 with one). */
double gp_cluster_no_writer_seconds(const gp_cluster_t *c);
/* Evictions of node i, all monitors since start. */
uint64_t gp_cluster_node_evictions(const gp_cluster_t *c, size_t i);
/* evs.evict attempts that failed, all monitors since start. */
uint64_t gp_cluster_eviction_failures(const gp_cluster_t *c);
/* The last writer change's timeline for /status: phases in ms (null while unknown), a
 * one-line summary. */
struct json_t *gp_cluster_timeline_json(const gp_cluster_t *c);

/* ---- operator flags (admin) ---- */

/* Hold node i out of the writer and reader sets (true) or let it back; the caller decides. */
void gp_cluster_set_maintenance(gp_cluster_t *c, size_t i, bool on);
/* Mark node i as draining (its sessions are asked to leave). */
void gp_cluster_set_drain(gp_cluster_t *c, size_t i, bool on);

/* ---- counters, kept where things happen (cluster_stats.c) ---- */

/* Start counting: no writer since now_ms. */
void gp_cluster_stats_init(gp_cluster_stats_t *s, uint64_t now_ms);
/* A probe of backend idx finished. */
void gp_cluster_stats_probe(gp_cluster_stats_t *s, size_t idx, const gp_probe_t *pr);
/* The writer moves from -> to (backend names, NULL = none) for reason; detail says why. */
void gp_cluster_stats_writer_change(gp_cluster_stats_t *s, const char *from, const char *to,
                                    gp_reason_t reason, const char *detail, uint64_t now_ms);
/* A writer change's timeline closed with this longest gap between answers (timeline.h). */
void gp_cluster_stats_change_gap(gp_cluster_stats_t *s, double seconds);
/* Reload: per-backend series follow their backend to its new index (map[old] = new or -1). */
void gp_cluster_stats_remap(gp_cluster_stats_t *s, const int *map, size_t nold);

#endif
