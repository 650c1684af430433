/* https.h - the HTTP endpoint's TLS (http_tls): its context, built at start and at reload. */
#ifndef GP_HTTPS_H
#define GP_HTTPS_H

#include <stddef.h>

#include "base/config.h"
#include "base/status.h"

struct gp_tls_ctx;

/* The server context for http_listen from tls.cert/key/min_version/ciphers (*out NULL when
 * http_tls is off). No client certificates are asked for (tls.ca is the MySQL clients'):
 * the admin token authenticates POSTs. err names a file that does not load, never a key. */
GP_WUR gp_status_t gp_https_build(const gp_config_t *cfg, struct gp_tls_ctx **out, char *err,
                                  size_t errlen);

#endif
