/* refuse.h - closing a listener's pending connection without allocating. */
#ifndef GP_REFUSE_H
#define GP_REFUSE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

/*
 * libuv hands a listener's connection callback one accepted descriptor and, until
 * uv_accept takes it, stops polling that listener: a callback that returns without
 * uv_accept leaves the listener deaf and the descriptor open. Every accept path therefore
 * accepts, and what it cannot serve (out of memory, over a limit that has no answer of
 * its own) it hands to a refuser, which needs no memory of its own: its handle is inside
 * the owner. While that handle is closing, one more connection waits in the listener
 * (libuv pauses the listener meanwhile) and is taken as soon as the handle is free, so
 * refusals run at one per loop iteration and nothing is ever left behind.
 */
typedef struct gp_refuser {
	uv_tcp_t tcp;                          /* accepts the connection, then closes it */
	bool busy;                             /* tcp is initialised and closing */
	uv_stream_t *waiting;                  /* listener whose connection waits for tcp */
	uint64_t refused;                      /* connections closed unserved */
	void (*on_idle)(struct gp_refuser *r); /* optional: nothing is open any more */
} gp_refuser_t;

/* In a connection callback (status 0): take listener's pending connection and close it. */
void gp_refuse(gp_refuser_t *r, uv_stream_t *listener);
/* Nothing open: the owner may free the memory r lives in. */
bool gp_refuse_idle(const gp_refuser_t *r);

#endif
