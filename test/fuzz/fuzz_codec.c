/* fuzz_codec.c - libFuzzer target: every decoder and the response state machine of the codec. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/myp.h"

/*
 * Input: mode (1 byte; bit 0: 1 = connection-phase auth, else the first record is a
 * command), caps (8 bytes, little-endian), then records: direction (1 byte; bit 0:
 * 1 = client), payload length (3 bytes, little-endian), bytes present k (2 bytes), then k
 * bytes. The unit tests write seeds in this form (test_codec --write-corpus DIR).
 *
 * Each record goes through every decoder (with round trips through the encoders), then
 * to the state machine like the proxy would feed it. A record after DONE starts the next
 * command. Payloads are copied into exactly-sized heap blocks so ASan sees any overread.
 */

#define REC_HDR 6

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

/* Capability bits that change a packet's layout: patching them would reshape it. */
#define GREETING_LAYOUT                                                                     \
	(MYP_CLIENT_LONG_PASSWORD | MYP_CLIENT_PROTOCOL_41 | MYP_CLIENT_SECURE_CONNECTION | \
	 MYP_CLIENT_PLUGIN_AUTH)
#define HSRESP_LAYOUT                                                                   \
	(GREETING_LAYOUT | MYP_CLIENT_SSL | MYP_CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | \
	 MYP_CLIENT_CONNECT_WITH_DB | MYP_CLIENT_CONNECT_ATTRS)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[70000]; /* encoder output: larger than any record */

static bool in_slice(const uint8_t *s, size_t sn, const uint8_t *p, size_t n)
{
	return sn == 0 || (s >= p && s <= p + n && sn <= (size_t)(p + n - s));
}

static bool same(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

/* The payload an encoder just wrote into out. */
static myp_frame_t built(const myp_wbuf_t *w)
{
	myp_frame_t f;

	CHECK(!w->failed);
	CHECK(myp_frame_packet(out, w->len, &f) == MYP_OK);
	CHECK(MYP_HEADER_LEN + f.len == w->len);
	return f;
}

static void fuzz_lenenc(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && i < 12; i++) {
		uint64_t v;
		size_t used;
		bool null;
		const uint8_t *s;

		if (myp_lenenc_int(p + i, n - i, &v, &used, &null) == MYP_OK) {
			CHECK(used >= 1 && used <= n - i);
			CHECK(!null || (v == 0 && used == 1));
		}
		if (myp_lenenc_str(p + i, n - i, &s, &v, &used) == MYP_OK)
			CHECK(in_slice(s, (size_t)v, p, n) && used <= n - i);
	}
}

static void fuzz_generic(uint64_t caps, const uint8_t *p, size_t n)
{
	myp_ok_t ok, ok2;
	myp_err_t err, err2;
	myp_eof_t eof, eof2;
	myp_progress_t pr, pr2;
	myp_wbuf_t w;
	myp_frame_t f;

	if (myp_ok_parse(p, n, caps, &ok) == MYP_OK) {
		CHECK(in_slice(ok.info, ok.info_len, p, n));
		CHECK(in_slice(ok.session_state, ok.session_state_len, p, n));
		myp_wbuf_init(&w, out, sizeof(out));
		if (p[0] == 0xFE)
			myp_ok_eof_build(&w, 1, caps, &ok);
		else
			myp_ok_build(&w, 1, caps, &ok);
		f = built(&w);
		CHECK(myp_ok_parse(f.payload, f.len, caps, &ok2) == MYP_OK);
		CHECK(ok2.affected_rows == ok.affected_rows &&
		      ok2.last_insert_id == ok.last_insert_id);
		CHECK(ok2.status == ok.status && ok2.warnings == ok.warnings);
		CHECK(same(ok2.info, ok2.info_len, ok.info, ok.info_len));
		CHECK(same(ok2.session_state, ok2.session_state_len, ok.session_state,
		           ok.session_state_len));
	}
	if (myp_err_parse(p, n, caps, &err) == MYP_OK) {
		CHECK(in_slice(err.message, err.message_len, p, n));
		CHECK(strlen(err.sqlstate) <= 5);
		bool progress = err.code == 0xFFFF && (caps & MYP_MARIADB_CLIENT_PROGRESS);
		char msg[1024];

		if (!progress && strlen(err.sqlstate) == 5 && err.message_len < sizeof(msg) &&
		    !memchr(err.message, 0, err.message_len)) {
			memcpy(msg, err.message, err.message_len);
			msg[err.message_len] = '\0';
			myp_wbuf_init(&w, out, sizeof(out));
			myp_err_build(&w, 1, MYP_CLIENT_PROTOCOL_41, err.code, err.sqlstate, msg);
			f = built(&w);
			CHECK(myp_err_parse(f.payload, f.len, 0, &err2) == MYP_OK);
			CHECK(err2.code == err.code && strcmp(err2.sqlstate, err.sqlstate) == 0);
			CHECK(same(err2.message, err2.message_len, err.message, err.message_len));
		}
	}
	if (myp_eof_parse(p, n, &eof) == MYP_OK) {
		CHECK(n >= 5 && n < 9);
		myp_wbuf_init(&w, out, sizeof(out));
		myp_eof_build(&w, 1, eof.warnings, eof.status);
		f = built(&w);
		CHECK(myp_eof_parse(f.payload, f.len, &eof2) == MYP_OK);
		CHECK(eof2.warnings == eof.warnings && eof2.status == eof.status);
	}
	if (myp_progress_parse(p, n, &pr) == MYP_OK) {
		CHECK(in_slice(pr.info, pr.info_len, p, n));
		CHECK(pr.progress <= 0xFFFFFF);
		myp_wbuf_init(&w, out, sizeof(out));
		myp_progress_build(&w, 1, &pr);
		f = built(&w);
		CHECK(myp_progress_parse(f.payload, f.len, &pr2) == MYP_OK);
		CHECK(pr2.stage == pr.stage && pr2.max_stage == pr.max_stage);
		CHECK(pr2.progress == pr.progress &&
		      same(pr2.info, pr2.info_len, pr.info, pr.info_len));
	}
}

static void fuzz_greeting(const uint8_t *p, size_t n, uint64_t clear)
{
	myp_greeting_t g, g2;
	myp_wbuf_t w;
	myp_frame_t f;
	uint8_t *copy;

	if (myp_greeting_parse(p, n, &g) != MYP_OK)
		return;
	CHECK(in_slice(g.version, g.version_len, p, n));
	CHECK(in_slice(g.auth_plugin, g.auth_plugin_len, p, n));
	CHECK(g.scramble_len >= 8 && g.scramble_len <= sizeof(g.scramble));
	CHECK(g.conn_id_off + 4 <= n && g.caps_lo_off + 2 <= n && g.caps_hi_off + 2 <= n);
	CHECK(g.caps_ext_off == 0 || g.caps_ext_off + 4 <= n);
	myp_wbuf_init(&w, out, sizeof(out));
	myp_greeting_build(&w, 0, &g);
	f = built(&w);
	CHECK(myp_greeting_parse(f.payload, f.len, &g2) == MYP_OK);
	CHECK(same(g2.version, g2.version_len, g.version, g.version_len));
	CHECK(g2.conn_id == g.conn_id && g2.caps == g.caps);
	CHECK(g2.charset == g.charset && g2.status == g.status);
	CHECK(same(g2.scramble, g2.scramble_len, g.scramble, g.scramble_len));
	CHECK(same(g2.auth_plugin, g2.auth_plugin_len, g.auth_plugin, g.auth_plugin_len));

	copy = malloc(n);
	CHECK(copy);
	memcpy(copy, p, n);
	clear &= ~(uint64_t)GREETING_LAYOUT;
	myp_greeting_patch(copy, n, &g, ~g.conn_id, clear);
	CHECK(myp_greeting_parse(copy, n, &g2) == MYP_OK);
	CHECK(g2.conn_id == ~g.conn_id);
	CHECK(g2.caps == (g.caps & ~clear));
	CHECK(same(g2.scramble, g2.scramble_len, g.scramble, g.scramble_len));
	free(copy);
}

static void check_hsresp_same(const myp_hsresp_t *a, const myp_hsresp_t *b, bool caps_too)
{
	CHECK(!caps_too || a->caps == b->caps);
	CHECK(a->max_packet == b->max_packet && a->charset == b->charset);
	CHECK(a->ssl_request == b->ssl_request);
	CHECK(same(a->user, a->user_len, b->user, b->user_len));
	CHECK(same(a->auth, a->auth_len, b->auth, b->auth_len));
	CHECK(same(a->db, a->db_len, b->db, b->db_len));
	CHECK(same(a->auth_plugin, a->auth_plugin_len, b->auth_plugin, b->auth_plugin_len));
	CHECK(same(a->attrs, a->attrs_len, b->attrs, b->attrs_len));
}

static void fuzz_hsresp(const uint8_t *p, size_t n, uint64_t clear)
{
	myp_hsresp_t r, r2;
	myp_wbuf_t w;
	myp_frame_t f;
	uint8_t *copy;

	if (myp_hsresp_parse(p, n, &r) != MYP_OK)
		return;
	CHECK(in_slice(r.user, r.user_len, p, n) && in_slice(r.auth, r.auth_len, p, n));
	CHECK(in_slice(r.db, r.db_len, p, n) && in_slice(r.attrs, r.attrs_len, p, n));
	CHECK(in_slice(r.auth_plugin, r.auth_plugin_len, p, n));
	myp_wbuf_init(&w, out, sizeof(out));
	myp_hsresp_build(&w, 1, &r);
	f = built(&w);
	CHECK(myp_hsresp_parse(f.payload, f.len, &r2) == MYP_OK);
	check_hsresp_same(&r, &r2, true);

	copy = malloc(n);
	CHECK(copy);
	memcpy(copy, p, n);
	clear &= ~(uint64_t)HSRESP_LAYOUT;
	myp_hsresp_clear_caps(copy, n, clear);
	CHECK(myp_hsresp_parse(copy, n, &r2) == MYP_OK);
	CHECK(r2.caps == (r.caps & ~clear));
	check_hsresp_same(&r, &r2, false);
	free(copy);
}

static void fuzz_authswitch(const uint8_t *p, size_t n)
{
	myp_authswitch_t a;
	myp_wbuf_t w;
	myp_frame_t f;
	char plugin[256];

	if (myp_authswitch_parse(p, n, &a) != MYP_OK)
		return;
	CHECK(in_slice(a.plugin, a.plugin_len, p, n) && in_slice(a.data, a.data_len, p, n));
	if (a.plugin_len >= sizeof(plugin))
		return;
	memcpy(plugin, a.plugin, a.plugin_len);
	plugin[a.plugin_len] = '\0';
	myp_wbuf_init(&w, out, sizeof(out));
	myp_authswitch_build(&w, 2, plugin, a.data, a.data_len);
	f = built(&w);
	CHECK(same(f.payload, f.len, p, n)); /* canonical: byte-identical */
}

/* Client commands the proxy reads or rewrites: COM_PROCESS_KILL, COM_CHANGE_USER. */
static void fuzz_client_cmd(uint64_t caps, const uint8_t *p, size_t n)
{
	myp_change_user_t cu;
	uint32_t id, id2;
	uint8_t *copy;

	myp_status_t st = myp_change_user_parse(p, n, caps, &cu);
	CHECK(st == MYP_OK || st == MYP_NEED_MORE || st == MYP_EPROTO);
	CHECK(cu.user == NULL || (in_slice(cu.user, cu.user_len, p, n) && cu.user_len < n));
	CHECK(st != MYP_OK || cu.user);
	if (myp_process_kill_parse(p, n, &id) != MYP_OK)
		return;
	copy = malloc(n);
	CHECK(copy);
	memcpy(copy, p, n);
	CHECK(myp_process_kill_set_id(copy, n, ~id) == MYP_OK);
	CHECK(myp_process_kill_parse(copy, n, &id2) == MYP_OK && id2 == ~id);
	CHECK(n == 5 || memcmp(copy + 5, p + 5, n - 5) == 0);
	free(copy);
}

/* Framing over the raw input, as if it were a stream from a socket. */
static void fuzz_frames(const uint8_t *data, size_t size)
{
	myp_frame_t f;
	size_t off = 0;

	while (myp_frame_packet(data + off, size - off, &f) == MYP_OK) {
		CHECK(f.payload == data + off + MYP_HEADER_LEN);
		CHECK(f.len <= size - off - MYP_HEADER_LEN);
		off += MYP_HEADER_LEN + f.len;
	}
}

/* The machine fed whole payloads and the one fed only MYP_RESP_PEEK bytes agree. */
static void check_resp_same(const myp_resp_t *a, const myp_resp_t *b)
{
	CHECK(a->phase == b->phase && a->cmd == b->cmd && a->cursor == b->cursor);
	CHECK(a->server_cont == b->server_cont && a->client_cont == b->client_cont);
	CHECK(a->client_turn == b->client_turn && a->left == b->left);
	CHECK(a->status == b->status && a->status_seen == b->status_seen);
	CHECK(a->failed == b->failed && a->err_code == b->err_code);
	CHECK(a->affected_rows == b->affected_rows && a->results == b->results);
	CHECK(a->prep_params == b->prep_params && a->prep_cols == b->prep_cols);
	CHECK(a->stmt_id == b->stmt_id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t caps = 0;
	uint8_t mode;
	size_t off = 9;
	myp_resp_t r, rp;
	enum { IDLE, ACTIVE, DEAD } rs = IDLE;

	fuzz_frames(data, size);
	if (size < 9)
		return 0;
	mode = data[0];
	for (int i = 0; i < 8; i++)
		caps |= (uint64_t)data[1 + i] << (8 * i);
	if (mode & 1) {
		myp_resp_begin_auth(&r, caps);
		myp_resp_begin_auth(&rp, caps);
		rs = ACTIVE;
	}
	while (size - off >= REC_HDR) {
		bool client = data[off] & 1;
		uint32_t len = data[off + 1] | data[off + 2] << 8 | (uint32_t)data[off + 3] << 16;
		size_t k = data[off + 4] | data[off + 5] << 8;
		uint8_t *p;

		off += REC_HDR;
		if (k > size - off)
			k = size - off;
		if (len < k)
			len = (uint32_t)k;
		p = malloc(k ? k : 1);
		CHECK(p);
		memcpy(p, data + off, k);
		off += k;

		fuzz_lenenc(p, k);
		fuzz_generic(caps, p, k);
		fuzz_greeting(p, k, caps);
		fuzz_hsresp(p, k, caps);
		fuzz_authswitch(p, k);
		fuzz_client_cmd(caps, p, k);

		if (rs == IDLE && client && k >= 1) {
			myp_cmd_kind_t kind = myp_cmd_kind(p[0]);

			CHECK(myp_cmd_name(p[0]) != NULL);
			if (kind == MYP_CMDK_RESPONSE) {
				myp_resp_begin_len(&r, caps, len, p, k);
				myp_resp_begin_len(&rp, caps, len, p,
				                   k < MYP_RESP_PEEK ? k : MYP_RESP_PEEK);
				check_resp_same(&r, &rp);
				rs = ACTIVE;
			}
		} else if (rs == ACTIVE) {
			size_t peek = k < MYP_RESP_PEEK ? k : MYP_RESP_PEEK;
			myp_resp_event_t ev = client ? myp_resp_feed_client(&r, len, p, k)
			                             : myp_resp_feed_server(&r, len, p, k);
			myp_resp_event_t evp = client ? myp_resp_feed_client(&rp, len, p, peek)
			                              : myp_resp_feed_server(&rp, len, p, peek);

			CHECK(ev == MYP_RESP_CONTINUE || ev == MYP_RESP_DONE ||
			      ev == MYP_RESP_EPROTO);
			CHECK(ev == evp);
			check_resp_same(&r, &rp);
			if (ev == MYP_RESP_DONE) {
				CHECK(!r.client_turn && !r.server_cont);
				rs = IDLE;
			} else if (ev == MYP_RESP_EPROTO) {
				rs = DEAD;
			}
		}
		free(p);
	}
	return 0;
}
