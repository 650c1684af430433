/* session.h - one client session: its connections, timers, lists around its protocol core. */
#ifndef GP_SESSION_H
#define GP_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "net/io.h"
#include "base/close.h"
#include "session/core.h"
#include "session/handoff.h"
#include "session/kill.h"
#include "session/stmts.h"
#include "base/list.h"
#include "base/log.h"
#include "codec/myp.h"
#include "core/proxy.h"

/* Server thread ids a moved session remembers, so a KILL of an id it had still finds it. */
#define GP_SESSION_PAST 8

typedef struct gp_session {
	gp_list_t link;              /* in proxy->sessions[state] */
	gp_list_t drain_link;        /* in proxy->draining while draining */
	gp_proxy_t *proxy;           /* owner */
	gp_io_t client;              /* the client's connection */
	gp_io_t server;              /* the backend connection */
	gp_deadline_t timer;         /* the current phase's deadline (gp_proxy_deadline) */
	gp_session_state_t state;    /* where it sits */
	gp_endpoint_t endpoint;      /* which listener accepted it */
	uint32_t id;                 /* proxy connection id (logs) */
	int backend;                 /* backend index, -1 before one is chosen */
	uint32_t tried;              /* backends tried for this session (bit mask) */
	uint64_t tried_at;           /* loop time (ms) of the last failed backend attempt */
	uint64_t handshake_deadline; /* loop time (ms) by which auth must finish */
	uint64_t wait_deadline;      /* loop time (ms) until which it may wait for a backend */
	uint64_t drain_deadline;     /* loop time (ms) a draining session is closed at */
	uint64_t drain_started;      /* loop time (ms) the drain began */
	bool draining;               /* close at the next idle point (drain, fence) */
	uint32_t pending_ops;        /* proxy operations that will call back (keep alive) */
	bool counted;                /* counted in proxy->nclients */
	bool retry_connect;          /* server io closing to try the next backend */
	bool on_backend;             /* counted in its backend's sessions */
	uint8_t open_handles;        /* client, server still open */
	uint64_t last_active;        /* loop time (ms) of the last command */
	uint64_t opened_at;          /* loop time (ms) it authenticated */
	uint64_t cmd_start_ns;       /* uv_hrtime() when that command arrived (latency metric) */
	gp_close_t close_reason;     /* why it is closing (logs) */
	uint16_t client_port;        /* the client's port (its IP: gp_core_host) */
	struct gp_handshake *hs;     /* slot, greeting, deferred login until ready: handoff.c's */
	gp_core_t core;              /* the session protocol (core.c): caps, response, txn, KILL */
	myp_trans_t txn_counted;     /* what it adds to its backend's txn_open/txn_unknown */
	struct gp_learned *learned;  /* what its login taught (accounts.h), or NULL */
	struct gp_move *move;        /* its move to another node while one runs (move.h) */
	gp_stmts_t stmts;            /* its prepared statements (stmts.h) */
	gp_close_t drain_why;        /* why it is draining (a move may replace the close) */
	uint32_t unmov_counted;      /* the not-movable reasons it adds to the proxy's counts */
	bool mov_counted;            /* it is counted at all (ready): movable or by reason */
	uint32_t *past_thread; /* GP_SESSION_PAST threads it had before its moves, newest first
	                        * (allocated at its first move) */
	uint8_t npast;         /* how many of them are kept */
} gp_session_t;

/* The client's "ip:port" in a log line: GP_CLIENT_FMT in the format, GP_CLIENT_ARGS(s) in
 * its arguments (formatted only when a line is written: an idle session holds no copy). */
#define GP_CLIENT_FMT     "%s:%u"
#define GP_CLIENT_ARGS(s) gp_core_host(&(s)->core), (unsigned)(s)->client_port
/* One log line naming the session (conn, client, backend). */
#define gp_slog(s, lvl, event, fmt, ...)                                                       \
	do {                                                                                   \
		if (gp_log_enabled(lvl))                                                       \
			gp_log(lvl, event, "conn=%u client=" GP_CLIENT_FMT " backend=%s " fmt, \
			       (s)->id, GP_CLIENT_ARGS(s), gp_session_backend_name(s),         \
			       ##__VA_ARGS__);                                                 \
	} while (0)
/* The name of the session's backend ("-" before one is chosen). */
const char *gp_session_backend_name(const gp_session_t *s);
/* The live session (not closing, past connecting) with client-visible id conn_id, or NULL. */
gp_session_t *gp_session_find(gp_proxy_t *p, uint64_t conn_id);
/* The core's KILL hooks (find.c): the session with proxy id `id` on a backend; the session
 * that had server thread `id` before a move (false if a session on the asker's node has it
 * now: the server's KILL then means that one). */
bool gp_session_core_find(const gp_core_t *c, uint64_t id, gp_core_target_t *out);
bool gp_session_core_find_past(const gp_core_t *c, uint64_t id, gp_core_target_t *out);
/* s moved off server thread `thread`: remember it (the oldest is forgotten). */
void gp_session_note_past(gp_session_t *s, uint32_t thread);
/* Carry out what the core asked besides a packet's verdict (bytes of the proxy's own, a
 * failure or a close); false if the session is closing now. */
bool gp_session_apply(gp_session_t *s, gp_core_out_t *o);
/* An operation counted in pending_ops called back (frees a closed session's last hold). */
void gp_session_op_done(gp_session_t *s);

/* The session a walk's list link belongs to (gp_proxy_each_session). */
static inline gp_session_t *gp_session_of(gp_list_t *link)
{
	return gp_container_of(link, gp_session_t, link);
}

/* The connection id the client sees (greeting, CONNECTION_ID() excepted). */
uint32_t gp_session_conn_id(const gp_session_t *s);
/* Take a connection accepted on ep's listener. */
void gp_session_accept(gp_proxy_t *p, gp_endpoint_t ep, uv_stream_t *listener);
/* Close the session (idempotent). */
/* Send the backend a COM_QUIT (an idle leg about to close): false if it could not. */
bool gp_session_quit_server(gp_session_t *s);
void gp_session_close(gp_session_t *s, gp_close_t reason);
/* The client sent an SSL request (the core said START_TLS): TLS from the next byte read
 * (client_tls.c). The packet's verdict: stop scanning. */
gp_pkt_action_t gp_session_start_tls(gp_session_t *s);
/* The client leg's TLS context from cfg's tls section (*out NULL when it is not configured);
 * GP_ECONFIG with err saying which file failed (never key content) when it cannot be built.
 * At start, --check-config and every reload (a renewed certificate at the same path). */
GP_WUR gp_status_t gp_session_tls_build(const gp_config_t *cfg, struct gp_tls_ctx **out, char *err,
                                        size_t errlen);
/* The client's TLS handshake finished or failed (its io's tls_ready, client_tls.c). */
void gp_session_tls_ready(gp_io_t *io, gp_status_t st);
/* The backend leg's TLS context from tls.backend* (*out NULL when backend = off), as
 * gp_session_tls_build (start, --check-config, every reload: new backend legs use it). */
GP_WUR gp_status_t gp_session_btls_build(const gp_config_t *cfg, struct gp_tls_ctx **out, char *err,
                                         size_t errlen);
/* The core asked for TLS to the backend (BACKEND_TLS): send its SSL request (o->server) and
 * start the handshake (backend_tls.c). The client's packet's verdict: held until it is up. */
gp_pkt_action_t gp_session_btls_start(gp_session_t *s, const gp_core_out_t *o);
/* Send an SSL request (req, n bytes) to the backend of s and start TLS as its client. */
GP_WUR gp_status_t gp_session_btls_connect(gp_session_t *s, const uint8_t *req, size_t n);
/* The backend's TLS handshake finished or failed (its io's tls_ready, backend_tls.c). */
void gp_session_btls_ready(gp_io_t *io, gp_status_t st);
/* Send the client an ERR of the proxy's own (code, sqlstate, msg; seq as the client
 * expects it), then close the session with reason. */
void gp_session_fail(gp_session_t *s, uint8_t seq, uint16_t code, const char *sqlstate,
                     const char *msg, gp_close_t reason);
/* Shutdown: close now if idle outside a transaction, else after the transaction. */
void gp_session_shutdown(gp_session_t *s);
/* Idle and known to hold no transaction (a safe point to close or move the session). */
bool gp_session_idle(const gp_session_t *s);
/* Idle but for a transaction only an ERR's guess says it may hold: ask the server (an
 * internal COM_PING: warnings and transaction stay as they were); the answer settles it, a
 * draining session found without one is then closed. */
void gp_session_txn_ask(gp_session_t *s);
/* Sessions on backend b (any endpoint when ep < 0) that hold a transaction (*open: as the
 * server said, or as an ERR implies) and that may hold one (*unknown: asked when needed). */
void gp_session_txn_count(const gp_proxy_t *p, int b, int ep, uint32_t *open, uint32_t *unknown);
/* Its backend's transaction counts follow a ready session's txn: call after the state or
 * s->core.txn changed (session.c: state changes and completed responses). */
void gp_session_txn_recount(gp_session_t *s);
/* The proxy's movable / not-movable counts follow a ready session's state (movable.c); called
 * from gp_session_txn_recount, i.e. wherever the state or a response changes. */
void gp_session_movable_recount(gp_session_t *s);
/* The name of one not-movable reason bit (state.h, stmts.h): "unknown" if it has none. */
const char *gp_session_unmov_name(uint32_t bit);
/* A waiting session: try to route it now (a writer or reader appeared). */
void gp_session_wake(gp_session_t *s);
/* It counts on its backend (s->backend) / no longer does (move.c moves it between them). */
void gp_session_join_backend(gp_session_t *s);
void gp_session_leave_backend(gp_session_t *s);
/* Take over a greeted, unanswered backend connection of backend b (fd is consumed) and
 * relay its greeting to the client; false (fd closed) if the socket cannot be taken. */
bool gp_session_adopt(gp_session_t *s, int b, int fd, const uint8_t *greeting, uint32_t n,
                      uint64_t greeted_at);

#include "session/drain.h"

#endif
