/* mclient.c - a session moved between two connections with issue 17's pieces, on a real MariaDB. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <nettle/sha1.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster/priv.h"
#include "codec/myp.h"
#include "codec/myp_login.h"
#include "codec/myp_stmt.h"
#include "codec/myp_track.h"
#include "session/auth.h"

/*
 * Usage: mclient PORT APP_PRIV EDAPP_PRIV: the Priv JSON of app@'%' (app/app) and edapp@'%'
 * (ed25519) from mysql.global_priv, as test/lib/mariadb.sh creates them; the server runs
 * with session_track_system_variables='*', session_track_schema and
 * session_track_state_change on (run.sh sets them).
 *
 * Plays the proxy's part of a session move with nothing but the codec, session/auth and
 * cluster/priv, against the real server:
 *  - connection A logs in as a client that did not ask for tracking would, with
 *    CLIENT_SESSION_TRACK added (myp_hsresp_add_caps); every OK is read with myp_track and
 *    stripped (myp_ok_untrack) to what that client must see;
 *  - the login teaches SHA1(password), checked against app's real global_priv row
 *    (gp_priv_parse, gp_auth_native_learn); edapp's row is not learnable;
 *  - A changes its schema, character sets, sql_mode (with NO_BACKSLASH_ESCAPES), time zone,
 *    isolation, a numeric and a fractional variable, character_set_results to NULL, inserts
 *    rows (a last insert id) and prepares a statement;
 *  - connection B logs in with a new nonce answered from what was learned
 *    (gp_auth_native_reply) and the tracked schema, replays the tracked variables and the
 *    last insert id in one SET (myp_track_sysvar_sql), prepares the statement again and runs
 *    A's next EXECUTE there: its id rewritten (myp_stmt_id_rewrite) and its parameter
 *    types sent again (myp_stmt_execute_build);
 *  - the same SELECT of every value on A and on B must return the same row.
 * Exits 0 when all holds, 1 with a message otherwise.
 */

#define BUF_LEN  (1u << 16)
#define MAX_VARS 64

typedef struct conn {
	int fd;              /* socket */
	uint8_t in[BUF_LEN]; /* bytes read, not yet consumed */
	size_t in_len;       /* how many */
	uint64_t caps;       /* negotiated with the server */
	uint16_t status;     /* status flags of the last OK/EOF */
} conn_t;

typedef struct tracked {
	char name[64];   /* a system variable */
	char value[512]; /* its last reported value */
} tracked_t;

static tracked_t vars[MAX_VARS]; /* what A's OKs reported, latest value each */
static int nvars;
static char schema[128];    /* A's tracked schema */
static uint64_t last_id;    /* A's last insert id, from its OKs */
static int unnamed_changes; /* OKs whose only entry was STATE_CHANGE */

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "mclient: FAIL: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void conn_open(conn_t *c, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

	memset(c, 0, sizeof(*c));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		fail("cannot connect to 127.0.0.1:%d", port);
}

static void send_all(conn_t *c, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(c->fd, p, n, MSG_NOSIGNAL);

		if (k <= 0)
			fail("send failed");
		p += k;
		n -= (size_t)k;
	}
}

/* The next whole packet (header included) into out; returns its length. */
static size_t read_packet(conn_t *c, uint8_t *out, size_t cap)
{
	myp_frame_t f;
	size_t n;

	while (myp_frame_packet(c->in, c->in_len, &f) == MYP_NEED_MORE) {
		ssize_t k = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);

		if (k <= 0 || c->in_len == sizeof(c->in))
			fail("server closed the connection or sent too much");
		c->in_len += (size_t)k;
	}
	n = MYP_HEADER_LEN + f.len;
	if (n > cap)
		fail("packet of %zu bytes too long", n);
	memcpy(out, c->in, n);
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
	return n;
}

static void put_str(char *dst, size_t cap, const uint8_t *s, size_t n)
{
	if (n >= cap)
		fail("tracked value too long");
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* An OK of A: remember what it tracked, and check what the client is shown instead. */
static void on_ok_a(conn_t *c, const uint8_t *pkt, size_t n)
{
	myp_ok_t ok, shown;
	myp_track_iter_t it;
	myp_track_entry_t e;
	uint8_t out[BUF_LEN];
	size_t on;
	int named = 0, state_change = 0;

	if (myp_ok_parse(pkt + MYP_HEADER_LEN, n - MYP_HEADER_LEN, c->caps, &ok) != MYP_OK)
		fail("OK does not parse");
	c->status = ok.status;
	if (ok.last_insert_id)
		last_id = ok.last_insert_id;
	myp_track_iter_init(&it, ok.session_state, ok.session_state_len);
	while (myp_track_next(&it, &e)) {
		if (e.type == MYP_TRACK_STATE_CHANGE) {
			state_change = 1;
			continue;
		}
		named++;
		if (e.type == MYP_TRACK_SCHEMA) {
			put_str(schema, sizeof(schema), e.value, e.value_len);
		} else if (e.type == MYP_TRACK_SYSVAR) {
			int i;

			for (i = 0; i < nvars; i++)
				if (strlen(vars[i].name) == e.name_len &&
				    memcmp(vars[i].name, e.name, e.name_len) == 0)
					break;
			if (i == nvars && ++nvars > MAX_VARS)
				fail("too many variables");
			put_str(vars[i].name, sizeof(vars[i].name), e.name, e.name_len);
			put_str(vars[i].value, sizeof(vars[i].value), e.value, e.value_len);
		}
	}
	if (it.failed)
		fail("state block does not walk");
	if (state_change && !named)
		unnamed_changes++;
	/* the client did not ask for tracking: it gets the OK without the block and flag */
	if (myp_ok_untrack(pkt, n, c->caps, out, sizeof(out), &on) != MYP_OK)
		fail("OK does not strip");
	if (myp_ok_parse(out + MYP_HEADER_LEN, on - MYP_HEADER_LEN, c->caps, &shown) != MYP_OK ||
	    shown.session_state || (shown.status & MYP_SERVER_SESSION_STATE_CHANGED) ||
	    shown.affected_rows != ok.affected_rows || shown.info_len != ok.info_len)
		fail("stripped OK is not the same OK without tracking");
}

/* Computes the auth reply for a greeting's nonce. */
typedef void (*reply_fn)(const uint8_t *nonce, uint8_t out[20], size_t *len);

/* Log in as user into db, answering with reply; the nonce and the reply sent come back. A's
 * login OK is tracked (track), B's only read. */
static void login(conn_t *c, const char *user, const char *db, reply_fn reply, uint8_t nonce[20],
                  uint8_t sent[20], int track)
{
	myp_ok_t ok;

	uint8_t p[1024], buf[1024];
	size_t n = read_packet(c, p, sizeof(p)), alen = 0;
	myp_greeting_t g;
	myp_hsresp_t r = {0};
	myp_wbuf_t w;

	if (myp_greeting_parse(p + MYP_HEADER_LEN, n - MYP_HEADER_LEN, &g) != MYP_OK ||
	    g.scramble_len != 20)
		fail("greeting does not parse");
	memcpy(nonce, g.scramble, 20);
	reply(nonce, sent, &alen);
	/* a client that did not ask for tracking (no CLIENT_SESSION_TRACK) */
	r.caps = MYP_CLIENT_LONG_PASSWORD | MYP_CLIENT_PROTOCOL_41 | MYP_CLIENT_SECURE_CONNECTION |
	         MYP_CLIENT_PLUGIN_AUTH | MYP_CLIENT_TRANSACTIONS | MYP_CLIENT_MULTI_RESULTS |
	         MYP_CLIENT_PS_MULTI_RESULTS | MYP_CLIENT_CONNECT_WITH_DB;
	r.max_packet = 1u << 24;
	r.charset = 45; /* utf8mb4_general_ci */
	r.user = (const uint8_t *)user;
	r.user_len = strlen(user);
	r.auth = sent;
	r.auth_len = alen;
	r.db = (const uint8_t *)db;
	r.db_len = strlen(db);
	r.auth_plugin = (const uint8_t *)"mysql_native_password";
	r.auth_plugin_len = strlen("mysql_native_password");
	myp_wbuf_init(&w, buf, sizeof(buf));
	myp_hsresp_build(&w, 1, &r);
	if (w.failed || myp_hsresp_add_caps(buf + MYP_HEADER_LEN, w.len - MYP_HEADER_LEN,
	                                    MYP_CLIENT_SESSION_TRACK) != MYP_OK)
		fail("handshake response does not build");
	c->caps = (r.caps | MYP_CLIENT_SESSION_TRACK) & g.caps;
	send_all(c, buf, w.len);
	n = read_packet(c, p, sizeof(p));
	if (p[MYP_HEADER_LEN] != 0x00)
		fail("%s's login refused (0x%02x)", user, p[MYP_HEADER_LEN]);
	if (myp_ok_parse(p + MYP_HEADER_LEN, n - MYP_HEADER_LEN, c->caps, &ok) != MYP_OK)
		fail("login OK does not parse");
	c->status = ok.status;
	if (track)
		on_ok_a(c, p, n); /* the login's OK carries the schema */
}

/* Send a command; return the first response packet's length in out. */
static size_t command(conn_t *c, const uint8_t *pkt, size_t n, uint8_t *out, size_t cap)
{
	send_all(c, pkt, n);
	return read_packet(c, out, cap);
}

/* Run a statement that answers with one OK (tracked when track). */
static void exec_ok(conn_t *c, const char *sql, int track)
{
	uint8_t buf[4096], p[BUF_LEN];
	myp_wbuf_t w;
	size_t n;

	myp_wbuf_init(&w, buf, sizeof(buf));
	myp_query_build(&w, c->caps, sql, strlen(sql));
	if (w.failed)
		fail("query does not build");
	n = command(c, buf, w.len, p, sizeof(p));
	if (p[MYP_HEADER_LEN] != 0x00) {
		myp_err_t e;

		if (myp_err_parse(p + MYP_HEADER_LEN, n - MYP_HEADER_LEN, c->caps, &e) == MYP_OK)
			fail("%s: ERR %u %.*s", sql, e.code, (int)e.message_len, e.message);
		fail("%s: no OK", sql);
	}
	if (track) {
		on_ok_a(c, p, n);
	} else {
		myp_ok_t ok;

		if (myp_ok_parse(p + MYP_HEADER_LEN, n - MYP_HEADER_LEN, c->caps, &ok) != MYP_OK)
			fail("%s: OK does not parse", sql);
		c->status = ok.status;
	}
}

/* Run a SELECT of one row; its row packet (payload) into row. */
static size_t select_row(conn_t *c, const char *sql, uint8_t *row, size_t cap)
{
	uint8_t buf[4096], p[BUF_LEN];
	myp_wbuf_t w;
	size_t n, rn = 0;
	int rows = 0;

	myp_wbuf_init(&w, buf, sizeof(buf));
	myp_query_build(&w, c->caps, sql, strlen(sql));
	n = command(c, buf, w.len, p, sizeof(p));
	if (p[MYP_HEADER_LEN] == 0xFF || p[MYP_HEADER_LEN] == 0x00)
		fail("%s: no result set", sql);
	do /* column definitions up to their EOF */
		n = read_packet(c, p, sizeof(p));
	while (!(p[MYP_HEADER_LEN] == 0xFE && n < MYP_HEADER_LEN + 9));
	for (;;) {
		n = read_packet(c, p, sizeof(p));
		if (p[MYP_HEADER_LEN] == 0xFE && n < MYP_HEADER_LEN + 9)
			break;
		if (p[MYP_HEADER_LEN] == 0xFF)
			fail("%s: ERR in the rows", sql);
		if (n - MYP_HEADER_LEN > cap)
			fail("row too long");
		rn = n - MYP_HEADER_LEN;
		memcpy(row, p + MYP_HEADER_LEN, rn);
		rows++;
	}
	if (rows != 1)
		fail("%s: %d rows", sql, rows);
	return rn;
}

/* ---- credentials ------------------------------------------------------------------------ */

static gp_auth_secret_t learned;

static void client_reply(const uint8_t *nonce, uint8_t out[20], size_t *len)
{
	struct sha1_ctx c;
	uint8_t h1[20], h2[20], h3[20];

	/* as a client computes it from the password "app" */
	sha1_init(&c);
	sha1_update(&c, 3, (const uint8_t *)"app");
	sha1_digest(&c, 20, h1);
	sha1_update(&c, 20, h1);
	sha1_digest(&c, 20, h2);
	sha1_update(&c, 20, nonce);
	sha1_update(&c, 20, h2);
	sha1_digest(&c, 20, h3);
	for (int i = 0; i < 20; i++)
		out[i] = h1[i] ^ h3[i];
	*len = 20;
}

static void learned_reply(const uint8_t *nonce, uint8_t out[20], size_t *len)
{
	*len = gp_auth_native_reply(&learned, nonce, 20, out);
}

static const gp_priv_auth_t *native_of(const gp_priv_t *p)
{
	for (size_t i = 0; i < p->nauth; i++)
		if (p->auth[i].native)
			return &p->auth[i];
	return NULL;
}

/* ---- the move ---------------------------------------------------------------------------- */

#define CHECK_SQL                                                                              \
	"SELECT @@character_set_client, @@character_set_connection, @@character_set_results, " \
	"@@collation_connection, DATABASE(), @@sql_mode, @@time_zone, @@tx_isolation, "        \
	"@@max_statement_time, @@auto_increment_increment, LAST_INSERT_ID()"

static uint32_t stmt_a, stmt_b; /* the statement's id on A (the client's) and on B */

static bool map_stmt(void *ctx, uint32_t client_id, uint32_t *server_id)
{
	(void)ctx;
	if (client_id != stmt_a)
		return false;
	*server_id = stmt_b;
	return true;
}

static uint32_t prepare(conn_t *c, const char *sql)
{
	uint8_t buf[512], p[BUF_LEN];
	myp_wbuf_t w;
	myp_stmt_prepare_ok_t pok;
	size_t n;

	myp_wbuf_init(&w, buf, sizeof(buf));
	myp_stmt_prepare_build(&w, sql, strlen(sql));
	n = command(c, buf, w.len, p, sizeof(p));
	if (myp_stmt_prepare_ok_parse(p + MYP_HEADER_LEN, n - MYP_HEADER_LEN, &pok) != MYP_OK ||
	    pok.params != 1 || pok.columns != 1)
		fail("%s does not prepare", sql);
	/* the parameter and the column definitions, each block with its EOF */
	for (int eofs = 0; eofs < 2;) {
		n = read_packet(c, p, sizeof(p));
		eofs += p[MYP_HEADER_LEN] == 0xFE && n < MYP_HEADER_LEN + 9;
	}
	return pok.stmt_id;
}

/* Send an EXECUTE payload; return the LONGLONG of its one binary row. */
static int64_t execute(conn_t *c, const uint8_t *pkt, size_t n)
{
	uint8_t p[BUF_LEN];
	int64_t v = 0;
	size_t k = command(c, pkt, n, p, sizeof(p));

	if (p[MYP_HEADER_LEN] == 0xFF)
		fail("EXECUTE refused: %.*s", (int)(k - MYP_HEADER_LEN - 9),
		     p + MYP_HEADER_LEN + 9);
	do /* the column definition and its EOF */
		k = read_packet(c, p, sizeof(p));
	while (!(p[MYP_HEADER_LEN] == 0xFE && k < MYP_HEADER_LEN + 9));
	k = read_packet(c, p, sizeof(p)); /* 0x00, NULL bitmap, the value */
	if (k != MYP_HEADER_LEN + 2 + 8)
		fail("binary row of %zu bytes", k);
	memcpy(&v, p + MYP_HEADER_LEN + 2, 8);
	read_packet(c, p, sizeof(p)); /* EOF */
	return v;
}

int main(int argc, char **argv)
{
	static conn_t a, b;
	uint8_t nonce[20], sent[20], buf[4096], row_a[1024], row_b[1024], exec[64];
	gp_priv_t app, edapp;
	gp_auth_hash_t stored;
	const gp_priv_auth_t *na;
	myp_wbuf_t w;
	myp_stmt_exec_t e;
	size_t ra, rb, en;
	uint8_t types[2];
	int64_t v;

	if (argc != 4)
		fail("usage: mclient PORT APP_PRIV EDAPP_PRIV");
	if (gp_priv_parse("app", 3, "%", 1, argv[2], strlen(argv[2]), &app) != GP_OK ||
	    gp_priv_parse("edapp", 5, "%", 1, argv[3], strlen(argv[3]), &edapp) != GP_OK)
		fail("global_priv rows do not parse");
	if (!gp_priv_learnable(&app) || gp_priv_learnable(&edapp) || !(na = native_of(&app)) ||
	    !gp_auth_hash_parse(na->auth_string, na->auth_string_len, &stored))
		fail("app should be learnable, edapp (ed25519) not");

	/* A: the client's own login, relayed; the proxy learns from it */
	conn_open(&a, atoi(argv[1]));
	login(&a, "app", "test", client_reply, nonce, sent, 1);
	if (!gp_auth_native_learn(nonce, 20, sent, 20, &stored, &learned))
		fail("the login's reply was not learned");
	exec_ok(&a, "CREATE DATABASE IF NOT EXISTS gp_move", 1);
	exec_ok(&a, "USE gp_move", 1);
	exec_ok(&a, "CREATE TABLE IF NOT EXISTS t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)", 1);
	exec_ok(&a, "SET NAMES latin1", 1);
	exec_ok(&a, "SET collation_connection = 'latin1_german2_ci'", 1);
	exec_ok(&a, "SET time_zone = '+05:30', max_statement_time = 2.5", 1);
	exec_ok(&a, "SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE", 1);
	exec_ok(&a, "SET auto_increment_increment = 3", 1);
	exec_ok(&a, "INSERT INTO t (v) VALUES (1), (2)", 1);
	exec_ok(&a, "SET sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES'", 1);
	exec_ok(&a, "SET character_set_results = NULL", 1);
	if (!(a.status & MYP_SERVER_STATUS_NO_BACKSLASH_ESCAPES))
		fail("A's status does not say NO_BACKSLASH_ESCAPES");
	if (!schema[0] || strcmp(schema, "gp_move") != 0 || nvars < 7 || !last_id)
		fail("tracking saw schema '%s', %d variables, last id %llu", schema, nvars,
		     (unsigned long long)last_id);
	stmt_a = prepare(&a, "SELECT ? * 10");
	/* the client's first EXECUTE: flags 0, 1 iteration, no NULLs, the type bound (LONGLONG),
	 * then 7 */
	exec[0] = MYP_COM_STMT_EXECUTE;
	en = 1;
	memcpy(exec + en, &stmt_a, 4);
	en += 4;
	memcpy(exec + en, "\x00\x01\x00\x00\x00\x00\x01\x08\x00", 9);
	en += 9;
	v = 7;
	memcpy(exec + en, &v, 8);
	en += 8;
	myp_wbuf_init(&w, buf, sizeof(buf));
	{
		size_t start = myp_wbuf_packet_begin(&w);

		myp_wbuf_bytes(&w, exec, en);
		myp_wbuf_packet_end(&w, start, 0);
	}
	if (execute(&a, buf, w.len) != 70)
		fail("EXECUTE on A");
	if (myp_stmt_execute_parse(exec, en, 1, &e) != MYP_OK || !e.types_bound)
		fail("the client's EXECUTE does not parse");
	memcpy(types, e.types, 2); /* what the session keeps: the last bound types */
	ra = select_row(&a, CHECK_SQL, row_a, sizeof(row_a));

	/* B: a new login with a new nonce, answered from what was learned, in the schema */
	conn_open(&b, atoi(argv[1]));
	login(&b, "app", schema, learned_reply, nonce, sent, 0);
	myp_wbuf_init(&w, buf, sizeof(buf));
	myp_wbuf_bytes(&w, "SET ", 4);
	for (int i = 0; i < nvars; i++) {
		myp_track_sysvar_sql(&w, (const uint8_t *)vars[i].name, strlen(vars[i].name),
		                     (const uint8_t *)vars[i].value, strlen(vars[i].value),
		                     b.status & MYP_SERVER_STATUS_NO_BACKSLASH_ESCAPES);
		myp_wbuf_bytes(&w, ", ", 2);
	}
	{
		char id[32];

		snprintf(id, sizeof(id), "%llu", (unsigned long long)last_id);
		myp_track_sysvar_sql(&w, (const uint8_t *)"last_insert_id", 14, (const uint8_t *)id,
		                     strlen(id), false);
	}
	myp_wbuf_u8(&w, 0);
	if (w.failed)
		fail("replay does not fit");
	exec_ok(&b, (const char *)buf, 0);
	/* B's id must not be A's, or a missed rewrite would go unseen: a statement first */
	(void)prepare(&b, "SELECT ? + 1");
	stmt_b = prepare(&b, "SELECT ? * 10");
	if (stmt_b == stmt_a)
		fail("B's statement has A's id");
	/* the client's next EXECUTE, its own id and no types: rewritten, types sent again */
	exec[10] = 0x00; /* NULL bitmap */
	exec[11] = 0x00; /* new_params_bound_flag: the types are not sent again */
	v = 9;
	memcpy(exec + 12, &v, 8);
	en = 20;
	if (myp_stmt_id_rewrite(exec, en, map_stmt, NULL) != MYP_OK ||
	    myp_stmt_execute_parse(exec, en, 1, &e) != MYP_OK || e.types_bound ||
	    e.stmt_id != stmt_b)
		fail("the client's second EXECUTE does not rewrite");
	myp_wbuf_init(&w, buf, sizeof(buf));
	myp_stmt_execute_build(&w, &e, e.stmt_id, types, sizeof(types));
	if (w.failed || execute(&b, buf, w.len) != 90)
		fail("EXECUTE on B");
	rb = select_row(&b, CHECK_SQL, row_b, sizeof(row_b));
	if (ra != rb || memcmp(row_a, row_b, ra) != 0)
		fail("B's state differs from A's:\n  A: %.*s\n  B: %.*s", (int)ra, row_a, (int)rb,
		     row_b);
	printf("mclient: moved: %d variables, schema %s, last insert id %llu, statement %u -> %u; "
	       "%d OKs named no change\n",
	       nvars, schema, (unsigned long long)last_id, stmt_a, stmt_b, unnamed_changes);
	for (size_t i = 0; i < ra; i++)
		row_a[i] = row_a[i] >= 0x20 && row_a[i] < 0x7F ? row_a[i] : '.';
	printf("mclient: row on both (lenenc strings): %.*s\n", (int)ra, row_a);
	gp_auth_secret_wipe(&learned);
	gp_priv_wipe(&app);
	gp_priv_wipe(&edapp);
	close(a.fd);
	close(b.fd);
	return 0;
}
