/* http_client.c - one-shot HTTP GETs over the I/O engine (the VRRP peer's /status). */
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "net/http.h"
#include "net/io.h"
#include "net/tls.h"

struct gp_http_get {
	gp_io_t io;          /* the connection */
	http_parser parser;  /* response parser */
	char request[320];   /* the request line and headers */
	size_t request_len;  /* its length */
	gp_http_get_fn done; /* called once, unless cancelled */
	void *arg;           /* its argument */
	char *body;          /* response body (malloc'd, body_max bytes) */
	size_t body_len;     /* bytes in body */
	size_t body_max;     /* larger bodies fail the request */
	bool complete;       /* a whole response was parsed */
	bool finished;       /* done was called or the request cancelled */
	gp_tls_ctx_t *tls;   /* HTTPS: client-role context (a reference), or NULL */
	char peer[64];       /* the server's IP (TLS session key, logs) */
};

static int get_on_body(http_parser *hp, const char *at, size_t len)
{
	gp_http_get_t *g = hp->data;
	if (g->body_len + len > g->body_max)
		return 1;
	memcpy(g->body + g->body_len, at, len);
	g->body_len += len;
	return 0;
}

static int get_on_complete(http_parser *hp)
{
	gp_http_get_t *g = hp->data;
	g->complete = true;
	return 0;
}

static const http_parser_settings get_settings = {
        .on_body = get_on_body,
        .on_message_complete = get_on_complete,
};

/* Report once (ok: a whole response arrived) and close; g is freed when the io has closed. */
static void get_finish(gp_http_get_t *g)
{
	if (g->finished)
		return;
	g->finished = true;
	g->done(g->arg, g->complete, g->parser.status_code, g->body, g->body_len);
	gp_io_close(&g->io, false);
}

static void get_data(gp_io_t *io, const char *p, size_t n)
{
	gp_http_get_t *g = io->owner;
	if (g->finished)
		return;
	size_t used = http_parser_execute(&g->parser, &get_settings, p, n);
	if (used != n || g->complete)
		get_finish(g);
}

static void get_ended(gp_io_t *io, gp_status_t st)
{
	gp_http_get_t *g = io->owner;
	(void)st;
	if (g->finished)
		return;
	http_parser_execute(&g->parser, &get_settings, NULL, 0); /* EOF may end the body */
	get_finish(g);
}

static void get_closed(gp_io_t *io)
{
	gp_http_get_t *g = io->owner;
	gp_tls_ctx_unref(g->tls);
	free(g->body);
	free(g);
}

static void get_connected(gp_io_t *io, gp_status_t st)
{
	gp_http_get_t *g = io->owner;
	if (g->finished)
		return;
	if (st != GP_OK) {
		get_finish(g);
		return;
	}
	gp_io_tune(io);
	if (g->tls) {
		/* HTTPS: the request goes once the handshake is done (get_tls_ready) */
		if (gp_io_start_tls_stream(io, g->tls, g->peer) != GP_OK)
			get_finish(g);
		else
			gp_io_read(io, true);
		return;
	}
	if (gp_io_send(io, g->request, g->request_len) != GP_OK) {
		get_finish(g);
		return;
	}
	gp_io_read(io, true);
}

static void get_tls_ready(gp_io_t *io, gp_status_t st)
{
	gp_http_get_t *g = io->owner;
	if (g->finished)
		return;
	if (st == GP_OK && gp_io_send(io, g->request, g->request_len) == GP_OK)
		return;
	const gp_tls_conn_t *t = gp_io_tls_conn(io);
	gp_log(GP_LOG_DEBUG, "http_get_tls_failed", "server=%s error=\"%s\"", g->peer,
	       st == GP_EPROTO && t ? gp_tls_reason(t) : gp_strerror(st));
	get_finish(g);
}

static const gp_io_proto_t get_proto = {
        .ended = get_ended,
        .closed = get_closed,
        .connected = get_connected,
        .data = get_data,
        .tls_ready = get_tls_ready,
};

gp_status_t gp_http_get(uv_loop_t *loop, const struct sockaddr *addr, const char *path,
                        size_t body_max, gp_http_get_fn done, void *arg, gp_http_get_t **out)
{
	return gp_http_get_tls(loop, addr, path, body_max, NULL, done, arg, out);
}

gp_status_t gp_http_get_tls(uv_loop_t *loop, const struct sockaddr *addr, const char *path,
                            size_t body_max, struct gp_tls_ctx *tls, gp_http_get_fn done, void *arg,
                            gp_http_get_t **out)
{
	*out = NULL;
	char ip[64] = "?", host[68];
	if (addr->sa_family == AF_INET)
		uv_ip4_name((const struct sockaddr_in *)addr, ip, sizeof(ip));
	else if (addr->sa_family == AF_INET6)
		uv_ip6_name((const struct sockaddr_in6 *)addr, ip, sizeof(ip));
	snprintf(host, sizeof(host), addr->sa_family == AF_INET6 ? "[%s]" : "%s", ip);
	gp_http_get_t *g = calloc(1, sizeof(*g));
	if (!g)
		return GP_ENOMEM;
	int n = snprintf(g->request, sizeof(g->request),
	                 "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, host);
	g->body = malloc(body_max ? body_max : 1);
	if (n < 0 || (size_t)n >= sizeof(g->request) || !g->body) {
		free(g->body);
		free(g);
		return n < 0 || (size_t)n >= sizeof(g->request) ? GP_EINVAL : GP_ENOMEM;
	}
	g->request_len = (size_t)n;
	g->tls = tls ? gp_tls_ctx_ref(tls) : NULL;
	snprintf(g->peer, sizeof(g->peer), "%s", ip);
	g->body_max = body_max;
	g->done = done;
	g->arg = arg;
	http_parser_init(&g->parser, HTTP_RESPONSE);
	g->parser.data = g;
	gp_status_t st = gp_io_init(&g->io, loop, &get_proto, g);
	if (st != GP_OK) {
		gp_tls_ctx_unref(g->tls);
		free(g->body);
		free(g);
		return st;
	}
	st = gp_io_connect(&g->io, addr);
	if (st != GP_OK) {
		/* g (and its tls reference) goes in get_closed */
		g->finished = true; /* no report: the caller has the error */
		gp_io_close(&g->io, false);
		return st;
	}
	*out = g;
	return GP_OK;
}

void gp_http_get_cancel(gp_http_get_t *g)
{
	if (!g || g->finished)
		return;
	g->finished = true;
	gp_io_close(&g->io, false);
}
