/* https.c - the HTTP endpoint's TLS (http_tls): its context, built at start and at reload. */
#include "ops/https.h"

#include <stdio.h>

#include "base/log.h"
#include "net/tls.h"

gp_status_t gp_https_build(const gp_config_t *cfg, struct gp_tls_ctx **out, char *err,
                           size_t errlen)
{
	*out = NULL;
	if (!cfg->top_http_tls)
		return GP_OK;
	gp_tls_opts_t o = {
	        .role = GP_TLS_SERVER,
	        .cert = cfg->tls_cert,
	        .key = cfg->tls_key,
	        .ciphers = cfg->tls_ciphers[0] ? cfg->tls_ciphers : NULL,
	        .ciphersuites = cfg->tls_ciphersuites[0] ? cfg->tls_ciphersuites : NULL,
	};
	if (!gp_tls_version_parse(cfg->tls_min_version, &o.min_version)) {
		snprintf(err, errlen, "tls: unknown min_version");
		return GP_ECONFIG;
	}
	if (gp_tls_ctx_new(&o, out, err, errlen) != GP_OK)
		return GP_ECONFIG;
	gp_log(GP_LOG_INFO, "https_ready", "cert=%s min=%s", cfg->tls_cert, cfg->tls_min_version);
	return GP_OK;
}
