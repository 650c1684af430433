/* handoff.h - the backend front door: handshake slots, deferred and parked greetings. */
#ifndef GP_HANDOFF_H
#define GP_HANDOFF_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "base/list.h"
#include "core/proxy.h"
#include "session/session.h"

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

typedef enum gp_park_event {
	GP_PARK_EV_PARKED,   /* a client's unanswered greeting was kept */
	GP_PARK_EV_REUSED,   /* ...and handed to the next client */
	GP_PARK_EV_FINISHED, /* ...or finished with a monitor login and COM_QUIT */
	GP_PARK_EV_DROPPED,  /* ...or closed (server spoke or left, login refused or timed out) */
	GP_PARK_EV_WARMED,   /* a greeting fetched ahead of any client (handshake.warm) */
	GP_PARK_EV__COUNT
} gp_park_event_t;

#define GP_HANDOFF_TICK  100   /* ms between looks at parked connections and the queue */
#define GP_PARK_LOGIN_MS 2000  /* a finishing login must be done within this */
#define GP_WARM_RETRY_MS 1000  /* after a failed warm connection, none to that node for this */
#define GP_WARM_IDLE_MS  10000 /* no client accepted for this long: let the warm greetings go */

/* Shared by handoff.c and park.c; one per proxy while anything is parked or queued. */
typedef struct gp_handoff {
	gp_proxy_t *proxy; /* owner */
	uv_timer_t timer;  /* the tick; closing it frees this struct */
	gp_list_t parked;  /* gp_parked_t, oldest first */
	gp_list_t queue;   /* sessions waiting for a slot (slot_link), oldest first */
	uint64_t cfg_gen;  /* generation of the configuration backend indexes refer to */
	bool serving;      /* the tick is routing a queued session */
} gp_handoff_t;

/* ---- what session.c calls ------------------------------------------------------------ */

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
 * response and a plugin name it lacks (seq: the greeting's + 1); sets s->caps. */
GP_WUR gp_status_t gp_handoff_defer_respond(gp_session_t *s, uint8_t seq, const myp_greeting_t *g);
/* A server packet of a deferred s's authentication (notes what an auth switch asks for). */
void gp_handoff_defer_server(gp_session_t *s, const gp_pkt_t *pkt);

/* ---- between handoff.c and park.c ---------------------------------------------------- */

/* The proxy's handoff state, created (and its tick started) on first use. */
gp_handoff_t *gp_handoff_get(gp_proxy_t *p);
/* Run the tick soon (a slot came free, something was parked). */
void gp_handoff_kick(gp_proxy_t *p, uint64_t ms);
/* Backend b may take new sessions on either endpoint. */
bool gp_handoff_usable(const gp_proxy_t *p, int b);
/* A slot of backend b came free. */
void gp_handoff_slot_freed(gp_proxy_t *p, int b);

/* Take s's backend connection (fd duplicated); parks it or finishes it at once. */
void gp_park_put(gp_handoff_t *h, gp_session_t *s);
/* A parked connection of backend b, handed to s; false if none. */
bool gp_park_take(gp_handoff_t *h, gp_session_t *s, int b);
/* Backend b has a parked connection ready to hand out. */
bool gp_park_available(gp_handoff_t *h, int b);
/* How many bytes a wrong answer to the auth switch sw must have: a refusal must be a wrong
 * answer of the right size, since a size the plugin does not expect is a handshake error,
 * which counts toward max_connect_errors. */
uint8_t gp_park_wrong_len(const myp_authswitch_t *sw);
/* s's client left a deferred login midway: answer the server wrongly, close after its ERR. */
void gp_park_refuse(gp_handoff_t *h, gp_session_t *s);
/* The tick's share: expire, finish and drop parked connections; follow reloads; warm up. */
void gp_park_tick(gp_handoff_t *h, uint64_t now);
/* handshake.warm: open connections until each usable backend has that many greetings
 * fetched ahead (idle or on their way), while clients keep arriving (GP_WARM_IDLE_MS). */
void gp_park_warm(gp_handoff_t *h);

#endif
