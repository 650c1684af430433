/* core.c - the session protocol as a state machine: packets or events in, actions out. */
#include "session/core.h"

#include "codec/myp_login.h"

#include <stdio.h>
#include <string.h>

/* A log line through the glue (which names the session); nothing without a hook. */
static void core_log(const gp_core_t *c, gp_log_level_t lvl, const char *event, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));

static void core_log(const gp_core_t *c, gp_log_level_t lvl, const char *event, const char *fmt,
                     ...)
{
	if (!gp_log_enabled(lvl) || !c->env || !c->env->log)
		return;
	va_list ap;
	va_start(ap, fmt);
	c->env->log(c, lvl, event, fmt, ap);
	va_end(ap);
}

void gp_core_init(gp_core_t *c, const gp_core_env_t *env, uint32_t conn_id, bool ro)
{
	memset(c, 0, sizeof(*c));
	c->env = env;
	c->conn_id = conn_id;
	c->ro = ro;
	c->phase = GP_CORE_GREETING;
	c->close_after_relay = GP_CLOSE_NONE;
	c->kill.phase = GP_KILL_IDLE;
}

void gp_core_release(gp_core_t *c)
{
	gp_learn_wipe(&c->learn);
	gp_sstate_release(&c->st);
	gp_kill_login_clear(&c->login);
	gp_kill_login_clear(&c->login_next);
}

void gp_core_defer(gp_core_t *c)
{
	c->deferred = true;
	c->phase = GP_CORE_HANDSHAKE;
}

/* Fail: an ERR of the proxy's own to the client, then close for why. */
static void core_fail(gp_core_out_t *out, uint8_t seq, uint16_t code, const char *sqlstate,
                      const char *msg, gp_close_t why)
{
	out->fail_code = code;
	out->fail_seq = seq;
	out->fail_state = sqlstate;
	out->fail_msg = msg;
	out->close = why;
}

void gp_core_answer(gp_core_t *c, uint8_t seq, uint16_t code, const char *sqlstate, const char *msg,
                    gp_core_out_t *out)
{
	myp_wbuf_t w;
	myp_wbuf_init(&w, out->client + out->nclient, sizeof(out->client) - out->nclient);
	if (code) {
		myp_err_build(&w, seq, c->caps ? c->caps : MYP_CLIENT_PROTOCOL_41, code, sqlstate,
		              msg);
	} else {
		/* the proxy's own OK reports no state change; a client that did not ask for
		 * tracking gets the format it negotiated */
		myp_ok_t ok = {.status = c->status & (uint16_t)~MYP_SERVER_SESSION_STATE_CHANGED};
		uint64_t caps =
		        c->untrack ? c->caps & ~(uint64_t)MYP_CLIENT_SESSION_TRACK : c->caps;
		myp_ok_build(&w, seq, caps, &ok);
	}
	if (w.failed) {
		core_log(c, GP_LOG_DEBUG, "send_err_failed", "code=%u error=\"%s\"", code,
		         gp_strerror(GP_ETOOBIG));
		if (!code)
			out->close = GP_CLOSE_CLIENT_ERROR;
		return;
	}
	out->nclient += (uint32_t)w.len;
}

/* Begin the proxy's own command, built in w (out.server): tracked, never relayed. */
static void core_internal(gp_core_t *c, const myp_wbuf_t *w, gp_core_out_t *out)
{
	if (w->failed) {
		core_log(c, GP_LOG_ERROR, "internal_send_failed", "error=\"%s\"",
		         gp_strerror(GP_ETOOBIG));
		out->close = GP_CLOSE_BACKEND_LOST;
		return;
	}
	out->nserver = (uint32_t)w->len;
	myp_resp_begin(&c->resp, c->caps, w->buf + MYP_HEADER_LEN, w->len - MYP_HEADER_LEN);
	c->in_flight = true;
	c->internal = true;
}

void gp_core_unsend(gp_core_t *c)
{
	c->in_flight = false;
	c->internal = false;
	c->internal_sync = false;
}

/* ---- the connection phase ------------------------------------------------------------ */

static gp_pkt_action_t core_greeting(gp_core_t *c, gp_pkt_t *pkt, gp_core_out_t *out)
{
	if (pkt->n > 0 && pkt->p[0] == 0xFF) {
		/* The server refused us (too many connections, host blocked): tell the client. */
		myp_err_t e;
		if (myp_err_parse(pkt->p, pkt->n, MYP_CLIENT_PROTOCOL_41, &e) == MYP_OK)
			core_log(c, GP_LOG_WARN, "backend_refused", "code=%u", e.code);
		out->ev |= GP_CORE_EV_REFUSED;
		c->close_after_relay = GP_CLOSE_BACKEND_REFUSED;
		return GP_PKT_FORWARD;
	}
	myp_greeting_t g;
	if (myp_greeting_parse(pkt->p, pkt->n, &g) != MYP_OK) {
		core_log(c, GP_LOG_ERROR, "backend_bad_greeting", "len=%u", pkt->len);
		out->ev |= GP_CORE_EV_BAD_GREETING;
		core_fail(out, 0, GP_ER_NOT_READY, "08S01",
		          "galera-proxy: backend sent an invalid greeting",
		          GP_CLOSE_BACKEND_PROTOCOL);
		return GP_PKT_DROP;
	}
	out->ev |= GP_CORE_EV_GREETED;
	if (c->backend_tls && !(g.caps & MYP_CLIENT_SSL)) {
		/* tls.backend promised TLS to the nodes: no silent downgrade to clear text. */
		core_log(c, GP_LOG_WARN, "backend_tls_unsupported", "caps=0x%llx",
		         (unsigned long long)g.caps);
		out->ev |= GP_CORE_EV_BAD_GREETING;
		core_fail(out, 0, GP_ER_NOT_READY, "08S01",
		          "galera-proxy: backend does not offer TLS (tls.backend is on)",
		          GP_CLOSE_BACKEND_TLS_FAILED);
		return GP_PKT_DROP;
	}
	if (c->deferred) {
		/* The client has its greeting (the proxy's): this one stays here. */
		out->ev |= GP_CORE_EV_DEFER_GREETING;
		out->g = g;
		return GP_PKT_DROP;
	}
	/* The client sees a proxy-wide id (a KILL of it is translated, see core_kill). */
	c->server_thread = g.conn_id;
	gp_learn_greeting(&c->learn, &g);
	/* Compression is the proxy's own to give the client: the backend's offer says the
	 * server side would accept it, and the client's leg ends in the proxy's I/O engine. */
	uint64_t mask = GP_CAPS_UNRELAYABLE;
	c->compress_offered = c->offer_compress && (g.caps & MYP_CLIENT_COMPRESS);
	if (c->compress_offered)
		mask &= ~(uint64_t)MYP_CLIENT_COMPRESS;
	myp_greeting_patch(pkt->p, pkt->n, &g, c->conn_id, mask);
	/* TLS ends in the proxy too: offered when configured, whatever the backend says. */
	if (c->offer_tls)
		myp_greeting_set_caps(pkt->p, pkt->n, &g, MYP_CLIENT_SSL);
	c->server_caps = g.caps & ~(uint64_t)GP_CAPS_UNRELAYABLE;
	c->phase = GP_CORE_HANDSHAKE;
	return GP_PKT_FORWARD;
}

void gp_core_defer_auth(gp_core_t *c, const myp_greeting_t *g, uint64_t caps)
{
	c->server_thread = g->conn_id;
	c->server_caps = g->caps & ~(uint64_t)GP_CAPS_UNRELAYABLE;
	c->caps = caps;
	/* handoff.c asked for tracking on the client's behalf if it did not */
	c->untrack = (caps & MYP_CLIENT_SESSION_TRACK) && !c->client_track;
	gp_learn_greeting(&c->learn, g);
	myp_resp_begin_auth(&c->resp, c->caps);
	c->in_flight = true;
	c->phase = GP_CORE_AUTH;
}

static gp_pkt_action_t core_hsresp(gp_core_t *c, gp_pkt_t *pkt, gp_core_out_t *out)
{
	myp_hsresp_t r;
	if (myp_hsresp_parse(pkt->p, pkt->n, &r) != MYP_OK) {
		core_log(c, GP_LOG_WARN, "client_bad_handshake", "len=%u", pkt->len);
		core_fail(out, (uint8_t)(pkt->seq + 1), GP_ER_HANDSHAKE, "08S01", "Bad handshake",
		          GP_CLOSE_BAD_HANDSHAKE);
		return GP_PKT_DROP;
	}
	if (r.ssl_request && c->offer_tls && !c->tls) {
		/* The client's TLS handshake follows this packet at once: the engine takes the
		 * bytes after it as ciphertext, and the real response comes inside, numbered one
		 * higher than the backend expects. */
		c->tls = true;
		c->seq_shift = 1;
		out->ev |= GP_CORE_EV_START_TLS;
		return GP_PKT_STOP;
	}
	if (r.ssl_request || ((r.caps & MYP_CLIENT_SSL) && !c->tls)) {
		core_fail(out, (uint8_t)(pkt->seq + 1), GP_ER_HANDSHAKE, "08S01",
		          "galera-proxy: TLS was not offered; connect without SSL",
		          GP_CLOSE_SSL_REQUESTED);
		return GP_PKT_DROP;
	}
	if (c->require_tls && !c->tls) {
		/* Word for word what MariaDB (10.11) answers a plain client under
		 * require_secure_transport: its access-denied error, not a TLS-specific one. */
		snprintf(out->msg, sizeof(out->msg),
		         "Access denied for user '%.*s'@'%s' (using password: %s)",
		         (int)(r.user_len < 32 ? r.user_len : 32), (const char *)r.user, c->host,
		         r.auth_len ? "YES" : "NO");
		core_log(c, GP_LOG_INFO, "client_tls_required", "user=%.*s",
		         (int)(r.user_len < 32 ? r.user_len : 32), (const char *)r.user);
		core_fail(out, (uint8_t)(pkt->seq + 1), GP_ER_ACCESS_DENIED, "28000", out->msg,
		          GP_CLOSE_TLS_REQUIRED);
		return GP_PKT_DROP;
	}
	/* A client that compresses though the greeting did not offer it (mysqlnd does) would
	 * send frames the proxy reads as packets: refuse it plainly at once, not hang. */
	if (((r.caps & MYP_CLIENT_COMPRESS) && !c->compress_offered) ||
	    (r.caps & MYP_CLIENT_ZSTD_COMPRESSION)) {
		core_fail(out, (uint8_t)(pkt->seq + 1), GP_ER_HANDSHAKE, "08S01",
		          "galera-proxy: compression was not offered; connect without it",
		          GP_CLOSE_COMPRESS_REQUESTED);
		return GP_PKT_DROP;
	}
	if (c->backend_tls && !c->btls_up && !c->deferred) {
		/* The backend's leg turns TLS before it sees the response: the proxy's SSL request
		 * (the server's seq 1) carries the caps the response will, and this packet comes
		 * back here (HOLD) once the handshake is done (gp_core_backend_tls_up). */
		myp_wbuf_t w;
		myp_wbuf_init(&w, out->server, sizeof(out->server));
		uint64_t ask = r.caps & ~(uint64_t)GP_CAPS_UNRELAYABLE;
		if (c->server_caps & MYP_CLIENT_SESSION_TRACK) /* as the response will (below) */
			ask |= MYP_CLIENT_SESSION_TRACK;
		myp_ssl_request_build(&w, 1, ask, r.max_packet, r.charset);
		if (w.failed) { /* 36 bytes into GP_CORE_OUT_MAX: cannot happen */
			out->close = GP_CLOSE_BACKEND_TLS_FAILED;
			return GP_PKT_STOP;
		}
		out->nserver = (uint32_t)w.len;
		out->ev |= GP_CORE_EV_BACKEND_TLS;
		return GP_PKT_HOLD;
	}
	c->compress = (r.caps & MYP_CLIENT_COMPRESS) != 0;
	gp_kill_login_set(&c->login, r.user, r.user_len, r.charset, true);
	gp_learn_hsresp(&c->learn, &r, c->deferred);
	c->client_track = (r.caps & MYP_CLIENT_SESSION_TRACK) != 0;
	gp_sstate_set_schema(&c->st, r.db, r.db ? r.db_len : 0);
	if (c->deferred) {
		/* The backend's greeting will be answered with it, not relayed. */
		out->ev |= GP_CORE_EV_DEFER_ANSWER;
		out->r = r;
		c->phase = GP_CORE_GREETING;
		return GP_PKT_DROP;
	}
	myp_hsresp_clear_caps(pkt->p, pkt->n, GP_CAPS_UNRELAYABLE);
	if (c->btls_up) /* as in the SSL request the server saw */
		myp_hsresp_set_caps(pkt->p, pkt->n, MYP_CLIENT_SSL);
	pkt->seq = (uint8_t)(pkt->seq - c->seq_shift);
	c->caps = (r.caps & c->server_caps) | (r.caps & MYP_CLIENT_PROTOCOL_41);
	/* Track every session the server can track (state.h); the client sees none of it. */
	if (!c->client_track && (c->server_caps & MYP_CLIENT_SESSION_TRACK) &&
	    myp_hsresp_add_caps(pkt->p, pkt->n, MYP_CLIENT_SESSION_TRACK) == MYP_OK) {
		c->untrack = true;
		c->caps |= MYP_CLIENT_SESSION_TRACK;
	}
	myp_resp_begin_auth(&c->resp, c->caps);
	c->in_flight = true;
	c->phase = GP_CORE_AUTH;
	out->ev |= GP_CORE_EV_AUTH;
	return GP_PKT_FORWARD;
}

void gp_core_backend_tls_up(gp_core_t *c)
{
	c->btls_up = true;
	c->seq_shift = (uint8_t)(c->seq_shift - 1); /* the server counted our SSL request */
}

/* ---- commands --------------------------------------------------------------------------- */

static gp_pkt_action_t core_protocol_error(gp_core_t *c, const gp_pkt_t *pkt, gp_core_out_t *out)
{
	static const char *const phases[] = {"greeting", "handshake", "auth", "ready"};
	core_log(c, GP_LOG_WARN, "client_protocol_error", "state=%s len=%u", phases[c->phase],
	         pkt->len);
	out->close = GP_CLOSE_PROTOCOL_ERROR;
	return GP_PKT_STOP;
}

/* A COM_CHANGE_USER: the user the session has once the server accepts it. */
static void core_note_user(gp_core_t *c, const gp_pkt_t *pkt)
{
	myp_change_user_t cu;
	myp_status_t st = myp_change_user_parse(pkt->p, pkt->n, c->caps, &cu);
	if (st == MYP_EPROTO || !cu.user) {
		gp_kill_login_clear(&c->login_next); /* unknown: equal to none */
		return;
	}
	bool charset = st == MYP_OK && pkt->n == pkt->len && cu.has_charset;
	gp_kill_login_set(&c->login_next, cu.user, cu.user_len, charset ? cu.charset : 0, false);
}

/*
 * KILL [QUERY] <proxy id> (and COM_PROCESS_KILL): the client knows only proxy ids, so
 * translate to the target's backend thread. Same node: rewrite the statement in place and
 * relay it; the server decides. Another node: the glue decides as that one server would
 * (same login user name, or SUPER / CONNECTION ADMIN as the issuer's own server reports
 * them), then runs it there with the eviction account and answers itself. Ids below the
 * proxy range keep the server's meaning (SELECT CONNECTION_ID() + KILL) and go to this
 * session's node.
 */
static gp_pkt_action_t core_kill(gp_core_t *c, gp_pkt_t *pkt, gp_core_out_t *out)
{
	gp_kill_t k = {.hardsoft = ""};
	uint8_t cmd = pkt->p[0];
	uint32_t id32;
	bool is_query = cmd == MYP_COM_QUERY;
	if (cmd == MYP_COM_CHANGE_USER) {
		core_note_user(c, pkt);
		gp_learn_change_user(&c->learn, pkt->p, pkt->n, pkt->len, c->caps);
		return GP_PKT_FORWARD;
	}
	if (is_query) {
		if (pkt->n != pkt->len || !gp_kill_parse((const char *)pkt->p + 1, pkt->n - 1, &k))
			return GP_PKT_FORWARD;
	} else if (cmd == MYP_COM_PROCESS_KILL &&
	           myp_process_kill_parse(pkt->p, pkt->n, &id32) == MYP_OK) {
		k.id = id32;
	} else {
		return GP_PKT_FORWARD;
	}
	if (k.id > UINT32_MAX)
		return GP_PKT_FORWARD;
	gp_core_target_t t;
	uint8_t seq = (uint8_t)(pkt->seq + 1);
	if (k.id < GP_CONN_ID_BASE) {
		/* A server thread id: the server's own, unless a session moved off it (then
		 * that session, wherever it runs now: the id it showed its clients). */
		if (!c->env || !c->env->find_past || !c->env->find_past(c, k.id, &t))
			return GP_PKT_FORWARD;
	} else if (!c->env || !c->env->find || !c->env->find(c, k.id, &t)) {
		gp_core_answer(
		        c, seq, GP_ER_NO_SUCH_THREAD, "HY000",
		        gp_kill_message(out->msg, sizeof(out->msg), GP_ER_NO_SUCH_THREAD, k.id),
		        out);
		return GP_PKT_DROP;
	}
	core_log(c, GP_LOG_INFO, "kill", "target=%u target_backend=%s thread=%u query=%d",
	         t.conn_id, t.backend, t.thread, k.query);
	c->kill = (gp_kill_req_t){.k = k, .target = t.conn_id};
	if (t.same_node) {
		myp_status_t st = is_query ? myp_query_set_number(pkt->p, pkt->n, k.id_off,
		                                                  k.id_len, t.thread)
		                           : myp_process_kill_set_id(pkt->p, pkt->n, t.thread);
		if (st == MYP_OK) {
			c->kill.phase = GP_KILL_RELAYED;
			return GP_PKT_FORWARD;
		}
		/* the thread's digits do not fit where the id's were: ask from the side */
	}
	out->ev |= GP_CORE_EV_KILL_REMOTE;
	out->t = t;
	return GP_PKT_DROP;
}

/* A new command from an authenticated client. */
static gp_pkt_action_t core_command(gp_core_t *c, gp_pkt_t *pkt, gp_core_out_t *out)
{
	if (pkt->len == 0) {
		core_fail(out, (uint8_t)(pkt->seq + 1), GP_ER_HANDSHAKE, "08S01",
		          "galera-proxy: empty command packet", GP_CLOSE_PROTOCOL_ERROR);
		return GP_PKT_STOP;
	}
	uint8_t cmd = pkt->p[0];
	c->cmd_seq = pkt->seq;
	c->client_cont = pkt->len == MYP_MAX_PAYLOAD;
	out->ev |= GP_CORE_EV_COMMAND;
	out->cmd = cmd;
	switch (myp_cmd_kind(cmd)) {
	case MYP_CMDK_QUIT:
		out->close = GP_CLOSE_CLIENT_QUIT;
		return GP_PKT_STOP;
	case MYP_CMDK_UNSUPPORTED: {
		if (c->client_cont)
			return core_protocol_error(c, pkt, out);
		snprintf(out->msg, sizeof(out->msg),
		         "galera-proxy: command %s is not supported through the proxy",
		         myp_cmd_name(cmd));
		gp_core_answer(c, (uint8_t)(pkt->seq + 1), GP_ER_UNSUPPORTED, "42000", out->msg,
		               out);
		return GP_PKT_DROP;
	}
	case MYP_CMDK_NO_RESPONSE:
		return GP_PKT_FORWARD;
	case MYP_CMDK_RESPONSE:
		break;
	}
	gp_pkt_action_t kill = core_kill(c, pkt, out);
	if (kill != GP_PKT_FORWARD)
		return kill;
	gp_core_track_command(c, pkt);
	myp_resp_begin(&c->resp, c->caps, pkt->p, pkt->n);
	c->in_flight = true;
	return GP_PKT_FORWARD;
}

/* Client packets that belong to the exchange in flight (auth replies, infile data). */
static gp_pkt_action_t core_client_turn(gp_core_t *c, gp_pkt_t *pkt, gp_core_out_t *out)
{
	if (!c->resp.client_turn)
		return core_protocol_error(c, pkt, out);
	if (c->phase == GP_CORE_AUTH)
		pkt->seq = (uint8_t)(pkt->seq - c->seq_shift); /* see core_hsresp */
	c->cmd_seq = pkt->seq;
	if (c->phase == GP_CORE_AUTH || c->resp.cmd == MYP_COM_CHANGE_USER)
		gp_learn_client(&c->learn, pkt->p, pkt->n, pkt->len);
	if (myp_resp_feed_client(&c->resp, pkt->len, pkt->p, pkt->n) == MYP_RESP_EPROTO)
		return core_protocol_error(c, pkt, out);
	return GP_PKT_FORWARD;
}

gp_pkt_action_t gp_core_client_packet(gp_core_t *c, gp_pkt_t *pkt, gp_core_out_t *out)
{
	switch (c->phase) {
	case GP_CORE_HANDSHAKE:
		return core_hsresp(c, pkt, out);
	case GP_CORE_AUTH:
		return core_client_turn(c, pkt, out);
	case GP_CORE_READY:
		break;
	default:
		return GP_PKT_HOLD;
	}
	if (c->compress) {
		/* Inside frames the packets' own sequence ids are not checked, and libmariadb
		 * sends them all as 0 (a 16 MB command's second packet, LOCAL INFILE data). The
		 * backend leg is plain and its server checks them: number them as it expects. */
		bool fresh = !c->client_cont && !c->in_flight;
		pkt->seq = fresh ? 0 : (uint8_t)(c->zlast + 1);
		c->zlast = pkt->seq;
	}
	if (c->client_cont) {
		/* The rest of a command longer than 16 MB. If the server has already answered
		 * (ERR 1153, packet too large), it reads no more of it: the client may finish
		 * sending and then read that answer. */
		c->client_cont = pkt->len == MYP_MAX_PAYLOAD;
		c->cmd_seq = pkt->seq;
		bool discard = c->client_discard;
		c->client_discard = discard && c->client_cont;
		return discard ? GP_PKT_DROP : GP_PKT_FORWARD;
	}
	if (c->in_flight) {
		if (!c->resp.client_turn)
			return GP_PKT_HOLD; /* pipelined: one command at a time */
		return core_client_turn(c, pkt, out);
	}
	return core_command(c, pkt, out);
}

/* ---- transaction state -------------------------------------------------------- */

/* The one place c->txn changes: after each response, from the server's status flags or,
 * when an ERR ended it, from what that ERR implies (myp_resp_trans). */
static void core_txn_after(gp_core_t *c)
{
	c->txn = myp_resp_trans(&c->resp, c->txn);
	if (c->resp.failed)
		c->txn_told = false;
	else if (c->resp.status_seen)
		c->txn_told = true;
	if (c->resp.status_seen)
		c->status = c->resp.status;
	/* the proxy's own answers carry the flags: in a transaction unless known otherwise */
	if (c->txn == MYP_TRANS_NONE)
		c->status &= (uint16_t)~MYP_SERVER_STATUS_IN_TRANS;
	else
		c->status |= MYP_SERVER_STATUS_IN_TRANS;
}

bool gp_core_idle(const gp_core_t *c)
{
	return !c->in_flight && !c->client_cont && c->txn == MYP_TRANS_NONE;
}

bool gp_core_txn_ask(gp_core_t *c, gp_core_out_t *out)
{
	if (c->phase != GP_CORE_READY || c->in_flight || c->client_cont || c->inject_ro ||
	    c->txn == MYP_TRANS_NONE || c->txn_told)
		return false;
	/* Not a SELECT @@in_transaction: a statement would clear the warnings of the ERR. */
	myp_wbuf_t w;
	myp_wbuf_init(&w, out->server, sizeof(out->server));
	myp_cmd_build(&w, MYP_COM_PING);
	core_log(c, GP_LOG_DEBUG, "txn_ask", "txn=%s code=%u", myp_trans_name(c->txn),
	         c->resp.err_code);
	core_internal(c, &w, out);
	return true;
}

void gp_core_want_sync(gp_core_t *c, bool sync)
{
	c->inject_sync = sync;
}

void gp_core_close_after_relay(gp_core_t *c, gp_close_t why)
{
	c->close_after_relay = why;
	c->resume_client = false;
}

/* ---- server side ------------------------------------------------------------ */

/* The response (or authentication) in flight is complete. */
static void core_response_done(gp_core_t *c, gp_core_out_t *out)
{
	bool internal = c->internal;
	out->ev |= GP_CORE_EV_DONE;
	out->internal = internal;
	out->was_open = c->txn == MYP_TRANS_OPEN;
	c->in_flight = false;
	core_txn_after(c);
	if (internal) {
		c->internal = false;
		bool sync = c->internal_sync;
		c->internal_sync = false;
		if (c->kill.phase == GP_KILL_CHECKING) {
			c->kill.phase = GP_KILL_CHECKED; /* gp_core_scanned goes on with the KILL */
			return;
		}
		if (c->resp.failed) {
			/* A ping refused: a transaction BF-aborted while idle answers the next
			 * command with 1213, which the client would then never see. Closing tells
			 * it the transaction is gone. */
			gp_close_t why = c->resp.cmd == MYP_COM_PING ? GP_CLOSE_TXN_CHECK_FAILED
			                 : sync                      ? GP_CLOSE_CAUSAL_READS_FAILED
			                                             : GP_CLOSE_READ_ONLY_FAILED;
			core_log(c, GP_LOG_ERROR, gp_close_name(why), "code=%u", c->resp.err_code);
			c->close_after_relay = why;
			return;
		}
		if (c->resp.cmd == MYP_COM_PING)
			core_log(c, GP_LOG_INFO, "txn_asked", "in_trans=%s",
			         myp_trans_name(c->txn));
	} else if (c->ro && !c->resp.failed &&
	           (c->phase == GP_CORE_AUTH || c->resp.cmd == MYP_COM_RESET_CONNECTION ||
	            c->resp.cmd == MYP_COM_CHANGE_USER)) {
		/* A fresh (or reset) session on the read-only endpoint: make it read-only, and
		 * with routing.ro_causal_reads make its reads wait for the node to apply what
		 * the cluster committed before them, before the client's next command runs. */
		c->inject_ro = true;
		out->ev |= GP_CORE_EV_RO_FRESH;
	}
	if (c->resp.cmd == MYP_COM_CHANGE_USER && !c->resp.failed)
		gp_kill_login_move(&c->login, &c->login_next); /* the server took the new user */
	if (!c->resp.failed && (c->phase == GP_CORE_AUTH || c->resp.cmd == MYP_COM_CHANGE_USER))
		out->ev |= GP_CORE_EV_LOGGED_IN; /* the glue learns, then gp_learn_wipe */
	else if (c->phase == GP_CORE_AUTH || c->resp.cmd == MYP_COM_CHANGE_USER)
		gp_learn_wipe(&c->learn);
	if (c->phase == GP_CORE_AUTH) {
		if (c->resp.failed) {
			char user[80];
			core_log(c, GP_LOG_INFO, "auth_failed", "user=%s code=%u",
			         gp_kill_login_log(user, sizeof(user), &c->login),
			         c->resp.err_code);
			c->close_after_relay = GP_CLOSE_AUTH_FAILED;
			return;
		}
		c->phase = GP_CORE_READY;
		out->ev |= GP_CORE_EV_READY;
		if (!gp_core_tracked(c))
			gp_sstate_add(&c->st, GP_UNMOV_NO_TRACKING);
	}
	c->resume_client = true;
	out->ev |= GP_CORE_EV_IDLE;
}

/* The server's answer to a KILL translated on the same node: its refusal names the server's
 * thread id; make it name the one the client gave. */
static gp_pkt_action_t core_kill_reply(gp_core_t *c, const gp_pkt_t *pkt, gp_core_out_t *out)
{
	myp_err_t e;
	uint64_t id = c->kill.k.id;
	c->kill = (gp_kill_req_t){.phase = GP_KILL_IDLE};
	if (pkt->n < 1 || pkt->p[0] != 0xFF ||
	    myp_err_parse(pkt->p, pkt->n, c->caps, &e) != MYP_OK ||
	    !gp_kill_message(out->msg, sizeof(out->msg), e.code, id))
		return GP_PKT_FORWARD;
	gp_core_answer(c, pkt->seq, e.code, e.sqlstate, out->msg, out);
	return GP_PKT_DROP;
}

gp_pkt_action_t gp_core_server_packet(gp_core_t *c, gp_pkt_t *pkt, gp_core_out_t *out)
{
	if (c->phase == GP_CORE_GREETING)
		return core_greeting(c, pkt, out);
	if (!c->in_flight) {
		/* Unsolicited (e.g. ERR 1053 at server shutdown): the client reads it next. */
		if (pkt->n > 0 && pkt->p[0] == 0xFF)
			out->ev |= GP_CORE_EV_ERR_PACKET;
		return GP_PKT_FORWARD;
	}
	c->server_seq = pkt->seq;     /* the server's count (park.c answers the server with it) */
	if (c->phase == GP_CORE_AUTH) /* the client counted the SSL request: one more */
		pkt->seq = (uint8_t)(pkt->seq + c->seq_shift);
	c->zlast = pkt->seq;
	if (c->phase == GP_CORE_AUTH && c->deferred)
		out->ev |= GP_CORE_EV_DEFER_SERVER;
	if ((c->phase == GP_CORE_AUTH || c->resp.cmd == MYP_COM_CHANGE_USER) && !c->internal &&
	    pkt->n > 0 && pkt->p[0] != 0x00 && pkt->p[0] != 0xFF)
		gp_learn_server(&c->learn, pkt->p, pkt->n, pkt->len);
	if (c->kill.phase == GP_KILL_CHECKING && c->internal &&
	    myp_resp_is_row(&c->resp, pkt->len, pkt->p, pkt->n))
		c->kill.privileged |= gp_kill_grant_row_allows(pkt->p, pkt->n);
	/* An OK or EOF that ends a result: never a row (binary rows and empty text columns
	 * start with 0x00), a continuation, a prepare's OK or an AuthSwitchRequest. */
	bool status_pkt = pkt->len > 0 && pkt->len < MYP_MAX_PAYLOAD && !c->resp.server_cont &&
	                  !myp_resp_is_row(&c->resp, pkt->len, pkt->p, pkt->n) &&
	                  ((pkt->p[0] == 0x00 && c->resp.cmd != MYP_COM_STMT_PREPARE) ||
	                   (pkt->p[0] == 0xFE && c->phase == GP_CORE_READY &&
	                    c->resp.cmd != MYP_COM_CHANGE_USER));
	myp_resp_event_t ev = myp_resp_feed_server(&c->resp, pkt->len, pkt->p, pkt->n);
	if (ev != MYP_RESP_EPROTO && status_pkt && !gp_core_track_status(c, pkt, !c->internal)) {
		core_log(c, GP_LOG_ERROR, "untrack_failed", "cmd=%s len=%u",
		         myp_cmd_name(c->resp.cmd), pkt->len);
		out->close = GP_CLOSE_BACKEND_PROTOCOL_ERROR;
		return GP_PKT_STOP;
	}
	if (ev == MYP_RESP_EPROTO) {
		core_log(c, GP_LOG_ERROR, "backend_protocol_error", "cmd=%s len=%u first=%u",
		         myp_cmd_name(c->resp.cmd), pkt->len, pkt->n ? pkt->p[0] : 0);
		out->close = GP_CLOSE_BACKEND_PROTOCOL_ERROR;
		return GP_PKT_STOP;
	}
	bool internal = c->internal;
	if (ev == MYP_RESP_DONE) {
		if (c->resp.failed && !internal)
			out->ev |= GP_CORE_EV_ERR_PACKET;
		c->client_discard = c->client_cont;
		core_response_done(c, out); /* acted on in gp_core_scanned, after the relay */
		if (!internal && c->kill.phase == GP_KILL_RELAYED)
			return core_kill_reply(c, pkt, out);
	}
	return internal ? GP_PKT_DROP : GP_PKT_FORWARD;
}

void gp_core_scanned(gp_core_t *c, gp_core_out_t *out)
{
	if (c->close_after_relay != GP_CLOSE_NONE) {
		out->close = c->close_after_relay;
		c->close_after_relay = GP_CLOSE_NONE;
		return;
	}
	if (c->kill.phase == GP_KILL_CHECKED) {
		out->ev |= GP_CORE_EV_KILL_CHECKED;
		return;
	}
	if (c->inject_ro || c->inject_sync) {
		/* Portable: MariaDB 10.11 has no transaction_read_only variable; SET TRANSACTION
		 * takes no other assignment, so wsrep_sync_wait is a statement of its own. 1:
		 * reads (SELECT, SHOW, BEGIN) see every transaction committed before they began. */
		static const char ro_sql[] = "SET SESSION TRANSACTION READ ONLY";
		static const char sync_sql[] = "SET SESSION wsrep_sync_wait = 1";
		bool ro = c->inject_ro;
		const char *sql = ro ? ro_sql : sync_sql;
		size_t n = ro ? sizeof(ro_sql) - 1 : sizeof(sync_sql) - 1;
		myp_wbuf_t w;
		if (ro)
			c->inject_ro = false;
		else
			c->inject_sync = false;
		myp_wbuf_init(&w, out->server, sizeof(out->server));
		myp_query_build(&w, c->caps, sql, n);
		core_internal(c, &w, out);
		c->internal_sync = !ro;
		return;
	}
	if (c->resume_client) {
		c->resume_client = false;
		out->ev |= GP_CORE_EV_RESUME;
	}
}

/* ---- a KILL of a session on another node ------------------------------------------------ */

void gp_core_kill_check(gp_core_t *c, gp_core_out_t *out)
{
	static const char sql[] = GP_KILL_CHECK_SQL;
	myp_wbuf_t w;
	c->kill.phase = GP_KILL_CHECKING;
	myp_wbuf_init(&w, out->server, sizeof(out->server));
	myp_query_build(&w, c->caps, sql, sizeof(sql) - 1);
	core_internal(c, &w, out);
}

void gp_core_kill_running(gp_core_t *c)
{
	c->kill.phase = GP_KILL_RUNNING;
	c->in_flight = true; /* the client waits for our answer; its next command is held */
	c->resp.client_turn = false;
}

void gp_core_kill_answer(gp_core_t *c, uint16_t code, const char *msg, gp_core_out_t *out)
{
	c->kill = (gp_kill_req_t){.phase = GP_KILL_IDLE};
	gp_core_answer(c, (uint8_t)(c->cmd_seq + 1), code, "HY000", msg, out);
	c->in_flight = false;
}
