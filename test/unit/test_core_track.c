/* test_core_track.c - the core asks for session tracking, keeps the state, and untracks OKs. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core_pkt.h"
#include "fixture.h"
#include "gp_check.h"
#include "codec/myp.h"
#include "session/core.h"

#define CAPS_BASE                                                                           \
	(MYP_CLIENT_LONG_PASSWORD | MYP_CLIENT_PROTOCOL_41 | MYP_CLIENT_SECURE_CONNECTION | \
	 MYP_CLIENT_PLUGIN_AUTH | MYP_CLIENT_TRANSACTIONS | MYP_CLIENT_MULTI_RESULTS |      \
	 MYP_CLIENT_CONNECT_WITH_DB)
#define TRACK MYP_CLIENT_SESSION_TRACK
#define DEOF  MYP_CLIENT_DEPRECATE_EOF

/* captured (test_track.c's pairs, capture_track.py): tracked, and the same without */
#define OK_SET_NAMES                                                       \
	"000000024000000065001d146368617261637465725f7365745f636c69656e74" \
	"07757466386d62340021186368617261637465725f7365745f636f6e6e656374" \
	"696f6e07757466386d6234001e156368617261637465725f7365745f72657375" \
	"6c747307757466386d6234020131"
#define OK_SET_NAMES_PLAIN "00000002000000"
#define OK_UPDATE_TRX                                                      \
	"00010023c0000028526f7773206d6174636865643a203120204368616e676564" \
	"3a203120205761726e696e67733a20300b050908545f5f5f575f5f5f"
#define OK_UPDATE_TRX_PLAIN                                                \
	"0001002380000028526f7773206d6174636865643a203120204368616e676564" \
	"3a203120205761726e696e67733a2030"
#define OK_USE_MYSQL  "00000002400000000b0106056d7973716c020131"
#define OK_USER_VAR   "00000002c000000003020131"
#define OK_INSERT_ID7 "00010702800000"

static const gp_core_env_t env = {0};

static gp_pkt_t *pkt_hex(pkt_buf_t *pb, uint8_t seq, const char *hex)
{
	uint8_t b[1024];
	size_t n = unhex(hex, b, sizeof(b));
	return pkt_raw(pb, seq, b, n);
}

static gp_pkt_t *pkt_query(pkt_buf_t *pb, const char *sql)
{
	uint8_t b[512];
	size_t n = strlen(sql);
	b[0] = MYP_COM_QUERY;
	memcpy(b + 1, sql, n);
	return pkt_raw(pb, 0, b, n + 1);
}

/* The relayed bytes (header and payload) are exactly the plain capture's. */
static void assert_relayed(const gp_pkt_t *p, uint8_t seq, const char *plain_hex)
{
	uint8_t want[1024];
	size_t n = unhex(plain_hex, want, sizeof(want));
	ck_assert_uint_eq(p->len, n);
	ck_assert_uint_eq(p->n, n);
	const uint8_t *h = p->p - MYP_HEADER_LEN;
	ck_assert_uint_eq((uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16, n);
	ck_assert_uint_eq(h[3], seq);
	ck_assert_int_eq(memcmp(p->p, want, n), 0);
}

/* A session logged in with db "app": the server offers server_caps, the client asks for
 * client_caps. */
static void login(gp_core_t *c, uint64_t server_caps, uint64_t client_caps)
{
	pkt_buf_t pb;
	gp_core_out_t o;
	uint8_t whole[256], auth[20] = {1};
	myp_wbuf_t w;
	gp_core_release(c);
	gp_core_init(c, &env, 0x40000007u, false);

	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_server_packet(c, pkt_greeting(&pb, server_caps), &o),
	                 GP_PKT_FORWARD);

	myp_hsresp_t r = {.caps = client_caps,
	                  .max_packet = 1u << 24,
	                  .charset = 45,
	                  .user = (const uint8_t *)"app",
	                  .user_len = 3,
	                  .auth = auth,
	                  .auth_len = sizeof(auth),
	                  .db = (const uint8_t *)"app",
	                  .db_len = 3,
	                  .auth_plugin = (const uint8_t *)"mysql_native_password",
	                  .auth_plugin_len = 21};
	myp_wbuf_init(&w, whole, sizeof(whole));
	myp_hsresp_build(&w, 1, &r);
	gp_pkt_t *h = pkt_raw(&pb, 1, whole + 4, w.len - 4);
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_client_packet(c, h, &o), GP_PKT_FORWARD);
	/* what the server reads asks for tracking whenever the server offers it */
	myp_hsresp_t seen;
	ck_assert_int_eq(myp_hsresp_parse(h->p, h->n, &seen), MYP_OK);
	ck_assert_uint_eq(seen.caps & TRACK, server_caps & TRACK);
	ck_assert_uint_eq(seen.caps & ~TRACK, client_caps & ~TRACK);

	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_server_packet(c, pkt_hex(&pb, 2, OK_SET_NAMES_PLAIN), &o),
	                 GP_PKT_FORWARD);
	ck_assert(o.ev & GP_CORE_EV_READY);
	gp_core_out_init(&o);
	gp_core_scanned(c, &o);
	ck_assert_str_eq(gp_sstate_schema(gp_core_sstate(c)), "app");
}

/* The client sends sql, the server answers with the OK payload in hex: the verdict. */
static gp_pkt_action_t query_ok(gp_core_t *c, const char *sql, pkt_buf_t *pb, const char *ok)
{
	pkt_buf_t q;
	gp_core_out_t o;
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_client_packet(c, pkt_query(&q, sql), &o), GP_PKT_FORWARD);
	gp_core_out_init(&o);
	gp_pkt_action_t v = gp_core_server_packet(c, pkt_hex(pb, 1, ok), &o);
	if (v == GP_PKT_FORWARD)
		ck_assert(o.ev & GP_CORE_EV_DONE);
	gp_core_out_init(&o);
	gp_core_scanned(c, &o);
	return v;
}

START_TEST(test_track_untrack_ok)
{
	gp_core_t c = {0};
	pkt_buf_t pb;
	login(&c, CAPS_BASE | TRACK, CAPS_BASE);
	ck_assert(c.untrack && gp_core_tracked(&c));
	ck_assert_uint_eq(gp_core_peek(&c, true), GP_TRACK_PEEK);
	ck_assert_uint_eq(gp_core_peek(&c, false), GP_TRACK_PEEK);

	/* the client gets exactly what the server sends a client without tracking */
	ck_assert_int_eq(query_ok(&c, "SET NAMES utf8mb4", &pb, OK_SET_NAMES), GP_PKT_FORWARD);
	assert_relayed(&pb.pkt, 1, OK_SET_NAMES_PLAIN);
	ck_assert_uint_eq(gp_sstate_nvars(&c.st), 3);
	ck_assert_int_eq(query_ok(&c, "UPDATE t SET a = 1", &pb, OK_UPDATE_TRX), GP_PKT_FORWARD);
	assert_relayed(&pb.pkt, 1, OK_UPDATE_TRX_PLAIN); /* the info stays */
	ck_assert_int_eq(query_ok(&c, "USE mysql", &pb, OK_USE_MYSQL), GP_PKT_FORWARD);
	ck_assert_str_eq(gp_sstate_schema(&c.st), "mysql");
	ck_assert_int_eq(query_ok(&c, "INSERT INTO t VALUES ()", &pb, OK_INSERT_ID7),
	                 GP_PKT_FORWARD);
	assert_relayed(&pb.pkt, 1, OK_INSERT_ID7);
	ck_assert_uint_eq(gp_sstate_last_insert_id(&c.st), 7);
	ck_assert_uint_eq(gp_sstate_unmovable(&c.st), 0);

	/* a change the tracker does not name; a user variable the scan sees */
	ck_assert_int_eq(query_ok(&c, "SET @a = 1", &pb, OK_USER_VAR), GP_PKT_FORWARD);
	ck_assert_uint_eq(gp_sstate_unmovable(&c.st),
	                  GP_UNMOV_USER_VAR | GP_UNMOV_UNTRACKED_CHANGE);

	/* COM_RESET_CONNECTION: the server starts afresh, so does the state */
	pkt_buf_t q;
	gp_core_out_t o;
	uint8_t reset = MYP_COM_RESET_CONNECTION;
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_client_packet(&c, pkt_raw(&q, 0, &reset, 1), &o), GP_PKT_FORWARD);
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_server_packet(&c, pkt_hex(&pb, 1, OK_SET_NAMES_PLAIN), &o),
	                 GP_PKT_FORWARD);
	ck_assert_uint_eq(gp_sstate_unmovable(&c.st), 0);
	ck_assert_uint_eq(gp_sstate_nvars(&c.st), 0);
	ck_assert_str_eq(gp_sstate_schema(&c.st), "mysql"); /* DATABASE() stays */

	/* COM_CHANGE_USER: afresh, its OK names the schema (captured, MariaDB 10.11) */
	gp_sstate_add(&c.st, GP_UNMOV_LOCK);
	uint8_t cu[] = {MYP_COM_CHANGE_USER, 'a', 'p', 'p', 0, 0, 't', 0};
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_client_packet(&c, pkt_raw(&q, 0, cu, sizeof(cu)), &o),
	                 GP_PKT_FORWARD);
	gp_core_out_init(&o);
	ck_assert_int_eq(
	        gp_core_server_packet(
	                &c, pkt_hex(&pb, 1, "00000002400000000b0106056d7973716c020131"), &o),
	        GP_PKT_FORWARD);
	assert_relayed(&pb.pkt, 1, OK_SET_NAMES_PLAIN);
	ck_assert_uint_eq(gp_sstate_unmovable(&c.st), 0);
	ck_assert_str_eq(gp_sstate_schema(&c.st), "mysql");
	gp_core_release(&c);
}
END_TEST

START_TEST(test_track_result_set)
{
	/* a result set under DEPRECATE_EOF: rows that start with 0x00 are rows, the closing
	 * OK-as-EOF loses its state block */
	gp_core_t c = {0};
	pkt_buf_t pb, q;
	gp_core_out_t o;
	login(&c, CAPS_BASE | TRACK | DEOF, CAPS_BASE | DEOF);
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_client_packet(&c, pkt_query(&q, "SELECT ''"), &o), GP_PKT_FORWARD);
	static const uint8_t count[] = {1};
	static const uint8_t def[] = {3, 'd', 'e', 'f', 0, 0,    0, 0, 0, 0x0c, 0x21,
	                              0, 0,   0,   0,   0, 0xfd, 0, 0, 0, 0,    0};
	static const uint8_t row[] = {0}; /* one empty string */
	uint8_t before[8];
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_server_packet(&c, pkt_raw(&pb, 1, count, 1), &o), GP_PKT_FORWARD);
	ck_assert_int_eq(gp_core_server_packet(&c, pkt_raw(&pb, 2, def, sizeof(def)), &o),
	                 GP_PKT_FORWARD);
	gp_pkt_t *r = pkt_raw(&pb, 3, row, sizeof(row));
	memcpy(before, pb.b, 5);
	ck_assert_int_eq(gp_core_server_packet(&c, r, &o), GP_PKT_FORWARD);
	ck_assert_uint_eq(r->len, 1);
	ck_assert_int_eq(memcmp(before, pb.b, 5), 0);
	/* the SELECT in a transaction's terminator, captured tracked and plain */
	gp_core_out_init(&o);
	gp_pkt_t *e = pkt_hex(&pb, 4, "fe000023e00000000b050908545f525f5f73535f");
	ck_assert_int_eq(gp_core_server_packet(&c, e, &o), GP_PKT_FORWARD);
	ck_assert(o.ev & GP_CORE_EV_DONE);
	assert_relayed(e, 4, "fe000023a00000");
	gp_core_release(&c);
}
END_TEST

START_TEST(test_track_client_asked)
{
	/* a client that asked for tracking reads the server's blocks untouched */
	gp_core_t c = {0};
	pkt_buf_t pb;
	login(&c, CAPS_BASE | TRACK, CAPS_BASE | TRACK);
	ck_assert(!c.untrack && gp_core_tracked(&c));
	ck_assert_int_eq(query_ok(&c, "SET NAMES utf8mb4", &pb, OK_SET_NAMES), GP_PKT_FORWARD);
	assert_relayed(&pb.pkt, 1, OK_SET_NAMES);
	ck_assert_uint_eq(gp_sstate_nvars(&c.st), 3);
	/* the proxy's own OK, in the format the client negotiated */
	gp_core_out_t o;
	gp_core_out_init(&o);
	gp_core_answer(&c, 1, 0, NULL, NULL, &o);
	myp_frame_t f;
	myp_ok_t ok;
	ck_assert_int_eq(myp_frame_packet(o.client, o.nclient, &f), MYP_OK);
	ck_assert_int_eq(myp_ok_parse(f.payload, f.len, c.caps, &ok), MYP_OK);
	ck_assert_uint_eq(ok.status & MYP_SERVER_SESSION_STATE_CHANGED, 0);
	gp_core_release(&c);
}
END_TEST

START_TEST(test_track_no_server_tracking)
{
	/* a server that does not track: nothing asked, nothing rewritten, not movable */
	gp_core_t c = {0};
	pkt_buf_t pb;
	login(&c, CAPS_BASE, CAPS_BASE);
	ck_assert(!c.untrack && !gp_core_tracked(&c));
	ck_assert_uint_eq(gp_core_peek(&c, true), GP_CLIENT_PEEK);
	ck_assert_uint_eq(gp_core_peek(&c, false), MYP_RESP_PEEK);
	ck_assert_uint_eq(gp_sstate_unmovable(&c.st), GP_UNMOV_NO_TRACKING);
	ck_assert_int_eq(query_ok(&c, "SET @a = 1", &pb, "00000002800000"), GP_PKT_FORWARD);
	ck_assert_uint_eq(gp_sstate_unmovable(&c.st), GP_UNMOV_NO_TRACKING); /* not scanned */
	gp_core_release(&c);
}
END_TEST

START_TEST(test_track_peeked_ok)
{
	/* an OK the proxy saw only the start of cannot be untracked: the session closes */
	gp_core_t c = {0};
	pkt_buf_t pb, q;
	gp_core_out_t o;
	login(&c, CAPS_BASE | TRACK, CAPS_BASE);
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_client_packet(&c, pkt_query(&q, "SET NAMES utf8mb4"), &o),
	                 GP_PKT_FORWARD);
	gp_pkt_t *p = pkt_hex(&pb, 1, OK_SET_NAMES);
	p->n = 32;
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_server_packet(&c, p, &o), GP_PKT_STOP);
	ck_assert_int_eq(o.close, GP_CLOSE_BACKEND_PROTOCOL_ERROR);
	ck_assert_uint_eq(gp_sstate_unmovable(&c.st), GP_UNMOV_UNTRACKED_CHANGE);
	gp_core_release(&c);
}
END_TEST

START_TEST(test_track_deferred)
{
	/* the proxy greeted the client: handoff.c asked for tracking, the core untracks */
	gp_core_t c = {0};
	gp_core_release(&c);
	gp_core_init(&c, &env, 0x40000007u, false);
	gp_core_defer(&c);
	c.client_track = false; /* core_hsresp's note of the client's answer */
	myp_greeting_t g = {
	        .conn_id = CORE_PKT_THREAD, .caps = CAPS_BASE | TRACK, .scramble_len = 20};
	gp_core_defer_auth(&c, &g, CAPS_BASE | TRACK);
	ck_assert(c.untrack);
	gp_core_release(&c);
	gp_core_init(&c, &env, 0x40000007u, false);
	gp_core_defer(&c);
	c.client_track = true;
	gp_core_defer_auth(&c, &g, CAPS_BASE | TRACK);
	ck_assert(!c.untrack);
	gp_core_release(&c);
}
END_TEST

static Suite *core_track_suite(void)
{
	Suite *s = suite_create("core_track");
	TCase *tc = tcase_create("core_track");

	tcase_add_test(tc, test_track_untrack_ok);
	tcase_add_test(tc, test_track_result_set);
	tcase_add_test(tc, test_track_client_asked);
	tcase_add_test(tc, test_track_no_server_tracking);
	tcase_add_test(tc, test_track_peeked_ok);
	tcase_add_test(tc, test_track_deferred);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return gp_check_run(core_track_suite(), CK_ENV);
}
