/* core.h - the session protocol without sockets: (state, packet or event) in, actions out. */
#ifndef GP_CORE_H
#define GP_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/log.h"
#include "codec/myp.h"
#include "net/io.h" /* gp_pkt_t and gp_pkt_action_t: types only, the core calls no I/O */
#include "base/close.h"
#include "session/core_learn.h"
#include "session/kill.h"
#include "session/state.h"
#include "net/bufpool.h"

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
/* A tracked session's legs, both ways: an OK is read whole to take its state block out for a
 * client that did not ask for it, a query whole to scan it (state.c); up to a read buffer. */
#define GP_TRACK_PEEK (GP_BUF_SIZE - MYP_HEADER_LEN)

/* Server error codes the proxy uses for answers of its own. */
#define GP_ER_CON_COUNT       1040 /* Too many connections */
#define GP_ER_NOT_READY       1047 /* what Galera nodes say when not ready */
#define GP_ER_HANDSHAKE       1043 /* Bad handshake */
#define GP_ER_UNSUPPORTED     1235 /* ER_NOT_SUPPORTED_YET */
#define GP_ER_SERVER_SHUTDOWN 1053 /* Server shutdown in progress */
#define GP_ER_ACCESS_DENIED   1045 /* what a server refusing a plain client says (tls.require) */

typedef enum gp_core_phase {
	GP_CORE_GREETING,  /* waiting for the backend's greeting (client packets are held) */
	GP_CORE_HANDSHAKE, /* waiting for the client's handshake response */
	GP_CORE_AUTH,      /* relaying the authentication exchange */
	GP_CORE_READY      /* authenticated: relaying commands */
} gp_core_phase_t;

/* The target of a KILL of a proxy id (or of a thread a moved session had), as the session
 * registry knows it. */
typedef struct gp_core_target {
	uint32_t conn_id;    /* its proxy connection id */
	uint32_t thread;     /* its backend thread */
	const char *backend; /* its backend's name (logs) */
	bool same_node;      /* on the issuing session's backend */
} gp_core_target_t;

struct gp_core;

/* What the core asks of the world around it (c: the asking session's core, which the glue
 * embeds); every hook may be NULL (tests, fuzzing). */
typedef struct gp_core_env {
	/* One log line; the glue prefixes whose session it is. */
	void (*log)(const struct gp_core *c, gp_log_level_t lvl, const char *event, const char *fmt,
	            va_list ap);
	/* The live session with proxy id `id` that sits on a backend; false if none. */
	bool (*find)(const struct gp_core *c, uint64_t id, gp_core_target_t *t);
	/* The live session that had backend thread `id` before it moved to another node, when
	 * no session on c's node has that thread now; false if none. */
	bool (*find_past)(const struct gp_core *c, uint64_t id, gp_core_target_t *t);
} gp_core_env_t;

/* A session's protocol state: its fields are core.c's (the glue reads some, see session.c). */
typedef struct gp_core {
	gp_core_phase_t phase;    /* where the exchange is */
	const gp_core_env_t *env; /* hooks */
	uint32_t conn_id;         /* the id the client sees in its greeting */
	bool ro;                  /* a read-only endpoint session: made read-only when fresh */
	bool deferred;            /* the proxy greeted the client itself (handoff.c) */
	bool offer_compress;      /* offer CLIENT_COMPRESS when the backend does (config) */
	bool compress_offered;    /* the greeting the client saw offered it */
	bool compress;            /* the client asked for it: its leg is compressed once
	                           * the login OK has been relayed (the backend's stays plain) */
	uint8_t zlast;            /* compressed client: the exchange's last packet sequence id */
	bool offer_tls;           /* offer CLIENT_SSL (the tls section is configured) */
	bool require_tls;         /* refuse a client that does not ask for it (tls.require) */
	bool tls;                 /* the client sent an SSL request: its leg is TLS from there */
	bool backend_tls;         /* TLS to the backend (tls.backend): an SSL request of ours
	                           * goes before the client's response */
	bool btls_up;             /* ...and its handshake finished: the response goes inside */
	uint8_t seq_shift;        /* the login's client packets are numbered this much higher
	                           * than the backend's (mod 256: +1 for the client's SSL
	                           * request, -1 for the proxy's to the backend) */
	char host[48];            /* the client's address as a server names it (its errors) */
	uint64_t caps;            /* capabilities both ends agreed on */
	uint64_t server_caps;     /* what the backend offered */
	uint32_t server_thread;   /* the backend's thread id for this session */
	myp_resp_t resp;          /* the command (or auth) in flight */
	bool in_flight;           /* resp is tracking something */
	bool internal;            /* the command in flight is the proxy's own */
	bool internal_sync;       /* the proxy's statement in flight is the causal-reads SET */
	bool inject_ro;           /* after this server scan: make the session read-only */
	bool inject_sync;         /* then: SET wsrep_sync_wait (routing.ro_causal_reads) */
	bool resume_client;       /* after this server scan: let the client's next command in */
	bool client_cont;         /* last client packet was 0xFFFFFF long */
	bool client_discard;      /* the server answered mid-command: drop the rest of it */
	gp_close_t close_after_relay; /* after this server scan: close for this (GP_CLOSE_NONE) */
	uint8_t cmd_seq;              /* sequence id of the current command's last client packet */
	uint8_t server_seq;         /* sequence id of the last server packet (the server's count) */
	uint16_t status;            /* server status flags after the last response */
	myp_trans_t txn;            /* transaction state: set in core_txn_after only */
	bool txn_told;              /* txn is what the server's flags said, not an ERR's guess */
	gp_kill_login_t login;      /* the login user as its server keeps it (who may KILL it) */
	gp_kill_login_t login_next; /* a COM_CHANGE_USER's user, until the server accepts it */
	gp_kill_req_t kill;         /* a KILL of a proxy id this session sent */
	gp_core_learn_t learn;      /* the native-password login in flight (core_learn.h) */
	bool client_track;          /* the client asked for CLIENT_SESSION_TRACK itself */
	bool untrack;               /* the proxy asked for it: OKs lose their state blocks */
	gp_sstate_t st;             /* the re-creatable state and why not (state.h) */
} gp_core_t;

/* Events for the glue to act on (bits of gp_core_out_t.ev). */
enum {
	GP_CORE_EV_GREETED = 1u << 0,        /* the backend greeted: relay it, the client answers */
	GP_CORE_EV_DEFER_GREETING = 1u << 1, /* ...a deferred session's: respond for it (out.g) */
	GP_CORE_EV_REFUSED = 1u << 2,        /* the backend's greeting was an ERR */
	GP_CORE_EV_BAD_GREETING = 1u << 3,   /* ...or not a greeting at all */
	GP_CORE_EV_AUTH = 1u << 4,         /* the client's handshake response goes to the backend */
	GP_CORE_EV_DEFER_ANSWER = 1u << 5, /* a deferred client answered (out.r): keep it */
	GP_CORE_EV_READY = 1u << 6,        /* authenticated */
	GP_CORE_EV_COMMAND = 1u << 7,      /* a command began (out.cmd) */
	GP_CORE_EV_KILL_REMOTE = 1u << 8,  /* a KILL of a session on another node (kill.k, out.t) */
	GP_CORE_EV_DONE = 1u << 9,         /* a response is complete (out.internal, out.was_open) */
	GP_CORE_EV_IDLE = 1u << 10,        /* ...and the client's turn comes (a drain may close) */
	GP_CORE_EV_RO_FRESH = 1u << 11,    /* a fresh read-only session: gp_core_want_sync */
	GP_CORE_EV_ERR_PACKET = 1u << 12,  /* an ERR the client sees (counted) */
	GP_CORE_EV_DEFER_SERVER = 1u << 13, /* a server packet of a deferred login's auth */
	GP_CORE_EV_KILL_CHECKED = 1u << 14, /* the issuer's grants are read: run or refuse */
	GP_CORE_EV_RESUME = 1u << 15,       /* let the client's next command in */
	GP_CORE_EV_START_TLS = 1u << 16,    /* an SSL request: TLS from the next byte read */
	GP_CORE_EV_LOGGED_IN = 1u << 17,    /* the server accepted a login or COM_CHANGE_USER:
	                                     * what was learned before is the old user's; learn
	                                     * anew if gp_learn_ready(&c->learn) */
	GP_CORE_EV_BACKEND_TLS = 1u << 18,  /* send out.server (an SSL request) to the backend,
	                                     * then TLS; the response is held until
	                                     * gp_core_backend_tls_up */
};

#define GP_CORE_OUT_MAX 512 /* bytes of the proxy's own for one side per call */

/* What one call asks the glue to do, in this order: send client[], send server[], act on ev,
 * fail (ERR to the client, then close) or close. Only ev, close, fail_code, nclient and
 * nserver are set on every call (gp_core_out_init); the rest only with the event naming it. */
typedef struct gp_core_out {
	uint32_t ev;            /* GP_CORE_EV_* */
	gp_close_t close;       /* close the session now for this (GP_CLOSE_NONE: no) */
	uint16_t fail_code;     /* nonzero: send this ERR (fail_seq, fail_state, fail_msg) */
	uint8_t fail_seq;       /* ...as this sequence id (0: the glue knows) */
	const char *fail_state; /* ...sqlstate */
	const char *fail_msg;   /* ...message (static or in msg) */
	uint32_t nclient;       /* bytes of client[] to send the client */
	uint32_t nserver;       /* bytes of server[] to send the backend */
	uint8_t cmd;            /* COMMAND: its first byte */
	bool internal;          /* DONE: it was the proxy's own command */
	bool was_open;          /* DONE: a transaction was open before it */
	myp_greeting_t g;       /* DEFER_GREETING: the greeting (slices into the packet) */
	myp_hsresp_t r;         /* DEFER_ANSWER: the response (slices into the packet) */
	gp_core_target_t t;     /* KILL_REMOTE: the target */
	char msg[128];          /* room for a message of fail_msg */
	uint8_t client[GP_CORE_OUT_MAX]; /* the proxy's own bytes for the client */
	uint8_t server[GP_CORE_OUT_MAX]; /* the proxy's own command for the backend */
} gp_core_out_t;

static inline void gp_core_out_init(gp_core_out_t *o)
{
	o->ev = 0;
	o->close = GP_CLOSE_NONE;
	o->fail_code = 0;
	o->nclient = o->nserver = 0;
}

/* A new session (phase GREETING) with hooks env, client-visible id conn_id, ro endpoint. */
void gp_core_init(gp_core_t *c, const gp_core_env_t *env, uint32_t conn_id, bool ro);
/* The session ends: the login exchange in flight wiped and freed, the tracked state freed. */
void gp_core_release(gp_core_t *c);
/* The proxy greets the client itself (deferred): the backend's greeting will not be relayed. */
void gp_core_defer(gp_core_t *c);
/* The backend's greeting was answered for a deferred client (server greeting g, agreed caps):
 * its authentication is relayed from here (phase AUTH). */
void gp_core_defer_auth(gp_core_t *c, const myp_greeting_t *g, uint64_t caps);

/* A packet from the client / the backend. The verdict is the packet's (forward, drop, hold,
 * stop); out says what else to do. Relaying a packet costs no copy and no allocation. A
 * backend's pkt->p follows its 4-byte header (as io.c hands it): an OK for a client that did
 * not ask for tracking is rewritten there, whole, and pkt->len lowered (io.c relays less). */
gp_pkt_action_t gp_core_client_packet(gp_core_t *c, gp_pkt_t *pkt, gp_core_out_t *out);
gp_pkt_action_t gp_core_server_packet(gp_core_t *c, gp_pkt_t *pkt, gp_core_out_t *out);
/* What a server scan relayed is on its way: act on what it ended (close, inject, resume). */
void gp_core_scanned(gp_core_t *c, gp_core_out_t *out);

/* Idle between commands and known to hold no transaction (phase READY aside). */
bool gp_core_idle(const gp_core_t *c);
/* A command (or the authentication) is in flight: its response is not complete. */
static inline bool gp_core_in_flight(const gp_core_t *c)
{
	return c->in_flight;
}
/* The transaction state as the last response left it. */
static inline myp_trans_t gp_core_txn(const gp_core_t *c)
{
	return c->txn;
}
/* The exchange in flight waits for the client (auth switch reply, LOCAL INFILE data). */
static inline bool gp_core_client_turn(const gp_core_t *c)
{
	return c->resp.client_turn;
}
/* Sequence id of the last server packet relayed. */
static inline uint8_t gp_core_server_seq(const gp_core_t *c)
{
	return c->server_seq;
}
/* The server tracks this session's state (CLIENT_SESSION_TRACK negotiated, by the client or
 * the proxy): its legs want GP_TRACK_PEEK. */
static inline bool gp_core_tracked(const gp_core_t *c)
{
	return (c->caps & MYP_CLIENT_SESSION_TRACK) != 0;
}
/* Who asked for session tracking: "proxy" (the client sees none of it), "client", "off". */
static inline const char *gp_core_track_name(const gp_core_t *c)
{
	return c->untrack ? "proxy" : gp_core_tracked(c) ? "client" : "off";
}
/* The peek each leg of a ready session wants. */
static inline uint32_t gp_core_peek(const gp_core_t *c, bool client)
{
	return gp_core_tracked(c) ? GP_TRACK_PEEK : client ? GP_CLIENT_PEEK : MYP_RESP_PEEK;
}
/* The session's re-creatable state (state.h). */
static inline gp_sstate_t *gp_core_sstate(gp_core_t *c)
{
	return &c->st;
}
/* Offer the client compression when the backend offers it (handshake.client_compression). */
static inline void gp_core_offer_compress(gp_core_t *c, bool on)
{
	c->offer_compress = on;
}
/* Offer the client TLS (CLIENT_SSL), and require it (tls section). */
static inline void gp_core_offer_tls(gp_core_t *c, bool on, bool require)
{
	c->offer_tls = on;
	c->require_tls = on && require;
}
/* Speak TLS to the backend (tls.backend on or verify). */
static inline void gp_core_backend_tls(gp_core_t *c, bool on)
{
	c->backend_tls = on;
}
/* The backend's TLS handshake finished: the login goes on inside it, renumbered. */
void gp_core_backend_tls_up(gp_core_t *c);
/* The client's IP, for errors that name it as a server would. */
static inline void gp_core_set_host(gp_core_t *c, const char *host)
{
	snprintf(c->host, sizeof(c->host), "%s", host);
}
static inline const char *gp_core_host(const gp_core_t *c)
{
	return c->host;
}
/* A deferred greeting (the proxy's own, handoff.c) offered compression. */
static inline void gp_core_compress_offered(gp_core_t *c, bool on)
{
	c->compress_offered = on;
}
/* The client asked for compression: its leg is compressed from the byte after the login OK. */
static inline bool gp_core_compressed(const gp_core_t *c)
{
	return c->compress;
}
/* Idle but for a transaction only an ERR's guess says it may hold: ask the server with an
 * internal COM_PING (out.server); false if there is nothing to ask. */
bool gp_core_txn_ask(gp_core_t *c, gp_core_out_t *out);
/* A fresh read-only session's reads wait for the cluster's commits too (ro_causal_reads). */
void gp_core_want_sync(gp_core_t *c, bool sync);
/* Close after the scan that ended the response (a drained session), not resume. */
void gp_core_close_after_relay(gp_core_t *c, gp_close_t why);
/* The glue could not send out.server: the proxy's command is not in flight after all. */
void gp_core_unsend(gp_core_t *c);

/* ---- a KILL of a session on another node (the glue runs it) ------------------------- */

/* The users differ: ask the issuer's own server what it may do (internal query in out). */
void gp_core_kill_check(gp_core_t *c, gp_core_out_t *out);
/* The KILL runs on the target's node: the client waits for the proxy's answer. */
void gp_core_kill_running(gp_core_t *c);
/* Answer the KILL the client waits for (code 0: OK) into out.client; it is over. */
void gp_core_kill_answer(gp_core_t *c, uint16_t code, const char *msg, gp_core_out_t *out);

/* ---- session state (core_track.c) ------------------------------------------------------ */

/* A server packet that ended a result or response (OK, EOF, OK-as-EOF), accepted by the
 * response tracker: keep what it reports, and strip its state block if c->untrack. False if
 * it cannot be relayed (an OK too long to read whole for a client that must not see it). */
bool gp_core_track_status(gp_core_t *c, gp_pkt_t *pkt, bool relayed);
/* The client's command (first packet): scan a query's or a prepared statement's text. */
void gp_core_track_command(gp_core_t *c, const gp_pkt_t *pkt);

/* Build the proxy's own answer (OK, or ERR when code != 0) into out.client. */
void gp_core_answer(gp_core_t *c, uint8_t seq, uint16_t code, const char *sqlstate, const char *msg,
                    gp_core_out_t *out);

#endif
