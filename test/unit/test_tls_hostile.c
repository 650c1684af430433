/* test_tls_hostile.c - TLS peers that misbehave: garbage, cut flights, renegotiation. */

/* ---- hostile input --------------------------------------------------------------------- */

START_TEST(test_garbage_client_hello)
{
	static const struct {
		const char *what;
		const char *p;
		size_t n; /* 0: 400 bytes, p then zeros */
	} junk[] = {
	        {"HTTP", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27},
	        {"a handshake response", "\x21\x00\x00\x01\x85\xa6\xff\x01\x00\x00\x00\x01\x21", 0},
	        {"a ClientHello too short", "\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00", 10},
	        {"an alert first", "\x15\x03\x03\x00\x02\x02\x28", 7},
	        {"a record over the maximum", "\x16\x03\x01\xff\xff", 5},
	        {"random bytes", NULL, 0},
	};
	gp_tls_ctx_t *sctx = server_ctx(GP_TLS_1_2, GP_TLS_ANY, NULL);
	gp_tls_ctx_t *cctx = client_ctx(GP_TLS_ANY, GP_TLS_VERIFY_NAME, p_ca1, NULL, NULL);
	uint8_t b[600];

	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
		gp_tls_conn_t *sv = conn(sctx, NULL);
		size_t n = junk[i].n ? junk[i].n : 400;
		bool done;
		gp_status_t st;

		memset(b, 0, sizeof b);
		if (junk[i].p)
			memcpy(b, junk[i].p, junk[i].n ? junk[i].n : 13);
		else
			for (size_t k = 0; k < n; k++)
				b[k] = (uint8_t)(k * 131 + 17);
		ck_assert_int_eq(gp_tls_feed(sv, b, n), GP_OK);
		st = gp_tls_handshake(sv, &done);
		ck_assert_msg(st == GP_EPROTO, "%s: %s", junk[i].what, gp_strerror(st));
		ck_assert(!done);
		ck_assert_str_ne(gp_tls_reason(sv), "");
		ck_assert(!gp_tls_failed_verify(sv));
		ck_assert_int_eq(gp_tls_handshake(sv, &done), GP_EPROTO); /* sticky */
		gp_tls_conn_free(sv);
	}
	/* a header that promises more just waits: the handshake time-out ends it */
	{
		gp_tls_conn_t *sv = conn(sctx, NULL);
		bool done;

		ck_assert_int_eq(gp_tls_feed(sv, "\x16\x03\x01\x01\x00\x01", 6), GP_OK);
		ck_assert_int_eq(gp_tls_handshake(sv, &done), GP_OK);
		ck_assert(!done);
		ck_assert_uint_eq(gp_tls_out_pending(sv), 0);
		gp_tls_conn_free(sv);
	}
	/* garbage instead of the server's answer */
	{
		gp_tls_conn_t *cl = conn(cctx, "localhost");
		bool done;

		ck_assert_int_eq(gp_tls_handshake(cl, &done), GP_OK);
		ck_assert_uint_gt(gp_tls_out_pending(cl), 0); /* the ClientHello */
		ck_assert_int_eq(gp_tls_feed(cl, "\xff\x00\x00\x00\x00\x00\x00", 7), GP_OK);
		ck_assert_int_eq(gp_tls_handshake(cl, &done), GP_EPROTO);
		gp_tls_conn_free(cl);
	}
	gp_tls_ctx_unref(sctx);
	gp_tls_ctx_unref(cctx);
}
END_TEST

/*
 * Every flight of a handshake cut at every offset: the side receiving the cut flight waits
 * (no error, not done, nothing written), and the rest completes it. For each flight a fresh
 * pair replays the handshake up to it.
 */
static void truncate_flights(gp_tls_version_t v, bool client_cert)
{
	gp_tls_ctx_t *sctx = server_ctx(GP_TLS_1_2, GP_TLS_ANY, client_cert ? p_ca1 : NULL);
	gp_tls_ctx_t *cctx = client_ctx(v, GP_TLS_VERIFY_NAME, p_ca1, client_cert ? p_cl1 : NULL,
	                                client_cert ? p_cl1_key : NULL);
	int cuts = 0;

	for (int flight = 0;; flight++) {
		gp_tls_conn_t *cl = conn(cctx, "localhost"), *sv = conn(sctx, NULL);
		gp_tls_conn_t *from = NULL, *to = NULL;
		static uint8_t buf[65536];
		size_t n = 0;
		bool cd = false, sd = false;

		/* play flights before this one whole */
		for (int f = 0; f <= flight; f++) {
			from = f % 2 == 0 ? cl : sv;
			to = f % 2 == 0 ? sv : cl;
			ck_assert_int_eq(gp_tls_handshake(from, f % 2 == 0 ? &cd : &sd), GP_OK);
			n = gp_tls_out(from, buf, sizeof buf);
			if (f < flight) {
				ck_assert_int_eq(gp_tls_feed(to, buf, n), GP_OK);
				n = 0;
			}
		}
		if (n == 0) { /* nothing left to send: the handshake is over */
			ck_assert(cd && sd);
			gp_tls_conn_free(cl);
			gp_tls_conn_free(sv);
			break;
		}
		ck_assert_uint_lt(n, sizeof buf);
		/* OpenSSL reads records whole, so a receiver fed one byte at a time sees
		 * every prefix of the flight in one replay */
		for (size_t cut = 1; cut <= n; cut++) {
			bool was_done = to == cl ? cd : sd, done = false;
			gp_status_t st;

			ck_assert_int_eq(gp_tls_feed(to, buf + cut - 1, 1), GP_OK);
			st = gp_tls_handshake(to, &done);
			ck_assert_msg(st == GP_OK, "flight %d cut %zu of %zu: %s", flight, cut, n,
			              gp_tls_reason(to));
			if (cut < n) {
				ck_assert_int_eq(done, was_done);
				ck_assert_uint_eq(gp_tls_out_pending(to), 0);
				cuts++;
			} else { /* whole: it moves on */
				ck_assert(done || gp_tls_out_pending(to) > 0);
			}
		}
		gp_tls_conn_free(cl);
		gp_tls_conn_free(sv);
	}
	ck_assert_int_gt(cuts, 100);
	gp_tls_ctx_unref(sctx);
	gp_tls_ctx_unref(cctx);
}

START_TEST(test_truncation)
{
	truncate_flights(versions[_i], false);
	truncate_flights(versions[_i], true);
}
END_TEST

/* ---- what only a raw peer can do ------------------------------------------------------- */

typedef struct raw {
	SSL_CTX *ctx; /* the raw client's context */
	SSL *ssl;     /* on memory BIOs */
	BIO *in, *out;
} raw_t;

static void raw_client(raw_t *r, int max_version)
{
	r->ctx = SSL_CTX_new(TLS_client_method());
	ck_assert_ptr_nonnull(r->ctx);
	SSL_CTX_set_max_proto_version(r->ctx, max_version);
	SSL_CTX_set_verify(r->ctx, SSL_VERIFY_NONE, NULL);
	r->ssl = SSL_new(r->ctx);
	r->in = BIO_new(BIO_s_mem());
	r->out = BIO_new(BIO_s_mem());
	BIO_set_mem_eof_return(r->in, -1);
	BIO_set_mem_eof_return(r->out, -1);
	SSL_set_bio(r->ssl, r->in, r->out);
	SSL_set_connect_state(r->ssl);
}

static void raw_free(raw_t *r)
{
	SSL_free(r->ssl);
	SSL_CTX_free(r->ctx);
}

/* Move bytes both ways between a raw client and a server conn. */
static void raw_move(raw_t *r, gp_tls_conn_t *sv)
{
	uint8_t buf[16384];
	int k;
	size_t n;

	while ((k = BIO_read(r->out, buf, sizeof buf)) > 0)
		ck_assert_int_eq(gp_tls_feed(sv, buf, (size_t)k), GP_OK);
	while ((n = gp_tls_out(sv, buf, sizeof buf)) > 0)
		ck_assert_int_eq(BIO_write(r->in, buf, (int)n), (int)n);
}

static void raw_handshake(raw_t *r, gp_tls_conn_t *sv)
{
	bool done = false;

	for (int i = 0; i < 10 && !(done && SSL_is_init_finished(r->ssl)); i++) {
		(void)SSL_do_handshake(r->ssl);
		raw_move(r, sv);
		ck_assert_int_eq(gp_tls_handshake(sv, &done), GP_OK);
		raw_move(r, sv);
	}
	ck_assert(done && SSL_is_init_finished(r->ssl));
}

START_TEST(test_no_renegotiation)
{
	gp_tls_ctx_t *sctx = server_ctx(GP_TLS_1_2, GP_TLS_ANY, NULL);
	gp_tls_conn_t *sv = conn(sctx, NULL);
	raw_t r;
	uint8_t b[64];
	size_t got;
	gp_status_t st = GP_OK;

	raw_client(&r, TLS1_2_VERSION);
	raw_handshake(&r, sv);
	ck_assert_int_eq(SSL_renegotiate(r.ssl), 1);
	for (int i = 0; i < 5 && st == GP_OK; i++) {
		(void)SSL_do_handshake(r.ssl);
		raw_move(&r, sv);
		st = gp_tls_read(sv, b, sizeof b, &got);
		raw_move(&r, sv);
	}
	/* the server refuses the renegotiating ClientHello and fails the connection; the raw
	 * client never completes a second handshake (with OpenSSL's
	 * SSL_OP_ALLOW_CLIENT_RENEGOTIATION on the server, it would) */
	ck_assert_int_eq(st, GP_EPROTO);         /* the server ends the connection */
	ck_assert_str_ne(gp_tls_reason(sv), ""); /* the client's answer to no_renegotiation */
	ck_assert_int_le(SSL_do_handshake(r.ssl), 0);
	ck_assert_int_ne(SSL_get_error(r.ssl, 0), SSL_ERROR_WANT_READ);
	raw_free(&r);
	gp_tls_conn_free(sv);
	gp_tls_ctx_unref(sctx);
}
END_TEST

/*
 * Reads write. A server whose handshake is driven by gp_tls_read (the engine reads as soon
 * as bytes arrive) writes its whole flight, then its TLS 1.3 session tickets, from reads
 * that return no plaintext: only an engine that flushes after every read sends them. A key
 * update the peer asks for is answered (OpenSSL answers with the next write) and the
 * connection carries on under the new keys.
 */
START_TEST(test_writes_on_read)
{
	gp_tls_ctx_t *sctx = server_ctx(GP_TLS_1_3, GP_TLS_ANY, NULL);
	gp_tls_conn_t *sv = conn(sctx, NULL);
	raw_t r;
	uint8_t b[64], buf[16384];
	size_t got, took, n;
	int k;

	raw_client(&r, TLS1_3_VERSION);
	ck_assert_int_le(SSL_do_handshake(r.ssl), 0); /* ClientHello */
	while ((k = BIO_read(r.out, buf, sizeof buf)) > 0)
		ck_assert_int_eq(gp_tls_feed(sv, buf, (size_t)k), GP_OK);
	ck_assert_int_eq(gp_tls_read(sv, b, sizeof b, &got), GP_OK);
	ck_assert_uint_eq(got, 0);
	ck_assert_uint_gt(gp_tls_out_pending(sv), 0); /* ServerHello .. Finished */
	while ((n = gp_tls_out(sv, buf, sizeof buf)) > 0)
		ck_assert_int_eq(BIO_write(r.in, buf, (int)n), (int)n);
	ck_assert_int_eq(SSL_do_handshake(r.ssl), 1); /* client Finished */
	while ((k = BIO_read(r.out, buf, sizeof buf)) > 0)
		ck_assert_int_eq(gp_tls_feed(sv, buf, (size_t)k), GP_OK);
	ck_assert(!gp_tls_handshake_done(sv));
	ck_assert_int_eq(gp_tls_read(sv, b, sizeof b, &got), GP_OK);
	ck_assert_uint_eq(got, 0);
	ck_assert(gp_tls_handshake_done(sv));
	ck_assert_uint_gt(gp_tls_out_pending(sv), 0); /* NewSessionTicket */
	raw_move(&r, sv);
	ck_assert_int_le(SSL_read(r.ssl, b, sizeof b), 0);
	ck_assert_uint_gt(SSL_SESSION_is_resumable(SSL_get0_session(r.ssl)), 0);

	ck_assert_int_eq(SSL_key_update(r.ssl, SSL_KEY_UPDATE_REQUESTED), 1);
	ck_assert_int_eq(SSL_write(r.ssl, "ping", 4), 4);
	raw_move(&r, sv);
	ck_assert_int_eq(gp_tls_read(sv, b, sizeof b, &got), GP_OK);
	ck_assert_uint_eq(got, 4);
	ck_assert_mem_eq(b, "ping", 4);
	ck_assert_int_eq(gp_tls_write(sv, "pong", 4, &took), GP_OK);
	raw_move(&r, sv);
	k = SSL_read(r.ssl, b, sizeof b);
	ck_assert_int_eq(k, 4);
	ck_assert_mem_eq(b, "pong", 4);
	ck_assert_int_eq(SSL_write(r.ssl, "again", 5), 5);
	raw_move(&r, sv);
	ck_assert_int_eq(gp_tls_read(sv, b, sizeof b, &got), GP_OK);
	ck_assert_uint_eq(got, 5);
	raw_free(&r);
	gp_tls_conn_free(sv);
	gp_tls_ctx_unref(sctx);
}
END_TEST

/* ---- contexts -------------------------------------------------------------------------- */

static gp_status_t try_ctx(gp_tls_opts_t o, char *err, size_t errlen)
{
	gp_tls_ctx_t *ctx = NULL;
	gp_status_t st = gp_tls_ctx_new(&o, &ctx, err, errlen);

	if (st == GP_OK)
		gp_tls_ctx_unref(ctx);
	else
		ck_assert_ptr_null(ctx);
	return st;
}

START_TEST(test_ctx_errors)
{
	gp_tls_opts_t o = {.role = GP_TLS_SERVER, .cert = p_srv, .key = p_srv_key};
	char err[256];
	gp_tls_ctx_t *ctx;
	int64_t na;

	ck_assert_int_eq(try_ctx(o, err, sizeof err), GP_OK);
	ck_assert_str_eq(err, "");
	o.cert = "/nonexistent/server.pem";
	ck_assert_int_eq(try_ctx(o, err, sizeof err), GP_ECONFIG);
	ck_assert_msg(strstr(err, "/nonexistent/server.pem"), "%s", err);
	o.cert = p_srv;
	o.key = p_cl1_key; /* another certificate's key */
	ck_assert_int_eq(try_ctx(o, err, sizeof err), GP_ECONFIG);
	ck_assert_msg(strstr(err, "mismatch") || strstr(err, "does not match"), "%s", err);
	o.key = p_enc_key; /* refused, never prompted for */
	ck_assert_int_eq(try_ctx(o, err, sizeof err), GP_ECONFIG);
	ck_assert_msg(strstr(err, p_enc_key) && !strstr(err, "secret-passphrase"), "%s", err);
	o.key = p_ca1; /* a certificate where the key should be */
	ck_assert_int_eq(try_ctx(o, err, sizeof err), GP_ECONFIG);
	ck_assert(!strstr(err, "BEGIN"));
	o.key = p_srv_key;
	o.ciphers = "NO-SUCH-CIPHER";
	ck_assert_int_eq(try_ctx(o, err, sizeof err), GP_ECONFIG);
	ck_assert_msg(strstr(err, "NO-SUCH-CIPHER"), "%s", err);
	o.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
	o.ciphersuites = "TLS_AES_256_GCM_SHA384";
	ck_assert_int_eq(try_ctx(o, err, sizeof err), GP_OK);
	o.ca = "/nonexistent/ca.pem";
	ck_assert_int_eq(try_ctx(o, err, sizeof err), GP_ECONFIG);
	ck_assert_msg(strstr(err, "/nonexistent/ca.pem"), "%s", err);
	o.ca = NULL;
	o.key = NULL;
	ck_assert_int_eq(try_ctx(o, err, sizeof err), GP_ECONFIG);
	o.cert = NULL;
	ck_assert_int_eq(try_ctx(o, err, sizeof err), GP_ECONFIG);
	ck_assert_msg(strstr(err, "server needs"), "%s", err);
	/* a client needs neither; cert without key is an error */
	ck_assert_int_eq(try_ctx((gp_tls_opts_t){.role = GP_TLS_CLIENT}, err, sizeof err), GP_OK);
	ck_assert_int_eq(
	        try_ctx((gp_tls_opts_t){.role = GP_TLS_CLIENT, .cert = p_cl1}, err, sizeof err),
	        GP_ECONFIG);

	/* the expiry gauge: the certificate was made to last CERT_DAYS */
	o = (gp_tls_opts_t){.role = GP_TLS_SERVER, .cert = p_srv, .key = p_srv_key};
	ck_assert_int_eq(gp_tls_ctx_new(&o, &ctx, err, sizeof err), GP_OK);
	na = gp_tls_ctx_not_after(ctx);
	ck_assert_int_le(llabs(na - ((int64_t)made_at + CERT_DAYS * 86400)), 2);
	gp_tls_ctx_unref(ctx);
	ck_assert_int_eq(
	        gp_tls_ctx_new(&(gp_tls_opts_t){.role = GP_TLS_CLIENT}, &ctx, err, sizeof err),
	        GP_OK);
	ck_assert_int_eq(gp_tls_ctx_not_after(ctx), 0);
	gp_tls_ctx_unref(ctx);
}
END_TEST
