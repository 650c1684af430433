/* backend_tls.c - the backend leg's TLS: the proxy is the node's client, greeting to login. */
#include <stdio.h>

#include "net/tls.h"
#include "session/handoff.h"
#include "session/session.h"

/*
 * tls.backend = on | verify. The node greets in clear (a greeting without CLIENT_SSL is
 * refused by the core: no silent downgrade); once the client has answered, the proxy sends
 * the node an SSL request of its own (seq 1, the caps of that answer), runs the handshake
 * with gp_io_connect_tls, and only then relays the client's answer, inside TLS. The client's
 * leg is independent (plain, TLS or compressed): the core renumbers the login by the
 * difference. Deferred greetings do the same from handoff.c. A backend connection in TLS
 * is never parked or handed to another client: its state lives in this io (handoff.c).
 */

gp_status_t gp_session_btls_build(const gp_config_t *cfg, struct gp_tls_ctx **out, char *err,
                                  size_t errlen)
{
	*out = NULL;
	int mode = gp_config_backend_tls(cfg);
	if (mode <= 0) {
		if (mode < 0)
			snprintf(err, errlen, "tls: unknown backend mode");
		return mode < 0 ? GP_ECONFIG : GP_OK; /* the configuration's check rules it out */
	}
	gp_tls_opts_t o = {
	        .role = GP_TLS_CLIENT,
	        .cert = cfg->tls_backend_cert[0] ? cfg->tls_backend_cert : NULL,
	        .key = cfg->tls_backend_key[0] ? cfg->tls_backend_key : NULL,
	        .ca = mode == 2 ? cfg->tls_backend_ca : NULL,
	        .verify = mode == 2 ? GP_TLS_VERIFY_NAME : GP_TLS_VERIFY_OFF,
	};
	if (gp_tls_ctx_new(&o, out, err, errlen) != GP_OK)
		return GP_ECONFIG;
	gp_log(GP_LOG_INFO, "backend_tls_ready", "mode=%s ca=%s client_cert=%s", cfg->tls_backend,
	       mode == 2 ? cfg->tls_backend_ca : "-",
	       cfg->tls_backend_cert[0] ? cfg->tls_backend_cert : "-");
	return GP_OK;
}

/* The handshake did not happen: the client, which has sent its answer, gets an ERR. */
static void btls_fail(gp_session_t *s, const char *why)
{
	char msg[256];
	s->proxy->stats.btls_failed++;
	gp_slog(s, GP_LOG_WARN, "backend_tls_failed", "error=\"%s\"", why);
	snprintf(msg, sizeof(msg), "galera-proxy: TLS to backend %s failed: %s",
	         gp_session_backend_name(s), why);
	/* the client's answer was its seq 1 (2 after an SSL request of its own) */
	gp_session_fail(s, s->core.tls ? 3 : 2, GP_ER_NOT_READY, "08S01", msg,
	                GP_CLOSE_BACKEND_TLS_FAILED);
}

gp_status_t gp_session_btls_connect(gp_session_t *s, const uint8_t *req, size_t n)
{
	gp_proxy_t *p = s->proxy;
	if (!p->btls)
		return GP_EINVAL; /* a reload turned tls.backend off since this session began */
	p->stats.btls_started++;
	gp_status_t st = gp_io_send(&s->server, req, n);
	if (st != GP_OK)
		return st;
	return gp_io_connect_tls(&s->server, p->btls, p->backends[s->backend].conf->host);
}

gp_pkt_action_t gp_session_btls_start(gp_session_t *s, const gp_core_out_t *o)
{
	gp_status_t st = gp_session_btls_connect(s, o->server, o->nserver);
	if (st != GP_OK) {
		btls_fail(s,
		          st == GP_EINVAL ? "tls.backend is off since a reload" : gp_strerror(st));
		return GP_PKT_STOP;
	}
	return GP_PKT_HOLD; /* the client's answer, relayed inside TLS from gp_session_btls_ready */
}

void gp_session_btls_ready(gp_io_t *io, gp_status_t st)
{
	gp_session_t *s = io->owner;
	const gp_tls_conn_t *t = gp_io_tls_conn(io);
	if (s->state == GP_SS_CLOSING)
		return;
	if (st != GP_OK) {
		btls_fail(s, st == GP_EPROTO && t ? gp_tls_reason(t) : gp_strerror(st));
		return;
	}
	s->proxy->stats.btls_handshakes++;
	if (gp_tls_session_reused(t))
		s->proxy->stats.btls_resumed++;
	gp_slog(s, GP_LOG_DEBUG, "backend_tls", "version=%s cipher=%s resumed=%d",
	        gp_tls_version(t), gp_tls_cipher(t), gp_tls_session_reused(t));
	gp_core_backend_tls_up(&s->core);
	if (gp_handoff_holds_response(s)) {
		/* deferred: the proxy answers the greeting itself, inside TLS now (seq 2) */
		if (gp_handoff_defer_send(s, 2) != GP_OK)
			btls_fail(s, "could not send the handshake response");
		return;
	}
	gp_io_resume(&s->client); /* the held answer goes on, renumbered (core_hsresp) */
}
