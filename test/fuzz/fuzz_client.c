/* fuzz_client.c - libFuzzer target: the session's handshake and command path on arbitrary bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/bufpool.h"
#include "session/kill.h"
#include "codec/myp.h"
#include "session/session.h" /* GP_CAPS_UNRELAYABLE, GP_CLIENT_PEEK: the proxy's own */

/*
 * The sequence session.c runs on each packet, without sockets: the backend's greeting
 * (parse, refuse an ERR, patch the id and capabilities), the client's handshake response
 * (parse, refuse TLS, clear unrelayable capabilities), the authentication exchange, then
 * commands (kinds, KILL translation, response tracking with client turns and 16 MB
 * continuations, COM_PROCESS_KILL and COM_CHANGE_USER, the SHOW GRANTS rows a cross-node
 * KILL's check reads). Packets are framed the way io.c frames them: whole packets during the
 * handshake (bounded by GP_BUF_SIZE), the first GP_CLIENT_PEEK / MYP_RESP_PEEK bytes after
 * it, the rest of a long payload streamed past unseen.
 *
 * Input: records of direction (1 byte; bit 0: 1 = client), a MySQL packet header (3-byte
 * length, sequence id), then the bytes the proxy would see of its payload. The first server
 * record is the greeting. The run ends where session.c would close the session.
 *
 * Checked: what the proxy relays never offers or accepts TLS, compression or any capability
 * it cannot follow; a KILL it rewrites still parses, now naming the backend's thread.
 */

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef enum { S_GREETING, S_HANDSHAKE, S_AUTH, S_READY, S_CLOSED } state_t;

typedef struct sess {
	state_t state;        /* where session.c would be */
	uint64_t server_caps; /* what the backend offered, minus the unrelayable */
	uint64_t caps;        /* agreed */
	uint32_t thread;      /* the backend's thread id */
	myp_resp_t resp;      /* exchange in flight */
	bool in_flight;       /* resp is tracking */
	bool client_cont;     /* last client packet was 0xFFFFFF long */
	bool whole_client;    /* the client side is read in whole packets */
	bool whole_server;    /* the server side is read in whole packets */
	uint32_t client_skip; /* client payload bytes streaming past */
	uint32_t server_skip; /* server payload bytes streaming past */
} sess_t;

static void on_greeting(sess_t *s, uint8_t *p, size_t n)
{
	myp_greeting_t g, g2;
	if (n > 0 && p[0] == 0xFF) {
		s->state = S_CLOSED; /* relayed, then closed */
		return;
	}
	if (myp_greeting_parse(p, n, &g) != MYP_OK) {
		s->state = S_CLOSED;
		return;
	}
	s->thread = g.conn_id;
	myp_greeting_patch(p, n, &g, 0x40000001u, GP_CAPS_UNRELAYABLE);
	CHECK(myp_greeting_parse(p, n, &g2) == MYP_OK);
	CHECK(g2.conn_id == 0x40000001u);
	CHECK((g2.caps & GP_CAPS_UNRELAYABLE) == 0);
	s->server_caps = g.caps & ~(uint64_t)GP_CAPS_UNRELAYABLE;
	s->state = S_HANDSHAKE;
	s->whole_client = true;
}

static void on_hsresp(sess_t *s, uint8_t *p, size_t n)
{
	myp_hsresp_t r, r2;
	if (myp_hsresp_parse(p, n, &r) != MYP_OK || r.ssl_request || (r.caps & MYP_CLIENT_SSL)) {
		s->state = S_CLOSED;
		return;
	}
	myp_hsresp_clear_caps(p, n, GP_CAPS_UNRELAYABLE);
	CHECK(myp_hsresp_parse(p, n, &r2) == MYP_OK);
	CHECK((r2.caps & GP_CAPS_UNRELAYABLE) == 0);
	CHECK(r2.user_len == r.user_len && r2.auth_len == r.auth_len && r2.db_len == r.db_len);
	gp_kill_login_t l;
	gp_kill_login_set(&l, r.user, r.user_len, r.charset, true);
	CHECK(!l.known || l.len <= GP_KILL_USER_MAX);
	s->caps = (r.caps & s->server_caps) | (r.caps & MYP_CLIENT_PROTOCOL_41);
	myp_resp_begin_auth(&s->resp, s->caps);
	s->in_flight = true;
	s->state = S_AUTH;
}

static void on_kill(sess_t *s, uint8_t *p, size_t n, uint32_t len)
{
	gp_kill_t k, k2;
	uint32_t id;
	myp_change_user_t cu;
	if (p[0] == MYP_COM_CHANGE_USER) {
		gp_kill_login_t l;
		myp_status_t st = myp_change_user_parse(p, n, s->caps, &cu);
		if (st != MYP_EPROTO && cu.user) {
			gp_kill_login_set(&l, cu.user, cu.user_len, cu.charset, false);
			CHECK(l.known == (cu.user_len <= GP_KILL_USER_MAX));
			CHECK(!l.known ||
			      (l.len == cu.user_len && memcmp(l.name, cu.user, l.len) == 0));
		}
		return;
	}
	if (p[0] == MYP_COM_PROCESS_KILL && myp_process_kill_parse(p, n, &id) == MYP_OK) {
		CHECK(myp_process_kill_set_id(p, n, s->thread) == MYP_OK);
		CHECK(myp_process_kill_parse(p, n, &id) == MYP_OK && id == s->thread);
		return;
	}
	if (p[0] != MYP_COM_QUERY || n != len || !gp_kill_parse((const char *)p + 1, n - 1, &k))
		return;
	CHECK(k.id_off + k.id_len <= n - 1);
	if (k.id < (1u << 30) || k.id > UINT32_MAX)
		return;
	if (myp_query_set_number(p, n, k.id_off, k.id_len, s->thread) != MYP_OK)
		return;
	CHECK(gp_kill_parse((const char *)p + 1, n - 1, &k2));
	CHECK(k2.id == s->thread && k2.query == k.query && !strcmp(k2.hardsoft, k.hardsoft));
}

static void on_client(sess_t *s, uint32_t len, uint8_t *p, size_t n)
{
	switch (s->state) {
	case S_HANDSHAKE:
		on_hsresp(s, p, n);
		return;
	case S_AUTH:
		if (!s->resp.client_turn ||
		    myp_resp_feed_client(&s->resp, len, p, n) == MYP_RESP_EPROTO)
			s->state = S_CLOSED;
		return;
	case S_READY:
		break;
	default:
		return; /* held until the backend is there */
	}
	if (s->client_cont) {
		s->client_cont = len == MYP_MAX_PAYLOAD;
		return;
	}
	if (s->in_flight) {
		if (!s->resp.client_turn)
			return; /* pipelined: held; the harness drops it */
		if (myp_resp_feed_client(&s->resp, len, p, n) == MYP_RESP_EPROTO)
			s->state = S_CLOSED;
		return;
	}
	if (len == 0) {
		s->state = S_CLOSED;
		return;
	}
	s->client_cont = len == MYP_MAX_PAYLOAD;
	CHECK(myp_cmd_name(p[0]) != NULL);
	switch (myp_cmd_kind(p[0])) {
	case MYP_CMDK_QUIT:
		s->state = S_CLOSED;
		return;
	case MYP_CMDK_UNSUPPORTED:
		if (s->client_cont)
			s->state = S_CLOSED;
		return;
	case MYP_CMDK_NO_RESPONSE:
		return;
	case MYP_CMDK_RESPONSE:
		break;
	}
	on_kill(s, p, n, len);
	myp_resp_begin(&s->resp, s->caps, p, n);
	s->in_flight = true;
}

static void on_server(sess_t *s, uint32_t len, uint8_t *p, size_t n)
{
	if (s->state == S_GREETING) {
		on_greeting(s, p, n);
		return;
	}
	if (!s->in_flight)
		return; /* unsolicited: relayed */
	if (myp_resp_is_row(&s->resp, len, p, n))
		(void)gp_kill_grant_row_allows(p, n); /* what a KILL's privilege check reads */
	myp_resp_event_t ev = myp_resp_feed_server(&s->resp, len, p, n);
	CHECK(ev == MYP_RESP_CONTINUE || ev == MYP_RESP_DONE || ev == MYP_RESP_EPROTO);
	if (ev == MYP_RESP_EPROTO) {
		s->state = S_CLOSED;
		return;
	}
	if (ev != MYP_RESP_DONE)
		return;
	CHECK(!s->resp.client_turn && !s->resp.server_cont);
	s->in_flight = false;
	if (s->state == S_AUTH) {
		if (s->resp.failed) {
			s->state = S_CLOSED;
			return;
		}
		s->state = S_READY;
		s->whole_client = s->whole_server = false;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sess_t s = {.state = S_GREETING, .whole_server = true};
	size_t off = 0;

	while (s.state != S_CLOSED && size - off >= 5) {
		bool client = data[off] & 1;
		const uint8_t *h = data + off + 1;
		uint32_t len = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16;
		bool whole = client ? s.whole_client : s.whole_server;
		uint32_t peek = client ? GP_CLIENT_PEEK : MYP_RESP_PEEK;
		uint32_t need = whole || len < peek ? len : peek;
		off += 5;
		if (MYP_HEADER_LEN + need > GP_BUF_SIZE)
			break; /* io.c: GP_ETOOBIG, the side ends */
		if (need > size - off)
			break; /* io.c waits for more */
		/* an exactly-sized copy, so ASan sees any overread */
		uint8_t *p = malloc(need ? need : 1);
		CHECK(p);
		memcpy(p, data + off, need);
		off += need;
		if (client)
			on_client(&s, len, p, need);
		else
			on_server(&s, len, p, need);
		free(p);
	}
	return 0;
}
