/* fuzz_client.c - libFuzzer target: the daemon's session core (session/core.c) on arbitrary bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/myp.h"
#include "net/bufpool.h"
#include "session/core.h"

/*
 * Drives the real session core the way session.c does, without sockets: the backend's
 * greeting, the client's handshake response, the authentication exchange, then commands
 * (KILL translation against a fake registry, response tracking with client turns and 16 MB
 * continuations, COM_CHANGE_USER, the injected read-only statements, a cross-node KILL's
 * grant check), with gp_core_scanned after every server packet. Packets are framed the way
 * io.c frames them: whole packets during the handshake (bounded by GP_BUF_SIZE), the first
 * GP_CLIENT_PEEK / MYP_RESP_PEEK bytes after it, the rest of a long payload unseen.
 *
 * Input: records of direction (1 byte; bit 0: 1 = client), a MySQL packet header (3-byte
 * length, sequence id), then the bytes the proxy would see of its payload. The input's size
 * picks the session's kind (deferred greeting, read-only endpoint, causal reads, whether a
 * cross-node KILL checks grants), so every seed stays a valid input. The run ends where the
 * glue would close the session.
 *
 * Checked: what the proxy relays never offers or accepts TLS, compression or any capability
 * it cannot follow; a KILL it rewrites still parses, now naming the backend's thread; every
 * byte of its own is whole packets that fit; a held packet changes nothing.
 */

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define THREAD_OF(id) ((uint32_t)((id)-GP_CONN_ID_BASE + 1))

/* Proxy ids base..base+15 sit on this session's node, the next 16 on another. */
static bool fuzz_find(const gp_core_t *c, uint64_t id, gp_core_target_t *t)
{
	(void)c;
	if (id < GP_CONN_ID_BASE || id >= GP_CONN_ID_BASE + 32)
		return false;
	*t = (gp_core_target_t){.conn_id = (uint32_t)id,
	                        .thread = THREAD_OF(id),
	                        .backend = "db",
	                        .same_node = id < GP_CONN_ID_BASE + 16};
	return true;
}

static const gp_core_env_t fuzz_env = {.find = fuzz_find};

typedef struct harness {
	gp_core_t core;      /* the session under test */
	bool closed;         /* the glue would have closed it */
	bool check_grants;   /* a cross-node KILL checks the issuer's grants first */
	bool whole_client;   /* the client side is read in whole packets */
	bool whole_server;   /* the server side is read in whole packets */
	uint64_t defer_caps; /* a deferred client's capabilities */
	bool causal;         /* routing.ro_causal_reads */
} harness_t;

/* The proxy's own bytes are whole packets that fit. */
static void check_own(const uint8_t *b, uint32_t n)
{
	CHECK(n <= GP_CORE_OUT_MAX);
	while (n) {
		myp_frame_t f;
		CHECK(myp_frame_packet(b, n, &f) == MYP_OK);
		b += MYP_HEADER_LEN + f.len;
		n -= MYP_HEADER_LEN + f.len;
	}
}

/* What the glue does with out (the parts that feed back into the core). */
static void apply(harness_t *h, gp_pkt_action_t v, gp_core_out_t *o)
{
	gp_core_t *c = &h->core;
	check_own(o->client, o->nclient);
	check_own(o->server, o->nserver);
	if (v == GP_PKT_HOLD)
		CHECK(o->ev == 0 && o->close == GP_CLOSE_NONE && !o->nclient && !o->nserver);
	if (o->close != GP_CLOSE_NONE || o->fail_code || v == GP_PKT_STOP) {
		h->closed = true;
		return;
	}
	if (o->ev & GP_CORE_EV_GREETED)
		h->whole_client = true;
	if (o->ev & GP_CORE_EV_DEFER_ANSWER)
		h->defer_caps = o->r.caps;
	if (o->ev & GP_CORE_EV_DEFER_GREETING) {
		uint64_t server = o->g.caps & ~(uint64_t)GP_CAPS_UNRELAYABLE;
		gp_core_defer_auth(c, &o->g,
		                   ((h->defer_caps & ~(uint64_t)GP_CAPS_UNRELAYABLE) & server) |
		                           (h->defer_caps & MYP_CLIENT_PROTOCOL_41));
	}
	if (o->ev & GP_CORE_EV_READY)
		h->whole_client = h->whole_server = false;
	if (o->ev & GP_CORE_EV_RO_FRESH)
		gp_core_want_sync(c, h->causal);
	if (o->ev & GP_CORE_EV_KILL_REMOTE) {
		CHECK(c->kill.target == o->t.conn_id);
		gp_core_out_t k;
		gp_core_out_init(&k);
		if (h->check_grants) {
			gp_core_kill_check(c, &k);
			CHECK(c->in_flight && c->internal);
		} else {
			gp_core_kill_running(c);
			gp_core_kill_answer(c, 0, NULL, &k); /* the monitor ran it */
		}
		check_own(k.client, k.nclient);
		check_own(k.server, k.nserver);
	}
}

static void on_client(harness_t *h, uint32_t len, uint8_t *p, size_t n, uint8_t seq)
{
	gp_core_t *c = &h->core;
	gp_pkt_t pkt = {.len = len, .seq = seq, .p = p, .n = (uint32_t)n};
	gp_core_out_t o;
	gp_core_phase_t phase = c->phase;
	bool relayed = c->kill.phase == GP_KILL_RELAYED;
	uint8_t before[GP_CLIENT_PEEK];
	size_t keep = n < sizeof(before) ? n : sizeof(before);
	memcpy(before, p, keep);
	gp_core_out_init(&o);
	gp_pkt_action_t v = gp_core_client_packet(c, &pkt, &o);
	if (v == GP_PKT_HOLD) {
		CHECK(c->phase == phase && !memcmp(before, p, keep));
		return; /* held; the harness drops it */
	}
	if (phase == GP_CORE_HANDSHAKE && v == GP_PKT_FORWARD) {
		myp_hsresp_t r2;
		CHECK(myp_hsresp_parse(p, n, &r2) == MYP_OK && !r2.ssl_request);
		CHECK((r2.caps & GP_CAPS_UNRELAYABLE) == 0);
		CHECK((c->caps & GP_CAPS_UNRELAYABLE) == 0);
	}
	bool rewrote = !relayed && c->kill.phase == GP_KILL_RELAYED && v == GP_PKT_FORWARD;
	if (rewrote && p[0] == MYP_COM_QUERY) {
		gp_kill_t k;
		CHECK(gp_kill_parse((const char *)p + 1, n - 1, &k));
		CHECK(k.id == THREAD_OF(c->kill.target));
	}
	if (rewrote && p[0] == MYP_COM_PROCESS_KILL) {
		uint32_t id;
		CHECK(myp_process_kill_parse(p, n, &id) == MYP_OK &&
		      id == THREAD_OF(c->kill.target));
	}
	apply(h, v, &o);
}

static void on_server(harness_t *h, uint32_t len, uint8_t *p, size_t n, uint8_t seq)
{
	gp_core_t *c = &h->core;
	gp_pkt_t pkt = {.len = len, .seq = seq, .p = p, .n = (uint32_t)n};
	gp_core_out_t o;
	gp_core_out_init(&o);
	gp_pkt_action_t v = gp_core_server_packet(c, &pkt, &o);
	if (pkt.len != len) {
		/* untracked: rebuilt whole, in place, shorter, an OK in the client's format */
		myp_ok_t ok;
		CHECK(c->untrack && v == GP_PKT_FORWARD && n == len && pkt.len < len);
		CHECK(myp_ok_parse(p, pkt.len, c->caps & ~(uint64_t)MYP_CLIENT_SESSION_TRACK,
		                   &ok) == MYP_OK);
		CHECK(!(ok.status & MYP_SERVER_SESSION_STATE_CHANGED));
	}
	if ((o.ev & GP_CORE_EV_GREETED) && !(o.ev & GP_CORE_EV_DEFER_GREETING)) {
		myp_greeting_t g;
		CHECK(myp_greeting_parse(p, n, &g) == MYP_OK);
		CHECK(g.conn_id == c->conn_id);
		CHECK((g.caps & GP_CAPS_UNRELAYABLE) == 0);
	}
	if (o.ev & GP_CORE_EV_DONE)
		CHECK(!c->resp.client_turn && !c->resp.server_cont);
	apply(h, v, &o);
	if (h->closed)
		return;
	gp_core_out_init(&o);
	gp_core_scanned(c, &o);
	if (o.ev & GP_CORE_EV_KILL_CHECKED) {
		gp_core_out_t k;
		gp_core_out_init(&k);
		gp_core_kill_answer(c, c->kill.privileged ? 0 : GP_ER_KILL_DENIED, "no", &k);
		check_own(k.client, k.nclient);
		return;
	}
	apply(h, GP_PKT_FORWARD, &o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	harness_t h = {.whole_server = true, .check_grants = size & 1, .causal = size & 2};
	size_t off = 0;
	gp_core_init(&h.core, &fuzz_env, GP_CONN_ID_BASE | 7, size & 4);
	if (size & 8) {
		gp_core_defer(&h.core); /* greeted by the proxy: the client answers first */
		h.whole_client = true;
	}
	while (!h.closed && size - off >= 5) {
		bool client = data[off] & 1;
		const uint8_t *hd = data + off + 1;
		uint32_t len = (uint32_t)hd[0] | (uint32_t)hd[1] << 8 | (uint32_t)hd[2] << 16;
		bool whole = client ? h.whole_client : h.whole_server;
		uint32_t peek = h.core.phase == GP_CORE_READY ? gp_core_peek(&h.core, client)
		                : client                      ? GP_CLIENT_PEEK
		                                              : MYP_RESP_PEEK;
		if (!client && h.core.kill.phase == GP_KILL_CHECKING)
			peek = GP_KILL_GRANT_PEEK;
		uint32_t need = whole || len < peek ? len : peek;
		off += 5;
		if (MYP_HEADER_LEN + need > GP_BUF_SIZE)
			break; /* io.c: GP_ETOOBIG, the side ends */
		if (need > size - off)
			break; /* io.c waits for more */
		/* an exactly-sized copy after its header (as io.c has it), so ASan sees any
		 * overread */
		uint8_t *b = malloc(MYP_HEADER_LEN + need);
		CHECK(b);
		memcpy(b, hd, MYP_HEADER_LEN);
		uint8_t *p = b + MYP_HEADER_LEN;
		memcpy(p, data + off, need);
		off += need;
		if (client)
			on_client(&h, len, p, need, hd[3]);
		else
			on_server(&h, len, p, need, hd[3]);
		free(b);
	}
	gp_core_release(&h.core);
	return 0;
}
