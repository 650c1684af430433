/* fuzz_track.c - libFuzzer target: session-state entries, OK stripping, statement commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/myp.h"
#include "codec/myp_login.h"
#include "codec/myp_stmt.h"
#include "codec/myp_track.h"

/*
 * Input: 1 byte of flags (bit 0: CLIENT_DEPRECATE_EOF; bit 1: no CLIENT_SESSION_TRACK; bit
 * 2: no CLIENT_PROTOCOL_41), then a whole packet (header + payload), as test_track
 * --write-corpus writes the seeds. The packet goes through myp_ok_untrack (into a buffer and
 * in place: both must agree, and the result must read back as the same OK without the state
 * block), its state block through the entry walker, and its payload through the statement
 * decoders (with the EXECUTE round trip through the builder) and the COM_CHANGE_USER one. Copies
 * are exactly sized heap blocks so ASan sees any overread.
 */

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

#define CAPS 0xAFA28Eull /* a MariaDB client's: PROTOCOL_41, SESSION_TRACK, ... */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(const uint8_t *s, size_t sn, const uint8_t *p, size_t n)
{
	return sn == 0 || (s >= p && s <= p + n && sn <= (size_t)(p + n - s));
}

static void fuzz_entries(const uint8_t *state, size_t len)
{
	myp_track_iter_t it;
	myp_track_entry_t e;
	size_t count = 0;

	myp_track_iter_init(&it, state, len);
	while (myp_track_next(&it, &e)) {
		CHECK(inside(e.data, e.data_len, state, len));
		CHECK(inside(e.value, e.value_len, e.data, e.data_len));
		CHECK(inside(e.name, e.name_len, e.data, e.data_len));
		CHECK(e.type < 0xFB);
		CHECK(++count <= len / 2); /* an entry takes at least two bytes */
	}
	CHECK(!myp_track_next(&it, &e));
}

static void fuzz_strip(const uint8_t *pkt, size_t n, uint64_t caps)
{
	uint8_t *out = malloc(n ? n : 1), *inplace = malloc(n ? n : 1);
	size_t got, got2;
	myp_status_t st;
	myp_ok_t ok, back;

	CHECK(out && inplace);
	if (n)
		memcpy(inplace, pkt, n);
	st = myp_ok_untrack(pkt, n, caps, out, n, &got);
	CHECK(myp_ok_untrack(inplace, n, caps, inplace, n, &got2) == st);
	if (st == MYP_OK) {
		CHECK(got <= n && got == got2 && memcmp(out, inplace, got) == 0);
		CHECK(got >= MYP_HEADER_LEN && out[3] == pkt[3]);
		CHECK((size_t)(out[0] | out[1] << 8 | out[2] << 16) == got - MYP_HEADER_LEN);
		/* the packet ends where its header says (trailing bytes are the next one's) */
		size_t len = (size_t)(pkt[0] | pkt[1] << 8 | pkt[2] << 16);

		if ((caps & MYP_CLIENT_SESSION_TRACK) && (caps & MYP_CLIENT_PROTOCOL_41) &&
		    (out[4] == 0x00 || (caps & MYP_CLIENT_DEPRECATE_EOF)) &&
		    myp_ok_parse(pkt + MYP_HEADER_LEN, len, caps, &ok) == MYP_OK) {
			CHECK(myp_ok_parse(out + MYP_HEADER_LEN, got - MYP_HEADER_LEN, caps,
			                   &back) == MYP_OK);
			CHECK(back.affected_rows == ok.affected_rows);
			CHECK(back.last_insert_id == ok.last_insert_id);
			CHECK(back.warnings == ok.warnings);
			CHECK(back.status == (ok.status & ~MYP_SERVER_SESSION_STATE_CHANGED));
			CHECK(back.session_state == NULL);
			CHECK(back.info_len == ok.info_len);
			CHECK(ok.info_len == 0 || memcmp(back.info, ok.info, ok.info_len) == 0);
			fuzz_entries(ok.session_state, ok.session_state_len);
		}
	}
	free(out);
	free(inplace);
}

static bool map_any(void *ctx, uint32_t client_id, uint32_t *server_id)
{
	(void)ctx;
	*server_id = client_id ^ 0x5A5A5A5Au;
	return client_id & 1;
}

static void fuzz_stmt(const uint8_t *p, size_t n)
{
	static const uint8_t zeros[2 * 40];
	uint8_t *copy = malloc(n ? n : 1), *out;
	myp_stmt_exec_t e, back;
	myp_stmt_prepare_ok_t pok;
	myp_change_user_full_t cu;
	myp_wbuf_t w;
	uint32_t id;
	uint16_t params = n > 2 ? (uint16_t)(p[n - 1] % 40) : 0;

	CHECK(copy);
	if (n)
		memcpy(copy, p, n);
	if (myp_stmt_id_rewrite(copy, n, map_any, NULL) == MYP_OK && n >= 5 &&
	    myp_stmt_cmd_has_id(p[0]))
		CHECK(myp_stmt_id_parse(copy, n, &id) == MYP_OK);
	(void)myp_stmt_prepare_ok_parse(p, n, &pok);
	if (myp_change_user_full_parse(p, n, CAPS | MYP_CLIENT_CONNECT_ATTRS, &cu) == MYP_OK) {
		CHECK(inside(cu.user, cu.user_len, p, n) && inside(cu.auth, cu.auth_len, p, n));
		CHECK(inside(cu.db, cu.db_len, p, n));
		CHECK(inside(cu.auth_plugin, cu.auth_plugin_len, p, n));
		CHECK(inside(cu.attrs, cu.attrs_len, p, n));
	}
	if (myp_stmt_execute_parse(p, n, params, &e) == MYP_OK) {
		CHECK(inside(e.values, e.values_len, p, n));
		CHECK(inside(e.types, e.types_len, p, n));
		out = malloc(n + 2 * (size_t)params + MYP_HEADER_LEN + 1);
		CHECK(out);
		myp_wbuf_init(&w, out, n + 2 * (size_t)params + MYP_HEADER_LEN + 1);
		/* types as long as the parameters need: e's own, or zeros */
		myp_stmt_execute_build(&w, &e, 77, e.types_bound ? e.types : zeros,
		                       params ? 2 * (size_t)params : 0);
		CHECK(!w.failed);
		CHECK(myp_stmt_execute_parse(out + MYP_HEADER_LEN, w.len - MYP_HEADER_LEN, params,
		                             &back) == MYP_OK);
		CHECK(back.stmt_id == 77 && back.flags == e.flags);
		CHECK(back.values_len == e.values_len);
		CHECK(params == 0 || back.types_bound);
		free(out);
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t caps = CAPS;
	uint8_t *pkt;
	size_t n;

	if (size < 1)
		return 0;
	if (data[0] & 1)
		caps |= MYP_CLIENT_DEPRECATE_EOF;
	if (data[0] & 2)
		caps &= ~MYP_CLIENT_SESSION_TRACK;
	if (data[0] & 4)
		caps &= ~MYP_CLIENT_PROTOCOL_41;
	n = size - 1;
	pkt = malloc(n ? n : 1);
	if (!pkt)
		return 0;
	if (n)
		memcpy(pkt, data + 1, n);
	fuzz_strip(pkt, n, caps);
	fuzz_entries(pkt, n); /* the bytes as a state block themselves */
	if (n > MYP_HEADER_LEN)
		fuzz_stmt(pkt + MYP_HEADER_LEN, n - MYP_HEADER_LEN);
	free(pkt);
	return 0;
}
