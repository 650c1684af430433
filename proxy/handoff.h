/* handoff.h - the backend front door: handshake slots, parked greetings, takeovers. */
#ifndef GP_HANDOFF_H
#define GP_HANDOFF_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "list.h"
#include "proxy.h"
#include "session.h"

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
 *   not authenticated (parked ones included). When all are busy, a new client takes the
 *   slot (and the greeted connection) of the client that has been silent longest after
 *   its greeting, if that is at least handshake.takeover_after_ms; else it queues.
 * - PROXY protocol. With handshake.proxy_protocol the header naming the client goes
 *   first on every backend connection; a connection then belongs to one client and is
 *   never parked or handed on (an abort counts against the client's own address).
 */

typedef enum gp_handoff_result {
	GP_HO_CONNECT, /* a slot is the session's: open a backend connection */
	GP_HO_ADOPTED, /* a greeted connection was handed over (gp_session_adopt ran) */
	GP_HO_QUEUED,  /* all slots busy: wait (the caller puts the session in WAITING) */
	GP_HO_FULL     /* no slot before the session's handshake deadline: refuse it */
} gp_handoff_result_t;

typedef enum gp_park_event {
	GP_PARK_EV_PARKED,   /* a client's unanswered greeting was kept */
	GP_PARK_EV_REUSED,   /* ...and handed to the next client */
	GP_PARK_EV_FINISHED, /* ...or finished with a monitor login and COM_QUIT */
	GP_PARK_EV_DROPPED,  /* ...or closed (server spoke or left, login refused or timed out) */
	GP_PARK_EV__COUNT
} gp_park_event_t;

#define GP_GREETING_MAX  512  /* greetings kept for a hand-over (MariaDB's are ~110 bytes) */
#define GP_HANDOFF_TICK  100  /* ms between looks at parked connections and the queue */
#define GP_PARK_LOGIN_MS 2000 /* a finishing login must be done within this */

/* Shared by handoff.c and park.c; one per proxy while anything is parked or queued. */
typedef struct gp_handoff {
	gp_proxy_t *proxy;      /* owner */
	uv_timer_t timer;       /* the tick; closing it frees this struct */
	gp_list_t parked;       /* gp_parked_t, oldest first */
	gp_list_t queue;        /* sessions waiting for a slot (slot_link), oldest first */
	const gp_config_t *cfg; /* the configuration backend indexes refer to */
	bool serving;           /* the tick is routing a queued session */
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
/* s's backend connection is up: send the PROXY protocol header if configured. */
void gp_handoff_connected(gp_session_t *s);

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
/* The tick's share: expire, finish and drop parked connections; follow reloads. */
void gp_park_tick(gp_handoff_t *h, uint64_t now);

#endif
