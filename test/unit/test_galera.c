/* test_galera.c - table-driven tests of the Galera policy and of probe row parsing. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gp_check.h"
#include "cluster/galera.h"
#include "probe_synced.h"

#define UUID_A "d5ab1cd4-e9a4-11f1-a0de-0314b14815b3"
#define UUID_B "0b0b0b0b-e9a4-11f1-a0de-0314b14815b3"

/*
 * A node is a comma-separated list of words applied to a healthy Synced Galera node:
 *   down        monitor says down (the probe values are still known: it ran Galera)
 *   never       never probed successfully (no values) and down
 *   donor desync joining joined initialized nonprim notready ro reject rejectkill
 *   wsrepoff    wsrep_on=OFF (provider loaded)        standalone  wsrep_provider=none
 *   desyncflag  state 4 but wsrep_desync=ON           donorrej    sst_donor_rejects_queries
 *   maint drain admin flags                           uuidB       other cluster_state_uuid
 *   rq=N        wsrep_local_recv_queue=N              since=N     eligible_since_ms=N
 */
typedef struct policy_case {
	const char *name;
	const char *nodes[4];   /* NULL-terminated specs */
	int64_t prio[4];        /* 0 = default (index + 1) */
	const char *names[4];   /* NULL = db1, db2, ... */
	bool failback;          /* routing.failback */
	int64_t failback_after; /* routing.failback_after_ms */
	bool donor_is_reader;   /* routing.donor_is_reader */
	int cur, peer;          /* current writer, peer suggestion */
	int64_t now;            /* now_ms */
	/* expectations */
	int writer;           /* chosen writer */
	gp_reason_t reason;   /* change reason */
	const char *states;   /* space-separated state names */
	const char *writers;  /* writer_eligible as "0110" */
	const char *readers;  /* reader_eligible */
	const char *text;     /* substring of reason_text, NULL = do not check */
	bool standalone_mode; /* expected standalone_mode */
} policy_case_t;

#define NO (-1)

/* One case per few lines reads better than one field per line. */
/* clang-format off */
static const policy_case_t cases[] = {
	{.name = "all synced: best priority is the first writer",
	 .nodes = {"", "", ""}, .cur = NO, .peer = NO, .writer = 0, .reason = GP_REASON_INITIAL,
	 .states = "synced synced synced", .writers = "111", .readers = "011",
	 .text = "db1 is the best eligible node"},
	{.name = "sticky: the current writer stays while eligible",
	 .nodes = {"", "", ""}, .cur = 2, .peer = NO, .writer = 2, .reason = GP_REASON_NONE,
	 .states = "synced synced synced", .writers = "111", .readers = "110", .text = ""},
	{.name = "priority: lowest priority wins",
	 .nodes = {"", "", ""}, .prio = {3, 1, 2}, .cur = NO, .peer = NO, .writer = 1,
	 .reason = GP_REASON_INITIAL, .states = "synced synced synced", .writers = "111",
	 .readers = "101"},
	{.name = "priority ties are broken by name",
	 .nodes = {"", "", ""}, .prio = {5, 5, 5}, .names = {"zeta", "alpha", "mid"}, .cur = NO,
	 .peer = NO, .writer = 1, .reason = GP_REASON_INITIAL, .states = "synced synced synced",
	 .writers = "111", .readers = "101"},
	{.name = "donor is never the writer nor, by default, a reader",
	 .nodes = {"donor", "", ""}, .cur = 0, .peer = NO, .writer = 1, .reason = GP_REASON_DONOR,
	 .states = "donor synced synced", .writers = "011", .readers = "001", .text = "db1 donor"},
	{.name = "donor_is_reader makes a donor a reader",
	 .nodes = {"donor", "", ""}, .donor_is_reader = true, .cur = 1, .peer = NO, .writer = 1,
	 .states = "donor synced synced", .writers = "011", .readers = "101"},
	{.name = "donor_is_reader, but the donor rejects queries during SST",
	 .nodes = {"donor,donorrej", "", ""}, .donor_is_reader = true, .cur = 1, .peer = NO,
	 .writer = 1, .states = "donor synced synced", .writers = "011", .readers = "001"},
	{.name = "desynced writer loses the role",
	 .nodes = {"desync", "", ""}, .cur = 0, .peer = NO, .writer = 1,
	 .reason = GP_REASON_DESYNCED, .states = "desynced synced synced", .writers = "011",
	 .readers = "001", .text = "db1 desynced"},
	{.name = "wsrep_desync=ON while state still says Synced",
	 .nodes = {"desyncflag", "", ""}, .cur = 0, .peer = NO, .writer = 1,
	 .reason = GP_REASON_DESYNCED, .states = "desynced synced synced", .writers = "011",
	 .readers = "001"},
	{.name = "non-Primary writer loses the role",
	 .nodes = {"nonprim", "", ""}, .cur = 0, .peer = NO, .writer = 1,
	 .reason = GP_REASON_NON_PRIMARY, .states = "non_primary synced synced",
	 .writers = "011", .readers = "001", .text = "db1 non-Primary"},
	{.name = "wsrep_ready=OFF is not eligible",
	 .nodes = {"notready", "", ""}, .cur = 0, .peer = NO, .writer = 1,
	 .reason = GP_REASON_NOT_READY, .states = "non_primary synced synced", .writers = "011",
	 .readers = "001"},
	{.name = "read_only is not a writer but still a reader",
	 .nodes = {"ro", "", ""}, .cur = 0, .peer = NO, .writer = 1, .reason = GP_REASON_READ_ONLY,
	 .states = "read_only synced synced", .writers = "011", .readers = "101",
	 .text = "db1 read_only=ON"},
	{.name = "wsrep_reject_queries=ALL is neither writer nor reader",
	 .nodes = {"reject", "", ""}, .cur = 0, .peer = NO, .writer = 1,
	 .reason = GP_REASON_REJECT_QUERIES, .states = "rejecting synced synced",
	 .writers = "011", .readers = "001"},
	{.name = "wsrep_reject_queries=ALL_KILL too",
	 .nodes = {"", "rejectkill", ""}, .cur = NO, .peer = NO, .writer = 0,
	 .reason = GP_REASON_INITIAL, .states = "synced rejecting synced", .writers = "101",
	 .readers = "001"},
	{.name = "a Galera node with wsrep_on=OFF is never eligible",
	 .nodes = {"wsrepoff", "", ""}, .cur = NO, .peer = NO, .writer = 1,
	 .reason = GP_REASON_INITIAL, .states = "non_primary synced synced", .writers = "011",
	 .readers = "001"},
	{.name = "cluster_state_uuid differing from the majority",
	 .nodes = {"uuidB", "", ""}, .cur = 0, .peer = NO, .writer = 1,
	 .reason = GP_REASON_CLUSTER_MISMATCH, .states = "non_primary synced synced",
	 .writers = "011", .readers = "001", .text = "db1 cluster UUID mismatch"},
	{.name = "1 vs 1 UUIDs: the current writer's history wins",
	 .nodes = {"", "uuidB", "down"}, .cur = 0, .peer = NO, .writer = 0,
	 .states = "synced non_primary down", .writers = "100", .readers = "100"},
	{.name = "1 vs 1 UUIDs and no writer: nobody",
	 .nodes = {"", "uuidB", "down"}, .cur = NO, .peer = NO, .writer = NO,
	 .states = "non_primary non_primary down", .writers = "000", .readers = "000",
	 .text = "db1 cluster UUID mismatch, db2 cluster UUID mismatch, db3 down"},
	{.name = "non-Primary nodes do not vote on the cluster UUID",
	 .nodes = {"nonprim,uuidB", "nonprim,uuidB", ""}, .cur = NO, .peer = NO, .writer = 2,
	 .reason = GP_REASON_INITIAL, .states = "non_primary non_primary synced",
	 .writers = "001", .readers = "001"},
	{.name = "joining and joined are not synced",
	 .nodes = {"joining", "joined", "initialized"}, .cur = NO, .peer = NO, .writer = NO,
	 .states = "joining joined joining", .writers = "000", .readers = "000",
	 .text = "db1 not synced, db2 not synced, db3 not synced"},
	{.name = "maintenance excludes a node from writing and reading",
	 .nodes = {"maint", "", ""}, .cur = 0, .peer = NO, .writer = 1,
	 .reason = GP_REASON_MAINTENANCE, .states = "maintenance synced synced",
	 .writers = "011", .readers = "001", .text = "db1 maintenance"},
	{.name = "drain keeps the node eligible",
	 .nodes = {"drain", "", ""}, .cur = 0, .peer = NO, .writer = 0,
	 .states = "draining synced synced", .writers = "111", .readers = "011"},
	{.name = "a draining node is still a reader",
	 .nodes = {"", "drain", ""}, .cur = 0, .peer = NO, .writer = 0,
	 .states = "synced draining synced", .writers = "111", .readers = "011"},
	{.name = "writer down: next best",
	 .nodes = {"down", "", ""}, .cur = 0, .peer = NO, .writer = 1, .reason = GP_REASON_DOWN,
	 .states = "down synced synced", .writers = "011", .readers = "001", .text = "db1 down"},
	{.name = "nothing eligible: no writer and why",
	 .nodes = {"down", "donor", "nonprim"}, .cur = 0, .peer = NO, .writer = NO,
	 .reason = GP_REASON_DOWN, .states = "down donor non_primary", .writers = "000",
	 .readers = "000", .text = "db1 down, db2 donor, db3 non-Primary"},
	{.name = "still no writer: nothing changed",
	 .nodes = {"never", "never", "never"}, .cur = NO, .peer = NO, .writer = NO,
	 .reason = GP_REASON_NONE, .states = "down down down", .writers = "000",
	 .readers = "000", .text = "db1 down, db2 down, db3 down"},
	{.name = "up but never probed has no data",
	 .nodes = {"never,up", "", ""}, .cur = NO, .peer = NO, .writer = 1,
	 .reason = GP_REASON_INITIAL, .states = "down synced synced", .writers = "011",
	 .readers = "001"},
	{.name = "failback off: the writer stays on the worse node",
	 .nodes = {"since=0", "since=0", ""}, .cur = 1, .peer = NO, .now = 100000, .writer = 1,
	 .states = "synced synced synced", .writers = "111", .readers = "101"},
	{.name = "failback on: not eligible long enough yet",
	 .nodes = {"since=80000", "since=0", ""}, .failback = true, .failback_after = 30000,
	 .cur = 1, .peer = NO, .now = 100000, .writer = 1, .states = "synced synced synced",
	 .writers = "111", .readers = "101"},
	{.name = "failback on: eligible long enough, the writer moves back",
	 .nodes = {"since=70000", "since=0", ""}, .failback = true, .failback_after = 30000,
	 .cur = 1, .peer = NO, .now = 100000, .writer = 0, .reason = GP_REASON_FAILBACK,
	 .states = "synced synced synced", .writers = "111", .readers = "011",
	 .text = "db1 is preferred"},
	{.name = "failback waits for the best node, not a merely better one",
	 .nodes = {"since=90000", "since=0", "since=0"}, .failback = true,
	 .failback_after = 30000, .cur = 2, .peer = NO, .now = 100000, .writer = 2,
	 .states = "synced synced synced", .writers = "111", .readers = "110"},
	{.name = "failback_after_ms=0 moves at once (newly eligible node)",
	 .nodes = {"", "since=0", ""}, .failback = true, .failback_after = 0, .cur = 1,
	 .peer = NO, .now = 5000, .writer = 0, .reason = GP_REASON_FAILBACK,
	 .states = "synced synced synced", .writers = "111", .readers = "011"},
	{.name = "failback needs strictly better priority",
	 .nodes = {"since=0", "since=0", ""}, .prio = {2, 2, 3}, .failback = true,
	 .failback_after = 0, .cur = 1, .peer = NO, .now = 100000, .writer = 1,
	 .states = "synced synced synced", .writers = "111", .readers = "101"},
	{.name = "peer suggestion overrides stickiness",
	 .nodes = {"", "", ""}, .cur = 0, .peer = 2, .writer = 2, .reason = GP_REASON_PEER,
	 .states = "synced synced synced", .writers = "111", .readers = "110",
	 .text = "db3 is the peer's writer"},
	{.name = "peer suggestion overrides priority",
	 .nodes = {"", "", ""}, .cur = NO, .peer = 1, .writer = 1, .reason = GP_REASON_PEER,
	 .states = "synced synced synced", .writers = "111", .readers = "101"},
	{.name = "peer suggestion does not override eligibility",
	 .nodes = {"", "", "donor"}, .cur = 0, .peer = 2, .writer = 0,
	 .states = "synced synced donor", .writers = "110", .readers = "010"},
	{.name = "peer suggestion beats failback",
	 .nodes = {"since=0", "since=0", ""}, .failback = true, .cur = 1, .peer = 2,
	 .now = 100000, .writer = 2, .reason = GP_REASON_PEER,
	 .states = "synced synced synced", .writers = "111", .readers = "110"},
	{.name = "standalone-only config: standalone may be the writer",
	 .nodes = {"standalone", "standalone"}, .cur = NO, .peer = NO, .writer = 0,
	 .reason = GP_REASON_INITIAL, .states = "standalone standalone", .writers = "11",
	 .readers = "01", .standalone_mode = true},
	{.name = "standalone-only config with a node never seen: no writer",
	 .nodes = {"standalone", "never"}, .cur = NO, .peer = NO, .writer = NO,
	 .states = "standalone down", .writers = "00", .readers = "00",
	 .text = "db1 standalone (Galera present or unknown), db2 down"},
	{.name = "standalone read_only: reader, not writer",
	 .nodes = {"standalone,ro", "standalone"}, .cur = NO, .peer = NO, .writer = 1,
	 .reason = GP_REASON_INITIAL, .states = "standalone standalone", .writers = "01",
	 .readers = "10", .standalone_mode = true},
	{.name = "mixed standalone + Galera: standalone serves nothing",
	 .nodes = {"standalone", "", ""}, .cur = NO, .peer = NO, .writer = 1,
	 .reason = GP_REASON_INITIAL, .states = "standalone synced synced", .writers = "011",
	 .readers = "001"},
	{.name = "mixed, Galera nodes down but known: still no standalone writer",
	 .nodes = {"standalone", "down", "down"}, .cur = NO, .peer = NO, .writer = NO,
	 .states = "standalone down down", .writers = "000", .readers = "000",
	 .text = "db1 standalone (Galera present or unknown), db2 down, db3 down"},
	{.name = "readers skip a long recv queue (equal to the limit is fine)",
	 .nodes = {"", "rq=101", "rq=100"}, .cur = 0, .peer = NO, .writer = 0,
	 .states = "synced synced synced", .writers = "111", .readers = "001"},
	{.name = "the writer reads when no other node can",
	 .nodes = {"", "down", "rq=500"}, .cur = 0, .peer = NO, .writer = 0,
	 .states = "synced down synced", .writers = "101", .readers = "100"},
	{.name = "out-of-range writer and peer are ignored",
	 .nodes = {"", ""}, .cur = 7, .peer = 9, .writer = 0, .reason = GP_REASON_INITIAL,
	 .states = "synced synced", .writers = "11", .readers = "01"},
};
/* clang-format on */

static gp_probe_t probes[4];

static void probe_synced(gp_probe_t *p)
{
	probe_synced_uuid(p, UUID_A);
}

/* Apply the words of a node spec to its probe and input. */
static void apply_spec(const char *spec, gp_probe_t *p, gp_galera_node_in_t *ni)
{
	char buf[128], *save = NULL;

	probe_synced(p);
	ni->probe = p;
	ni->up = true;
	ni->eligible_since_ms = -1;
	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (!strcmp(w, "down")) {
			ni->up = false;
			p->ok = false;
		} else if (!strcmp(w, "never")) {
			ni->up = false;
			ni->probe = NULL;
		} else if (!strcmp(w, "up")) {
			ni->up = true;
		} else if (!strcmp(w, "donor")) {
			p->local_state = 2;
		} else if (!strcmp(w, "desync")) {
			p->local_state = 2;
			p->desync = true;
		} else if (!strcmp(w, "desyncflag")) {
			p->desync = true;
		} else if (!strcmp(w, "joining")) {
			p->local_state = 1;
		} else if (!strcmp(w, "joined")) {
			p->local_state = 3;
		} else if (!strcmp(w, "initialized")) {
			p->local_state = 0;
		} else if (!strcmp(w, "nonprim")) {
			p->cluster_status = GP_CLUSTER_NON_PRIMARY;
			p->ready = false;
			p->local_state = 0;
		} else if (!strcmp(w, "notready")) {
			p->ready = false;
		} else if (!strcmp(w, "ro")) {
			p->read_only = true;
		} else if (!strcmp(w, "reject")) {
			p->reject_queries = GP_REJECT_ALL;
		} else if (!strcmp(w, "rejectkill")) {
			p->reject_queries = GP_REJECT_ALL_KILL;
		} else if (!strcmp(w, "wsrepoff")) {
			p->wsrep_on = false;
		} else if (!strcmp(w, "standalone")) {
			p->provider = false;
			p->wsrep_on = false;
			p->ready = false;
			p->cluster_status = GP_CLUSTER_DISCONNECTED;
			p->cluster_state_uuid[0] = '\0';
		} else if (!strcmp(w, "donorrej")) {
			p->sst_donor_rejects = true;
		} else if (!strcmp(w, "maint")) {
			ni->maintenance = true;
		} else if (!strcmp(w, "drain")) {
			ni->drain = true;
		} else if (!strcmp(w, "uuidB")) {
			snprintf(p->cluster_state_uuid, sizeof(p->cluster_state_uuid), "%s",
			         UUID_B);
		} else if (!strncmp(w, "rq=", 3)) {
			p->recv_queue = atoll(w + 3);
		} else if (!strncmp(w, "since=", 6)) {
			ni->eligible_since_ms = atoll(w + 6);
		} else {
			ck_abort_msg("unknown spec word %s", w);
		}
	}
}

static void bits(char *dst, const bool *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = v[i] ? '1' : '0';
	dst[n] = '\0';
}

START_TEST(test_policy_table)
{
	const policy_case_t *c = &cases[_i];
	gp_config_t cfg;
	gp_galera_in_t in;
	gp_galera_out_t out;
	char states[256] = "", wbits[8], rbits[8];
	size_t n = 0;

	memset(&cfg, 0, sizeof(cfg));
	cfg.routing_failback = c->failback;
	cfg.routing_failback_after_ms = c->failback_after;
	cfg.routing_donor_is_reader = c->donor_is_reader;
	cfg.routing_max_recv_queue = 100;
	gp_galera_in_init(&in);
	while (n < 4 && c->nodes[n]) {
		snprintf(cfg.backends[n].name, GP_NAME_MAX, "%s",
		         c->names[n] ? c->names[n]
		                     : (const char *[]){"db1", "db2", "db3", "db4"}[n]);
		cfg.backends[n].priority = c->prio[n] ? c->prio[n] : (int64_t)n + 1;
		apply_spec(c->nodes[n], &probes[n], &in.node[n]);
		n++;
	}
	cfg.nbackends = n;
	in.writer = c->cur;
	in.peer_writer = c->peer;
	in.now_ms = c->now;

	gp_galera_decide(&cfg, &in, &out);

	for (size_t i = 0; i < n; i++) {
		strcat(states, i ? " " : "");
		strcat(states, gp_node_state_name(out.state[i]));
	}
	bits(wbits, out.writer_eligible, n);
	bits(rbits, out.reader_eligible, n);
	ck_assert_msg(out.writer == c->writer, "%s: writer %d, want %d (%s)", c->name, out.writer,
	              c->writer, out.reason_text);
	ck_assert_msg(out.reason == c->reason, "%s: reason %s, want %s", c->name,
	              gp_reason_name(out.reason), gp_reason_name(c->reason));
	ck_assert_msg(out.changed == (c->writer != c->cur), "%s: changed", c->name);
	ck_assert_msg(!strcmp(states, c->states), "%s: states '%s', want '%s'", c->name, states,
	              c->states);
	ck_assert_msg(!strcmp(wbits, c->writers), "%s: writer-eligible %s, want %s", c->name, wbits,
	              c->writers);
	ck_assert_msg(!strcmp(rbits, c->readers), "%s: readers %s, want %s", c->name, rbits,
	              c->readers);
	ck_assert_msg(out.standalone_mode == c->standalone_mode, "%s: standalone_mode", c->name);
	if (c->text && !*c->text)
		ck_assert_msg(out.reason_text[0] == '\0', "%s: text '%s'", c->name,
		              out.reason_text);
	else if (c->text)
		ck_assert_msg(strstr(out.reason_text, c->text), "%s: text '%s', want '%s'", c->name,
		              out.reason_text, c->text);
	/* Exactly one writer or none, and it is eligible. */
	if (out.writer >= 0)
		ck_assert(out.writer_eligible[out.writer]);
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(out.writer_eligible[i] == (out.why[i] == GP_REASON_NONE), "%s: why",
		              c->name);
		if (out.writer_eligible[i])
			ck_assert_int_eq(out.eligible_since_ms[i],
			                 in.node[i].eligible_since_ms >= 0
			                         ? in.node[i].eligible_since_ms
			                         : c->now);
		else
			ck_assert_int_eq(out.eligible_since_ms[i], -1);
	}
}
END_TEST

/* Feeding the output back in over time: the failback timer starts when a node turns
 * eligible, and the writer moves back exactly failback_after_ms later. */
START_TEST(test_failback_over_time)
{
	gp_config_t cfg;
	gp_galera_in_t in;
	gp_galera_out_t out;
	int64_t moved_at = -1;

	memset(&cfg, 0, sizeof(cfg));
	cfg.nbackends = 2;
	snprintf(cfg.backends[0].name, GP_NAME_MAX, "db1");
	snprintf(cfg.backends[1].name, GP_NAME_MAX, "db2");
	cfg.backends[0].priority = 1;
	cfg.backends[1].priority = 2;
	cfg.routing_failback = true;
	cfg.routing_failback_after_ms = 1000;
	cfg.routing_max_recv_queue = 100;
	gp_galera_in_init(&in);
	apply_spec("", &probes[0], &in.node[0]);
	apply_spec("", &probes[1], &in.node[1]);

	for (int64_t t = 0; t <= 3000; t += 250) {
		in.now_ms = t;
		in.node[0].up = t < 500 || t >= 1000; /* db1 down from 500 to 1000 */
		gp_galera_decide(&cfg, &in, &out);
		if (t == 0)
			ck_assert_int_eq(out.writer, 0);
		if (t == 500)
			ck_assert_int_eq(out.writer, 1);
		if (out.changed && out.writer == 0 && t > 0)
			moved_at = t;
		in.writer = out.writer;
		for (size_t i = 0; i < cfg.nbackends; i++)
			in.node[i].eligible_since_ms = out.eligible_since_ms[i];
	}
	ck_assert_int_eq(moved_at, 2000);
}
END_TEST

/* Rows exactly as MariaDB 10.11 returns them (captured from the loopback cluster). */
START_TEST(test_probe_rows_synced)
{
	static const char *rows[][2] = {
	        {"WSREP_LOCAL_RECV_QUEUE", "3"},
	        {"WSREP_LOCAL_STATE", "4"},
	        {"WSREP_LOCAL_STATE_COMMENT", "Synced"},
	        {"WSREP_GCOMM_UUID", "d5aac074-e9a4-11f1-b6c2-3e91fd8cb8fe"},
	        {"WSREP_CLUSTER_SIZE", "3"},
	        {"WSREP_CLUSTER_STATE_UUID", UUID_A},
	        {"WSREP_CLUSTER_STATUS", "Primary"},
	        {"WSREP_CONNECTED", "ON"},
	        {"WSREP_LOCAL_INDEX", "2"},
	        {"WSREP_READY", "ON"},
	        {"WSREP_REJECT_QUERIES", "NONE"},
	        {"WSREP_SST_DONOR_REJECTS_QUERIES", "OFF"},
	        {"WSREP_ON", "ON"},
	        {"WSREP_PROVIDER", "/usr/lib/galera/libgalera_smm.so"},
	        {"READ_ONLY", "OFF"},
	        {"WSREP_DESYNC", "OFF"},
	        {"SESSION_TRACK_SCHEMA", "ON"},
	        {"SESSION_TRACK_SYSTEM_VARIABLES", "*"},
	        {"SESSION_TRACK_STATE_CHANGE", "ON"},
	};
	gp_probe_t p;

	memset(&p, 0, sizeof(p));
	gp_probe_begin(&p);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		ck_assert_msg(gp_probe_set_var(&p, rows[i][0], rows[i][1]), "%s", rows[i][0]);
	gp_probe_end(&p);
	ck_assert(p.have_vars);
	ck_assert_int_eq(p.local_state, 4);
	ck_assert_str_eq(p.local_state_comment, "Synced");
	ck_assert(p.ready && p.connected && p.wsrep_on && p.provider);
	ck_assert(!p.desync && !p.read_only && !p.sst_donor_rejects);
	ck_assert_int_eq(p.cluster_status, GP_CLUSTER_PRIMARY);
	ck_assert_int_eq(p.cluster_size, 3);
	ck_assert_int_eq(p.local_index, 2);
	ck_assert_int_eq(p.recv_queue, 3);
	ck_assert_int_eq(p.reject_queries, GP_REJECT_NONE);
	ck_assert_str_eq(p.cluster_state_uuid, UUID_A);
	ck_assert_str_eq(p.gcomm_uuid, "d5aac074-e9a4-11f1-b6c2-3e91fd8cb8fe");
	ck_assert_uint_eq(p.seen, 0xffffu | GP_VAR_TRACK_ALL);
	ck_assert(gp_probe_tracks(&p));
}
END_TEST

/* Session tracking as moves need it: all three on, every variable; anything less is not. */
START_TEST(test_probe_tracks)
{
	static const struct {
		const char *schema, *sysvars, *state;
		bool want;
	} tcases[] = {
	        {"ON", "*", "ON", true},
	        {"OFF", "*", "ON", false},
	        {"ON", "*", "OFF", false},
	        /* MariaDB's default list names five variables, not every one */
	        {"ON",
	         "autocommit,character_set_client,character_set_connection,"
	         "character_set_results,time_zone",
	         "ON", false},
	        {"ON", "", "ON", false},
	        {NULL, "*", "ON", false}, /* a server without the variable (unseen) */
	        {"garbage", "*", "ON", false},
	};
	gp_probe_t p;
	for (size_t i = 0; i < sizeof(tcases) / sizeof(tcases[0]); i++) {
		memset(&p, 0, sizeof(p));
		gp_probe_begin(&p);
		if (tcases[i].schema)
			ck_assert(gp_probe_set_var(&p, "session_track_schema", tcases[i].schema));
		ck_assert(
		        gp_probe_set_var(&p, "SESSION_TRACK_SYSTEM_VARIABLES", tcases[i].sysvars));
		ck_assert(gp_probe_set_var(&p, "SESSION_TRACK_STATE_CHANGE", tcases[i].state));
		ck_assert_msg(!gp_probe_tracks(&p), "%zu: before the end", i);
		gp_probe_end(&p);
		ck_assert_msg(gp_probe_tracks(&p) == tcases[i].want, "case %zu", i);
	}
	ck_assert(!gp_probe_tracks(NULL));
}
END_TEST

/* A standalone MariaDB (wsrep_provider=none) and a Galera node with wsrep_on=OFF, whose
 * provider status variables (local_state, gcomm_uuid, recv_queue) disappear. */
START_TEST(test_probe_rows_standalone_and_wsrep_off)
{
	gp_probe_t p;

	memset(&p, 0, sizeof(p));
	gp_probe_begin(&p);
	ck_assert(gp_probe_set_var(&p, "WSREP_CLUSTER_SIZE", "0"));
	ck_assert(gp_probe_set_var(&p, "WSREP_CLUSTER_STATE_UUID", ""));
	ck_assert(gp_probe_set_var(&p, "WSREP_CLUSTER_STATUS", "Disconnected"));
	ck_assert(gp_probe_set_var(&p, "WSREP_LOCAL_INDEX", "18446744073709551615"));
	ck_assert(gp_probe_set_var(&p, "WSREP_READY", "OFF"));
	ck_assert(gp_probe_set_var(&p, "WSREP_ON", "OFF"));
	ck_assert(gp_probe_set_var(&p, "WSREP_PROVIDER", "none"));
	gp_probe_end(&p);
	ck_assert(!p.provider && !p.wsrep_on && !p.ready);
	ck_assert_int_eq(p.local_index, -1);
	ck_assert_int_eq(p.local_state, -1);
	ck_assert_int_eq(p.cluster_status, GP_CLUSTER_DISCONNECTED);

	/* MySQL or a MariaDB without wsrep: no wsrep variables at all. */
	gp_probe_begin(&p);
	ck_assert(gp_probe_set_var(&p, "READ_ONLY", "ON"));
	gp_probe_end(&p);
	ck_assert(p.have_vars && !p.provider && p.read_only);

	/* wsrep_on=OFF on a Galera node: the policy must not need local_state. */
	gp_probe_begin(&p);
	ck_assert(gp_probe_set_var(&p, "WSREP_CLUSTER_STATUS", "Primary"));
	ck_assert(gp_probe_set_var(&p, "WSREP_READY", "ON"));
	ck_assert(gp_probe_set_var(&p, "WSREP_ON", "OFF"));
	ck_assert(gp_probe_set_var(&p, "WSREP_PROVIDER", "/usr/lib/galera/libgalera_smm.so"));
	gp_probe_end(&p);
	ck_assert(p.provider && !p.wsrep_on);
	ck_assert(!(p.seen & GP_VAR_LOCAL_STATE));
}
END_TEST

START_TEST(test_probe_rows_values)
{
	gp_probe_t p;

	memset(&p, 0, sizeof(p));
	gp_probe_begin(&p);
	ck_assert(gp_probe_set_var(&p, "wsrep_cluster_status", "non-Primary"));
	ck_assert_int_eq(p.cluster_status, GP_CLUSTER_NON_PRIMARY);
	ck_assert(gp_probe_set_var(&p, "wsrep_reject_queries", "ALL_KILL"));
	ck_assert_int_eq(p.reject_queries, GP_REJECT_ALL_KILL);
	ck_assert(gp_probe_set_var(&p, "wsrep_reject_queries", "all"));
	ck_assert_int_eq(p.reject_queries, GP_REJECT_ALL);
	ck_assert(gp_probe_set_var(&p, "read_only", "NO_LOCK")); /* MariaDB 11 */
	ck_assert(p.read_only);
	ck_assert(gp_probe_set_var(&p, "read_only", "0"));
	ck_assert(!p.read_only);
	ck_assert(gp_probe_set_var(&p, "wsrep_desync", "ON"));
	ck_assert(p.desync);
	ck_assert(gp_probe_set_var(&p, "wsrep_provider", ""));
	ck_assert(!p.provider);
	ck_assert(gp_probe_set_var(&p, "wsrep_local_state", "2"));
	ck_assert(gp_probe_set_var(&p, "wsrep_local_state_comment", "Donor/Desynced"));
	ck_assert_str_eq(p.local_state_comment, "Donor/Desynced");
	ck_assert(gp_probe_set_var(&p, "some_other_var", "whatever"));
	ck_assert(gp_probe_set_var(&p, "wsrep_flow_control_paused", "0.1"));
	/* malformed values of known names */
	ck_assert(!gp_probe_set_var(&p, "wsrep_local_state", "four"));
	ck_assert(!gp_probe_set_var(&p, "wsrep_local_state", ""));
	ck_assert(!gp_probe_set_var(&p, "wsrep_ready", "maybe"));
	ck_assert(!gp_probe_set_var(&p, "wsrep_cluster_status", "Secondary"));
	ck_assert(!gp_probe_set_var(&p, "wsrep_reject_queries", "SOME"));
	/* over-long strings are truncated, not overflowed */
	ck_assert(
	        gp_probe_set_var(&p, "wsrep_gcomm_uuid",
	                         "0123456789012345678901234567890123456789012345678901234567890"));
	ck_assert_uint_eq(strlen(p.gcomm_uuid), GP_UUID_MAX - 1);
}
END_TEST

#include "test_galera_evict.c"

START_TEST(test_uuid_valid)
{
	ck_assert(gp_uuid_valid("d86cee78-e9a4-11f1-8e6f-ca6da7d5ced6"));
	ck_assert(!gp_uuid_valid(""));
	ck_assert(!gp_uuid_valid("d86cee78-e9a4-11f1-8e6f-ca6da7d5ced"));   /* short */
	ck_assert(!gp_uuid_valid("d86cee78-e9a4-11f1-8e6f-ca6da7d5ced6a")); /* long */
	ck_assert(!gp_uuid_valid("d86cee78-e9a4-11f1-8e6f-ca6da7d5ce'6"));  /* quote */
	ck_assert(!gp_uuid_valid(
	        "D86CEE78-E9A4-11F1-8E6F-CA6DA7D5CED6")); /* as Galera never writes */
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(gp_node_state_name(GP_NODE_SYNCED), "synced");
	ck_assert_str_eq(gp_node_state_name(GP_NODE_NON_PRIMARY), "non_primary");
	ck_assert_str_eq(gp_node_state_name(GP_NODE_STANDALONE), "standalone");
	ck_assert_str_eq(gp_node_state_name(GP_NODE_STATE_COUNT), "?");
	ck_assert_str_eq(gp_reason_name(GP_REASON_CLUSTER_MISMATCH), "cluster_mismatch");
	ck_assert_str_eq(gp_reason_text(GP_REASON_NON_PRIMARY), "non-Primary");
	ck_assert_str_eq(gp_reason_name(GP_REASON_COUNT), "?");
	ck_assert_str_eq(gp_probe_err_name(GP_PROBE_REFUSED), "refused");
	ck_assert_str_eq(gp_probe_err_name(GP_PROBE_ERR_COUNT), "?");
}
END_TEST

static Suite *galera_suite(void)
{
	Suite *s = suite_create("galera");
	TCase *tc = tcase_create("policy");

	tcase_add_loop_test(tc, test_policy_table, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_failback_over_time);
	suite_add_tcase(s, tc);
	tc = tcase_create("probe");
	tcase_add_test(tc, test_probe_rows_synced);
	tcase_add_test(tc, test_probe_rows_standalone_and_wsrep_off);
	tcase_add_test(tc, test_probe_tracks);
	tcase_add_test(tc, test_probe_rows_values);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_pick_survivor);
	tcase_add_test(tc, test_uuid_valid);
	tcase_add_test(tc, test_evict_list_stale);
	tcase_add_test(tc, test_group_whole);
	tcase_add_test(tc, test_evict_list_stale_group);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return gp_check_run(galera_suite(), CK_NORMAL);
}
