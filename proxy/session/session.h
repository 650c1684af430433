/* session.h - one client session: its client and backend connections and their protocol. */
#ifndef GP_SESSION_H
#define GP_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "net/io.h"
#include "session/close.h"
#include "session/handoff.h"
#include "session/kill.h"
#include "base/list.h"
#include "codec/myp.h"
#include "daemon/proxy.h"

/* MariaDB extended capabilities the codec tracks; any other (newer) one is masked out,
 * so a server never switches on a response format the proxy cannot follow. */
#define GP_CAPS_KNOWN_EXT                                                        \
	(MYP_MARIADB_CLIENT_PROGRESS | MYP_MARIADB_CLIENT_STMT_BULK_OPERATIONS | \
	 MYP_MARIADB_CLIENT_EXTENDED_METADATA | MYP_MARIADB_CLIENT_CACHE_METADATA)
/* Capabilities the proxy cannot relay (yet): TLS and compression change the framing,
 * MySQL's optional result-set metadata changes the column-count packet. */
#define GP_CAPS_UNRELAYABLE                                                   \
	(MYP_CLIENT_SSL | MYP_CLIENT_COMPRESS | MYP_CLIENT_ZSTD_COMPRESSION | \
	 MYP_CLIENT_OPTIONAL_RESULTSET_METADATA | (~0xFFFFFFFFull & ~GP_CAPS_KNOWN_EXT))
#define GP_CLIENT_PEEK 64 /* command bytes seen whole: enough for any KILL <id> */

typedef struct gp_session {
	gp_list_t link;               /* in proxy->sessions[state] */
	gp_list_t drain_link;         /* in proxy->draining while draining */
	gp_proxy_t *proxy;            /* owner */
	gp_io_t client;               /* the client's connection */
	gp_io_t server;               /* the backend connection */
	uv_connect_t connect_req;     /* backend connect */
	uv_timer_t timer;             /* the current phase's deadline */
	gp_session_state_t state;     /* where it sits */
	gp_endpoint_t endpoint;       /* which listener accepted it */
	uint32_t id;                  /* proxy connection id (logs) */
	int backend;                  /* backend index, -1 before one is chosen */
	uint32_t tried;               /* backends tried for this session (bit mask) */
	uint64_t tried_at;            /* loop time (ms) of the last failed backend attempt */
	uint64_t handshake_deadline;  /* loop time (ms) by which auth must finish */
	uint64_t wait_deadline;       /* loop time (ms) until which it may wait for a backend */
	uint64_t drain_deadline;      /* loop time (ms) a draining session is closed at */
	uint64_t drain_started;       /* loop time (ms) the drain began */
	bool draining;                /* close at the next idle point (drain, fence) */
	bool internal;                /* the command in flight is the proxy's own */
	bool inject_ro;               /* after this server scan: make the session read-only */
	bool inject_sync;             /* then: SET wsrep_sync_wait (routing.ro_causal_reads) */
	bool internal_sync;           /* the proxy's statement in flight is that SET */
	uint32_t server_thread;       /* the backend's thread id for this session */
	uint32_t pending_ops;         /* proxy operations that will call back (keep alive) */
	uint64_t caps;                /* capabilities both ends agreed on */
	uint64_t server_caps;         /* what the backend offered */
	myp_resp_t resp;              /* the command (or auth) in flight */
	bool in_flight;               /* resp is tracking something */
	bool client_cont;             /* last client packet was 0xFFFFFF long */
	bool client_discard;          /* the server answered mid-command: drop the rest of it */
	bool counted;                 /* counted in proxy->nclients */
	bool retry_connect;           /* server io closing to try the next backend */
	bool on_backend;              /* counted in its backend's sessions */
	bool resume_client;           /* after this server scan: let the client's next command in */
	gp_close_t close_after_relay; /* after this server scan: close for this (GP_CLOSE_NONE) */
	uint8_t cmd_seq;              /* sequence id of the current command's last client packet */
	uint8_t server_seq;           /* sequence id of the last server packet relayed */
	uint16_t status;              /* server status flags after the last response */
	myp_trans_t txn;              /* transaction state: set in session_txn_after only */
	bool txn_told;                /* txn is what the server's flags said, not an ERR's guess */
	uint8_t open_handles;         /* client, server, timer still open */
	uint64_t last_active;         /* loop time (ms) of the last command */
	uint64_t opened_at;           /* loop time (ms) it authenticated */
	uint64_t cmd_start_ns;        /* uv_hrtime() when that command arrived (latency metric) */
	gp_close_t close_reason;      /* why it is closing (logs) */
	char client_addr[64];         /* "ip:port" of the client */
	char user[64];                /* user name from the handshake (logs) */
	gp_handshake_t hs;            /* handshake slot, greeting, deferred login: handoff.c's */
	gp_kill_login_t login;        /* the login user as its server keeps it (who may KILL it) */
	gp_kill_login_t login_next;   /* a COM_CHANGE_USER's user, until the server accepts it */
	gp_kill_req_t kill;           /* a KILL of a proxy id this session sent (session_on_kill) */
} gp_session_t;

/* The connection id the client sees (greeting, CONNECTION_ID() excepted). */
uint32_t gp_session_conn_id(const gp_session_t *s);
/* Take a connection accepted on ep's listener. */
void gp_session_accept(gp_proxy_t *p, gp_endpoint_t ep, uv_stream_t *listener);
/* Close the session (idempotent). */
void gp_session_close(gp_session_t *s, gp_close_t reason);
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
/* Close the session at its next idle point, or at the deadline (loop ms), whichever first. */
void gp_session_drain(gp_session_t *s, uint64_t deadline, gp_close_t why);
#define GP_DRAIN_QUIET_MS    100   /* a draining session closes after this long without a command */
#define GP_DRAIN_PATIENCE_MS 1000  /* after this, any idle instant closes a draining session */
#define GP_DRAIN_YOUNG_MS    1000  /* a session this young is left to end by itself */
#define GP_DRAIN_TICK_MS     25    /* how often draining sessions are looked at */
#define GP_DRAIN_HARD_MS     10000 /* a statement still running this long past the deadline is cut */
/* Idle outside a transaction and quiet for GP_DRAIN_QUIET_MS. */
bool gp_session_drain_quiet(const gp_session_t *s, uint64_t now);
/* p->drain_timer: close draining sessions that went quiet or passed their deadline. */
void gp_session_drain_tick(uv_timer_t *t);
/* A waiting session: try to route it now (a writer or reader appeared). */
void gp_session_wake(gp_session_t *s);
/* Take over a greeted, unanswered backend connection of backend b (fd is consumed) and
 * relay its greeting to the client; false (fd closed) if the socket cannot be taken. */
bool gp_session_adopt(gp_session_t *s, int b, int fd, const uint8_t *greeting, uint32_t n,
                      uint64_t greeted_at);

#endif
