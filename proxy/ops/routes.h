/* routes.h - the HTTP routes: /metrics, /health, /status, the admin POSTs. */
#ifndef GP_ROUTES_H
#define GP_ROUTES_H

#include "base/status.h"
#include "net/http.h"

/*
 * GET needs no credentials. POST is allowed from the same host without a token
 * (gp_http_same_host: loopback, or the client's IP equals the local IP of the accepted
 * socket). From other hosts POST needs "Authorization: Bearer <http_admin_token>" (401
 * without or with a wrong one), and is refused (403) when no token is configured.
 */

struct gp_proxy;

/* Serve the routes of p on an HTTP server listening on addr. */
GP_WUR gp_status_t gp_routes_start(struct gp_proxy *p, const char *addr, gp_http_t **out);
/* The request handler (arg: the gp_proxy_t), for gp_http_start and gp_http_test_new. */
void gp_routes_handle(void *arg, const gp_http_request_t *rq, gp_http_answer_t *a);

#endif
