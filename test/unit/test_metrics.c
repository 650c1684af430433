/* test_metrics.c - metric hooks, histograms, the exposition text and the HTTP auth helpers. */
#include <arpa/inet.h>
#include <check.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "gp_check.h"
#include "net/http.h"
#include "ops/metrics.h"
#include "core/proxy.h"
#include "ha/vrrp.h"

static gp_config_t cfg;
static gp_proxy_t proxy;
static gp_metrics_t metrics;
static gp_vrrp_t vrrp;

/* A proxy with two backends and a decision, without a loop: enough for the exposition. */
static gp_proxy_t *fake_proxy(void)
{
	memset(&cfg, 0, sizeof(cfg));
	memset(&proxy, 0, sizeof(proxy));
	memset(&vrrp, 0, sizeof(vrrp));
	cfg.nbackends = 2;
	strcpy(cfg.backends[0].name, "db1");
	strcpy(cfg.backends[1].name, "db2");
	cfg.backends[0].priority = 1;
	cfg.backends[1].priority = 2;
	proxy.cfg = &cfg;
	proxy.nbackends = 2;
	for (int i = 0; i < 2; i++)
		proxy.backends[i].conf = &cfg.backends[i];
	for (int i = 0; i < GP_SS__COUNT; i++)
		gp_list_init(&proxy.sessions[i]);
	gp_cluster_init(&proxy.cluster, NULL, &cfg, NULL);
	proxy.metrics = &metrics;
	proxy.vrrp = &vrrp;
	gp_metrics_init(proxy.metrics);
	proxy.cluster.decided = true;
	proxy.cluster.gout.state[0] = GP_NODE_SYNCED;
	proxy.cluster.gout.state[1] = GP_NODE_DONOR;
	proxy.cluster.writer = 0;
	proxy.cluster.barrier_from = -1;
	proxy.vrrp->notified = proxy.vrrp->effective = GP_VRRP_UNKNOWN;
	proxy.cluster.gin.node[0].up = true;
	return &proxy;
}

static char *expose(const gp_proxy_t *p)
{
	gp_strbuf_t b = {0};
	gp_metrics_write(p, &b);
	ck_assert(!b.failed);
	ck_assert_ptr_nonnull(b.data);
	return b.data;
}

/* Value of one series in the text, or -1 if absent. */
static double value_of(const char *text, const char *series)
{
	size_t n = strlen(series);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (!strncmp(l, series, n) && l[n] == ' ')
			return strtod(l + n + 1, NULL);
	}
	return -1;
}

START_TEST(test_hist_buckets)
{
	gp_hist_t h = {0};
	gp_hist_observe(&h, GP_HIST_REQUEST, 0.0003); /* <= 0.0005, the third bound */
	gp_hist_observe(&h, GP_HIST_REQUEST, 0.0001); /* exactly the first bound */
	gp_hist_observe(&h, GP_HIST_REQUEST, 100);    /* beyond all: +Inf only */
	gp_hist_observe(&h, GP_HIST_REQUEST, -1);     /* clock step: counted as 0 */
	ck_assert_uint_eq(h.bucket[0], 2);
	ck_assert_uint_eq(h.bucket[2], 1);
	ck_assert_uint_eq(h.count, 4);
	ck_assert(h.sum > 100.0003 && h.sum < 100.0005);
}
END_TEST

START_TEST(test_closed_reasons)
{
	gp_metrics_t m;
	gp_metrics_init(&m);
	gp_metrics_session_closed(&m, GP_CLOSE_CLIENT_QUIT);
	gp_metrics_session_closed(&m, GP_CLOSE_DRAIN_TIMEOUT);
	gp_metrics_session_closed(&m, GP_CLOSE_FENCED);
	gp_metrics_session_closed(&m, GP_CLOSE_FENCED);
	gp_metrics_session_closed(&m, GP_CLOSE_NONE); /* not a reason: not counted */
	ck_assert_uint_eq(m.closed[GP_CLOSE_CLIENT_QUIT], 1);
	ck_assert_uint_eq(m.closed[GP_CLOSE_FENCED], 2);
	ck_assert_uint_eq(m.sessions_killed, 1); /* drain_timeout cut; the others did not */
	ck_assert_str_eq(gp_close_name(GP_CLOSE_FENCED), "fenced");
	ck_assert_str_eq(gp_close_name(GP_CLOSE_NONE), "-");
	/* every label is distinct (they are the metric's series) */
	for (int i = 0; i < GP_CLOSE__COUNT; i++)
		for (int j = i + 1; j < GP_CLOSE__COUNT; j++)
			ck_assert_str_ne(gp_close_name((gp_close_t)i),
			                 gp_close_name((gp_close_t)j));
}
END_TEST

START_TEST(test_writer_change_failover)
{
	gp_cluster_stats_t m;
	gp_cluster_stats_init(&m, 1000);
	gp_cluster_stats_writer_change(&m, NULL, "db1", GP_REASON_INITIAL, "db1 is best", 1500);
	ck_assert_uint_eq(m.failover.count, 0); /* the first writer is no failover */
	ck_assert_uint_eq(m.no_writer_ms_total, 500);
	gp_cluster_stats_writer_change(&m, "db1", NULL, GP_REASON_DOWN, "db1 down", 2000);
	gp_cluster_stats_writer_change(&m, NULL, "db2", GP_REASON_INITIAL, "db2 is best", 4500);
	ck_assert_uint_eq(m.failover.count, 1);
	ck_assert(m.failover.sum > 2.49 && m.failover.sum < 2.51);
	gp_cluster_stats_writer_change(&m, "db2", "db1", GP_REASON_MAINTENANCE, "db2 maintenance",
	                               5000);
	ck_assert_uint_eq(m.failover.count, 2); /* direct hand-over: 0 s */
	gp_cluster_stats_writer_change(&m, "db1", "db2", GP_REASON_FAILBACK, "db2 preferred", 6000);
	ck_assert_uint_eq(m.failover.count, 2); /* a failback is no failover */
	ck_assert_uint_eq(m.writer_changes[GP_REASON_INITIAL], 2);
	ck_assert_str_eq(m.last_from, "db1");
	ck_assert_str_eq(m.last_to, "db2");
	ck_assert_int_eq(m.last_reason, GP_REASON_FAILBACK);
	ck_assert_uint_eq(m.no_writer_ms_total, 3000);
}
END_TEST

START_TEST(test_remap)
{
	gp_cluster_stats_t m;
	gp_cluster_stats_init(&m, 1);
	gp_hist_observe(&m.probe[0], GP_HIST_PROBE, 0.001);
	m.probe_failures[1][GP_PROBE_REFUSED] = 7;
	m.evictions_base[0] = 3;
	m.evictions_base[1] = 4;
	int map[2] = {-1, 0}; /* db1 removed, db2 moves to index 0 */
	gp_cluster_stats_remap(&m, map, 2);
	ck_assert_uint_eq(m.probe[0].count, 0);
	ck_assert_uint_eq(m.probe_failures[0][GP_PROBE_REFUSED], 7);
	ck_assert_uint_eq(m.evictions_base[0], 4);
	ck_assert_uint_eq(m.evictions_gone, 3);
}
END_TEST

START_TEST(test_exposition)
{
	gp_proxy_t *p = fake_proxy();
	gp_metrics_command(p->metrics, GP_EP_RW, 0x03);
	gp_metrics_request_done(p->metrics, GP_EP_RW, 2000000); /* 2 ms */
	gp_metrics_session_closed(p->metrics, GP_CLOSE_FENCED);
	char *t = expose(p);

	/* every sample line belongs to a family declared just before with HELP and TYPE */
	const char *family = NULL;
	size_t flen = 0;
	int lines = 0;
	for (char *l = t; *l; l = strchr(l, '\n') + 1) {
		ck_assert_ptr_nonnull(strchr(l, '\n'));
		if (!strncmp(l, "# HELP galera_proxy_", 20)) {
			family = l + 7;
			flen = strcspn(family, " ");
			continue;
		}
		if (!strncmp(l, "# TYPE ", 7)) {
			ck_assert(!strncmp(l + 7, family, flen));
			continue;
		}
		ck_assert_msg(family && !strncmp(l, family, flen),
		              "sample outside its family: %.60s", l);
		lines++;
	}
	ck_assert_int_gt(lines, 100);

	ck_assert(value_of(t, "galera_proxy_backend_state{backend=\"db1\",state=\"synced\"}") == 1);
	ck_assert(value_of(t, "galera_proxy_backend_state{backend=\"db1\",state=\"down\"}") == 0);
	ck_assert(value_of(t, "galera_proxy_backend_state{backend=\"db2\",state=\"donor\"}") == 1);
	ck_assert(value_of(t, "galera_proxy_backend_state{backend=\"db2\",state=\"unknown\"}") ==
	          0);
	ck_assert(value_of(t, "galera_proxy_backend_is_writer{backend=\"db1\"}") == 1);
	ck_assert(value_of(t, "galera_proxy_backend_is_writer{backend=\"db2\"}") == 0);
	ck_assert(value_of(t, "galera_proxy_backend_up{backend=\"db1\"}") == 1);
	ck_assert(value_of(t, "galera_proxy_backend_priority{backend=\"db2\"}") == 2);
	ck_assert(value_of(t, "galera_proxy_vrrp_state{state=\"UNKNOWN\"}") == 1);
	ck_assert(value_of(t, "galera_proxy_vrrp_state{state=\"MASTER\"}") == 0);
	ck_assert(value_of(t, "galera_proxy_has_writer") == 1);
	ck_assert(value_of(t, "galera_proxy_commands_total{endpoint=\"rw\",command=\"query\"}") ==
	          1);
	/* 2 ms: not in the 1 ms bucket, in the 2.5 ms one and all above */
	ck_assert(value_of(t, "galera_proxy_request_duration_seconds_bucket{endpoint=\"rw\",le=\"0."
	                      "001\"}") == 0);
	ck_assert(value_of(t, "galera_proxy_request_duration_seconds_bucket{endpoint=\"rw\",le=\"0."
	                      "0025\"}") == 1);
	ck_assert(value_of(t, "galera_proxy_request_duration_seconds_bucket{endpoint=\"rw\",le=\"+"
	                      "Inf\"}") == 1);
	ck_assert(value_of(t, "galera_proxy_request_duration_seconds_count{endpoint=\"rw\"}") == 1);
	ck_assert(value_of(t, "galera_proxy_client_connections_closed_total{reason=\"fenced\"}") ==
	          1);
	ck_assert(value_of(t, "galera_proxy_client_connections_closed_total{reason=\"drained\"}") ==
	          0);
	/* no wsrep values from a node never probed: NaN, not a made-up 0 */
	ck_assert_ptr_nonnull(
	        strstr(t, "galera_proxy_backend_wsrep_local_state{backend=\"db1\"} NaN\n"));
	free(t);
	/* label values are escaped */
	strcpy(cfg.backends[1].name, "we\"ird\\db\n");
	t = expose(p);
	ck_assert_ptr_nonnull(strstr(t, "backend_priority{backend=\"we\\\"ird\\\\db\\n\"} 2\n"));
	free(t);
}
END_TEST

START_TEST(test_exposition_undecided)
{
	gp_proxy_t *p = fake_proxy();
	p->cluster.decided = false;
	p->cluster.writer = -1;
	char *t = expose(p);
	ck_assert(value_of(t, "galera_proxy_backend_state{backend=\"db1\",state=\"unknown\"}") ==
	          1);
	ck_assert(value_of(t, "galera_proxy_backend_state{backend=\"db1\",state=\"synced\"}") == 0);
	ck_assert(value_of(t, "galera_proxy_has_writer") == 0);
	free(t);
}
END_TEST

static struct sockaddr_storage v4(const char *ip)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;
	a->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &a->sin_addr);
	return ss;
}

static struct sockaddr_storage v6(const char *ip)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
	a->sin6_family = AF_INET6;
	inet_pton(AF_INET6, ip, &a->sin6_addr);
	return ss;
}

START_TEST(test_timeline_exposition)
{
	gp_proxy_t *p = fake_proxy();
	gp_timeline_init(&p->cluster.timeline);
	char *t = expose(p);
	ck_assert(isnan(value_of(t, "galera_proxy_last_writer_change_seconds{phase=\"detect\"}")));
	ck_assert(value_of(t, "galera_proxy_writer_change_gap_seconds_count") == 0);
	free(t);
	gp_tl_rec_t closed;
	gp_timeline_answer(&p->cluster.timeline, 0, 990000000);
	gp_timeline_change(&p->cluster.timeline, 0, 1, "db1", "db2", GP_REASON_DOWN, true,
	                   1000000000, &closed);
	gp_timeline_answer(&p->cluster.timeline, 1, 1050000000);
	gp_cluster_stats_change_gap(&p->cluster.stats, 0.06);
	t = expose(p);
	ck_assert(fabs(value_of(t, "galera_proxy_last_writer_change_seconds{phase=\"detect\"}") -
	               0.01) < 1e-9);
	ck_assert(isnan(value_of(t, "galera_proxy_last_writer_change_seconds{phase=\"evict\"}")));
	ck_assert(fabs(value_of(t,
	                        "galera_proxy_last_writer_change_seconds{phase=\"first_answer\"}") -
	               0.05) < 1e-9);
	ck_assert(fabs(value_of(t, "galera_proxy_last_writer_change_seconds{phase=\"gap\"}") -
	               0.06) < 1e-9);
	ck_assert(value_of(t, "galera_proxy_writer_change_gap_seconds_bucket{le=\"0.05\"}") == 0);
	ck_assert(value_of(t, "galera_proxy_writer_change_gap_seconds_bucket{le=\"0.1\"}") == 1);
	ck_assert(value_of(t, "galera_proxy_writer_change_gap_seconds_count") == 1);
	free(t);
}
END_TEST

START_TEST(test_same_host)
{
	/* loopback sources and the proxy's own address are the same host; others are not */
	struct sockaddr_storage lo = v4("127.0.0.1"), lo2 = v4("127.0.0.2"), own = v4("10.0.0.5");
	struct sockaddr_storage other = v4("10.0.0.6"), m = v6("::ffff:127.0.0.1"), l6 = v6("::1");
	struct sockaddr_storage own6 = v6("fd00::5"), other6 = v6("fd00::6");
	ck_assert(gp_http_same_host((struct sockaddr *)&lo, (struct sockaddr *)&lo));
	ck_assert(gp_http_same_host((struct sockaddr *)&lo2, (struct sockaddr *)&lo));
	ck_assert(gp_http_same_host((struct sockaddr *)&lo2, (struct sockaddr *)&own));
	ck_assert(gp_http_same_host((struct sockaddr *)&m, (struct sockaddr *)&lo));
	ck_assert(gp_http_same_host((struct sockaddr *)&l6, (struct sockaddr *)&own6));
	ck_assert(gp_http_same_host((struct sockaddr *)&own, (struct sockaddr *)&own));
	ck_assert(gp_http_same_host((struct sockaddr *)&own6, (struct sockaddr *)&own6));
	ck_assert(!gp_http_same_host((struct sockaddr *)&other, (struct sockaddr *)&own));
	ck_assert(!gp_http_same_host((struct sockaddr *)&other6, (struct sockaddr *)&own6));
	ck_assert(!gp_http_same_host((struct sockaddr *)&other, (struct sockaddr *)&lo));
}
END_TEST

START_TEST(test_token_equal)
{
	ck_assert(gp_http_token_equal("s3cret", "s3cret"));
	ck_assert(!gp_http_token_equal("s3cre", "s3cret"));
	ck_assert(!gp_http_token_equal("s3cretX", "s3cret"));
	ck_assert(!gp_http_token_equal("S3cret", "s3cret"));
	ck_assert(!gp_http_token_equal("", "")); /* no token configured: never equal */
	ck_assert(!gp_http_token_equal("x", ""));
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_hist_buckets);
	tcase_add_test(tc, test_closed_reasons);
	tcase_add_test(tc, test_writer_change_failover);
	tcase_add_test(tc, test_remap);
	tcase_add_test(tc, test_exposition);
	tcase_add_test(tc, test_exposition_undecided);
	tcase_add_test(tc, test_timeline_exposition);
	tcase_add_test(tc, test_same_host);
	tcase_add_test(tc, test_token_equal);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return gp_check_run(metrics_suite(), CK_ENV);
}
