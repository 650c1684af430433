/* router.c - which backend a new session goes to. */
#include "router.h"

#include <stdio.h>
#include <string.h>

int gp_router_pick(gp_proxy_t *p, gp_endpoint_t ep, uint32_t tried, char *why, size_t whycap)
{
	int order[GP_MAX_BACKENDS];
	size_t n = gp_proxy_backends_by_priority(p, order);
	(void)ep; /* until Galera awareness: both endpoints take the first reachable backend */
	for (size_t i = 0; i < n; i++) {
		if (!(tried & (1u << order[i])))
			return order[i];
	}
	size_t off = 0;
	why[0] = '\0';
	for (size_t i = 0; i < n && off + 1 < whycap; i++) {
		const gp_backend_t *b = &p->backends[order[i]];
		int w = snprintf(why + off, whycap - off, "%s%s: %s", i ? ", " : "", b->conf->name,
		                 gp_strerror(b->last_error));
		if (w < 0)
			break;
		off += (size_t)w;
	}
	return -1;
}
