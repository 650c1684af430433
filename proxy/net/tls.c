/* tls.c - TLS contexts, connections on OpenSSL memory BIOs, for the I/O engine to drive. */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "net/tls.h"

#define SESS_SLOTS      16   /* client role: resumable sessions kept, one per peer */
#define PEER_MAX        256  /* longest peer name kept */
#define SERVER_SESSIONS 1024 /* server role: session cache for clients without tickets */

struct gp_tls_ctx {
	SSL_CTX *ssl;           /* OpenSSL's context */
	gp_tls_role_t role;     /* server or client */
	gp_tls_verify_t verify; /* client role: how the server is checked */
	int refs;               /* the owner's reference plus one per connection */
	int64_t not_after;      /* own certificate's expiry, 0: none */
	uint64_t tick;          /* clock for the least recently stored slot */
	struct {
		char peer[PEER_MAX]; /* whose session ("" = free) */
		SSL_SESSION *sess;   /* our reference */
		uint64_t stored;     /* tick when stored */
	} sess[SESS_SLOTS];          /* client role: sessions to resume */
};

struct gp_tls_conn {
	gp_tls_ctx_t *ctx;   /* referenced */
	SSL *ssl;            /* owns rbio and wbio */
	BIO *rbio;           /* ciphertext fed in */
	BIO *wbio;           /* ciphertext to send */
	bool failed;         /* sticky: a fatal error happened */
	bool verify_failed;  /* that error was the peer's certificate */
	char peer[PEER_MAX]; /* client role: session key ("" for the server role) */
	char reason[200];    /* last failure, readable */
};

/* ---- errors -------------------------------------------------------------------- */

/* The most telling entry of OpenSSL's (thread-global) error queue, which is emptied. Only
 * library reason strings are used: no file names from the queue, no data. */
static const char *ssl_queue_reason(unsigned long *code)
{
	const char *why = NULL;
	unsigned long e;

	if (code)
		*code = 0;
	while ((e = ERR_get_error()) != 0) {
		const char *r = ERR_reason_error_string(e);

		if (r && !why) {
			why = r; /* the first is the root cause */
			if (code)
				*code = e;
		}
	}
	return why;
}

static void fmt_err(char *err, size_t errlen, const char *what, const char *path)
{
	const char *why = ssl_queue_reason(NULL);

	if (err && errlen)
		snprintf(err, errlen, "%s%s%s: %s", what, path ? " " : "", path ? path : "",
		         why ? why : "unknown OpenSSL error");
}

/* Never prompt on a terminal for a key's passphrase: a key with one is an error. */
static int refuse_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* ---- contexts -------------------------------------------------------------------- */

bool gp_tls_version_parse(const char *s, gp_tls_version_t *out)
{
	if (!s)
		return false;
	if (strcmp(s, "TLSv1.2") == 0 || strcmp(s, "1.2") == 0)
		*out = GP_TLS_1_2;
	else if (strcmp(s, "TLSv1.3") == 0 || strcmp(s, "1.3") == 0)
		*out = GP_TLS_1_3;
	else
		return false;
	return true;
}

static int ossl_version(gp_tls_version_t v, int dflt)
{
	return v == GP_TLS_1_2 ? TLS1_2_VERSION : v == GP_TLS_1_3 ? TLS1_3_VERSION : dflt;
}

/* Client role: keep the newest session of each peer for the next connection to it. */
static int on_new_session(SSL *ssl, SSL_SESSION *sess)
{
	gp_tls_conn_t *c = SSL_get_app_data(ssl);
	gp_tls_ctx_t *ctx = c->ctx;
	int slot = 0;

	if (!c->peer[0])
		return 0; /* nothing to key it on: OpenSSL keeps its reference */
	for (int i = 0; i < SESS_SLOTS; i++) {
		if (strcmp(ctx->sess[i].peer, c->peer) == 0) {
			slot = i;
			break;
		}
		if (ctx->sess[i].stored < ctx->sess[slot].stored)
			slot = i; /* free slots have stored == 0 */
	}
	SSL_SESSION_free(ctx->sess[slot].sess);
	snprintf(ctx->sess[slot].peer, sizeof ctx->sess[slot].peer, "%s", c->peer);
	ctx->sess[slot].sess = sess;
	ctx->sess[slot].stored = ++ctx->tick;
	return 1; /* we keep the reference */
}

static int64_t cert_not_after(SSL_CTX *ssl)
{
	X509 *x = SSL_CTX_get0_certificate(ssl);
	struct tm tm;

	if (!x || ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

static gp_status_t ctx_load(gp_tls_ctx_t *ctx, const gp_tls_opts_t *o, char *err, size_t errlen)
{
	SSL_CTX *s = ctx->ssl;

	SSL_CTX_set_default_passwd_cb(s, refuse_passphrase);
	if (!SSL_CTX_set_min_proto_version(s, ossl_version(o->min_version, TLS1_2_VERSION)) ||
	    !SSL_CTX_set_max_proto_version(s, ossl_version(o->max_version, 0))) {
		fmt_err(err, errlen, "tls: cannot set the protocol versions", NULL);
		return GP_ECONFIG;
	}
	if (o->ciphers && !SSL_CTX_set_cipher_list(s, o->ciphers)) {
		fmt_err(err, errlen, "tls: no usable cipher in", o->ciphers);
		return GP_ECONFIG;
	}
	if (o->ciphersuites && !SSL_CTX_set_ciphersuites(s, o->ciphersuites)) {
		fmt_err(err, errlen, "tls: no usable TLS 1.3 suite in", o->ciphersuites);
		return GP_ECONFIG;
	}
	if (o->cert) {
		if (SSL_CTX_use_certificate_chain_file(s, o->cert) != 1) {
			fmt_err(err, errlen, "tls: cannot load certificate", o->cert);
			return GP_ECONFIG;
		}
		if (SSL_CTX_use_PrivateKey_file(s, o->key, SSL_FILETYPE_PEM) != 1) {
			fmt_err(err, errlen, "tls: cannot load key", o->key);
			return GP_ECONFIG;
		}
		if (SSL_CTX_check_private_key(s) != 1) {
			fmt_err(err, errlen, "tls: key does not match certificate", o->cert);
			return GP_ECONFIG;
		}
	}
	if (o->ca && SSL_CTX_load_verify_locations(s, o->ca, NULL) != 1) {
		fmt_err(err, errlen, "tls: cannot load CA", o->ca);
		return GP_ECONFIG;
	}
	SSL_CTX_set_timeout(s, o->session_timeout_s ? (long)o->session_timeout_s : 300);
	/* No renegotiation either way (TLS 1.2; 1.3 has none): a client's is refused,
	 * a server's HelloRequest ignored. */
	SSL_CTX_set_options(s, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	/* Idle connections give their read/write buffers back (about 34 KiB each). */
	SSL_CTX_set_mode(s, SSL_MODE_RELEASE_BUFFERS);
	if (o->role == GP_TLS_SERVER) {
		static const unsigned char sid_ctx[] = "galera-proxy";

		/* (OpenSSL 3 refuses client renegotiation unless ALLOW_CLIENT_RENEGOTIATION.) */
		SSL_CTX_clear_options(s, SSL_OP_ALLOW_CLIENT_RENEGOTIATION);
		SSL_CTX_set_options(s, SSL_OP_CIPHER_SERVER_PREFERENCE);
		/* Resumption: stateless tickets (keys are per context, so a reload starts
		 * over with full handshakes) and a bounded cache for clients without. */
		SSL_CTX_set_session_id_context(s, sid_ctx, sizeof sid_ctx - 1);
		SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_SERVER);
		SSL_CTX_sess_set_cache_size(s, SERVER_SESSIONS);
		if (o->ca) {
			STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->ca);

			if (!names) {
				fmt_err(err, errlen, "tls: no CA names in", o->ca);
				return GP_ECONFIG;
			}
			SSL_CTX_set_client_CA_list(s, names);
			SSL_CTX_set_verify(s, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			                   NULL);
		} else {
			SSL_CTX_set_verify(s, SSL_VERIFY_NONE, NULL);
		}
	} else {
		SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_CLIENT |
		                                          SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(s, on_new_session);
		if (o->verify == GP_TLS_VERIFY_OFF) {
			SSL_CTX_set_verify(s, SSL_VERIFY_NONE, NULL);
		} else {
			if (!o->ca && SSL_CTX_set_default_verify_paths(s) != 1) {
				fmt_err(err, errlen, "tls: no CA given and no system store", NULL);
				return GP_ECONFIG;
			}
			SSL_CTX_set_verify(s, SSL_VERIFY_PEER, NULL);
		}
	}
	ctx->not_after = cert_not_after(s);
	return GP_OK;
}

gp_status_t gp_tls_ctx_new(const gp_tls_opts_t *o, gp_tls_ctx_t **out, char *err, size_t errlen)
{
	gp_tls_ctx_t *ctx;
	gp_status_t st;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if ((o->role == GP_TLS_SERVER && (!o->cert || !o->key)) || (!o->cert != !o->key)) {
		if (err && errlen)
			snprintf(err, errlen, "tls: %s",
			         o->role == GP_TLS_SERVER ? "a server needs cert and key"
			                                  : "cert and key go together");
		return GP_ECONFIG;
	}
	ctx = calloc(1, sizeof *ctx);
	if (!ctx)
		return GP_ENOMEM;
	ERR_clear_error();
	ctx->ssl =
	        SSL_CTX_new(o->role == GP_TLS_SERVER ? TLS_server_method() : TLS_client_method());
	if (!ctx->ssl) {
		fmt_err(err, errlen, "tls: cannot create a context", NULL);
		free(ctx);
		return GP_ENOMEM;
	}
	ctx->role = o->role;
	ctx->verify = o->verify;
	ctx->refs = 1;
	st = ctx_load(ctx, o, err, errlen);
	if (st != GP_OK) {
		ERR_clear_error();
		gp_tls_ctx_unref(ctx);
		return st;
	}
	*out = ctx;
	return GP_OK;
}

gp_tls_ctx_t *gp_tls_ctx_ref(gp_tls_ctx_t *ctx)
{
	ctx->refs++;
	return ctx;
}

void gp_tls_ctx_unref(gp_tls_ctx_t *ctx)
{
	if (!ctx || --ctx->refs > 0)
		return;
	for (int i = 0; i < SESS_SLOTS; i++)
		SSL_SESSION_free(ctx->sess[i].sess);
	SSL_CTX_free(ctx->ssl);
	free(ctx);
}

int64_t gp_tls_ctx_not_after(const gp_tls_ctx_t *ctx)
{
	return ctx->not_after;
}

/* ---- connections ------------------------------------------------------------------ */

static bool is_ip(const char *s)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

static gp_status_t conn_setup_client(gp_tls_conn_t *c, const char *peer)
{
	gp_tls_ctx_t *ctx = c->ctx;

	if (!peer)
		return ctx->verify == GP_TLS_VERIFY_NAME ? GP_EINVAL : GP_OK;
	if (strlen(peer) >= sizeof c->peer)
		return GP_EINVAL;
	snprintf(c->peer, sizeof c->peer, "%s", peer);
	if (!is_ip(peer) && !SSL_set_tlsext_host_name(c->ssl, peer))
		return GP_EINVAL;
	if (ctx->verify == GP_TLS_VERIFY_NAME) {
		int ok = is_ip(peer) ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), peer)
		                     : SSL_set1_host(c->ssl, peer);

		if (ok != 1)
			return GP_EINVAL;
	}
	for (int i = 0; i < SESS_SLOTS; i++) {
		SSL_SESSION *s = ctx->sess[i].sess;

		if (s && strcmp(ctx->sess[i].peer, peer) == 0 && SSL_SESSION_is_resumable(s))
			return SSL_set_session(c->ssl, s) == 1 ? GP_OK : GP_ENOMEM;
	}
	return GP_OK;
}

gp_status_t gp_tls_conn_new(gp_tls_ctx_t *ctx, const char *peer, gp_tls_conn_t **out)
{
	gp_tls_conn_t *c = calloc(1, sizeof *c);
	gp_status_t st = GP_ENOMEM;

	*out = NULL;
	if (!c)
		return GP_ENOMEM;
	c->ctx = gp_tls_ctx_ref(ctx);
	ERR_clear_error();
	c->ssl = SSL_new(ctx->ssl);
	c->rbio = BIO_new(BIO_s_mem());
	c->wbio = BIO_new(BIO_s_mem());
	if (!c->ssl || !c->rbio || !c->wbio) {
		BIO_free(c->rbio);
		BIO_free(c->wbio);
		c->rbio = c->wbio = NULL;
		goto fail;
	}
	/* An empty BIO means "no data yet", not end of file. */
	BIO_set_mem_eof_return(c->rbio, -1);
	BIO_set_mem_eof_return(c->wbio, -1);
	SSL_set_bio(c->ssl, c->rbio, c->wbio);
	SSL_set_app_data(c->ssl, c);
	if (ctx->role == GP_TLS_SERVER) {
		SSL_set_accept_state(c->ssl);
	} else {
		SSL_set_connect_state(c->ssl);
		st = conn_setup_client(c, peer);
		if (st != GP_OK)
			goto fail;
	}
	*out = c;
	return GP_OK;
fail:
	ERR_clear_error();
	gp_tls_conn_free(c);
	return st;
}

void gp_tls_conn_free(gp_tls_conn_t *c)
{
	if (!c)
		return;
	/* OpenSSL forgets the session of a connection freed without close_notify. MySQL
	 * clients end with COM_QUIT and a plain close: keep their sessions resumable unless
	 * the connection failed. */
	if (c->ssl && !c->failed && SSL_is_init_finished(c->ssl))
		SSL_set_shutdown(c->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(c->ssl); /* frees the BIOs */
	gp_tls_ctx_unref(c->ctx);
	free(c);
}

/* Map an OpenSSL failure to a status, with a reason that names no data. */
static gp_status_t conn_fail(gp_tls_conn_t *c, int sslerr)
{
	/* Under VERIFY_NONE the result is informative only: not this failure's cause. */
	long vr = SSL_get_verify_mode(c->ssl) & SSL_VERIFY_PEER ? SSL_get_verify_result(c->ssl)
	                                                        : X509_V_OK;
	unsigned long code;
	const char *why = ssl_queue_reason(&code);

	if (sslerr == SSL_ERROR_ZERO_RETURN) {
		snprintf(c->reason, sizeof c->reason, "peer closed the TLS session");
		return GP_ECLOSED;
	}
	c->failed = true;
	if (ERR_GET_LIB(code) == ERR_LIB_SSL &&
	    ERR_GET_REASON(code) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
		c->verify_failed = true; /* a required client certificate is missing */
		snprintf(c->reason, sizeof c->reason, "%s", why);
	} else if (vr != X509_V_OK) {
		c->verify_failed = true;
		snprintf(c->reason, sizeof c->reason, "certificate verify failed: %s",
		         X509_verify_cert_error_string(vr));
	} else {
		snprintf(c->reason, sizeof c->reason, "%s",
		         why                           ? why
		         : sslerr == SSL_ERROR_SYSCALL ? "TLS I/O error"
		                                       : "TLS error");
	}
	return GP_EPROTO;
}

gp_status_t gp_tls_feed(gp_tls_conn_t *c, const void *p, size_t n)
{
	while (n > 0) {
		int k = BIO_write(c->rbio, p, n > INT_MAX ? INT_MAX : (int)n);

		if (k <= 0)
			return GP_ENOMEM;
		p = (const uint8_t *)p + k;
		n -= (size_t)k;
	}
	return GP_OK;
}

gp_status_t gp_tls_handshake(gp_tls_conn_t *c, bool *done)
{
	int r, e;

	*done = false;
	if (c->failed)
		return GP_EPROTO;
	if (SSL_is_init_finished(c->ssl)) {
		*done = true;
		return GP_OK;
	}
	ERR_clear_error();
	r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		*done = true;
		return GP_OK;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return GP_OK;
	return conn_fail(c, e);
}

gp_status_t gp_tls_read(gp_tls_conn_t *c, void *buf, size_t cap, size_t *got)
{
	int e;

	*got = 0;
	if (c->failed)
		return GP_EPROTO;
	if (cap == 0)
		return GP_OK;
	ERR_clear_error();
	if (SSL_read_ex(c->ssl, buf, cap, got) == 1)
		return GP_OK;
	*got = 0;
	e = SSL_get_error(c->ssl, 0);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return GP_OK;
	return conn_fail(c, e);
}

gp_status_t gp_tls_write(gp_tls_conn_t *c, const void *p, size_t n, size_t *took)
{
	int e;

	*took = 0;
	if (c->failed)
		return GP_EPROTO;
	if (n == 0)
		return GP_OK;
	ERR_clear_error();
	if (SSL_write_ex(c->ssl, p, n, took) == 1)
		return GP_OK;
	*took = 0;
	e = SSL_get_error(c->ssl, 0);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return GP_OK; /* still in the handshake */
	return conn_fail(c, e);
}

void gp_tls_shutdown(gp_tls_conn_t *c)
{
	if (c->failed || !SSL_is_init_finished(c->ssl))
		return;
	ERR_clear_error();
	(void)SSL_shutdown(c->ssl); /* sends close_notify; we do not wait for the peer's */
	ERR_clear_error();
}

size_t gp_tls_out_pending(const gp_tls_conn_t *c)
{
	return BIO_ctrl_pending(c->wbio);
}

size_t gp_tls_out(gp_tls_conn_t *c, void *buf, size_t cap)
{
	int k = BIO_read(c->wbio, buf, cap > INT_MAX ? INT_MAX : (int)cap);

	return k > 0 ? (size_t)k : 0;
}

size_t gp_tls_pending(const gp_tls_conn_t *c)
{
	int n = SSL_pending(c->ssl);

	return n > 0 ? (size_t)n : 0;
}

bool gp_tls_readable(const gp_tls_conn_t *c)
{
	return gp_tls_pending(c) > 0 || BIO_ctrl_pending(c->rbio) > 0;
}

bool gp_tls_handshake_done(const gp_tls_conn_t *c)
{
	return SSL_is_init_finished(c->ssl);
}

bool gp_tls_session_reused(const gp_tls_conn_t *c)
{
	return SSL_session_reused(c->ssl) == 1;
}

const char *gp_tls_version(const gp_tls_conn_t *c)
{
	return SSL_is_init_finished(c->ssl) ? SSL_get_version(c->ssl) : "";
}

const char *gp_tls_cipher(const gp_tls_conn_t *c)
{
	const char *n = SSL_is_init_finished(c->ssl) ? SSL_get_cipher_name(c->ssl) : NULL;

	return n ? n : "";
}

const char *gp_tls_reason(const gp_tls_conn_t *c)
{
	return c->reason;
}

bool gp_tls_failed_verify(const gp_tls_conn_t *c)
{
	return c->verify_failed;
}
