/* cluster.h - the proxy's live view of the cluster: probes in, writer changes and drains out. */
#ifndef GP_CLUSTER_H
#define GP_CLUSTER_H

#include "daemon/proxy.h"

/* Create and start the monitor; decisions begin once every node was probed once. */
GP_WUR gp_status_t gp_cluster_start(gp_proxy_t *p);
/* Close the monitor's handles (teardown). */
void gp_cluster_stop(gp_proxy_t *p);
/* A session left backend b: a writer-switch barrier may be over. */
void gp_cluster_session_left(gp_proxy_t *p, int b);
/* An OK or result set reached a client of the read-write endpoint from backend b at t_ns
 * (uv_hrtime()): the failover timeline's first answers and gaps. Cheap: every answer. */
void gp_cluster_rw_answer(gp_proxy_t *p, int b, uint64_t t_ns);
/* The last writer change's timeline for /status: phases in ms (null while unknown), a
 * one-line summary. */
struct json_t;
struct json_t *gp_cluster_timeline_json(const gp_proxy_t *p);
/* Run the policy now (admin flags changed, peer writer changed). */
void gp_cluster_decide(gp_proxy_t *p);
/* The first decision, once every node and the peer (if any) have answered or failed once. */
void gp_cluster_decide_first(gp_proxy_t *p);
/* The monitor callback, for a monitor re-created by a reload (admin.c). */
struct gp_monitor_event;
void gp_cluster_on_probe(struct gp_monitor *m, const struct gp_monitor_event *ev, void *arg);

#endif
