/* park.h - parked backend connections: greeted, unanswered, kept for the next client. */
#ifndef GP_PARK_H
#define GP_PARK_H

#include <stdbool.h>
#include <stdint.h>

#include "base/list.h"
#include "codec/myp.h"
#include "core/proxy.h"
#include "net/io.h"

typedef enum gp_park_event {
	GP_PARK_EV_PARKED,   /* a client's unanswered greeting was kept */
	GP_PARK_EV_REUSED,   /* ...and handed to the next client */
	GP_PARK_EV_FINISHED, /* ...or finished with a monitor login and COM_QUIT */
	GP_PARK_EV_DROPPED,  /* ...or closed (server spoke or left, login refused or timed out) */
	GP_PARK_EV_WARMED,   /* a greeting fetched ahead of any client (handshake.warm) */
	GP_PARK_EV__COUNT
} gp_park_event_t;

#define GP_PARK_LOGIN_MS 2000  /* a finishing login must be done within this */
#define GP_WARM_RETRY_MS 1000  /* after a failed warm connection, none to that node for this */
#define GP_WARM_IDLE_MS  10000 /* no client accepted for this long: let the warm greetings go */

/* The proxy's parked connections (one per gp_handoff_t); its fields are park.c's. */
typedef struct gp_park {
	gp_proxy_t *proxy; /* owner */
	gp_list_t parked;  /* gp_parked_t, oldest first */
	uint64_t cfg_gen;  /* generation of the configuration backend indexes refer to */
} gp_park_t;

/* What a closing session hands over: its backend connection and what is known of it. */
typedef struct gp_park_from {
	gp_io_t *io;             /* the backend connection (its socket is taken over) */
	int backend;             /* its backend */
	uint32_t conn;           /* the session's id (logs) */
	const char *client;      /* its client's IP (logs) */
	uint16_t client_port;    /* ...and port */
	const char *reason;      /* why the session closes (logs) */
	const uint8_t *greeting; /* put: the greeting, header included */
	uint32_t greeting_len;   /* its length */
	uint64_t greeted_at;     /* loop ms the server greeted */
	uint8_t answer_len;      /* refuse: bytes of a wrong answer to the server's auth switch */
	bool switched;           /* refuse: that switch already went to the client */
	uint8_t server_seq;      /* refuse: the sequence id of the last server packet relayed */
} gp_park_from_t;

/* A parked connection handed out: valid until the loop runs again. */
typedef struct gp_park_handout {
	int fd;                  /* the socket, duplicated: the taker owns it */
	const uint8_t *greeting; /* its greeting, header included */
	uint32_t greeting_len;   /* its length */
	uint64_t greeted_at;     /* loop ms the server greeted */
} gp_park_handout_t;

void gp_park_init(gp_park_t *pk, gp_proxy_t *p);
/* Nothing is parked, finishing or warming. */
bool gp_park_empty(const gp_park_t *pk);
/* Take a session's greeted, unanswered backend connection (fd duplicated); parks it or
 * finishes it at once. True if taken: its handshake slot goes with it. */
bool gp_park_put(gp_park_t *pk, const gp_park_from_t *from);
/* A parked connection of backend b for a client (out); false if none. Its handshake slot
 * goes with it. */
bool gp_park_take(gp_park_t *pk, int b, gp_park_handout_t *out);
/* Backend b has a parked connection ready to hand out. */
bool gp_park_available(gp_park_t *pk, int b);
/* How many bytes a wrong answer to the auth switch sw must have: a refusal must be a wrong
 * answer of the right size, since a size the plugin does not expect is a handshake error,
 * which counts toward max_connect_errors. */
uint8_t gp_park_wrong_len(const myp_authswitch_t *sw);
/* A deferred login's client left midway: take its backend connection, answer the server
 * wrongly, close after its ERR. True if taken: it then needs a handshake slot (the caller's
 * goes with it, or one is counted for it). */
bool gp_park_refuse(gp_park_t *pk, const gp_park_from_t *from);
/* The tick's share: expire, finish and drop parked connections; follow reloads; warm up. */
void gp_park_tick(gp_park_t *pk, uint64_t now);
/* handshake.warm: open connections until each usable backend has that many greetings
 * fetched ahead (idle or on their way), while clients keep arriving (GP_WARM_IDLE_MS). */
void gp_park_warm(gp_park_t *pk);

#endif
