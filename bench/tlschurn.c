/* tlschurn.c - benchmark client: connection churn over TLS (full or resumed) or plain. */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

/*
 * Why not libmariadb: neither libmariadb nor PHP's mysqlnd keeps a TLS session between
 * connections, so with them every connection pays a full handshake. This client speaks the
 * protocol itself over OpenSSL so that it can offer a saved SSL_SESSION (a TLS 1.2 session id
 * or a TLS 1.3 ticket) and show what resumption saves. Each connection: TCP connect, read the
 * greeting, [SSL request, TLS handshake], handshake response (mysql_native_password, an auth
 * switch to it is followed), read OK, SELECT 1 (the row is checked), COM_QUIT, close_notify.
 * Built by bench/run.sh / bench/tls.sh with gcc into a scratch directory, like churn.c.
 * Output: one line of key=value pairs on stdout; errors on stderr.
 *
 *   tlschurn [-h HOST] [-P PORT] [-u USER] [-p PASS] [-m plain|full|resume] [-V 1.2|1.3]
 *            [-C CAFILE] [-R] WORKERS SECONDS
 *
 * -m resume: each worker's first connection is a full handshake, every later one offers the
 * session saved from the connection before it. -R makes that strict: the run fails (exit 1)
 * if any of those offers was not accepted, so a proxy that stops resuming cannot pass for one
 * that does. -C verifies the server's certificate against CAFILE (as a careful client would).
 */

#define TC_CLIENT_LONG_PASSWORD     0x00000001u
#define TC_CLIENT_LONG_FLAG         0x00000004u
#define TC_CLIENT_PROTOCOL_41       0x00000200u
#define TC_CLIENT_SSL               0x00000800u
#define TC_CLIENT_TRANSACTIONS      0x00002000u
#define TC_CLIENT_SECURE_CONNECTION 0x00008000u
#define TC_CLIENT_PLUGIN_AUTH       0x00080000u
#define TC_MAX_PACKET               (1u << 24)
#define TC_CHARSET_UTF8MB4          45

enum tc_mode { TC_PLAIN, TC_FULL, TC_RESUME };

typedef struct tc_opts {
	struct sockaddr_in addr; /* where to connect */
	const char *user;        /* login user */
	const char *pass;        /* and password */
	enum tc_mode mode;       /* plain, full handshakes, or resumed ones */
	SSL_CTX *ctx;            /* shared by the workers; NULL in plain mode */
} tc_opts_t;

typedef struct tc_worker {
	pthread_t tid;            /* the worker thread */
	const tc_opts_t *o;       /* shared settings */
	struct timespec deadline; /* stop starting new connections after this */
	unsigned long ok;         /* complete cycles */
	unsigned long errors;     /* cycles that failed anywhere */
	unsigned long resumed;    /* TLS handshakes the server resumed */
	unsigned long offered;    /* handshakes where a saved session was offered */
	char version[16];         /* TLS version of the last handshake */
	char cipher[64];          /* and its cipher */
	char lasterr[200];        /* the last failure, for the report */
} tc_worker_t;

typedef struct tc_conn {
	int fd;   /* the TCP socket */
	SSL *ssl; /* NULL until (unless) TLS starts */
} tc_conn_t;

static double tc_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int tc_past(const struct timespec *d)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > d->tv_sec || (now.tv_sec == d->tv_sec && now.tv_nsec >= d->tv_nsec);
}

/* tc_io moves exactly n bytes in or out, over TLS once it started. */
static int tc_io(tc_conn_t *c, void *buf, size_t n, int out)
{
	uint8_t *p = buf;
	while (n > 0) {
		ssize_t r;
		if (c->ssl) {
			int k = out ? SSL_write(c->ssl, p, (int)n) : SSL_read(c->ssl, p, (int)n);
			r = k > 0 ? k : -1;
		} else {
			r = out ? send(c->fd, p, n, MSG_NOSIGNAL) : recv(c->fd, p, n, 0);
			if (r < 0 && errno == EINTR)
				continue;
		}
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* tc_read_packet reads one packet (payloads over 16 MB are not expected here). */
static int tc_read_packet(tc_conn_t *c, uint8_t *buf, size_t cap, size_t *len, uint8_t *seq)
{
	uint8_t h[4];
	if (tc_io(c, h, 4, 0) != 0)
		return -1;
	size_t n = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16;
	if (n > cap)
		return -1;
	*seq = h[3];
	*len = n;
	return tc_io(c, buf, n, 0);
}

static int tc_write_packet(tc_conn_t *c, const uint8_t *payload, size_t n, uint8_t seq)
{
	uint8_t buf[512];
	if (n + 4 > sizeof(buf))
		return -1;
	buf[0] = (uint8_t)n;
	buf[1] = (uint8_t)(n >> 8);
	buf[2] = (uint8_t)(n >> 16);
	buf[3] = seq;
	memcpy(buf + 4, payload, n);
	return tc_io(c, buf, n + 4, 1); /* one write: one TLS record, one segment */
}

static void tc_put4(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void tc_sha1(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[20])
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	unsigned int olen = 20;
	EVP_DigestInit_ex(m, EVP_sha1(), NULL);
	EVP_DigestUpdate(m, a, alen);
	if (b)
		EVP_DigestUpdate(m, b, blen);
	EVP_DigestFinal_ex(m, out, &olen);
	EVP_MD_CTX_free(m);
}

/* tc_scramble: mysql_native_password, SHA1(pass) XOR SHA1(salt + SHA1(SHA1(pass))). */
static void tc_scramble(const char *pass, const uint8_t salt[20], uint8_t out[20])
{
	uint8_t h1[20], h2[20], h3[20];
	tc_sha1(pass, strlen(pass), NULL, 0, h1);
	tc_sha1(h1, 20, NULL, 0, h2);
	tc_sha1(salt, 20, h2, 20, h3);
	for (int i = 0; i < 20; i++)
		out[i] = h1[i] ^ h3[i];
}

/* tc_err_text copies a server ERR packet's message into err. */
static void tc_err_text(const uint8_t *p, size_t n, const char *what, char *err, size_t cap)
{
	unsigned code = n >= 3 ? (unsigned)(p[1] | p[2] << 8) : 0;
	size_t off = (n > 9 && p[3] == '#') ? 9 : 3;
	int mlen = n > off ? (int)(n - off) : 0;
	snprintf(err, cap, "%s: server error %u: %.*s", what, code, mlen, (const char *)p + off);
}

/* tc_tls_start: SSL request (seq 1), then the TLS handshake, offering *saved if set. */
static int tc_tls_start(tc_worker_t *w, tc_conn_t *c, uint32_t caps, SSL_SESSION *saved, char *err,
                        size_t cap)
{
	uint8_t req[32] = {0};
	tc_put4(req, caps);
	tc_put4(req + 4, TC_MAX_PACKET);
	req[8] = TC_CHARSET_UTF8MB4;
	if (tc_write_packet(c, req, sizeof(req), 1) != 0) {
		snprintf(err, cap, "SSL request: %s", strerror(errno));
		return -1;
	}
	c->ssl = SSL_new(w->o->ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1) {
		snprintf(err, cap, "SSL_new failed");
		return -1;
	}
	SSL_set_tlsext_host_name(c->ssl, "127.0.0.1");
	if (saved) {
		SSL_set_session(c->ssl, saved);
		w->offered++;
	}
	if (SSL_connect(c->ssl) != 1) {
		unsigned long e = ERR_get_error();
		char buf[160];
		ERR_error_string_n(e, buf, sizeof(buf));
		snprintf(err, cap, "TLS handshake: %s", e ? buf : "connection closed");
		ERR_clear_error();
		return -1;
	}
	if (SSL_session_reused(c->ssl))
		w->resumed++;
	snprintf(w->version, sizeof(w->version), "%s", SSL_get_version(c->ssl));
	snprintf(w->cipher, sizeof(w->cipher), "%s", SSL_get_cipher_name(c->ssl));
	return 0;
}

/* tc_login: greeting, [TLS], response, OK (following one auth switch to native). */
static int tc_login(tc_worker_t *w, tc_conn_t *c, SSL_SESSION *saved, char *err, size_t cap)
{
	uint8_t buf[16384];
	const tc_opts_t *o = w->o;
	size_t n = 0;
	uint8_t seq;
	if (tc_read_packet(c, buf, sizeof(buf), &n, &seq) != 0) {
		snprintf(err, cap, "greeting: connection closed or too long");
		return -1;
	}
	if (n > 0 && buf[0] == 0xff) {
		tc_err_text(buf, n, "greeting", err, cap);
		return -1;
	}
	/* protocol 10: version NUL, id 4, salt 8, filler, caps 2, charset, status 2, caps 2,
	 * salt length, 10 reserved, salt rest (12 + NUL), plugin NUL */
	const uint8_t *end = buf + n, *p = buf + 1;
	p = memchr(p, 0, (size_t)(end - p));
	if (buf[0] != 10 || !p || end - p < 1 + 4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10 + 12) {
		snprintf(err, cap, "greeting: not protocol 10");
		return -1;
	}
	p++;
	uint8_t salt[20];
	memcpy(salt, p + 4, 8);
	uint32_t srv_caps = (uint32_t)p[13] | (uint32_t)p[14] << 8 | (uint32_t)p[18] << 16 |
	                    (uint32_t)p[19] << 24;
	memcpy(salt + 8, p + 31, 12);
	uint32_t caps = TC_CLIENT_LONG_PASSWORD | TC_CLIENT_LONG_FLAG | TC_CLIENT_PROTOCOL_41 |
	                TC_CLIENT_TRANSACTIONS | TC_CLIENT_SECURE_CONNECTION |
	                TC_CLIENT_PLUGIN_AUTH;
	seq = 1;
	if (o->mode != TC_PLAIN) {
		if (!(srv_caps & TC_CLIENT_SSL)) {
			snprintf(err, cap, "greeting: the server does not offer TLS");
			return -1;
		}
		caps |= TC_CLIENT_SSL;
		if (tc_tls_start(w, c, caps, saved, err, cap) != 0)
			return -1;
		seq = 2;
	}
	uint8_t resp[256] = {0};
	size_t ulen = strlen(o->user);
	if (ulen > 100) {
		snprintf(err, cap, "user name too long");
		return -1;
	}
	tc_put4(resp, caps);
	tc_put4(resp + 4, TC_MAX_PACKET);
	resp[8] = TC_CHARSET_UTF8MB4;
	size_t k = 32;
	memcpy(resp + k, o->user, ulen + 1);
	k += ulen + 1;
	resp[k++] = 20;
	tc_scramble(o->pass, salt, resp + k);
	k += 20;
	memcpy(resp + k, "mysql_native_password", 22);
	k += 22;
	if (tc_write_packet(c, resp, k, seq) != 0) {
		snprintf(err, cap, "handshake response: write failed");
		return -1;
	}
	for (int round = 0; round < 2; round++) {
		if (tc_read_packet(c, buf, sizeof(buf), &n, &seq) != 0 || n == 0) {
			snprintf(err, cap, "login: connection closed");
			return -1;
		}
		if (buf[0] == 0x00)
			return 0;
		if (buf[0] == 0xff) {
			tc_err_text(buf, n, "login", err, cap);
			return -1;
		}
		/* auth switch: plugin NUL, 20 bytes of salt (+ NUL) */
		const uint8_t *pl = memchr(buf + 1, 0, n - 1);
		if (round || buf[0] != 0xfe || !pl ||
		    strcmp((const char *)buf + 1, "mysql_native_password") ||
		    (size_t)(buf + n - (pl + 1)) < 20) {
			snprintf(err, cap,
			         "login: unexpected packet 0x%02x (only mysql_native_password)",
			         buf[0]);
			return -1;
		}
		uint8_t sc[20];
		tc_scramble(o->pass, pl + 1, sc);
		if (tc_write_packet(c, sc, 20, (uint8_t)(seq + 1)) != 0) {
			snprintf(err, cap, "auth switch response: write failed");
			return -1;
		}
	}
	snprintf(err, cap, "login: no OK");
	return -1;
}

/* tc_select_one: COM_QUERY SELECT 1, read the result set (EOF-terminated), check the row. */
static int tc_select_one(tc_conn_t *c, char *err, size_t cap)
{
	static const uint8_t q[] = "\x03SELECT 1";
	uint8_t buf[1024];
	size_t n;
	uint8_t seq;
	if (tc_write_packet(c, q, sizeof(q) - 1, 0) != 0) {
		snprintf(err, cap, "query: write failed");
		return -1;
	}
	int eofs = 0, row_ok = 0;
	while (eofs < 2) {
		if (tc_read_packet(c, buf, sizeof(buf), &n, &seq) != 0 || n == 0) {
			snprintf(err, cap, "query: connection closed");
			return -1;
		}
		if (buf[0] == 0xff) {
			tc_err_text(buf, n, "query", err, cap);
			return -1;
		}
		if (buf[0] == 0xfe && n < 9)
			eofs++;
		else if (eofs == 1 && n == 2 && buf[0] == 1 && buf[1] == '1')
			row_ok = 1;
	}
	if (!row_ok) {
		snprintf(err, cap, "query: unexpected result");
		return -1;
	}
	return 0;
}

static int tc_connect(const tc_opts_t *o, char *err, size_t cap)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	if (fd < 0) {
		snprintf(err, cap, "socket: %s", strerror(errno));
		return -1;
	}
	struct timeval tv = {.tv_sec = 10};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&o->addr, sizeof(o->addr)) != 0) {
		snprintf(err, cap, "connect: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void *tc_worker_main(void *arg)
{
	tc_worker_t *w = arg;
	SSL_SESSION *saved = NULL;
	char err[200];
	while (!tc_past(&w->deadline)) {
		tc_conn_t c = {.fd = tc_connect(w->o, err, sizeof(err))};
		int rc = -1;
		if (c.fd >= 0 && tc_login(w, &c, saved, err, sizeof(err)) == 0 &&
		    tc_select_one(&c, err, sizeof(err)) == 0) {
			static const uint8_t quit = 0x01;
			rc = tc_write_packet(&c, &quit, 1, 0);
			if (rc != 0)
				snprintf(err, sizeof(err), "COM_QUIT: write failed");
		}
		if (c.ssl) {
			/* the newest session (TLS 1.3: the ticket read with the OK) for the next
			 * one */
			if (rc == 0 && w->o->mode == TC_RESUME) {
				SSL_SESSION *s = SSL_get1_session(c.ssl);
				if (saved)
					SSL_SESSION_free(saved);
				saved = s;
			}
			if (rc == 0)
				SSL_shutdown(
				        c.ssl); /* close_notify, so the session stays resumable */
			SSL_free(c.ssl);
		}
		if (c.fd >= 0)
			close(c.fd);
		if (rc == 0) {
			w->ok++;
		} else {
			w->errors++;
			snprintf(w->lasterr, sizeof(w->lasterr), "%s", err);
			ERR_clear_error();
			usleep(1000); /* a refusing target fails fast: do not spin on it */
		}
	}
	if (saved)
		SSL_SESSION_free(saved);
	OPENSSL_thread_stop();
	return NULL;
}

static void tc_usage(void)
{
	fprintf(stderr, "usage: tlschurn [-h HOST] [-P PORT] [-u USER] [-p PASS] "
	                "[-m plain|full|resume] [-V 1.2|1.3] [-C CAFILE] [-R] WORKERS SECONDS\n");
}

int main(int argc, char **argv)
{
	tc_opts_t o = {.user = "root", .pass = "", .mode = TC_FULL};
	const char *host = "127.0.0.1", *cafile = NULL, *ver = NULL, *mode = "full";
	unsigned port = 3306;
	int strict = 0, c;
	while ((c = getopt(argc, argv, "h:P:u:p:m:V:C:R")) != -1) {
		switch (c) {
		case 'h':
			host = optarg;
			break;
		case 'P':
			port = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'u':
			o.user = optarg;
			break;
		case 'p':
			o.pass = optarg;
			break;
		case 'm':
			mode = optarg;
			break;
		case 'V':
			ver = optarg;
			break;
		case 'C':
			cafile = optarg;
			break;
		case 'R':
			strict = 1;
			break;
		default:
			tc_usage();
			return 2;
		}
	}
	if (argc - optind != 2 || !strcmp(mode, "") ||
	    (strcmp(mode, "plain") && strcmp(mode, "full") && strcmp(mode, "resume")) ||
	    (ver && strcmp(ver, "1.2") && strcmp(ver, "1.3"))) {
		tc_usage();
		return 2;
	}
	o.mode = !strcmp(mode, "plain") ? TC_PLAIN : !strcmp(mode, "full") ? TC_FULL : TC_RESUME;
	int workers = atoi(argv[optind]), seconds = atoi(argv[optind + 1]);
	o.addr.sin_family = AF_INET;
	o.addr.sin_port = htons((uint16_t)port);
	if (workers <= 0 || seconds <= 0 || inet_pton(AF_INET, host, &o.addr.sin_addr) != 1) {
		tc_usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (o.mode != TC_PLAIN) {
		o.ctx = SSL_CTX_new(TLS_client_method());
		if (!o.ctx) {
			fprintf(stderr, "tlschurn: SSL_CTX_new failed\n");
			return 1;
		}
		if (ver) {
			int v = !strcmp(ver, "1.2") ? TLS1_2_VERSION : TLS1_3_VERSION;
			SSL_CTX_set_min_proto_version(o.ctx, v);
			SSL_CTX_set_max_proto_version(o.ctx, v);
		}
		if (cafile) {
			if (SSL_CTX_load_verify_locations(o.ctx, cafile, NULL) != 1) {
				fprintf(stderr, "tlschurn: cannot load CA file %s\n", cafile);
				return 1;
			}
			SSL_CTX_set_verify(o.ctx, SSL_VERIFY_PEER, NULL);
		}
	}
	tc_worker_t *ws = calloc((size_t)workers, sizeof(*ws));
	if (!ws) {
		fprintf(stderr, "tlschurn: out of memory\n");
		return 1;
	}
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += seconds;
	double t0 = tc_now();
	int started = 0;
	for (int i = 0; i < workers; i++) {
		ws[i].o = &o;
		ws[i].deadline = deadline;
		if (pthread_create(&ws[i].tid, NULL, tc_worker_main, &ws[i]) != 0)
			break;
		started++;
	}
	unsigned long ok = 0, errors = 0, resumed = 0, offered = 0;
	const char *lasterr = "", *version = "none", *cipher = "none";
	for (int i = 0; i < started; i++) {
		pthread_join(ws[i].tid, NULL);
		ok += ws[i].ok;
		errors += ws[i].errors;
		resumed += ws[i].resumed;
		offered += ws[i].offered;
		if (ws[i].lasterr[0])
			lasterr = ws[i].lasterr;
		if (ws[i].version[0]) {
			version = ws[i].version;
			cipher = ws[i].cipher;
		}
	}
	double elapsed = tc_now() - t0;
	printf("mode=%s workers=%d seconds=%.2f connects=%lu errors=%lu rate=%.1f offered=%lu "
	       "resumed=%lu version=%s cipher=%s\n",
	       mode, started, elapsed, ok, errors, elapsed > 0 ? (double)ok / elapsed : 0.0,
	       offered, resumed, version, cipher);
	fflush(stdout);
	if (lasterr[0])
		fprintf(stderr, "tlschurn: last error: %s\n", lasterr);
	int rc = started == workers && ok > 0 ? 0 : 1;
	if (o.mode == TC_FULL && resumed > 0) {
		fprintf(stderr, "tlschurn: %lu handshakes resumed in full mode\n", resumed);
		rc = 1;
	}
	if (strict && o.mode == TC_RESUME && (offered == 0 || resumed != offered)) {
		fprintf(stderr,
		        "tlschurn: resumption failed: %lu of %lu offered sessions resumed\n",
		        resumed, offered);
		rc = 1;
	}
	free(ws);
	if (o.ctx)
		SSL_CTX_free(o.ctx);
	return rc;
}
