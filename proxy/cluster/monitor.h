/* monitor.h - non-blocking health probes of every backend on the loop (evictions: evict.c). */
#ifndef GP_MONITOR_H
#define GP_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/config.h"
#include "cluster/galera.h"
#include "base/status.h"

/*
 * One persistent monitor connection per backend (cfg->backends order), driven by libmariadb's
 * non-blocking API on the caller's uv loop: no thread, no blocking call. Every
 * monitor.interval_ms each idle node runs ONE query that reads all the wsrep status and
 * global variables the policy needs (information_schema GLOBAL_STATUS UNION ALL
 * GLOBAL_VARIABLES: one result set, as cheap as SHOW STATUS + @@vars: GP_PROBE_SQL in
 * galera.h, parsed by gp_probe_set_var).
 *
 * Up/down: a connect error (refused, auth, too many connections) marks a node down at once;
 * a timeout (monitor.timeout_ms, connect + query) or a failed query counts one failure and
 * monitor.fall of them in a row mark it down; monitor.rise successes in a row mark it up.
 * The first success after start marks it up at once (nothing to flap from yet).
 *
 * Lost connection: if the idle monitor connection sees EOF/reset (the server died or killed
 * it) the node is re-probed AT ONCE with a fresh connect rather than at the next interval,
 * once per successful probe; a connection that breaks mid-probe is reconnected within the
 * same probe. A refused fresh connect after a good probe is the evidence for eviction. A
 * kill -9 closes the server's descriptors one by one, so that first reconnect is often
 * accepted and then reset in the handshake (the listener was still there): after a good
 * probe such a reset is retried 20 ms later (up to 3 times within the probe), and that
 * connect is refused. A reset alone never evicts.
 *
 * Eviction (eviction.enabled): when a node whose previous probe was fine gets a REFUSED
 * connect, the monitor runs SET GLOBAL wsrep_provider_options='evs.evict=<its last
 * wsrep_gcomm_uuid>' on a surviving node (up, Synced, Primary, ready) over a separate
 * short-lived non-blocking connection as eviction.user (default: monitor.user; needs SUPER
 * on MariaDB 10.11). Never on a timeout. Once per (node, UUID); if the survivor fails the
 * next one is tried; if none qualifies yet, every interval for 10 s. Once an eviction returns,
 * every other node is probed at once (its view just changed). One log line each: event=evict
 * node=db1 uuid=... via=db2 evidence=refused, then evict_done or evict_failed. Evicted UUIDs stay
 * in every node's evict list (wsrep_evs_evict_list); a restarted node comes back with a new gcomm
 * UUID and joins normally. SET GLOBAL wsrep_provider_options='evs.evict=' clears the list, on the
 * node where it is run only.
 *
 * Wiring (the lead's side):
 *   - main: mysql_library_init(0, NULL, NULL) before gp_monitor_new, mysql_library_end()
 *     after the loop is closed (valgrind-clean); SIGPIPE ignored (a write to a dead server).
 *   - gp_monitor_new(loop, cfg, cb, arg, &m): copies what it needs from cfg (cfg may be freed
 *     afterwards). Backend hosts should be IP addresses: libmariadb resolves names with a
 *     blocking getaddrinfo inside connect.
 *   - gp_monitor_start(m): the first round starts on the next loop iteration.
 *   - cb(m, ev, arg) runs on the loop after EVERY probe of a node (success or failure);
 *     ev->probe points at the monitor's record of that node: the pointer stays valid until
 *     gp_monitor_free, its contents change with every probe of the node. The
 *     router keeps a gp_galera_in_t whose node[i].probe points at gp_monitor_probe(m, i),
 *     sets node[i].up from ev->up and calls gp_galera_decide() from this callback.
 *   - gp_monitor_probe_now(m): an extra round now (admin action, writer lost).
 *   - shutdown: gp_monitor_close(m, done, arg) aborts probes in flight, sends COM_QUIT on
 *     idle connections and closes every handle; done(m, arg) runs once the last handle is
 *     closed, and only then may m be freed with gp_monitor_free(m) (also valid on a monitor
 *     that was never started). No probe callback fires once gp_monitor_close is called;
 *     pending gp_monitor_exec callbacks run from inside it (ok=false, "monitor closing").
 *     Pointers from gp_monitor_probe()/ev->probe die with gp_monitor_free: drop them
 *     (e.g. gp_galera_in_t.node[i].probe) before freeing or when swapping monitors.
 */

typedef struct gp_monitor gp_monitor_t;

typedef struct gp_monitor_event {
	size_t idx;              /* backend index (cfg->backends order) */
	const gp_probe_t *probe; /* its probe; valid until its next probe */
	bool up;                 /* verdict after fall/rise */
	bool up_changed;         /* this probe flipped up */
} gp_monitor_event_t;

typedef void (*gp_monitor_cb)(gp_monitor_t *m, const gp_monitor_event_t *ev, void *arg);
typedef void (*gp_monitor_close_cb)(gp_monitor_t *m, void *arg);
/* ok, or the server's (or libmariadb's) error code and text; msg valid during the call. */
typedef void (*gp_monitor_exec_cb)(void *arg, bool ok, unsigned code, const char *msg);
/* One row of a gp_monitor_read result: nf fields (NULL for SQL NULL) and their lengths. */
typedef void (*gp_monitor_row_cb)(void *arg, char **row, const unsigned long *len, unsigned nf);

/* Counters for /metrics, all monotonic. */
typedef struct gp_monitor_stats {
	uint64_t probes;            /* finished probes */
	uint64_t probe_failures;    /* of which failed */
	uint64_t connects;          /* connection attempts (monitor and eviction) */
	uint64_t conn_lost;         /* persistent connections that broke while idle or mid-probe */
	uint64_t evictions;         /* evs.evict statements that succeeded */
	uint64_t eviction_failures; /* evs.evict attempts that failed (connect or query) */
	uint64_t evictions_skipped; /* evidence but no survivor / no known UUID */
} gp_monitor_stats_t;

GP_WUR gp_status_t gp_monitor_new(uv_loop_t *loop, const gp_config_t *cfg, gp_monitor_cb cb,
                                  void *arg, gp_monitor_t **out);
GP_WUR gp_status_t gp_monitor_start(gp_monitor_t *m);
/* Start a probe of every node that has none in flight. */
void gp_monitor_probe_now(gp_monitor_t *m);
/*
 * Run one statement on backend idx over a fresh short-lived connection as the eviction
 * account (KILL on another node, admin statements). cb runs exactly once on the loop when
 * it is done, never from inside this call; if the monitor is closed first, cb(arg, false,
 * 0, "monitor closing") runs from gp_monitor_close. Errors here (bad index, closing, out
 * of memory) mean no callback.
 */
GP_WUR gp_status_t gp_monitor_exec(gp_monitor_t *m, size_t idx, const char *sql,
                                   gp_monitor_exec_cb cb, void *arg);
/* As gp_monitor_exec, as account user/pass, with every row of the result handed to row
 * (before cb; a failure after some rows still ends in cb with ok false). */
GP_WUR gp_status_t gp_monitor_read(gp_monitor_t *m, size_t idx, const char *sql, const char *user,
                                   const char *pass, gp_monitor_row_cb row, gp_monitor_exec_cb cb,
                                   void *arg);
void gp_monitor_close(gp_monitor_t *m, gp_monitor_close_cb done, void *arg);
void gp_monitor_free(gp_monitor_t *m);

size_t gp_monitor_count(const gp_monitor_t *m);
const gp_probe_t *gp_monitor_probe(const gp_monitor_t *m, size_t idx);
bool gp_monitor_node_up(const gp_monitor_t *m, size_t idx);
/* Evictions of this node that succeeded. */
uint64_t gp_monitor_node_evictions(const gp_monitor_t *m, size_t idx);
/* uv_hrtime() the last successful eviction of this node returned (0: never). */
uint64_t gp_monitor_node_evicted_ns(const gp_monitor_t *m, size_t idx);
const gp_monitor_stats_t *gp_monitor_stats(const gp_monitor_t *m);

#endif
