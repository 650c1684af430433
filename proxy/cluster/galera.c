/* galera.c - Galera policy: parse probe rows, derive node states, choose the one writer. */
#include "cluster/galera.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * The rules, in the order they are applied to each node (first match wins):
 *
 *   maintenance flag                     MAINTENANCE  not eligible (reason maintenance)
 *   not up (monitor fall/rise)           DOWN         not eligible (down)
 *   wsrep_provider = none                STANDALONE   writer only in standalone mode (below)
 *   wsrep_on = OFF                       NON_PRIMARY  never eligible (wsrep_off): its writes
 *                                                     would not replicate
 *   wsrep_cluster_status != Primary      NON_PRIMARY  (non_primary)
 *   cluster_state_uuid != majority       NON_PRIMARY  (cluster_mismatch): another history
 *   wsrep_local_state 2, wsrep_desync    DESYNCED     (desynced)
 *   wsrep_local_state 2, no desync       DONOR        (donor); reader if donor_is_reader and
 *                                                     not wsrep_sst_donor_rejects_queries
 *   wsrep_local_state 1 / 3 / other      JOINING / JOINED / JOINING  (not_synced)
 *   Synced but wsrep_desync = ON         DESYNCED     (desynced; the flag raced the state)
 *   wsrep_ready = OFF                    NON_PRIMARY  (not_ready)
 *   wsrep_reject_queries != NONE         REJECTING    (reject_queries)
 *   read_only != OFF                     READ_ONLY    not a writer, still a reader
 *   drain flag                           DRAINING     still eligible (the drain happens once)
 *   otherwise                            SYNCED       eligible
 *
 * Majority cluster: the wsrep_cluster_state_uuid held by more than half of the up Galera
 * nodes that are Primary. Without a strict majority (1 vs 1) the current writer's UUID
 * wins; with no writer either, nobody agrees and there is no writer: two histories and no
 * way to tell the right one.
 *
 * Standalone mode: a node without a provider may be the writer only if no node of the
 * config runs Galera AND every node's provider is known (it has been probed successfully at
 * least once: its last known values count, even while it is down). An unknown node blocks
 * standalone mode because it may be a Galera node that a standalone server would fork
 * away from; a standalone-only config with a node that was never reachable has no writer
 * until it has been seen once. In a mixed config STANDALONE nodes serve nothing.
 *
 * Writer: the current writer keeps the role while eligible (sticky). A peer-suggested writer
 * that is eligible is adopted, over stickiness and priority but never over eligibility. With
 * routing.failback the writer moves to the best eligible node (lowest priority, then name)
 * if that node has strictly better priority and has been eligible for failback_after_ms.
 * Otherwise a new writer is the best eligible node. At most one writer.
 *
 * Readers: SYNCED, DRAINING or READ_ONLY nodes (and DONOR as above; STANDALONE in standalone
 * mode) whose wsrep_local_recv_queue <= max_recv_queue, excluding the writer unless it is
 * the only one.
 */

static const char *const state_names[] = {
#define GP_NODE_STATE_NAME(e, name) name,
        GP_NODE_STATE_TABLE(GP_NODE_STATE_NAME)
#undef GP_NODE_STATE_NAME
};

static const char *const reason_names[] = {
#define GP_REASON_NAME(e, name, text) name,
        GP_REASON_TABLE(GP_REASON_NAME)
#undef GP_REASON_NAME
};

static const char *const reason_texts[] = {
#define GP_REASON_TEXT(e, name, text) text,
        GP_REASON_TABLE(GP_REASON_TEXT)
#undef GP_REASON_TEXT
};

static const char *const probe_err_names[] = {
        [GP_PROBE_OK] = "ok",           [GP_PROBE_REFUSED] = "refused",
        [GP_PROBE_TIMEOUT] = "timeout", [GP_PROBE_CLOSED] = "closed",
        [GP_PROBE_CONNECT] = "connect", [GP_PROBE_QUERY] = "query",
};

const char *gp_node_state_name(gp_node_state_t s)
{
	return (unsigned)s < GP_NODE_STATE_COUNT ? state_names[s] : "?";
}

const char *gp_reason_name(gp_reason_t r)
{
	return (unsigned)r < GP_REASON_COUNT ? reason_names[r] : "?";
}

const char *gp_reason_text(gp_reason_t r)
{
	return (unsigned)r < GP_REASON_COUNT ? reason_texts[r] : "?";
}

const char *gp_probe_err_name(gp_probe_err_t e)
{
	return (unsigned)e < GP_PROBE_ERR_COUNT ? probe_err_names[e] : "?";
}

/* ---- probe rows ---------------------------------------------------------------------- */

void gp_probe_begin(gp_probe_t *p)
{
	p->have_vars = false;
	p->seen = 0;
	p->local_state = -1;
	p->local_state_comment[0] = '\0';
	p->ready = false;
	p->connected = false;
	p->cluster_status = GP_CLUSTER_UNKNOWN;
	p->cluster_size = 0;
	p->cluster_state_uuid[0] = '\0';
	p->local_index = -1;
	p->recv_queue = 0;
	p->gcomm_uuid[0] = '\0';
	p->desync = false;
	p->reject_queries = GP_REJECT_NONE;
	p->sst_donor_rejects = false;
	p->read_only = false;
	p->wsrep_on = false;
	p->provider = false;
	p->evict_count = 0;
	p->track_schema = p->track_sysvars = p->track_state_change = false;
}

static bool parse_bool(const char *v, bool *out)
{
	if (!strcasecmp(v, "ON") || !strcmp(v, "1") || !strcasecmp(v, "YES") ||
	    !strcasecmp(v, "TRUE")) {
		*out = true;
		return true;
	}
	if (!strcasecmp(v, "OFF") || !strcmp(v, "0") || !strcasecmp(v, "NO") ||
	    !strcasecmp(v, "FALSE")) {
		*out = false;
		return true;
	}
	return false;
}

/* Signed 64-bit; unsigned values beyond INT64_MAX (wsrep_local_index is 2^64-1 when the
 * node has no index) wrap to negative, which is what "none" should look like. */
static bool parse_int(const char *v, int64_t *out)
{
	char *end;
	if (!*v)
		return false;
	*out = (int64_t)strtoull(v, &end, 10);
	if (*v == '-')
		*out = strtoll(v, &end, 10);
	return *end == '\0';
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src);
}

/* "uuid,uuid,...": count every entry, keep the first GP_EVICT_LIST_MAX well-formed ones. */
static void parse_evict_list(gp_probe_t *p, const char *v)
{
	p->evict_count = 0;
	while (*v) {
		size_t len = strcspn(v, ",");
		if (len) {
			if (p->evict_count < GP_EVICT_LIST_MAX) {
				char *dst = p->evict_list[p->evict_count];
				dst[0] = '\0';
				if (len < GP_UUID_MAX) {
					memcpy(dst, v, len);
					dst[len] = '\0';
					if (!gp_uuid_valid(dst))
						dst[0] = '\0';
				}
			}
			p->evict_count++;
		}
		v += len;
		if (*v == ',')
			v++;
	}
}

/* How a wsrep_ status value lands in its gp_probe_t field. */
typedef enum var_kind {
	VK_INT,      /* an int */
	VK_INDEX,    /* an int, -1 for "none" (2^64-1) or anything out of range */
	VK_INT64,    /* an int64_t */
	VK_BOOL,     /* ON/OFF and the like */
	VK_STR,      /* a char array, cut to fit */
	VK_ENUM,     /* one of the names listed, an enum field */
	VK_EVICT,    /* the evict list */
	VK_PROVIDER, /* loaded unless empty or "none" */
} var_kind_t;

typedef struct var_name {
	const char *text;
	int value;
} var_name_t;

static const var_name_t cluster_statuses[] = {
        {"Primary", GP_CLUSTER_PRIMARY},
        {"non-Primary", GP_CLUSTER_NON_PRIMARY},
        {"Disconnected", GP_CLUSTER_DISCONNECTED},
        {NULL, 0},
};

static const var_name_t reject_modes[] = {
        {"NONE", GP_REJECT_NONE},
        {"ALL", GP_REJECT_ALL},
        {"ALL_KILL", GP_REJECT_ALL_KILL},
        {NULL, 0},
};

_Static_assert(sizeof(gp_cluster_status_t) == sizeof(int) && sizeof(gp_reject_t) == sizeof(int),
               "VK_ENUM fields are stored as int");

#define VAR(name, kind, field, bit, names)                                                      \
	{                                                                                       \
		name, kind, offsetof(gp_probe_t, field), sizeof(((gp_probe_t *)0)->field), bit, \
		        names                                                                   \
	}

/* Every wsrep_ variable the probe reads (the name without "wsrep_"), in no particular order. */
static const struct wsrep_var {
	const char *name;
	var_kind_t kind;
	size_t off, size; /* the field in gp_probe_t */
	uint32_t seen;    /* its GP_VAR_* bit */
	const var_name_t *names;
} wsrep_vars[] = {
        VAR("local_state", VK_INT, local_state, GP_VAR_LOCAL_STATE, NULL),
        VAR("local_state_comment", VK_STR, local_state_comment, GP_VAR_LOCAL_STATE_COMMENT, NULL),
        VAR("ready", VK_BOOL, ready, GP_VAR_READY, NULL),
        VAR("connected", VK_BOOL, connected, GP_VAR_CONNECTED, NULL),
        VAR("cluster_status", VK_ENUM, cluster_status, GP_VAR_CLUSTER_STATUS, cluster_statuses),
        VAR("cluster_size", VK_INT, cluster_size, GP_VAR_CLUSTER_SIZE, NULL),
        VAR("cluster_state_uuid", VK_STR, cluster_state_uuid, GP_VAR_CLUSTER_STATE_UUID, NULL),
        VAR("local_index", VK_INDEX, local_index, GP_VAR_LOCAL_INDEX, NULL),
        VAR("local_recv_queue", VK_INT64, recv_queue, GP_VAR_RECV_QUEUE, NULL),
        VAR("evs_evict_list", VK_EVICT, evict_list, GP_VAR_EVICT_LIST, NULL),
        VAR("gcomm_uuid", VK_STR, gcomm_uuid, GP_VAR_GCOMM_UUID, NULL),
        VAR("desync", VK_BOOL, desync, GP_VAR_DESYNC, NULL),
        VAR("reject_queries", VK_ENUM, reject_queries, GP_VAR_REJECT_QUERIES, reject_modes),
        VAR("sst_donor_rejects_queries", VK_BOOL, sst_donor_rejects, GP_VAR_SST_DONOR_REJECTS,
            NULL),
        VAR("on", VK_BOOL, wsrep_on, GP_VAR_WSREP_ON, NULL),
        VAR("provider", VK_PROVIDER, provider, GP_VAR_PROVIDER, NULL),
};

/* Store v in d's field and mark it seen; false (field and seen untouched) if v is malformed. */
static bool var_set(gp_probe_t *p, const struct wsrep_var *d, const char *v)
{
	char *f = (char *)p + d->off;
	const var_name_t *e;
	int64_t n = 0;
	int i;

	if ((d->kind == VK_INT || d->kind == VK_INDEX || d->kind == VK_INT64) && !parse_int(v, &n))
		return false;
	switch (d->kind) {
	case VK_INT:
		i = (int)n;
		memcpy(f, &i, sizeof(i));
		break;
	case VK_INDEX:
		i = n < 0 || n > INT32_MAX ? -1 : (int)n;
		memcpy(f, &i, sizeof(i));
		break;
	case VK_INT64:
		memcpy(f, &n, sizeof(n));
		break;
	case VK_BOOL:
		if (!parse_bool(v, (bool *)f))
			return false;
		break;
	case VK_STR:
		copy_str(f, d->size, v);
		break;
	case VK_ENUM:
		for (e = d->names; e->text && strcasecmp(v, e->text); e++)
			;
		if (!e->text)
			return false;
		memcpy(f, &e->value, sizeof(e->value));
		break;
	case VK_EVICT:
		parse_evict_list(p, v);
		break;
	case VK_PROVIDER:
		p->provider = *v != '\0' && strcasecmp(v, "none") != 0;
		break;
	}
	p->seen |= d->seen;
	return true;
}

bool gp_probe_set_var(gp_probe_t *p, const char *name, const char *v)
{
	bool b;

	if (!strncasecmp(name, "wsrep_", 6)) {
		for (size_t k = 0; k < sizeof(wsrep_vars) / sizeof(wsrep_vars[0]); k++)
			if (!strcasecmp(name + 6, wsrep_vars[k].name))
				return var_set(p, &wsrep_vars[k], v);
		return true;
	}
	if (!strcasecmp(name, "read_only")) {
		/* OFF/ON on 10.11; 11.x adds NO_LOCK, NO_LOCK_NO_ADMIN: all of those are on */
		p->read_only = !(parse_bool(v, &b) && !b);
		p->seen |= GP_VAR_READ_ONLY;
	} else if (!strcasecmp(name, "session_track_schema") && parse_bool(v, &b)) {
		p->track_schema = b;
		p->seen |= GP_VAR_TRACK_SCHEMA;
	} else if (!strcasecmp(name, "session_track_state_change") && parse_bool(v, &b)) {
		p->track_state_change = b;
		p->seen |= GP_VAR_TRACK_STATE_CHANGE;
	} else if (!strcasecmp(name, "session_track_system_variables")) {
		p->track_sysvars = !strcmp(v, "*"); /* a list names only some */
		p->seen |= GP_VAR_TRACK_SYSVARS;
	}
	return true;
}

bool gp_probe_tracks(const gp_probe_t *p)
{
	return p && p->have_vars && (p->seen & GP_VAR_TRACK_ALL) == GP_VAR_TRACK_ALL &&
	       p->track_schema && p->track_sysvars && p->track_state_change;
}

void gp_probe_end(gp_probe_t *p)
{
	/* No wsrep_provider variable at all: a server built without wsrep, i.e. standalone. */
	if (!(p->seen & GP_VAR_PROVIDER))
		p->provider = false;
	p->have_vars = true;
}

bool gp_uuid_valid(const char *u)
{
	size_t i;
	for (i = 0; u[i]; i++)
		if (!((u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'f') || u[i] == '-'))
			return false;
	return i == 36;
}

/* ---- eviction carrier ------------------------------------------------------------------ */

int gp_galera_pick_survivor(const gp_probe_t *const *probes, const bool *up, size_t n,
                            size_t victim, uint64_t tried)
{
	const char *dead = victim < n && probes[victim] ? probes[victim]->gcomm_uuid : "";

	for (size_t i = 0; i < n && i < 64; i++) {
		const gp_probe_t *p = probes[i];
		if (i == victim || (tried & (1ull << i)) || !up[i] || !p || !p->have_vars ||
		    !p->provider || !p->wsrep_on || p->local_state != 4 ||
		    p->cluster_status != GP_CLUSTER_PRIMARY || !p->ready ||
		    (dead[0] && !strcmp(p->gcomm_uuid, dead)))
			continue;
		return (int)i;
	}
	return -1;
}

bool gp_galera_group_whole(const gp_probe_t *const *probes, const bool *up, size_t n)
{
	if (n == 0 || !probes[0])
		return false;
	for (size_t i = 0; i < n; i++) {
		const gp_probe_t *p = probes[i];
		if (!up[i] || !p || !p->ok || !p->have_vars || !p->provider || !p->wsrep_on ||
		    p->local_state != 4 || p->cluster_status != GP_CLUSTER_PRIMARY || !p->ready ||
		    p->cluster_size != (int)n || !gp_uuid_valid(p->gcomm_uuid) ||
		    !p->cluster_state_uuid[0] ||
		    strcmp(p->cluster_state_uuid, probes[0]->cluster_state_uuid))
			return false;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(probes[j]->gcomm_uuid, p->gcomm_uuid))
				return false;
	}
	return true;
}

static bool uuid_in(const char *u, const char (*list)[GP_UUID_MAX], size_t n)
{
	for (size_t j = 0; j < n; j++)
		if (!strcmp(u, list[j]))
			return true;
	return false;
}

bool gp_galera_evict_list_stale(const gp_probe_t *p, const char (*dead)[GP_UUID_MAX], size_t n_dead,
                                const gp_probe_t *const *group, size_t n_group)
{
	if (!p || !p->have_vars || !(p->seen & GP_VAR_EVICT_LIST) || p->evict_count <= 0 ||
	    p->evict_count > GP_EVICT_LIST_MAX)
		return false;
	for (int i = 0; i < p->evict_count; i++) {
		const char *u = p->evict_list[i];
		bool member = false;
		if (!u[0])
			return false;
		if (uuid_in(u, dead, n_dead))
			continue;
		if (!group || !n_group)
			return false;
		for (size_t j = 0; j < n_group && !member; j++)
			member = !group[j] || !strcmp(u, group[j]->gcomm_uuid);
		if (member)
			return false;
	}
	return true;
}

/* ---- policy -------------------------------------------------------------------------- */

void gp_galera_in_init(gp_galera_in_t *in)
{
	memset(in, 0, sizeof(*in));
	for (size_t i = 0; i < GP_MAX_BACKENDS; i++)
		in->node[i].eligible_since_ms = -1;
	in->writer = -1;
	in->peer_writer = -1;
}

static const gp_probe_t *known(const gp_galera_node_in_t *ni)
{
	return ni->probe && ni->probe->have_vars ? ni->probe : NULL;
}

/* A voter for the majority cluster UUID: up, Galera, Primary, with a UUID. */
static const char *voter_uuid(const gp_galera_node_in_t *ni)
{
	const gp_probe_t *p = known(ni);
	if (!ni->up || !p || !p->provider || !p->wsrep_on ||
	    p->cluster_status != GP_CLUSTER_PRIMARY || !p->cluster_state_uuid[0])
		return NULL;
	return p->cluster_state_uuid;
}

static void find_majority(const gp_galera_in_t *in, size_t n, char *out, size_t cap)
{
	size_t voters = 0, best_count = 0, best = 0;
	bool tie = false;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *u = voter_uuid(&in->node[i]);
		size_t c = 0;
		if (!u)
			continue;
		voters++;
		for (size_t j = 0; j < n; j++) {
			const char *v = voter_uuid(&in->node[j]);
			if (v && !strcmp(u, v))
				c++;
		}
		if (c > best_count) {
			best_count = c;
			best = i;
			tie = false;
		} else if (c == best_count && strcmp(u, voter_uuid(&in->node[best]))) {
			tie = true;
		}
	}
	if (!voters)
		return;
	if (!tie && best_count * 2 > voters) {
		copy_str(out, cap, voter_uuid(&in->node[best]));
		return;
	}
	/* No strict majority: the current writer's history wins if it is among the largest. */
	if (in->writer >= 0 && (size_t)in->writer < n) {
		const char *w = voter_uuid(&in->node[in->writer]);
		size_t c = 0;
		if (!w)
			return;
		for (size_t j = 0; j < n; j++) {
			const char *v = voter_uuid(&in->node[j]);
			if (v && !strcmp(w, v))
				c++;
		}
		if (c == best_count)
			copy_str(out, cap, w);
	}
}

/* State of one node and why it may not write (GP_REASON_NONE = it may). */
static gp_node_state_t classify(const gp_galera_node_in_t *ni, bool standalone_mode,
                                const char *majority, gp_reason_t *why)
{
	const gp_probe_t *p = known(ni);

	*why = GP_REASON_NONE;
	if (ni->maintenance) {
		*why = GP_REASON_MAINTENANCE;
		return GP_NODE_MAINTENANCE;
	}
	if (!ni->up) {
		*why = GP_REASON_DOWN;
		return GP_NODE_DOWN;
	}
	if (!p) {
		*why = GP_REASON_NO_DATA;
		return GP_NODE_DOWN;
	}
	if (!p->provider) {
		if (!standalone_mode)
			*why = GP_REASON_STANDALONE;
		else if (p->read_only)
			*why = GP_REASON_READ_ONLY;
		return GP_NODE_STANDALONE;
	}
	if (!p->wsrep_on) {
		*why = GP_REASON_WSREP_OFF;
		return GP_NODE_NON_PRIMARY;
	}
	if (p->cluster_status != GP_CLUSTER_PRIMARY) {
		*why = GP_REASON_NON_PRIMARY;
		return GP_NODE_NON_PRIMARY;
	}
	if (!majority[0] || strcmp(p->cluster_state_uuid, majority)) {
		*why = GP_REASON_CLUSTER_MISMATCH;
		return GP_NODE_NON_PRIMARY;
	}
	switch (p->local_state) {
	case 4:
		break;
	case 2:
		*why = p->desync ? GP_REASON_DESYNCED : GP_REASON_DONOR;
		return p->desync ? GP_NODE_DESYNCED : GP_NODE_DONOR;
	case 3:
		*why = GP_REASON_NOT_SYNCED;
		return GP_NODE_JOINED;
	default: /* 1 Joining, 0 Initialized, -1 not reported */
		*why = GP_REASON_NOT_SYNCED;
		return GP_NODE_JOINING;
	}
	if (p->desync) {
		*why = GP_REASON_DESYNCED;
		return GP_NODE_DESYNCED;
	}
	if (!p->ready) {
		*why = GP_REASON_NOT_READY;
		return GP_NODE_NON_PRIMARY;
	}
	if (p->reject_queries != GP_REJECT_NONE) {
		*why = GP_REASON_REJECT_QUERIES;
		return GP_NODE_REJECTING;
	}
	if (p->read_only) {
		*why = GP_REASON_READ_ONLY;
		return GP_NODE_READ_ONLY;
	}
	return ni->drain ? GP_NODE_DRAINING : GP_NODE_SYNCED;
}

static bool reader_candidate(const gp_config_t *cfg, const gp_galera_node_in_t *ni,
                             gp_node_state_t st)
{
	const gp_probe_t *p = known(ni);

	if (!p)
		return false;
	switch (st) {
	case GP_NODE_STANDALONE:
		return false; /* standalone mode is decided by the caller */
	case GP_NODE_SYNCED:
	case GP_NODE_DRAINING:
	case GP_NODE_READ_ONLY:
		break;
	case GP_NODE_DONOR:
		if (!cfg->routing_donor_is_reader || p->sst_donor_rejects || !p->ready ||
		    p->reject_queries != GP_REJECT_NONE)
			return false;
		break;
	default:
		return false;
	}
	return p->recv_queue <= cfg->routing_max_recv_queue;
}

/* Is a better than b for the writer role: lower priority, then name, then index. */
static bool better(const gp_config_t *cfg, size_t a, size_t b)
{
	int64_t pa = cfg->backends[a].priority, pb = cfg->backends[b].priority;
	int c;
	if (pa != pb)
		return pa < pb;
	c = strcmp(cfg->backends[a].name, cfg->backends[b].name);
	return c ? c < 0 : a < b;
}

static void append(char *buf, size_t cap, const char *fmt, const char *a, const char *b)
{
	size_t len = strlen(buf);
	if (len < cap)
		snprintf(buf + len, cap - len, fmt, a, b);
}

void gp_galera_decide(const gp_config_t *cfg, const gp_galera_in_t *in, gp_galera_out_t *out)
{
	size_t n = cfg->nbackends < GP_MAX_BACKENDS ? cfg->nbackends : GP_MAX_BACKENDS;
	bool any_galera = false, all_known = true, any_reader = false;
	int cur = in->writer >= 0 && (size_t)in->writer < n ? in->writer : -1;
	int peer = in->peer_writer >= 0 && (size_t)in->peer_writer < n ? in->peer_writer : -1;
	int best = -1, w;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		const gp_probe_t *p = known(&in->node[i]);
		if (!p)
			all_known = false;
		else if (p->provider)
			any_galera = true;
	}
	out->standalone_mode = !any_galera && all_known && n > 0;
	find_majority(in, n, out->cluster_uuid, sizeof(out->cluster_uuid));

	for (size_t i = 0; i < n; i++) {
		const gp_galera_node_in_t *ni = &in->node[i];
		out->state[i] = classify(ni, out->standalone_mode, out->cluster_uuid, &out->why[i]);
		out->writer_eligible[i] = out->why[i] == GP_REASON_NONE;
		if (out->writer_eligible[i])
			out->eligible_since_ms[i] =
			        ni->eligible_since_ms >= 0 ? ni->eligible_since_ms : in->now_ms;
		else
			out->eligible_since_ms[i] = -1;
		if (out->writer_eligible[i] && (best < 0 || better(cfg, i, (size_t)best)))
			best = (int)i;
	}

	w = cur;
	out->reason = GP_REASON_NONE;
	if (cur >= 0 && out->writer_eligible[cur]) {
		if (peer >= 0 && peer != cur && out->writer_eligible[peer]) {
			w = peer;
			out->reason = GP_REASON_PEER;
		} else if (cfg->routing_failback && best >= 0 && best != cur &&
		           cfg->backends[best].priority < cfg->backends[cur].priority &&
		           in->now_ms - out->eligible_since_ms[best] >=
		                   cfg->routing_failback_after_ms) {
			w = best;
			out->reason = GP_REASON_FAILBACK;
		}
	} else if (peer >= 0 && out->writer_eligible[peer]) {
		w = peer;
		out->reason = GP_REASON_PEER;
	} else {
		w = best;
		if (cur >= 0)
			out->reason = out->why[cur];
		else if (w >= 0)
			out->reason = GP_REASON_INITIAL;
	}
	out->writer = w;
	out->changed = w != in->writer;

	/* Readers: the writer only if nobody else can read. */
	for (size_t i = 0; i < n; i++) {
		bool ok;
		if (out->state[i] == GP_NODE_STANDALONE)
			ok = out->standalone_mode;
		else
			ok = reader_candidate(cfg, &in->node[i], out->state[i]);
		out->reader_eligible[i] = ok && (int)i != w;
		any_reader |= out->reader_eligible[i];
	}
	if (!any_reader && w >= 0)
		out->reader_eligible[w] = true;

	/* One line for the log: why the writer moved, or why there is none. */
	if (w < 0) {
		for (size_t i = 0; i < n; i++)
			append(out->reason_text, sizeof(out->reason_text), i ? ", %s %s" : "%s %s",
			       cfg->backends[i].name, gp_reason_text(out->why[i]));
		if (!n)
			append(out->reason_text, sizeof(out->reason_text), "%s%s", "no backends",
			       "");
	} else if (out->changed) {
		switch (out->reason) {
		case GP_REASON_PEER:
			append(out->reason_text, sizeof(out->reason_text), "%s %s",
			       cfg->backends[w].name, "is the peer's writer");
			break;
		case GP_REASON_FAILBACK:
			append(out->reason_text, sizeof(out->reason_text), "%s %s",
			       cfg->backends[w].name, "is preferred and eligible long enough");
			break;
		case GP_REASON_INITIAL:
			append(out->reason_text, sizeof(out->reason_text), "%s %s",
			       cfg->backends[w].name, "is the best eligible node");
			break;
		default:
			append(out->reason_text, sizeof(out->reason_text), "%s %s",
			       cfg->backends[cur].name, gp_reason_text(out->reason));
			break;
		}
	}
}
