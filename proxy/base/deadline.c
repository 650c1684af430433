/* deadline.c - the deadline min-heap: arm, stop, and take what is due, each O(log n). */
#include "base/deadline.h"

#include <stdlib.h>

static void dl_put(gp_deadlines_t *h, uint32_t i, gp_deadline_t *d)
{
	h->heap[i] = d;
	d->slot = i + 1;
}

static bool dl_before(const gp_deadline_t *a, const gp_deadline_t *b)
{
	return a->at < b->at;
}

/* Move the deadline at i up while it is earlier than its parent. */
static void dl_up(gp_deadlines_t *h, uint32_t i)
{
	gp_deadline_t *d = h->heap[i];
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!dl_before(d, h->heap[parent]))
			break;
		dl_put(h, i, h->heap[parent]);
		i = parent;
	}
	dl_put(h, i, d);
}

/* Move the deadline at i down while a child is earlier. */
static void dl_down(gp_deadlines_t *h, uint32_t i)
{
	gp_deadline_t *d = h->heap[i];
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && dl_before(h->heap[c + 1], h->heap[c]))
			c++;
		if (!dl_before(h->heap[c], d))
			break;
		dl_put(h, i, h->heap[c]);
		i = c;
	}
	dl_put(h, i, d);
}

bool gp_deadlines_reserve(gp_deadlines_t *h, uint32_t n)
{
	if (n <= h->cap)
		return true;
	uint32_t cap = h->cap ? h->cap : 64;
	while (cap < n)
		cap *= 2;
	gp_deadline_t **heap = realloc(h->heap, (size_t)cap * sizeof(*heap));
	if (!heap)
		return false;
	h->heap = heap;
	h->cap = cap;
	return true;
}

void gp_deadlines_free(gp_deadlines_t *h)
{
	for (uint32_t i = 0; i < h->n; i++)
		h->heap[i]->slot = 0;
	free(h->heap);
	h->heap = NULL;
	h->n = h->cap = 0;
}

bool gp_deadline_arm(gp_deadlines_t *h, gp_deadline_t *d, uint64_t at, gp_deadline_cb cb)
{
	d->cb = cb;
	if (d->slot) {
		uint64_t was = d->at;
		d->at = at;
		if (at < was)
			dl_up(h, d->slot - 1);
		else
			dl_down(h, d->slot - 1);
		return true;
	}
	if (!gp_deadlines_reserve(h, h->n + 1))
		return false;
	d->at = at;
	h->heap[h->n] = d;
	h->n++;
	dl_up(h, h->n - 1);
	return true;
}

void gp_deadline_stop(gp_deadlines_t *h, gp_deadline_t *d)
{
	if (!d->slot)
		return;
	uint32_t i = d->slot - 1;
	d->slot = 0;
	gp_deadline_t *last = h->heap[--h->n];
	if (i == h->n)
		return; /* it was the last one */
	h->heap[i] = last;
	if (dl_before(last, d))
		dl_up(h, i);
	else
		dl_down(h, i);
}

gp_deadline_t *gp_deadlines_pop_due(gp_deadlines_t *h, uint64_t now)
{
	gp_deadline_t *d = gp_deadlines_first(h);
	if (!d || d->at > now)
		return NULL;
	gp_deadline_stop(h, d);
	return d;
}
