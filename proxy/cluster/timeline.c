/* timeline.c - the failover timeline of writer changes: detection, eviction, first answer, gap. */
#include "cluster/timeline.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const phase_names[GP_TL__COUNT] = {
        [GP_TL_DETECT] = "detect",
        [GP_TL_EVICT] = "evict",
        [GP_TL_FIRST_ANSWER] = "first_answer",
        [GP_TL_GAP] = "gap",
};

const char *gp_tl_phase_name(gp_tl_phase_t ph)
{
	return (unsigned)ph < GP_TL__COUNT ? phase_names[ph] : "unknown";
}

static bool tl_index_ok(int b)
{
	return b >= 0 && b < GP_MAX_BACKENDS;
}

static uint64_t tl_max(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

void gp_timeline_init(gp_timeline_t *tl)
{
	memset(tl, 0, sizeof(*tl));
	tl->last.from = tl->last.to = -1;
}

void gp_timeline_probe(gp_timeline_t *tl, int b, bool fit, uint64_t now)
{
	if (!tl_index_ok(b))
		return;
	if (fit) {
		tl->good_ns[b] = now;
		tl->bad_ns[b] = 0;
	} else if (!tl->bad_ns[b]) {
		tl->bad_ns[b] = now;
	}
}

/* The gap still open at now (no answer since start) counts as if an answer came now. */
static void tl_gap_until(const gp_timeline_t *tl, gp_tl_rec_t *r, uint64_t now)
{
	uint64_t start = tl_max(tl->last_answer_ns, r->t0_ns);
	if (r->busy && now > start && now - start > r->gap_ns)
		r->gap_ns = now - start;
}

static void tl_close(const gp_timeline_t *tl, gp_tl_rec_t *r, uint64_t now)
{
	/* Without a first answer the outage lasted at least until now. */
	if (!r->first_answer_ns)
		tl_gap_until(tl, r, now);
	r->open = false;
	r->closed_ns = now;
}

bool gp_timeline_change(gp_timeline_t *tl, int from, int to, const char *from_name,
                        const char *to_name, gp_reason_t reason, bool failed, uint64_t now,
                        gp_tl_rec_t *closed)
{
	gp_tl_rec_t *r = &tl->last;
	bool had_writer = tl->had_writer, did_close = false;

	if (to >= 0)
		tl->had_writer = true;
	if (r->open && !r->first_answer_ns) {
		/* The same outage goes on: the record follows it to the next writer. */
		r->to = to;
		snprintf(r->to_name, sizeof(r->to_name), "%s", to_name ? to_name : "");
		r->changes++;
		return false;
	}
	if (from < 0 && !had_writer)
		return false; /* the first writer: nothing failed over */
	if (r->open) {
		tl_close(tl, r, now);
		*closed = *r;
		did_close = true;
	}
	memset(r, 0, sizeof(*r));
	r->valid = r->open = true;
	r->from = from;
	r->to = to;
	snprintf(r->from_name, sizeof(r->from_name), "%s", from_name ? from_name : "");
	snprintf(r->to_name, sizeof(r->to_name), "%s", to_name ? to_name : "");
	r->reason = reason;
	r->changes = 1;
	r->change_ns = now;
	r->detected_ns = r->t0_ns = now;
	if (failed && tl_index_ok(from)) {
		if (tl->bad_ns[from] && tl->bad_ns[from] <= now)
			r->detected_ns = tl->bad_ns[from];
		uint64_t t0 = tl_max(tl->good_ns[from], tl->answer_ns[from]);
		r->t0_ns = t0 && t0 <= r->detected_ns ? t0 : r->detected_ns;
	}
	r->busy = tl->last_answer_ns && tl->last_answer_ns + GP_TL_BUSY_NS >= r->detected_ns;
	return did_close;
}

void gp_timeline_answer(gp_timeline_t *tl, int b, uint64_t now)
{
	gp_tl_rec_t *r = &tl->last;
	if (r->open && now > r->detected_ns &&
	    (!r->first_answer_ns || now <= r->first_answer_ns + GP_TL_TAIL_NS)) {
		tl_gap_until(tl, r, now);
		if (!r->first_answer_ns && b == r->to && now >= r->change_ns)
			r->first_answer_ns = now;
	}
	tl->last_answer_ns = now;
	if (tl_index_ok(b))
		tl->answer_ns[b] = now;
}

void gp_timeline_evicted(gp_timeline_t *tl, int b, uint64_t evicted_ns)
{
	gp_tl_rec_t *r = &tl->last;
	if (r->open && b >= 0 && b == r->from && !r->evicted_ns && evicted_ns &&
	    evicted_ns >= r->detected_ns)
		r->evicted_ns = evicted_ns;
}

bool gp_timeline_tick(gp_timeline_t *tl, uint64_t now, gp_tl_rec_t *closed)
{
	gp_tl_rec_t *r = &tl->last;
	if (!r->open)
		return false;
	if (r->first_answer_ns ? now < r->first_answer_ns + GP_TL_TAIL_NS
	                       : now < r->change_ns + GP_TL_WAIT_NS)
		return false;
	tl_close(tl, r, now);
	*closed = *r;
	return true;
}

void gp_timeline_remap(gp_timeline_t *tl, const int *map, size_t nold)
{
	uint64_t ans[GP_MAX_BACKENDS] = {0}, good[GP_MAX_BACKENDS] = {0},
	         bad[GP_MAX_BACKENDS] = {0};
	for (size_t i = 0; i < nold && i < GP_MAX_BACKENDS; i++) {
		if (!tl_index_ok(map[i]))
			continue;
		ans[map[i]] = tl->answer_ns[i];
		good[map[i]] = tl->good_ns[i];
		bad[map[i]] = tl->bad_ns[i];
	}
	memcpy(tl->answer_ns, ans, sizeof(ans));
	memcpy(tl->good_ns, good, sizeof(good));
	memcpy(tl->bad_ns, bad, sizeof(bad));
	gp_tl_rec_t *r = &tl->last;
	r->from = r->from >= 0 && (size_t)r->from < nold ? map[r->from] : -1;
	r->to = r->to >= 0 && (size_t)r->to < nold ? map[r->to] : -1;
}

double gp_tl_phase_s(const gp_tl_rec_t *r, gp_tl_phase_t ph)
{
	if (!r->valid)
		return NAN;
	switch (ph) {
	case GP_TL_DETECT:
		return (double)(r->detected_ns - r->t0_ns) / 1e9;
	case GP_TL_EVICT:
		return r->evicted_ns ? (double)(r->evicted_ns - r->detected_ns) / 1e9 : NAN;
	case GP_TL_FIRST_ANSWER:
		return r->first_answer_ns ? (double)(r->first_answer_ns - r->detected_ns) / 1e9
		                          : NAN;
	case GP_TL_GAP:
		return r->busy && (r->first_answer_ns || !r->open) ? (double)r->gap_ns / 1e9 : NAN;
	case GP_TL__COUNT:
		break;
	}
	return NAN;
}

/* Append "<pre><ms><post>" ("9.1 ms" below 10 ms, "52 ms" above), or instead when s is NaN. */
static size_t tl_put(char *buf, size_t cap, size_t len, double s, const char *pre, const char *post,
                     const char *instead)
{
	if (len >= cap)
		return len;
	const char *sep = len ? ", " : "";
	int n;
	if (isnan(s))
		n = snprintf(buf + len, cap - len, "%s%s", sep, instead);
	else
		n = snprintf(buf + len, cap - len, s < 0.01 ? "%s%s%.1f ms%s" : "%s%s%.0f ms%s",
		             sep, pre, s * 1000.0, post);
	return n > 0 ? len + (size_t)n : len;
}

void gp_tl_summary(const gp_tl_rec_t *r, char *buf, size_t cap)
{
	size_t len;
	if (!cap)
		return;
	buf[0] = '\0';
	if (!r->valid) {
		snprintf(buf, cap, "no writer change yet");
		return;
	}
	len = tl_put(buf, cap, 0, gp_tl_phase_s(r, GP_TL_DETECT), "", " to detect", "");
	len = tl_put(buf, cap, len, gp_tl_phase_s(r, GP_TL_EVICT), "", " to evict", "no eviction");
	len = tl_put(buf, cap, len, gp_tl_phase_s(r, GP_TL_FIRST_ANSWER), "",
	             " to the first answer",
	             r->open ? "no answer yet" : "no answer from the new writer");
	tl_put(buf, cap, len, gp_tl_phase_s(r, GP_TL_GAP), "longest gap ", "",
	       !r->busy ? "no gap (the endpoint was idle)" : "gap still open");
}
