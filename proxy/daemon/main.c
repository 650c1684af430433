/* main.c - galera-proxy's entry point: command line, start-up, the event loop. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <mysql.h>
#include <uv.h>

#include "base/config.h"
#include "base/log.h"
#include "daemon/proxy.h"
#include "net/tls.h"
#include "session/session.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: galera-proxy -c FILE [--check-config]\n"
	           "       galera-proxy --version\n"
	           "  -c, --config FILE   configuration file (libconfig syntax)\n"
	           "      --check-config  validate FILE and exit 0 (valid) or 1\n"
	           "      --describe-config  print every configuration key as a Markdown table\n"
	           "  -V, --version       print the version\n"
	           "  -h, --help          this text\n");
}

/* Raise the open-file limit as far as allowed: every session needs two sockets. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	rlim_t before = rl.rlim_cur;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			rl.rlim_cur = before;
	}
	gp_log(GP_LOG_INFO, "nofile_limit", "before=%llu now=%llu max=%llu",
	       (unsigned long long)before, (unsigned long long)rl.rlim_cur,
	       (unsigned long long)rl.rlim_max);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"config", required_argument, NULL, 'c'},
	        {"check-config", no_argument, NULL, 'k'},
	        {"describe-config", no_argument, NULL, 'D'},
	        {"version", no_argument, NULL, 'V'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	int check_only = 0, c;
	while ((c = getopt_long(argc, argv, "c:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'k':
			check_only = 1;
			break;
		case 'D':
			gp_config_describe(stdout);
			return 0;
		case 'V':
			printf("galera-proxy %s\n", GP_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!path || optind != argc) {
		usage(stderr);
		return 2;
	}

	char err[512];
	gp_config_t *cfg = NULL;
	if (gp_config_load(path, &cfg, err, sizeof(err)) != GP_OK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (check_only) {
		struct gp_tls_ctx *tls = NULL; /* the certificate and key must load, too */
		char terr[400];
		gp_status_t tst = gp_session_tls_build(cfg, &tls, terr, sizeof(terr));
		gp_tls_ctx_unref(tls);
		tls = NULL;
		if (tst == GP_OK) /* so must tls.backend's */
			tst = gp_session_btls_build(cfg, &tls, terr, sizeof(terr));
		gp_tls_ctx_unref(tls);
		if (tst != GP_OK) {
			fprintf(stderr, "%s: %s\n", path, terr);
			gp_config_free(cfg);
			return 1;
		}
		printf("%s: ok (%zu backends)\n", path, cfg->nbackends);
		gp_config_free(cfg);
		return 0;
	}
	gp_log_min_level = (gp_log_level_t)gp_log_level_parse(cfg->top_log_level);
	signal(SIGPIPE, SIG_IGN);
	gp_log(GP_LOG_INFO, "start", "version=%s config=%s backends=%zu", GP_VERSION, path,
	       cfg->nbackends);
	raise_nofile();

	mysql_library_init(0, NULL, NULL);
	uv_loop_t loop;
	if (uv_loop_init(&loop) != 0) {
		gp_config_free(cfg);
		return 1;
	}
	static gp_daemon_t daemon;
	gp_status_t st = gp_proxy_start(&daemon, &loop, cfg);
	uv_run(&loop, UV_RUN_DEFAULT);
	int rc = uv_loop_close(&loop);
	if (rc != 0)
		gp_log(GP_LOG_ERROR, "loop_not_empty", "error=\"%s\"", uv_strerror(rc));
	mysql_library_end();
	gp_config_free(daemon.proxy.cfg); /* a reload may have replaced cfg */
	if (st != GP_OK) {
		fprintf(stderr, "galera-proxy: %s\n", gp_strerror(st));
		return 1;
	}
	return 0;
}
