/* session.c - one client session: its client and backend connections and their protocol. */
#include "session/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "cluster/cluster.h"
#include "session/handoff.h"
#include "session/kill.h"
#include "base/log.h"
#include "cluster/monitor.h"
#include "session/router.h"

#define GP_CLOSE_GRACE_MS 5000 /* a closing client that does not read is cut off after this */

/* Server error codes the proxy uses for answers of its own. */
#define GP_ER_CON_COUNT       1040 /* Too many connections */
#define GP_ER_NOT_READY       1047 /* what Galera nodes say when not ready */
#define GP_ER_HANDSHAKE       1043 /* Bad handshake */
#define GP_ER_UNSUPPORTED     1235 /* ER_NOT_SUPPORTED_YET */
#define GP_ER_SERVER_SHUTDOWN 1053 /* Server shutdown in progress */

static const gp_io_proto_t client_proto;
static const gp_io_proto_t server_proto;

static void session_route(gp_session_t *s);
static gp_pkt_action_t client_protocol_error(gp_session_t *s, const gp_pkt_t *pkt);

#define slog(s, lvl, event, fmt, ...)                                                     \
	do {                                                                              \
		if (gp_log_enabled(lvl))                                                  \
			gp_log(lvl, event, "conn=%u client=%s backend=%s " fmt, (s)->id,  \
			       (s)->client_addr, session_backend_name(s), ##__VA_ARGS__); \
	} while (0)

static const char *session_backend_name(const gp_session_t *s)
{
	return s->backend >= 0 ? s->proxy->backends[s->backend].conf->name : "-";
}

bool gp_session_idle(const gp_session_t *s)
{
	return s->state == GP_SS_READY && !s->in_flight && !s->client_cont &&
	       s->txn == MYP_TRANS_NONE;
}

/* The one place a session changes state: it moves to the list of its new state. */
static void session_set_state(gp_session_t *s, gp_session_state_t to)
{
	if (s->state == to)
		return;
	gp_list_del(&s->link);
	gp_list_append(&s->proxy->sessions[to], &s->link);
	slog(s, GP_LOG_DEBUG, "session_state", "from=%s to=%s", gp_session_state_name(s->state),
	     gp_session_state_name(to));
	s->state = to;
}

static void session_arm(gp_session_t *s, void (*cb)(uv_timer_t *), uint64_t ms);

static void session_leave_backend(gp_session_t *s)
{
	if (!s->on_backend)
		return;
	gp_backend_t *b = &s->proxy->backends[s->backend];
	b->sessions--;
	if (s->endpoint == GP_EP_RW)
		b->sessions_rw--;
	s->on_backend = false;
	gp_cluster_session_left(s->proxy, s->backend);
}

static void session_join_backend(gp_session_t *s)
{
	gp_backend_t *b = &s->proxy->backends[s->backend];
	b->sessions++;
	if (s->endpoint == GP_EP_RW)
		b->sessions_rw++;
	s->on_backend = true;
}

/* Give up on the current backend attempt; session_io_closed routes the session again. */
static void session_retry(gp_session_t *s)
{
	session_leave_backend(s);
	gp_handoff_retry(s);
	s->tried_at = uv_now(s->proxy->loop);
	session_set_state(s, GP_SS_CONNECTING);
	s->retry_connect = true;
	gp_io_close(&s->server, false);
}

static void session_release(gp_session_t *s)
{
	gp_proxy_t *p = s->proxy;
	gp_list_del(&s->link);
	gp_list_del(&s->drain_link);
	session_leave_backend(s);
	gp_handoff_forget(s);
	if (s->kill.slot) /* closed while its cross-node KILL was checked */
		gp_kill_slot_give(&p->kill_jobs);
	if (s->counted)
		p->nclients--;
	p->nsessions--;
	p->stats.bytes_in += s->client.bytes_in;
	p->stats.bytes_out += s->client.bytes_out;
	free(s);
	gp_proxy_session_gone(p);
}

static void on_handle_closed(gp_session_t *s)
{
	if (--s->open_handles == 0 && s->pending_ops == 0)
		session_release(s);
}

static void on_timer_closed(uv_handle_t *h)
{
	on_handle_closed(h->data);
}

static void on_close_grace(uv_timer_t *t)
{
	gp_session_t *s = t->data;
	/* The client did not take its last bytes in time: drop them. */
	s->client.close_after_write = false;
	s->server.close_after_write = false;
	gp_io_close(&s->client, false);
	gp_io_close(&s->server, false);
}

static void session_io_closed(gp_io_t *io)
{
	gp_session_t *s = io->owner;
	if (io == &s->server && s->retry_connect && s->state == GP_SS_CONNECTING) {
		/* A failed backend attempt: set the server side up afresh and try the next. */
		s->retry_connect = false;
		if (gp_io_init(&s->server, s->proxy->loop, &server_proto, s) != GP_OK) {
			s->open_handles--;
			gp_session_close(s, GP_CLOSE_OUT_OF_MEMORY);
			return;
		}
		s->server.peer = &s->client;
		s->client.peer = &s->server;
		session_route(s);
		return;
	}
	if (s->client.closing && !s->client.connected && s->server.closing &&
	    !s->server.connected && !uv_is_closing((uv_handle_t *)&s->timer)) {
		uv_timer_stop(&s->timer);
		uv_close((uv_handle_t *)&s->timer, on_timer_closed);
	}
	on_handle_closed(s);
}

void gp_session_close(gp_session_t *s, gp_close_t reason)
{
	if (s->state == GP_SS_CLOSING)
		return;
	s->close_reason = reason;
	slog(s, GP_LOG_INFO, "session_close", "reason=%s state=%s", gp_close_name(reason),
	     gp_session_state_name(s->state));
	s->proxy->stats.closed++;
	gp_metrics_session_closed(&s->proxy->metrics, reason);
	bool polite = s->state == GP_SS_READY && !s->in_flight && !s->server.ended;
	gp_handoff_closing(s); /* may park an unanswered backend connection */
	session_set_state(s, GP_SS_CLOSING);
	if (polite) {
		/* An idle backend session gets a COM_QUIT, so the server counts no abort. */
		uint8_t quit[MYP_HEADER_LEN + 1];
		myp_wbuf_t w;
		myp_wbuf_init(&w, quit, sizeof(quit));
		myp_cmd_build(&w, MYP_COM_QUIT);
		polite = !w.failed && gp_io_send(&s->server, quit, w.len) == GP_OK;
	}
	gp_io_close(&s->client, true);
	gp_io_close(&s->server, polite);
	session_arm(s, on_close_grace, GP_CLOSE_GRACE_MS);
}

/* Send an ERR packet of our own to the client (then close it if fatal). */
static void session_send_err(gp_session_t *s, uint8_t seq, uint16_t code, const char *sqlstate,
                             const char *msg)
{
	uint8_t buf[512];
	myp_wbuf_t w;
	myp_wbuf_init(&w, buf, sizeof(buf));
	uint64_t caps = s->caps ? s->caps : MYP_CLIENT_PROTOCOL_41;
	myp_err_build(&w, seq, caps, code, sqlstate, msg);
	gp_status_t st = w.failed ? GP_ETOOBIG : gp_io_send(&s->client, buf, w.len);
	if (st != GP_OK)
		slog(s, GP_LOG_DEBUG, "send_err_failed", "code=%u error=\"%s\"", code,
		     gp_strerror(st));
}

void gp_session_fail(gp_session_t *s, uint8_t seq, uint16_t code, const char *sqlstate,
                     const char *msg, gp_close_t reason)
{
	if (s->state == GP_SS_CLOSING)
		return;
	if (seq == 0 && gp_handoff_holds_response(s) && s->state < GP_SS_AUTH)
		seq = 2; /* a deferred client answered the proxy's greeting: it expects 2 */
	session_send_err(s, seq, code, sqlstate, msg);
	gp_session_close(s, reason);
}

static void on_timeout(uv_timer_t *t);

static void session_arm(gp_session_t *s, void (*cb)(uv_timer_t *), uint64_t ms)
{
	uv_timer_start(&s->timer, cb, ms, 0);
}

static void session_arm_handshake(gp_session_t *s)
{
	uint64_t now = uv_now(s->proxy->loop);
	uint64_t left = s->handshake_deadline > now ? s->handshake_deadline - now : 0;
	session_arm(s, on_timeout, left);
}

static void on_timeout(uv_timer_t *t)
{
	gp_session_t *s = t->data;
	char msg[160];
	switch (s->state) {
	case GP_SS_WAITING:
		session_route(s); /* past the deadline now: routes or fails */
		return;
	case GP_SS_CONNECTING:
	case GP_SS_GREETING:
		s->proxy->backends[s->backend].last_error = GP_ETIMEDOUT;
		slog(s, GP_LOG_WARN, "backend_connect_failed", "error=%s",
		     gp_strerror(GP_ETIMEDOUT));
		if (uv_now(s->proxy->loop) >= s->handshake_deadline) {
			snprintf(msg, sizeof(msg),
			         "galera-proxy: backend %s did not answer in time",
			         session_backend_name(s));
			gp_session_fail(s, 0, GP_ER_NOT_READY, "08S01", msg,
			                GP_CLOSE_BACKEND_TIMEOUT);
			return;
		}
		session_retry(s);
		return;
	case GP_SS_HANDSHAKE:
	case GP_SS_AUTH:
		slog(s, GP_LOG_WARN, "handshake_timeout", "state=%s",
		     gp_session_state_name(s->state));
		gp_session_close(s, GP_CLOSE_HANDSHAKE_TIMEOUT);
		return;
	default:
		return;
	}
}

/* ---- backend connect and greeting ----------------------------------------- */

static void on_connected(uv_connect_t *req, int status)
{
	gp_session_t *s = req->data;
	if (s->state != GP_SS_CONNECTING || s->server.closing)
		return;
	gp_backend_t *b = &s->proxy->backends[s->backend];
	if (status < 0) {
		b->last_error = gp_status_from_uv(status);
		b->connect_failures++;
		slog(s, GP_LOG_WARN, "backend_connect_failed", "error=\"%s\"",
		     gp_strerror(b->last_error));
		session_retry(s);
		return;
	}
	if (!gp_router_still_valid(s->proxy, s->endpoint, s->backend)) {
		/* The writer moved while we connected: nothing was said yet, route again. */
		s->tried &= ~(1u << s->backend);
		session_retry(s);
		return;
	}
	session_join_backend(s);
	gp_io_tune(&s->server);
	gp_handoff_connected(s);
	gp_io_set_whole(&s->server, true);
	session_set_state(s, GP_SS_GREETING);
	gp_io_read(&s->server, true);
}

/* Choose a backend and connect, or wait for one until routing.connect_wait_ms. */
static void session_route(gp_session_t *s)
{
	char why[256];
	int b = gp_router_pick(s->proxy, s->endpoint, s->tried, why, sizeof(why));
	if (b < 0) {
		uint64_t now = uv_now(s->proxy->loop);
		if (now < s->wait_deadline && !s->proxy->shutting_down) {
			if (s->state != GP_SS_WAITING) {
				session_set_state(s, GP_SS_WAITING);
				session_arm(s, on_timeout, s->wait_deadline - now);
			}
			return;
		}
		char msg[400];
		snprintf(msg, sizeof(msg), "galera-proxy: no %s Galera node (%s)",
		         s->endpoint == GP_EP_RW ? "writable" : "readable", why);
		s->proxy->stats.rejected_other++;
		slog(s, GP_LOG_WARN, "client_rejected", "reason=no_backend detail=\"%s\"", why);
		gp_session_fail(s, 0, GP_ER_NOT_READY, "08S01", msg, GP_CLOSE_NO_BACKEND);
		return;
	}
	switch (gp_handoff_acquire(s, b)) {
	case GP_HO_ADOPTED:
		return;
	case GP_HO_DEFERRED: /* greeted by the proxy: a backend once the client answers */
		session_set_state(s, GP_SS_HANDSHAKE);
		session_arm_handshake(s);
		gp_io_set_whole(&s->client, true);
		gp_io_read(&s->client, true);
		return;
	case GP_HO_QUEUED: /* for a handshake slot, until the client's handshake deadline */
		session_set_state(s, GP_SS_WAITING);
		session_arm_handshake(s);
		return;
	case GP_HO_FULL:
		gp_session_fail(
		        s, 0, GP_ER_CON_COUNT, "08004",
		        "galera-proxy: too many connections still authenticating; try again",
		        GP_CLOSE_HANDSHAKE_SLOTS);
		return;
	case GP_HO_CONNECT:
		break;
	}
	session_set_state(s, GP_SS_CONNECTING);
	s->backend = b;
	s->tried |= 1u << b;
	s->connect_req.data = s;
	int r = uv_tcp_connect(&s->connect_req, &s->server.tcp,
	                       (const struct sockaddr *)&s->proxy->backends[b].addr, on_connected);
	if (r < 0) {
		on_connected(&s->connect_req, r);
		return;
	}
	uint64_t ms = (uint64_t)s->proxy->cfg->limits_backend_connect_timeout_ms;
	session_arm(s, on_timeout, ms);
}

static gp_pkt_action_t session_on_greeting(gp_session_t *s, gp_pkt_t *pkt)
{
	if (!gp_router_still_valid(s->proxy, s->endpoint, s->backend)) {
		/* The writer moved before the client saw anything: route again. */
		s->tried &= ~(1u << s->backend);
		session_retry(s);
		return GP_PKT_STOP;
	}
	if (pkt->n > 0 && pkt->p[0] == 0xFF) {
		/* The server refused us (too many connections, host blocked): tell the client. */
		myp_err_t e;
		if (myp_err_parse(pkt->p, pkt->n, MYP_CLIENT_PROTOCOL_41, &e) == MYP_OK)
			slog(s, GP_LOG_WARN, "backend_refused", "code=%u", e.code);
		s->proxy->backends[s->backend].last_error = GP_EDB;
		s->close_after_relay = GP_CLOSE_BACKEND_REFUSED;
		return GP_PKT_FORWARD;
	}
	myp_greeting_t g;
	if (myp_greeting_parse(pkt->p, pkt->n, &g) != MYP_OK) {
		slog(s, GP_LOG_ERROR, "backend_bad_greeting", "len=%u", pkt->len);
		s->proxy->backends[s->backend].last_error = GP_EPROTO;
		gp_session_fail(s, 0, GP_ER_NOT_READY, "08S01",
		                "galera-proxy: backend sent an invalid greeting",
		                GP_CLOSE_BACKEND_PROTOCOL);
		return GP_PKT_DROP;
	}
	gp_handoff_greeted(s, pkt->p - MYP_HEADER_LEN, pkt->n + MYP_HEADER_LEN);
	if (gp_handoff_deferred(s)) {
		/* The client has its greeting (the proxy's): this one stays here. */
		if (gp_handoff_defer_respond(s, (uint8_t)(pkt->seq + 1), &g) != GP_OK) {
			gp_session_fail(s, 2, GP_ER_NOT_READY, "08S01",
			                "galera-proxy: backend changed", GP_CLOSE_BACKEND_PROTOCOL);
			return GP_PKT_DROP;
		}
		myp_resp_begin_auth(&s->resp, s->caps);
		s->in_flight = true;
		session_set_state(s, GP_SS_AUTH);
		session_arm_handshake(s);
		gp_io_read(&s->client, true);
		return GP_PKT_DROP;
	}
	/* The client sees a proxy-wide id (KILL of it is translated, see session_on_kill). */
	s->server_thread = g.conn_id;
	myp_greeting_patch(pkt->p, pkt->n, &g, gp_session_conn_id(s), GP_CAPS_UNRELAYABLE);
	s->server_caps = g.caps & ~(uint64_t)GP_CAPS_UNRELAYABLE;
	session_set_state(s, GP_SS_HANDSHAKE);
	session_arm(s, on_timeout, gp_handoff_answer_ms(s));
	gp_io_set_whole(&s->client, true);
	gp_io_read(&s->client, true);
	return GP_PKT_FORWARD;
}

/* ---- client side ----------------------------------------------------------- */

static gp_pkt_action_t session_on_hsresp(gp_session_t *s, gp_pkt_t *pkt)
{
	myp_hsresp_t r;
	myp_status_t st = myp_hsresp_parse(pkt->p, pkt->n, &r);
	if (st != MYP_OK) {
		slog(s, GP_LOG_WARN, "client_bad_handshake", "len=%u", pkt->len);
		gp_session_fail(s, (uint8_t)(pkt->seq + 1), GP_ER_HANDSHAKE, "08S01",
		                "Bad handshake", GP_CLOSE_BAD_HANDSHAKE);
		return GP_PKT_DROP;
	}
	if (r.ssl_request || (r.caps & MYP_CLIENT_SSL)) {
		gp_session_fail(s, (uint8_t)(pkt->seq + 1), GP_ER_HANDSHAKE, "08S01",
		                "galera-proxy: TLS is not supported yet; connect without SSL",
		                GP_CLOSE_SSL_REQUESTED);
		return GP_PKT_DROP;
	}
	size_t ulen = r.user_len < sizeof(s->user) - 1 ? r.user_len : sizeof(s->user) - 1;
	memcpy(s->user, r.user, ulen);
	s->user[ulen] = '\0';
	gp_kill_login_set(&s->login, r.user, r.user_len, r.charset, true);
	if (gp_handoff_deferred(s)) {
		if (gp_handoff_defer_answered(s, pkt, &r)) {
			/* Not read until the backend has its response: a client that leaves now is
			 * noticed then, and its login refused rather than aborted. */
			gp_io_read(&s->client, false);
			session_set_state(s, GP_SS_CONNECTING);
			session_route(s); /* the backend's greeting is answered, not relayed */
		}
		return s->state == GP_SS_CLOSING ? GP_PKT_STOP : GP_PKT_DROP;
	}
	myp_hsresp_clear_caps(pkt->p, pkt->n, GP_CAPS_UNRELAYABLE);
	s->caps = (r.caps & s->server_caps) | (r.caps & MYP_CLIENT_PROTOCOL_41);
	myp_resp_begin_auth(&s->resp, s->caps);
	s->in_flight = true;
	session_set_state(s, GP_SS_AUTH);
	session_arm_handshake(s); /* the backend has seen the client now: never parked */
	return GP_PKT_FORWARD;
}

uint32_t gp_session_conn_id(const gp_session_t *s)
{
	return GP_CONN_ID_BASE | (s->id & (GP_CONN_ID_BASE - 1));
}

static gp_session_t *session_find(gp_proxy_t *p, uint64_t conn_id)
{
	gp_list_t *pos, *tmp;
	for (int st = GP_SS_GREETING; st < GP_SS_CLOSING; st++) {
		gp_list_each_safe(pos, tmp, &p->sessions[st])
		{
			gp_session_t *t = gp_container_of(pos, gp_session_t, link);
			if (gp_session_conn_id(t) == conn_id)
				return t;
		}
	}
	return NULL;
}

/* The proxy answers a command itself: OK, or ERR when code != 0. */
static void session_answer(gp_session_t *s, uint8_t seq, uint16_t code, const char *msg)
{
	if (code) {
		session_send_err(s, seq, code, "HY000", msg);
		return;
	}
	uint8_t buf[64];
	myp_wbuf_t w;
	myp_wbuf_init(&w, buf, sizeof(buf));
	myp_ok_t ok = {.status = s->status};
	myp_ok_build(&w, seq, s->caps, &ok);
	if (w.failed || gp_io_send(&s->client, buf, w.len) != GP_OK)
		gp_session_close(s, GP_CLOSE_CLIENT_ERROR);
}

/* ---- KILL of a proxy id -------------------------------------------------------- */

/* The translated KILL is over: its cross-node slot goes back. */
static void session_kill_end(gp_session_t *s)
{
	if (s->kill.slot)
		gp_kill_slot_give(&s->proxy->kill_jobs);
	s->kill = (gp_kill_req_t){.phase = GP_KILL_IDLE};
}

/* Answer the cross-node KILL the client waits for (code 0: OK) and let its next command in. */
static void session_kill_answer(gp_session_t *s, uint16_t code, const char *msg)
{
	session_kill_end(s);
	session_answer(s, (uint8_t)(s->cmd_seq + 1), code, msg);
	s->in_flight = false;
	gp_io_resume(&s->client);
}

/* The server's own refusal, for a target on another node. One line names both sides. */
static void session_kill_refuse(gp_session_t *s, const gp_session_t *t, const char *reason)
{
	char msg[96], user[80], tuser[80];
	const gp_kill_login_t *tl = t ? &t->login : NULL;
	slog(s, GP_LOG_WARN, "kill_refused",
	     "target=%u target_backend=%s user=%s target_user=%s query=%d reason=%s code=%u",
	     s->kill.target, t ? session_backend_name(t) : "-",
	     s->login.known ? gp_log_quote(user, sizeof(user), s->login.name, s->login.len) : "-",
	     tl && tl->known ? gp_log_quote(tuser, sizeof(tuser), tl->name, tl->len) : "-",
	     s->kill.k.query, reason, s->resp.failed ? s->resp.err_code : 0);
	session_kill_answer(s, GP_ER_KILL_DENIED,
	                    gp_kill_message(msg, sizeof(msg), GP_ER_KILL_DENIED, s->kill.k.id));
}

static void session_kill_done(void *arg, bool ok, unsigned code, const char *msg)
{
	gp_session_t *s = arg;
	char buf[96], q[200];
	s->pending_ops--;
	if (s->state == GP_SS_CLOSING) {
		session_kill_end(s);
		if (s->open_handles == 0 && s->pending_ops == 0)
			session_release(s);
		return;
	}
	if (ok) {
		session_kill_answer(s, 0, NULL);
		return;
	}
	/* 1094: the target's thread ended meanwhile. Anything else is the proxy's trouble (the
	 * eviction account without SUPER answers 1095): logged, and not the server's words. */
	const char *own = code == GP_ER_NO_SUCH_THREAD
	                          ? gp_kill_message(buf, sizeof(buf), code, s->kill.k.id)
	                          : NULL;
	if (!own)
		slog(s, GP_LOG_WARN, "kill_failed", "target=%u code=%u error=%s", s->kill.target,
		     code, gp_log_quote(q, sizeof(q), msg, (unsigned)strlen(msg)));
	session_kill_answer(s, own ? GP_ER_NO_SUCH_THREAD : GP_ER_UNKNOWN,
	                    own ? own
	                        : "galera-proxy: the KILL failed on the target's node (see the "
	                          "proxy's log)");
}

/* Run the KILL on the target's node with the eviction account: the issuer may (decided). */
static void session_kill_run(gp_session_t *s)
{
	char sql[64], msg[96];
	gp_session_t *t = session_find(s->proxy, s->kill.target);
	if (!t || !t->on_backend) {
		session_kill_answer(
		        s, GP_ER_NO_SUCH_THREAD,
		        gp_kill_message(msg, sizeof(msg), GP_ER_NO_SUCH_THREAD, s->kill.k.id));
		return;
	}
	if (!gp_kill_sql(sql, sizeof(sql), &s->kill.k, t->server_thread) ||
	    gp_monitor_exec(s->proxy->monitor, (size_t)t->backend, sql, session_kill_done, s) !=
	            GP_OK) {
		slog(s, GP_LOG_WARN, "kill_failed", "target=%u error=\"could not start\"",
		     s->kill.target);
		session_kill_answer(s, GP_ER_UNKNOWN,
		                    "galera-proxy: could not reach the target's node");
		return;
	}
	s->kill.phase = GP_KILL_RUNNING;
	s->pending_ops++;
	s->in_flight = true; /* the client waits for our answer; its next command is held */
	s->resp.client_turn = false;
}

static void session_send_internal(gp_session_t *s, const myp_wbuf_t *w);

/* The users differ: ask the issuer's own server what its session may do (kill.h). */
static void session_kill_check(gp_session_t *s)
{
	s->kill.phase = GP_KILL_CHECKING;
	s->server.peek = GP_KILL_GRANT_PEEK; /* rows are read, not relayed */
	static const char sql[] = GP_KILL_CHECK_SQL;
	uint8_t buf[MYP_HEADER_LEN + 8 + sizeof(sql)];
	myp_wbuf_t w;
	myp_wbuf_init(&w, buf, sizeof(buf));
	myp_query_build(&w, s->caps, sql, sizeof(sql) - 1);
	session_send_internal(s, &w);
}

/* The grants are read (server_scanned, after the check's response): go on or refuse. */
static void session_kill_checked(gp_session_t *s)
{
	s->server.peek = MYP_RESP_PEEK;
	gp_session_t *t = session_find(s->proxy, s->kill.target);
	if (s->kill.privileged ||
	    (t && t->state == GP_SS_READY && gp_kill_login_same(&s->login, &t->login))) {
		session_kill_run(s);
		return;
	}
	session_kill_refuse(s, t, s->resp.failed ? "check_failed" : "not_owner");
}

/* The server's answer to a KILL translated on the same node: its refusal names the server's
 * thread id; make it name the one the client gave. */
static gp_pkt_action_t session_kill_reply(gp_session_t *s, const gp_pkt_t *pkt)
{
	myp_err_t e;
	char msg[96];
	uint64_t id = s->kill.k.id;
	session_kill_end(s);
	if (pkt->n < 1 || pkt->p[0] != 0xFF ||
	    myp_err_parse(pkt->p, pkt->n, s->caps, &e) != MYP_OK ||
	    !gp_kill_message(msg, sizeof(msg), e.code, id))
		return GP_PKT_FORWARD;
	session_send_err(s, pkt->seq, e.code, e.sqlstate, msg);
	return GP_PKT_DROP;
}

/* A COM_CHANGE_USER: the user the session has once the server accepts it. */
static void session_kill_note_user(gp_session_t *s, const gp_pkt_t *pkt)
{
	myp_change_user_t cu;
	myp_status_t st = myp_change_user_parse(pkt->p, pkt->n, s->caps, &cu);
	if (st == MYP_EPROTO || !cu.user) {
		memset(&s->login_next, 0, sizeof(s->login_next)); /* unknown: equal to none */
		return;
	}
	bool charset = st == MYP_OK && pkt->n == pkt->len && cu.has_charset;
	gp_kill_login_set(&s->login_next, cu.user, cu.user_len, charset ? cu.charset : 0, false);
}

/*
 * KILL [QUERY] <proxy id> (and COM_PROCESS_KILL): the client knows only proxy ids, so
 * translate to the target's backend thread. Same node: rewrite the statement in place and
 * relay it; the server decides. Another node: the proxy decides as that one server would
 * (same login user name, or SUPER / CONNECTION ADMIN as the issuer's own server reports
 * them), then runs it there with the eviction account and answers itself. Ids below the
 * proxy range keep the server's meaning (SELECT CONNECTION_ID() + KILL) and go to this
 * session's node.
 */
static gp_pkt_action_t session_on_kill(gp_session_t *s, gp_pkt_t *pkt)
{
	gp_kill_t k = {.hardsoft = ""};
	uint8_t cmd = pkt->p[0];
	uint32_t id32;
	bool is_query = cmd == MYP_COM_QUERY;
	if (cmd == MYP_COM_CHANGE_USER) {
		session_kill_note_user(s, pkt);
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
	if (k.id < GP_CONN_ID_BASE || k.id > UINT32_MAX)
		return GP_PKT_FORWARD;
	gp_session_t *t = session_find(s->proxy, k.id);
	uint8_t seq = (uint8_t)(pkt->seq + 1);
	char msg[96];
	if (!t || !t->on_backend) {
		session_answer(s, seq, GP_ER_NO_SUCH_THREAD,
		               gp_kill_message(msg, sizeof(msg), GP_ER_NO_SUCH_THREAD, k.id));
		return GP_PKT_DROP;
	}
	slog(s, GP_LOG_INFO, "kill", "target=%u target_backend=%s thread=%u query=%d",
	     gp_session_conn_id(t), session_backend_name(t), t->server_thread, k.query);
	s->kill = (gp_kill_req_t){.k = k, .target = gp_session_conn_id(t)};
	if (t->backend == s->backend) {
		myp_status_t st =
		        is_query ? myp_query_set_number(pkt->p, pkt->n, k.id_off, k.id_len,
		                                        t->server_thread)
		                 : myp_process_kill_set_id(pkt->p, pkt->n, t->server_thread);
		bool ok = st == MYP_OK;
		s->kill.phase = ok ? GP_KILL_RELAYED : GP_KILL_IDLE;
		return GP_PKT_FORWARD;
	}
	if (!gp_kill_slot_take(&s->proxy->kill_jobs)) {
		slog(s, GP_LOG_WARN, "kill_refused",
		     "target=%u target_backend=%s reason=busy jobs=%u", s->kill.target,
		     session_backend_name(t), s->proxy->kill_jobs);
		session_kill_end(s);
		session_answer(s, seq, GP_ER_UNKNOWN,
		               "galera-proxy: too many KILLs of sessions on other nodes in flight; "
		               "try again");
		return GP_PKT_DROP;
	}
	s->kill.slot = true;
	if (t->state == GP_SS_READY && gp_kill_login_same(&s->login, &t->login))
		session_kill_run(s);
	else
		session_kill_check(s);
	return s->state == GP_SS_CLOSING ? GP_PKT_STOP : GP_PKT_DROP;
}

/* A new command from an authenticated client. */
static gp_pkt_action_t session_on_command(gp_session_t *s, gp_pkt_t *pkt)
{
	if (pkt->len == 0) {
		gp_session_fail(s, (uint8_t)(pkt->seq + 1), GP_ER_HANDSHAKE, "08S01",
		                "galera-proxy: empty command packet", GP_CLOSE_PROTOCOL_ERROR);
		return GP_PKT_STOP;
	}
	uint8_t cmd = pkt->p[0];
	s->cmd_seq = pkt->seq;
	s->client_cont = pkt->len == MYP_MAX_PAYLOAD;
	s->last_active = uv_now(s->proxy->loop);
	s->proxy->stats.commands++;
	s->cmd_start_ns = uv_hrtime();
	gp_metrics_command(&s->proxy->metrics, (int)s->endpoint, cmd);
	switch (myp_cmd_kind(cmd)) {
	case MYP_CMDK_QUIT:
		gp_session_close(s, GP_CLOSE_CLIENT_QUIT);
		return GP_PKT_STOP;
	case MYP_CMDK_UNSUPPORTED: {
		char msg[128];
		snprintf(msg, sizeof(msg),
		         "galera-proxy: command %s is not supported through the proxy",
		         myp_cmd_name(cmd));
		if (s->client_cont)
			return client_protocol_error(s, pkt);
		session_send_err(s, (uint8_t)(pkt->seq + 1), GP_ER_UNSUPPORTED, "42000", msg);
		return GP_PKT_DROP;
	}
	case MYP_CMDK_NO_RESPONSE:
		return GP_PKT_FORWARD;
	case MYP_CMDK_RESPONSE:
		break;
	}
	gp_pkt_action_t kill = session_on_kill(s, pkt);
	if (kill != GP_PKT_FORWARD)
		return kill;
	myp_resp_begin(&s->resp, s->caps, pkt->p, pkt->n);
	s->in_flight = true;
	return GP_PKT_FORWARD;
}

static gp_pkt_action_t client_protocol_error(gp_session_t *s, const gp_pkt_t *pkt)
{
	slog(s, GP_LOG_WARN, "client_protocol_error", "state=%s len=%u",
	     gp_session_state_name(s->state), pkt->len);
	gp_session_close(s, GP_CLOSE_PROTOCOL_ERROR);
	return GP_PKT_STOP;
}

/* Client packets that belong to the exchange in flight (auth replies, infile data). */
static gp_pkt_action_t session_client_turn(gp_session_t *s, gp_pkt_t *pkt)
{
	if (!s->resp.client_turn)
		return client_protocol_error(s, pkt);
	s->cmd_seq = pkt->seq;
	if (myp_resp_feed_client(&s->resp, pkt->len, pkt->p, pkt->n) == MYP_RESP_EPROTO)
		return client_protocol_error(s, pkt);
	return GP_PKT_FORWARD;
}

static gp_pkt_action_t client_packet(gp_io_t *io, gp_pkt_t *pkt)
{
	gp_session_t *s = io->owner;
	switch (s->state) {
	case GP_SS_HANDSHAKE:
		return session_on_hsresp(s, pkt);
	case GP_SS_AUTH:
		return session_client_turn(s, pkt);
	case GP_SS_READY:
		break;
	default:
		return GP_PKT_HOLD;
	}
	if (s->client_cont) {
		/* The rest of a command longer than 16 MB. If the server has already answered
		 * (ERR 1153, packet too large), it reads no more of it: the client may finish
		 * sending and then read that answer. */
		s->client_cont = pkt->len == MYP_MAX_PAYLOAD;
		s->cmd_seq = pkt->seq;
		bool discard = s->client_discard;
		s->client_discard = discard && s->client_cont;
		return discard ? GP_PKT_DROP : GP_PKT_FORWARD;
	}
	if (s->in_flight) {
		if (!s->resp.client_turn)
			return GP_PKT_HOLD; /* pipelined: one command at a time */
		return session_client_turn(s, pkt);
	}
	return session_on_command(s, pkt);
}

static void client_ended(gp_io_t *io, gp_status_t st)
{
	gp_session_t *s = io->owner;
	gp_session_close(s, st == GP_ECLOSED ? GP_CLOSE_CLIENT_CLOSED : GP_CLOSE_CLIENT_ERROR);
}

static const gp_io_proto_t client_proto = {
        .packet = client_packet,
        .ended = client_ended,
        .closed = session_io_closed,
};

/* ---- transaction state -------------------------------------------------------- */

/* The one place s->txn changes: after each response, from the server's status flags or,
 * when an ERR ended it, from what that ERR implies (myp_resp_trans). */
static void session_txn_after(gp_session_t *s)
{
	s->txn = myp_resp_trans(&s->resp, s->txn);
	if (s->resp.failed)
		s->txn_told = false;
	else if (s->resp.status_seen)
		s->txn_told = true;
	if (s->resp.status_seen)
		s->status = s->resp.status;
	/* the proxy's own answers carry the flags: in a transaction unless known otherwise */
	if (s->txn == MYP_TRANS_NONE)
		s->status &= (uint16_t)~MYP_SERVER_STATUS_IN_TRANS;
	else
		s->status |= MYP_SERVER_STATUS_IN_TRANS;
}

void gp_session_txn_ask(gp_session_t *s)
{
	if (s->state != GP_SS_READY || s->in_flight || s->client_cont || s->inject_ro ||
	    s->txn == MYP_TRANS_NONE || s->txn_told)
		return;
	/* Not a SELECT @@in_transaction: a statement would clear the warnings of the ERR. */
	uint8_t buf[MYP_HEADER_LEN + 1];
	myp_wbuf_t w;
	myp_wbuf_init(&w, buf, sizeof(buf));
	myp_cmd_build(&w, MYP_COM_PING);
	slog(s, GP_LOG_DEBUG, "txn_ask", "txn=%s code=%u", myp_trans_name(s->txn),
	     s->resp.err_code);
	session_send_internal(s, &w);
}

void gp_session_txn_count(const gp_proxy_t *p, int b, int ep, uint32_t *open, uint32_t *unknown)
{
	gp_list_t *pos, *tmp;
	*open = *unknown = 0;
	gp_list_each_safe(pos, tmp, &p->sessions[GP_SS_READY])
	{
		const gp_session_t *s = gp_container_of(pos, gp_session_t, link);
		if (s->backend != b || (ep >= 0 && (int)s->endpoint != ep))
			continue;
		if (s->txn == MYP_TRANS_OPEN)
			(*open)++;
		else if (s->txn == MYP_TRANS_UNKNOWN)
			(*unknown)++;
	}
}

/* ---- server side ------------------------------------------------------------ */

/* The response (or authentication) in flight is complete. */
static void session_response_done(gp_session_t *s)
{
	uint64_t now = uv_now(s->proxy->loop);
	bool internal = s->internal;
	if (!internal && s->state == GP_SS_READY)
		gp_metrics_request_done(&s->proxy->metrics, (int)s->endpoint,
		                        uv_hrtime() - s->cmd_start_ns);
	if (!internal && s->state == GP_SS_READY && s->endpoint == GP_EP_RW && !s->resp.failed)
		gp_cluster_rw_answer(s->proxy, s->backend, uv_hrtime());
	s->in_flight = false;
	bool was_open = s->txn == MYP_TRANS_OPEN;
	session_txn_after(s);
	if (internal) {
		s->internal = false;
		bool sync = s->internal_sync;
		s->internal_sync = false;
		if (s->kill.phase == GP_KILL_CHECKING) {
			s->kill.phase = GP_KILL_CHECKED; /* server_scanned goes on with the KILL */
			return;
		}
		if (s->resp.failed) {
			/* A ping refused: a transaction BF-aborted while idle answers the next
			 * command with 1213, which the client would then never see. Closing tells
			 * it the transaction is gone. */
			gp_close_t why = s->resp.cmd == MYP_COM_PING ? GP_CLOSE_TXN_CHECK_FAILED
			                 : sync                      ? GP_CLOSE_CAUSAL_READS_FAILED
			                                             : GP_CLOSE_READ_ONLY_FAILED;
			slog(s, GP_LOG_ERROR, gp_close_name(why), "code=%u", s->resp.err_code);
			s->close_after_relay = why;
			return;
		}
		if (s->resp.cmd == MYP_COM_PING)
			slog(s, GP_LOG_INFO, "txn_asked", "in_trans=%s", myp_trans_name(s->txn));
	} else if (s->endpoint == GP_EP_RO && !s->resp.failed &&
	           (s->state == GP_SS_AUTH || s->resp.cmd == MYP_COM_RESET_CONNECTION ||
	            s->resp.cmd == MYP_COM_CHANGE_USER)) {
		/* A fresh (or reset) session on the read-only endpoint: make it read-only, and
		 * with routing.ro_causal_reads make its reads wait for the node to apply what
		 * the cluster committed before them, before the client's next command runs. */
		s->inject_ro = true;
		s->inject_sync = s->proxy->cfg->routing_ro_causal_reads;
	}
	if (s->resp.cmd == MYP_COM_CHANGE_USER && !s->resp.failed)
		s->login = s->login_next; /* the server took the new user */
	if (s->state == GP_SS_AUTH) {
		if (s->resp.failed) {
			slog(s, GP_LOG_INFO, "auth_failed", "user=%s code=%u", s->user,
			     s->resp.err_code);
			s->close_after_relay = GP_CLOSE_AUTH_FAILED;
			return;
		}
		uv_timer_stop(&s->timer);
		gp_handoff_release(s);
		gp_io_set_whole(&s->client, false);
		gp_io_set_whole(&s->server, false);
		session_set_state(s, GP_SS_READY);
		s->opened_at = now;
		slog(s, GP_LOG_INFO, "session_open", "user=%s endpoint=%s", s->user,
		     gp_endpoint_name(s->endpoint));
	}
	/* A draining session is closed by gp_session_drain_tick once it has been quiet for
	 * GP_DRAIN_QUIET_MS: closing at the first idle instant would cut a client between the
	 * statements of one request (WordPress: SET NAMES, SELECT @@sql_mode, USE db, ...).
	 * The proxy's own commands (a ping asking about the transaction) are not activity. */
	if (!internal)
		s->last_active = now;
	/* ...but a transaction that just ended is a clean cut: a busy client that runs one
	 * transaction after another is never quiet, and the switch barrier waits for it. A
	 * statement that finishes past the drain deadline also closes the session. */
	if (s->draining && gp_session_idle(s) && !s->inject_ro && !s->inject_sync &&
	    (was_open || now >= s->drain_deadline || gp_session_drain_quiet(s, now))) {
		s->close_after_relay = GP_CLOSE_DRAINED;
		return;
	}
	s->resume_client = true;
}

/* Send a command of the proxy's own, built in w; its response is tracked and not relayed. */
static void session_send_internal(gp_session_t *s, const myp_wbuf_t *w)
{
	gp_status_t st = w->failed ? GP_ETOOBIG : gp_io_send(&s->server, w->buf, w->len);
	if (st != GP_OK) {
		slog(s, GP_LOG_ERROR, "internal_send_failed", "error=\"%s\"", gp_strerror(st));
		gp_session_close(s, GP_CLOSE_BACKEND_LOST);
		return;
	}
	myp_resp_begin(&s->resp, s->caps, w->buf + MYP_HEADER_LEN, w->len - MYP_HEADER_LEN);
	s->in_flight = true;
	s->internal = true;
}

/* The relayed bytes of a server scan are on their way: now act on what they ended. */
static void server_scanned(gp_io_t *io)
{
	gp_session_t *s = io->owner;
	if (s->close_after_relay != GP_CLOSE_NONE) {
		gp_close_t reason = s->close_after_relay;
		s->close_after_relay = GP_CLOSE_NONE;
		gp_session_close(s, reason);
		return;
	}
	if (s->kill.phase == GP_KILL_CHECKED) {
		session_kill_checked(s);
		return;
	}
	if (s->inject_ro || s->inject_sync) {
		/* Portable: MariaDB 10.11 has no transaction_read_only variable; SET TRANSACTION
		 * takes no other assignment, so wsrep_sync_wait is a statement of its own. 1:
		 * reads (SELECT, SHOW, BEGIN) see every transaction committed before they began. */
		static const char ro_sql[] = "SET SESSION TRANSACTION READ ONLY";
		static const char sync_sql[] = "SET SESSION wsrep_sync_wait = 1";
		bool ro = s->inject_ro;
		const char *sql = ro ? ro_sql : sync_sql;
		size_t n = ro ? sizeof(ro_sql) - 1 : sizeof(sync_sql) - 1;
		uint8_t buf[MYP_HEADER_LEN + 8 + sizeof(ro_sql)];
		myp_wbuf_t w;
		if (ro)
			s->inject_ro = false;
		else
			s->inject_sync = false;
		myp_wbuf_init(&w, buf, sizeof(buf));
		myp_query_build(&w, s->caps, sql, n);
		s->internal_sync = !ro;
		session_send_internal(s, &w);
		return;
	}
	if (s->resume_client) {
		s->resume_client = false;
		gp_io_resume(&s->client);
	}
}

static gp_pkt_action_t server_packet(gp_io_t *io, gp_pkt_t *pkt)
{
	gp_session_t *s = io->owner;
	if (s->state == GP_SS_GREETING)
		return session_on_greeting(s, pkt);
	if (!s->in_flight) {
		/* Unsolicited (e.g. ERR 1053 at server shutdown): the client reads it next. */
		if (pkt->n > 0 && pkt->p[0] == 0xFF)
			s->proxy->stats.err_packets++;
		return GP_PKT_FORWARD;
	}
	s->server_seq = pkt->seq;
	if (s->state == GP_SS_AUTH && gp_handoff_deferred(s))
		gp_handoff_defer_server(s, pkt);
	if (s->kill.phase == GP_KILL_CHECKING && s->internal &&
	    myp_resp_is_row(&s->resp, pkt->len, pkt->p, pkt->n))
		s->kill.privileged |= gp_kill_grant_row_allows(pkt->p, pkt->n);
	myp_resp_event_t ev = myp_resp_feed_server(&s->resp, pkt->len, pkt->p, pkt->n);
	if (ev == MYP_RESP_EPROTO) {
		slog(s, GP_LOG_ERROR, "backend_protocol_error", "cmd=%s len=%u first=%u",
		     myp_cmd_name(s->resp.cmd), pkt->len, pkt->n ? pkt->p[0] : 0);
		gp_session_close(s, GP_CLOSE_BACKEND_PROTOCOL_ERROR);
		return GP_PKT_STOP;
	}
	bool internal = s->internal;
	if (ev == MYP_RESP_DONE) {
		if (s->resp.failed && !internal)
			s->proxy->stats.err_packets++;
		s->client_discard = s->client_cont;
		session_response_done(s); /* acted on in server_scanned, after the relay */
		if (!internal && s->kill.phase == GP_KILL_RELAYED)
			return session_kill_reply(s, pkt);
	}
	return internal ? GP_PKT_DROP : GP_PKT_FORWARD;
}

static void server_ended(gp_io_t *io, gp_status_t st)
{
	gp_session_t *s = io->owner;
	switch (s->state) {
	case GP_SS_CONNECTING:
	case GP_SS_GREETING:
		s->proxy->backends[s->backend].last_error = st;
		slog(s, GP_LOG_WARN, "backend_connect_failed", "error=\"%s\"", gp_strerror(st));
		session_retry(s);
		return;
	case GP_SS_CLOSING:
		return;
	default:
		break;
	}
	slog(s, GP_LOG_WARN, "backend_lost", "error=\"%s\" in_flight=%d", gp_strerror(st),
	     s->in_flight);
	/* The client's connection ends as the backend's did, after what was relayed: every client
	 * library then reports its own lost-connection error for a statement in flight (and
	 * marks the connection dead, so that its reconnect logic runs). An ERR of the proxy's own
	 * would not do: libmariadb takes one with a client error code (2013) for a malformed
	 * packet, one with a server code reads as that server error while the library still
	 * believes the connection alive, and a result cut mid-packet cannot be ended by one. */
	gp_session_close(s, GP_CLOSE_BACKEND_LOST);
}

static const gp_io_proto_t server_proto = {
        .packet = server_packet,
        .ended = server_ended,
        .closed = session_io_closed,
        .scanned = server_scanned,
};

/* ---- accept ------------------------------------------------------------------- */

static void session_name_client(gp_session_t *s)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	char host[48] = "?";
	int port = 0;
	if (uv_tcp_getpeername(&s->client.tcp, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
			uv_ip6_name(a, host, sizeof(host));
			port = ntohs(a->sin6_port);
		} else {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;
			uv_ip4_name(a, host, sizeof(host));
			port = ntohs(a->sin_port);
		}
	}
	snprintf(s->client_addr, sizeof(s->client_addr), "%s:%d", host, port);
}

void gp_session_accept(gp_proxy_t *p, gp_endpoint_t ep, uv_stream_t *listener)
{
	gp_session_t *s = calloc(1, sizeof(*s));
	if (!s || gp_io_init(&s->client, p->loop, &client_proto, s) != GP_OK) {
		/* Returning without uv_accept would leave the listener deaf (libuv stops polling
		 * it while a connection is pending) and the descriptor open. */
		free(s);
		gp_proxy_refuse(p, listener);
		return;
	}
	s->proxy = p;
	s->endpoint = ep;
	s->backend = -1;
	s->close_after_relay = GP_CLOSE_NONE;
	s->close_reason = GP_CLOSE_NONE;
	s->id = ++p->next_conn_id;
	gp_list_init(&s->link);
	gp_list_init(&s->drain_link);
	gp_handoff_init(&s->hs);
	s->open_handles = 1;
	if (uv_accept(listener, (uv_stream_t *)&s->client.tcp) < 0 ||
	    gp_io_init(&s->server, p->loop, &server_proto, s) != GP_OK) {
		/* Nothing to say to a socket we could not take; let it go. */
		s->state = GP_SS_CLOSING;
		gp_list_append(&p->sessions[GP_SS_CLOSING], &s->link);
		p->nsessions++;
		gp_io_close(&s->client, false);
		return;
	}
	s->open_handles = 3;
	uv_timer_init(p->loop, &s->timer);
	s->timer.data = s;
	s->client.peer = &s->server;
	s->server.peer = &s->client;
	gp_io_tune(&s->client);
	s->client.peek = GP_CLIENT_PEEK;
	session_name_client(s);
	p->nsessions++;
	s->state = GP_SS_CONNECTING;
	gp_list_append(&p->sessions[GP_SS_CONNECTING], &s->link);
	s->wait_deadline = uv_now(p->loop) + (uint64_t)p->cfg->routing_connect_wait_ms;
	p->stats.accepted++;
	if (p->shutting_down) {
		p->stats.rejected_shutdown++;
		gp_session_fail(s, 0, GP_ER_SERVER_SHUTDOWN, "08S01",
		                "galera-proxy: shutdown in progress", GP_CLOSE_SHUTDOWN);
		return;
	}
	if (p->nclients >= (uint32_t)p->cfg->limits_max_client_connections) {
		p->stats.rejected_limit++;
		slog(s, GP_LOG_WARN, "client_rejected", "reason=max_client_connections limit=%lld",
		     (long long)p->cfg->limits_max_client_connections);
		gp_session_fail(s, 0, GP_ER_CON_COUNT, "08004", "Too many connections",
		                GP_CLOSE_LIMIT);
		return;
	}
	s->counted = true;
	p->nclients++;
	s->handshake_deadline =
	        uv_now(p->loop) + (uint64_t)p->cfg->limits_client_handshake_timeout_ms;
	if (s->wait_deadline > s->handshake_deadline)
		s->wait_deadline = s->handshake_deadline;
	slog(s, GP_LOG_DEBUG, "client_accept", "endpoint=%s", gp_endpoint_name(ep));
	gp_handoff_client_arrived(p);
	session_route(s);
}

void gp_session_shutdown(gp_session_t *s)
{
	if (s->state <= GP_SS_GREETING) {
		/* The client has seen nothing yet: refuse it the way servers do. */
		s->proxy->stats.rejected_shutdown++;
		gp_session_fail(s, 0, GP_ER_SERVER_SHUTDOWN, "08S01",
		                "galera-proxy: shutdown in progress", GP_CLOSE_SHUTDOWN);
		return;
	}
	/* Finish the command and transaction in flight; close once quiet (as a drain does),
	 * so a client between the statements of one request is not cut. */
	uint64_t deadline =
	        uv_now(s->proxy->loop) + (uint64_t)s->proxy->cfg->limits_shutdown_timeout_ms;
	gp_session_drain(s, deadline, GP_CLOSE_SHUTDOWN);
}

void gp_session_wake(gp_session_t *s)
{
	if (s->state != GP_SS_WAITING)
		return;
	/* A backend this session failed to reach is skipped while it waits, but not for good:
	 * once a probe interval has passed, the monitor's word that it serves again (a server
	 * restarted, say) counts, and a client that reconnected at once is not refused later. */
	uint64_t now = uv_now(s->proxy->loop);
	if (s->tried && now - s->tried_at >= (uint64_t)s->proxy->cfg->monitor_interval_ms)
		s->tried = 0;
	session_route(s);
}

bool gp_session_adopt(gp_session_t *s, int b, int fd, const uint8_t *greeting, uint32_t n,
                      uint64_t greeted_at)
{
	if (n < MYP_HEADER_LEN || n > GP_GREETING_MAX || uv_tcp_open(&s->server.tcp, fd) != 0) {
		close(fd);
		return false;
	}
	uint8_t buf[GP_GREETING_MAX];
	memcpy(buf, greeting, n);
	s->backend = b;
	s->tried |= 1u << b;
	gp_handoff_adopting(s, greeted_at);
	session_join_backend(s);
	gp_io_tune(&s->server);
	gp_io_set_whole(&s->server, true);
	session_set_state(s, GP_SS_GREETING);
	gp_pkt_t pkt = {.len = n - MYP_HEADER_LEN,
	                .seq = buf[3],
	                .p = buf + MYP_HEADER_LEN,
	                .n = n - MYP_HEADER_LEN};
	if (session_on_greeting(s, &pkt) == GP_PKT_FORWARD &&
	    gp_io_send(&s->client, buf, n) != GP_OK)
		gp_session_close(s, GP_CLOSE_CLIENT_ERROR);
	gp_io_read(&s->server, true);
	return true;
}
