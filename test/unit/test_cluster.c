/* test_cluster.c - gp_cluster_t's decisions reach the sessions only through its hooks. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "cluster/cluster.h"
#include "gp_check.h"
#include "probe_synced.h"

#define UUID_A "d5ab1cd4-e9a4-11f1-a0de-0314b14815b3"
#define NB     3

/* What the hooks were asked, in order, as "close 0 rw writer_down" lines. */
static char calls[2048];
static uint32_t sessions[NB][2]; /* what the sessions hook answers, by backend and endpoint */
static bool peer_settled;
static gp_config_t cfg;
static gp_probe_t probes[NB];
static gp_cluster_t cl;

static const char *ep_name(int ep)
{
	return ep < 0 ? "any" : ep == GP_CLUSTER_RW ? "rw" : "ro";
}

static void note(const char *fmt, int b, int ep, const char *reason)
{
	size_t l = strlen(calls);
	snprintf(calls + l, sizeof(calls) - l, fmt, b, ep_name(ep), reason);
}

static void h_close(void *arg, int b, int ep, gp_close_t reason)
{
	(void)arg;
	note("close %d %s %s\n", b, ep, gp_close_name(reason));
}

static void h_drain(void *arg, int b, int ep, uint64_t deadline, gp_close_t reason)
{
	(void)arg;
	(void)deadline;
	note("drain %d %s %s\n", b, ep, gp_close_name(reason));
}

static void h_wake(void *arg)
{
	(void)arg;
	note("wake%d%s%s\n", 0, -1, "");
}

static uint32_t h_sessions(void *arg, int b, int ep)
{
	(void)arg;
	return ep < 0 ? sessions[b][0] + sessions[b][1] : sessions[b][ep];
}

static bool h_peer_settled(void *arg)
{
	(void)arg;
	return peer_settled;
}

static void probe_synced(gp_probe_t *p)
{
	probe_synced_uuid(p, UUID_A);
}

/* Three synced nodes, probed, no decision yet; no loop (no barrier timer is needed while the
 * old writer has no sessions). */
static void setup(void)
{
	static const gp_cluster_hooks_t hooks = {
	        .close = h_close,
	        .drain = h_drain,
	        .wake = h_wake,
	        .sessions = h_sessions,
	        .peer_settled = h_peer_settled,
	};
	gp_log_min_level = (gp_log_level_t)(GP_LOG_ERROR + 1);
	memset(&cfg, 0, sizeof(cfg));
	memset(sessions, 0, sizeof(sessions));
	calls[0] = '\0';
	peer_settled = true;
	cfg.nbackends = NB;
	cfg.routing_max_recv_queue = 100;
	cfg.routing_drain_timeout_ms = 1000;
	for (int i = 0; i < NB; i++) {
		snprintf(cfg.backends[i].name, GP_NAME_MAX, "db%d", i + 1);
		cfg.backends[i].priority = i + 1;
	}
	gp_cluster_init(&cl, NULL, &cfg, &hooks);
	for (int i = 0; i < NB; i++) {
		probe_synced(&probes[i]);
		cl.gin.node[i].probe = &probes[i];
		cl.gin.node[i].up = true;
	}
}

START_TEST(test_first_decision_waits_for_peer)
{
	setup();
	peer_settled = false;
	gp_cluster_decide_first(&cl);
	ck_assert(!gp_cluster_decided(&cl));
	ck_assert_int_eq(gp_cluster_writer(&cl), -1);
	peer_settled = true;
	gp_cluster_decide_first(&cl);
	ck_assert(gp_cluster_decided(&cl));
	ck_assert_int_eq(gp_cluster_writer(&cl), 0);
	ck_assert_str_eq(calls, "wake0any\n"); /* the first decision releases waiting sessions */
	ck_assert_uint_eq(gp_cluster_writer_changes(&cl), 1);
	ck_assert_uint_eq(gp_cluster_stats(&cl)->writer_changes[GP_REASON_INITIAL], 1);
	ck_assert_str_eq(gp_cluster_stats(&cl)->last_to, "db1");
}
END_TEST

START_TEST(test_writer_down_closes_its_sessions)
{
	setup();
	gp_cluster_decide(&cl);
	calls[0] = '\0';
	probes[0].ok = false;
	cl.gin.node[0].up = false;
	gp_cluster_decide(&cl);
	ck_assert_int_eq(gp_cluster_writer(&cl), 1);
	ck_assert_str_eq(calls, "close 0 rw writer_down\n");
	ck_assert_int_eq(gp_cluster_barrier_from(&cl), -1); /* nothing there can commit */
	ck_assert_uint_eq(gp_cluster_stats(&cl)->writer_changes[GP_REASON_DOWN], 1);
	ck_assert_uint_eq(gp_cluster_stats(&cl)->failover.count, 1);
}
END_TEST

START_TEST(test_planned_switch_drains_then_releases)
{
	setup();
	gp_cluster_decide(&cl);
	calls[0] = '\0';
	gp_cluster_set_maintenance(&cl, 0, true);
	ck_assert(gp_cluster_node(&cl, 0)->maintenance);
	gp_cluster_decide(&cl);
	ck_assert_int_eq(gp_cluster_writer(&cl), 1);
	/* the old writer's sessions drain; none left, so the barrier ends at once and (no
	 * monitor to catch the new writer up) waiting sessions go */
	ck_assert_str_eq(calls, "drain 0 rw writer_changed\nwake0any\n");
	ck_assert_int_eq(gp_cluster_barrier_from(&cl), -1);
	ck_assert(!gp_cluster_syncing(&cl));
	ck_assert_uint_eq(gp_cluster_stats(&cl)->writer_changes[GP_REASON_MAINTENANCE], 1);
}
END_TEST

START_TEST(test_reader_down_closes_ro_sessions)
{
	setup();
	gp_cluster_decide(&cl);
	calls[0] = '\0';
	sessions[2][GP_CLUSTER_RO] = 1;
	probes[2].ok = false;
	cl.gin.node[2].up = false;
	gp_cluster_decide(&cl);
	ck_assert_int_eq(gp_cluster_writer(&cl), 0);
	ck_assert_str_eq(calls, "close 2 ro reader_down\n");
	ck_assert(!gp_cluster_out(&cl)->reader_eligible[2]);
}
END_TEST

START_TEST(test_peer_writer_pushed_by_name)
{
	setup();
	gp_cluster_decide(&cl);
	gp_cluster_set_peer_writer(&cl, "db3");
	gp_cluster_decide(&cl);
	ck_assert_int_eq(gp_cluster_writer(&cl), 2);
	ck_assert_uint_eq(gp_cluster_stats(&cl)->writer_changes[GP_REASON_PEER], 1);
	gp_cluster_set_peer_writer(&cl, "no-such-node");
	gp_cluster_decide(&cl);
	ck_assert_int_eq(gp_cluster_writer(&cl), 2); /* sticky without a usable suggestion */
	gp_cluster_set_peer_writer(&cl, NULL);
	gp_cluster_decide(&cl);
	ck_assert_int_eq(gp_cluster_writer(&cl), 2);
}
END_TEST

START_TEST(test_reload_follows_backends)
{
	setup();
	gp_cluster_decide(&cl);
	gp_cluster_set_maintenance(&cl, 2, true);
	gp_cluster_stats_probe(&cl.stats, 2, &probes[2]);
	/* db1 removed: db2 and db3 move to indexes 0 and 1 */
	static gp_config_t nw;
	memset(&nw, 0, sizeof(nw));
	nw.nbackends = 2;
	nw.routing_max_recv_queue = 100;
	snprintf(nw.backends[0].name, GP_NAME_MAX, "db2");
	snprintf(nw.backends[1].name, GP_NAME_MAX, "db3");
	nw.backends[0].priority = 2;
	nw.backends[1].priority = 3;
	int map[NB] = {-1, 0, 1};
	gp_cluster_reload(&cl, &nw, map, NB, NULL);
	ck_assert(gp_cluster_node(&cl, 1)->maintenance);
	ck_assert(!gp_cluster_node(&cl, 0)->maintenance);
	/* the kept monitor's probes stay; the writer is gone, so the policy picks db2 */
	ck_assert_int_eq(gp_cluster_writer(&cl), 0);
	ck_assert_uint_eq(gp_cluster_stats(&cl)->probe[1].count, 0); /* stats move on restart */
}
END_TEST

static Suite *cluster_suite(void)
{
	Suite *s = suite_create("cluster");
	TCase *tc = tcase_create("hooks");
	tcase_add_test(tc, test_first_decision_waits_for_peer);
	tcase_add_test(tc, test_writer_down_closes_its_sessions);
	tcase_add_test(tc, test_planned_switch_drains_then_releases);
	tcase_add_test(tc, test_reader_down_closes_ro_sessions);
	tcase_add_test(tc, test_peer_writer_pushed_by_name);
	tcase_add_test(tc, test_reload_follows_backends);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return gp_check_run(cluster_suite(), CK_ENV);
}
