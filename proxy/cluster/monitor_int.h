/* monitor_int.h - the monitor's internals, shared by its probes (monitor.c) with evict.c. */
#ifndef GP_MONITOR_INT_H
#define GP_MONITOR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cluster/galera.h"
#include "cluster/mconn.h"
#include "cluster/monitor.h"

#define EVICT_DEAD_MAX 16 /* UUIDs this proxy evicted, remembered for clearing evict lists */

typedef enum node_phase { NP_IDLE, NP_CONNECT, NP_QUERY, NP_STORE, NP_CLOSE } node_phase_t;

/* What to do once the connection is closed. */
typedef enum after_close {
	AC_FAIL,      /* finish the probe as failed (n->fail_err) */
	AC_RECONNECT, /* the kept connection broke mid-probe: reconnect within the probe */
	AC_LOST,      /* the idle connection broke: probe again at once */
	AC_RETRY,     /* connect reset in the handshake by a dying server: connect again soon */
	AC_DISPOSE,   /* monitor closing */
} after_close_t;

typedef struct gp_mon_node {
	gp_monitor_t *m;                /* owner */
	size_t idx;                     /* backend index */
	gp_mconn_t mc;                  /* the persistent monitor connection */
	uv_timer_t deadline;            /* monitor.timeout_ms for the probe in flight */
	node_phase_t phase;             /* where the probe is */
	after_close_t after_close;      /* continuation of NP_CLOSE */
	bool in_probe;                  /* a probe is in flight */
	bool fresh;                     /* this probe opened the connection */
	bool retried;                   /* this probe already reconnected once */
	int resets;                     /* handshake resets retried in this probe */
	bool fast_retry_used;           /* immediate re-probe after a lost connection used */
	gp_probe_err_t fail_err;        /* failure to report after the close */
	char fail_msg[160];             /* its text */
	uint64_t t_conn, t_qry;         /* uv_hrtime() at connect and query start */
	int fails, oks;                 /* consecutive failures / successes */
	bool up, ever_up, last_ok;      /* verdict; ever been up; previous probe ok */
	gp_probe_t probe;               /* what callers see */
	char evicted_uuid[GP_UUID_MAX]; /* last gcomm UUID evicted (once per UUID) */
	int64_t evict_until;            /* evidence but no survivor yet: retry until (loop ms) */
	int64_t ok_at_ms;               /* loop ms of the last successful probe */
	uint64_t evictions;             /* successful evictions of this node */
	uint64_t evicted_ns;            /* uv_hrtime() the last one returned OK (0: never) */
	bool clearing;                  /* evs.evict= (clear the evict list) in flight */
	int64_t clear_at_ms;            /* loop ms of the last clear attempt */
	bool foreign_logged;            /* "evict list not ours" said for the list as it is */
	const char *clear_proof;        /* why the clear in flight is safe (for its log line) */
} gp_mon_node_t;

/* A short-lived connection that runs one statement: an eviction or gp_monitor_exec(). */
typedef struct gp_mon_job {
	gp_monitor_t *m;                                         /* owner */
	gp_mconn_t mc;                                           /* its connection */
	int via;                                                 /* backend it runs on */
	char *sql;                                               /* the statement */
	enum { EJ_CONNECT, EJ_QUERY, EJ_STORE, EJ_CLOSE } phase; /* where it is */
	bool ok;                                                 /* the statement succeeded */
	unsigned code;                                           /* else its error code */
	char err[160];                                           /* and text */
	bool evict;                                              /* an eviction (else exec) */
	size_t victim;                                           /* eviction: the dead node */
	uint64_t tried;          /* eviction: survivors tried, bit/index */
	char uuid[GP_UUID_MAX];  /* eviction: gcomm UUID */
	uint64_t t0;             /* uv_hrtime() at the start */
	uint64_t done_ns;        /* uv_hrtime() the statement returned OK */
	gp_monitor_exec_cb cb;   /* exec: completion */
	gp_monitor_row_cb row;   /* read: each row of the result (NULL: exec) */
	char *user, *pass;       /* read: its own account (NULL: the eviction account) */
	void *arg;               /* exec: its argument */
	struct gp_mon_job *next; /* m->jobs list */
} gp_mon_job_t;

struct gp_monitor {
	uv_loop_t *loop;                        /* the one loop */
	gp_monitor_cb cb;                       /* per-probe callback */
	void *arg;                              /* its argument */
	gp_backend_conf_t *backends;            /* copy of cfg->backends */
	gp_mon_node_t *nodes;                   /* one per backend */
	size_t n;                               /* how many */
	char *user, *password;                  /* monitor account */
	char *evict_user, *evict_pass;          /* eviction account */
	bool evict_enabled;                     /* eviction.enabled */
	int64_t interval_ms, timeout_ms;        /* monitor.* */
	int fall, rise;                         /* monitor.* */
	uv_timer_t tick;                        /* every interval_ms */
	bool started, closing;                  /* lifecycle */
	gp_mconn_env_t env;                     /* loop and open uv handles; close completes at 0 */
	gp_monitor_close_cb close_cb;           /* gp_monitor_close's callback */
	void *close_arg;                        /* its argument */
	gp_mon_job_t *jobs;                     /* jobs in flight */
	gp_monitor_stats_t stats;               /* counters */
	char dead[EVICT_DEAD_MAX][GP_UUID_MAX]; /* gcomm UUIDs evicted here (gone for good) */
	size_t n_dead, dead_next;               /* filled / next slot of the ring */
	int64_t evict_done_ms;                  /* loop ms of the last successful eviction */
	int evict_size;                         /* wsrep_cluster_size at it (victim counted) */
	int64_t whole_since_ms;                 /* loop ms since the group is whole, 0 if not */
};

static inline const char *gp_mon_node_name(const gp_mon_node_t *n)
{
	return n->m->backends[n->idx].name;
}

/* A job running sql on backend via, linked into m->jobs (NULL: out of memory). */
gp_mon_job_t *gp_mon_job_new(gp_monitor_t *m, int via, const char *sql);
/* Start (or restart) its connection. */
void gp_mon_job_connect(gp_mon_job_t *j);

/* evict.c: the survivor that carries an eviction of victim (tried: bits already tried). */
int gp_mon_pick_survivor(gp_monitor_t *m, size_t victim, uint64_t tried);
/* evict.c: node n gave evidence of death: evict it from the group through a survivor. */
void gp_mon_node_evict(gp_mon_node_t *n);
/* evict.c: clear n's evict list once nothing in it can still matter. */
void gp_mon_node_clear_evict_list(gp_mon_node_t *n);

#endif
