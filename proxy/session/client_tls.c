/* client_tls.c - the client leg's TLS: switched on at an SSL request, its handshake's end. */
#include <stdio.h>

#include "net/tls.h"
#include "session/session.h"

gp_status_t gp_session_tls_build(const gp_config_t *cfg, struct gp_tls_ctx **out, char *err,
                                 size_t errlen)
{
	*out = NULL;
	if (cfg->tls_cert[0] == '\0')
		return GP_OK;
	gp_tls_opts_t o = {
	        .role = GP_TLS_SERVER,
	        .cert = cfg->tls_cert,
	        .key = cfg->tls_key,
	        .ca = cfg->tls_ca[0] ? cfg->tls_ca : NULL,
	        .ciphers = cfg->tls_ciphers[0] ? cfg->tls_ciphers : NULL,
	        .ciphersuites = cfg->tls_ciphersuites[0] ? cfg->tls_ciphersuites : NULL,
	};
	if (!gp_tls_version_parse(cfg->tls_min_version, &o.min_version)) {
		snprintf(err, errlen, "tls: unknown min_version");
		return GP_ECONFIG; /* the configuration's check lets only known ones through */
	}
	if (gp_tls_ctx_new(&o, out, err, errlen) != GP_OK)
		return GP_ECONFIG;
	gp_log(GP_LOG_INFO, "tls_ready", "cert=%s verify_clients=%d require=%d min=%s",
	       cfg->tls_cert, cfg->tls_ca[0] != '\0', cfg->tls_require, cfg->tls_min_version);
	return GP_OK;
}

gp_pkt_action_t gp_session_start_tls(gp_session_t *s)
{
	s->proxy->stats.tls_started++;
	if (gp_io_start_tls(&s->client, s->proxy->tls) != GP_OK) {
		gp_session_close(s, GP_CLOSE_OUT_OF_MEMORY);
		return GP_PKT_STOP;
	}
	return GP_PKT_STOP; /* what follows the SSL request is TLS: the engine takes it */
}

/* The client's TLS handshake ended: its handshake response follows inside, or it failed
 * (before the backend saw a word: closing finishes that connection as an unanswered one). */
void gp_session_tls_ready(gp_io_t *io, gp_status_t st)
{
	gp_session_t *s = io->owner;
	const gp_tls_conn_t *t = gp_io_tls_conn(io);
	if (st == GP_OK) {
		s->proxy->stats.tls_handshakes++;
		if (gp_tls_session_reused(t))
			s->proxy->stats.tls_resumed++;
		gp_slog(s, GP_LOG_DEBUG, "client_tls", "version=%s cipher=%s resumed=%d",
		        gp_tls_version(t), gp_tls_cipher(t), gp_tls_session_reused(t));
		return;
	}
	s->proxy->stats.tls_failed++;
	gp_slog(s, GP_LOG_WARN, "client_tls_failed", "error=\"%s\"",
	        st == GP_EPROTO && t ? gp_tls_reason(t) : gp_strerror(st));
	gp_session_close(s, st == GP_ECLOSED ? GP_CLOSE_CLIENT_CLOSED : GP_CLOSE_TLS_FAILED);
}
