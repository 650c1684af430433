/* routes.c - the HTTP routes: /metrics, /health, /status, the admin POSTs. */
#include "ops/routes.h"

#include <http_parser.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "core/proxy.h"
#include "ops/admin.h"
#include "ops/status.h"
#include "ops/metrics.h"

/* Value of key in a query string ("a=1&b=2"), copied into buf; NULL if absent. */
static const char *query_get(const char *q, size_t qlen, const char *key, char *buf, size_t cap)
{
	size_t klen = strlen(key), i = 0;
	while (i < qlen) {
		size_t end = i;
		while (end < qlen && q[end] != '&')
			end++;
		if (end - i > klen && !memcmp(q + i, key, klen) && q[i + klen] == '=') {
			size_t vlen = end - i - klen - 1;
			if (vlen >= cap)
				return NULL;
			memcpy(buf, q + i + klen + 1, vlen);
			buf[vlen] = '\0';
			return buf;
		}
		if (end - i == klen && !memcmp(q + i, key, klen)) {
			buf[0] = '\0';
			return buf;
		}
		i = end + 1;
	}
	return NULL;
}

/* POST rule: same host, or a valid bearer token; 0 if allowed, else the status to answer. */
static int routes_authorize(const gp_proxy_t *p, const gp_http_request_t *rq)
{
	if (rq->same_host)
		return 0;
	const char *want = p->cfg->top_http_admin_token;
	if (!want || !want[0])
		return 403;
	if (!rq->auth || strlen(rq->auth) < 7 || strncasecmp(rq->auth, "Bearer ", 7))
		return 401;
	const char *tok = rq->auth + 7;
	while (*tok == ' ')
		tok++;
	return gp_http_token_equal(tok, want) ? 0 : 401;
}

static void answer_json(gp_http_answer_t *a, int code, json_t *j)
{
	a->code = code;
	a->ctype = "application/json";
	a->owned = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	json_decref(j);
	if (!a->owned) {
		gp_http_answer_text(a, 500, "out of memory\n");
		return;
	}
	a->body = a->owned;
	a->body_len = strlen(a->owned);
}

static void routes_post(gp_proxy_t *p, const gp_http_request_t *rq, gp_http_answer_t *a)
{
	const char *path = rq->path, *q = rq->query, *peer = rq->peer;
	size_t plen = rq->path_len, qlen = rq->query_len;
	char val[64], name[GP_NAME_MAX];
	json_t *body = NULL;
	int code;
	static const char bprefix[] = "/backends/";
	if (plen == 7 && !memcmp(path, "/reload", 7)) {
		a->handler = "reload";
		code = gp_admin_reload_http(p, peer, &body);
	} else if (plen == 5 && !memcmp(path, "/vrrp", 5)) {
		a->handler = "vrrp";
		code = gp_admin_vrrp(p, query_get(q, qlen, "state", val, sizeof(val)), peer, &body);
	} else {
		/* /backends/NAME/maintenance or /backends/NAME/drain */
		const char *slash = NULL;
		size_t pre = sizeof(bprefix) - 1;
		if (plen > pre && !memcmp(path, bprefix, pre))
			slash = memchr(path + pre, '/', plen - pre);
		size_t nlen = slash ? (size_t)(slash - path) - pre : 0;
		const char *action = slash ? slash + 1 : "";
		size_t alen = slash ? plen - (size_t)(action - path) : 0;
		if (!slash || nlen == 0 || nlen >= sizeof(name)) {
			a->handler = "other";
			gp_http_answer_text(a, 404, "not found\n");
			return;
		}
		memcpy(name, path + pre, nlen);
		name[nlen] = '\0';
		if (alen == 11 && !memcmp(action, "maintenance", 11)) {
			a->handler = "maintenance";
			code = gp_admin_maintenance(
			        p, name, query_get(q, qlen, "on", val, sizeof(val)), peer, &body);
		} else if (alen == 5 && !memcmp(action, "drain", 5)) {
			a->handler = "drain";
			code = gp_admin_drain(p, name, peer, &body);
		} else {
			a->handler = "other";
			gp_http_answer_text(a, 404, "not found\n");
			return;
		}
	}
	answer_json(a, code, body);
}

static bool is_post_path(const char *path, size_t plen)
{
	return (plen == 7 && !memcmp(path, "/reload", 7)) ||
	       (plen == 5 && !memcmp(path, "/vrrp", 5)) ||
	       (plen > 10 && !memcmp(path, "/backends/", 10));
}

void gp_routes_handle(void *arg, const gp_http_request_t *rq, gp_http_answer_t *a)
{
	gp_proxy_t *p = arg;
	const char *path = rq->path, *peer = rq->peer;
	size_t plen = rq->path_len;
	unsigned m = rq->method;
	bool get = m == HTTP_GET || m == HTTP_HEAD;

	if (plen == 8 && !memcmp(path, "/metrics", 8)) {
		a->handler = "metrics";
		if (!get)
			goto not_allowed_get;
		gp_metrics_write(p, &a->sbuf);
		if (a->sbuf.failed) {
			gp_http_answer_text(a, 500, "out of memory\n");
			return;
		}
		a->code = 200;
		a->ctype = "text/plain; version=0.0.4; charset=utf-8";
		a->body = a->sbuf.data ? a->sbuf.data : "";
		a->body_len = a->sbuf.len;
		return;
	}
	if (plen == 7 && !memcmp(path, "/health", 7)) {
		a->handler = "health";
		if (!get)
			goto not_allowed_get;
		char msg[sizeof(a->text) - 1];
		int code = gp_status_health(p, msg, sizeof(msg));
		snprintf(a->text, sizeof(a->text), "%s\n", msg);
		gp_http_answer_text(a, code, a->text);
		return;
	}
	if (plen == 7 && !memcmp(path, "/status", 7)) {
		a->handler = "status";
		if (!get)
			goto not_allowed_get;
		answer_json(a, 200, gp_status_document(p));
		return;
	}
	if (!is_post_path(path, plen)) {
		gp_http_answer_text(a, 404, "not found\n");
		return;
	}
	if (m != HTTP_POST) {
		a->extra = "Allow: POST\r\n";
		gp_http_answer_text(a, 405, "method not allowed\n");
		return;
	}
	int deny = routes_authorize(p, rq);
	if (deny) {
		gp_log(GP_LOG_WARN, "http_denied", "client=%s code=%d reason=%s", peer, deny,
		       deny == 403 ? "no_token_configured" : "bad_or_missing_token");
		a->handler = "denied";
		if (deny == 401)
			a->extra = "WWW-Authenticate: Bearer realm=\"galera-proxy\"\r\n";
		gp_http_answer_text(a, deny,
		                    deny == 401 ? "unauthorized\n"
		                                : "forbidden: no token configured\n");
		return;
	}
	routes_post(p, rq, a);
	return;
not_allowed_get:
	a->extra = "Allow: GET, HEAD\r\n";
	gp_http_answer_text(a, 405, "method not allowed\n");
}

gp_status_t gp_routes_start(gp_proxy_t *p, const char *addr, gp_http_t **out)
{
	return gp_http_start(p->loop, addr, gp_routes_handle, p, out);
}
