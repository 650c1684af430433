/* test_session_btls.c - TLS to the backend in the session core: SSL request, hold, renumbering. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core_pkt.h"
#include "gp_check.h"
#include "codec/myp.h"
#include "session/core.h"

#define CONN_ID 0x40000007u
#define CAPS_BASE                                                                           \
	(MYP_CLIENT_LONG_PASSWORD | MYP_CLIENT_PROTOCOL_41 | MYP_CLIENT_SECURE_CONNECTION | \
	 MYP_CLIENT_PLUGIN_AUTH | MYP_CLIENT_TRANSACTIONS | MYP_CLIENT_DEPRECATE_EOF)

static const gp_core_env_t env = {0};

static gp_pkt_t *pkt_hsresp(pkt_buf_t *pb, uint8_t seq, uint64_t caps)
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
	myp_hsresp_build(&w, seq, &r);
	ck_assert(!w.failed);
	return pkt_of(pb, whole, w.len);
}

static gp_pkt_t *pkt_ok(pkt_buf_t *pb, uint8_t seq)
{
	uint8_t whole[64];
	myp_wbuf_t w;
	myp_ok_t ok = {.status = MYP_SERVER_STATUS_AUTOCOMMIT};
	myp_wbuf_init(&w, whole, sizeof(whole));
	myp_ok_build(&w, seq, CAPS_BASE, &ok);
	return pkt_of(pb, whole, w.len);
}

/* The SSL request the proxy sends a node: 32 bytes, CLIENT_SSL set, the response's caps. */
START_TEST(test_ssl_request_build)
{
	uint8_t buf[64];
	myp_wbuf_t w;
	myp_wbuf_init(&w, buf, sizeof(buf));
	/* a MariaDB client (CLIENT_MYSQL, i.e. LONG_PASSWORD, clear) has extended caps */
	uint64_t caps =
	        (CAPS_BASE & ~(uint64_t)MYP_CLIENT_LONG_PASSWORD) | MYP_MARIADB_CLIENT_PROGRESS;
	myp_ssl_request_build(&w, 1, caps, 1u << 24, 45);
	ck_assert(!w.failed);
	ck_assert_uint_eq(w.len, MYP_HEADER_LEN + 32);
	ck_assert_uint_eq(buf[0], 32);
	ck_assert_uint_eq(buf[3], 1);
	myp_hsresp_t r;
	ck_assert_int_eq(myp_hsresp_parse(buf + MYP_HEADER_LEN, 32, &r), MYP_OK);
	ck_assert(r.ssl_request);
	ck_assert_uint_eq(r.caps & MYP_CLIENT_SSL, MYP_CLIENT_SSL);
	ck_assert_uint_eq(r.caps & ~(uint64_t)MYP_CLIENT_SSL, caps); /* extended caps kept */
	ck_assert_uint_eq(r.max_packet, 1u << 24);
	ck_assert_uint_eq(r.charset, 45);

	/* too little room: the sticky flag, nothing half-written counts */
	myp_wbuf_init(&w, buf, 20);
	myp_ssl_request_build(&w, 1, CAPS_BASE, 1u << 24, 45);
	ck_assert(w.failed);

	/* set_caps: the response relayed inside TLS says SSL as its SSL request did */
	pkt_buf_t pb;
	gp_pkt_t *p = pkt_hsresp(&pb, 1, CAPS_BASE);
	myp_hsresp_set_caps(p->p, p->n, MYP_CLIENT_SSL);
	ck_assert_int_eq(myp_hsresp_parse(p->p, p->n, &r), MYP_OK);
	ck_assert_uint_eq(r.caps, CAPS_BASE | MYP_CLIENT_SSL);
	ck_assert(!r.ssl_request);
	ck_assert_uint_eq(r.user_len, 3);
}
END_TEST

/*
 * The login in the four combinations of client leg (plain or TLS) and backend leg (plain or
 * TLS), with an auth switch. Each SSL request takes a sequence id on its own leg: the
 * server's numbers are the client's + backend_tls - client_tls, both ways, until READY.
 */
START_TEST(test_renumbering)
{
	bool ctls = (_i & 1) != 0, btls = (_i & 2) != 0;
	uint8_t cs = ctls ? 1 : 0, bs = btls ? 1 : 0; /* ids each leg's SSL request took */
	gp_core_t c = {0};
	gp_core_out_t o;
	pkt_buf_t pb;

	gp_core_release(&c);
	gp_core_init(&c, &env, CONN_ID, false);
	gp_core_offer_tls(&c, ctls, false);
	gp_core_backend_tls(&c, btls);
	gp_core_out_init(&o);
	gp_pkt_t *g = pkt_greeting(&pb, CAPS_BASE | MYP_CLIENT_SSL);
	ck_assert_int_eq(gp_core_server_packet(&c, g, &o), GP_PKT_FORWARD);
	myp_greeting_t seen;
	ck_assert_int_eq(myp_greeting_parse(g->p, g->n, &seen), MYP_OK);
	/* the client is offered TLS only when the proxy has a certificate for it */
	ck_assert_uint_eq(seen.caps & MYP_CLIENT_SSL, ctls ? MYP_CLIENT_SSL : 0);

	if (ctls) {
		uint8_t sslreq[64];
		myp_wbuf_t w;
		myp_wbuf_init(&w, sslreq, sizeof(sslreq));
		myp_ssl_request_build(&w, 1, CAPS_BASE, 1u << 24, 45);
		gp_core_out_init(&o);
		ck_assert_int_eq(gp_core_client_packet(&c, pkt_of(&pb, sslreq, w.len), &o),
		                 GP_PKT_STOP);
		ck_assert(o.ev & GP_CORE_EV_START_TLS);
		ck_assert_uint_eq(o.nserver, 0); /* the client's SSL request never reaches a node */
	}

	uint64_t rcaps = CAPS_BASE | (ctls ? MYP_CLIENT_SSL : 0);
	gp_core_out_init(&o);
	gp_pkt_t *r = pkt_hsresp(&pb, (uint8_t)(1 + cs), rcaps);
	if (btls) {
		/* held: the proxy's own SSL request goes first, seq 1 on the backend leg */
		ck_assert_int_eq(gp_core_client_packet(&c, r, &o), GP_PKT_HOLD);
		ck_assert(o.ev & GP_CORE_EV_BACKEND_TLS);
		ck_assert(!(o.ev & GP_CORE_EV_AUTH));
		ck_assert_int_eq(o.close, GP_CLOSE_NONE);
		ck_assert_uint_eq(o.nserver, MYP_HEADER_LEN + 32);
		ck_assert_uint_eq(o.server[3], 1);
		myp_hsresp_t req;
		ck_assert_int_eq(myp_hsresp_parse(o.server + MYP_HEADER_LEN, 32, &req), MYP_OK);
		ck_assert(req.ssl_request);
		ck_assert_uint_eq(req.caps, CAPS_BASE | MYP_CLIENT_SSL);
		ck_assert_int_eq(c.phase, GP_CORE_HANDSHAKE);
		/* asked again before the handshake ended: held again, nothing relayed */
		gp_core_out_init(&o);
		r = pkt_hsresp(&pb, (uint8_t)(1 + cs), rcaps);
		ck_assert_int_eq(gp_core_client_packet(&c, r, &o), GP_PKT_HOLD);
		gp_core_backend_tls_up(&c);
		gp_core_out_init(&o);
		r = pkt_hsresp(&pb, (uint8_t)(1 + cs),
		               rcaps); /* io.c hands the held packet again */
	}
	ck_assert_int_eq(gp_core_client_packet(&c, r, &o), GP_PKT_FORWARD);
	ck_assert(o.ev & GP_CORE_EV_AUTH);
	ck_assert(!(o.ev & GP_CORE_EV_BACKEND_TLS));
	ck_assert_uint_eq(r->seq, 1 + bs);
	myp_hsresp_t fwd;
	ck_assert_int_eq(myp_hsresp_parse(r->p, r->n, &fwd), MYP_OK);
	/* the node sees SSL in the response exactly when its leg is TLS */
	ck_assert_uint_eq(fwd.caps & MYP_CLIENT_SSL, btls ? MYP_CLIENT_SSL : 0);

	/* auth switch: server 2+bs -> client 2+cs; its answer: client 3+cs -> server 3+bs */
	static const uint8_t sw[] = "\xfemysql_native_password\0abcdefghijklmnopqrst";
	gp_core_out_init(&o);
	gp_pkt_t *p = pkt_raw(&pb, (uint8_t)(2 + bs), sw, sizeof(sw));
	ck_assert_int_eq(gp_core_server_packet(&c, p, &o), GP_PKT_FORWARD);
	ck_assert_uint_eq(p->seq, 2 + cs);
	ck_assert_uint_eq(gp_core_server_seq(&c), 2 + bs); /* the server's count is kept */
	uint8_t ans[20] = {7};
	gp_core_out_init(&o);
	p = pkt_raw(&pb, (uint8_t)(3 + cs), ans, sizeof(ans));
	ck_assert_int_eq(gp_core_client_packet(&c, p, &o), GP_PKT_FORWARD);
	ck_assert_uint_eq(p->seq, 3 + bs);
	gp_core_out_init(&o);
	p = pkt_ok(&pb, (uint8_t)(4 + bs));
	ck_assert_int_eq(gp_core_server_packet(&c, p, &o), GP_PKT_FORWARD);
	ck_assert_uint_eq(p->seq, 4 + cs);
	ck_assert(o.ev & GP_CORE_EV_READY);

	/* commands start at 0 on both legs: nothing is renumbered any more */
	gp_core_out_init(&o);
	uint8_t q[] = "\x03SELECT 1";
	p = pkt_raw(&pb, 0, q, sizeof(q) - 1);
	ck_assert_int_eq(gp_core_client_packet(&c, p, &o), GP_PKT_FORWARD);
	ck_assert_uint_eq(p->seq, 0);
	gp_core_out_init(&o);
	p = pkt_ok(&pb, 1);
	ck_assert_int_eq(gp_core_server_packet(&c, p, &o), GP_PKT_FORWARD);
	ck_assert_uint_eq(p->seq, 1);
	gp_core_release(&c);
}
END_TEST

/* A node that offers no TLS under tls.backend: refused with an ERR, no downgrade; a node that
 * offers it under off: the client is not offered it on the proxy's behalf. */
START_TEST(test_backend_without_tls)
{
	gp_core_t c = {0};
	gp_core_out_t o;
	pkt_buf_t pb;
	gp_core_release(&c);
	gp_core_init(&c, &env, CONN_ID, false);
	gp_core_backend_tls(&c, true);
	gp_core_out_init(&o);
	ck_assert_int_eq(gp_core_server_packet(&c, pkt_greeting(&pb, CAPS_BASE), &o), GP_PKT_DROP);
	ck_assert(o.ev & GP_CORE_EV_BAD_GREETING);
	ck_assert_uint_eq(o.fail_code, GP_ER_NOT_READY);
	ck_assert_uint_eq(o.fail_seq, 0); /* the client has seen nothing: ERR instead of greeting */
	ck_assert_ptr_nonnull(strstr(o.fail_msg, "does not offer TLS"));
	ck_assert_int_eq(o.close, GP_CLOSE_BACKEND_TLS_FAILED);

	/* deferred: checked before the greeting is answered for the client */
	gp_core_release(&c);
	gp_core_init(&c, &env, CONN_ID, false);
	gp_core_backend_tls(&c, true);
	gp_core_defer(&c);
	gp_core_out_init(&o);
	c.phase = GP_CORE_GREETING; /* the client answered the proxy's greeting */
	ck_assert_int_eq(gp_core_server_packet(&c, pkt_greeting(&pb, CAPS_BASE), &o), GP_PKT_DROP);
	ck_assert(!(o.ev & GP_CORE_EV_DEFER_GREETING));
	ck_assert_int_eq(o.close, GP_CLOSE_BACKEND_TLS_FAILED);
	gp_core_release(&c);
}
END_TEST

/* Deferred greetings: the client's answer is kept (never held for TLS: handoff.c runs the
 * backend's TLS before answering), then the auth exchange is renumbered as in the relay. */
START_TEST(test_deferred_backend_tls)
{
	gp_core_t c = {0};
	gp_core_out_t o;
	pkt_buf_t pb;
	gp_core_release(&c);
	gp_core_init(&c, &env, CONN_ID, false);
	gp_core_backend_tls(&c, true);
	gp_core_defer(&c);
	gp_core_out_init(&o);
	gp_pkt_t *r = pkt_hsresp(&pb, 1, CAPS_BASE);
	ck_assert_int_eq(gp_core_client_packet(&c, r, &o), GP_PKT_DROP);
	ck_assert(o.ev & GP_CORE_EV_DEFER_ANSWER);
	ck_assert(!(o.ev & GP_CORE_EV_BACKEND_TLS));
	gp_core_out_init(&o);
	gp_pkt_t *g = pkt_greeting(&pb, CAPS_BASE | MYP_CLIENT_SSL);
	ck_assert_int_eq(gp_core_server_packet(&c, g, &o), GP_PKT_DROP);
	ck_assert(o.ev & GP_CORE_EV_DEFER_GREETING);
	gp_core_defer_auth(&c, &o.g, CAPS_BASE);
	gp_core_backend_tls_up(&c);
	/* server: greeting 0, SSL request 1, response 2, switch 3 -> the client's 2 */
	static const uint8_t sw[] = "\xfemysql_native_password\0abcdefghijklmnopqrst";
	gp_core_out_init(&o);
	gp_pkt_t *p = pkt_raw(&pb, 3, sw, sizeof(sw));
	ck_assert_int_eq(gp_core_server_packet(&c, p, &o), GP_PKT_FORWARD);
	ck_assert_uint_eq(p->seq, 2);
	uint8_t ans[20] = {7};
	gp_core_out_init(&o);
	p = pkt_raw(&pb, 3, ans, sizeof(ans));
	ck_assert_int_eq(gp_core_client_packet(&c, p, &o), GP_PKT_FORWARD);
	ck_assert_uint_eq(p->seq, 4);
	gp_core_out_init(&o);
	p = pkt_ok(&pb, 5);
	ck_assert_int_eq(gp_core_server_packet(&c, p, &o), GP_PKT_FORWARD);
	ck_assert_uint_eq(p->seq, 4);
	ck_assert(o.ev & GP_CORE_EV_READY);
	gp_core_release(&c);
}
END_TEST

static Suite *btls_suite(void)
{
	Suite *s = suite_create("session_btls");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_ssl_request_build);
	tcase_add_loop_test(tc, test_renumbering, 0, 4);
	tcase_add_test(tc, test_backend_without_tls);
	tcase_add_test(tc, test_deferred_backend_tls);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return gp_check_run(btls_suite(), CK_NORMAL);
}
