/* handoff.h - the backend front door: handshake slots, deferred or parked greetings. */
#ifndef GP_HANDOFF_H
#define GP_HANDOFF_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "base/list.h"
#include "codec/myp.h"
#include "core/proxy.h"
#include "net/io.h"
#include "session/park.h"

typedef struct gp_session gp_session_t;

/*
 * Relay authentication opens a backend connection per client before the client has
 * proved anything. This module keeps clients from turning that against the servers:
 *
 * - Parking. A client that leaves (close, reset, timeout, garbage the proxy refuses)
 *   after its greeting was relayed and before it answered leaves a backend connection
 *   that has sent its greeting and received nothing. Closing it would be an aborted
 *   connect, and max_connect_errors of those block the proxy's host. Instead it is
 *   parked and handed, greeting and all, to the next client routed to that node. A
 *   parked connection not reused within half of handshake.greeting_timeout_ms is
 *   finished cleanly: a real login with the monitor account, then COM_QUIT.
 * - Slots. Per backend, at most handshake.slots connections belong to clients that have
 *   not authenticated (parked ones included).
 * - Deferred greetings. When all slots are busy, the proxy greets a new client itself,
 *   from the backend's last real greeting with a nonce of its own, and opens a backend
 *   connection only once the client has answered (proving it speaks the protocol; it may
 *   then exceed the slots). The backend gets the client's response with an empty auth
 *   response and a plugin name no server has, so it answers with an auth switch carrying
 *   its real nonce, which is relayed; from there the login is relayed as usual. A client
 *   that leaves at that switch has its login refused (a wrong answer): a credentials error,
 *   which unlike an aborted handshake does not count toward max_connect_errors. Until a
 *   backend has greeted once there is nothing to greet from, and clients queue.
 * - PROXY protocol. With handshake.proxy_protocol the header naming the client goes
 *   first on every backend connection; a connection then belongs to one client and is
 *   never parked or handed on (an abort counts against the client's own address).
 */

typedef enum gp_handoff_result {
	GP_HO_CONNECT,  /* a slot is the session's: open a backend connection */
	GP_HO_ADOPTED,  /* a greeted connection was handed over (gp_session_adopt ran) */
	GP_HO_QUEUED,   /* slots busy, no greeting to defer with: wait (in WAITING) */
	GP_HO_DEFERRED, /* all slots busy: the proxy greeted the client itself (no backend) */
	GP_HO_FULL      /* no slot before the session's handshake deadline: refuse it */
} gp_handoff_result_t;

#define GP_HANDOFF_TICK 100 /* ms between looks at parked connections and the queue */

/* One per proxy while anything is parked or queued; its fields are handoff.c's. */
typedef struct gp_handoff {
	gp_proxy_t *proxy; /* owner */
	uv_timer_t timer;  /* the tick; closing it frees this struct */
	gp_park_t park;    /* parked connections (park.c) */
	gp_list_t queue;   /* sessions waiting for a slot (hs.slot_link), oldest first */
	bool serving;      /* the tick is routing a queued session */
} gp_handoff_t;

/* A session's handshake state, s->hs from its accept until it is logged in (gp_handoff_done;
 * an idle session keeps none of it): its fields are handoff.c's alone. */
typedef struct gp_handshake {
	gp_session_t *session;      /* whose */
	gp_list_t slot_link;        /* in the handoff queue while waiting for a handshake slot */
	uint8_t *greeting;          /* the backend's greeting (with header) while unanswered */
	uint32_t greeting_len;      /* its length */
	uint64_t greeted_at;        /* loop ms the backend connection greeted (kept on hand-over) */
	uint64_t client_greeted_at; /* loop ms this client was sent its greeting */
	uint64_t queued_at;         /* loop ms it joined the slot queue */
	bool slot;                  /* holds a handshake slot of its backend */
	bool queued;                /* in the slot queue (slot_link) */
	bool no_park;               /* its backend connection went to another client */
	bool deferred;              /* greeted by the proxy itself, no backend yet */
	uint64_t defer_caps;        /* then: the capabilities its greeting offered */
	uint8_t *defer_resp;        /* then: the client's handshake response payload */
	uint32_t defer_resp_len;    /* its length */
	uint8_t defer_answer_len;   /* what a refusal sends the server's last auth switch */
} gp_handshake_t;

/* ---- what session.c calls ------------------------------------------------------------ */

/* A new session's handshake state; false when memory is short. */
bool gp_handoff_init(gp_session_t *s);
/* The session is freed: leave the queue, let go of what it kept (wiped), and of s->hs. */
void gp_handoff_forget(gp_session_t *s);
/* s is logged in: its slot is freed and its handshake state goes (gp_handoff_forget). */
void gp_handoff_done(gp_session_t *s);
/* A deferred client's handshake response is kept (it answered the proxy's greeting). */
bool gp_handoff_holds_response(const gp_session_t *s);
/* The backend attempt of s failed: no slot, and the next connection greets afresh. */
void gp_handoff_retry(gp_session_t *s);
/* s takes over a connection that greeted at greeted_at (loop ms). */
void gp_handoff_adopting(gp_session_t *s, uint64_t greeted_at);

/* s was routed to backend b: give it a slot, a greeted connection, or a place in the queue. */
gp_handoff_result_t gp_handoff_acquire(gp_session_t *s, int b);
/* Leave the slot queue (routing again, or closing). */
void gp_handoff_unqueue(gp_session_t *s);
/* s no longer holds a handshake slot (authenticated, retrying elsewhere). */
void gp_handoff_release(gp_session_t *s);
/* The backend greeted s (pkt: header + payload, before any patching). */
void gp_handoff_greeted(gp_session_t *s, const uint8_t *pkt, uint32_t n);
/* How long the client of s has to answer its greeting (ms from now). */
uint64_t gp_handoff_answer_ms(const gp_session_t *s);
/* s is closing: park its unanswered backend connection if allowed, free its slot. */
void gp_handoff_closing(gp_session_t *s);
/* A client was accepted: with handshake.warm, greetings are fetched ahead from now on. */
void gp_handoff_client_arrived(gp_proxy_t *p);
/* s's backend connection is up: send the PROXY protocol header if configured. */
void gp_handoff_connected(gp_session_t *s);
/* A deferred client answered with r (pkt its packet): keep it for the backend, or refuse a
 * client that could not follow an auth switch (ERR 1251 sent, s closed: false). */
bool gp_handoff_defer_answered(gp_session_t *s, const gp_pkt_t *pkt, const myp_hsresp_t *r);
/* The backend greeted a deferred s (g): send it the client's response with an empty auth
 * response and a plugin name it lacks (seq: the greeting's + 1); *caps: what the two ends
 * then agree on. */
GP_WUR gp_status_t gp_handoff_defer_respond(gp_session_t *s, uint8_t seq, const myp_greeting_t *g,
                                            uint64_t *caps);
/* Send the backend of deferred s the response gp_handoff_defer_respond describes, as seq
 * (there, or after the backend's TLS handshake, backend_tls.c). */
GP_WUR gp_status_t gp_handoff_defer_send(gp_session_t *s, uint8_t seq);
/* A server packet of a deferred s's authentication (notes what an auth switch asks for). */
void gp_handoff_defer_server(gp_session_t *s, const gp_pkt_t *pkt);

/* ---- what park.c calls ---------------------------------------------------------------- */

/* Backend b may take new sessions on either endpoint. */
bool gp_handoff_usable(const gp_proxy_t *p, int b);
/* A slot of backend b came free. */
void gp_handoff_slot_freed(gp_proxy_t *p, int b);

#endif
