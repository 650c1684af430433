/* drain.h - closing a session at its next idle point, or at a deadline. */
#ifndef GP_DRAIN_H
#define GP_DRAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "base/close.h"

typedef struct gp_session gp_session_t;

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

#endif
