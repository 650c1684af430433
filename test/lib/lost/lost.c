/* lost.c - a libmariadb client that reports what it sees when its server goes away mid-statement.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>

/*
 * One of the four clients of test/lib/lost.sh (libmariadb here; lost.php for mysqlnd, lost.py
 * for PyMySQL, lost.js for Node mysql2), all with the same arguments and output:
 *
 *   lost HOST PORT MODE SQL        (LOST_USER, LOST_PASS, LOST_DB: app, app, test)
 *
 * MODE once: one statement, all of its result read; loop: SQL every 10 ms on one connection
 * until one fails (the persistent client of the drills); stmt: SQL prepared, executed and
 * fetched (binary protocol); rows: SQL's rows read one by one (mysql_use_result), a line each;
 * lazy: SQL sent, and its answer read only once stdin has a line (the server blocks mid-packet
 * behind the unread bytes); idle: SQL sent once stdin has a line (the session idles until
 * then); infile: SQL is a LOAD DATA LOCAL INFILE whose file never ends (a row
 * each 20 ms until the statement fails).
 *
 * Lines on stdout, each flushed: "connected ID" (the connection id the client sees), "sent"
 * just before the statement goes out, "row N LEN" (rows mode), then for the statement that
 * failed "err CODE SQLSTATE MESSAGE" (or "done" when none failed), "count N" (statements that
 * succeeded), then "reconnect ok MS EPOCH_MS" (a new connection ran SELECT 1, MS after the error,
 * at EPOCH_MS on the wall clock) or
 * "reconnect fail CODE MESSAGE" after LOST_RECONNECT_S seconds (10) of trying.
 */

static const char *host, *user, *pass, *db;
static unsigned port;

static long long clock_ms(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);
	return v && *v ? v : def;
}

static MYSQL *lost_connect(void)
{
	MYSQL *m = mysql_init(NULL);
	unsigned timeout = 10;
	bool on = true;
	if (!m)
		return NULL;
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &(unsigned){60});
	mysql_options(m, MYSQL_OPT_LOCAL_INFILE, &on);
	if (!mysql_real_connect(m, host, user, pass, db, port, NULL, 0))
		return m; /* the caller reads the error */
	return m;
}

static bool lost_connected(MYSQL *m)
{
	return m && mysql_get_socket(m) != MARIADB_INVALID_SOCKET && mysql_thread_id(m) != 0;
}

static void say_err(unsigned code, const char *state, const char *msg)
{
	printf("err %u %s %s\n", code, state, msg);
	fflush(stdout);
}

static void say_mysql_err(MYSQL *m)
{
	say_err(mysql_errno(m), mysql_sqlstate(m), mysql_error(m));
}

/* Read one result completely; false on error. */
static bool lost_drain(MYSQL *m, bool per_row)
{
	do {
		MYSQL_RES *r = per_row ? mysql_use_result(m) : mysql_store_result(m);
		if (!r) {
			if (mysql_errno(m))
				return false;
			continue;
		}
		if (per_row) {
			MYSQL_ROW row;
			unsigned long n = 0;
			while ((row = mysql_fetch_row(r))) {
				unsigned long *len = mysql_fetch_lengths(r);
				printf("row %lu %lu\n", ++n, len ? len[0] : 0);
				fflush(stdout);
			}
		}
		mysql_free_result(r);
		if (mysql_errno(m))
			return false;
	} while (mysql_next_result(m) == 0);
	return mysql_errno(m) == 0;
}

static bool lost_stmt(MYSQL *m, const char *sql)
{
	MYSQL_STMT *st = mysql_stmt_init(m);
	bool ok = st && mysql_stmt_prepare(st, sql, strlen(sql)) == 0;
	if (ok) {
		printf("sent\n");
		fflush(stdout);
		ok = mysql_stmt_execute(st) == 0 && mysql_stmt_store_result(st) == 0;
	}
	if (ok) {
		while (mysql_stmt_fetch(st) == 0)
			;
	}
	if (!ok) {
		if (st && mysql_stmt_errno(st))
			say_err(mysql_stmt_errno(st), mysql_stmt_sqlstate(st),
			        mysql_stmt_error(st));
		else
			say_mysql_err(m);
	}
	if (st)
		mysql_stmt_close(st);
	return ok;
}

/* LOCAL INFILE whose file never ends: rows worth 4 kB every 20 ms until the server is gone
 * (small writes would wait in libmariadb's net buffer, and no write would fail for long). */
static int infile_init(void **ptr, const char *name, void *data)
{
	(void)name;
	(void)data;
	*ptr = calloc(1, sizeof(long));
	return *ptr ? 0 : 1;
}

static int infile_read(void *ptr, char *buf, unsigned int len)
{
	long *n = ptr;
	unsigned int used = 0;
	usleep(20000);
	while (used + 24 < len && used < 4096) {
		int w = snprintf(buf + used, len - used, "%ld\n", ++*n);
		if (w <= 0 || (unsigned)w >= len - used)
			break;
		used += (unsigned)w;
	}
	return (int)used;
}

static void infile_end(void *ptr)
{
	free(ptr);
}

static int infile_error(void *ptr, char *msg, unsigned int len)
{
	(void)ptr;
	snprintf(msg, len, "infile handler error");
	return 2000;
}

static void lost_reconnect(long long t_err)
{
	int limit_s = atoi(env_or("LOST_RECONNECT_S", "10"));
	long long deadline = now_ms() + (long long)limit_s * 1000;
	unsigned code = 0;
	char msg[512] = "";
	for (;;) {
		MYSQL *m = lost_connect();
		if (lost_connected(m) && mysql_query(m, "SELECT 1") == 0) {
			MYSQL_RES *r = mysql_store_result(m);
			mysql_free_result(r);
			printf("reconnect ok %lld %lld\n", now_ms() - t_err,
			       clock_ms(CLOCK_REALTIME));
			fflush(stdout);
			mysql_close(m);
			return;
		}
		if (m) {
			code = mysql_errno(m);
			snprintf(msg, sizeof(msg), "%s", mysql_error(m));
			mysql_close(m);
		}
		if (now_ms() >= deadline)
			break;
		usleep(50000);
	}
	printf("reconnect fail %u %s\n", code, msg);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: lost HOST PORT once|loop|stmt|rows|lazy|idle|infile SQL\n");
		return 2;
	}
	host = argv[1];
	port = (unsigned)atoi(argv[2]);
	const char *mode = argv[3], *sql = argv[4];
	user = env_or("LOST_USER", "app");
	pass = env_or("LOST_PASS", "app");
	db = env_or("LOST_DB", "test");

	MYSQL *m = lost_connect();
	if (!lost_connected(m)) {
		printf("connect fail %u %s\n", m ? mysql_errno(m) : 0, m ? mysql_error(m) : "");
		return 1;
	}
	printf("connected %lu\n", mysql_thread_id(m));
	fflush(stdout);
	if (!strcmp(mode, "infile"))
		mysql_set_local_infile_handler(m, infile_init, infile_read, infile_end,
		                               infile_error, NULL);

	bool ok = true;
	long n = 0;
	if (!strcmp(mode, "stmt")) {
		ok = lost_stmt(m, sql);
	} else if (!strcmp(mode, "lazy")) {
		printf("sent\n");
		fflush(stdout);
		ok = mysql_send_query(m, sql, strlen(sql)) == 0;
		char line[16];
		if (ok && !fgets(line, sizeof(line), stdin))
			return 2;
		ok = ok && mysql_read_query_result(m) == 0 && lost_drain(m, false);
		if (!ok)
			say_mysql_err(m);
	} else {
		bool loop = !strcmp(mode, "loop");
		char line[16];
		if (!strcmp(mode, "idle") && !fgets(line, sizeof(line), stdin))
			return 2;
		printf("sent\n");
		fflush(stdout);
		do {
			ok = mysql_query(m, sql) == 0 && lost_drain(m, !strcmp(mode, "rows"));
			if (ok && loop) {
				n++;
				usleep(10000);
			}
		} while (ok && loop);
		if (!ok)
			say_mysql_err(m);
	}
	long long t_err = now_ms();
	if (ok)
		printf("done\n");
	printf("count %ld\n", ok ? n + 1 : n);
	fflush(stdout);
	mysql_close(m);
	lost_reconnect(t_err);
	return 0;
}
