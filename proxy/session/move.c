/* move.c - moving an idle session to another node: log in there, replay its state, swap legs. */
#include "session/move.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "codec/myp_stmt.h"
#include "core/counters.h"
#include "session/accounts.h"
#include "session/auth.h"
#include "session/move_replay.h"
#include "session/router.h"
#include "session/session.h"

#define GP_MOVE_RETRY_MS 50 /* how often a move waiting for a target or a slot looks again */

typedef enum move_phase {
	MOVE_START,   /* decided; begins on the next loop turn (never inside a walk) */
	MOVE_LASTID,  /* planned: the old session's LAST_INSERT_ID() is read */
	MOVE_CLOSING, /* the old leg is closing */
	MOVE_TARGET,  /* waiting for somewhere to go (a writer after a loss, a slot) */
	MOVE_CONNECT, /* the new leg connects */
	MOVE_GREET,   /* waiting for its greeting */
	MOVE_AUTH,    /* the login runs */
	MOVE_REPLAY,  /* the state is replayed (gp_move_replay_next) */
	MOVE_BARRIER  /* swapped; the client's next command waits for the switch barrier */
} move_phase_t;

struct gp_move {
	move_phase_t phase;                /* where it is */
	gp_close_t why;                    /* what wanted the session off (closes on no target) */
	bool planned;                      /* the old node is alive (else: lost) */
	bool slot;                         /* holds a handshake slot of `to` */
	int from, to;                      /* backends */
	uint32_t old_thread;               /* the old server's thread id (log) */
	uint32_t thread;                   /* the new one's */
	uint64_t server_caps;              /* what the new server offered */
	uint64_t started_ns;               /* uv_hrtime() at the decision (move time) */
	uint64_t deadline;                 /* loop ms: waiting for a target ends here */
	uint64_t decided_at;               /* loop ms of the decision */
	const gp_io_proto_t *session_side; /* the server leg's proto, given back at the swap */
	gp_move_replay_t replay;           /* the replay's steps (move_replay.c) */
};

static const gp_io_proto_t move_proto;
static void move_wake_one(gp_session_t *s);

bool gp_move_reason(gp_close_t why)
{
	switch (why) {
	case GP_CLOSE_WRITER_CHANGED:
	case GP_CLOSE_WRITER_DOWN:
	case GP_CLOSE_READER_DOWN:
	case GP_CLOSE_READER_INELIGIBLE:
	case GP_CLOSE_MAINTENANCE:
	case GP_CLOSE_ADMIN_DRAIN:
	case GP_CLOSE_BACKEND_REMOVED:
	case GP_CLOSE_BACKEND_LOST:
		return true;
	default:
		return false; /* shutdown, fencing, timeouts: the session is meant to end */
	}
}

uint32_t gp_move_unmovable(const gp_session_t *s)
{
	uint32_t why = gp_stmts_unmovable(&s->stmts) | gp_move_replay_unmovable(s);
	if (!gp_accounts_learned(s->learned))
		why |= GP_UNMOV_NOT_LEARNED;
	if (s->core.client_cont)
		why |= GP_UNMOV_CLIENT_CONT;
	return why;
}

/* Where s could go now: the writer (or another reader) if it is not where s is; -1: none. */
static int move_target(gp_session_t *s, int from)
{
	gp_proxy_t *p = s->proxy;
	if (s->endpoint == GP_EP_RW) {
		int w = gp_cluster_writer(&p->cluster);
		return w >= 0 && w != from && !p->fenced ? w : -1;
	}
	char why[256];
	return gp_router_pick(p, GP_EP_RO, from >= 0 ? 1u << from : 0, why, sizeof(why));
}

/* A backend's name for the log ("-": none, or gone with a reload). */
static const char *move_name(const gp_session_t *s, int b)
{
	return b >= 0 && (size_t)b < s->proxy->nbackends ? s->proxy->backends[b].conf->name : "-";
}

static void move_done(gp_session_t *s)
{
	gp_move_t *m = s->move;
	if (m->phase == MOVE_TARGET || m->phase == MOVE_BARRIER)
		s->proxy->moves_waiting--;
	if (m->session_side)
		s->server.proto = m->session_side; /* the session's callbacks again */
	gp_move_replay_free(&m->replay);
	free(m);
	s->move = NULL;
}

/* Let the handshake slot of the target go. */
static void move_unslot(gp_session_t *s)
{
	gp_move_t *m = s->move;
	if (!m->slot)
		return;
	m->slot = false;
	if (m->to < 0 || (size_t)m->to >= s->proxy->nbackends)
		return;
	gp_backend_t *b = &s->proxy->backends[m->to];
	if (b->hs_slots)
		b->hs_slots--;
	gp_handoff_slot_freed(s->proxy, m->to);
}

static void move_set_phase(gp_session_t *s, move_phase_t to)
{
	gp_move_t *m = s->move;
	bool waits = to == MOVE_TARGET || to == MOVE_BARRIER;
	bool waited = m->phase == MOVE_TARGET || m->phase == MOVE_BARRIER;
	if (waits && !waited)
		s->proxy->moves_waiting++;
	else if (!waits && waited)
		s->proxy->moves_waiting--;
	m->phase = to;
}

/* The move cannot finish: close the session, with the server's error if the client waits. */
static void move_fail(gp_session_t *s, uint16_t code, const char *state, const char *msg,
                      bool forget)
{
	gp_move_t *m = s->move;
	gp_slog(s, GP_LOG_WARN, "session_move_failed", "from=%s to=%s code=%u phase=%d",
	        move_name(s, m->from), move_name(s, m->to), code, (int)m->phase);
	gp_metrics_session_move_failed(s->proxy->metrics);
	if (forget) {
		/* never again with what may be a stale credential: the server's word stands */
		gp_accounts_forget(s->proxy->acct, s->learned);
		s->learned = NULL;
	}
	move_unslot(s);
	bool waiting = s->client.held;
	move_done(s);
	if (waiting && code)
		gp_session_fail(s, 1, code, state, msg, GP_CLOSE_MOVE_FAILED);
	else
		gp_session_close(s, GP_CLOSE_MOVE_FAILED);
}

/* The session goes on as it was before the move began (it was never off its node). */
static void move_abandon(gp_session_t *s)
{
	gp_close_t why = s->move->why;
	move_done(s);
	gp_io_resume(&s->client);
	if (s->state == GP_SS_READY)
		gp_session_drain(s, uv_now(s->proxy->loop), why);
}

static void move_timer(gp_deadline_t *t);

static void move_arm(gp_session_t *s, uint64_t ms)
{
	gp_proxy_deadline(s->proxy, &s->timer, ms, move_timer);
}

/* Connect the new leg to target b through one of its handshake slots. */
static void move_connect(gp_session_t *s, int b)
{
	gp_move_t *m = s->move;
	gp_proxy_t *p = s->proxy;
	gp_backend_t *be = &p->backends[b];
	uint64_t slots = (uint64_t)p->cfg->handshake_slots;
	if (slots && be->hs_slots >= slots) {
		move_set_phase(s, MOVE_TARGET); /* busy: look again shortly */
		move_arm(s, GP_MOVE_RETRY_MS);
		return;
	}
	be->hs_slots++;
	m->slot = true;
	m->to = b;
	s->backend = b; /* logs name the new node from here; it joins it at the swap */
	move_set_phase(s, MOVE_CONNECT);
	move_arm(s, (uint64_t)p->cfg->limits_backend_connect_timeout_ms);
	gp_status_t st = gp_io_connect(&s->server, (const struct sockaddr *)&be->addr);
	if (st != GP_OK)
		move_fail(s, 0, NULL, NULL, false);
}

/* After its leg ended: the old node is alive if the monitor reached it since (the server
 * ended this one connection itself: a KILL, wait_timeout); a session is not moved away from
 * what its server meant. */
static bool move_old_alive(gp_session_t *s)
{
	gp_move_t *m = s->move;
	gp_proxy_t *p = s->proxy;
	if (m->why != GP_CLOSE_BACKEND_LOST || m->from < 0 || (size_t)m->from >= p->nbackends)
		return false;
	const gp_probe_t *pr = gp_cluster_node(&p->cluster, (size_t)m->from)->probe;
	return pr && pr->ok && pr->at_ms > (int64_t)m->decided_at;
}

/* Find the target and go, or wait for one until the deadline. */
static void move_route(gp_session_t *s)
{
	gp_move_t *m = s->move;
	/* A lost leg moves only once the cluster has given up its node. */
	bool known = m->why != GP_CLOSE_BACKEND_LOST ||
	             !gp_router_still_valid(s->proxy, s->endpoint, m->from);
	int b = known ? move_target(s, m->from) : -1;
	if (b >= 0) {
		move_connect(s, b);
		return;
	}
	if (uv_now(s->proxy->loop) >= m->deadline || (!known && move_old_alive(s))) {
		gp_close_t why = m->why;
		gp_slog(s, GP_LOG_INFO, "session_move_nowhere", "from=%s why=%s",
		        move_name(s, m->from), gp_close_name(why));
		move_done(s);
		gp_session_close(s, why);
		return;
	}
	move_set_phase(s, MOVE_TARGET);
	move_arm(s, GP_MOVE_RETRY_MS);
}

/* The old leg is closed: set the server io up afresh for the new one. */
static void move_old_closed(gp_session_t *s)
{
	if (gp_io_init(&s->server, s->proxy->loop, &move_proto, s) != GP_OK) {
		s->open_handles--;
		move_done(s);
		gp_session_close(s, GP_CLOSE_OUT_OF_MEMORY);
		return;
	}
	s->server.peer = &s->client;
	s->client.peer = &s->server;
	move_route(s);
}

static bool move_collation_lost(gp_session_t *s);

/* Leave the old node: COM_QUIT first if its leg still works (polite). */
static void move_leave(gp_session_t *s, bool polite)
{
	if (move_collation_lost(s))
		return;
	if (polite)
		polite = gp_session_quit_server(s);
	gp_session_leave_backend(s);
	move_set_phase(s, MOVE_CLOSING);
	gp_io_close(&s->server, polite);
}

/* The old session did not tell its LAST_INSERT_ID(): the replay uses the last OK's, which
 * is what a move after a loss uses too (README); the log says so. */
static void move_lastid_fallback(gp_session_t *s, const char *why)
{
	bool known = gp_sstate_has_last_insert_id(&s->core.st);
	gp_slog(s, GP_LOG_WARN, "session_move_lastid_fallback", "from=%s why=%s tracked=%s",
	        move_name(s, s->move->from), why, known ? "known" : "none");
}

/* Leaving: a session whose collation only the old session knew, and did not tell (the read
 * failed, or the old leg had ended), cannot be re-created: true if it was failed (closed). */
static bool move_collation_lost(gp_session_t *s)
{
	if (!(gp_move_unmovable(s) & GP_UNMOV_COLLATION) || s->move->replay.coll_read)
		return false;
	move_fail(s, 0, NULL, NULL, false);
	return true;
}

/* MOVE_START: leave the old node, asking it for LAST_INSERT_ID() first if it is alive. */
static void move_begin(gp_session_t *s)
{
	gp_move_t *m = s->move;
	if (!gp_session_idle(s) || s->core.client_cont) {
		move_abandon(s); /* a command of the proxy's own began meanwhile */
		return;
	}
	bool alive = m->planned && !s->server.ended && !s->server.closing;
	m->session_side = s->server.proto;
	s->server.proto = &move_proto;
	if (alive) {
		gp_io_set_whole(&s->server, true);
		if (gp_move_replay_read_id(s, &m->replay)) {
			move_set_phase(s, MOVE_LASTID);
			move_arm(s, (uint64_t)s->proxy->cfg->limits_backend_connect_timeout_ms);
			gp_io_read(&s->server, true);
			return;
		}
		move_lastid_fallback(s, "send");
	}
	move_leave(s, alive);
}

static void move_timer(gp_deadline_t *t)
{
	gp_session_t *s = gp_container_of(t, gp_session_t, timer);
	gp_move_t *m = s->move;
	if (!m || s->state != GP_SS_READY)
		return;
	switch (m->phase) {
	case MOVE_START:
		move_begin(s);
		return;
	case MOVE_LASTID:
		move_lastid_fallback(s, "timeout");
		move_leave(s, false);
		return;
	case MOVE_TARGET:
		move_route(s);
		return;
	case MOVE_CONNECT:
	case MOVE_GREET:
	case MOVE_AUTH:
	case MOVE_REPLAY:
		move_fail(s, 0, NULL, NULL, false);
		return;
	default:
		return;
	}
}

/* Begin a move of idle s away from its node for why. */
static void move_decide(gp_session_t *s, gp_close_t why, bool planned)
{
	gp_move_t *m = calloc(1, sizeof(*m));
	if (!m)
		return;
	gp_proxy_t *p = s->proxy;
	m->why = why;
	m->planned = planned;
	m->from = s->backend;
	m->to = -1;
	m->old_thread = s->core.server_thread;
	m->started_ns = uv_hrtime();
	m->decided_at = uv_now(p->loop);
	m->deadline = m->decided_at + (uint64_t)p->cfg->routing_connect_wait_ms;
	s->move = m;
	if (s->draining) {
		s->draining = false; /* it leaves by moving, not by closing */
		gp_list_del(&s->drain_link);
		gp_list_init(&s->drain_link);
	}
	move_arm(s, 0);
}

bool gp_move_instead(gp_session_t *s, gp_close_t why)
{
	if (s->move) /* already leaving; a shutdown or a fence still closes it */
		return s->state == GP_SS_READY && gp_move_reason(why);
	bool planned = why != GP_CLOSE_WRITER_DOWN && why != GP_CLOSE_READER_DOWN;
	/* a planned move reads the collation off the old session (move_replay.h) */
	uint32_t unmov = gp_move_unmovable(s) & ~(planned ? (uint32_t)GP_UNMOV_COLLATION : 0u);
	if (!s->proxy->cfg->routing_move_sessions || !gp_move_reason(why) || !gp_session_idle(s) ||
	    unmov || s->proxy->shutting_down)
		return false;
	if (move_target(s, s->backend) < 0 && why != GP_CLOSE_WRITER_DOWN)
		return false; /* nowhere to go (a loss waits for a writer) */
	move_decide(s, why, planned);
	return s->move != NULL;
}

bool gp_move_after_loss(gp_session_t *s)
{
	if (s->move || !s->proxy->cfg->routing_move_sessions || !gp_session_idle(s) ||
	    gp_move_unmovable(s) || s->proxy->shutting_down || s->proxy->fenced)
		return false;
	gp_slog(s, GP_LOG_INFO, "backend_lost_idle", "move=1");
	move_decide(s, GP_CLOSE_BACKEND_LOST, false);
	return s->move != NULL;
}

/* The new leg is in place: the session runs there from the client's next command. */
static void move_swap(gp_session_t *s)
{
	gp_move_t *m = s->move;
	gp_proxy_t *p = s->proxy;
	if (m->to < 0) {
		move_fail(s, 0, NULL, NULL, false); /* a reload removed the target meanwhile */
		return;
	}
	move_unslot(s);
	s->server.proto = m->session_side;
	gp_io_set_whole(&s->server, false);
	s->server.peek = gp_core_peek(&s->core, false);
	gp_session_note_past(s, s->core.server_thread); /* a KILL of it still finds s */
	s->core.server_thread = m->thread;
	s->core.server_caps = m->server_caps;
	s->backend = m->to;
	gp_session_join_backend(s);
	uint64_t ns = uv_hrtime() - m->started_ns;
	gp_metrics_session_moved(p->metrics, m->planned, ns);
	gp_slog(s, GP_LOG_INFO, "session_move",
	        "from=%s to=%s reason=%s why=%s ms=%.1f stmts=%u old_thread=%u thread=%u",
	        move_name(s, m->from), p->backends[m->to].conf->name,
	        m->planned ? "planned" : "loss", gp_close_name(m->why), (double)ns / 1e6,
	        m->replay.reprepared, m->old_thread, m->thread);
	move_wake_one(s);
}

/* A moved session's next command may run once the router would send a new session there. */
static void move_wake_one(gp_session_t *s)
{
	gp_move_t *m = s->move;
	gp_proxy_t *p = s->proxy;
	if (gp_router_still_valid(p, s->endpoint, m->to)) {
		move_done(s);
		gp_io_resume(&s->client);
		return;
	}
	if (s->endpoint == GP_EP_RW && gp_cluster_writer(&p->cluster) == m->to) {
		move_set_phase(s, MOVE_BARRIER); /* the barrier: gp_move_wake lets it go */
		return;
	}
	/* The target is no longer where its sessions go: off again, as the others are. */
	gp_close_t why = m->why;
	move_done(s);
	gp_io_resume(&s->client);
	if (!gp_move_instead(s, why))
		gp_session_drain(s, uv_now(p->loop), why);
}

static bool move_wake_fn(gp_list_t *link, void *arg)
{
	(void)arg;
	gp_session_t *s = gp_session_of(link);
	if (s->move && s->move->phase == MOVE_BARRIER)
		move_wake_one(s);
	else if (s->move && s->move->phase == MOVE_TARGET)
		move_route(s);
	return true;
}

void gp_move_wake(gp_proxy_t *p)
{
	if (p->moves_waiting)
		gp_proxy_each_session(p, GP_SS_BIT(GP_SS_READY), move_wake_fn, NULL);
}

bool gp_move_waiting(const gp_proxy_t *p)
{
	return p->moves_waiting > 0;
}

void gp_move_remap(gp_session_t *s, const int *map, size_t nold)
{
	gp_move_t *m = s->move;
	if (!m)
		return;
	m->from = m->from >= 0 && (size_t)m->from < nold ? map[m->from] : -1;
	int to = m->to >= 0 && (size_t)m->to < nold ? map[m->to] : -1;
	if (to < 0)
		m->slot = false; /* its backend went, and the slot count with it */
	m->to = to;
}

void gp_move_release(gp_session_t *s)
{
	if (s->move) {
		move_unslot(s);
		move_done(s);
	}
	gp_stmts_free(&s->stmts);
}

/* ---- the new leg ------------------------------------------------------------------- */

static void move_connected(gp_io_t *io, gp_status_t st)
{
	gp_session_t *s = io->owner;
	if (!s->move || s->move->phase != MOVE_CONNECT || s->state != GP_SS_READY)
		return;
	if (st != GP_OK) {
		s->proxy->backends[s->move->to].connect_failures++;
		move_fail(s, 0, NULL, NULL, false);
		return;
	}
	gp_io_tune(&s->server);
	gp_handoff_connected(s); /* the PROXY protocol header, if configured */
	gp_io_set_whole(&s->server, true);
	move_set_phase(s, MOVE_GREET);
	gp_io_read(&s->server, true);
}

/* Send the new server our login for the session's user, answering nonce. */
static bool move_login(gp_session_t *s, const myp_greeting_t *g, uint8_t seq)
{
	gp_move_t *m = s->move;
	const gp_learned_t *l = s->learned;
	uint8_t reply[GP_AUTH_SHA1_LEN], buf[1024];
	uint64_t caps = s->core.caps | MYP_CLIENT_PLUGIN_AUTH | MYP_CLIENT_SECURE_CONNECTION |
	                MYP_CLIENT_PROTOCOL_41;
	caps &= ~(uint64_t)(MYP_CLIENT_CONNECT_ATTRS | MYP_CLIENT_CONNECT_WITH_DB |
	                    GP_CAPS_UNRELAYABLE);
	const char *db = gp_move_replay_schema(s);
	if (db[0])
		caps |= MYP_CLIENT_CONNECT_WITH_DB;
	if ((s->core.caps & ~(g->caps | MYP_CLIENT_CONNECT_ATTRS | MYP_CLIENT_CONNECT_WITH_DB)) &
	    ~(uint64_t)GP_CAPS_UNRELAYABLE)
		return false; /* it lacks what the client's responses are formatted by */
	size_t n = gp_auth_native_reply(&l->secret, g->scramble, g->scramble_len, reply);
	myp_hsresp_t r = {
	        .caps = caps,
	        .max_packet = 1u << 24,
	        .charset = (uint8_t)(s->core.login.charset ? s->core.login.charset : g->charset),
	        .user = (const uint8_t *)l->user,
	        .user_len = strlen(l->user),
	        .auth = reply,
	        .auth_len = n,
	        .db = (const uint8_t *)db,
	        .db_len = strlen(db),
	        .auth_plugin = (const uint8_t *)MYP_NATIVE_PLUGIN,
	        .auth_plugin_len = sizeof(MYP_NATIVE_PLUGIN) - 1};
	myp_wbuf_t w;
	myp_wbuf_init(&w, buf, sizeof(buf));
	myp_hsresp_build(&w, seq, &r);
	bool ok = !w.failed && gp_io_send(&s->server, buf, w.len) == GP_OK;
	memset(reply, 0, sizeof(reply));
	memset(buf, 0, sizeof(buf));
	m->server_caps = g->caps;
	m->thread = g->conn_id;
	return ok;
}

/* An auth switch of the new server: answer it if it is native, with its nonce. */
static bool move_switch(gp_session_t *s, const gp_pkt_t *pkt)
{
	myp_authswitch_t sw;
	uint8_t reply[GP_AUTH_SHA1_LEN], buf[64];
	if (myp_authswitch_parse(pkt->p, pkt->n, &sw) != MYP_OK ||
	    sw.plugin_len != sizeof(MYP_NATIVE_PLUGIN) - 1 ||
	    memcmp(sw.plugin, MYP_NATIVE_PLUGIN, sw.plugin_len) != 0)
		return false;
	size_t n = gp_auth_native_reply(&s->learned->secret, sw.data, sw.data_len, reply);
	myp_wbuf_t w;
	myp_wbuf_init(&w, buf, sizeof(buf));
	myp_auth_data_build(&w, (uint8_t)(pkt->seq + 1), reply, n);
	bool ok = !w.failed && gp_io_send(&s->server, buf, w.len) == GP_OK;
	memset(reply, 0, sizeof(reply));
	memset(buf, 0, sizeof(buf));
	return ok;
}

/* The server refused (an ERR packet p): fail the move with its own words. */
static void move_refused(gp_session_t *s, const gp_pkt_t *pkt, bool forget)
{
	myp_err_t e;
	char msg[256];
	if (myp_err_parse(pkt->p, pkt->n, s->core.caps | MYP_CLIENT_PROTOCOL_41, &e) != MYP_OK) {
		move_fail(s, 0, NULL, NULL, forget);
		return;
	}
	size_t n = e.message_len < sizeof(msg) - 1 ? e.message_len : sizeof(msg) - 1;
	memcpy(msg, e.message, n);
	msg[n] = '\0';
	move_fail(s, e.code, e.sqlstate, msg, forget);
}

/* Send the next replay statement, or swap when there is none left. */
static void move_next(gp_session_t *s)
{
	gp_move_t *m = s->move;
	switch (gp_move_replay_next(s, &m->replay)) {
	case GP_REPLAY_SENT:
		return;
	case GP_REPLAY_DONE:
		move_swap(s);
		return;
	case GP_REPLAY_FAILED:
		move_fail(s, 0, NULL, NULL, false);
		return;
	}
}

static gp_pkt_action_t move_packet(gp_io_t *io, gp_pkt_t *pkt)
{
	gp_session_t *s = io->owner;
	gp_move_t *m = s->move;
	if (!m || s->state != GP_SS_READY)
		return GP_PKT_DROP;
	uint8_t first = pkt->n ? pkt->p[0] : 0;
	myp_greeting_t g;
	switch (m->phase) {
	case MOVE_LASTID:
		switch (gp_move_replay_id_packet(&m->replay, pkt)) {
		case GP_REPLAY_SENT:
			return GP_PKT_DROP;
		case GP_REPLAY_DONE:
			move_leave(s, true);
			return GP_PKT_STOP;
		case GP_REPLAY_FAILED:
			move_lastid_fallback(s, first == 0xFF ? "err" : "answer");
			move_leave(s, m->replay.resp.failed); /* after an ERR the leg is sound */
			return GP_PKT_STOP;
		}
		return GP_PKT_DROP;
	case MOVE_GREET:
		if (first == 0xFF) {
			move_refused(s, pkt, false);
		} else if (myp_greeting_parse(pkt->p, pkt->n, &g) != MYP_OK ||
		           !move_login(s, &g, (uint8_t)(pkt->seq + 1))) {
			move_fail(s, 0, NULL, NULL, false);
		} else {
			move_set_phase(s, MOVE_AUTH);
		}
		return GP_PKT_DROP;
	case MOVE_AUTH:
		if (first == 0x00) {
			myp_ok_t ok;
			if (myp_ok_parse(pkt->p, pkt->n, m->server_caps & s->core.caps, &ok) ==
			    MYP_OK)
				m->replay.status = ok.status;
			move_set_phase(s, MOVE_REPLAY);
			move_next(s);
		} else if (first == 0xFF) {
			move_refused(s, pkt, true);
		} else if (first != 0xFE || !move_switch(s, pkt)) {
			move_fail(s, 0, NULL, NULL, true);
		}
		return GP_PKT_DROP;
	case MOVE_REPLAY:
		switch (gp_move_replay_packet(s, &m->replay, pkt)) {
		case GP_REPLAY_SENT: /* more of this answer to come */
			return GP_PKT_DROP;
		case GP_REPLAY_DONE:
			move_next(s);
			return GP_PKT_DROP;
		case GP_REPLAY_FAILED:
			if (first == 0xFF)
				move_refused(s, pkt, false);
			else
				move_fail(s, 0, NULL, NULL, false);
			return GP_PKT_STOP;
		}
		return GP_PKT_DROP;
	default:
		return GP_PKT_DROP;
	}
}

static void move_ended(gp_io_t *io, gp_status_t st)
{
	gp_session_t *s = io->owner;
	(void)st;
	if (s->move && s->state == GP_SS_READY && s->move->phase == MOVE_LASTID) {
		move_lastid_fallback(s, "ended"); /* the old node went: as after a loss */
		move_leave(s, false);
	} else if (s->move && s->state == GP_SS_READY && s->move->phase != MOVE_CLOSING) {
		move_fail(s, 0, NULL, NULL, false);
	}
}

static void move_closed(gp_io_t *io)
{
	gp_session_t *s = io->owner;
	gp_move_t *m = s->move;
	if (m && m->phase == MOVE_CLOSING && s->state == GP_SS_READY) {
		move_old_closed(s);
		return;
	}
	/* The session closes: its own callback counts the handle. */
	if (m && m->session_side)
		io->proto = m->session_side;
	if (io->proto != &move_proto)
		io->proto->closed(io);
}

static const gp_io_proto_t move_proto = {
        .packet = move_packet,
        .ended = move_ended,
        .closed = move_closed,
        .connected = move_connected,
};

/* ---- the session's packets ------------------------------------------------------------- */

gp_pkt_action_t gp_move_client_packet(gp_session_t *s, gp_pkt_t *pkt, gp_core_out_t *o)
{
	if (s->move)
		return GP_PKT_HOLD; /* its next command runs where it moves to */
	gp_stmts_act_t act = GP_STMTS_RELAY;
	if (s->proxy->cfg->routing_move_sessions && s->core.phase == GP_CORE_READY &&
	    !s->core.in_flight && !s->core.client_cont)
		act = gp_stmts_command(&s->stmts, pkt->p, pkt->n, pkt->len);
	if (act == GP_STMTS_REFUSE) {
		gp_core_answer(&s->core, (uint8_t)(pkt->seq + 1), 1243, "HY000",
		               "galera-proxy: this statement moved to another node; its first "
		               "execution there must fit the proxy's buffer",
		               o);
		return GP_PKT_DROP;
	}
	gp_pkt_action_t v = gp_core_client_packet(&s->core, pkt, o);
	if (act != GP_STMTS_REBUILD || v != GP_PKT_FORWARD)
		return v;
	/* The first EXECUTE on the new node: rebuilt with its types, the proxy's own bytes. */
	size_t cap = (size_t)pkt->n + MYP_HEADER_LEN + 16 + 2u * UINT16_MAX;
	uint8_t *buf = malloc(cap);
	myp_wbuf_t w;
	myp_wbuf_init(&w, buf, buf ? cap : 0);
	if (!buf || !gp_stmts_rebuild(&s->stmts, pkt->p, pkt->n, &w) ||
	    gp_io_send(&s->server, buf, w.len) != GP_OK) {
		free(buf);
		gp_core_unsend(&s->core);
		o->close = GP_CLOSE_MOVE_FAILED;
		return GP_PKT_STOP;
	}
	free(buf);
	return GP_PKT_DROP;
}

gp_pkt_action_t gp_move_server_packet(gp_session_t *s, gp_pkt_t *pkt, gp_core_out_t *o)
{
	if (s->stmts.pending && s->core.in_flight && !s->core.internal &&
	    s->core.resp.cmd == MYP_COM_STMT_PREPARE)
		gp_stmts_prepared(&s->stmts, pkt->p, pkt->n);
	gp_pkt_action_t v = gp_core_server_packet(&s->core, pkt, o);
	/* A drained session that just became idle moves rather than waiting to be closed. */
	if ((o->ev & GP_CORE_EV_IDLE) && s->draining && !o->internal &&
	    gp_move_reason(s->drain_why) && !s->core.inject_ro && !s->core.inject_sync)
		gp_move_instead(s, s->drain_why);
	return v;
}
