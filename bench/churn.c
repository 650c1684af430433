/* churn.c - benchmark client: connection churn, or N idle authenticated sessions held open. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>

/*
 * Built by bench/run.sh with gcc into a scratch directory; it is not part of the meson
 * build because only the benchmark needs it. Output is one line of key=value pairs on
 * stdout so that the shell can pick fields out with a pattern, progress goes to stderr.
 *
 *   churn [-h HOST] [-P PORT] [-u USER] [-p PASS] [-D DB] [-s [-C CAFILE]] run WORKERS SECONDS
 *   churn [-h HOST] [-P PORT] [-u USER] [-p PASS] [-D DB] [-s [-C CAFILE]] hold N SECONDS
 *
 * -s: TLS (MYSQL_OPT_SSL_ENFORCE: the connection fails rather than fall back to plain), as a
 * PHP or libmariadb application would: a full handshake for every connection, no resumption.
 * -C CAFILE: the CA for the server's certificate. Without it libmariadb 3.3 loads the system's
 * whole CA bundle for every connection (about 30 ms of client CPU each here), and the client,
 * not the proxy, would set the pace.
 */

typedef struct churn_target {
	const char *host; /* server or proxy address */
	unsigned port;    /* its TCP port */
	const char *user; /* login user */
	const char *pass; /* and password */
	const char *db;   /* default database, NULL for none */
	int tls;          /* 1: TLS enforced (-s) */
	const char *ca;   /* -C: CA file for the server's certificate (with -s) */
} churn_target_t;

typedef struct churn_worker {
	pthread_t tid;                /* the worker thread */
	const churn_target_t *target; /* where to connect */
	struct timespec deadline;     /* stop starting new connections after this */
	unsigned long ok;             /* complete connect+query+close cycles */
	unsigned long errors;         /* cycles that failed anywhere */
	char lasterr[160];            /* the last failure's text, for the report */
} churn_worker_t;

static volatile sig_atomic_t churn_stop; /* set by SIGINT/SIGTERM in hold mode */

static void churn_on_signal(int sig)
{
	(void)sig;
	churn_stop = 1;
}

static double churn_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* churn_open_conn connects and authenticates; timeouts keep a stuck proxy from hanging the run. */
static MYSQL *churn_open_conn(const churn_target_t *t, char *err, size_t errcap)
{
	MYSQL *m = mysql_init(NULL);
	if (!m) {
		snprintf(err, errcap, "mysql_init: out of memory");
		return NULL;
	}
	unsigned int timeout = 10;
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
	mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
	if (t->tls) {
		my_bool on = 1;
		mysql_options(m, MYSQL_OPT_SSL_ENFORCE, &on);
		if (t->ca)
			mysql_options(m, MYSQL_OPT_SSL_CA, t->ca);
	}
	if (!mysql_real_connect(m, t->host, t->user, t->pass, t->db, t->port, NULL, 0)) {
		snprintf(err, errcap, "connect: %s", mysql_error(m));
		mysql_close(m);
		return NULL;
	}
	return m;
}

/* churn_select_one runs SELECT 1 and checks the single row, proving the session works. */
static int churn_select_one(MYSQL *m, char *err, size_t errcap)
{
	if (mysql_query(m, "SELECT 1") != 0) {
		snprintf(err, errcap, "query: %s", mysql_error(m));
		return -1;
	}
	MYSQL_RES *res = mysql_store_result(m);
	if (!res) {
		snprintf(err, errcap, "store_result: %s", mysql_error(m));
		return -1;
	}
	MYSQL_ROW row = mysql_fetch_row(res);
	int ok = row && row[0] && strcmp(row[0], "1") == 0;
	mysql_free_result(res);
	if (!ok) {
		snprintf(err, errcap, "query: unexpected result");
		return -1;
	}
	return 0;
}

static int churn_past(const struct timespec *deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec ||
	       (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

static void *churn_worker_main(void *arg)
{
	churn_worker_t *w = arg;
	char err[160];
	mysql_thread_init();
	while (!churn_past(&w->deadline)) {
		MYSQL *m = churn_open_conn(w->target, err, sizeof(err));
		if (!m) {
			w->errors++;
			snprintf(w->lasterr, sizeof(w->lasterr), "%s", err);
			/* A refused or overloaded target fails fast; do not spin on it. */
			usleep(1000);
			continue;
		}
		if (churn_select_one(m, err, sizeof(err)) != 0) {
			w->errors++;
			snprintf(w->lasterr, sizeof(w->lasterr), "%s", err);
		} else {
			w->ok++;
		}
		mysql_close(m);
	}
	mysql_thread_end();
	return NULL;
}

/* churn_run: WORKERS threads churn for SECONDS; prints the aggregate rate. */
static int churn_run(const churn_target_t *t, int workers, int seconds)
{
	churn_worker_t *ws = calloc((size_t)workers, sizeof(*ws));
	if (!ws) {
		fprintf(stderr, "churn: out of memory\n");
		return 1;
	}
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += seconds;
	double t0 = churn_now();
	int started = 0;
	for (int i = 0; i < workers; i++) {
		ws[i].target = t;
		ws[i].deadline = deadline;
		if (pthread_create(&ws[i].tid, NULL, churn_worker_main, &ws[i]) != 0) {
			fprintf(stderr, "churn: pthread_create failed\n");
			break;
		}
		started++;
	}
	unsigned long ok = 0, errors = 0;
	const char *lasterr = "";
	for (int i = 0; i < started; i++) {
		pthread_join(ws[i].tid, NULL);
		ok += ws[i].ok;
		errors += ws[i].errors;
		if (ws[i].lasterr[0])
			lasterr = ws[i].lasterr;
	}
	double elapsed = churn_now() - t0;
	printf("mode=run workers=%d seconds=%.2f connects=%lu errors=%lu rate=%.1f\n", started,
	       elapsed, ok, errors, elapsed > 0 ? (double)ok / elapsed : 0.0);
	if (lasterr[0])
		fprintf(stderr, "churn: last error: %s\n", lasterr);
	fflush(stdout);
	free(ws);
	return started == workers && ok > 0 ? 0 : 1;
}

/*
 * churn_hold opens N sessions one after another, runs SELECT 1 on each (so every one is
 * fully authenticated and routed), prints "ready", then idles for SECONDS or until a
 * signal. The caller reads the proxy's memory while we sleep.
 */
static int churn_hold(const churn_target_t *t, int n, int seconds)
{
	MYSQL **conns = calloc((size_t)n, sizeof(*conns));
	if (!conns) {
		fprintf(stderr, "churn: out of memory\n");
		return 1;
	}
	char err[160];
	int held = 0, rc = 0;
	double t0 = churn_now();
	for (; held < n && !churn_stop; held++) {
		conns[held] = churn_open_conn(t, err, sizeof(err));
		if (!conns[held] || churn_select_one(conns[held], err, sizeof(err)) != 0) {
			fprintf(stderr, "churn: hold: session %d: %s\n", held + 1, err);
			if (conns[held])
				mysql_close(conns[held]);
			rc = 1;
			break;
		}
	}
	printf("mode=hold held=%d wanted=%d open_seconds=%.2f %s\n", held, n, churn_now() - t0,
	       rc == 0 ? "ready" : "failed");
	fflush(stdout);
	for (double end = churn_now() + seconds; rc == 0 && !churn_stop && churn_now() < end;)
		usleep(50 * 1000);
	for (int i = 0; i < held; i++)
		mysql_close(conns[i]);
	free(conns);
	return rc;
}

static void churn_usage(FILE *f)
{
	fprintf(f, "usage: churn [-h HOST] [-P PORT] [-u USER] [-p PASS] [-D DB] [-s [-C CAFILE]]\n"
	           "             run WORKERS SECONDS | hold N SECONDS\n");
}

int main(int argc, char **argv)
{
	churn_target_t t = {.host = "127.0.0.1", .port = 3306, .user = "root", .pass = ""};
	int c;
	while ((c = getopt(argc, argv, "h:P:u:p:D:sC:")) != -1) {
		switch (c) {
		case 'h':
			t.host = optarg;
			break;
		case 'P':
			t.port = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'u':
			t.user = optarg;
			break;
		case 'p':
			t.pass = optarg;
			break;
		case 'D':
			t.db = optarg;
			break;
		case 's':
			t.tls = 1;
			break;
		case 'C':
			t.ca = optarg;
			break;
		default:
			churn_usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 3) {
		churn_usage(stderr);
		return 2;
	}
	const char *mode = argv[optind];
	int a = atoi(argv[optind + 1]), seconds = atoi(argv[optind + 2]);
	if (a <= 0 || seconds < 0) {
		churn_usage(stderr);
		return 2;
	}
	struct sigaction sa = {.sa_handler = churn_on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (mysql_library_init(0, NULL, NULL) != 0) {
		fprintf(stderr, "churn: mysql_library_init failed\n");
		return 1;
	}
	int rc;
	if (strcmp(mode, "run") == 0) {
		rc = churn_run(&t, a, seconds);
	} else if (strcmp(mode, "hold") == 0) {
		rc = churn_hold(&t, a, seconds);
	} else {
		churn_usage(stderr);
		rc = 2;
	}
	mysql_library_end();
	return rc;
}
