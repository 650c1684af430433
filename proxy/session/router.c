/* router.c - which backend a new session goes to, from the last Galera decision. */
#include "session/router.h"

#include <stdio.h>
#include <string.h>

static void router_why_tried(const gp_proxy_t *p, uint32_t tried, char *why, size_t whycap)
{
	size_t off = 0;
	why[0] = '\0';
	for (size_t i = 0; i < p->nbackends && off + 1 < whycap; i++) {
		if (!(tried & (1u << i)))
			continue;
		const gp_backend_t *b = &p->backends[i];
		int w = snprintf(why + off, whycap - off, "%s%s: %s", off ? ", " : "",
		                 b->conf->name, gp_strerror(b->last_error));
		if (w < 0)
			break;
		off += (size_t)w;
	}
}

static int router_pick_reader(const gp_proxy_t *p, uint32_t tried)
{
	int best = -1;
	for (size_t i = 0; i < p->nbackends; i++) {
		if (!gp_cluster_out(&p->cluster)->reader_eligible[i] || (tried & (1u << i)))
			continue;
		if (best < 0 || p->backends[i].sessions < p->backends[best].sessions)
			best = (int)i;
	}
	return best;
}

int gp_router_pick(gp_proxy_t *p, gp_endpoint_t ep, uint32_t tried, char *why, size_t whycap)
{
	if (!gp_cluster_decided(&p->cluster)) {
		snprintf(why, whycap, "no probe finished yet");
		return -1;
	}
	if (p->fenced) {
		/* Not holding the VIP: no stray writes (or reads) from this proxy. */
		snprintf(why, whycap, "fenced: VRRP state %s", p->vrrp_state);
		return -1;
	}
	if (ep == GP_EP_RO) {
		int b = router_pick_reader(p, tried);
		if (b < 0 && tried)
			router_why_tried(p, tried, why, whycap);
		else if (b < 0)
			snprintf(why, whycap, "%s", gp_cluster_out(&p->cluster)->reason_text);
		return b;
	}
	if (gp_cluster_writer(&p->cluster) < 0) {
		snprintf(why, whycap, "%s", gp_cluster_out(&p->cluster)->reason_text);
		return -1;
	}
	if (gp_cluster_barrier_from(&p->cluster) >= 0) {
		snprintf(why, whycap, "writer switch from %s to %s still draining",
		         p->backends[gp_cluster_barrier_from(&p->cluster)].conf->name,
		         p->backends[gp_cluster_writer(&p->cluster)].conf->name);
		return -1;
	}
	if (gp_cluster_syncing(&p->cluster)) {
		snprintf(why, whycap, "new writer %s still applying the old writer's commits",
		         p->backends[gp_cluster_writer(&p->cluster)].conf->name);
		return -1;
	}
	if (tried & (1u << gp_cluster_writer(&p->cluster))) {
		router_why_tried(p, tried, why, whycap);
		return -1;
	}
	return gp_cluster_writer(&p->cluster);
}

bool gp_router_still_valid(const gp_proxy_t *p, gp_endpoint_t ep, int b)
{
	if (p->fenced)
		return false;
	if (ep == GP_EP_RO)
		return gp_cluster_decided(&p->cluster) &&
		       gp_cluster_out(&p->cluster)->reader_eligible[b];
	return gp_cluster_writer(&p->cluster) == b && gp_cluster_barrier_from(&p->cluster) < 0 &&
	       !gp_cluster_syncing(&p->cluster);
}
