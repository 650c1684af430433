/* reload.h - configuration reloads (the entry point is gp_admin_reload in admin.h). */
#ifndef GP_RELOAD_H
#define GP_RELOAD_H

#include <stdint.h>

#include "core/proxy.h"

struct gp_admin;

/* The admin tick: a pending reload whose removed backends went idle or whose wait ran out,
 * a host-name lookup that is overdue. */
void gp_reload_tick(gp_proxy_t *p, uint64_t now);
/* Teardown: forget a lookup under way (its answer is then ignored). */
void gp_reload_abandon(struct gp_admin *a);

#endif
