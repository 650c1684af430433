/* galera.h - Galera policy as a pure function: probe values in; node states, the writer out. */
#ifndef GP_GALERA_H
#define GP_GALERA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config.h"

/*
 * Nothing here does I/O, reads a clock or allocates: the monitor (monitor.c) fills
 * gp_probe_t from the wire, the router calls gp_galera_decide() with the time as an
 * argument. That keeps every rule testable from a table (test/unit/test_galera.c).
 */

#define GP_UUID_MAX       40 /* 36 chars of a UUID + NUL, rounded up */
#define GP_EVICT_LIST_MAX 8  /* wsrep_evs_evict_list entries kept per probe */

/* Why a probe failed. REFUSED is positive evidence that no server listens any more. */
typedef enum gp_probe_err {
	GP_PROBE_OK = 0,   /* the probe succeeded */
	GP_PROBE_REFUSED,  /* TCP connect refused (RST): the server process is gone */
	GP_PROBE_TIMEOUT,  /* no answer within monitor.timeout_ms */
	GP_PROBE_CLOSED,   /* the connection broke (EOF/reset) mid-probe */
	GP_PROBE_CONNECT,  /* any other connect error (auth, too many connections, ...) */
	GP_PROBE_QUERY,    /* connected, but the status query failed */
	GP_PROBE_ERR_COUNT /* number of values */
} gp_probe_err_t;

typedef enum gp_cluster_status {
	GP_CLUSTER_UNKNOWN = 0,  /* not reported (no wsrep status variables) */
	GP_CLUSTER_PRIMARY,      /* "Primary": part of the quorum component */
	GP_CLUSTER_NON_PRIMARY,  /* "non-Primary": lost quorum, refuses table access */
	GP_CLUSTER_DISCONNECTED, /* "Disconnected": provider not connected to a group */
} gp_cluster_status_t;

typedef enum gp_reject {
	GP_REJECT_NONE = 0, /* wsrep_reject_queries=NONE */
	GP_REJECT_ALL,      /* ALL: new queries fail with ER_UNKNOWN_COM_ERROR */
	GP_REJECT_ALL_KILL, /* ALL_KILL: and existing connections are killed */
} gp_reject_t;

/* Bits of gp_probe_t.seen: which variables the last successful probe returned. */
enum {
	GP_VAR_LOCAL_STATE = 1u << 0,
	GP_VAR_LOCAL_STATE_COMMENT = 1u << 1,
	GP_VAR_READY = 1u << 2,
	GP_VAR_CONNECTED = 1u << 3,
	GP_VAR_CLUSTER_STATUS = 1u << 4,
	GP_VAR_CLUSTER_SIZE = 1u << 5,
	GP_VAR_CLUSTER_STATE_UUID = 1u << 6,
	GP_VAR_LOCAL_INDEX = 1u << 7,
	GP_VAR_RECV_QUEUE = 1u << 8,
	GP_VAR_GCOMM_UUID = 1u << 9,
	GP_VAR_DESYNC = 1u << 10,
	GP_VAR_REJECT_QUERIES = 1u << 11,
	GP_VAR_SST_DONOR_REJECTS = 1u << 12,
	GP_VAR_READ_ONLY = 1u << 13,
	GP_VAR_WSREP_ON = 1u << 14,
	GP_VAR_PROVIDER = 1u << 15,
	GP_VAR_EVICT_LIST = 1u << 16,
	GP_VAR_TRACK_SCHEMA = 1u << 17,
	GP_VAR_TRACK_SYSVARS = 1u << 18,
	GP_VAR_TRACK_STATE_CHANGE = 1u << 19,
};
/* The three a node needs for its sessions' state to be known (session/state.h). */
#define GP_VAR_TRACK_ALL (GP_VAR_TRACK_SCHEMA | GP_VAR_TRACK_SYSVARS | GP_VAR_TRACK_STATE_CHANGE)

/*
 * One node's probe. ok/err/latency describe the LAST attempt; the wsrep values are those
 * of the last SUCCESSFUL probe (have_vars), kept across failures so that eviction knows
 * the gcomm UUID of a node that just died and the policy knows a down node ran Galera.
 */
typedef struct gp_probe {
	bool ok;            /* last attempt succeeded */
	gp_probe_err_t err; /* why it failed (GP_PROBE_OK if ok) */
	char errmsg[160];   /* libmariadb's text for the failure, for logs */
	int64_t at_ms;      /* loop time the last attempt finished */
	int64_t latency_us; /* query round trip of the last success */
	int64_t connect_us; /* connect + handshake time when the probe had to connect, else 0 */
	bool have_vars;     /* the fields below come from a successful probe */
	uint32_t seen;      /* GP_VAR_* bits returned by that probe */
	int local_state;    /* wsrep_local_state: 1 Joining 2 Donor/Desynced 3 Joined 4 Synced */
	char local_state_comment[32];         /* wsrep_local_state_comment, e.g. "Synced" */
	bool ready;                           /* wsrep_ready=ON */
	bool connected;                       /* wsrep_connected=ON */
	gp_cluster_status_t cluster_status;   /* wsrep_cluster_status */
	int cluster_size;                     /* wsrep_cluster_size */
	char cluster_state_uuid[GP_UUID_MAX]; /* wsrep_cluster_state_uuid: the data history */
	int local_index;                      /* wsrep_local_index */
	int64_t recv_queue;                   /* wsrep_local_recv_queue: write sets to apply */
	char gcomm_uuid[GP_UUID_MAX];         /* wsrep_gcomm_uuid: what evs.evict takes */
	bool desync;                          /* wsrep_desync=ON */
	gp_reject_t reject_queries;           /* wsrep_reject_queries */
	bool sst_donor_rejects;               /* wsrep_sst_donor_rejects_queries=ON */
	bool read_only;                       /* read_only is anything but OFF */
	bool wsrep_on;                        /* wsrep_on=ON */
	bool provider;                        /* a wsrep provider is loaded (not "none") */
	int evict_count;                      /* entries in wsrep_evs_evict_list */
	char evict_list[GP_EVICT_LIST_MAX][GP_UUID_MAX]; /* the first ones ("" if malformed) */
	bool track_schema;                               /* session_track_schema=ON */
	bool track_sysvars;                              /* session_track_system_variables is '*' */
	bool track_state_change;                         /* session_track_state_change=ON */
} gp_probe_t;

/*
 * The probe: one statement, one result set, 20 (VARIABLE_NAME, VARIABLE_VALUE) rows for
 * gp_probe_set_var. Measured on the loopback cluster (MariaDB 10.11, 2000 queries each):
 * this 0.57-0.65 ms; SHOW GLOBAL STATUS LIKE 'wsrep%' + SELECT @@... as a multi-statement
 * 0.51-0.54 ms but ~70 rows in two result sets; I_S status UNION @@vars 0.54-0.58 ms. No
 * real difference; this one is the simplest to drive and parse, and information_schema
 * stays readable on a non-Primary node. Needs no privilege beyond USAGE. The session_track_*
 * globals say whether the node reports the session state a move re-creates (issue 17).
 */
#define GP_PROBE_SQL                                                                               \
	"SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "              \
	"WHERE VARIABLE_NAME IN ('WSREP_LOCAL_STATE','WSREP_LOCAL_STATE_COMMENT','WSREP_READY',"   \
	"'WSREP_CONNECTED','WSREP_CLUSTER_STATUS','WSREP_CLUSTER_SIZE',"                           \
	"'WSREP_CLUSTER_STATE_UUID','WSREP_LOCAL_INDEX','WSREP_LOCAL_RECV_QUEUE',"                 \
	"'WSREP_GCOMM_UUID','WSREP_EVS_EVICT_LIST') "                                              \
	"UNION ALL SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES " \
	"WHERE VARIABLE_NAME IN ('READ_ONLY','WSREP_ON','WSREP_PROVIDER','WSREP_DESYNC',"          \
	"'WSREP_REJECT_QUERIES','WSREP_SST_DONOR_REJECTS_QUERIES','SESSION_TRACK_SCHEMA',"         \
	"'SESSION_TRACK_SYSTEM_VARIABLES','SESSION_TRACK_STATE_CHANGE')"

/* Clear the wsrep values before feeding the rows of a new probe. */
void gp_probe_begin(gp_probe_t *p);
/* Feed one (VARIABLE_NAME, VARIABLE_VALUE) row, name in any case; unknown names are ignored.
 * Returns false only if the value of a known name does not parse. */
bool gp_probe_set_var(gp_probe_t *p, const char *name, const char *value);
/* After the rows: mark have_vars. A server without a wsrep_provider variable (MySQL, MariaDB
 * built without wsrep) counts as provider=none. */
void gp_probe_end(gp_probe_t *p);

const char *gp_probe_err_name(gp_probe_err_t e);

/* The node's last good probe says it tracks session state as moves need: schema, every
 * system variable ('*'), state changes. False without a probe or when any is off or unseen. */
bool gp_probe_tracks(const gp_probe_t *p);

/* X(enum, name for logs and metrics) */
#define GP_NODE_STATE_TABLE(X)                \
	X(GP_NODE_SYNCED, "synced")           \
	X(GP_NODE_DONOR, "donor")             \
	X(GP_NODE_DESYNCED, "desynced")       \
	X(GP_NODE_JOINING, "joining")         \
	X(GP_NODE_JOINED, "joined")           \
	X(GP_NODE_NON_PRIMARY, "non_primary") \
	X(GP_NODE_REJECTING, "rejecting")     \
	X(GP_NODE_READ_ONLY, "read_only")     \
	X(GP_NODE_DOWN, "down")               \
	X(GP_NODE_MAINTENANCE, "maintenance") \
	X(GP_NODE_DRAINING, "draining")       \
	X(GP_NODE_STANDALONE, "standalone")

typedef enum gp_node_state {
#define GP_NODE_STATE_ENUM(e, name) e,
	GP_NODE_STATE_TABLE(GP_NODE_STATE_ENUM)
#undef GP_NODE_STATE_ENUM
	        GP_NODE_STATE_COUNT
} gp_node_state_t;

const char *gp_node_state_name(gp_node_state_t s);

/*
 * X(enum, name, text). Used twice: why a node is not writer-eligible (per node) and why the
 * writer changed (one per decision). The text is what "why no writer" strings are made of.
 */
#define GP_REASON_TABLE(X)                                                              \
	X(GP_REASON_NONE, "none", "eligible")                                           \
	X(GP_REASON_INITIAL, "initial", "first writer")                                 \
	X(GP_REASON_DOWN, "down", "down")                                               \
	X(GP_REASON_NON_PRIMARY, "non_primary", "non-Primary")                          \
	X(GP_REASON_NOT_READY, "not_ready", "wsrep_ready=OFF")                          \
	X(GP_REASON_DESYNCED, "desynced", "desynced")                                   \
	X(GP_REASON_DONOR, "donor", "donor")                                            \
	X(GP_REASON_NOT_SYNCED, "not_synced", "not synced")                             \
	X(GP_REASON_READ_ONLY, "read_only", "read_only=ON")                             \
	X(GP_REASON_REJECT_QUERIES, "reject_queries", "rejects queries")                \
	X(GP_REASON_WSREP_OFF, "wsrep_off", "wsrep_on=OFF")                             \
	X(GP_REASON_CLUSTER_MISMATCH, "cluster_mismatch", "cluster UUID mismatch")      \
	X(GP_REASON_STANDALONE, "standalone", "standalone (Galera present or unknown)") \
	X(GP_REASON_MAINTENANCE, "maintenance", "maintenance")                          \
	X(GP_REASON_NO_DATA, "no_data", "never probed")                                 \
	X(GP_REASON_FAILBACK, "failback", "failback to a preferred node")               \
	X(GP_REASON_PEER, "peer", "adopted the peer's writer")

typedef enum gp_reason {
#define GP_REASON_ENUM(e, name, text) e,
	GP_REASON_TABLE(GP_REASON_ENUM)
#undef GP_REASON_ENUM
	        GP_REASON_COUNT
} gp_reason_t;

const char *gp_reason_name(gp_reason_t r);
const char *gp_reason_text(gp_reason_t r);

/* Per node input of one decision. */
typedef struct gp_galera_node_in {
	const gp_probe_t *probe;   /* last probe (NULL = never probed) */
	bool up;                   /* the monitor's verdict after fall/rise */
	bool maintenance;          /* admin: excluded from writing and reading */
	bool drain;                /* admin: its sessions are drained once; it stays eligible */
	int64_t eligible_since_ms; /* out.eligible_since_ms of the previous decision (-1 = not) */
} gp_galera_node_in_t;

typedef struct gp_galera_in {
	gp_galera_node_in_t node[GP_MAX_BACKENDS]; /* indexed like cfg->backends */
	int writer;                                /* current writer, -1 if none */
	int peer_writer;                           /* the peer proxy's writer, -1 if none/unknown */
	int64_t now_ms;                            /* the caller's clock (uv_now) */
} gp_galera_in_t;

typedef struct gp_galera_out {
	gp_node_state_t state[GP_MAX_BACKENDS];     /* each node's state */
	gp_reason_t why[GP_MAX_BACKENDS];           /* why not writer-eligible (NONE if it is) */
	bool writer_eligible[GP_MAX_BACKENDS];      /* may be the writer */
	bool reader_eligible[GP_MAX_BACKENDS];      /* may serve listen_ro */
	int64_t eligible_since_ms[GP_MAX_BACKENDS]; /* feed back into the next in (-1 = not) */
	int writer;                                 /* chosen writer, -1 if none */
	bool changed;                               /* writer != in->writer */
	gp_reason_t reason;                         /* why it changed (NONE if not) */
	char reason_text[256]; /* one line: "db1 down" / "db1 down, db2 donor, db3 non-Primary" */
	char cluster_uuid[GP_UUID_MAX]; /* majority wsrep_cluster_state_uuid ("" if none) */
	bool standalone_mode;           /* no node runs Galera: STANDALONE may be written */
} gp_galera_out_t;

/* A well-formed gcomm UUID (36 chars of lowercase hex and dashes): safe to put in SQL. */
bool gp_uuid_valid(const char *s);

/*
 * Eviction: which node may run evs.evict for the dead node `victim`: up, and Synced,
 * Primary, ready, wsrep_on by its last good probe (one slow probe under load does not
 * disqualify it: the eviction connects afresh and moves on if that fails), not the victim,
 * not already tried (bit i of tried), and not claiming the victim's gcomm UUID. The first in
 * config order, so both proxies of a pair use the same node: two nodes evicting at once
 * were measured to converge slower (75-1800 ms) than one (40-330 ms). -1 if none.
 */
int gp_galera_pick_survivor(const gp_probe_t *const *probes, const bool *up, size_t n,
                            size_t victim, uint64_t tried);

/*
 * Whether the group is whole: every one of the n backends up and answering, Synced, Primary,
 * ready, wsrep_on, in one component of exactly n members (wsrep_cluster_size == n, one
 * wsrep_cluster_state_uuid) with n distinct, well-formed gcomm UUIDs. Then the proxy knows
 * every member of the Primary component by its UUID (it fronts every data node).
 */
bool gp_galera_group_whole(const gp_probe_t *const *probes, const bool *up, size_t n);

/*
 * Whether to clear a node's evict list (evs.evict= with no value): it is not empty and every
 * entry is gone for good, by one of two proofs:
 * - it is one of dead[0..n_dead), gcomm UUIDs this proxy evicted on the evidence of a
 *   refused connect (the process is gone);
 * - group (the probes of a whole group, gp_galera_group_whole; NULL if not whole) has none
 *   of the n_group members under that UUID: whoever evicted it (another proxy, this proxy
 *   before a restart or kill -9, an operator), every backend is back in the Primary
 *   component under a UUID of its own, so the entry names no live member, not even one
 *   in a minority (a backend's port serves one mariadbd, and that one is in the group).
 * Measured in the namespace drill: while a node's list holds ANY entry, even an unrelated one,
 * the next evs.evict takes Galera's suspect timeout (~5 s) instead of ~50 ms. Galera clears
 * only the whole list, so one entry that cannot be proved gone keeps it; so does a list
 * longer than the probe keeps (GP_EVICT_LIST_MAX) or an entry that is not a UUID.
 */
bool gp_galera_evict_list_stale(const gp_probe_t *p, const char (*dead)[GP_UUID_MAX], size_t n_dead,
                                const gp_probe_t *const *group, size_t n_group);

/* Initialise in: every node not eligible before, no writer, no peer. */
void gp_galera_in_init(gp_galera_in_t *in);

/*
 * The policy. cfg supplies the names, priorities and routing.* knobs (failback,
 * failback_after_ms, donor_is_reader, max_recv_queue); nodes are cfg->backends[0..n).
 * Pure: same input, same output. The caller feeds out->writer and out->eligible_since_ms
 * back into the next call.
 */
void gp_galera_decide(const gp_config_t *cfg, const gp_galera_in_t *in, gp_galera_out_t *out);

#endif
