/* http.h - the HTTP server on the proxy's loop: /metrics, /health, /status and admin POSTs. */
#ifndef GP_HTTP_H
#define GP_HTTP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ops/metrics.h"
#include "core/proxy.h"

/*
 * Requests are parsed by http-parser (keep-alive, pipelining), bounded in size
 * (GP_HTTP_MAX_HEAD bytes of request line + headers, GP_HTTP_MAX_BODY of body) and in
 * time (GP_HTTP_REQUEST_TIMEOUT_MS from the first byte to the last, GP_HTTP_IDLE_TIMEOUT_MS
 * between requests). Answers are built synchronously on the loop, so /health costs a
 * few microseconds whatever the proxy is relaying.
 *
 * GET needs no credentials. POST is allowed from the same host without a token, where
 * "same host" means the client's IP equals the local IP of the accepted socket (so
 * 127.0.0.2 -> 127.0.0.1 is another host). From other hosts POST needs
 * "Authorization: Bearer <http_admin_token>" (401 without or with a wrong one), and is
 * refused (403) when no token is configured.
 */

#define GP_HTTP_MAX_HEAD           8192       /* request line + headers */
#define GP_HTTP_MAX_BODY           65536      /* bodies are read and ignored */
#define GP_HTTP_REQUEST_TIMEOUT_MS 5000       /* first byte -> complete request */
#define GP_HTTP_IDLE_TIMEOUT_MS    30000      /* keep-alive connection without a request */
#define GP_HTTP_MAX_CONNS          256        /* more are closed at accept */
#define GP_HTTP_MAX_QUEUED         (4u << 20) /* unsent answers: stop reading beyond this */

typedef struct gp_http gp_http_t;

/* Listen on addr (HOST:PORT) on p's loop. */
GP_WUR gp_status_t gp_http_start(gp_proxy_t *p, const char *addr, gp_http_t **out);
/* Close the listener and every connection; h is freed once the last handle has closed. */
void gp_http_stop(gp_http_t *h);

/* Called for each (handler, code) pair that served requests, for /metrics. */
typedef void (*gp_http_count_fn)(void *arg, const char *handler, int code, uint64_t n);
void gp_http_each_count(const gp_http_t *h, gp_http_count_fn fn, void *arg);

/* The same-host rule above: peer's IP equals local's (IPv4-mapped IPv6 compares as IPv4). */
bool gp_http_same_host(const struct sockaddr *peer, const struct sockaddr *local);
/* Compare a presented token with the configured one in time independent of the contents. */
bool gp_http_token_equal(const char *given, const char *want);

/*
 * Socketless connections, for the fuzzer and tests: the same parser, limits, dispatch and
 * answers, with the answers appended to a buffer instead of written to a socket. Make the
 * server with gp_http_test_new (nothing listens; free it with gp_http_stop), open
 * connections on it, feed them bytes (n == 0: the client closed), run p->loop to let closed
 * connections go. A connection must not be used once feed returned false (it is closing).
 */
typedef struct http_conn gp_http_conn_t;
gp_http_t *gp_http_test_new(gp_proxy_t *p);
gp_http_conn_t *gp_http_test_open(gp_http_t *h, bool same_host, gp_strbuf_t *out);
bool gp_http_test_feed(gp_http_conn_t *c, const char *data, size_t n);
/* The connection's deadline passed (request or idle timeout). */
void gp_http_test_timeout(gp_http_conn_t *c);
void gp_http_test_close(gp_http_conn_t *c);

#endif
