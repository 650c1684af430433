/* status.h - the read-only views of the proxy: GET /health, the /status document. */
#ifndef GP_OPS_STATUS_H
#define GP_OPS_STATUS_H

#include <jansson.h>
#include <stddef.h>

#include "core/proxy.h"

/* GET /health: 200 or 503, with a one-line reason in msg. */
int gp_status_health(const gp_proxy_t *p, char *msg, size_t cap);
/* GET /status: the JSON document (see test/integration-http/STATUS.md). */
json_t *gp_status_document(const gp_proxy_t *p);

#endif
