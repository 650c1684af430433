/* monitor_probe.c - run the monitor and the policy against a real cluster; print what they see. */
#include <mysql.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <uv.h>

#include "base/config.h"
#include "cluster/galera.h"
#include "base/log.h"
#include "cluster/monitor.h"

/*
 * Usage: monitor_probe [-i interval_ms] [-t timeout_ms] [-d seconds] [-u user] [-p password]
 *                      [-e exec_sql] [-v] HOST:PORT...
 * Backends are named db1, db2, ... with priorities 1, 2, ...; fall=2 rise=2, eviction on.
 * stdout, one line per interval and one per event, each starting with epoch milliseconds:
 *   <ms> ROUND writer=db1 db1=synced/up/size3 db2=...
 *   <ms> UP node=db3 up=0 err=refused           (a node's up flag flipped)
 *   <ms> WRITER from=db1 to=db2 reason=down detail="db1 down"
 *   <ms> EXEC node=db1 ok=1 code=0 msg=""       (result of -e, run once on every node)
 *   <ms> STATS probes=... evictions=...          (at exit)
 * stderr: the monitor's own logfmt lines (event=evict, evict_done, backend_down, ...).
 * SIGINT/SIGTERM or -d end it cleanly: every handle closed, valgrind-clean.
 */

static uv_loop_t loop;
static gp_config_t cfg;
static gp_monitor_t *mon;
static gp_galera_in_t gin;
static gp_galera_out_t gout;
static uv_timer_t round_timer, stop_timer;
static uv_signal_t sig_int, sig_term;
static const char *exec_sql;
static int exec_pending;
static int exit_code;

static long long now_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void decide(void)
{
	gin.writer = gout.writer;
	gin.now_ms = (int64_t)uv_now(&loop);
	gp_galera_decide(&cfg, &gin, &gout);
	for (size_t i = 0; i < cfg.nbackends; i++)
		gin.node[i].eligible_since_ms = gout.eligible_since_ms[i];
	if (gout.changed)
		printf("%lld WRITER from=%s to=%s reason=%s detail=\"%s\"\n", now_ms(),
		       gin.writer >= 0 ? cfg.backends[gin.writer].name : "none",
		       gout.writer >= 0 ? cfg.backends[gout.writer].name : "none",
		       gp_reason_name(gout.reason), gout.reason_text);
}

static void on_probe(gp_monitor_t *m, const gp_monitor_event_t *ev, void *arg)
{
	(void)m;
	(void)arg;
	gin.node[ev->idx].probe = ev->probe;
	gin.node[ev->idx].up = ev->up;
	if (ev->up_changed)
		printf("%lld UP node=%s up=%d err=%s gcomm_uuid=%s latency_us=%lld\n", now_ms(),
		       cfg.backends[ev->idx].name, ev->up, gp_probe_err_name(ev->probe->err),
		       ev->probe->gcomm_uuid[0] ? ev->probe->gcomm_uuid : "-",
		       (long long)ev->probe->latency_us);
	/* Like the router: the first decision waits until every node answered or failed once. */
	for (size_t i = 0; i < cfg.nbackends; i++)
		if (!gin.node[i].probe)
			return;
	decide();
	fflush(stdout);
}

static void on_round(uv_timer_t *t)
{
	char line[1024];
	int len;

	(void)t;
	len = snprintf(line, sizeof(line), "%lld ROUND writer=%s", now_ms(),
	               gout.writer >= 0 ? cfg.backends[gout.writer].name : "none");
	for (size_t i = 0; i < cfg.nbackends && len < (int)sizeof(line); i++) {
		const gp_probe_t *p = gp_monitor_probe(mon, i);
		len += snprintf(line + len, sizeof(line) - (size_t)len, " %s=%s/%s/size%d/%lldus",
		                cfg.backends[i].name, gp_node_state_name(gout.state[i]),
		                gp_monitor_node_up(mon, i) ? "up" : "down", p->cluster_size,
		                (long long)p->latency_us);
	}
	printf("%s\n", line);
	fflush(stdout);
}

static void on_exec(void *arg, bool ok, unsigned code, const char *msg)
{
	size_t idx = (size_t)(uintptr_t)arg;
	printf("%lld EXEC node=%s ok=%d code=%u msg=\"%s\"\n", now_ms(), cfg.backends[idx].name, ok,
	       code, msg);
	exec_pending--;
}

static void on_first_round(uv_timer_t *t)
{
	(void)t;
	if (!exec_sql)
		return;
	for (size_t i = 0; i < cfg.nbackends; i++) {
		if (gp_monitor_exec(mon, i, exec_sql, on_exec, (void *)(uintptr_t)i) == GP_OK)
			exec_pending++;
		else
			printf("%lld EXEC node=%s refused\n", now_ms(), cfg.backends[i].name);
	}
}

static void on_monitor_closed(gp_monitor_t *m, void *arg)
{
	const gp_monitor_stats_t *st = gp_monitor_stats(m);
	(void)arg;
	printf("%lld STATS probes=%llu failures=%llu connects=%llu conn_lost=%llu evictions=%llu "
	       "eviction_failures=%llu evictions_skipped=%llu exec_pending=%d\n",
	       now_ms(), (unsigned long long)st->probes, (unsigned long long)st->probe_failures,
	       (unsigned long long)st->connects, (unsigned long long)st->conn_lost,
	       (unsigned long long)st->evictions, (unsigned long long)st->eviction_failures,
	       (unsigned long long)st->evictions_skipped, exec_pending);
	fflush(stdout);
	if (exec_pending)
		exit_code = 1; /* every exec callback must have run by now */
	gp_monitor_free(m);
	mon = NULL;
}

static void stop_all(void)
{
	static bool stopping;
	if (stopping)
		return;
	stopping = true;
	uv_close((uv_handle_t *)&round_timer, NULL);
	uv_close((uv_handle_t *)&stop_timer, NULL);
	uv_close((uv_handle_t *)&sig_int, NULL);
	uv_close((uv_handle_t *)&sig_term, NULL);
	gp_monitor_close(mon, on_monitor_closed, NULL);
}

static void on_signal(uv_signal_t *s, int signum)
{
	(void)s;
	(void)signum;
	stop_all();
}

static void on_stop(uv_timer_t *t)
{
	(void)t;
	stop_all();
}

static void usage(void)
{
	fprintf(stderr, "usage: monitor_probe [-i ms] [-t ms] [-d s] [-u user] [-p pass] "
	                "[-e sql] [-v] HOST:PORT...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int64_t interval = 250, timeout = 1000, duration = 0;
	char *user = "monitor", *pass = "monitor";
	uv_timer_t first;
	int opt;

	while ((opt = getopt(argc, argv, "i:t:d:u:p:e:v")) != -1) {
		switch (opt) {
		case 'i':
			interval = atoll(optarg);
			break;
		case 't':
			timeout = atoll(optarg);
			break;
		case 'd':
			duration = atoll(optarg);
			break;
		case 'u':
			user = optarg;
			break;
		case 'p':
			pass = optarg;
			break;
		case 'e':
			exec_sql = optarg;
			break;
		case 'v':
			gp_log_min_level = GP_LOG_DEBUG;
			break;
		default:
			usage();
		}
	}
	if (optind >= argc || argc - optind > GP_MAX_BACKENDS)
		usage();
	memset(&cfg, 0, sizeof(cfg));
	cfg.monitor_user = user;
	cfg.monitor_password = pass;
	cfg.monitor_interval_ms = interval;
	cfg.monitor_timeout_ms = timeout;
	cfg.monitor_fall = 2;
	cfg.monitor_rise = 2;
	cfg.eviction_enabled = true;
	cfg.eviction_user = "";
	cfg.eviction_password = "";
	cfg.tls_backend = "off"; /* the monitor reads tls.backend* (no TLS to these nodes) */
	cfg.tls_backend_ca = cfg.tls_backend_cert = cfg.tls_backend_key = "";
	cfg.routing_max_recv_queue = 100;
	cfg.routing_failback_after_ms = 30000;
	for (int i = optind; i < argc; i++) {
		gp_backend_conf_t *b = &cfg.backends[cfg.nbackends];
		snprintf(b->name, sizeof(b->name), "db%zu", cfg.nbackends + 1);
		snprintf(b->address, sizeof(b->address), "%s", argv[i]);
		char *colon = strrchr(argv[i], ':');
		if (!colon || colon == argv[i] || atoi(colon + 1) <= 0)
			usage();
		snprintf(b->host, sizeof(b->host), "%.*s", (int)(colon - argv[i]), argv[i]);
		b->port = (uint16_t)atoi(colon + 1);
		b->priority = (int64_t)cfg.nbackends + 1;
		cfg.nbackends++;
	}

	setvbuf(stdout, NULL, _IOLBF, 0); /* the driver script reads lines as they come */
	signal(SIGPIPE, SIG_IGN);
	if (mysql_library_init(0, NULL, NULL)) {
		fprintf(stderr, "mysql_library_init failed\n");
		return 1;
	}
	uv_loop_init(&loop);
	gp_galera_in_init(&gin);
	gout.writer = -1;
	if (gp_monitor_new(&loop, &cfg, on_probe, NULL, &mon) != GP_OK ||
	    gp_monitor_start(mon) != GP_OK) {
		fprintf(stderr, "monitor start failed\n");
		return 1;
	}
	uv_timer_init(&loop, &round_timer);
	uv_timer_start(&round_timer, on_round, (uint64_t)interval, (uint64_t)interval);
	uv_timer_init(&loop, &first);
	uv_timer_start(&first, on_first_round, (uint64_t)interval, 0);
	uv_timer_init(&loop, &stop_timer);
	if (duration > 0)
		uv_timer_start(&stop_timer, on_stop, (uint64_t)duration * 1000, 0);
	uv_signal_init(&loop, &sig_int);
	uv_signal_start(&sig_int, on_signal, SIGINT);
	uv_signal_init(&loop, &sig_term);
	uv_signal_start(&sig_term, on_signal, SIGTERM);

	uv_run(&loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&first, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&loop) != 0) {
		fprintf(stderr, "loop not empty at exit\n");
		exit_code = 1;
	}
	mysql_library_end();
	return exit_code;
}
