/* vault.c - memory for learned secrets: kept out of core dumps or children, wiped on release. */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "session/vault.h"

#define SLOT_ALIGN 16

gp_status_t gp_vault_init(gp_vault_t *v, size_t slot_size, uint32_t nslots)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t len;
	void *p;

	memset(v, 0, sizeof(*v));
	if (slot_size == 0 || nslots == 0 || page <= 0)
		return GP_EINVAL;
	/* a free slot holds the index of the next one */
	if (slot_size < sizeof(uint32_t))
		slot_size = sizeof(uint32_t);
	slot_size = (slot_size + SLOT_ALIGN - 1) / SLOT_ALIGN * SLOT_ALIGN;
	if (slot_size > SIZE_MAX / nslots - (size_t)page)
		return GP_EINVAL;
	len = (slot_size * nslots + (size_t)page - 1) / (size_t)page * (size_t)page;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return GP_ENOMEM;
	if (madvise(p, len, MADV_DONTDUMP) != 0 || madvise(p, len, MADV_DONTFORK) != 0) {
		munmap(p, len);
		return GP_EIO;
	}
	v->base = p;
	v->map_len = len;
	v->slot_size = slot_size;
	v->nslots = nslots;
	for (uint32_t i = 0; i < nslots; i++) {
		uint32_t next = i + 1;

		memcpy(v->base + (size_t)i * slot_size, &next, sizeof(next));
	}
	v->free_head = 0;
	return GP_OK;
}

void *gp_vault_get(gp_vault_t *v)
{
	uint8_t *slot;
	uint32_t next;

	if (!v->base || v->free_head >= v->nslots)
		return NULL;
	slot = v->base + (size_t)v->free_head * v->slot_size;
	memcpy(&next, slot, sizeof(next));
	memset(slot, 0, v->slot_size);
	v->free_head = next;
	v->used++;
	return slot;
}

void gp_vault_put(gp_vault_t *v, void *slot)
{
	uint8_t *s = slot;
	uint32_t i;

	/* not a slot of this vault: taking it would corrupt the free list */
	if (!s || !v->base || s < v->base || s >= v->base + (size_t)v->nslots * v->slot_size ||
	    (size_t)(s - v->base) % v->slot_size != 0)
		return;
	i = (uint32_t)((size_t)(s - v->base) / v->slot_size);
	explicit_bzero(s, v->slot_size);
	memcpy(s, &v->free_head, sizeof(v->free_head));
	v->free_head = i;
	v->used--;
}

void gp_vault_destroy(gp_vault_t *v)
{
	if (v->base) {
		explicit_bzero(v->base, v->map_len);
		munmap(v->base, v->map_len);
	}
	memset(v, 0, sizeof(*v));
}
