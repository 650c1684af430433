/* http.c - the HTTP/1.1 server over the I/O engine (its routes come from a handler). */
#include "net/http.h"

#include <arpa/inet.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/config.h"
#include "base/list.h"
#include "base/log.h"
#include "net/io.h"
#include "net/refuse.h"
#include "net/tls.h"

#define HTTP_BACKLOG    128
#define HTTP_URL_MAX    1024 /* longer URLs get 414 */
#define HTTP_FIELD_MAX  32   /* header names we care about are shorter */
#define HTTP_MAX_COUNTS 64   /* distinct (handler, code) pairs counted */

typedef struct http_count {
	const char *handler; /* string literal */
	int code;            /* HTTP status */
	uint64_t n;          /* requests */
} http_count_t;

struct gp_http {
	uv_loop_t *loop;                      /* where it runs */
	gp_http_handler_fn handler;           /* answers each request */
	void *handler_arg;                    /* its argument */
	uv_tcp_t listener;                    /* the http_listen socket */
	bool listener_open;                   /* listener not closed yet */
	gp_refuser_t refuser;                 /* closes connections beyond the limit */
	gp_list_t conns;                      /* open connections */
	size_t nconns;                        /* how many */
	bool stopping;                        /* gp_http_stop called: free when all closed */
	http_parser_settings settings;        /* parser callbacks, shared */
	http_count_t counts[HTTP_MAX_COUNTS]; /* requests by handler and code */
	size_t ncounts;                       /* entries in use */
	gp_tls_ctx_t *tls;                    /* HTTPS: new connections' context (NULL: HTTP) */
	uint64_t tls_ok;                      /* HTTPS handshakes that finished */
	uint64_t tls_failed;                  /* and that failed (plain HTTP to HTTPS, garbage) */
};

typedef struct http_conn {
	gp_list_t link;                  /* in http->conns */
	gp_http_t *http;                 /* server */
	gp_io_t io;                      /* the client socket (byte-stream mode) */
	uv_timer_t timer;                /* request or idle deadline */
	http_parser parser;              /* request parser */
	int open_handles;                /* io, timer */
	bool closing;                    /* conn_close called */
	bool same_host;                  /* loopback or own address (gp_http_same_host) */
	bool in_request;                 /* between message begin and complete */
	bool close_after;                /* close once the queued answers are written */
	size_t queued;                   /* answer bytes not written yet */
	int reject;                      /* answer this status instead of dispatching */
	size_t head_bytes;               /* request line + header bytes so far */
	size_t body_bytes;               /* body bytes so far */
	char url[HTTP_URL_MAX + 1];      /* request target */
	size_t url_len;                  /* its length */
	char field[HTTP_FIELD_MAX + 1];  /* header name being read */
	size_t field_len;                /* its length (> HTTP_FIELD_MAX: not one we want) */
	bool in_value;                   /* the parser is in a header value */
	bool value_is_auth;              /* that value is Authorization */
	char auth[GP_HTTP_AUTH_MAX + 1]; /* Authorization value */
	size_t auth_len;                 /* its length (> GP_HTTP_AUTH_MAX: too long) */
	uint64_t started_ns;             /* when the request began (debug log) */
	char peer[64];                   /* client IP (logs) */
	gp_strbuf_t *capture;            /* socketless (gp_http_test_open): answers go here */
} http_conn_t;

static void conn_close(http_conn_t *c);

/* ---- helpers ------------------------------------------------------------------------- */

bool gp_http_token_equal(const char *given, const char *want)
{
	size_t gl = strlen(given), wl = strlen(want);
	unsigned diff = gl != wl;
	/* Walk the whole configured token whatever was given: time depends on its length only. */
	for (size_t i = 0; i < wl; i++)
		diff |= (unsigned)(unsigned char)want[i] ^
		        (unsigned)(unsigned char)(i < gl ? given[i] : 0);
	return diff == 0 && wl > 0;
}

/* The address as 16 bytes (IPv4 as IPv4-mapped IPv6) so both families compare alike. */
static bool addr_bytes(const struct sockaddr *sa, uint8_t out[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (sa->sa_family == AF_INET) {
		memcpy(out, mapped, 12);
		memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return true;
	}
	return false;
}

/* Same host: the client is on loopback (127.0.0.0/8, ::1) or connects from the address it
 * reached the proxy on, i.e. one of the proxy's own addresses. */
bool gp_http_same_host(const struct sockaddr *peer, const struct sockaddr *local)
{
	static const uint8_t v4_loopback[13] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127};
	static const uint8_t v6_loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	uint8_t a[16], b[16];
	if (!addr_bytes(peer, a))
		return false;
	if (memcmp(a, v4_loopback, sizeof(v4_loopback)) == 0 ||
	    memcmp(a, v6_loopback, sizeof(v6_loopback)) == 0)
		return true;
	return addr_bytes(local, b) && memcmp(a, b, 16) == 0;
}

static void addr_name(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
	snprintf(buf, cap, "?");
	if (ss->ss_family == AF_INET)
		uv_ip4_name((const struct sockaddr_in *)ss, buf, cap);
	else if (ss->ss_family == AF_INET6)
		uv_ip6_name((const struct sockaddr_in6 *)ss, buf, cap);
}

static void count_request(gp_http_t *h, const char *handler, int code)
{
	for (size_t i = 0; i < h->ncounts; i++) {
		if (h->counts[i].code == code && !strcmp(h->counts[i].handler, handler)) {
			h->counts[i].n++;
			return;
		}
	}
	if (h->ncounts < HTTP_MAX_COUNTS)
		h->counts[h->ncounts++] = (http_count_t){handler, code, 1};
}

void gp_http_each_count(const gp_http_t *h, gp_http_count_fn fn, void *arg)
{
	for (size_t i = 0; i < h->ncounts; i++)
		fn(arg, h->counts[i].handler, h->counts[i].code, h->counts[i].n);
}

static const char *status_text(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 202:
		return "Accepted";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 413:
		return "Payload Too Large";
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Unknown";
	}
}

/* ---- writing ------------------------------------------------------------------------- */

static void conn_sent(gp_io_t *io, size_t len)
{
	http_conn_t *c = io->owner;
	c->queued -= len;
	if (!c->close_after && c->queued < GP_HTTP_MAX_QUEUED / 2)
		gp_io_read(&c->io, true);
}

static void conn_send(http_conn_t *c, const gp_http_answer_t *a, bool head_only)
{
	char hdr[512];
	int n = snprintf(hdr, sizeof(hdr),
	                 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	                 "Cache-Control: no-store\r\n%s%s\r\n",
	                 a->code, status_text(a->code), a->ctype, a->body_len, a->extra,
	                 c->close_after ? "Connection: close\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(hdr)) {
		conn_close(c);
		return;
	}
	size_t blen = head_only ? 0 : a->body_len;
	if (c->capture) {
		gp_strbuf_append(c->capture, hdr, (size_t)n);
		gp_strbuf_append(c->capture, a->body, blen);
		return;
	}
	struct iovec v[2] = {{.iov_base = hdr, .iov_len = (size_t)n},
	                     {.iov_base = (void *)a->body, .iov_len = blen}};
	if (gp_io_sendv(&c->io, v, 2) != GP_OK) {
		conn_close(c);
		return;
	}
	c->queued += (size_t)n + blen;
	if (c->queued >= GP_HTTP_MAX_QUEUED) {
		/* The client sends requests faster than it reads answers: wait for it. */
		gp_io_read(&c->io, false);
	}
}

void gp_http_answer_text(gp_http_answer_t *a, int code, const char *text)
{
	a->code = code;
	a->ctype = "text/plain; charset=utf-8";
	a->body = text;
	a->body_len = strlen(text);
}

/* ---- requests -------------------------------------------------------------------------- */

/* Parse the target and hand the request to the handler; a bad target is answered here. */
static void conn_dispatch(http_conn_t *c, gp_http_answer_t *a)
{
	struct http_parser_url u;
	http_parser_url_init(&u);
	if (http_parser_parse_url(c->url, c->url_len, 0, &u) != 0 ||
	    !(u.field_set & (1 << UF_PATH))) {
		gp_http_answer_text(a, 400, "bad request target\n");
		return;
	}
	bool has_q = u.field_set & (1 << UF_QUERY);
	gp_http_request_t rq = {
	        .method = c->parser.method,
	        .path = c->url + u.field_data[UF_PATH].off,
	        .path_len = u.field_data[UF_PATH].len,
	        .query = has_q ? c->url + u.field_data[UF_QUERY].off : "",
	        .query_len = has_q ? u.field_data[UF_QUERY].len : 0,
	        .auth = c->auth_len > 0 && c->auth_len <= GP_HTTP_AUTH_MAX ? c->auth : NULL,
	        .same_host = c->same_host,
	        .peer = c->peer,
	};
	c->http->handler(c->http->handler_arg, &rq, a);
}

static void conn_respond(http_conn_t *c)
{
	gp_http_answer_t a = {
	        .handler = "other", .extra = "", .ctype = "text/plain; charset=utf-8"};
	if (c->reject)
		gp_http_answer_text(&a, c->reject, "request rejected\n");
	else
		conn_dispatch(c, &a);
	count_request(c->http, a.handler, a.code);
	if (gp_log_enabled(GP_LOG_DEBUG))
		gp_log(GP_LOG_DEBUG, "http_request",
		       "client=%s method=%s handler=%s code=%d us=%llu", c->peer,
		       http_method_str((enum http_method)c->parser.method), a.handler, a.code,
		       (unsigned long long)((uv_hrtime() - c->started_ns) / 1000));
	/* A rejected request (bad syntax, too large, timed out) is not a HEAD even if it began
	 * like one: its answer keeps the body its Content-Length announces. */
	conn_send(c, &a, !c->reject && c->parser.method == HTTP_HEAD);
	free(a.owned);
	gp_strbuf_free(&a.sbuf);
}

/* ---- parser callbacks ---------------------------------------------------------------- */

static void conn_arm(http_conn_t *c, uint64_t ms);

static int on_message_begin(http_parser *hp)
{
	http_conn_t *c = hp->data;
	c->in_request = true;
	c->reject = 0;
	c->head_bytes = c->body_bytes = 0;
	c->url_len = c->field_len = c->auth_len = 0;
	c->in_value = c->value_is_auth = false;
	c->started_ns = uv_hrtime();
	conn_arm(c, GP_HTTP_REQUEST_TIMEOUT_MS);
	return 0;
}

static int head_grow(http_conn_t *c, size_t n)
{
	c->head_bytes += n;
	if (c->head_bytes > GP_HTTP_MAX_HEAD) {
		c->reject = 431;
		return 1; /* stops the parser: answered and closed by conn_feed */
	}
	return 0;
}

static int on_url(http_parser *hp, const char *at, size_t n)
{
	http_conn_t *c = hp->data;
	if (head_grow(c, n))
		return 1;
	if (c->url_len + n > HTTP_URL_MAX) {
		c->reject = 414;
		return 1;
	}
	memcpy(c->url + c->url_len, at, n);
	c->url_len += n;
	c->url[c->url_len] = '\0';
	return 0;
}

static int on_header_field(http_parser *hp, const char *at, size_t n)
{
	http_conn_t *c = hp->data;
	if (head_grow(c, n))
		return 1;
	if (c->in_value) {
		/* a new header begins */
		c->in_value = false;
		c->field_len = 0;
	}
	if (c->field_len + n <= HTTP_FIELD_MAX)
		memcpy(c->field + c->field_len, at, n);
	c->field_len += n;
	return 0;
}

static int on_header_value(http_parser *hp, const char *at, size_t n)
{
	http_conn_t *c = hp->data;
	if (head_grow(c, n))
		return 1;
	if (!c->in_value) {
		c->in_value = true;
		c->value_is_auth =
		        c->field_len == 13 && !strncasecmp(c->field, "Authorization", 13);
		if (c->value_is_auth)
			c->auth_len = 0;
	}
	if (!c->value_is_auth)
		return 0;
	if (c->auth_len + n <= GP_HTTP_AUTH_MAX)
		memcpy(c->auth + c->auth_len, at, n);
	c->auth_len += n;
	if (c->auth_len <= GP_HTTP_AUTH_MAX)
		c->auth[c->auth_len] = '\0';
	return 0;
}

static int on_body(http_parser *hp, const char *at, size_t n)
{
	http_conn_t *c = hp->data;
	(void)at;
	c->body_bytes += n;
	if (c->body_bytes > GP_HTTP_MAX_BODY) {
		c->reject = 413;
		return 1;
	}
	return 0;
}

static int on_message_complete(http_parser *hp)
{
	http_conn_t *c = hp->data;
	c->in_request = false;
	if (!http_should_keep_alive(hp))
		c->close_after = true;
	conn_respond(c);
	if (c->closing || c->close_after) {
		http_parser_pause(hp, 1); /* nothing after this answer is read */
		return 0;
	}
	conn_arm(c, GP_HTTP_IDLE_TIMEOUT_MS);
	return 0;
}

/* ---- connection ---------------------------------------------------------------------- */

static void http_maybe_free(gp_http_t *h)
{
	if (h->stopping && !h->listener_open && h->nconns == 0 && gp_refuse_idle(&h->refuser)) {
		gp_tls_ctx_unref(h->tls);
		free(h);
	}
}

static void on_refuser_idle(gp_refuser_t *r)
{
	http_maybe_free(gp_container_of(r, gp_http_t, refuser));
}

static void conn_handle_gone(http_conn_t *c)
{
	if (--c->open_handles > 0)
		return;
	gp_http_t *h = c->http;
	gp_list_del(&c->link);
	h->nconns--;
	explicit_bzero(c->auth, sizeof(c->auth)); /* a right token is the secret itself */
	free(c);
	http_maybe_free(h);
}

static void on_timer_closed(uv_handle_t *hd)
{
	conn_handle_gone(hd->data);
}

static void conn_stop_timer(http_conn_t *c)
{
	c->closing = true;
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

static void conn_io_closed(gp_io_t *io)
{
	http_conn_t *c = io->owner;
	if (!c->closing)
		conn_stop_timer(c); /* the io closed after its last answer (conn_finish) */
	conn_handle_gone(c);
}

static void conn_close(http_conn_t *c)
{
	if (c->closing)
		return;
	conn_stop_timer(c);
	gp_io_close(&c->io, false);
}

/* Read no more; close once the queued answers are written. */
static void conn_finish(http_conn_t *c)
{
	c->close_after = true;
	gp_io_read(&c->io, false);
	if (c->queued == 0)
		conn_close(c);
	else
		gp_io_close(&c->io, true);
}

static void on_conn_timer(uv_timer_t *t)
{
	http_conn_t *c = t->data;
	const gp_tls_conn_t *tc = gp_io_tls_conn(&c->io);
	if (tc && !gp_tls_handshake_done(tc)) {
		/* HTTPS: the handshake did not finish within the request time-out */
		c->http->tls_failed++;
		gp_log(GP_LOG_WARN, "http_tls_failed", "client=%s error=\"handshake timeout\"",
		       c->peer);
		conn_close(c);
		return;
	}
	if (c->in_request && !c->close_after) {
		/* The request did not arrive in time: say so, then close. */
		c->close_after = true;
		c->reject = 408;
		conn_respond(c);
		if (!c->closing)
			conn_finish(c);
		return;
	}
	conn_close(c);
}

static void conn_arm(http_conn_t *c, uint64_t ms)
{
	if (!c->closing)
		uv_timer_start(&c->timer, on_conn_timer, ms, 0);
}

/* Feed bytes to the parser; answer errors and stop reading when the connection ends. */
static void conn_feed(http_conn_t *c, const char *data, size_t n)
{
	size_t done = http_parser_execute(&c->parser, &c->http->settings, data, n);
	enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
	if (c->closing)
		return;
	if (e == HPE_PAUSED || c->close_after) {
		/* an answer with Connection: close is queued; ignore the rest */
		conn_finish(c);
		return;
	}
	if (e != HPE_OK || done != n || c->parser.upgrade) {
		c->close_after = true;
		if (!c->reject)
			c->reject = 400;
		conn_respond(c);
		if (!c->closing)
			conn_finish(c);
	}
}

static void conn_data(gp_io_t *io, const char *p, size_t n)
{
	http_conn_t *c = io->owner;
	if (!c->closing)
		conn_feed(c, p, n);
}

/* EOF or error: finish what is queued, then close. */
static void conn_ended(gp_io_t *io, gp_status_t st)
{
	http_conn_t *c = io->owner;
	(void)st;
	if (!c->closing)
		conn_finish(c);
}

/* HTTPS: the handshake ended. A plain HTTP request (or anything but TLS) fails it and is
 * closed without an answer: the client sees the connection end, and it is counted. */
static void conn_tls_ready(gp_io_t *io, gp_status_t st)
{
	http_conn_t *c = io->owner;
	if (st == GP_OK) {
		c->http->tls_ok++;
		conn_arm(c, GP_HTTP_IDLE_TIMEOUT_MS);
		return;
	}
	c->http->tls_failed++;
	const gp_tls_conn_t *t = gp_io_tls_conn(io);
	gp_log(GP_LOG_WARN, "http_tls_failed", "client=%s error=\"%s\"", c->peer,
	       st == GP_EPROTO && t ? gp_tls_reason(t) : gp_strerror(st));
	conn_close(c);
}

static const gp_io_proto_t conn_proto = {
        .ended = conn_ended,
        .closed = conn_io_closed,
        .data = conn_data,
        .sent = conn_sent,
        .tls_ready = conn_tls_ready,
};

/* A connection on h with its io and timer initialised and listed; NULL if out of memory. */
static http_conn_t *conn_new(gp_http_t *h)
{
	http_conn_t *c = calloc(1, sizeof(*c));
	if (!c || gp_io_init(&c->io, h->loop, &conn_proto, c) != GP_OK) {
		free(c);
		return NULL;
	}
	c->http = h;
	uv_timer_init(h->loop, &c->timer);
	c->timer.data = c;
	c->open_handles = 2;
	gp_list_append(&h->conns, &c->link);
	h->nconns++;
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	return c;
}

static void on_accept(uv_stream_t *l, int status)
{
	gp_http_t *h = l->data;
	if (status < 0)
		return; /* nothing is pending (libuv has already dealt with EMFILE) */
	/* Whatever cannot be served is accepted and closed: a listener with a connection
	 * pending is not polled, and the descriptor would stay open. */
	if (h->nconns >= GP_HTTP_MAX_CONNS) {
		gp_log(GP_LOG_WARN, "http_conn_limit", "limit=%d", GP_HTTP_MAX_CONNS);
		gp_refuse(&h->refuser, l);
		return;
	}
	http_conn_t *c = conn_new(h);
	if (!c) {
		gp_log(GP_LOG_ERROR, "http_refused", "reason=out_of_memory");
		gp_refuse(&h->refuser, l);
		return;
	}
	if (gp_io_accept(&c->io, l) != GP_OK) {
		conn_close(c);
		return;
	}
	gp_io_tune(&c->io);
	struct sockaddr_storage peer, local;
	if (gp_io_addr(&c->io, false, &peer) == GP_OK &&
	    gp_io_addr(&c->io, true, &local) == GP_OK) {
		c->same_host =
		        gp_http_same_host((struct sockaddr *)&peer, (struct sockaddr *)&local);
		addr_name(&peer, c->peer, sizeof(c->peer));
	} else {
		snprintf(c->peer, sizeof(c->peer), "?");
	}
	/* HTTPS: the handshake must finish within the request time-out (on_conn_timer). */
	conn_arm(c, h->tls ? GP_HTTP_REQUEST_TIMEOUT_MS : GP_HTTP_IDLE_TIMEOUT_MS);
	if (h->tls && gp_io_start_tls_stream(&c->io, h->tls, NULL) != GP_OK) {
		conn_close(c);
		return;
	}
	gp_io_read(&c->io, true);
}

/* ---- start / stop --------------------------------------------------------------------- */

static gp_status_t http_resolve(const char *addr, struct sockaddr_storage *ss)
{
	char host[GP_ADDR_MAX];
	uint16_t port;
	memset(ss, 0, sizeof(*ss));
	if (gp_config_split_addr(addr, host, sizeof(host), &port) != GP_OK)
		return GP_EINVAL;
	if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0 ||
	    uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0)
		return GP_OK;
	return GP_EINVAL; /* http_listen takes a numeric address */
}

/* The server without a socket: parser settings, connection list, an unbound listener. */
static gp_http_t *http_new(uv_loop_t *loop, gp_http_handler_fn fn, void *arg)
{
	gp_http_t *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->loop = loop;
	h->handler = fn;
	h->handler_arg = arg;
	h->refuser.on_idle = on_refuser_idle;
	gp_list_init(&h->conns);
	h->settings.on_message_begin = on_message_begin;
	h->settings.on_url = on_url;
	h->settings.on_header_field = on_header_field;
	h->settings.on_header_value = on_header_value;
	h->settings.on_body = on_body;
	h->settings.on_message_complete = on_message_complete;
	uv_tcp_init(loop, &h->listener);
	h->listener.data = h;
	h->listener_open = true;
	return h;
}

gp_status_t gp_http_start(uv_loop_t *loop, const char *addr, gp_http_handler_fn fn, void *arg,
                          gp_http_t **out)
{
	struct sockaddr_storage ss;
	*out = NULL;
	if (http_resolve(addr, &ss) != GP_OK) {
		gp_log(GP_LOG_ERROR, "listen_failed", "endpoint=http address=%s error=bad_address",
		       addr);
		return GP_EINVAL;
	}
	gp_http_t *h = http_new(loop, fn, arg);
	if (!h)
		return GP_ENOMEM;
	*out = h;
	int r = uv_tcp_bind(&h->listener, (const struct sockaddr *)&ss, 0);
	if (r == 0)
		r = uv_listen((uv_stream_t *)&h->listener, HTTP_BACKLOG, on_accept);
	if (r < 0) {
		gp_log(GP_LOG_ERROR, "listen_failed", "endpoint=http address=%s error=\"%s\"", addr,
		       uv_strerror(r));
		return gp_status_from_uv(r); /* the caller stops h */
	}
	gp_log(GP_LOG_INFO, "listen", "endpoint=http address=%s", addr);
	return GP_OK;
}

static void on_listener_closed(uv_handle_t *hd)
{
	gp_http_t *h = hd->data;
	h->listener_open = false;
	http_maybe_free(h);
}

void gp_http_stop(gp_http_t *h)
{
	if (!h || h->stopping)
		return;
	h->stopping = true;
	gp_list_t *pos, *tmp;
	gp_list_each_safe(pos, tmp, &h->conns)
	{
		conn_close(gp_container_of(pos, http_conn_t, link));
	}
	uv_close((uv_handle_t *)&h->listener, on_listener_closed);
}

void gp_http_set_tls(gp_http_t *h, struct gp_tls_ctx *ctx)
{
	gp_tls_ctx_t *old = h->tls;
	h->tls = ctx ? gp_tls_ctx_ref(ctx) : NULL;
	gp_tls_ctx_unref(old); /* open connections hold their own reference */
}

bool gp_http_tls(const gp_http_t *h)
{
	return h->tls != NULL;
}

void gp_http_tls_counts(const gp_http_t *h, uint64_t *ok, uint64_t *failed)
{
	*ok = h->tls_ok;
	*failed = h->tls_failed;
}

/* ---- socketless connections (fuzzing, tests) ------------------------------------------ */

gp_http_t *gp_http_test_new(uv_loop_t *loop, gp_http_handler_fn fn, void *arg)
{
	return http_new(loop, fn, arg);
}

gp_http_conn_t *gp_http_test_open(gp_http_t *h, bool same_host, gp_strbuf_t *out)
{
	http_conn_t *c = conn_new(h);
	if (!c)
		return NULL;
	c->capture = out;
	c->same_host = same_host;
	snprintf(c->peer, sizeof(c->peer), "test");
	conn_arm(c, GP_HTTP_IDLE_TIMEOUT_MS);
	return c;
}

bool gp_http_test_feed(gp_http_conn_t *c, const char *data, size_t n)
{
	if (c->closing)
		return false;
	if (n == 0)
		conn_ended(&c->io, GP_ECLOSED); /* the client closed */
	else
		conn_feed(c, data, n);
	return !c->closing;
}

void gp_http_test_timeout(gp_http_conn_t *c)
{
	if (!c->closing)
		on_conn_timer(&c->timer);
}

void gp_http_test_close(gp_http_conn_t *c)
{
	conn_close(c);
}
