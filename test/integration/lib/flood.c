/* flood.c - hostile-client load for t_flood.sh: thousands of half-open connections, connect floods.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <mysql.h>

/*
 * Built by t_flood.sh with gcc into the test's scratch directory (only this test needs it;
 * PHP cannot hold and watch 5,000 sockets with millisecond timing). It measures and prints
 * key=value lines on stdout; t_flood.sh makes the assertions.
 *
 *   flood [-h HOST] -P PORT [-u USER] [-p PASS] [-D DB] halfopen N PARTIAL_PCT BOUND_MS
 *   flood [-h HOST] -P PORT [-u USER] [-p PASS] [-D DB] connflood N LIMIT
 *
 * halfopen: N connections that never authenticate (PARTIAL_PCT percent send a truncated
 * handshake response after the greeting, the rest send nothing), held until the proxy
 * closes them; a healthy client runs queries on one session and logs in anew throughout.
 * Every close later than BOUND_MS after the connect is counted as late.
 *
 * connflood: a healthy client logs in, then N connections arrive at once at a proxy whose
 * max_client_connections is LIMIT: the first LIMIT-1 must be greeted, the others refused.
 * Real clients try to log in during the flood; once the flood ends a new login must work.
 */

#define FLOOD_PENDING_MAX 256   /* connects in progress at once: stay under the listen backlog */
#define FLOOD_FIRST_MAX   64    /* bytes of the first packet kept for classification */
#define FLOOD_MAX_CODES   8     /* distinct ERR codes counted */
#define FLOOD_PAUSE_US    50000 /* healthy client: pause between rounds */

typedef struct flood_target {
	const char *host; /* proxy address */
	unsigned port;    /* its port */
	const char *user; /* login user */
	const char *pass; /* and password */
	const char *db;   /* default database */
} flood_target_t;

typedef struct flood_conn {
	int fd;             /* socket, -1 once closed on our side */
	bool connected;     /* the TCP connect completed */
	bool failed;        /* the TCP connect failed */
	bool partial;       /* sends a truncated handshake response after the greeting */
	bool sent;          /* it did */
	bool closed;        /* the proxy closed it (EOF or reset) */
	bool reset;         /* by a reset rather than an EOF */
	double t_connected; /* when the connect completed */
	double t_closed;    /* when the close was seen */
	uint8_t first[FLOOD_FIRST_MAX]; /* first bytes received */
	uint32_t nfirst;                /* how many of them */
	uint64_t got;                   /* bytes received in all */
} flood_conn_t;

typedef struct flood_healthy {
	pthread_t tid;               /* the healthy client's thread */
	const flood_target_t *t;     /* where it connects */
	bool relogin;                /* logs in anew every round (else: queries on its session) */
	MYSQL *conn;                 /* its persistent session, opened before the flood */
	unsigned long logins_ok;     /* fresh logins that ran SELECT 1 */
	unsigned long logins_failed; /* fresh logins or their query that failed */
	unsigned long queries_ok;    /* queries on the persistent session */
	unsigned long queries_fail;  /* and failures there (the session is then reopened) */
	unsigned long held_logins;   /* logins_ok while the flood was held in full */
	unsigned long held_queries;  /* queries_ok while the flood was held in full */
	double worst_login_ms;       /* slowest successful fresh login + query */
	double worst_query_ms;       /* slowest successful persistent query */
	char lasterr[256];           /* the last failure */
} flood_healthy_t;

static atomic_int flood_phase; /* 0 opening, 1 the flood is held in full, 2 done */
static atomic_int flood_stop;  /* the healthy client stops */

static double flood_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* flood_login connects and authenticates with short timeouts; NULL and err set on failure. */
static MYSQL *flood_login(const flood_target_t *t, char *err, size_t errcap, unsigned *code)
{
	MYSQL *m = mysql_init(NULL);
	if (!m) {
		snprintf(err, errcap, "mysql_init: out of memory");
		return NULL;
	}
	unsigned int timeout = 5;
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
	mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
	if (!mysql_real_connect(m, t->host, t->user, t->pass, t->db, t->port, NULL, 0)) {
		snprintf(err, errcap, "connect: %u %s", mysql_errno(m), mysql_error(m));
		if (code)
			*code = mysql_errno(m);
		mysql_close(m);
		return NULL;
	}
	return m;
}

/* flood_query runs SELECT n and checks the answer. */
static int flood_query(MYSQL *m, unsigned long n, char *err, size_t errcap)
{
	char sql[64], want[32];
	snprintf(sql, sizeof(sql), "SELECT %lu", n);
	snprintf(want, sizeof(want), "%lu", n);
	if (mysql_query(m, sql) != 0) {
		snprintf(err, errcap, "query: %u %s", mysql_errno(m), mysql_error(m));
		return -1;
	}
	MYSQL_RES *res = mysql_store_result(m);
	if (!res) {
		snprintf(err, errcap, "store_result: %s", mysql_error(m));
		return -1;
	}
	MYSQL_ROW row = mysql_fetch_row(res);
	int ok = row && row[0] && strcmp(row[0], want) == 0;
	mysql_free_result(res);
	if (!ok) {
		snprintf(err, errcap, "query: wrong answer");
		return -1;
	}
	return 0;
}

/* One query on the session that was there before the flood (reopened if it broke). */
static void flood_healthy_query(flood_healthy_t *h, unsigned long n)
{
	char err[200];
	double t0 = flood_now();
	if (!h->conn)
		h->conn = flood_login(h->t, err, sizeof(err), NULL);
	if (h->conn && flood_query(h->conn, n, err, sizeof(err)) == 0) {
		double ms = (flood_now() - t0) * 1000.0;
		h->queries_ok++;
		h->held_queries += atomic_load(&flood_phase) == 1;
		if (ms > h->worst_query_ms)
			h->worst_query_ms = ms;
		return;
	}
	h->queries_fail++;
	snprintf(h->lasterr, sizeof(h->lasterr), "persistent: %s", err);
	if (h->conn)
		mysql_close(h->conn);
	h->conn = NULL;
}

/* One new client: log in, SELECT 1, close. */
static void flood_healthy_login(flood_healthy_t *h)
{
	char err[200];
	double t0 = flood_now();
	MYSQL *m = flood_login(h->t, err, sizeof(err), NULL);
	if (m && flood_query(m, 1, err, sizeof(err)) == 0) {
		double ms = (flood_now() - t0) * 1000.0;
		h->logins_ok++;
		h->held_logins += atomic_load(&flood_phase) == 1;
		if (ms > h->worst_login_ms)
			h->worst_login_ms = ms;
	} else {
		h->logins_failed++;
		snprintf(h->lasterr, sizeof(h->lasterr), "fresh login: %s", err);
	}
	if (m)
		mysql_close(m);
}

static void *flood_healthy_main(void *arg)
{
	flood_healthy_t *h = arg;
	unsigned long n = 0;
	mysql_thread_init();
	while (!atomic_load(&flood_stop)) {
		if (h->relogin)
			flood_healthy_login(h);
		else
			flood_healthy_query(h, ++n);
		usleep(FLOOD_PAUSE_US);
	}
	if (h->conn)
		mysql_close(h->conn);
	h->conn = NULL;
	mysql_thread_end();
	return NULL;
}

static int flood_healthy_start(flood_healthy_t *h, const flood_target_t *t, bool relogin)
{
	char err[200];
	memset(h, 0, sizeof(*h));
	h->t = t;
	h->relogin = relogin;
	h->conn = relogin ? NULL : flood_login(t, err, sizeof(err), NULL);
	if (!relogin && !h->conn) {
		fprintf(stderr, "flood: healthy client cannot log in before the flood: %s\n", err);
		return -1;
	}
	if (pthread_create(&h->tid, NULL, flood_healthy_main, h) != 0) {
		fprintf(stderr, "flood: pthread_create failed\n");
		if (h->conn)
			mysql_close(h->conn);
		return -1;
	}
	return 0;
}

/* Stops the healthy clients: q runs queries on its session, l (optional) logs in anew. */
static void flood_healthy_report(flood_healthy_t *q, flood_healthy_t *l)
{
	atomic_store(&flood_stop, 1);
	pthread_join(q->tid, NULL);
	if (l) {
		pthread_join(l->tid, NULL);
		printf("healthy_logins_ok=%lu\nhealthy_logins_failed=%lu\n", l->logins_ok,
		       l->logins_failed);
		printf("healthy_held_logins=%lu\nhealthy_worst_login_ms=%.0f\n", l->held_logins,
		       l->worst_login_ms);
		printf("healthy_login_error=\"%s\"\n", l->lasterr);
	}
	printf("healthy_queries_ok=%lu\nhealthy_queries_failed=%lu\nhealthy_held_queries=%lu\n",
	       q->queries_ok, q->queries_fail, q->held_queries);
	printf("healthy_worst_query_ms=%.0f\nhealthy_query_error=\"%s\"\n", q->worst_query_ms,
	       q->lasterr);
}

/* flood_open starts a non-blocking connect and registers the socket; -1 on failure. */
static int flood_open(int ep, const struct sockaddr_in *sa, flood_conn_t *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	if (connect(c->fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0 && errno != EINPROGRESS) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP, .data.ptr = c};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

/* The first packet is complete in c->first (header + payload, when it fits). */
static bool flood_first_complete(const flood_conn_t *c)
{
	if (c->nfirst < 4)
		return false;
	uint32_t len =
	        (uint32_t)c->first[0] | (uint32_t)c->first[1] << 8 | (uint32_t)c->first[2] << 16;
	return c->got >= 4 + (uint64_t)len;
}

static bool flood_first_is_err(const flood_conn_t *c)
{
	return c->nfirst >= 7 && c->first[4] == 0xFF;
}

static unsigned flood_err_code(const flood_conn_t *c)
{
	return (unsigned)c->first[5] | (unsigned)c->first[6] << 8;
}

/* A truncated handshake response: the header announces 64 bytes, 19 follow, then silence. */
static void flood_send_partial(flood_conn_t *c)
{
	static const uint8_t part[4 + 19] = {
	        64,   0,    0,    1,    /* header: 64 bytes, sequence 1 */
	        0x0D, 0xA2, 0x0A, 0x00, /* capabilities: PROTOCOL_41, SECURE_CONN, ... */
	        0x00, 0x00, 0x00, 0x01, /* max packet */
	        45,                     /* utf8mb4 */
	        0,    0,    0,    0,    0, 0, 0, 0, 0 /* the first 9 of 23 filler bytes */
	};
	c->sent = true;
	if (write(c->fd, part, sizeof(part)) < 0)
		c->sent = false;
}

/* flood_on_event handles readiness of one connection. */
static void flood_on_event(flood_conn_t *c, uint32_t events, int ep, double now)
{
	if (!c->connected) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
			c->failed = true;
			close(c->fd);
			c->fd = -1;
			return;
		}
		if (!(events & (EPOLLOUT | EPOLLIN | EPOLLRDHUP | EPOLLHUP)))
			return;
		c->connected = true;
		c->t_connected = now;
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
		epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	}
	if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return;
	uint8_t buf[4096];
	for (;;) {
		ssize_t r = read(c->fd, buf, sizeof(buf));
		if (r > 0) {
			size_t take = (size_t)r;
			if (take > FLOOD_FIRST_MAX - c->nfirst)
				take = FLOOD_FIRST_MAX - c->nfirst;
			memcpy(c->first + c->nfirst, buf, take);
			c->nfirst += (uint32_t)take;
			c->got += (uint64_t)r;
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r < 0 && errno == EINTR)
			continue;
		c->closed = true;
		c->reset = r < 0;
		c->t_closed = now;
		close(c->fd);
		c->fd = -1;
		return;
	}
	if (c->partial && !c->sent && flood_first_complete(c) && !flood_first_is_err(c))
		flood_send_partial(c);
}

static int flood_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* flood_codes prints "code:count,..." for the connections refused with an ERR packet. */
static void flood_codes(const flood_conn_t *cs, int n, char *out, size_t cap)
{
	unsigned codes[FLOOD_MAX_CODES] = {0}, counts[FLOOD_MAX_CODES] = {0};
	int nc = 0;
	for (int i = 0; i < n; i++) {
		if (!flood_first_is_err(&cs[i]))
			continue;
		unsigned code = flood_err_code(&cs[i]);
		int k = 0;
		while (k < nc && codes[k] != code)
			k++;
		if (k == nc && nc < FLOOD_MAX_CODES)
			codes[nc++] = code;
		if (k < nc)
			counts[k]++;
	}
	size_t len = 0;
	out[0] = '\0';
	for (int k = 0; k < nc && len < cap; k++)
		len += (size_t)snprintf(out + len, cap - len, "%s%u:%u", k ? "," : "", codes[k],
		                        counts[k]);
}

/* flood_pump opens connections up to n (FLOOD_PENDING_MAX at a time) and runs one epoll round. */
static void flood_pump(int ep, const struct sockaddr_in *sa, flood_conn_t *cs, int n, int *opened,
                       int partial_pct, int timeout_ms)
{
	int pending = 0;
	for (int i = 0; i < *opened; i++)
		pending += cs[i].fd >= 0 && !cs[i].connected && !cs[i].failed;
	while (*opened < n && pending < FLOOD_PENDING_MAX) {
		flood_conn_t *c = &cs[*opened];
		if (flood_open(ep, sa, c) != 0) {
			c->failed = true;
			c->fd = -1;
		} else {
			pending++;
		}
		c->partial = (*opened % 100) < partial_pct;
		(*opened)++;
	}
	struct epoll_event evs[512];
	int k = epoll_wait(ep, evs, 512, timeout_ms);
	double now = flood_now();
	for (int i = 0; i < k; i++) {
		flood_conn_t *c = evs[i].data.ptr;
		if (c->fd >= 0)
			flood_on_event(c, evs[i].events, ep, now);
	}
}

static int flood_halfopen(const flood_target_t *t, const struct sockaddr_in *sa, int n,
                          int partial_pct, int bound_ms)
{
	flood_conn_t *cs = calloc((size_t)n, sizeof(*cs));
	double *lat = calloc((size_t)n, sizeof(*lat));
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (!cs || !lat || ep < 0) {
		fprintf(stderr, "flood: out of memory or no epoll\n");
		return 1;
	}
	flood_healthy_t hq, hl; /* two threads: a stuck login must not stop the session's queries */
	if (flood_healthy_start(&hq, t, false) != 0 || flood_healthy_start(&hl, t, true) != 0)
		return 1;
	usleep(200 * 1000); /* a few healthy rounds before the flood */
	double t0 = flood_now(), t_held = 0, t_end;
	int opened = 0, peak = 0;
	for (;;) {
		flood_pump(ep, sa, cs, n, &opened, partial_pct, 10);
		int open_now = 0, settled = 0, done = 0;
		for (int i = 0; i < opened; i++) {
			open_now += cs[i].connected && !cs[i].closed;
			settled += cs[i].connected || cs[i].failed;
			done += cs[i].closed || cs[i].failed;
		}
		if (open_now > peak)
			peak = open_now;
		double now = flood_now();
		if (opened == n && settled == n && atomic_load(&flood_phase) == 0) {
			atomic_store(&flood_phase, 1);
			t_held = now;
		}
		if (done == n)
			break;
		/* Give up well after every deadline the proxy could have. */
		if ((t_held == 0 && now - t0 > 120) ||
		    (t_held > 0 && now - t_held > bound_ms / 1000.0 + 20))
			break;
	}
	atomic_store(&flood_phase, 2);
	t_end = flood_now();
	usleep(300 * 1000); /* and a few rounds after it */
	flood_healthy_report(&hq, &hl);

	int connected = 0, failed = 0, greeted = 0, refused = 0, closed = 0, resets = 0, late = 0;
	int partial_sent = 0, nlat = 0, never = 0;
	for (int i = 0; i < n; i++) {
		flood_conn_t *c = &cs[i];
		connected += c->connected;
		failed += c->failed;
		greeted += c->nfirst > 4 && c->first[4] == 10;
		refused += flood_first_is_err(c);
		partial_sent += c->sent;
		if (c->closed) {
			closed++;
			resets += c->reset;
			lat[nlat] = (c->t_closed - c->t_connected) * 1000.0;
			late += lat[nlat] > bound_ms;
			nlat++;
		} else if (c->connected) {
			never++;
			close(c->fd);
		}
	}
	qsort(lat, (size_t)nlat, sizeof(*lat), flood_cmp_double);
	char codes[256];
	flood_codes(cs, n, codes, sizeof(codes));
	printf("opened=%d\nconnected=%d\nconnect_failed=%d\npeak_open=%d\n", n, connected, failed,
	       peak);
	printf("open_seconds=%.2f\nheld_seconds=%.2f\n", (t_held > 0 ? t_held : t_end) - t0,
	       t_held > 0 ? t_end - t_held : 0.0);
	printf("greeted=%d\nrefused=%d\nerr_codes=\"%s\"\npartial_sent=%d\n", greeted, refused,
	       codes, partial_sent);
	printf("closed=%d\nresets=%d\nnever_closed=%d\nlate=%d\nbound_ms=%d\n", closed, resets,
	       never, late, bound_ms);
	printf("close_ms_min=%.0f\nclose_ms_p50=%.0f\nclose_ms_max=%.0f\n", nlat ? lat[0] : 0.0,
	       nlat ? lat[nlat / 2] : 0.0, nlat ? lat[nlat - 1] : 0.0);
	fflush(stdout);
	close(ep);
	free(cs);
	free(lat);
	return 0;
}

static int flood_connflood(const flood_target_t *t, const struct sockaddr_in *sa, int n, int limit)
{
	flood_conn_t *cs = calloc((size_t)n, sizeof(*cs));
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (!cs || ep < 0) {
		fprintf(stderr, "flood: out of memory or no epoll\n");
		return 1;
	}
	flood_healthy_t h;
	if (flood_healthy_start(&h, t, false) != 0)
		return 1;
	usleep(200 * 1000);
	/* The flood: every connection waits for its first packet (greeting or ERR). */
	double t0 = flood_now();
	int opened = 0, answered = 0;
	while (flood_now() - t0 < 20) {
		flood_pump(ep, sa, cs, n, &opened, 0, 10);
		answered = 0;
		for (int i = 0; i < opened; i++)
			answered += cs[i].failed || cs[i].closed || flood_first_complete(&cs[i]);
		if (opened == n && answered == n)
			break;
	}
	double answer_s = flood_now() - t0;
	/* Refused ones are closed right after their ERR; the greeted stay open. */
	while (flood_now() - t0 < answer_s + 2)
		flood_pump(ep, sa, cs, n, &opened, 0, 20);
	atomic_store(&flood_phase, 1);
	/* Real clients during the flood see what a driver makes of the refusal. */
	int real_tries = 5, real_1040 = 0, real_other = 0;
	char real_err[200] = "", err[200];
	for (int i = 0; i < real_tries; i++) {
		unsigned code = 0;
		MYSQL *m = flood_login(t, err, sizeof(err), &code);
		if (m) {
			mysql_close(m);
			real_other++;
			snprintf(real_err, sizeof(real_err), "logged in");
			continue;
		}
		real_1040 += code == 1040;
		real_other += code != 1040;
		snprintf(real_err, sizeof(real_err), "%s", err);
	}
	usleep(500 * 1000); /* the healthy session keeps working while the flood is held */
	int greeted = 0, refused = 0, refused_1040 = 0, refused_closed = 0, failed = 0, silent = 0;
	int greeted_open = 0;
	char state[8] = "", msg[40] = "";
	for (int i = 0; i < n; i++) {
		flood_conn_t *c = &cs[i];
		failed += c->failed;
		if (flood_first_is_err(c)) {
			refused++;
			refused_closed += c->closed;
			if (flood_err_code(c) == 1040) {
				refused_1040++;
				/* ERR: ff, code(2), '#', sqlstate(5), message */
				if (!msg[0] && c->nfirst > 12 && c->first[7] == '#') {
					memcpy(state, c->first + 8, 5);
					state[5] = '\0';
					size_t mlen = c->nfirst - 13;
					uint32_t plen = (uint32_t)c->first[0] |
					                (uint32_t)c->first[1] << 8 |
					                (uint32_t)c->first[2] << 16;
					if (plen >= 9 && mlen > plen - 9)
						mlen = plen - 9;
					if (mlen >= sizeof(msg))
						mlen = sizeof(msg) - 1;
					memcpy(msg, c->first + 13, mlen);
					msg[mlen] = '\0';
				}
			}
		} else if (c->nfirst > 4 && c->first[4] == 10) {
			greeted++;
			greeted_open += !c->closed;
		} else if (!c->failed) {
			silent++;
		}
	}
	/* The flood ends: every flooding client goes away. */
	for (int i = 0; i < n; i++) {
		if (cs[i].fd >= 0) {
			close(cs[i].fd);
			cs[i].fd = -1;
		}
	}
	double t1 = flood_now(), relogin_ms = -1;
	int relogin_refused = 0; /* tries before the proxy saw the flood go */
	while (flood_now() - t1 < 10) {
		unsigned code = 0;
		MYSQL *m = flood_login(t, err, sizeof(err), &code);
		relogin_refused += !m && code == 1040;
		if (m && flood_query(m, 1, err, sizeof(err)) == 0) {
			relogin_ms = (flood_now() - t1) * 1000.0;
			mysql_close(m);
			break;
		}
		if (m)
			mysql_close(m);
		usleep(20 * 1000);
	}
	atomic_store(&flood_phase, 2);
	flood_healthy_report(&h, NULL);
	printf("opened=%d\nconnect_failed=%d\nlimit=%d\nanswer_seconds=%.2f\n", n, failed, limit,
	       answer_s);
	printf("greeted=%d\ngreeted_still_open=%d\nrefused=%d\nrefused_1040=%d\n", greeted,
	       greeted_open, refused, refused_1040);
	printf("refused_closed=%d\nsilent=%d\nerr_sqlstate=\"%s\"\nerr_message=\"%s\"\n",
	       refused_closed, silent, state, msg);
	printf("real_tries=%d\nreal_1040=%d\nreal_other=%d\nreal_last_error=\"%s\"\n", real_tries,
	       real_1040, real_other, real_err);
	printf("relogin_ms=%.0f\nrelogin_refused=%d\n", relogin_ms, relogin_refused);
	fflush(stdout);
	close(ep);
	free(cs);
	return 0;
}

static void flood_usage(FILE *f)
{
	fprintf(f,
	        "usage: flood [-h HOST] -P PORT [-u USER] [-p PASS] [-D DB] halfopen N "
	        "PARTIAL_PCT BOUND_MS\n"
	        "       flood [-h HOST] -P PORT [-u USER] [-p PASS] [-D DB] connflood N LIMIT\n");
}

int main(int argc, char **argv)
{
	flood_target_t t = {.host = "127.0.0.1", .user = "app", .pass = "app", .db = "test"};
	int c;
	while ((c = getopt(argc, argv, "h:P:u:p:D:")) != -1) {
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
		default:
			flood_usage(stderr);
			return 2;
		}
	}
	int nargs = argc - optind;
	if (nargs < 3 || t.port == 0) {
		flood_usage(stderr);
		return 2;
	}
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)t.port)};
	if (inet_pton(AF_INET, t.host, &sa.sin_addr) != 1) {
		fprintf(stderr, "flood: HOST must be an IPv4 address\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (mysql_library_init(0, NULL, NULL) != 0) {
		fprintf(stderr, "flood: mysql_library_init failed\n");
		return 1;
	}
	const char *mode = argv[optind];
	int a = atoi(argv[optind + 1]), b = atoi(argv[optind + 2]);
	int rc = 2;
	if (strcmp(mode, "halfopen") == 0 && nargs == 4 && a > 0 && b >= 0 && b <= 100)
		rc = flood_halfopen(&t, &sa, a, b, atoi(argv[optind + 3]));
	else if (strcmp(mode, "connflood") == 0 && nargs == 3 && a > 0 && b > 1)
		rc = flood_connflood(&t, &sa, a, b);
	else
		flood_usage(stderr);
	mysql_library_end();
	return rc;
}
