/* list.h - an intrusive doubly-linked list (objects sit in the list of their state). */
#ifndef GP_LIST_H
#define GP_LIST_H

#include <stddef.h>

typedef struct gp_list {
	struct gp_list *next; /* next node, or the head */
	struct gp_list *prev; /* previous node, or the head */
} gp_list_t;

static inline void gp_list_init(gp_list_t *h)
{
	h->next = h->prev = h;
}

static inline int gp_list_empty(const gp_list_t *h)
{
	return h->next == h;
}

static inline void gp_list_append(gp_list_t *h, gp_list_t *n)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static inline void gp_list_del(gp_list_t *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

#define gp_container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* Iterate safely (the current node may be removed). */
#define gp_list_each_safe(pos, tmp, head)                                \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head); \
	     (pos) = (tmp), (tmp) = (pos)->next)

#endif
