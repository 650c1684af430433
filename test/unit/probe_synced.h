/* probe_synced.h - the unit tests' probe of a healthy node: Synced, Primary, writable. */
#ifndef GP_TEST_PROBE_SYNCED_H
#define GP_TEST_PROBE_SYNCED_H

#include <check.h>
#include <string.h>

#include "cluster/galera.h"

/* A probe as a healthy node of a 3-node cluster (state uuid) answers it. */
static inline void probe_synced_uuid(gp_probe_t *p, const char *uuid)
{
	memset(p, 0, sizeof(*p));
	p->ok = true;
	gp_probe_begin(p);
	ck_assert(gp_probe_set_var(p, "WSREP_LOCAL_STATE", "4"));
	ck_assert(gp_probe_set_var(p, "WSREP_LOCAL_STATE_COMMENT", "Synced"));
	ck_assert(gp_probe_set_var(p, "WSREP_READY", "ON"));
	ck_assert(gp_probe_set_var(p, "WSREP_CONNECTED", "ON"));
	ck_assert(gp_probe_set_var(p, "WSREP_CLUSTER_STATUS", "Primary"));
	ck_assert(gp_probe_set_var(p, "WSREP_CLUSTER_SIZE", "3"));
	ck_assert(gp_probe_set_var(p, "WSREP_CLUSTER_STATE_UUID", uuid));
	ck_assert(gp_probe_set_var(p, "WSREP_LOCAL_RECV_QUEUE", "0"));
	ck_assert(gp_probe_set_var(p, "WSREP_ON", "ON"));
	ck_assert(gp_probe_set_var(p, "WSREP_PROVIDER", "/usr/lib/galera/libgalera_smm.so"));
	ck_assert(gp_probe_set_var(p, "WSREP_DESYNC", "OFF"));
	ck_assert(gp_probe_set_var(p, "WSREP_REJECT_QUERIES", "NONE"));
	ck_assert(gp_probe_set_var(p, "READ_ONLY", "OFF"));
	gp_probe_end(p);
}

#endif
