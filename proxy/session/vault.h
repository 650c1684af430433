/* vault.h - memory for learned secrets: kept out of core dumps or children, wiped on release. */
#ifndef GP_VAULT_H
#define GP_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

/*
 * The rule for what a login teaches (gp_auth_secret_t): never in a core dump, wiped
 * when freed. A vault is one anonymous mapping of fixed-size slots marked MADV_DONTDUMP
 * (not in core dumps) and MADV_DONTFORK (not in a forked child); a slot is handed out
 * zeroed and wiped when it is put back. Capacity is fixed at init (one slot a session that
 * may be moved); a full vault hands out nothing, and that session is then not movable.
 * Loop-thread only, like everything else.
 */

typedef struct gp_vault {
	uint8_t *base;      /* the mapping (NULL before init and after destroy) */
	size_t map_len;     /* its length, whole pages */
	size_t slot_size;   /* bytes a slot */
	uint32_t nslots;    /* slots in the mapping */
	uint32_t used;      /* slots handed out */
	uint32_t free_head; /* first free slot, nslots if none */
} gp_vault_t;

/* Map nslots slots of slot_size bytes. GP_EINVAL for 0 of either or a size that overflows,
 * GP_ENOMEM if the mapping fails, GP_EIO if the kernel refuses MADV_DONTDUMP (a secret
 * could then reach a core dump: the caller learns nothing). */
GP_WUR gp_status_t gp_vault_init(gp_vault_t *v, size_t slot_size, uint32_t nslots);
/* A zeroed slot, or NULL when all are handed out. */
void *gp_vault_get(gp_vault_t *v);
/* Wipe a slot from gp_vault_get and take it back (NULL or any other pointer: nothing). */
void gp_vault_put(gp_vault_t *v, void *slot);
/* Wipe and unmap everything (slots still out become invalid). */
void gp_vault_destroy(gp_vault_t *v);

#endif
