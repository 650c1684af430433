/* router.h - which backend a new session goes to, from the last Galera decision. */
#ifndef GP_ROUTER_H
#define GP_ROUTER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/proxy.h"

/* Pick a backend for a session on endpoint ep, skipping those in the tried mask
 * (bit i = backend i). Read-write sessions get the writer (none during a switch
 * barrier); read-only sessions the eligible reader with the fewest sessions.
 * Returns the index, or -1 (wait, or fail at the deadline); then why says what
 * stands in the way ("db1 down, db2 donor, db3 non-Primary"). */
int gp_router_pick(gp_proxy_t *p, gp_endpoint_t ep, uint32_t tried, char *why, size_t whycap);
/* Would a session of ep still be sent to backend b now? (It moved while connecting.) */
bool gp_router_still_valid(const gp_proxy_t *p, gp_endpoint_t ep, int b);

#endif
