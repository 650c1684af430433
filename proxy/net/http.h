/* http.h - HTTP/1.1 over the I/O engine (server: http.c, client: http_client.c). */
#ifndef GP_HTTP_H
#define GP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "base/status.h"
#include "base/strbuf.h"

/*
 * Server: requests are parsed by http-parser (keep-alive, pipelining), bounded in size
 * (GP_HTTP_MAX_HEAD bytes of request line + headers, GP_HTTP_MAX_BODY of body) and in
 * time (GP_HTTP_REQUEST_TIMEOUT_MS from the first byte to the last, GP_HTTP_IDLE_TIMEOUT_MS
 * between requests). Each complete request goes to the handler given at start, which fills
 * an answer synchronously on the loop (so /health costs a few microseconds whatever the
 * proxy is relaying); what the routes are is the handler's business (ops/routes.c).
 *
 * "Same host" (gp_http_same_host) means the client is on loopback or its IP equals the local
 * IP of the accepted socket (so 127.0.0.2 -> 127.0.0.1 is loopback, 10.0.0.2 -> 10.0.0.1 is
 * another host); the handler decides what it allows such a client.
 */

#define GP_HTTP_MAX_HEAD           8192       /* request line + headers */
#define GP_HTTP_MAX_BODY           65536      /* bodies are read and ignored */
#define GP_HTTP_REQUEST_TIMEOUT_MS 5000       /* first byte -> complete request */
#define GP_HTTP_IDLE_TIMEOUT_MS    30000      /* keep-alive connection without a request */
#define GP_HTTP_MAX_CONNS          256        /* more are closed at accept */
#define GP_HTTP_MAX_QUEUED         (4u << 20) /* unsent answers: stop reading beyond this */
#define GP_HTTP_AUTH_MAX           512        /* longer Authorization values are not kept */

typedef struct gp_http gp_http_t;

/* One parsed request, valid during the handler call. */
typedef struct gp_http_request {
	unsigned method;   /* enum http_method (HTTP_GET, HTTP_HEAD, HTTP_POST, ...) */
	const char *path;  /* request path (not NUL-terminated) */
	size_t path_len;   /* its length */
	const char *query; /* query string without '?' ("" if none) */
	size_t query_len;  /* its length */
	const char *auth;  /* Authorization value, NUL-terminated; NULL: absent or too long */
	bool same_host;    /* the client is on this host (see above) */
	const char *peer;  /* client IP, for logs */
} gp_http_request_t;

/* What the handler answers. body points into the storage below or at static text; the
 * server frees owned and sbuf once the answer is queued. */
typedef struct gp_http_answer {
	int code;            /* status */
	const char *ctype;   /* Content-Type */
	const char *extra;   /* extra header lines ("" or "X: y\r\n") */
	const char *body;    /* body */
	size_t body_len;     /* its length */
	const char *handler; /* name for the request counter (a string literal) */
	char *owned;         /* malloc'd body storage, or NULL */
	gp_strbuf_t sbuf;    /* or a strbuf body */
	char text[600];      /* or a short text body */
} gp_http_answer_t;

/* Fill a (code, ctype, extra, body, handler are preset to 0/"text/plain"/""/""/"other"). */
typedef void (*gp_http_handler_fn)(void *arg, const gp_http_request_t *rq, gp_http_answer_t *a);

/* Listen on addr (numeric HOST:PORT) on loop; each request goes to fn(arg, ...). */
GP_WUR gp_status_t gp_http_start(uv_loop_t *loop, const char *addr, gp_http_handler_fn fn,
                                 void *arg, gp_http_t **out);
/* Close the listener and every connection; h is freed once the last handle has closed. */
void gp_http_stop(gp_http_t *h);

/* HTTPS from the next connection on, with ctx (server role; a reference is taken), or
 * plain HTTP (NULL). Open connections keep what they began with. A client that does not
 * speak TLS fails the handshake and is closed, counted in gp_http_tls_counts. */
struct gp_tls_ctx;
void gp_http_set_tls(gp_http_t *h, struct gp_tls_ctx *ctx);
bool gp_http_tls(const gp_http_t *h);
void gp_http_tls_counts(const gp_http_t *h, uint64_t *ok, uint64_t *failed);

/* A plain-text answer with a static (or answer-owned) body. */
void gp_http_answer_text(gp_http_answer_t *a, int code, const char *text);

/* Called for each (handler, code) pair that served requests, for /metrics. */
typedef void (*gp_http_count_fn)(void *arg, const char *handler, int code, uint64_t n);
void gp_http_each_count(const gp_http_t *h, gp_http_count_fn fn, void *arg);

/* The same-host rule above: peer's IP equals local's (IPv4-mapped IPv6 compares as IPv4). */
bool gp_http_same_host(const struct sockaddr *peer, const struct sockaddr *local);
/* Compare a presented token with the configured one in time independent of the contents. */
bool gp_http_token_equal(const char *given, const char *want);

/*
 * Socketless connections, for the fuzzer and tests: the same parser, limits, handler and
 * answers, with the answers appended to a buffer instead of written to a socket. Make the
 * server with gp_http_test_new (nothing listens; free it with gp_http_stop), open
 * connections on it, feed them bytes (n == 0: the client closed), run the loop to let closed
 * connections go. A connection must not be used once feed returned false (it is closing).
 */
typedef struct http_conn gp_http_conn_t;
gp_http_t *gp_http_test_new(uv_loop_t *loop, gp_http_handler_fn fn, void *arg);
gp_http_conn_t *gp_http_test_open(gp_http_t *h, bool same_host, gp_strbuf_t *out);
bool gp_http_test_feed(gp_http_conn_t *c, const char *data, size_t n);
/* The connection's deadline passed (request or idle timeout). */
void gp_http_test_timeout(gp_http_conn_t *c);
void gp_http_test_close(gp_http_conn_t *c);

/*
 * Client: one GET with "Connection: close", its response read whole (body up to body_max
 * bytes). done is called exactly once, unless the request is cancelled first: ok when a
 * whole response arrived, with its status code and body (valid during the call only).
 */
typedef struct gp_http_get gp_http_get_t;
typedef void (*gp_http_get_fn)(void *arg, bool ok, int code, const char *body, size_t len);
/* Start it; on an error nothing is under way and done will not be called. */
GP_WUR gp_status_t gp_http_get(uv_loop_t *loop, const struct sockaddr *addr, const char *path,
                               size_t body_max, gp_http_get_fn done, void *arg,
                               gp_http_get_t **out);
/* The same over HTTPS with tls, a client-role context (NULL: plain HTTP). */
struct gp_tls_ctx;
GP_WUR gp_status_t gp_http_get_tls(uv_loop_t *loop, const struct sockaddr *addr, const char *path,
                                   size_t body_max, struct gp_tls_ctx *tls, gp_http_get_fn done,
                                   void *arg, gp_http_get_t **out);
/* Abandon it: done is not called; the connection closes and the request frees itself. */
void gp_http_get_cancel(gp_http_get_t *g);

#endif
