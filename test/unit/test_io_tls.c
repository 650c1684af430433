/* test_io_tls.c - the I/O engine's TLS layer (net/io_tls.c) over a real socket pair. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "gp_check.h"
#include "net/http.h"
#include "net/io.h"
#include "net/tls.h"

/*
 * The server side is a gp_io_t on one end of a socketpair, the way the proxy runs it: an SSL
 * request packet switches TLS on (packet mode), or TLS starts at once (byte-stream mode,
 * HTTPS). The client is a raw OpenSSL SSL on memory BIOs whose records the test writes to
 * the other end in the pieces it chooses, so a ClientHello can be cut anywhere and records
 * can arrive faster than the engine reads. The certificate (self-signed, P-256) is made here
 * into a temporary directory removed at the end.
 */

static char dir[] = "/tmp/gp-io-tls-test.XXXXXX";
static char p_cert[128], p_key[128];
static gp_tls_ctx_t *sctx; /* the server's context, as the proxy builds it */

static void die(const char *what)
{
	fprintf(stderr, "test_io_tls: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(2);
}

static void make_cert(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	if (!mkdtemp(dir) || !k || !x)
		die("setup");
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	                           (const unsigned char *)"127.0.0.1", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	if (!X509_sign(x, k, EVP_sha256()))
		die("sign");
	snprintf(p_cert, sizeof(p_cert), "%s/cert.pem", dir);
	snprintf(p_key, sizeof(p_key), "%s/key.pem", dir);
	FILE *f = fopen(p_cert, "w");
	if (!f || !PEM_write_X509(f, x) || fclose(f) != 0)
		die("write cert");
	f = fopen(p_key, "w");
	if (!f || !PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) || fclose(f) != 0)
		die("write key");
	X509_free(x);
	EVP_PKEY_free(k);
	gp_tls_opts_t o = {.role = GP_TLS_SERVER, .cert = p_cert, .key = p_key};
	char err[256];
	if (gp_tls_ctx_new(&o, &sctx, err, sizeof(err)) != GP_OK)
		die(err);
}

static void remove_cert(void)
{
	gp_tls_ctx_unref(sctx);
	unlink(p_cert);
	unlink(p_key);
	rmdir(dir);
}

static uv_loop_t loop;

/* ---- the client: raw OpenSSL on memory BIOs, its records written to fd by the test ---- */

typedef struct cli {
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *rb, *wb; /* what the server sent / what we send */
	int fd;       /* our end of the socket pair (non-blocking) */
} cli_t;

static void cli_open(cli_t *c, int fd, int max_version)
{
	c->ctx = SSL_CTX_new(TLS_client_method());
	ck_assert_ptr_nonnull(c->ctx);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
	if (max_version)
		SSL_CTX_set_max_proto_version(c->ctx, max_version);
	SSL_CTX_set_options(c->ctx, SSL_OP_ALLOW_CLIENT_RENEGOTIATION);
	c->ssl = SSL_new(c->ctx);
	c->rb = BIO_new(BIO_s_mem());
	c->wb = BIO_new(BIO_s_mem());
	SSL_set_bio(c->ssl, c->rb, c->wb);
	SSL_set_connect_state(c->ssl);
	c->fd = fd;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void cli_free(cli_t *c)
{
	SSL_free(c->ssl);
	SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
}

/* Write n bytes to the socket whole; the loop runs while it is full (the server reads). */
static void raw_send(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n > 0) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			uv_run(&loop, UV_RUN_NOWAIT);
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			poll(&pfd, 1, 1);
			continue;
		}
		ck_assert_int_gt(w, 0);
		b += w;
		n -= (size_t)w;
	}
}

/* Move what OpenSSL wrote for the server into a buffer (*n bytes, malloc'd). */
static uint8_t *cli_take(cli_t *c, size_t *n)
{
	*n = (size_t)BIO_ctrl_pending(c->wb);
	uint8_t *b = malloc(*n ? *n : 1);
	ck_assert_ptr_nonnull(b);
	if (*n)
		ck_assert_int_eq(BIO_read(c->wb, b, (int)*n), (int)*n);
	return b;
}

static void cli_flush(cli_t *c)
{
	size_t n;
	uint8_t *b = cli_take(c, &n);
	raw_send(c->fd, b, n);
	free(b);
}

/* What the server sent, into OpenSSL. Returns false on EOF or a reset. */
static bool cli_pull(cli_t *c)
{
	uint8_t b[16384];
	for (;;) {
		ssize_t r = recv(c->fd, b, sizeof(b), 0);
		if (r > 0) {
			BIO_write(c->rb, b, (int)r);
			continue;
		}
		return !(r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK));
	}
}

/* ---- the server io: a packet-mode side that starts TLS at the SSL request ------------- */

typedef struct srv {
	gp_io_t io;
	uv_loop_t *loop;
	int ready;        /* tls_ready calls: 1 OK; -1 failed */
	char reason[128]; /* a failed handshake's reason */
	int ended;        /* ended calls */
	gp_status_t why;  /* ended's status */
	bool closed;      /* closed called */
	bool hold;        /* answer the next packet HOLD (once) */
	bool held;        /* a HOLD was answered */
	bool echo;        /* send each packet back */
	uint8_t *got;     /* packet payloads received after TLS, in order */
	size_t got_len;   /* bytes in got */
	int packets;      /* how many */
} srv_t;

static gp_pkt_action_t srv_packet(gp_io_t *io, gp_pkt_t *pkt)
{
	srv_t *s = io->owner;
	if (!gp_io_tls(io)) {
		ck_assert_uint_eq(pkt->len, 32); /* the SSL request */
		ck_assert_int_eq(gp_io_start_tls(io, sctx), GP_OK);
		return GP_PKT_STOP;
	}
	if (s->hold) {
		s->hold = false;
		s->held = true;
		return GP_PKT_HOLD;
	}
	ck_assert_uint_eq(pkt->n, pkt->len);
	s->got = realloc(s->got, s->got_len + pkt->len + 1);
	ck_assert_ptr_nonnull(s->got);
	memcpy(s->got + s->got_len, pkt->p, pkt->len);
	s->got_len += pkt->len;
	s->packets++;
	if (s->echo) {
		uint8_t h[4] = {(uint8_t)pkt->len, (uint8_t)(pkt->len >> 8),
		                (uint8_t)(pkt->len >> 16), pkt->seq};
		struct iovec v[2] = {{h, 4}, {pkt->p, pkt->len}};
		ck_assert_int_eq(gp_io_sendv(io, v, 2), GP_OK);
	}
	return GP_PKT_DROP;
}

static void srv_ended(gp_io_t *io, gp_status_t st)
{
	srv_t *s = io->owner;
	s->ended++;
	s->why = st;
	gp_io_close(io, false);
}

static void srv_closed(gp_io_t *io)
{
	((srv_t *)io->owner)->closed = true;
}

static void srv_tls_ready(gp_io_t *io, gp_status_t st)
{
	srv_t *s = io->owner;
	s->ready = st == GP_OK ? 1 : -1;
	if (st == GP_OK)
		return;
	snprintf(s->reason, sizeof(s->reason), "%s", gp_tls_reason(gp_io_tls_conn(io)));
	gp_io_close(io, false);
}

static const gp_io_proto_t srv_proto = {
        .packet = srv_packet,
        .ended = srv_ended,
        .closed = srv_closed,
        .tls_ready = srv_tls_ready,
};

/* A socket pair: the server io on one end (whole packets, reading), the client's fd. */
static int srv_open(srv_t *s, const gp_io_proto_t *proto)
{
	int sv[2];
	memset(s, 0, sizeof(*s));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(gp_io_init(&s->io, &loop, proto, s), GP_OK);
	ck_assert_int_eq(gp_io_adopt(&s->io, sv[0]), GP_OK);
	s->loop = &loop;
	gp_io_tune(&s->io); /* marks it connected (the options themselves fail on AF_UNIX) */
	gp_io_set_whole(&s->io, true);
	gp_io_read(&s->io, true);
	return sv[1];
}

static void srv_close(srv_t *s)
{
	gp_io_close(&s->io, false);
	while (!s->closed)
		uv_run(&loop, UV_RUN_ONCE);
	free(s->got);
}

/* Run the loop and move the server's bytes to the client until cond (3 s at most). */
#define PUMP_UNTIL(c, cond)                                             \
	do {                                                            \
		for (int spin_ = 0; spin_ < 3000 && !(cond); spin_++) { \
			uv_run(&loop, UV_RUN_NOWAIT);                   \
			cli_pull(c);                                    \
			if (!(cond))                                    \
				usleep(1000);                           \
		}                                                       \
	} while (0)

/* The SSL request: a 32-byte handshake response with CLIENT_SSL, sequence id 1. */
static const uint8_t ssl_request[36] = {32, 0, 0, 1, 0x00, 0x0a, 0xaa, 0x00, 0, 0, 0, 1, 33};

/* Drive the client's handshake to its end against the server io. */
static void cli_handshake(cli_t *c, srv_t *s)
{
	for (int spin = 0; spin < 3000; spin++) {
		int r = SSL_do_handshake(c->ssl);
		cli_flush(c);
		if (r == 1 && s->ready)
			return;
		if (r != 1)
			ck_assert_int_eq(SSL_get_error(c->ssl, r), SSL_ERROR_WANT_READ);
		uv_run(&loop, UV_RUN_NOWAIT);
		cli_pull(c);
		usleep(200);
	}
	ck_abort_msg("handshake did not finish");
}

/* One packet of len bytes (pattern from seed) written through the client's TLS. */
static void cli_packet(cli_t *c, uint32_t len, uint8_t seq, unsigned seed, uint8_t *copy)
{
	uint8_t *b = malloc(len + 4);
	ck_assert_ptr_nonnull(b);
	b[0] = (uint8_t)len;
	b[1] = (uint8_t)(len >> 8);
	b[2] = (uint8_t)(len >> 16);
	b[3] = seq;
	for (uint32_t i = 0; i < len; i++)
		b[4 + i] = (uint8_t)(seed * 31u + i * 7u + (i >> 8));
	if (copy)
		memcpy(copy, b + 4, len);
	ck_assert_int_eq(SSL_write(c->ssl, b, (int)len + 4), (int)len + 4);
	free(b);
}

/* ---- tests ------------------------------------------------------------------------------- */

/* The SSL request and the ClientHello cut at every byte (both halves apart, the first in the
 * same write as the SSL request): the handshake finishes and a packet goes both ways. */
START_TEST(test_clienthello_every_split)
{
	size_t ch_len = 0;
	for (size_t k = 0;; k++) {
		srv_t s;
		cli_t c;
		cli_open(&c, srv_open(&s, &srv_proto), 0);
		ck_assert_int_eq(SSL_do_handshake(c.ssl), -1);
		size_t n;
		uint8_t *ch = cli_take(&c, &n);
		ck_assert_uint_gt(n, 100);
		if (ch_len == 0)
			ch_len = n;
		ck_assert_uint_eq(n, ch_len); /* the same length each time: the cuts line up */
		uint8_t *first = malloc(sizeof(ssl_request) + k);
		memcpy(first, ssl_request, sizeof(ssl_request));
		memcpy(first + sizeof(ssl_request), ch, k);
		raw_send(c.fd, first, sizeof(ssl_request) + k);
		free(first);
		for (int i = 0; i < 3; i++)
			uv_run(&loop, UV_RUN_NOWAIT);
		ck_assert_msg(s.ready == 0 && !s.closed, "k=%zu: done before the whole hello", k);
		raw_send(c.fd, ch + k, n - k);
		free(ch);
		s.echo = true;
		cli_handshake(&c, &s);
		ck_assert_int_eq(s.ready, 1);
		uint8_t sent[100], back[104];
		cli_packet(&c, sizeof(sent), 0, (unsigned)k, sent);
		cli_flush(&c);
		int r = 0; /* header and payload may come as records of their own */
		for (int spin = 0; spin < 3000 && r < (int)sizeof(back); spin++) {
			uv_run(&loop, UV_RUN_NOWAIT);
			cli_pull(&c);
			int got = SSL_read(c.ssl, back + r, (int)sizeof(back) - r);
			if (got > 0)
				r += got;
			else
				usleep(200);
		}
		ck_assert_msg(r == (int)sizeof(back), "k=%zu: echo %d", k, r);
		ck_assert_int_eq(s.packets, 1);
		ck_assert_mem_eq(s.got, sent, sizeof(sent));
		ck_assert_mem_eq(back + 4, sent, sizeof(sent));
		srv_close(&s);
		cli_free(&c);
		if (k == ch_len)
			break;
	}
}
END_TEST

/* About 1 MB of packets up to almost the read buffer's size, written in one go: records of
 * 16 KB arrive while the buffer has less room than one of them decrypts to; everything
 * arrives, in order, and the echo (our writes in records) comes back whole. */
START_TEST(test_records_larger_than_room)
{
	srv_t s;
	cli_t c;
	cli_open(&c, srv_open(&s, &srv_proto), 0);
	raw_send(c.fd, ssl_request, sizeof(ssl_request));
	cli_handshake(&c, &s);
	s.echo = true;
	size_t total = 0, npk = 0;
	uint8_t *want = malloc(1 << 21);
	ck_assert_ptr_nonnull(want);
	srandom(7);
	while (total < 1000000) {
		uint32_t len = 1 + (uint32_t)(random() % 16000);
		cli_packet(&c, len, (uint8_t)npk, (unsigned)npk, want + total);
		total += len;
		npk++;
	}
	cli_flush(&c);
	size_t back_len = 0, back_want = total + 4 * npk;
	uint8_t *back = malloc(back_want);
	ck_assert_ptr_nonnull(back);
	for (int spin = 0; spin < 5000 && back_len < back_want; spin++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		cli_pull(&c);
		int r = SSL_read(c.ssl, back + back_len, (int)(back_want - back_len));
		if (r > 0)
			back_len += (size_t)r;
		else
			usleep(500);
	}
	ck_assert_uint_eq((size_t)s.packets, npk);
	ck_assert_uint_eq(s.got_len, total);
	ck_assert_mem_eq(s.got, want, total);
	ck_assert_uint_eq(back_len, back_want);
	size_t off = 0, pos = 0;
	for (size_t i = 0; i < npk; i++) { /* the echo: the same packets, headers and all */
		uint32_t len = back[pos] | back[pos + 1] << 8 | back[pos + 2] << 16;
		ck_assert_uint_eq(back[pos + 3], (uint8_t)i);
		ck_assert_mem_eq(back + pos + 4, want + off, len);
		pos += 4 + len;
		off += len;
	}
	free(back);
	free(want);
	srv_close(&s);
	cli_free(&c);
}
END_TEST

/* The packet callback answers HOLD while OpenSSL still holds records (more than the read
 * buffer takes): no socket event will come, yet gp_io_resume delivers every packet. */
START_TEST(test_hold_then_resume_pumps)
{
	srv_t s;
	cli_t c;
	cli_open(&c, srv_open(&s, &srv_proto), 0);
	raw_send(c.fd, ssl_request, sizeof(ssl_request));
	cli_handshake(&c, &s);
	s.hold = true;
	uint8_t want[40 * 4000];
	for (int i = 0; i < 40; i++)
		cli_packet(&c, 4000, (uint8_t)i, (unsigned)i, want + i * 4000);
	cli_flush(&c);
	PUMP_UNTIL(&c, s.held);
	ck_assert(s.held);
	for (int i = 0; i < 50; i++) { /* everything there is to read is read */
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	ck_assert_int_eq(s.packets, 0);
	ck_assert(gp_tls_readable(gp_io_tls_conn(&s.io))); /* OpenSSL holds the rest */
	gp_io_resume(&s.io);
	PUMP_UNTIL(&c, s.packets == 40);
	ck_assert_int_eq(s.packets, 40);
	ck_assert_mem_eq(s.got, want, sizeof(want));
	srv_close(&s);
	cli_free(&c);
}
END_TEST

/* close_notify, after a whole packet and in the middle of one: the side ends (ECLOSED),
 * the whole packet was delivered and the cut one was not. */
START_TEST(test_close_notify)
{
	for (int cut = 0; cut < 2; cut++) {
		srv_t s;
		cli_t c;
		cli_open(&c, srv_open(&s, &srv_proto), 0);
		raw_send(c.fd, ssl_request, sizeof(ssl_request));
		cli_handshake(&c, &s);
		cli_packet(&c, 10, 0, 1, NULL);
		if (cut) {
			uint8_t half[6] = {100, 0,   0,
			                   1,   'a', 'b'}; /* 100 bytes announced, 2 sent */
			ck_assert_int_eq(SSL_write(c.ssl, half, sizeof(half)), (int)sizeof(half));
		}
		SSL_shutdown(c.ssl);
		cli_flush(&c);
		PUMP_UNTIL(&c, s.ended);
		ck_assert_int_eq(s.ended, 1);
		ck_assert_int_eq(s.why, GP_ECLOSED);
		ck_assert_int_eq(s.packets, 1);
		srv_close(&s);
		cli_free(&c);
	}
}
END_TEST

/* A client renegotiation (TLS 1.2) is refused: the connection fails, nothing is delivered
 * after it, and the side ends. */
START_TEST(test_renegotiation_refused)
{
	srv_t s;
	cli_t c;
	cli_open(&c, srv_open(&s, &srv_proto), TLS1_2_VERSION);
	raw_send(c.fd, ssl_request, sizeof(ssl_request));
	cli_handshake(&c, &s);
	ck_assert_int_eq(SSL_renegotiate(c.ssl), 1);
	for (int spin = 0; spin < 3000 && !s.ended; spin++) {
		(void)SSL_do_handshake(c.ssl); /* and its answer to the server's refusal */
		cli_flush(&c);
		uv_run(&loop, UV_RUN_NOWAIT);
		cli_pull(&c);
		usleep(200);
	}
	ck_assert_int_eq(s.ended, 1);
	ck_assert_int_ne(s.why, GP_OK);
	srv_close(&s);
	cli_free(&c);
}
END_TEST

/* ---- byte-stream mode (HTTPS) ------------------------------------------------------------ */

static size_t stream_got;
static bool stream_pause;

static void stream_data(gp_io_t *io, const char *p, size_t n)
{
	srv_t *s = io->owner;
	s->got = realloc(s->got, s->got_len + n);
	memcpy(s->got + s->got_len, p, n);
	s->got_len += n;
	stream_got += n;
	if (stream_pause)
		gp_io_read(io, false); /* push back, as http.c does with answers queued */
}

static const gp_io_proto_t stream_proto = {
        .ended = srv_ended,
        .closed = srv_closed,
        .data = stream_data,
        .tls_ready = srv_tls_ready,
};

/* TLS from the first byte; the owner stops reading after each piece while OpenSSL holds
 * records, and gp_io_read(on) alone (no socket event) hands over the rest. */
START_TEST(test_stream_pause_and_read)
{
	srv_t s;
	cli_t c;
	int fd = srv_open(&s, &stream_proto);
	ck_assert_int_eq(gp_io_start_tls_stream(&s.io, sctx, NULL), GP_OK);
	cli_open(&c, fd, 0);
	cli_handshake(&c, &s);
	static uint8_t want[200000];
	for (size_t i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)(i * 13 + (i >> 9));
	ck_assert_int_eq(SSL_write(c.ssl, want, sizeof(want)), (int)sizeof(want));
	cli_flush(&c);
	stream_got = 0;
	stream_pause = true;
	PUMP_UNTIL(&c, stream_got > 0);
	size_t first = stream_got;
	for (int i = 0; i < 20; i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	ck_assert_uint_eq(stream_got, first); /* paused */
	for (int spin = 0; spin < 1000 && stream_got < sizeof(want); spin++) {
		gp_io_read(&s.io, true);
		uv_run(&loop, UV_RUN_NOWAIT);
	}
	ck_assert_uint_eq(stream_got, sizeof(want));
	ck_assert_mem_eq(s.got, want, sizeof(want));
	stream_pause = false;
	srv_close(&s);
	cli_free(&c);
}
END_TEST

/* Something that is not TLS (a plain HTTP request) to a TLS stream fails the handshake. */
START_TEST(test_stream_plain_http_fails)
{
	srv_t s;
	int fd = srv_open(&s, &stream_proto);
	ck_assert_int_eq(gp_io_start_tls_stream(&s.io, sctx, NULL), GP_OK);
	const char req[] = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
	raw_send(fd, req, sizeof(req) - 1);
	for (int spin = 0; spin < 2000 && !s.ready; spin++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(500);
	}
	ck_assert_int_eq(s.ready, -1);
	ck_assert_ptr_null(s.got);
	ck_assert_str_eq(s.reason, "http request"); /* OpenSSL knows one when it sees it */
	srv_close(&s);
	close(fd);
}
END_TEST

/* ---- HTTPS end to end: gp_http server and the one-shot client over TLS --------------------- */

static int get_calls, get_code;
static bool get_ok;
static char get_body[64];

static void https_handler(void *arg, const gp_http_request_t *rq, gp_http_answer_t *a)
{
	(void)arg;
	(void)rq;
	gp_http_answer_text(a, 200, "over tls\n");
	a->handler = "t";
}

static void on_get(void *arg, bool ok, int code, const char *body, size_t len)
{
	(void)arg;
	get_calls++;
	get_ok = ok;
	get_code = code;
	snprintf(get_body, sizeof(get_body), "%.*s", (int)len, body);
}

START_TEST(test_https_get_roundtrip)
{
	/* a free port: bind 0, read it, close */
	uv_tcp_t t;
	struct sockaddr_in sa;
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	uv_tcp_init(&loop, &t);
	uv_ip4_addr("127.0.0.1", 0, &sa);
	ck_assert_int_eq(uv_tcp_bind(&t, (struct sockaddr *)&sa, 0), 0);
	ck_assert_int_eq(uv_tcp_getsockname(&t, (struct sockaddr *)&ss, &len), 0);
	uint16_t port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	char addr[32];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	gp_http_t *h = NULL;
	ck_assert_int_eq(gp_http_start(&loop, addr, https_handler, NULL, &h), GP_OK);
	gp_http_set_tls(h, sctx);
	ck_assert(gp_http_tls(h));
	uv_ip4_addr("127.0.0.1", port, &sa);
	gp_tls_opts_t o = {.role = GP_TLS_CLIENT, .ca = p_cert, .verify = GP_TLS_VERIFY_ON};
	gp_tls_ctx_t *cctx;
	char err[256];
	ck_assert_msg(gp_tls_ctx_new(&o, &cctx, err, sizeof(err)) == GP_OK, "%s", err);
	gp_http_get_t *g;

	/* verified against the certificate, twice (the second may resume) */
	for (int i = 1; i <= 2; i++) {
		ck_assert_int_eq(gp_http_get_tls(&loop, (struct sockaddr *)&sa, "/x", 64, cctx,
		                                 on_get, NULL, &g),
		                 GP_OK);
		for (int spin = 0; spin < 3000 && get_calls < i; spin++) {
			uv_run(&loop, UV_RUN_NOWAIT);
			usleep(500);
		}
		ck_assert_int_eq(get_calls, i);
		ck_assert(get_ok);
		ck_assert_int_eq(get_code, 200);
		ck_assert_str_eq(get_body, "over tls\n");
	}
	/* plain HTTP to the HTTPS server: no answer, counted as a failed handshake */
	ck_assert_int_eq(gp_http_get(&loop, (struct sockaddr *)&sa, "/x", 64, on_get, NULL, &g),
	                 GP_OK);
	for (int spin = 0; spin < 3000 && get_calls < 3; spin++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(500);
	}
	ck_assert_int_eq(get_calls, 3);
	ck_assert(!get_ok);
	uint64_t ok = 0, failed = 0;
	gp_http_tls_counts(h, &ok, &failed);
	ck_assert_uint_eq(ok, 2);
	ck_assert_uint_eq(failed, 1);
	gp_tls_ctx_unref(cctx);
	gp_http_stop(h);
	uv_run(&loop, UV_RUN_DEFAULT);
}
END_TEST

static void loop_setup(void)
{
	ck_assert_int_eq(uv_loop_init(&loop), 0);
}

static void loop_teardown(void)
{
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}

int main(void)
{
	make_cert();
	Suite *s = suite_create("io_tls");
	TCase *tc = tcase_create("io_tls");
	tcase_add_checked_fixture(tc, loop_setup, loop_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_clienthello_every_split);
	tcase_add_test(tc, test_records_larger_than_room);
	tcase_add_test(tc, test_hold_then_resume_pumps);
	tcase_add_test(tc, test_close_notify);
	tcase_add_test(tc, test_renegotiation_refused);
	tcase_add_test(tc, test_stream_pause_and_read);
	tcase_add_test(tc, test_stream_plain_http_fails);
	tcase_add_test(tc, test_https_get_roundtrip);
	suite_add_tcase(s, tc);
	int rc = gp_check_run(s, CK_NORMAL);
	remove_cert();
	return rc;
}
