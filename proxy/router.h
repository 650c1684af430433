/* router.h - which backend a new session goes to. */
#ifndef GP_ROUTER_H
#define GP_ROUTER_H

#include <stdint.h>

#include "proxy.h"

/* Pick a backend for a session on endpoint ep, skipping those in the tried mask
 * (bit i = backend i). Returns the index, or -1 if none is left; then why is
 * filled with a human-readable reason ("db1: connection refused, ..."). */
int gp_router_pick(gp_proxy_t *p, gp_endpoint_t ep, uint32_t tried, char *why, size_t whycap);

#endif
