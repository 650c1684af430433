/* deadline.h - a min-heap of deadlines: many one-shot timers under one libuv timer (pure). */
#ifndef GP_DEADLINE_H
#define GP_DEADLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A libuv timer is 152 bytes; a deadline is 24, held inside its owner (a session) and found
 * again with gp_container_of. The heap holds pointers to the armed ones, earliest first; its
 * owner (core/proxy.c) runs one uv_timer_t for the earliest. Times are loop milliseconds.
 */
typedef struct gp_deadline gp_deadline_t;
typedef void (*gp_deadline_cb)(gp_deadline_t *d);

struct gp_deadline {
	uint64_t at;       /* when it is due (armed only) */
	gp_deadline_cb cb; /* what runs then */
	uint32_t slot;     /* its heap index + 1; 0: not armed */
};

typedef struct gp_deadlines {
	gp_deadline_t **heap; /* heap[0] is the earliest */
	uint32_t n;           /* armed deadlines */
	uint32_t cap;         /* room in heap (gp_deadlines_reserve) */
} gp_deadlines_t;

/* Room for n armed deadlines at once; false if it cannot be had (nothing changes then). */
bool gp_deadlines_reserve(gp_deadlines_t *h, uint32_t n);
/* Free the heap (the deadlines are their owners'). */
void gp_deadlines_free(gp_deadlines_t *h);
/* Arm d for `at` (re-arming moves it), running cb then. False only without room: reserve
 * room for every deadline that can be armed at once, and it never fails. */
bool gp_deadline_arm(gp_deadlines_t *h, gp_deadline_t *d, uint64_t at, gp_deadline_cb cb);
/* Disarm d (nothing if it is not armed). */
void gp_deadline_stop(gp_deadlines_t *h, gp_deadline_t *d);
static inline bool gp_deadline_armed(const gp_deadline_t *d)
{
	return d->slot != 0;
}
/* The earliest armed deadline, or NULL. */
static inline gp_deadline_t *gp_deadlines_first(const gp_deadlines_t *h)
{
	return h->n ? h->heap[0] : NULL;
}
/* Take the earliest deadline due at `now` off the heap (disarmed) and return it, or NULL.
 * The caller runs its cb: it may arm or stop any deadline, d included, or free d's owner. */
gp_deadline_t *gp_deadlines_pop_due(gp_deadlines_t *h, uint64_t now);

#endif
