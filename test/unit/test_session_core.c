/* test_session_core.c - the session protocol core driven with packet sequences, no sockets. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core_pkt.h"
#include "gp_check.h"
#include "codec/myp.h"
#include "session/core.h"

#define CONN_ID  0x40000007u     /* the proxy id the client sees */
#define THREAD   CORE_PKT_THREAD /* the backend's thread id for the session under test */
#define OTHER_ID 0x40000009u     /* another proxy session: same node */
#define FAR_ID   0x4000000au     /* another proxy session: another node */

#define CAPS_BASE                                                                           \
	(MYP_CLIENT_LONG_PASSWORD | MYP_CLIENT_PROTOCOL_41 | MYP_CLIENT_SECURE_CONNECTION | \
	 MYP_CLIENT_PLUGIN_AUTH | MYP_CLIENT_TRANSACTIONS | MYP_CLIENT_DEPRECATE_EOF)

/* The registry the KILL translation asks: two targets besides the session itself. */
static bool fake_find(const gp_core_t *c, uint64_t id, gp_core_target_t *t)
{
	(void)c;
	if (id == OTHER_ID) {
		*t = (gp_core_target_t){
		        .conn_id = OTHER_ID, .thread = 42, .backend = "db1", .same_node = true};
		return true;
	}
	if (id == FAR_ID) {
		*t = (gp_core_target_t){
		        .conn_id = FAR_ID, .thread = 43, .backend = "db2", .same_node = false};
		return true;
	}
	return false;
}

/* Threads sessions had before a move: 7 (now thread 9 here), 8 (now 123456 here), 11 (db2). */
static bool fake_find_past(const gp_core_t *c, uint64_t id, gp_core_target_t *t)
{
	(void)c;
	if (id != 7 && id != 8 && id != 11)
		return false;
	*t = (gp_core_target_t){.conn_id = OTHER_ID,
	                        .thread = id == 7   ? 9
	                                  : id == 8 ? 123456
	                                            : 44,
	                        .backend = id == 11 ? "db2" : "db1",
	                        .same_node = id != 11};
	return true;
}

static const gp_core_env_t env = {.find = fake_find, .find_past = fake_find_past};

static gp_pkt_t *pkt_hsresp(pkt_buf_t *pb, uint64_t caps)
{
	uint8_t whole[256], auth[20] = {1};
	myp_wbuf_t w;
	myp_hsresp_t r = {.caps = caps,
	                  .max_packet = 1u << 24,
	                  .charset = 45,
	                  .user = (const uint8_t *)"app",
	                  .user_len = 3,
	                  .auth = auth,
	                  .auth_len = sizeof(auth),
	                  .auth_plugin = (const uint8_t *)"mysql_native_password",
	                  .auth_plugin_len = 21};
	myp_wbuf_init(&w, whole, sizeof(whole));
	myp_hsresp_build(&w, 1, &r);
	ck_assert(!w.failed);
	return pkt_of(pb, whole, w.len);
}

static gp_pkt_t *pkt_ok(pkt_buf_t *pb, uint8_t seq, uint16_t status)
{
	uint8_t whole[64];
	myp_wbuf_t w;
	myp_ok_t ok = {.status = status};
	myp_wbuf_init(&w, whole, sizeof(whole));
	myp_ok_build(&w, seq, CAPS_BASE, &ok);
	return pkt_of(pb, whole, w.len);
}

static gp_pkt_t *pkt_err(pkt_buf_t *pb, uint8_t seq, uint16_t code, const char *msg)
{
	uint8_t whole[256];
	myp_wbuf_t w;
	myp_wbuf_init(&w, whole, sizeof(whole));
	myp_err_build(&w, seq, CAPS_BASE, code, "HY000", msg);
	return pkt_of(pb, whole, w.len);
}

static gp_pkt_t *pkt_query(pkt_buf_t *pb, const char *sql)
{
	uint8_t b[512];
	size_t n = strlen(sql);
	b[0] = MYP_COM_QUERY;
	memcpy(b + 1, sql, n);
	return pkt_raw(pb, 0, b, n + 1);
}

/* The ERR in out.client: its code and message. */
static void assert_err(const gp_core_out_t *o, uint16_t code, const char *msg)
{
	myp_frame_t f;
	myp_err_t e;
	ck_assert_int_eq(myp_frame_packet(o->client, o->nclient, &f), MYP_OK);
	ck_assert_int_eq(myp_err_parse(f.payload, f.len, CAPS_BASE, &e), MYP_OK);
	ck_assert_uint_eq(e.code, code);
	if (msg) {
		ck_assert_uint_eq(e.message_len, strlen(msg));
		ck_assert_int_eq(memcmp(e.message, msg, e.message_len), 0);
	}
}

/* The backend answers with ERR code (seq): its verdict is want; what the scan after it
 * closes the session for (GP_CLOSE_NONE: nothing). */
static gp_close_t err_then_scan(gp_core_t *c, uint8_t seq, uint16_t code, gp_pkt_action_t want)
{
	pkt_buf_t pb;
	gp_core_out_t o;
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_server_packet(c, pkt_err(&pb, seq, code, "refused"), &o), want);
	if (want == GP_PKT_FORWARD)
		ck_assert(o.ev & GP_CORE_EV_ERR_PACKET); /* the client sees it */
	gp_core_out_init(&o);
	gp_core_scanned(c, &o);
	return o.close;
}

/* A session through greeting, handshake response and a successful login. */
static void login(gp_core_t *c, bool ro)
{
	pkt_buf_t pb;
	gp_core_out_t o;
	gp_core_release(c);
	gp_core_init(c, &env, CONN_ID, ro);

	gp_core_out_init(&o);
	gp_pkt_t *g = pkt_greeting(&pb, CAPS_BASE | MYP_CLIENT_SSL | MYP_CLIENT_COMPRESS);
	ck_assert_int_eq(gp_core_server_packet(c, g, &o), GP_PKT_FORWARD);
	ck_assert(o.ev & GP_CORE_EV_GREETED);
	ck_assert_int_eq(c->phase, GP_CORE_HANDSHAKE);
	ck_assert_uint_eq(c->server_thread, THREAD);
	myp_greeting_t seen;
	ck_assert_int_eq(myp_greeting_parse(g->p, g->n, &seen), MYP_OK);
	ck_assert_uint_eq(seen.conn_id, CONN_ID); /* the client sees the proxy's id */
	ck_assert_uint_eq(seen.caps & (MYP_CLIENT_SSL | MYP_CLIENT_COMPRESS), 0);

	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_client_packet(c, pkt_hsresp(&pb, CAPS_BASE), &o), GP_PKT_FORWARD);
	ck_assert(o.ev & GP_CORE_EV_AUTH);
	ck_assert_int_eq(c->phase, GP_CORE_AUTH);
	ck_assert(c->login.known && c->login.len == 3 && memcmp(c->login.name, "app", 3) == 0);
	ck_assert_uint_eq(c->caps, CAPS_BASE);

	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_server_packet(c, pkt_ok(&pb, 2, MYP_SERVER_STATUS_AUTOCOMMIT), &o),
	                 GP_PKT_FORWARD);
	ck_assert(o.ev & GP_CORE_EV_READY);
	ck_assert(o.ev & GP_CORE_EV_DONE);
	ck_assert_int_eq(c->phase, GP_CORE_READY);
	ck_assert(!c->in_flight);
}

START_TEST(test_login_and_relay)
{
	gp_core_t c = {0};
	gp_core_out_t o;
	pkt_buf_t pb, pb2;
	login(&c, false);
	gp_core_out_init(&o);
	gp_core_scanned(&c, &o);
	ck_assert(o.ev & GP_CORE_EV_RESUME);
	ck_assert_uint_eq(o.nserver, 0);

	/* a command, a pipelined one held, its result set relayed as it is */
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_client_packet(&c, pkt_query(&pb, "SELECT 1"), &o), GP_PKT_FORWARD);
	ck_assert(o.ev & GP_CORE_EV_COMMAND);
	ck_assert_uint_eq(o.cmd, MYP_COM_QUERY);
	ck_assert(c.in_flight);
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_client_packet(&c, pkt_query(&pb2, "SELECT 2"), &o), GP_PKT_HOLD);
	static const uint8_t ncols[] = {0x01},
	                     col[] = {0x03, 'd', 'e', 'f', 0, 0, 0,    1, 'x', 0, 0x0c, 0x3f,
	                              0,    1,   0,   0,   0, 8, 0x81, 0, 0,   0, 0},
	                     row[] = {0x01, '1'};
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_server_packet(&c, pkt_raw(&pb, 1, ncols, sizeof(ncols)), &o),
	                 GP_PKT_FORWARD);
	ck_assert_int_eq(gp_core_server_packet(&c, pkt_raw(&pb, 2, col, sizeof(col)), &o),
	                 GP_PKT_FORWARD);
	ck_assert_int_eq(gp_core_server_packet(&c, pkt_raw(&pb, 3, row, sizeof(row)), &o),
	                 GP_PKT_FORWARD);
	ck_assert_uint_eq(o.ev, 0); /* relaying asks nothing else: the hot path */
	ck_assert_uint_eq(o.nclient + o.nserver, 0);
	/* the EOF-as-OK that ends it opens a transaction */
	uint8_t end[] = {0xFE, 0, 0, 0x01, 0x00, 0, 0};
	end[3] = (uint8_t)(MYP_SERVER_STATUS_IN_TRANS | MYP_SERVER_STATUS_AUTOCOMMIT);
	ck_assert_int_eq(gp_core_server_packet(&c, pkt_raw(&pb, 4, end, sizeof(end)), &o),
	                 GP_PKT_FORWARD);
	ck_assert(o.ev & GP_CORE_EV_DONE);
	ck_assert(o.ev & GP_CORE_EV_IDLE);
	ck_assert_int_eq(c.txn, MYP_TRANS_OPEN);
	ck_assert(!gp_core_idle(&c));
	gp_core_release(&c);
}
END_TEST

START_TEST(test_handshake_refusals)
{
	gp_core_t c = {0};
	gp_core_out_t o;
	pkt_buf_t pb;

	/* a backend that greets with an ERR: relayed, then closed */
	gp_core_release(&c);
	gp_core_init(&c, &env, CONN_ID, false);
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_server_packet(&c, pkt_err(&pb, 0, 1040, "Too many"), &o),
	                 GP_PKT_FORWARD);
	ck_assert(o.ev & GP_CORE_EV_REFUSED);
	gp_core_out_init(&o);
	gp_core_scanned(&c, &o);
	ck_assert_int_eq(o.close, GP_CLOSE_BACKEND_REFUSED);

	/* a greeting that is none */
	gp_core_release(&c);
	gp_core_init(&c, &env, CONN_ID, false);
	gp_core_out_init(&o);
	static const uint8_t junk[] = {0x0a, 'x'};
	ck_assert_int_eq(gp_core_server_packet(&c, pkt_raw(&pb, 0, junk, sizeof(junk)), &o),
	                 GP_PKT_DROP);
	ck_assert(o.ev & GP_CORE_EV_BAD_GREETING);
	ck_assert_uint_eq(o.fail_code, GP_ER_NOT_READY);
	ck_assert_int_eq(o.close, GP_CLOSE_BACKEND_PROTOCOL);

	/* a client asking for TLS: refused with 1043 at its seq + 1 */
	gp_core_release(&c);
	gp_core_init(&c, &env, CONN_ID, false);
	gp_core_out_init(&o);
	(void)gp_core_server_packet(&c, pkt_greeting(&pb, CAPS_BASE | MYP_CLIENT_SSL), &o);
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_client_packet(&c, pkt_hsresp(&pb, CAPS_BASE | MYP_CLIENT_SSL), &o),
	                 GP_PKT_DROP);
	ck_assert_uint_eq(o.fail_code, GP_ER_HANDSHAKE);
	ck_assert_uint_eq(o.fail_seq, 2);
	ck_assert_int_eq(o.close, GP_CLOSE_SSL_REQUESTED);

	/* a client packet before the greeting is held */
	gp_core_release(&c);
	gp_core_init(&c, &env, CONN_ID, false);
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_client_packet(&c, pkt_query(&pb, "SELECT 1"), &o), GP_PKT_HOLD);

	/* a failed login closes once the ERR is relayed */
	gp_core_release(&c);
	gp_core_init(&c, &env, CONN_ID, false);
	gp_core_out_init(&o);
	(void)gp_core_server_packet(&c, pkt_greeting(&pb, CAPS_BASE), &o);
	(void)gp_core_client_packet(&c, pkt_hsresp(&pb, CAPS_BASE), &o);
	ck_assert_int_eq(err_then_scan(&c, 2, 1045, GP_PKT_FORWARD), GP_CLOSE_AUTH_FAILED);
	ck_assert_int_eq(c.phase, GP_CORE_AUTH); /* never READY */
	gp_core_release(&c);
}
END_TEST

/* TLS to clients: offered when configured (whatever the backend says); the SSL request starts
 * it; the login exchange is renumbered both ways (the SSL request took an id); a plain client
 * under require gets MariaDB's own access-denied error. */
START_TEST(test_tls_negotiation)
{
	gp_core_t c = {0};
	gp_core_out_t o;
	pkt_buf_t pb;
	uint8_t sslreq[32] = {0};
	uint32_t caps = (uint32_t)(CAPS_BASE | MYP_CLIENT_SSL);
	memcpy(sslreq, &caps, 4); /* little-endian host in the tests */
	sslreq[6] = 1;            /* max packet 1 << 16 */
	sslreq[8] = 45;

	gp_core_release(&c);
	gp_core_init(&c, &env, CONN_ID, false);
	gp_core_offer_tls(&c, true, false);
	gp_core_out_init(&o);
	gp_pkt_t *g = pkt_greeting(&pb, CAPS_BASE); /* the backend offers no TLS */
	ck_assert_int_eq(gp_core_server_packet(&c, g, &o), GP_PKT_FORWARD);
	myp_greeting_t seen;
	ck_assert_int_eq(myp_greeting_parse(g->p, g->n, &seen), MYP_OK);
	ck_assert_uint_eq(seen.caps & MYP_CLIENT_SSL, MYP_CLIENT_SSL);

	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_client_packet(&c, pkt_raw(&pb, 1, sslreq, sizeof(sslreq)), &o),
	                 GP_PKT_STOP);
	ck_assert(o.ev & GP_CORE_EV_START_TLS);
	ck_assert_int_eq(o.close, GP_CLOSE_NONE);
	ck_assert_int_eq(c.phase, GP_CORE_HANDSHAKE);

	/* the real response, inside TLS, as sequence id 2: the backend gets 1, without SSL */
	gp_core_out_init(&o);
	gp_pkt_t *r = pkt_hsresp(&pb, CAPS_BASE | MYP_CLIENT_SSL);
	r->seq = 2;
	ck_assert_int_eq(gp_core_client_packet(&c, r, &o), GP_PKT_FORWARD);
	ck_assert(o.ev & GP_CORE_EV_AUTH);
	ck_assert_uint_eq(r->seq, 1);
	myp_hsresp_t fwd;
	ck_assert_int_eq(myp_hsresp_parse(r->p, r->n, &fwd), MYP_OK);
	ck_assert_uint_eq(fwd.caps & MYP_CLIENT_SSL, 0);

	/* an auth switch (server 2 -> client 3), its answer (client 4 -> server 3), OK (4 -> 5) */
	static const uint8_t sw[] = "\xfemysql_native_password\0abcdefghijklmnopqrst";
	gp_core_out_init(&o);
	gp_pkt_t *p = pkt_raw(&pb, 2, sw, sizeof(sw));
	ck_assert_int_eq(gp_core_server_packet(&c, p, &o), GP_PKT_FORWARD);
	ck_assert_uint_eq(p->seq, 3);
	uint8_t ans[20] = {7};
	gp_core_out_init(&o);
	p = pkt_raw(&pb, 4, ans, sizeof(ans));
	ck_assert_int_eq(gp_core_client_packet(&c, p, &o), GP_PKT_FORWARD);
	ck_assert_uint_eq(p->seq, 3);
	gp_core_out_init(&o);
	p = pkt_ok(&pb, 4, MYP_SERVER_STATUS_AUTOCOMMIT);
	ck_assert_int_eq(gp_core_server_packet(&c, p, &o), GP_PKT_FORWARD);
	ck_assert_uint_eq(p->seq, 5);
	ck_assert(o.ev & GP_CORE_EV_READY);

	/* commands start at 0 on both legs: nothing is renumbered any more */
	gp_core_out_init(&o);
	p = pkt_query(&pb, "SELECT 1");
	ck_assert_int_eq(gp_core_client_packet(&c, p, &o), GP_PKT_FORWARD);
	ck_assert_uint_eq(p->seq, 0);
	gp_core_out_init(&o);
	p = pkt_ok(&pb, 1, MYP_SERVER_STATUS_AUTOCOMMIT);
	ck_assert_int_eq(gp_core_server_packet(&c, p, &o), GP_PKT_FORWARD);
	ck_assert_uint_eq(p->seq, 1);

	/* require: a plain client is refused as MariaDB refuses it */
	gp_core_release(&c);
	gp_core_init(&c, &env, CONN_ID, false);
	gp_core_offer_tls(&c, true, true);
	gp_core_set_host(&c, "10.0.0.1");
	gp_core_out_init(&o);
	(void)gp_core_server_packet(&c, pkt_greeting(&pb, CAPS_BASE), &o);
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_client_packet(&c, pkt_hsresp(&pb, CAPS_BASE), &o), GP_PKT_DROP);
	ck_assert_uint_eq(o.fail_code, GP_ER_ACCESS_DENIED);
	ck_assert_str_eq(o.fail_state, "28000");
	ck_assert_str_eq(o.fail_msg,
	                 "Access denied for user 'app'@'10.0.0.1' (using password: YES)");
	ck_assert_uint_eq(o.fail_seq, 2);
	ck_assert_int_eq(o.close, GP_CLOSE_TLS_REQUIRED);

	/* not configured: the capability stays off and an SSL request is refused */
	gp_core_release(&c);
	gp_core_init(&c, &env, CONN_ID, false);
	gp_core_offer_tls(&c, false, true);
	gp_core_out_init(&o);
	g = pkt_greeting(&pb, CAPS_BASE | MYP_CLIENT_SSL);
	(void)gp_core_server_packet(&c, g, &o);
	ck_assert_int_eq(myp_greeting_parse(g->p, g->n, &seen), MYP_OK);
	ck_assert_uint_eq(seen.caps & MYP_CLIENT_SSL, 0);
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_client_packet(&c, pkt_raw(&pb, 1, sslreq, sizeof(sslreq)), &o),
	                 GP_PKT_DROP);
	ck_assert_int_eq(o.close, GP_CLOSE_SSL_REQUESTED);
	gp_core_release(&c);
	gp_core_init(&c, &env, CONN_ID, false);
	gp_core_offer_tls(&c, false, true);
	gp_core_out_init(&o);
	(void)gp_core_server_packet(&c, pkt_greeting(&pb, CAPS_BASE), &o);
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_client_packet(&c, pkt_hsresp(&pb, CAPS_BASE), &o),
	                 GP_PKT_FORWARD); /* require without TLS configured means nothing */
	gp_core_release(&c);
}
END_TEST

/* Compression: offered when configured and the backend offers it, kept off the backend leg,
 * refused at connect when not offered; a compressed client's packets are renumbered. */
START_TEST(test_compress_negotiation)
{
	gp_core_t c = {0};
	gp_core_out_t o;
	pkt_buf_t pb;
	myp_greeting_t seen;
	myp_hsresp_t r;

	for (int offer = 0; offer < 2; offer++) {
		gp_core_release(&c);
		gp_core_init(&c, &env, CONN_ID, false);
		c.offer_compress = offer;
		gp_core_out_init(&o);
		gp_pkt_t *g = pkt_greeting(&pb, CAPS_BASE | MYP_CLIENT_COMPRESS | MYP_CLIENT_SSL);
		(void)gp_core_server_packet(&c, g, &o);
		ck_assert_int_eq(myp_greeting_parse(g->p, g->n, &seen), MYP_OK);
		ck_assert_uint_eq(seen.caps & MYP_CLIENT_COMPRESS, offer ? MYP_CLIENT_COMPRESS : 0);
		ck_assert_uint_eq(seen.caps & MYP_CLIENT_SSL, 0);
		gp_core_out_init(&o);
		gp_pkt_t *h = pkt_hsresp(&pb, CAPS_BASE | MYP_CLIENT_COMPRESS);
		gp_pkt_action_t v = gp_core_client_packet(&c, h, &o);
		if (!offer) {
			/* mysqlnd compresses whatever was offered: refused plainly, at once */
			ck_assert_int_eq(v, GP_PKT_DROP);
			ck_assert_uint_eq(o.fail_code, GP_ER_HANDSHAKE);
			ck_assert_str_eq(
			        o.fail_msg,
			        "galera-proxy: compression was not offered; connect without it");
			ck_assert_uint_eq(o.fail_seq, 2);
			ck_assert_int_eq(o.close, GP_CLOSE_COMPRESS_REQUESTED);
			continue;
		}
		ck_assert_int_eq(v, GP_PKT_FORWARD);
		ck_assert(c.compress);
		ck_assert_int_eq(myp_hsresp_parse(h->p, h->n, &r), MYP_OK);
		ck_assert_uint_eq(r.caps & MYP_CLIENT_COMPRESS,
		                  0); /* the backend leg stays plain */
		ck_assert_uint_eq(c.caps & MYP_CLIENT_COMPRESS, 0);
	}

	/* zstd is never offered: refused even when zlib is */
	gp_core_release(&c);
	gp_core_init(&c, &env, CONN_ID, false);
	c.offer_compress = true;
	gp_core_out_init(&o);
	(void)gp_core_server_packet(&c, pkt_greeting(&pb, CAPS_BASE | MYP_CLIENT_COMPRESS), &o);
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_client_packet(
	                         &c, pkt_hsresp(&pb, CAPS_BASE | MYP_CLIENT_ZSTD_COMPRESSION), &o),
	                 GP_PKT_DROP);
	ck_assert_int_eq(o.close, GP_CLOSE_COMPRESS_REQUESTED);

	/* libmariadb numbers every packet inside frames 0: renumbered for the backend */
	gp_core_release(&c);
	gp_core_init(&c, &env, CONN_ID, false);
	c.offer_compress = true;
	gp_core_out_init(&o);
	(void)gp_core_server_packet(&c, pkt_greeting(&pb, CAPS_BASE | MYP_CLIENT_COMPRESS), &o);
	(void)gp_core_client_packet(&c, pkt_hsresp(&pb, CAPS_BASE | MYP_CLIENT_COMPRESS), &o);
	gp_core_out_init(&o);
	(void)gp_core_server_packet(&c, pkt_ok(&pb, 2, MYP_SERVER_STATUS_AUTOCOMMIT), &o);
	ck_assert_int_eq(c.phase, GP_CORE_READY);
	gp_core_out_init(&o);
	gp_core_scanned(&c, &o);
	static const uint8_t big[] = {MYP_COM_QUERY, 'S'};
	gp_pkt_t *q = pkt_raw(&pb, 0, big, sizeof(big));
	q->len = MYP_MAX_PAYLOAD; /* the first of a command over 16 MB */
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_client_packet(&c, q, &o), GP_PKT_FORWARD);
	ck_assert_uint_eq(q->seq, 0);
	for (uint8_t k = 1; k <= 2; k++) {
		q = pkt_raw(&pb, 0, "x", 1);
		q->len = k == 1 ? MYP_MAX_PAYLOAD : 5;
		gp_core_out_init(&o);
		ck_assert_int_eq(gp_core_client_packet(&c, q, &o), GP_PKT_FORWARD);
		ck_assert_uint_eq(q->seq, k);
	}
	gp_core_out_init(&o);
	(void)gp_core_server_packet(&c, pkt_ok(&pb, 3, MYP_SERVER_STATUS_AUTOCOMMIT), &o);
	gp_core_out_init(&o);
	gp_core_scanned(&c, &o);
	q = pkt_query(&pb, "SELECT 1");
	q->seq = 7;
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_client_packet(&c, q, &o), GP_PKT_FORWARD);
	ck_assert_uint_eq(q->seq, 0); /* a new command starts at 0 */
	gp_core_release(&c);
}
END_TEST

START_TEST(test_commands_the_proxy_answers)
{
	gp_core_t c = {0};
	gp_core_out_t o;
	pkt_buf_t pb;
	login(&c, false);

	static const uint8_t dump[] = {0x12, 0, 0, 0, 0}; /* COM_BINLOG_DUMP */
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_client_packet(&c, pkt_raw(&pb, 0, dump, sizeof(dump)), &o),
	                 GP_PKT_DROP);
	assert_err(&o, GP_ER_UNSUPPORTED, NULL);
	ck_assert(!c.in_flight);

	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_client_packet(&c, pkt_raw(&pb, 0, "", 0), &o), GP_PKT_STOP);
	ck_assert_int_eq(o.close, GP_CLOSE_PROTOCOL_ERROR);

	static const uint8_t quit[] = {MYP_COM_QUIT};
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_client_packet(&c, pkt_raw(&pb, 0, quit, 1), &o), GP_PKT_STOP);
	ck_assert_int_eq(o.close, GP_CLOSE_CLIENT_QUIT);
	gp_core_release(&c);
}
END_TEST

START_TEST(test_kill_translation)
{
	gp_core_t c = {0};
	gp_core_out_t o;
	pkt_buf_t pb;
	char sql[64], msg[64];
	login(&c, false);

	/* same node: the statement names the backend's thread, the server's refusal our id */
	snprintf(sql, sizeof(sql), "KILL %u", OTHER_ID);
	gp_core_out_init(&o);
	gp_pkt_t *k = pkt_query(&pb, sql);
	ck_assert_int_eq(gp_core_client_packet(&c, k, &o), GP_PKT_FORWARD);
	ck_assert_int_eq(memcmp(k->p + 1, "KILL 42        ", 15), 0);
	ck_assert_int_eq(c.kill.phase, GP_KILL_RELAYED);
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_server_packet(&c,
	                                       pkt_err(&pb, 1, GP_ER_KILL_DENIED,
	                                               "You are not owner of thread 42"),
	                                       &o),
	                 GP_PKT_DROP);
	snprintf(msg, sizeof(msg), "You are not owner of thread %u", OTHER_ID);
	assert_err(&o, GP_ER_KILL_DENIED, msg);
	ck_assert_int_eq(c.kill.phase, GP_KILL_IDLE);

	/* COM_PROCESS_KILL too */
	uint8_t pk[5] = {MYP_COM_PROCESS_KILL};
	pk[1] = (uint8_t)OTHER_ID, pk[2] = (uint8_t)(OTHER_ID >> 8);
	pk[3] = (uint8_t)(OTHER_ID >> 16), pk[4] = (uint8_t)(OTHER_ID >> 24);
	gp_core_out_init(&o);
	k = pkt_raw(&pb, 0, pk, sizeof(pk));
	ck_assert_int_eq(gp_core_client_packet(&c, k, &o), GP_PKT_FORWARD);
	uint32_t id;
	ck_assert_int_eq(myp_process_kill_parse(k->p, k->n, &id), MYP_OK);
	ck_assert_uint_eq(id, 42);
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_server_packet(&c, pkt_ok(&pb, 1, 0), &o), GP_PKT_FORWARD);

	/* no such session: the proxy answers 1094 naming the id as given */
	snprintf(sql, sizeof(sql), "KILL QUERY %u", CONN_ID + 100);
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_client_packet(&c, pkt_query(&pb, sql), &o), GP_PKT_DROP);
	snprintf(msg, sizeof(msg), "Unknown thread id: %u", CONN_ID + 100);
	assert_err(&o, GP_ER_NO_SUCH_THREAD, msg);
	ck_assert(!c.in_flight);

	/* another node: the glue's (the client waits for its answer) */
	snprintf(sql, sizeof(sql), "KILL %u", FAR_ID);
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_client_packet(&c, pkt_query(&pb, sql), &o), GP_PKT_DROP);
	ck_assert(o.ev & GP_CORE_EV_KILL_REMOTE);
	ck_assert_uint_eq(o.t.thread, 43);
	ck_assert_uint_eq(c.kill.target, FAR_ID);
	/* ...which checks the grants with a query of its own, not relayed */
	gp_core_out_init(&o);
	gp_core_kill_check(&c, &o);
	ck_assert_uint_gt(o.nserver, MYP_HEADER_LEN);
	ck_assert(c.internal && c.in_flight);
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_server_packet(&c, pkt_ok(&pb, 1, 0), &o), GP_PKT_DROP);
	gp_core_out_init(&o);
	gp_core_scanned(&c, &o);
	ck_assert(o.ev & GP_CORE_EV_KILL_CHECKED);
	gp_core_out_init(&o);
	gp_core_kill_answer(&c, 0, NULL, &o);
	ck_assert_uint_gt(o.nclient, 0);
	ck_assert(!c.in_flight);

	/* ids below the proxy range keep the server's meaning */
	gp_core_out_init(&o);
	k = pkt_query(&pb, "KILL 5");
	ck_assert_int_eq(gp_core_client_packet(&c, k, &o), GP_PKT_FORWARD);
	ck_assert_int_eq(memcmp(k->p + 1, "KILL 5", 6), 0);
	gp_core_release(&c);
}
END_TEST

START_TEST(test_kill_of_a_moved_thread)
{
	gp_core_t c = {0};
	gp_core_out_t o;
	pkt_buf_t pb;
	login(&c, false);

	/* a thread a session had before its move names that session: its thread now */
	gp_core_out_init(&o);
	gp_pkt_t *k = pkt_query(&pb, "KILL QUERY 7");
	ck_assert_int_eq(gp_core_client_packet(&c, k, &o), GP_PKT_FORWARD);
	ck_assert_int_eq(memcmp(k->p + 1, "KILL QUERY 9", 12), 0);
	ck_assert_int_eq(c.kill.phase, GP_KILL_RELAYED);
	ck_assert_uint_eq(c.kill.target, OTHER_ID);
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_server_packet(&c, pkt_ok(&pb, 1, 0), &o), GP_PKT_FORWARD);

	/* its thread now does not fit in the digits: never the old id relayed, the side way */
	gp_core_out_init(&o);
	k = pkt_query(&pb, "KILL 8");
	ck_assert_int_eq(gp_core_client_packet(&c, k, &o), GP_PKT_DROP);
	ck_assert(o.ev & GP_CORE_EV_KILL_REMOTE);
	ck_assert_uint_eq(o.t.thread, 123456);
	gp_core_out_init(&o);
	gp_core_kill_check(&c, &o);
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_server_packet(&c, pkt_ok(&pb, 1, 0), &o), GP_PKT_DROP);
	gp_core_out_init(&o);
	gp_core_scanned(&c, &o);
	gp_core_out_init(&o);
	gp_core_kill_answer(&c, 0, NULL, &o);
	ck_assert(!c.in_flight);

	/* on another node now: through that node */
	uint8_t pk[5] = {MYP_COM_PROCESS_KILL, 11, 0, 0, 0};
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_client_packet(&c, pkt_raw(&pb, 0, pk, sizeof(pk)), &o),
	                 GP_PKT_DROP);
	ck_assert(o.ev & GP_CORE_EV_KILL_REMOTE);
	ck_assert_uint_eq(o.t.thread, 44);
	gp_core_release(&c);
}
END_TEST

START_TEST(test_read_only_endpoint)
{
	gp_core_t c = {0};
	gp_core_out_t o;
	pkt_buf_t pb;
	myp_frame_t f;
	static const char ro[] = "SET SESSION TRANSACTION READ ONLY";
	static const char sync[] = "SET SESSION wsrep_sync_wait = 1";
	gp_core_release(&c);
	gp_core_init(&c, &env, CONN_ID, true);
	gp_core_out_init(&o);
	(void)gp_core_server_packet(&c, pkt_greeting(&pb, CAPS_BASE), &o);
	(void)gp_core_client_packet(&c, pkt_hsresp(&pb, CAPS_BASE), &o);
	gp_core_out_init(&o);
	(void)gp_core_server_packet(&c, pkt_ok(&pb, 2, 0), &o);
	ck_assert(o.ev & GP_CORE_EV_RO_FRESH);
	gp_core_want_sync(&c, true);

	/* after the OK is relayed: the proxy's SET, then the causal-reads SET, then the client */
	gp_core_out_init(&o);
	gp_core_scanned(&c, &o);
	ck_assert(!(o.ev & GP_CORE_EV_RESUME));
	ck_assert_int_eq(myp_frame_packet(o.server, o.nserver, &f), MYP_OK);
	ck_assert_uint_eq(f.len, 1 + sizeof(ro) - 1);
	ck_assert_int_eq(memcmp(f.payload + 1, ro, sizeof(ro) - 1), 0);
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_server_packet(&c, pkt_ok(&pb, 1, 0), &o), GP_PKT_DROP);
	gp_core_out_init(&o);
	gp_core_scanned(&c, &o);
	ck_assert_int_eq(myp_frame_packet(o.server, o.nserver, &f), MYP_OK);
	ck_assert_int_eq(memcmp(f.payload + 1, sync, sizeof(sync) - 1), 0);
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_server_packet(&c, pkt_ok(&pb, 1, 0), &o), GP_PKT_DROP);
	gp_core_out_init(&o);
	gp_core_scanned(&c, &o);
	ck_assert(o.ev & GP_CORE_EV_RESUME);
	ck_assert_uint_eq(o.nserver, 0);

	/* a refused SET closes the session: it would not be read-only */
	gp_core_release(&c);
	gp_core_init(&c, &env, CONN_ID, true);
	gp_core_out_init(&o);
	(void)gp_core_server_packet(&c, pkt_greeting(&pb, CAPS_BASE), &o);
	(void)gp_core_client_packet(&c, pkt_hsresp(&pb, CAPS_BASE), &o);
	(void)gp_core_server_packet(&c, pkt_ok(&pb, 2, 0), &o);
	gp_core_out_init(&o);
	gp_core_scanned(&c, &o);
	ck_assert_int_eq(err_then_scan(&c, 1, 1227, GP_PKT_DROP), GP_CLOSE_READ_ONLY_FAILED);
	gp_core_release(&c);
}
END_TEST

START_TEST(test_txn_after_err)
{
	gp_core_t c = {0};
	gp_core_out_t o;
	pkt_buf_t pb;
	login(&c, false);
	ck_assert(!gp_core_txn_ask(&c, &o)); /* nothing to ask: known idle */

	gp_core_out_init(&o);
	(void)gp_core_client_packet(&c, pkt_query(&pb, "BEGIN"), &o);
	(void)gp_core_server_packet(&c, pkt_ok(&pb, 1, MYP_SERVER_STATUS_IN_TRANS), &o);
	ck_assert_int_eq(c.txn, MYP_TRANS_OPEN);
	ck_assert(c.txn_told);
	gp_core_out_init(&o);
	(void)gp_core_client_packet(&c, pkt_query(&pb, "INSERT INTO t VALUES (1)"), &o);
	(void)gp_core_server_packet(&c, pkt_err(&pb, 1, 1213, "Deadlock found"), &o);
	ck_assert_int_eq(c.txn, MYP_TRANS_NONE); /* a deadlock rolls the transaction back */
	ck_assert(!c.txn_told);
	/* a statement's error outside a transaction may have begun one: the server is asked */
	gp_core_out_init(&o);
	(void)gp_core_client_packet(&c, pkt_query(&pb, "INSERT INTO t VALUES (1)"), &o);
	(void)gp_core_server_packet(&c, pkt_err(&pb, 1, 1062, "Duplicate entry"), &o);
	ck_assert_int_eq(c.txn, MYP_TRANS_UNKNOWN);

	gp_core_out_init(&o);
	ck_assert(gp_core_txn_ask(&c, &o));
	myp_frame_t f;
	ck_assert_int_eq(myp_frame_packet(o.server, o.nserver, &f), MYP_OK);
	ck_assert_uint_eq(f.len, 1);
	ck_assert_uint_eq(f.payload[0], MYP_COM_PING);
	ck_assert(c.internal);
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_server_packet(&c, pkt_ok(&pb, 1, 0), &o), GP_PKT_DROP);
	ck_assert(o.internal);
	ck_assert_int_eq(c.txn, MYP_TRANS_NONE);
	ck_assert(gp_core_idle(&c));
	gp_core_release(&c);
}
END_TEST

START_TEST(test_backend_protocol_error)
{
	gp_core_t c = {0};
	gp_core_out_t o;
	pkt_buf_t pb;
	login(&c, false);
	gp_core_out_init(&o);
	static const uint8_t ping[] = {MYP_COM_PING};
	(void)gp_core_client_packet(&c, pkt_raw(&pb, 0, ping, 1), &o);
	static const uint8_t junk[] = {0x42, 0x42};
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_server_packet(&c, pkt_raw(&pb, 1, junk, sizeof(junk)), &o),
	                 GP_PKT_STOP);
	ck_assert_int_eq(o.close, GP_CLOSE_BACKEND_PROTOCOL_ERROR);
	gp_core_release(&c);
}
END_TEST

START_TEST(test_deferred_login)
{
	gp_core_t c = {0};
	gp_core_out_t o;
	pkt_buf_t pb;
	gp_core_release(&c);
	gp_core_init(&c, &env, CONN_ID, false);
	gp_core_defer(&c); /* the proxy greeted the client itself */
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_client_packet(&c, pkt_hsresp(&pb, CAPS_BASE), &o), GP_PKT_DROP);
	ck_assert(o.ev & GP_CORE_EV_DEFER_ANSWER);
	ck_assert_uint_eq(o.r.user_len, 3);
	ck_assert_int_eq(c.phase, GP_CORE_GREETING);
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_client_packet(&c, pkt_query(&pb, "SELECT 1"), &o), GP_PKT_HOLD);
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_server_packet(&c, pkt_greeting(&pb, CAPS_BASE), &o), GP_PKT_DROP);
	ck_assert(o.ev & GP_CORE_EV_DEFER_GREETING);
	gp_core_defer_auth(&c, &o.g, CAPS_BASE);
	ck_assert_uint_eq(c.server_thread, THREAD);
	ck_assert_int_eq(c.phase, GP_CORE_AUTH);
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_server_packet(&c, pkt_ok(&pb, 2, 0), &o), GP_PKT_FORWARD);
	ck_assert(o.ev & GP_CORE_EV_DEFER_SERVER);
	ck_assert(o.ev & GP_CORE_EV_READY);
	gp_core_release(&c);
}
END_TEST

static Suite *core_suite(void)
{
	Suite *s = suite_create("session_core");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_login_and_relay);
	tcase_add_test(tc, test_handshake_refusals);
	tcase_add_test(tc, test_compress_negotiation);
	tcase_add_test(tc, test_tls_negotiation);
	tcase_add_test(tc, test_commands_the_proxy_answers);
	tcase_add_test(tc, test_kill_translation);
	tcase_add_test(tc, test_kill_of_a_moved_thread);
	tcase_add_test(tc, test_read_only_endpoint);
	tcase_add_test(tc, test_txn_after_err);
	tcase_add_test(tc, test_backend_protocol_error);
	tcase_add_test(tc, test_deferred_login);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return gp_check_run(core_suite(), CK_NORMAL);
}
