/* timeline.h - the failover timeline of writer changes: detection, eviction, first answer, gap. */
#ifndef GP_TIMELINE_H
#define GP_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/config.h"
#include "cluster/galera.h"

/*
 * What an operator wants to know about a failover without reading logs: how long the
 * proxy took to notice, how long the eviction took, how long until the new writer answered,
 * and how long clients went without an answer. All instants are uv_hrtime() nanoseconds,
 * given by the caller (the cluster module): this file does no I/O and reads no clock.
 *
 * The instants of one record (README "The failover timeline"):
 *   t0           the old writer's last sign of life: the later of its last probe that found
 *                it fit to write and its last answer on the read-write endpoint
 *   detected     the first probe of the old writer since then that found it unfit (failed,
 *                refused, or a state that forbids writing); for a change nothing failed for
 *                (maintenance, failback, the peer's writer) the change itself, and t0 = it
 *   evicted      the evs.evict of the old writer returned OK (none without an eviction)
 *   first answer the first OK or result set on the read-write endpoint from the new writer
 * and the phases: detect = detected - t0; evict = evicted - detected; first_answer =
 * first answer - detected; gap = the longest interval between two consecutive answers on
 * the read-write endpoint that ends after detection and no later than GP_TL_TAIL_NS after
 * the first answer, its start taken no earlier than t0 (before t0 the old writer was fine:
 * a quiet spell then is idleness, not the failover). The gap is kept only if the endpoint
 * was busy (an answer within GP_TL_BUSY_NS before detection); a record that sees no first
 * answer within GP_TL_WAIT_NS closes without one, its gap then running until that close.
 *
 * A change that comes before the previous change's first answer (db1 -> none -> db2, or
 * db1 -> db2 -> db3 with db2 failing at once) extends that record: one outage, one record.
 */

#define GP_TL_TAIL_NS (2000ull * 1000000)  /* after the first answer, gaps count this long */
#define GP_TL_WAIT_NS (60000ull * 1000000) /* no first answer within this: close without */
#define GP_TL_BUSY_NS (200ull * 1000000)   /* answered this recently before detection: busy */

typedef enum gp_tl_phase {
	GP_TL_DETECT,       /* t0 -> detected */
	GP_TL_EVICT,        /* detected -> eviction finished */
	GP_TL_FIRST_ANSWER, /* detected -> first answer from the new writer */
	GP_TL_GAP,          /* longest interval without an answer around the change */
	GP_TL__COUNT
} gp_tl_phase_t;

/* "detect", "evict", "first_answer", "gap" (metric label values). */
const char *gp_tl_phase_name(gp_tl_phase_t ph);

typedef struct gp_tl_rec {
	bool valid;                  /* a change was recorded */
	bool open;                   /* still watching for the first answer and gaps */
	bool busy;                   /* the endpoint answered shortly before detection */
	int from, to;                /* backend indexes, -1 for none */
	char from_name[GP_NAME_MAX]; /* "" for none */
	char to_name[GP_NAME_MAX];   /* "" for none */
	gp_reason_t reason;          /* why the first change of the record happened */
	unsigned changes;            /* writer changes folded into this record */
	uint64_t t0_ns;              /* old writer's last sign of life */
	uint64_t detected_ns;        /* detection */
	uint64_t change_ns;          /* the first change */
	uint64_t evicted_ns;         /* eviction of from returned (0: none) */
	uint64_t first_answer_ns;    /* first answer from to (0: none yet) */
	uint64_t gap_ns;             /* longest gap so far */
	uint64_t closed_ns;          /* when it closed (0: open) */
} gp_tl_rec_t;

typedef struct gp_timeline {
	gp_tl_rec_t last;                    /* the last change, open or closed */
	bool had_writer;                     /* a writer was ever chosen (not the first) */
	uint64_t last_answer_ns;             /* last answer on the endpoint, any backend */
	uint64_t answer_ns[GP_MAX_BACKENDS]; /* last answer from each backend */
	uint64_t good_ns[GP_MAX_BACKENDS];   /* last probe that found it fit to write */
	uint64_t bad_ns[GP_MAX_BACKENDS];    /* first unfit probe since then (0: none) */
} gp_timeline_t;

void gp_timeline_init(gp_timeline_t *tl);
/* A probe of backend b finished at now: fit = it could be the writer as far as the probe
 * can tell (answered, and a state that allows writing). */
void gp_timeline_probe(gp_timeline_t *tl, int b, bool fit, uint64_t now);
/*
 * The writer moves from -> to (-1 = none) at now. failed: the old writer is unfit by its
 * probe (else nothing was detected: maintenance, failback, peer). Returns true and fills
 * *closed when this closes the previous record (it had its first answer already).
 */
bool gp_timeline_change(gp_timeline_t *tl, int from, int to, const char *from_name,
                        const char *to_name, gp_reason_t reason, bool failed, uint64_t now,
                        gp_tl_rec_t *closed);
/* An OK or result set on the read-write endpoint from backend b at now. Cheap: called for
 * every answer. */
void gp_timeline_answer(gp_timeline_t *tl, int b, uint64_t now);
/* The last eviction of backend b returned at evicted_ns (0: never): counted for an open
 * record whose old writer is b, once, if it came after detection. */
void gp_timeline_evicted(gp_timeline_t *tl, int b, uint64_t evicted_ns);
/* Close the open record if its time is up; true and *closed filled when it closed now. */
bool gp_timeline_tick(gp_timeline_t *tl, uint64_t now, gp_tl_rec_t *closed);
/* Reload: backend b moved to map[b] (-1: removed). */
void gp_timeline_remap(gp_timeline_t *tl, const int *map, size_t nold);
/* A phase of r in seconds; NaN while unknown (no eviction, no answer yet, endpoint idle). */
double gp_tl_phase_s(const gp_tl_rec_t *r, gp_tl_phase_t ph);
/* "9.1 ms to detect, 3.0 ms to evict, 50.2 ms to the first answer, longest gap 58.0 ms". */
void gp_tl_summary(const gp_tl_rec_t *r, char *buf, size_t cap);

#endif
