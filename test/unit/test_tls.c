/* test_tls.c - Check unit tests for net/tls: a client conn against a server conn in memory. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "gp_check.h"
#include "net/tls.h"

/*
 * Certificates are made here, with OpenSSL's API, into a temporary directory removed at
 * the end: two CAs, a server certificate from CA 1 (localhost, 127.0.0.1), a client
 * certificate from each CA, and a passphrase-protected key. Nothing private is committed.
 * Both ends are gp_tls_conn_t's except where the test needs what the module refuses to do
 * (renegotiate, request a key update): there the other end is a raw OpenSSL SSL on memory
 * BIOs, as a client library would be.
 */

#define CERT_DAYS 30

static char dir[] = "/tmp/gp-tls-test.XXXXXX";
static char p_ca1[128], p_ca2[128], p_srv[128], p_srv_key[128], p_cl1[128], p_cl1_key[128],
        p_cl2[128], p_cl2_key[128], p_enc_key[128];
static time_t made_at;

/* ---- certificates ------------------------------------------------------------------ */

static void die(const char *what)
{
	fprintf(stderr, "test_tls: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(2);
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *e;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (!e || !X509_add_ext(x, e, -1))
		die("extension");
	X509_EXTENSION_free(e);
}

/* A certificate for key, issued by issuer (NULL: self-signed). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey, bool ca,
                       const char *san)
{
	static long serial = 1;
	X509 *x = X509_new();

	if (!x || !X509_set_version(x, 2) || !ASN1_INTEGER_set(X509_get_serialNumber(x), serial++))
		die("x509");
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_time_adj_ex(X509_getm_notAfter(x), CERT_DAYS, 0, &made_at);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	                           (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer : x));
	add_ext(x, issuer ? issuer : x, NID_basic_constraints,
	        ca ? "critical,CA:TRUE" : "CA:FALSE");
	add_ext(x, issuer ? issuer : x, NID_key_usage,
	        ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
	add_ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash");
	if (san)
		add_ext(x, issuer ? issuer : x, NID_subject_alt_name, san);
	if (!X509_sign(x, ikey ? ikey : key, EVP_sha256()))
		die("sign");
	return x;
}

static void path(char *out, const char *name)
{
	snprintf(out, 128, "%s/%s", dir, name);
}

static void write_cert(const char *p, X509 *x)
{
	FILE *f = fopen(p, "w");

	if (!f || !PEM_write_X509(f, x) || fclose(f) != 0)
		die("write cert");
}

static void write_key(const char *p, EVP_PKEY *k, const char *pass)
{
	FILE *f = fopen(p, "w");

	if (!f ||
	    !PEM_write_PrivateKey(f, k, pass ? EVP_aes_256_cbc() : NULL, NULL, 0, NULL,
	                          (void *)pass) ||
	    fclose(f) != 0)
		die("write key");
}

static void make_certs(void)
{
	EVP_PKEY *k_ca1 = EVP_EC_gen("P-256"), *k_ca2 = EVP_EC_gen("P-256");
	EVP_PKEY *k_srv = EVP_EC_gen("P-256"), *k_cl1 = EVP_EC_gen("P-256");
	EVP_PKEY *k_cl2 = EVP_EC_gen("P-256");
	X509 *ca1, *ca2, *srv, *cl1, *cl2;

	if (!mkdtemp(dir))
		die("mkdtemp");
	if (!k_ca1 || !k_ca2 || !k_srv || !k_cl1 || !k_cl2)
		die("keygen");
	made_at = time(NULL);
	ca1 = make_cert(k_ca1, "gp test CA 1", NULL, NULL, true, NULL);
	ca2 = make_cert(k_ca2, "gp test CA 2", NULL, NULL, true, NULL);
	srv = make_cert(k_srv, "localhost", ca1, k_ca1, false, "DNS:localhost,IP:127.0.0.1");
	cl1 = make_cert(k_cl1, "app", ca1, k_ca1, false, NULL);
	cl2 = make_cert(k_cl2, "intruder", ca2, k_ca2, false, NULL);
	path(p_ca1, "ca1.pem");
	path(p_ca2, "ca2.pem");
	path(p_srv, "server.pem");
	path(p_srv_key, "server.key");
	path(p_cl1, "client1.pem");
	path(p_cl1_key, "client1.key");
	path(p_cl2, "client2.pem");
	path(p_cl2_key, "client2.key");
	path(p_enc_key, "encrypted.key");
	write_cert(p_ca1, ca1);
	write_cert(p_ca2, ca2);
	write_cert(p_srv, srv);
	write_key(p_srv_key, k_srv, NULL);
	write_cert(p_cl1, cl1);
	write_key(p_cl1_key, k_cl1, NULL);
	write_cert(p_cl2, cl2);
	write_key(p_cl2_key, k_cl2, NULL);
	write_key(p_enc_key, k_srv, "secret-passphrase");
	X509_free(ca1);
	X509_free(ca2);
	X509_free(srv);
	X509_free(cl1);
	X509_free(cl2);
	EVP_PKEY_free(k_ca1);
	EVP_PKEY_free(k_ca2);
	EVP_PKEY_free(k_srv);
	EVP_PKEY_free(k_cl1);
	EVP_PKEY_free(k_cl2);
}

static void remove_certs(void)
{
	const char *all[] = {p_ca1,     p_ca2, p_srv,     p_srv_key, p_cl1,
	                     p_cl1_key, p_cl2, p_cl2_key, p_enc_key};

	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		unlink(all[i]);
	rmdir(dir);
}

/* ---- contexts and pumping ------------------------------------------------------------ */

static gp_tls_ctx_t *server_ctx(gp_tls_version_t min, gp_tls_version_t max, const char *ca)
{
	gp_tls_opts_t o = {.role = GP_TLS_SERVER,
	                   .cert = p_srv,
	                   .key = p_srv_key,
	                   .ca = ca,
	                   .min_version = min,
	                   .max_version = max};
	gp_tls_ctx_t *ctx;
	char err[256];

	ck_assert_msg(gp_tls_ctx_new(&o, &ctx, err, sizeof err) == GP_OK, "%s", err);
	return ctx;
}

static gp_tls_ctx_t *client_ctx(gp_tls_version_t max, gp_tls_verify_t v, const char *ca,
                                const char *cert, const char *key)
{
	gp_tls_opts_t o = {.role = GP_TLS_CLIENT,
	                   .cert = cert,
	                   .key = key,
	                   .ca = ca,
	                   .max_version = max,
	                   .verify = v};
	gp_tls_ctx_t *ctx;
	char err[256];

	ck_assert_msg(gp_tls_ctx_new(&o, &ctx, err, sizeof err) == GP_OK, "%s", err);
	return ctx;
}

static gp_tls_conn_t *conn(gp_tls_ctx_t *ctx, const char *peer)
{
	gp_tls_conn_t *c;

	ck_assert_int_eq(gp_tls_conn_new(ctx, peer, &c), GP_OK);
	return c;
}

/* Move all of a's output to b; returns the bytes moved. */
static size_t move(gp_tls_conn_t *a, gp_tls_conn_t *b)
{
	uint8_t buf[4096];
	size_t k, total = 0;

	while ((k = gp_tls_out(a, buf, sizeof buf)) > 0) {
		ck_assert_int_eq(gp_tls_feed(b, buf, k), GP_OK);
		total += k;
	}
	ck_assert_uint_eq(gp_tls_out_pending(a), 0);
	return total;
}

typedef struct hs {
	gp_status_t cst, sst; /* last statuses */
	bool cdone, sdone;    /* finished */
} hs_t;

/* Run both handshakes, moving bytes, until both finish, one fails (its alert is then
 * delivered and the other side read), or nothing moves. */
static hs_t pump(gp_tls_conn_t *cl, gp_tls_conn_t *sv)
{
	hs_t h = {GP_OK, GP_OK, false, false};

	for (int round = 0; round < 20; round++) {
		size_t moved;

		h.cst = gp_tls_handshake(cl, &h.cdone);
		moved = move(cl, sv);
		h.sst = gp_tls_handshake(sv, &h.sdone);
		moved += move(sv, cl);
		if (h.cst != GP_OK || h.sst != GP_OK) {
			uint8_t b[64];
			size_t got;

			/* the failed side's alert reaches the other, which then fails too */
			if (h.cst == GP_OK)
				h.cst = h.cdone ? gp_tls_read(cl, b, sizeof b, &got)
				                : gp_tls_handshake(cl, &h.cdone);
			if (h.sst == GP_OK)
				h.sst = h.sdone ? gp_tls_read(sv, b, sizeof b, &got)
				                : gp_tls_handshake(sv, &h.sdone);
			return h;
		}
		if (h.cdone && h.sdone && moved == 0)
			return h;
	}
	return h;
}

/* Send n bytes from a to b through TLS and check b reads them back. */
static void exchange(gp_tls_conn_t *a, gp_tls_conn_t *b, size_t n)
{
	uint8_t *src = malloc(n), *dst = malloc(n);
	size_t off = 0, got_total = 0;

	ck_assert(src && dst);
	for (size_t i = 0; i < n; i++)
		src[i] = (uint8_t)(i * 7 + i / 251);
	while (off < n || got_total < n) {
		size_t took = 0, got;

		if (off < n) {
			size_t chunk = n - off < 16384 ? n - off : 16384;

			ck_assert_int_eq(gp_tls_write(a, src + off, chunk, &took), GP_OK);
			ck_assert_uint_eq(took, chunk); /* memory BIOs never push back */
			off += took;
			move(a, b);
		}
		do {
			ck_assert_int_eq(gp_tls_read(b, dst + got_total, n - got_total, &got),
			                 GP_OK);
			got_total += got;
			move(b, a); /* whatever a read wrote (tickets, key updates) */
		} while (got > 0 && got_total < n);
	}
	ck_assert(memcmp(src, dst, n) == 0);
	free(src);
	free(dst);
}

/* ---- handshakes --------------------------------------------------------------------- */

static const gp_tls_version_t versions[] = {GP_TLS_1_2, GP_TLS_1_3};

START_TEST(test_handshake_and_data)
{
	gp_tls_version_t v = versions[_i];
	gp_tls_ctx_t *sctx = server_ctx(GP_TLS_1_2, GP_TLS_ANY, NULL);
	gp_tls_ctx_t *cctx = client_ctx(v, GP_TLS_VERIFY_NAME, p_ca1, NULL, NULL);
	gp_tls_conn_t *cl = conn(cctx, "localhost"), *sv = conn(sctx, NULL);
	hs_t h;

	ck_assert(!gp_tls_handshake_done(cl));
	ck_assert_str_eq(gp_tls_version(cl), "");
	h = pump(cl, sv);
	ck_assert_msg(h.cst == GP_OK && h.sst == GP_OK, "client: %s; server: %s", gp_tls_reason(cl),
	              gp_tls_reason(sv));
	ck_assert(h.cdone && h.sdone);
	ck_assert_str_eq(gp_tls_version(cl), v == GP_TLS_1_2 ? "TLSv1.2" : "TLSv1.3");
	ck_assert_str_eq(gp_tls_version(sv), gp_tls_version(cl));
	ck_assert_str_ne(gp_tls_cipher(cl), "");
	ck_assert(!gp_tls_session_reused(cl));
	exchange(cl, sv, 100);
	exchange(sv, cl, 1u << 20);
	exchange(cl, sv, 1u << 20);

	/* close_notify: the other side reads a clean close */
	{
		uint8_t b[16];
		size_t got;

		gp_tls_shutdown(cl);
		ck_assert_uint_gt(move(cl, sv), 0);
		ck_assert_int_eq(gp_tls_read(sv, b, sizeof b, &got), GP_ECLOSED);
		ck_assert_uint_eq(got, 0);
	}
	gp_tls_conn_free(cl);
	gp_tls_conn_free(sv);
	gp_tls_ctx_unref(cctx);
	gp_tls_ctx_unref(sctx);
}
END_TEST

/* A pause: plaintext left inside OpenSSL and records fed but not decrypted are announced
 * by gp_tls_readable, not by any socket. */
START_TEST(test_pending_after_pause)
{
	gp_tls_ctx_t *sctx = server_ctx(GP_TLS_1_2, GP_TLS_ANY, NULL);
	gp_tls_ctx_t *cctx = client_ctx(GP_TLS_ANY, GP_TLS_VERIFY_ON, p_ca1, NULL, NULL);
	gp_tls_conn_t *cl = conn(cctx, "localhost"), *sv = conn(sctx, NULL);
	uint8_t msg[3000], b[3000];
	size_t took, got, total = 0;
	hs_t h = pump(cl, sv);

	ck_assert(h.cdone && h.sdone);
	exchange(sv, cl, 10); /* the client has read the TLS 1.3 tickets */
	memset(msg, 'x', sizeof msg);
	for (int i = 0; i < 3; i++) { /* three records */
		ck_assert_int_eq(gp_tls_write(sv, msg, 1000, &took), GP_OK);
		ck_assert_uint_eq(took, 1000);
	}
	move(sv, cl);
	ck_assert(gp_tls_readable(cl));
	ck_assert_int_eq(gp_tls_read(cl, b, 10, &got), GP_OK); /* the engine's buffer is full */
	ck_assert_uint_eq(got, 10);
	ck_assert_uint_eq(gp_tls_pending(cl), 990); /* rest of the first record */
	ck_assert(gp_tls_readable(cl));
	total = got;
	while (gp_tls_readable(cl)) { /* resuming: drain without any new input */
		ck_assert_int_eq(gp_tls_read(cl, b, sizeof b, &got), GP_OK);
		ck_assert_uint_gt(got, 0);
		total += got;
	}
	ck_assert_uint_eq(total, 3000);
	ck_assert_uint_eq(gp_tls_pending(cl), 0);
	ck_assert_int_eq(gp_tls_read(cl, b, sizeof b, &got), GP_OK);
	ck_assert_uint_eq(got, 0);
	gp_tls_conn_free(cl);
	gp_tls_conn_free(sv);
	gp_tls_ctx_unref(cctx);
	gp_tls_ctx_unref(sctx);
}
END_TEST

/* ---- resumption and reload ------------------------------------------------------------ */

/* One full connection: handshake, a request and its answer (the client reads the TLS 1.3
 * tickets with it), close. Returns whether it resumed, and checks both sides agree. */
static bool connect_once(gp_tls_ctx_t *cctx, gp_tls_ctx_t *sctx, const char *peer)
{
	gp_tls_conn_t *cl = conn(cctx, peer), *sv = conn(sctx, NULL);
	hs_t h = pump(cl, sv);
	bool reused;

	ck_assert_msg(h.cdone && h.sdone, "client: %s; server: %s", gp_tls_reason(cl),
	              gp_tls_reason(sv));
	exchange(cl, sv, 20);
	exchange(sv, cl, 20);
	reused = gp_tls_session_reused(cl);
	ck_assert_int_eq(reused, gp_tls_session_reused(sv));
	gp_tls_conn_free(cl);
	gp_tls_conn_free(sv);
	return reused;
}

START_TEST(test_resumption)
{
	gp_tls_version_t v = versions[_i];
	gp_tls_ctx_t *sctx = server_ctx(GP_TLS_1_2, GP_TLS_ANY, NULL);
	gp_tls_ctx_t *cctx = client_ctx(v, GP_TLS_VERIFY_NAME, p_ca1, NULL, NULL);
	gp_tls_ctx_t *sctx2;

	ck_assert(!connect_once(cctx, sctx, "localhost"));
	ck_assert(connect_once(cctx, sctx, "localhost"));
	ck_assert(connect_once(cctx, sctx, "localhost"));
	/* sessions are kept per peer: another name starts with a full handshake */
	ck_assert(!connect_once(cctx, sctx, "127.0.0.1"));
	ck_assert(connect_once(cctx, sctx, "127.0.0.1"));
	ck_assert(connect_once(cctx, sctx, "localhost"));

	/* reload: a new server context has new ticket keys, so one full handshake, then
	 * resumption again; a connection made on the old context outlives its unref */
	{
		gp_tls_conn_t *old_cl = conn(cctx, "localhost"), *old_sv = conn(sctx, NULL);
		hs_t h = pump(old_cl, old_sv);

		ck_assert(h.cdone && h.sdone);
		sctx2 = server_ctx(GP_TLS_1_2, GP_TLS_ANY, NULL);
		gp_tls_ctx_unref(sctx); /* the reload drops the old context */
		ck_assert(!connect_once(cctx, sctx2, "localhost"));
		ck_assert(connect_once(cctx, sctx2, "localhost"));
		exchange(old_cl, old_sv, 5000); /* the old session still works */
		exchange(old_sv, old_cl, 5000);
		gp_tls_conn_free(old_sv); /* frees the old context */
		gp_tls_conn_free(old_cl);
	}
	/* what resumption saves, both ends of a connection in this process (printed only:
	 * a loaded machine makes timings no test) */
	{
		gp_tls_ctx_t *chain = client_ctx(v, GP_TLS_VERIFY_ON, p_ca1, NULL, NULL);
		struct timespec t0, t1, t2;
		char name[32];
		const int n = 40;
		double full_us;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int i = 0; i < n; i++) {
			snprintf(name, sizeof name, "full%d.localhost", i); /* no session yet */
			ck_assert(!connect_once(chain, sctx2, name));
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		full_us = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3 / n;
		ck_assert(!connect_once(chain, sctx2, "localhost"));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		for (int i = 0; i < n; i++)
			ck_assert(connect_once(chain, sctx2, "localhost"));
		clock_gettime(CLOCK_MONOTONIC, &t2);
		fprintf(stderr, "%s connection, full handshake: %.0f us, resumed: %.0f us\n",
		        v == GP_TLS_1_2 ? "TLS 1.2" : "TLS 1.3", full_us,
		        ((t2.tv_sec - t1.tv_sec) * 1e9 + (t2.tv_nsec - t1.tv_nsec)) / 1e3 / n);
		gp_tls_ctx_unref(chain);
	}
	gp_tls_ctx_unref(cctx);
	gp_tls_ctx_unref(sctx2);
}
END_TEST

/* ---- verification -------------------------------------------------------------------- */

static hs_t try_connect(gp_tls_ctx_t *cctx, gp_tls_ctx_t *sctx, const char *peer,
                        gp_tls_conn_t **clp, gp_tls_conn_t **svp)
{
	hs_t h;

	*clp = conn(cctx, peer);
	*svp = conn(sctx, NULL);
	h = pump(*clp, *svp);
	if (h.cst == GP_OK && h.sst == GP_OK && h.cdone && h.sdone) {
		/* TLS 1.3: the client finishes before the server judged its certificate */
		exchange(*clp, *svp, 10);
		exchange(*svp, *clp, 10);
	}
	return h;
}

START_TEST(test_client_rejects_server)
{
	gp_tls_ctx_t *sctx = server_ctx(GP_TLS_1_2, GP_TLS_ANY, NULL);
	gp_tls_ctx_t *other = client_ctx(versions[_i], GP_TLS_VERIFY_ON, p_ca2, NULL, NULL);
	gp_tls_ctx_t *named = client_ctx(versions[_i], GP_TLS_VERIFY_NAME, p_ca1, NULL, NULL);
	gp_tls_ctx_t *chain = client_ctx(versions[_i], GP_TLS_VERIFY_ON, p_ca1, NULL, NULL);
	gp_tls_ctx_t *off = client_ctx(versions[_i], GP_TLS_VERIFY_OFF, p_ca2, NULL, NULL);
	gp_tls_conn_t *cl, *sv;
	hs_t h;

	/* a client trusting another CA */
	h = try_connect(other, sctx, "localhost", &cl, &sv);
	ck_assert_int_eq(h.cst, GP_EPROTO);
	ck_assert(gp_tls_failed_verify(cl));
	ck_assert_msg(strstr(gp_tls_reason(cl), "certificate verify failed"), "%s",
	              gp_tls_reason(cl));
	ck_assert_int_eq(h.sst, GP_EPROTO); /* the server got the client's alert */
	ck_assert(!gp_tls_failed_verify(sv));
	ck_assert_str_ne(gp_tls_reason(sv), "");
	ck_assert_int_eq(gp_tls_handshake(cl, &h.cdone), GP_EPROTO); /* sticky */
	gp_tls_conn_free(cl);
	gp_tls_conn_free(sv);

	/* names: the certificate says localhost and 127.0.0.1 */
	h = try_connect(named, sctx, "127.0.0.1", &cl, &sv);
	ck_assert(h.cst == GP_OK && h.cdone);
	gp_tls_conn_free(cl);
	gp_tls_conn_free(sv);
	h = try_connect(named, sctx, "db.example.org", &cl, &sv);
	ck_assert_int_eq(h.cst, GP_EPROTO);
	ck_assert(gp_tls_failed_verify(cl));
	ck_assert_msg(strstr(gp_tls_reason(cl), "mismatch"), "%s", gp_tls_reason(cl));
	gp_tls_conn_free(cl);
	gp_tls_conn_free(sv);
	h = try_connect(named, sctx, "127.0.0.2", &cl, &sv);
	ck_assert_int_eq(h.cst, GP_EPROTO);
	gp_tls_conn_free(cl);
	gp_tls_conn_free(sv);
	/* verify on (chain only) accepts any name; off accepts any CA */
	h = try_connect(chain, sctx, "db.example.org", &cl, &sv);
	ck_assert(h.cst == GP_OK && h.cdone && h.sdone);
	gp_tls_conn_free(cl);
	gp_tls_conn_free(sv);
	h = try_connect(off, sctx, "localhost", &cl, &sv);
	ck_assert_msg(h.cst == GP_OK && h.cdone && h.sdone, "%s", gp_tls_reason(cl));
	gp_tls_conn_free(cl);
	gp_tls_conn_free(sv);
	/* VERIFY_NAME needs a name */
	ck_assert_int_eq(gp_tls_conn_new(named, NULL, &cl), GP_EINVAL);
	ck_assert_ptr_null(cl);

	gp_tls_ctx_unref(sctx);
	gp_tls_ctx_unref(other);
	gp_tls_ctx_unref(named);
	gp_tls_ctx_unref(chain);
	gp_tls_ctx_unref(off);
}
END_TEST

START_TEST(test_server_rejects_client_cert)
{
	gp_tls_ctx_t *sctx = server_ctx(GP_TLS_1_2, GP_TLS_ANY, p_ca1);
	gp_tls_ctx_t *good = client_ctx(versions[_i], GP_TLS_VERIFY_NAME, p_ca1, p_cl1, p_cl1_key);
	gp_tls_ctx_t *bad = client_ctx(versions[_i], GP_TLS_VERIFY_NAME, p_ca1, p_cl2, p_cl2_key);
	gp_tls_ctx_t *none = client_ctx(versions[_i], GP_TLS_VERIFY_NAME, p_ca1, NULL, NULL);
	gp_tls_conn_t *cl, *sv;
	hs_t h;

	h = try_connect(good, sctx, "localhost", &cl, &sv);
	ck_assert_msg(h.cst == GP_OK && h.sst == GP_OK && h.cdone && h.sdone, "%s / %s",
	              gp_tls_reason(cl), gp_tls_reason(sv));
	gp_tls_conn_free(cl);
	gp_tls_conn_free(sv);
	/* a certificate from a CA the server does not trust */
	h = try_connect(bad, sctx, "localhost", &cl, &sv);
	ck_assert_int_eq(h.sst, GP_EPROTO);
	ck_assert(gp_tls_failed_verify(sv));
	ck_assert_msg(strstr(gp_tls_reason(sv), "certificate verify failed"), "%s",
	              gp_tls_reason(sv));
	ck_assert_int_eq(h.cst, GP_EPROTO); /* the client hears about it */
	gp_tls_conn_free(cl);
	gp_tls_conn_free(sv);
	/* no certificate at all */
	h = try_connect(none, sctx, "localhost", &cl, &sv);
	ck_assert_int_eq(h.sst, GP_EPROTO);
	ck_assert(gp_tls_failed_verify(sv));
	ck_assert_msg(strstr(gp_tls_reason(sv), "certificate"), "%s", gp_tls_reason(sv));
	gp_tls_conn_free(cl);
	gp_tls_conn_free(sv);
	gp_tls_ctx_unref(sctx);
	gp_tls_ctx_unref(good);
	gp_tls_ctx_unref(bad);
	gp_tls_ctx_unref(none);
}
END_TEST

START_TEST(test_versions)
{
	gp_tls_ctx_t *s13 = server_ctx(GP_TLS_1_3, GP_TLS_ANY, NULL);
	gp_tls_ctx_t *c12 = client_ctx(GP_TLS_1_2, GP_TLS_VERIFY_NAME, p_ca1, NULL, NULL);
	gp_tls_conn_t *cl, *sv;
	gp_tls_version_t v;
	hs_t h;

	h = try_connect(c12, s13, "localhost", &cl, &sv);
	ck_assert_int_eq(h.sst, GP_EPROTO);
	ck_assert_msg(strstr(gp_tls_reason(sv), "protocol"), "%s", gp_tls_reason(sv));
	ck_assert_int_eq(h.cst, GP_EPROTO);
	gp_tls_conn_free(cl);
	gp_tls_conn_free(sv);
	gp_tls_ctx_unref(s13);
	gp_tls_ctx_unref(c12);
	ck_assert(gp_tls_version_parse("TLSv1.2", &v) && v == GP_TLS_1_2);
	ck_assert(gp_tls_version_parse("1.3", &v) && v == GP_TLS_1_3);
	ck_assert(!gp_tls_version_parse("TLSv1.1", &v));
	ck_assert(!gp_tls_version_parse(NULL, &v));
}
END_TEST

#include "test_tls_hostile.c"

static Suite *tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("tls");
	int nv = (int)(sizeof versions / sizeof versions[0]);

	tcase_add_loop_test(tc, test_handshake_and_data, 0, nv);
	tcase_add_test(tc, test_pending_after_pause);
	tcase_add_loop_test(tc, test_resumption, 0, nv);
	tcase_add_loop_test(tc, test_client_rejects_server, 0, nv);
	tcase_add_loop_test(tc, test_server_rejects_client_cert, 0, nv);
	tcase_add_test(tc, test_versions);
	tcase_add_test(tc, test_garbage_client_hello);
	tcase_add_test(tc, test_no_renegotiation);
	tcase_add_test(tc, test_writes_on_read);
	tcase_add_test(tc, test_ctx_errors);
	suite_add_tcase(s, tc);
	/* Every handshake flight cut at every offset: minutes under valgrind (run-all leaves the
	 * "heavy" tag out there; the plain and ASan runs cover it). */
	TCase *heavy = tcase_create("tls_heavy");
	tcase_set_tags(heavy, "heavy");
	tcase_add_loop_test(heavy, test_truncation, 0, nv);
	suite_add_tcase(s, heavy);
	return s;
}

int main(void)
{
	int rc;

	make_certs();
	rc = gp_check_run(tls_suite(), CK_ENV);
	remove_certs();
	return rc;
}
