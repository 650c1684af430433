/* session.c - the I/O glue of a client session: its sockets, timers, lists run the core. */
#include "session/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "cluster/cluster.h"
#include "session/accounts.h"
#include "session/handoff.h"
#include "session/kill.h"
#include "base/log.h"
#include "session/kill_remote.h"
#include "session/move.h"
#include "session/router.h"
#include "core/counters.h"

#define GP_CLOSE_GRACE_MS 5000 /* a closing client that does not read is cut off after this */

static const gp_io_proto_t client_proto;
static const gp_io_proto_t server_proto;

static void session_route(gp_session_t *s);

const char *gp_session_backend_name(const gp_session_t *s)
{
	return s->backend >= 0 ? s->proxy->backends[s->backend].conf->name : "-";
}

bool gp_session_idle(const gp_session_t *s)
{
	return s->state == GP_SS_READY && gp_core_idle(&s->core);
}

/* The one place a session changes state: it moves to the list of its new state. */
static void session_set_state(gp_session_t *s, gp_session_state_t to)
{
	if (s->state == to)
		return;
	gp_proxy_move_session(s->proxy, &s->link, (int)s->state, (int)to);
	gp_slog(s, GP_LOG_DEBUG, "session_state", "from=%s to=%s", gp_session_state_name(s->state),
	        gp_session_state_name(to));
	s->state = to;
	gp_session_txn_recount(s);
}

static void session_arm(gp_session_t *s, gp_deadline_cb cb, uint64_t ms);

void gp_session_leave_backend(gp_session_t *s)
{
	if (!s->on_backend)
		return;
	gp_backend_t *b = &s->proxy->backends[s->backend];
	b->sessions--;
	if (s->endpoint == GP_EP_RW)
		b->sessions_rw--;
	s->on_backend = false;
	gp_cluster_session_left(&s->proxy->cluster, s->backend);
}

void gp_session_join_backend(gp_session_t *s)
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
	gp_session_leave_backend(s);
	gp_handoff_retry(s);
	s->tried_at = uv_now(s->proxy->loop);
	session_set_state(s, GP_SS_CONNECTING);
	s->retry_connect = true;
	gp_io_close(&s->server, false);
}

static void session_release(gp_session_t *s)
{
	gp_proxy_t *p = s->proxy;
	gp_proxy_move_session(p, &s->link, (int)s->state, -1);
	s->core.txn = MYP_TRANS_NONE;
	gp_session_txn_recount(s);
	gp_list_del(&s->drain_link);
	gp_session_leave_backend(s);
	gp_handoff_forget(s);
	gp_accounts_forget(p->acct, s->learned);
	gp_move_release(s);
	gp_core_release(&s->core);
	gp_proxy_deadline_stop(p, &s->timer);
	free(s->past_thread);
	if (s->core.kill.slot) /* closed while its cross-node KILL was checked */
		gp_kill_slot_give(&p->kill_jobs);
	if (s->counted)
		p->nclients--;
	p->nsessions--;
	free(s);
	gp_proxy_session_gone(p);
}

void gp_session_op_done(gp_session_t *s)
{
	if (--s->pending_ops == 0 && s->open_handles == 0)
		session_release(s);
}

static void on_handle_closed(gp_session_t *s)
{
	if (--s->open_handles == 0 && s->pending_ops == 0)
		session_release(s);
}

static void on_close_grace(gp_deadline_t *t)
{
	gp_session_t *s = gp_container_of(t, gp_session_t, timer);
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
	if (s->client.closing && !s->client.connected && s->server.closing && !s->server.connected)
		gp_proxy_deadline_stop(s->proxy, &s->timer);
	on_handle_closed(s);
}

bool gp_session_quit_server(gp_session_t *s)
{
	uint8_t quit[MYP_HEADER_LEN + 1];
	myp_wbuf_t w;
	myp_wbuf_init(&w, quit, sizeof(quit));
	myp_cmd_build(&w, MYP_COM_QUIT);
	return !w.failed && gp_io_send(&s->server, quit, w.len) == GP_OK;
}

void gp_session_close(gp_session_t *s, gp_close_t reason)
{
	if (s->state == GP_SS_CLOSING)
		return;
	s->close_reason = reason;
	gp_slog(s, GP_LOG_INFO, "session_close", "reason=%s state=%s", gp_close_name(reason),
	        gp_session_state_name(s->state));
	s->proxy->stats.closed++;
	gp_metrics_session_closed(s->proxy->metrics, reason);
	bool polite = s->state == GP_SS_READY && !s->core.in_flight && !s->server.ended;
	gp_handoff_closing(s); /* may park an unanswered backend connection */
	session_set_state(s, GP_SS_CLOSING);
	if (polite) /* an idle backend session gets a COM_QUIT: the server counts no abort */
		polite = gp_session_quit_server(s);
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
	uint64_t caps = s->core.caps ? s->core.caps : MYP_CLIENT_PROTOCOL_41;
	myp_err_build(&w, seq, caps, code, sqlstate, msg);
	gp_status_t st = w.failed ? GP_ETOOBIG : gp_io_send(&s->client, buf, w.len);
	if (st != GP_OK)
		gp_slog(s, GP_LOG_DEBUG, "send_err_failed", "code=%u error=\"%s\"", code,
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

/* Carry out what the core asked besides its verdict: the proxy's own bytes to each side, then
 * a failure or a close. False if the session is closing now. */
bool gp_session_apply(gp_session_t *s, gp_core_out_t *o)
{
	gp_status_t st;
	if (o->nclient && (st = gp_io_send(&s->client, o->client, o->nclient)) != GP_OK) {
		gp_slog(s, GP_LOG_DEBUG, "send_err_failed", "error=\"%s\"", gp_strerror(st));
		gp_session_close(s, GP_CLOSE_CLIENT_ERROR);
		return false;
	}
	if (o->nserver && (st = gp_io_send(&s->server, o->server, o->nserver)) != GP_OK) {
		gp_slog(s, GP_LOG_ERROR, "internal_send_failed", "error=\"%s\"", gp_strerror(st));
		gp_core_unsend(&s->core);
		gp_session_close(s, GP_CLOSE_BACKEND_LOST);
		return false;
	}
	if (o->fail_code)
		gp_session_fail(s, o->fail_seq, o->fail_code, o->fail_state, o->fail_msg, o->close);
	else if (o->close != GP_CLOSE_NONE)
		gp_session_close(s, o->close);
	return s->state != GP_SS_CLOSING;
}

static void on_timeout(gp_deadline_t *t);

static void session_arm(gp_session_t *s, gp_deadline_cb cb, uint64_t ms)
{
	gp_proxy_deadline(s->proxy, &s->timer, ms, cb);
}

static void session_arm_handshake(gp_session_t *s)
{
	uint64_t now = uv_now(s->proxy->loop);
	uint64_t left = s->handshake_deadline > now ? s->handshake_deadline - now : 0;
	session_arm(s, on_timeout, left);
}

static void on_timeout(gp_deadline_t *t)
{
	gp_session_t *s = gp_container_of(t, gp_session_t, timer);
	char msg[160];
	switch (s->state) {
	case GP_SS_WAITING:
		session_route(s); /* past the deadline now: routes or fails */
		return;
	case GP_SS_CONNECTING:
	case GP_SS_GREETING:
		s->proxy->backends[s->backend].last_error = GP_ETIMEDOUT;
		gp_slog(s, GP_LOG_WARN, "backend_connect_failed", "error=%s",
		        gp_strerror(GP_ETIMEDOUT));
		if (uv_now(s->proxy->loop) >= s->handshake_deadline) {
			snprintf(msg, sizeof(msg),
			         "galera-proxy: backend %s did not answer in time",
			         gp_session_backend_name(s));
			gp_session_fail(s, 0, GP_ER_NOT_READY, "08S01", msg,
			                GP_CLOSE_BACKEND_TIMEOUT);
			return;
		}
		session_retry(s);
		return;
	case GP_SS_HANDSHAKE:
	case GP_SS_AUTH:
		gp_slog(s, GP_LOG_WARN, "handshake_timeout", "state=%s",
		        gp_session_state_name(s->state));
		gp_session_close(s, GP_CLOSE_HANDSHAKE_TIMEOUT);
		return;
	default:
		return;
	}
}

/* ---- backend connect and greeting ----------------------------------------- */

static void on_connected(gp_io_t *io, gp_status_t st)
{
	gp_session_t *s = io->owner;
	if (s->state != GP_SS_CONNECTING || s->server.closing)
		return;
	gp_backend_t *b = &s->proxy->backends[s->backend];
	if (st != GP_OK) {
		b->last_error = st;
		b->connect_failures++;
		gp_slog(s, GP_LOG_WARN, "backend_connect_failed", "error=\"%s\"",
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
	gp_session_join_backend(s);
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
		gp_slog(s, GP_LOG_WARN, "client_rejected", "reason=no_backend detail=\"%s\"", why);
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
	gp_status_t st =
	        gp_io_connect(&s->server, (const struct sockaddr *)&s->proxy->backends[b].addr);
	if (st != GP_OK) {
		on_connected(&s->server, st);
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
	/* Handoff keeps the greeting as the server sent it; the core patches the packet. */
	uint8_t raw[MYP_HEADER_LEN + GP_GREETING_MAX];
	const uint8_t *whole = pkt->p - MYP_HEADER_LEN;
	uint32_t nwhole = pkt->n + MYP_HEADER_LEN;
	if (nwhole <= sizeof(raw)) {
		memcpy(raw, whole, nwhole);
		whole = raw;
	}
	gp_core_out_t o;
	gp_core_out_init(&o);
	gp_pkt_action_t v = gp_core_server_packet(&s->core, pkt, &o);
	if (o.ev & GP_CORE_EV_REFUSED) {
		s->proxy->backends[s->backend].last_error = GP_EDB;
		return v; /* relayed, then closed */
	}
	if (o.ev & GP_CORE_EV_BAD_GREETING) {
		s->proxy->stats.btls_unsupported += o.close == GP_CLOSE_BACKEND_TLS_FAILED;
		s->proxy->backends[s->backend].last_error = GP_EPROTO;
		gp_session_apply(s, &o);
		return v;
	}
	gp_handoff_greeted(s, whole, nwhole);
	if (o.ev & GP_CORE_EV_DEFER_GREETING) {
		uint64_t caps;
		if (gp_handoff_defer_respond(s, (uint8_t)(pkt->seq + 1), &o.g, &caps) != GP_OK) {
			gp_session_fail(s, 2, GP_ER_NOT_READY, "08S01",
			                "galera-proxy: backend changed", GP_CLOSE_BACKEND_PROTOCOL);
			return GP_PKT_DROP;
		}
		gp_core_defer_auth(&s->core, &o.g, caps);
		session_set_state(s, GP_SS_AUTH);
		session_arm_handshake(s);
		gp_io_read(&s->client, true);
		return v;
	}
	session_set_state(s, GP_SS_HANDSHAKE);
	session_arm(s, on_timeout, gp_handoff_answer_ms(s));
	gp_io_set_whole(&s->client, true);
	gp_io_read(&s->client, true);
	return v;
}

/* ---- client side ----------------------------------------------------------- */

uint32_t gp_session_conn_id(const gp_session_t *s)
{
	return GP_CONN_ID_BASE | (s->id & (GP_CONN_ID_BASE - 1));
}

/* ---- the core's hooks and packets ------------------------------------------------------ */

static void session_core_log(const gp_core_t *c, gp_log_level_t lvl, const char *event,
                             const char *fmt, va_list ap)
{
	const gp_session_t *s = gp_container_of(c, gp_session_t, core);
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	gp_log(lvl, event, "conn=%u client=" GP_CLIENT_FMT " backend=%s %s", s->id,
	       GP_CLIENT_ARGS(s), gp_session_backend_name(s), msg);
}

static const gp_core_env_t session_env = {
        .log = session_core_log,
        .find = gp_session_core_find,
        .find_past = gp_session_core_find_past,
};

/* A deferred client answered the proxy's greeting (r): its backend comes now. */
static gp_pkt_action_t session_defer_answered(gp_session_t *s, const gp_pkt_t *pkt,
                                              const myp_hsresp_t *r)
{
	if (gp_handoff_defer_answered(s, pkt, r)) {
		/* Not read until the backend has its response: a client that leaves now is
		 * noticed then, and its login refused rather than aborted. */
		gp_io_read(&s->client, false);
		session_set_state(s, GP_SS_CONNECTING);
		session_route(s); /* the backend's greeting is answered, not relayed */
	}
	return s->state == GP_SS_CLOSING ? GP_PKT_STOP : GP_PKT_DROP;
}

static gp_pkt_action_t client_packet(gp_io_t *io, gp_pkt_t *pkt)
{
	gp_session_t *s = io->owner;
	if (s->state != GP_SS_HANDSHAKE && s->state != GP_SS_AUTH && s->state != GP_SS_READY)
		return GP_PKT_HOLD;
	gp_core_out_t o;
	gp_core_out_init(&o);
	gp_pkt_action_t v = gp_move_client_packet(s, pkt, &o);
	if (!o.ev && o.close == GP_CLOSE_NONE && !o.nclient)
		return v; /* relayed as it is: the hot path */
	if (o.ev & GP_CORE_EV_COMMAND) {
		s->last_active = uv_now(s->proxy->loop);
		s->proxy->stats.commands++;
		s->cmd_start_ns = uv_hrtime();
		gp_metrics_command(s->proxy->metrics, (int)s->endpoint, o.cmd);
		/* its AuthSwitchRequest is read whole: the nonce a learned login needs */
		gp_io_set_whole(&s->server, o.cmd == MYP_COM_CHANGE_USER);
	}
	if (o.ev & GP_CORE_EV_DEFER_ANSWER)
		return session_defer_answered(s, pkt, &o.r);
	if (o.ev & GP_CORE_EV_START_TLS)
		return gp_session_start_tls(s);
	if (o.ev & GP_CORE_EV_BACKEND_TLS)
		return gp_session_btls_start(s, &o);
	if (o.close == GP_CLOSE_TLS_REQUIRED)
		s->proxy->stats.tls_refused_plain++;
	if (o.ev & GP_CORE_EV_AUTH) {
		session_set_state(s, GP_SS_AUTH);
		session_arm_handshake(s); /* the backend has seen the client now: never parked */
	}
	if (o.ev & GP_CORE_EV_KILL_REMOTE)
		v = gp_kill_remote_start(s, &o);
	gp_session_apply(s, &o);
	return v;
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
        .tls_ready = gp_session_tls_ready,
};

/* ---- server side ------------------------------------------------------------ */

/* The core completed a response (or the authentication): what follows for the session. */
static void session_response_done(gp_session_t *s, const gp_core_out_t *o, bool was_ready)
{
	uint64_t now = uv_now(s->proxy->loop);
	gp_session_txn_recount(s); /* the core may have changed s->core.txn */
	if (!o->internal && was_ready)
		gp_metrics_request_done(s->proxy->metrics, (int)s->endpoint,
		                        uv_hrtime() - s->cmd_start_ns);
	if (!o->internal && was_ready && s->endpoint == GP_EP_RW && !s->core.resp.failed)
		gp_cluster_rw_answer(&s->proxy->cluster, s->backend, uv_hrtime());
	if (o->ev & GP_CORE_EV_RO_FRESH)
		gp_core_want_sync(&s->core, s->proxy->cfg->routing_ro_causal_reads);
	if (o->ev & GP_CORE_EV_LOGGED_IN) {
		gp_learn_result_t r =
		        gp_accounts_login(s->proxy->acct, &s->learned, &s->core.learn);
		gp_slog(s, GP_LOG_DEBUG, "auth_learn", "result=%s", gp_learn_result_name(r));
	}
	if (o->ev & GP_CORE_EV_READY) {
		gp_proxy_deadline_stop(s->proxy, &s->timer);
		gp_handoff_done(s);
		gp_io_set_whole(&s->client, false);
		gp_io_set_whole(&s->server, false);
		s->client.peek = gp_core_peek(&s->core, true);
		s->server.peek = gp_core_peek(&s->core, false);
		session_set_state(s, GP_SS_READY);
		s->opened_at = now;
		char user[80];
		gp_slog(s, GP_LOG_INFO, "session_open", "user=%s endpoint=%s track=%s",
		        gp_kill_login_log(user, sizeof(user), &s->core.login),
		        gp_endpoint_name(s->endpoint), gp_core_track_name(&s->core));
	}
	if (!(o->ev & GP_CORE_EV_IDLE))
		return;
	/* A draining session is closed by gp_session_drain_tick once it has been quiet for
	 * GP_DRAIN_QUIET_MS: closing at the first idle instant would cut a client between the
	 * statements of one request (WordPress: SET NAMES, SELECT @@sql_mode, USE db, ...).
	 * The proxy's own commands (a ping asking about the transaction) are not activity. */
	if (!o->internal)
		s->last_active = now;
	/* ...but a transaction that just ended is a clean cut: a busy client that runs one
	 * transaction after another is never quiet, and the switch barrier waits for it. A
	 * statement that finishes past the drain deadline also closes the session. */
	if (s->draining && gp_session_idle(s) && !s->core.inject_ro && !s->core.inject_sync &&
	    (o->was_open || now >= s->drain_deadline || gp_session_drain_quiet(s, now)))
		gp_core_close_after_relay(&s->core, GP_CLOSE_DRAINED);
}

/* The relayed bytes of a server scan are on their way: now act on what they ended. */
static void server_scanned(gp_io_t *io)
{
	gp_session_t *s = io->owner;
	if (gp_core_compressed(&s->core) && s->state == GP_SS_READY &&
	    !gp_io_compressed(&s->client) && gp_io_start_compress(&s->client) != GP_OK) {
		/* The login OK went out plain; the client compresses from here on. */
		gp_session_close(s, GP_CLOSE_OUT_OF_MEMORY);
		return;
	}
	gp_core_out_t o;
	gp_core_out_init(&o);
	gp_core_scanned(&s->core, &o);
	if (o.ev & GP_CORE_EV_KILL_CHECKED) {
		gp_kill_remote_checked(s);
		return;
	}
	if (gp_session_apply(s, &o) && (o.ev & GP_CORE_EV_RESUME))
		gp_io_resume(&s->client);
}

static gp_pkt_action_t server_packet(gp_io_t *io, gp_pkt_t *pkt)
{
	gp_session_t *s = io->owner;
	if (s->state == GP_SS_GREETING)
		return session_on_greeting(s, pkt);
	gp_core_out_t o;
	gp_core_out_init(&o);
	bool was_ready = s->state == GP_SS_READY;
	gp_pkt_action_t v = gp_move_server_packet(s, pkt, &o);
	if (!o.ev && o.close == GP_CLOSE_NONE && !o.nclient)
		return v; /* relayed as it is: the hot path */
	if (o.ev & GP_CORE_EV_ERR_PACKET)
		s->proxy->stats.err_packets++;
	if (o.ev & GP_CORE_EV_DEFER_SERVER)
		gp_handoff_defer_server(s, pkt);
	if (o.ev & GP_CORE_EV_DONE)
		session_response_done(s, &o, was_ready); /* the rest in server_scanned */
	if (!gp_session_apply(s, &o))
		return GP_PKT_STOP;
	return v;
}

static void server_ended(gp_io_t *io, gp_status_t st)
{
	gp_session_t *s = io->owner;
	switch (s->state) {
	case GP_SS_CONNECTING:
	case GP_SS_GREETING:
		s->proxy->backends[s->backend].last_error = st;
		gp_slog(s, GP_LOG_WARN, "backend_connect_failed", "error=\"%s\"", gp_strerror(st));
		session_retry(s);
		return;
	case GP_SS_CLOSING:
		return;
	default:
		break;
	}
	if (gp_move_after_loss(s))
		return; /* idle: it moves once there is a writer */
	gp_slog(s, GP_LOG_WARN, "backend_lost", "error=\"%s\" in_flight=%d", gp_strerror(st),
	        s->core.in_flight);
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
        .connected = on_connected,
        .tls_ready = gp_session_btls_ready,
};

/* ---- accept ------------------------------------------------------------------- */

static void session_name_client(gp_session_t *s)
{
	struct sockaddr_storage ss;
	char host[48] = "?";
	int port = 0;
	if (gp_io_addr(&s->client, false, &ss) == GP_OK) {
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
	s->client_port = (uint16_t)port;
	gp_core_set_host(&s->core, host);
}

void gp_session_accept(gp_proxy_t *p, gp_endpoint_t ep, uv_stream_t *listener)
{
	gp_session_t *s = calloc(1, sizeof(*s));
	/* Room for its deadline first: arming it later can then not fail. */
	if (!s || !gp_proxy_deadline_room(p, p->nsessions + 1) || !gp_handoff_init(s) ||
	    gp_io_init(&s->client, p->loop, &client_proto, s) != GP_OK) {
		/* Returning without uv_accept would leave the listener deaf (libuv stops polling
		 * it while a connection is pending) and the descriptor open. */
		if (s)
			free(s->hs);
		free(s);
		gp_proxy_refuse(p, listener);
		return;
	}
	s->proxy = p;
	s->endpoint = ep;
	s->backend = -1;
	s->close_reason = GP_CLOSE_NONE;
	s->id = ++p->next_conn_id;
	gp_core_init(&s->core, &session_env, gp_session_conn_id(s), ep == GP_EP_RO);
	gp_core_offer_compress(&s->core, p->cfg->handshake_client_compression);
	gp_core_offer_tls(&s->core, p->tls != NULL, p->cfg->tls_require);
	gp_core_backend_tls(&s->core, p->btls != NULL);
	gp_list_init(&s->link);
	gp_list_init(&s->drain_link);
	s->open_handles = 1;
	if (gp_io_accept(&s->client, listener) != GP_OK ||
	    gp_io_init(&s->server, p->loop, &server_proto, s) != GP_OK) {
		/* Nothing to say to a socket we could not take; let it go. */
		s->state = GP_SS_CLOSING;
		gp_proxy_move_session(p, &s->link, -1, GP_SS_CLOSING);
		p->nsessions++;
		gp_io_close(&s->client, false);
		return;
	}
	s->open_handles = 2;
	s->client.peer = &s->server;
	s->server.peer = &s->client;
	gp_io_tune(&s->client);
	gp_io_set_wipe(&s->client); /* logins, COM_CHANGE_USER, passwords in SQL */
	s->client.peek = GP_CLIENT_PEEK;
	s->client.total_in = &p->stats.bytes_in; /* /metrics reads the totals, no session */
	s->client.total_out = &p->stats.bytes_out;
	session_name_client(s);
	p->nsessions++;
	s->state = GP_SS_CONNECTING;
	gp_proxy_move_session(p, &s->link, -1, GP_SS_CONNECTING);
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
		gp_slog(s, GP_LOG_WARN, "client_rejected",
		        "reason=max_client_connections limit=%lld",
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
	gp_slog(s, GP_LOG_DEBUG, "client_accept", "endpoint=%s", gp_endpoint_name(ep));
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
	if (n < MYP_HEADER_LEN || n > GP_GREETING_MAX) {
		close(fd);
		return false;
	}
	if (gp_io_adopt(&s->server, fd) != GP_OK)
		return false;
	uint8_t buf[GP_GREETING_MAX];
	memcpy(buf, greeting, n);
	s->backend = b;
	s->tried |= 1u << b;
	gp_handoff_adopting(s, greeted_at);
	gp_session_join_backend(s);
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
