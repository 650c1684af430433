/* test_track.c - Check unit tests for the codec pieces of session moves: tracking, statements. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gp_check.h"
#include "codec/myp.h"
#include "codec/myp_login.h"
#include "codec/myp_stmt.h"
#include "codec/myp_track.h"

/*
 * Fixtures are hex strings (spaces ignored) with |literal text| runs. The ones marked captured came
 * from MariaDB 10.11.19 started with session_track_system_variables='*', session_track_schema=ON,
 * session_track_state_change=ON and session_track_transaction_info=CHARACTERISTICS, through
 * test/unit/fixtures/track/capture_track.py: each command ran once on a connection with
 * CLIENT_SESSION_TRACK and once on one without, so the server itself shows what a client that
 * did not ask for tracking must get. Decoders also get every truncated prefix, each in an
 * exactly-sized heap block (ASan/valgrind see any overread).
 */

#define FIX_MAX 4096

#define TRACK 0xAFA28Eull /* the captures' caps: PROTOCOL_41, SESSION_TRACK, ... */
#define DEOF  MYP_CLIENT_DEPRECATE_EOF

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		if (*s == '|') {
			/* |literal text| */
			const char *end = strchr(s + 1, '|');

			if (!end || hi >= 0 || (size_t)(end - s - 1) > cap - n)
				ck_abort_msg("bad literal in fixture");
			memcpy(out + n, s + 1, (size_t)(end - s - 1));
			n += (size_t)(end - s - 1);
			s = end;
			continue;
		}
		if (*s == ' ' || *s == '\n')
			continue;
		int v = (*s >= '0' && *s <= '9')   ? *s - '0'
		        : (*s >= 'a' && *s <= 'f') ? *s - 'a' + 10
		        : (*s >= 'A' && *s <= 'F') ? *s - 'A' + 10
		                                   : -1;
		if (v < 0)
			ck_abort_msg("bad hex digit '%c' in fixture", *s);
		if (hi < 0) {
			hi = v;
		} else {
			if (n >= cap)
				ck_abort_msg("fixture too long");
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0)
		ck_abort_msg("odd number of hex digits in fixture");
	return n;
}

static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);

	if (!d)
		ck_abort_msg("out of memory");
	if (n)
		memcpy(d, p, n);
	return d;
}

static bool slice_eq(const uint8_t *s, size_t n, const char *want)
{
	size_t wn = strlen(want);

	return n == wn && (n == 0 || memcmp(s, want, n) == 0);
}

/* A whole packet (header with seq) around a fixture payload; returns its length. */
static size_t packet(const char *hex, uint8_t seq, uint8_t *out, size_t cap)
{
	size_t n = unhex(hex, out + MYP_HEADER_LEN, cap - MYP_HEADER_LEN);

	myp_frame_put_header(out, (uint32_t)n, seq);
	return MYP_HEADER_LEN + n;
}

/* ---- stripping: captured pairs -------------------------------------------------- */

typedef struct strip_case {
	const char *title; /* command, then the packet's index in its response */
	uint64_t caps;     /* negotiated with the tracking connection */
	bool eof;          /* a classic EOF */
	const char *track; /* the tracking connection's packet */
	const char *plain; /* the same packet on the connection without tracking */
} strip_case_t;

/* captured (capture_track.py); both rows of a pair come from the same statement */
static const strip_case_t strip_cases[] = {
        {"login (database t) #0", TRACK, false,
         "000000024000000015010201740201310509085f5f5f5f5f5f5f5f040100", "00000002000000"},
        {"set names #0", TRACK, false,
         "000000024000000065001d146368617261637465725f7365745f636c69656e74"
         "07757466386d62340021186368617261637465725f7365745f636f6e6e656374"
         "696f6e07757466386d6234001e156368617261637465725f7365745f72657375"
         "6c747307757466386d6234020131",
         "00000002000000"},
        {"use #0", TRACK, false, "00000002400000000b0106056d7973716c020131", "00000002000000"},
        {"init db #0", TRACK, false, "00000002400000000701020174020131", "00000002000000"},
        {"sql_mode + time_zone #0", TRACK, false,
         "00000002c00000002d00110974696d655f7a6f6e65062b30323a303000150873"
         "716c5f6d6f64650b414e53495f51554f544553020131",
         "00000002800000"},
        {"isolation #0", TRACK, false,
         "00000002c000000021001c0c74785f69736f6c6174696f6e0e524541442d434f"
         "4d4d4954544544020131",
         "00000002800000"},
        {"user variable #0", TRACK, false, "00000002c000000003020131", "00000002800000"},
        {"temporary table #0", TRACK, false, "00000002c000000003020131", "00000002800000"},
        {"insert #0", TRACK, false, "00010702800000", "00010702800000"},
        {"update #0", TRACK, false,
         "0001002280000028526f7773206d6174636865643a203120204368616e676564"
         "3a203120205761726e696e67733a2030",
         "0001002280000028526f7773206d6174636865643a203120204368616e676564"
         "3a203120205761726e696e67733a2030"},
        {"begin read only #0", TRACK, false,
         "00000003e00000002a050908545f5f5f5f5f5f5f041d1c535441525420545241"
         "4e53414354494f4e2052454144204f4e4c593b",
         "00000003a00000"},
        {"select in trx #2", TRACK, true, "fe000023e0", "fe000023e0"},
        {"select in trx #4", TRACK, true, "fe000023e0", "fe000023e0"},
        {"commit #0", TRACK, false, "00000002c00000000e0509085f5f5f5f5f5f5f5f040100",
         "00000002800000"},
        {"begin #0", TRACK, false,
         "00000003c000000020050908545f5f5f5f5f5f5f041312535441525420545241"
         "4e53414354494f4e3b",
         "00000003800000"},
        {"update in trx #0", TRACK, false,
         "00010023c0000028526f7773206d6174636865643a203120204368616e676564"
         "3a203120205761726e696e67733a20300b050908545f5f5f575f5f5f",
         "0001002380000028526f7773206d6174636865643a203120204368616e676564"
         "3a203120205761726e696e67733a2030"},
        {"rollback #0", TRACK, false, "00000002c00000000e0509085f5f5f5f5f5f5f5f040100",
         "00000002800000"},
        {"multi #0", TRACK, false, "00000008c000000014000f0a6175746f636f6d6d6974034f4646020131",
         "00000008800000"},
        {"multi #3", TRACK, true, "fe00000880", "fe00000880"},
        {"multi #5", TRACK, true, "fe00000880", "fe000008c0"},
        {"cleanup #0", TRACK, false, "00010022800000", "00010022800000"},
        {"login (database t) #0", TRACK | DEOF, false,
         "000000024000000015010201740201310509085f5f5f5f5f5f5f5f040100", "00000002000000"},
        {"set names #0", TRACK | DEOF, false,
         "000000024000000065001d146368617261637465725f7365745f636c69656e74"
         "07757466386d62340021186368617261637465725f7365745f636f6e6e656374"
         "696f6e07757466386d6234001e156368617261637465725f7365745f72657375"
         "6c747307757466386d6234020131",
         "00000002000000"},
        {"use #0", TRACK | DEOF, false, "00000002400000000b0106056d7973716c020131",
         "00000002000000"},
        {"init db #0", TRACK | DEOF, false, "00000002400000000701020174020131", "00000002000000"},
        {"sql_mode + time_zone #0", TRACK | DEOF, false,
         "00000002c00000002d00110974696d655f7a6f6e65062b30323a303000150873"
         "716c5f6d6f64650b414e53495f51554f544553020131",
         "00000002800000"},
        {"isolation #0", TRACK | DEOF, false,
         "00000002c000000021001c0c74785f69736f6c6174696f6e0e524541442d434f"
         "4d4d4954544544020131",
         "00000002800000"},
        {"user variable #0", TRACK | DEOF, false, "00000002c000000003020131", "00000002800000"},
        {"temporary table #0", TRACK | DEOF, false, "00000002c000000003020131", "00000002800000"},
        {"insert #0", TRACK | DEOF, false, "00010702800000", "00010702800000"},
        {"update #0", TRACK | DEOF, false,
         "0001002280000028526f7773206d6174636865643a203120204368616e676564"
         "3a203120205761726e696e67733a2030",
         "0001002280000028526f7773206d6174636865643a203120204368616e676564"
         "3a203120205761726e696e67733a2030"},
        {"begin read only #0", TRACK | DEOF, false,
         "00000003e00000002a050908545f5f5f5f5f5f5f041d1c535441525420545241"
         "4e53414354494f4e2052454144204f4e4c593b",
         "00000003a00000"},
        {"select in trx #3", TRACK | DEOF, false, "fe000023e00000000b050908545f525f5f73535f",
         "fe000023a00000"},
        {"commit #0", TRACK | DEOF, false, "00000002c00000000e0509085f5f5f5f5f5f5f5f040100",
         "00000002800000"},
        {"begin #0", TRACK | DEOF, false,
         "00000003c000000020050908545f5f5f5f5f5f5f041312535441525420545241"
         "4e53414354494f4e3b",
         "00000003800000"},
        {"update in trx #0", TRACK | DEOF, false,
         "00010023c0000028526f7773206d6174636865643a203120204368616e676564"
         "3a203120205761726e696e67733a20300b050908545f5f5f575f5f5f",
         "0001002380000028526f7773206d6174636865643a203120204368616e676564"
         "3a203120205761726e696e67733a2030"},
        {"rollback #0", TRACK | DEOF, false, "00000002c00000000e0509085f5f5f5f5f5f5f5f040100",
         "00000002800000"},
        {"multi #0", TRACK | DEOF, false,
         "00000008c000000014000f0a6175746f636f6d6d6974034f4646020131", "00000008800000"},
        {"multi #4", TRACK | DEOF, false, "fe000008800000", "fe000008800000"},
        {"cleanup #0", TRACK | DEOF, false, "00010022800000", "00010022800000"},
};

START_TEST(test_strip_captured)
{
	const strip_case_t *c = &strip_cases[_i];
	uint8_t in[FIX_MAX], want[FIX_MAX], out[FIX_MAX];
	size_t n = packet(c->track, 3, in, sizeof(in));
	size_t wn = packet(c->plain, 3, want, sizeof(want)), got;
	myp_ok_t ok;

	ck_assert_int_eq(myp_ok_untrack(in, n, c->caps, out, sizeof(out), &got), MYP_OK);
	if (c->eof) {
		/* the server sends the flag in an EOF to a client that did not ask for tracking
		 * too (the status as it stands): the proxy clears it */
		want[MYP_HEADER_LEN + 4] &= (uint8_t) ~(MYP_SERVER_SESSION_STATE_CHANGED >> 8);
	}
	ck_assert_msg(got == wn && memcmp(out, want, wn) == 0, "%s: not what the server sends",
	              c->title);
	if (!c->eof) {
		/* what a client without tracking reads: the same OK, no flag, no block */
		ck_assert_int_eq(myp_ok_parse(out + MYP_HEADER_LEN, got - MYP_HEADER_LEN,
		                              c->caps | MYP_CLIENT_SESSION_TRACK, &ok),
		                 MYP_OK);
		ck_assert_ptr_null(ok.session_state);
		ck_assert(!(ok.status & MYP_SERVER_SESSION_STATE_CHANGED));
	}
	/* in place: the same bytes */
	ck_assert_int_eq(myp_ok_untrack(in, n, c->caps, in, n, &got), MYP_OK);
	ck_assert(got == wn && memcmp(in, out, wn) == 0);
}
END_TEST

START_TEST(test_strip_bounds)
{
	const strip_case_t *c = &strip_cases[_i];
	uint8_t in[FIX_MAX], out[FIX_MAX], again[FIX_MAX];
	size_t n = packet(c->track, 1, in, sizeof(in)), need, got;

	ck_assert_int_eq(myp_ok_untrack(in, n, c->caps, out, sizeof(out), &need), MYP_OK);
	for (size_t cap = 0; cap < need; cap++) {
		uint8_t *d = dup_exact(out, cap);

		ck_assert_int_eq(myp_ok_untrack(in, n, c->caps, d, cap, &got), MYP_EOVERFLOW);
		free(d);
	}
	for (size_t k = 0; k < n; k++) {
		uint8_t *p = dup_exact(in, k);

		ck_assert_int_eq(myp_ok_untrack(p, k, c->caps, out, sizeof(out), &got),
		                 MYP_NEED_MORE);
		free(p);
	}
	/* a stripped packet strips to itself, tracking caps or not */
	ck_assert_int_eq(myp_ok_untrack(out, need, c->caps, again, sizeof(again), &got), MYP_OK);
	ck_assert(got == need && memcmp(again, out, need) == 0);
}
END_TEST

START_TEST(test_strip_built)
{
	/* built: an info longer than 250 bytes (3-byte lenenc) before a state block */
	uint8_t info[300], state[64], in[1024], out[1024];
	size_t sn = unhex("00 0f 09 |time_zone| 04 |UTC!|", state, sizeof(state)), got;
	myp_wbuf_t w;
	myp_ok_t ok = {.affected_rows = 70000,
	               .last_insert_id = 1ull << 40,
	               .status = MYP_SERVER_STATUS_AUTOCOMMIT | MYP_SERVER_SESSION_STATE_CHANGED,
	               .warnings = 2,
	               .info = info,
	               .info_len = sizeof(info),
	               .session_state = state,
	               .session_state_len = sn};
	myp_ok_t back;

	memset(info, 'i', sizeof(info));
	myp_wbuf_init(&w, in, sizeof(in));
	myp_ok_build(&w, 5, TRACK, &ok);
	ck_assert(!w.failed);
	ck_assert_int_eq(myp_ok_untrack(in, w.len, TRACK, out, sizeof(out), &got), MYP_OK);
	ck_assert_uint_eq(out[3], 5);
	ck_assert_int_eq(myp_ok_parse(out + 4, got - 4, TRACK, &back), MYP_OK);
	ck_assert_uint_eq(back.affected_rows, 70000);
	ck_assert_uint_eq(back.last_insert_id, 1ull << 40);
	ck_assert_uint_eq(back.status, MYP_SERVER_STATUS_AUTOCOMMIT);
	ck_assert_uint_eq(back.warnings, 2);
	ck_assert_uint_eq(back.info_len, sizeof(info));
	ck_assert_int_eq(memcmp(back.info, info, sizeof(info)), 0);
	ck_assert_ptr_null(back.session_state);
	/* header, 0x00, 70000 (4 bytes), 2^40 (9 bytes), status, warnings, 3-byte length, info */
	ck_assert_uint_eq(got, 4 + 1 + 4 + 9 + 4 + 3 + sizeof(info));
	/* in place, the same */
	ck_assert_int_eq(myp_ok_untrack(in, w.len, TRACK, in, w.len, &got), MYP_OK);
	ck_assert_int_eq(memcmp(in, out, got), 0);
	/* the 0xFE form under DEPRECATE_EOF keeps its header byte */
	myp_wbuf_init(&w, in, sizeof(in));
	myp_ok_eof_build(&w, 9, TRACK | DEOF, &ok);
	ck_assert_int_eq(myp_ok_untrack(in, w.len, TRACK | DEOF, out, sizeof(out), &got), MYP_OK);
	ck_assert_uint_eq(out[4], 0xFE);
	ck_assert_uint_eq(out[3], 9);
	ck_assert_int_eq(myp_ok_parse(out + 4, got - 4, TRACK | DEOF, &back), MYP_OK);
	ck_assert_uint_eq(back.info_len, sizeof(info));
	ck_assert_ptr_null(back.session_state);
}
END_TEST

START_TEST(test_strip_bad)
{
	uint8_t in[256], out[256];
	size_t n, got;

	/* an ERR, a row, an empty packet: no OK */
	n = packet("ff 1505 |#28000| |x|", 1, in, sizeof(in));
	ck_assert_int_eq(myp_ok_untrack(in, n, TRACK, out, sizeof(out), &got), MYP_EPROTO);
	n = packet("01 |1|", 1, in, sizeof(in));
	ck_assert_int_eq(myp_ok_untrack(in, n, TRACK, out, sizeof(out), &got), MYP_EPROTO);
	n = packet("", 1, in, sizeof(in));
	ck_assert_int_eq(myp_ok_untrack(in, n, TRACK, out, sizeof(out), &got), MYP_EPROTO);
	/* 0xFE without DEPRECATE_EOF is an EOF: nine bytes are none */
	n = packet("fe 00000000 00000000", 1, in, sizeof(in));
	ck_assert_int_eq(myp_ok_untrack(in, n, TRACK, out, sizeof(out), &got), MYP_EPROTO);
	/* the state block runs past the packet */
	n = packet("00 00 00 0240 0000 00 0b 01 06 05 |mys|", 1, in, sizeof(in));
	ck_assert_int_eq(myp_ok_untrack(in, n, TRACK, out, sizeof(out), &got), MYP_EPROTO);
	/* a packet of 0xFFFFFF bytes is continued: never an OK */
	memset(in, 0, 8);
	myp_frame_put_header(in, MYP_MAX_PAYLOAD, 1);
	ck_assert_int_eq(myp_ok_untrack(in, 8, TRACK, out, sizeof(out), &got), MYP_NEED_MORE);
	/* a session without tracking: the OK as it is, its lenenc info too */
	n = packet("00 01 00 2200 0000 03 |abc|", 1, in, sizeof(in));
	ck_assert_int_eq(
	        myp_ok_untrack(in, n, TRACK & ~MYP_CLIENT_SESSION_TRACK, out, sizeof(out), &got),
	        MYP_OK);
	ck_assert(got == n && memcmp(in, out, n) == 0);
}
END_TEST

/* ---- entries ----------------------------------------------------------------------- */

typedef struct want_entry {
	uint8_t type;      /* myp_track_type_t */
	const char *name;  /* SYSVAR name, else NULL */
	const char *value; /* the value */
} want_entry_t;

typedef struct entries_case {
	const char *title;
	uint64_t caps;
	const char *ok;       /* an OK payload */
	want_entry_t want[6]; /* its entries, then {0, NULL, NULL} */
	size_t nwant;         /* how many */
} entries_case_t;

/* captured (capture_track.py) */
static const entries_case_t entries_cases[] = {
        {"login with database t",
         TRACK,
         "000000024000000015010201740201310509085f5f5f5f5f5f5f5f040100",
         {{MYP_TRACK_SCHEMA, NULL, "t"},
          {MYP_TRACK_STATE_CHANGE, NULL, "1"},
          {MYP_TRACK_TRX_STATE, NULL, "________"},
          {MYP_TRACK_TRX_CHARACTERISTICS, NULL, ""}},
         4},
        {"SET NAMES",
         TRACK,
         "000000024000000065001d146368617261637465725f7365745f636c69656e74"
         "07757466386d62340021186368617261637465725f7365745f636f6e6e656374"
         "696f6e07757466386d6234001e156368617261637465725f7365745f72657375"
         "6c747307757466386d6234020131",
         {{MYP_TRACK_SYSVAR, "character_set_client", "utf8mb4"},
          {MYP_TRACK_SYSVAR, "character_set_connection", "utf8mb4"},
          {MYP_TRACK_SYSVAR, "character_set_results", "utf8mb4"},
          {MYP_TRACK_STATE_CHANGE, NULL, "1"}},
         4},
        {"COM_INIT_DB",
         TRACK,
         "00000002400000000701020174020131",
         {{MYP_TRACK_SCHEMA, NULL, "t"}, {MYP_TRACK_STATE_CHANGE, NULL, "1"}},
         2},
        {"SET sql_mode, time_zone",
         TRACK,
         "00000002c00000002d00110974696d655f7a6f6e65062b30323a303000150873"
         "716c5f6d6f64650b414e53495f51554f544553020131",
         {{MYP_TRACK_SYSVAR, "time_zone", "+02:00"},
          {MYP_TRACK_SYSVAR, "sql_mode", "ANSI_QUOTES"},
          {MYP_TRACK_STATE_CHANGE, NULL, "1"}},
         3},
        {"SET SESSION TRANSACTION ISOLATION LEVEL",
         TRACK,
         "00000002c000000021001c0c74785f69736f6c6174696f6e0e524541442d434f"
         "4d4d4954544544020131",
         {{MYP_TRACK_SYSVAR, "tx_isolation", "READ-COMMITTED"},
          {MYP_TRACK_STATE_CHANGE, NULL, "1"}},
         2},
        {"SET @x: a change the tracker does not name",
         TRACK,
         "00000002c000000003020131",
         {{MYP_TRACK_STATE_CHANGE, NULL, "1"}},
         1},
        {"START TRANSACTION READ ONLY",
         TRACK,
         "00000003e00000002a050908545f5f5f5f5f5f5f041d1c535441525420545241"
         "4e53414354494f4e2052454144204f4e4c593b",
         {{MYP_TRACK_TRX_STATE, NULL, "T_______"},
          {MYP_TRACK_TRX_CHARACTERISTICS, NULL, "START TRANSACTION READ ONLY;"}},
         2},
        {"SELECT in a transaction: OK-as-EOF",
         TRACK | DEOF,
         "fe000023e00000000b050908545f525f5f73535f",
         {{MYP_TRACK_TRX_STATE, NULL, "T_R__sS_"}},
         1},
        {"UPDATE in a transaction: info and state",
         TRACK,
         "00010023c0000028526f7773206d6174636865643a203120204368616e676564"
         "3a203120205761726e696e67733a20300b050908545f5f5f575f5f5f",
         {{MYP_TRACK_TRX_STATE, NULL, "T___W___"}},
         1},
        {"SET autocommit=0 in a multi-statement",
         TRACK,
         "00000008c000000014000f0a6175746f636f6d6d6974034f4646020131",
         {{MYP_TRACK_SYSVAR, "autocommit", "OFF"}, {MYP_TRACK_STATE_CHANGE, NULL, "1"}},
         2},
        /* built: MySQL's GTIDs (encoding 0) and a type newer than the codec */
        {"GTIDs and an unknown type",
         TRACK,
         "00 00 00 0240 0000 00 13 03 0c 00 0a |3e11fa:1-5| 07 03 |abc|",
         {{MYP_TRACK_GTIDS, NULL, "3e11fa:1-5"}, {7, NULL, "abc"}},
         2},
};

START_TEST(test_entries)
{
	const entries_case_t *c = &entries_cases[_i];
	uint8_t b[FIX_MAX];
	size_t n = unhex(c->ok, b, sizeof(b)), i = 0;
	uint8_t *d = dup_exact(b, n);
	myp_ok_t ok;
	myp_track_iter_t it;
	myp_track_entry_t e;

	ck_assert_int_eq(myp_ok_parse(d, n, c->caps, &ok), MYP_OK);
	ck_assert(ok.status & MYP_SERVER_SESSION_STATE_CHANGED);
	myp_track_iter_init(&it, ok.session_state, ok.session_state_len);
	while (myp_track_next(&it, &e)) {
		ck_assert_msg(i < c->nwant, "%s: more entries than expected", c->title);
		ck_assert_uint_eq(e.type, c->want[i].type);
		if (c->want[i].name)
			ck_assert(slice_eq(e.name, e.name_len, c->want[i].name));
		else
			ck_assert_ptr_null(e.name);
		ck_assert_msg(slice_eq(e.value, e.value_len, c->want[i].value), "%s: entry %zu",
		              c->title, i);
		/* slices point into the packet */
		ck_assert(e.data >= d && e.data + e.data_len <= d + n);
		i++;
	}
	ck_assert(!it.failed);
	ck_assert_uint_eq(i, c->nwant);
	ck_assert(!myp_track_next(&it, &e)); /* stays at the end */
	free(d);
}
END_TEST

START_TEST(test_entries_bad)
{
	static const char *const bad[] = {
	        "fb 01 31",                 /* a type written as a lenenc int */
	        "01 06 05 |mys|",           /* the entry runs past the block */
	        "01 06 07 |mysql|",         /* its string runs past the entry */
	        "01 07 05 |mysql| 00",      /* a byte left in the entry */
	        "00 05 03 |abc|",           /* a variable without its value */
	        "00 06 03 |abc| 05",        /* a value past the entry */
	        "03 02 fb 00",              /* GTIDs' encoding is no number */
	        "05 09 09 |T_______|",      /* the transaction state cut short */
	        "02 01 31 01 06 05 |mysq|", /* a good entry, then a bad one */
	        "02",                       /* a type and nothing */
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		uint8_t b[64];
		size_t n = unhex(bad[k], b, sizeof(b));
		uint8_t *d = dup_exact(b, n);
		myp_track_iter_t it;
		myp_track_entry_t e;
		size_t good = 0;

		myp_track_iter_init(&it, d, n);
		while (myp_track_next(&it, &e))
			good++;
		ck_assert_msg(it.failed, "bad block %zu accepted", k);
		ck_assert_uint_eq(good, k == 8 ? 1 : 0);
		ck_assert(!myp_track_next(&it, &e)); /* sticky */
		free(d);
	}
	/* nothing to walk */
	myp_track_iter_t it;
	myp_track_entry_t e;

	myp_track_iter_init(&it, NULL, 5);
	ck_assert(!myp_track_next(&it, &e));
	ck_assert(!it.failed);
	ck_assert_str_eq(myp_track_type_name(MYP_TRACK_SYSVAR), "sysvar");
	ck_assert_str_eq(myp_track_type_name(MYP_TRACK_TRX_STATE), "trx_state");
	ck_assert_str_eq(myp_track_type_name(9), "unknown");
}
END_TEST

/* ---- prepared statements ------------------------------------------------------------ */

START_TEST(test_stmt_prepare)
{
	uint8_t b[128], want[128];
	myp_wbuf_t w;
	myp_stmt_prepare_ok_t pok;
	size_t n;

	/* captured: what capture_track.py sent, and the server's first answer */
	myp_wbuf_init(&w, b, sizeof(b));
	myp_stmt_prepare_build(&w, "SELECT ? + 1", 12);
	n = packet("1653454c454354203f202b2031", 0, want, sizeof(want));
	ck_assert(!w.failed);
	ck_assert(w.len == n && memcmp(b, want, n) == 0);
	myp_wbuf_init(&w, b, n - 1);
	myp_stmt_prepare_build(&w, "SELECT ? + 1", 12);
	ck_assert(w.failed);
	n = unhex("000100000001000100000000", b, sizeof(b));
	for (size_t k = 0; k < n; k++) {
		uint8_t *d = dup_exact(b, k);

		ck_assert_int_eq(myp_stmt_prepare_ok_parse(d, k, &pok), MYP_NEED_MORE);
		free(d);
	}
	ck_assert_int_eq(myp_stmt_prepare_ok_parse(b, n, &pok), MYP_OK);
	ck_assert_uint_eq(pok.stmt_id, 1);
	ck_assert_uint_eq(pok.columns, 1);
	ck_assert_uint_eq(pok.params, 1);
	ck_assert_uint_eq(pok.warnings, 0);
	b[0] = 0xFF;
	ck_assert_int_eq(myp_stmt_prepare_ok_parse(b, n, &pok), MYP_EPROTO);
}
END_TEST

/* Test map: client ids 1..3 are server ids 101..103. */
static bool map_ids(void *ctx, uint32_t client_id, uint32_t *server_id)
{
	(*(int *)ctx)++;
	if (client_id < 1 || client_id > 3)
		return false;
	*server_id = client_id + 100;
	return true;
}

START_TEST(test_stmt_id_rewrite)
{
	static const uint8_t with_id[] = {MYP_COM_STMT_EXECUTE, MYP_COM_STMT_SEND_LONG_DATA,
	                                  MYP_COM_STMT_FETCH,   MYP_COM_STMT_RESET,
	                                  MYP_COM_STMT_CLOSE,   MYP_COM_STMT_BULK_EXECUTE};
	uint8_t b[16];
	uint32_t id;
	int calls = 0;

	for (size_t k = 0; k < sizeof(with_id); k++) {
		/* built: the command, id 2, then bytes that must stay */
		uint8_t p[9] = {with_id[k], 2, 0, 0, 0, 0xAA, 0xBB, 0xCC, 0xDD};

		ck_assert(myp_stmt_cmd_has_id(with_id[k]));
		ck_assert_int_eq(myp_stmt_id_rewrite(p, sizeof(p), map_ids, &calls), MYP_OK);
		ck_assert_int_eq(myp_stmt_id_parse(p, sizeof(p), &id), MYP_OK);
		ck_assert_uint_eq(id, 102);
		ck_assert_uint_eq(p[0], with_id[k]);
		ck_assert_uint_eq(p[5], 0xAA);
		ck_assert_uint_eq(p[8], 0xDD);
		/* MariaDB's "last prepared" id is left alone, without asking the map */
		memset(p + 1, 0xFF, 4);
		calls = 0;
		ck_assert_int_eq(myp_stmt_id_rewrite(p, sizeof(p), map_ids, &calls), MYP_OK);
		ck_assert_int_eq(calls, 0);
		ck_assert_int_eq(myp_stmt_id_parse(p, sizeof(p), &id), MYP_OK);
		ck_assert_uint_eq(id, MYP_STMT_ID_DIRECT);
		/* an id the session never prepared: untouched, refused */
		p[1] = 9;
		p[2] = p[3] = p[4] = 0;
		ck_assert_int_eq(myp_stmt_id_rewrite(p, sizeof(p), map_ids, &calls), MYP_EPROTO);
		ck_assert_uint_eq(p[1], 9);
		/* cut before the id's end */
		for (size_t n = 0; n < 5; n++) {
			uint8_t *d = dup_exact(p, n);

			ck_assert_int_eq(myp_stmt_id_rewrite(d, n, map_ids, &calls), MYP_NEED_MORE);
			free(d);
		}
	}
	/* other commands carry no statement id: left as they are */
	b[0] = MYP_COM_QUERY;
	b[1] = 1;
	ck_assert(!myp_stmt_cmd_has_id(MYP_COM_QUERY));
	ck_assert(!myp_stmt_cmd_has_id(MYP_COM_STMT_PREPARE));
	ck_assert_int_eq(myp_stmt_id_rewrite(b, 2, map_ids, &calls), MYP_OK);
	ck_assert_uint_eq(b[1], 1);
	ck_assert_int_eq(myp_stmt_id_parse(b, 2, &id), MYP_EPROTO);
}
END_TEST

START_TEST(test_stmt_execute)
{
	/* captured (test/unit/fixtures/codec/capture.py): one INT parameter, types bound */
	uint8_t b[128], out[128], want[128];
	size_t n = unhex("17 01000000 00 01000000 00 01 0300 01000000", b, sizeof(b)), wn;
	myp_stmt_exec_t e;
	myp_wbuf_t w;

	for (size_t k = 0; k < 13; k++) {
		uint8_t *d = dup_exact(b, k);

		ck_assert_int_eq(myp_stmt_execute_parse(d, k, 1, &e), MYP_NEED_MORE);
		free(d);
	}
	ck_assert_int_eq(myp_stmt_execute_parse(b, n, 1, &e), MYP_OK);
	ck_assert_uint_eq(e.stmt_id, 1);
	ck_assert_uint_eq(e.flags, 0);
	ck_assert_uint_eq(e.iterations, 1);
	ck_assert_uint_eq(e.nulls_len, 1);
	ck_assert(e.types_bound);
	ck_assert_uint_eq(e.types_len, 2);
	ck_assert_uint_eq(e.types[0], 0x03);
	ck_assert_uint_eq(e.values_len, 4);
	/* built: the next execute of a client, types not sent again; rebuilt for server id 7
	 * with the types the client bound before. Checked against MariaDB 10.11 on a statement
	 * just prepared again: the rebuilt packet returns 3, the client's own ERR 1210
	 * (incorrect arguments to mysqld_stmt_execute): the types must be sent again. */
	n = unhex("17 01000000 00 01000000 00 00 02000000", b, sizeof(b));
	ck_assert_int_eq(myp_stmt_execute_parse(b, n, 1, &e), MYP_OK);
	ck_assert(!e.types_bound);
	ck_assert_uint_eq(e.types_len, 0);
	myp_wbuf_init(&w, out, sizeof(out));
	myp_stmt_execute_build(&w, &e, 7, (const uint8_t *)"\x03\x00", 2);
	wn = packet("17 07000000 00 01000000 00 01 0300 02000000", 0, want, sizeof(want));
	ck_assert(!w.failed);
	ck_assert(w.len == wn && memcmp(out, want, wn) == 0);
	/* no parameters: nothing after the iteration count */
	n = unhex("17 05000000 01 01000000", b, sizeof(b));
	ck_assert_int_eq(myp_stmt_execute_parse(b, n, 0, &e), MYP_OK);
	ck_assert_uint_eq(e.flags, 1);
	ck_assert_ptr_null(e.nulls);
	myp_wbuf_init(&w, out, sizeof(out));
	myp_stmt_execute_build(&w, &e, 9, NULL, 0);
	wn = packet("17 09000000 01 01000000", 0, want, sizeof(want));
	ck_assert(w.len == wn && memcmp(out, want, wn) == 0);
	/* a new_params_bound_flag other than 0 or 1; another command */
	n = unhex("17 01000000 00 01000000 00 02 0300 01000000", b, sizeof(b));
	ck_assert_int_eq(myp_stmt_execute_parse(b, n, 1, &e), MYP_EPROTO);
	b[0] = MYP_COM_STMT_FETCH;
	ck_assert_int_eq(myp_stmt_execute_parse(b, n, 1, &e), MYP_EPROTO);
	/* nine parameters: a two-byte NULL bitmap */
	n = unhex("17 01000000 00 01000000 ff01 00", b, sizeof(b));
	ck_assert_int_eq(myp_stmt_execute_parse(b, n, 9, &e), MYP_OK);
	ck_assert_uint_eq(e.nulls_len, 2);
	ck_assert_uint_eq(e.values_len, 0);
}
END_TEST

/* ---- COM_CHANGE_USER in full ---------------------------------------------------------- */

#define MYSQLND    0x001AA28Dull   /* the caps of PHP 8.2's mysqlnd in the captures */
#define LIBMARIADB 0x1D00BEA28Cull /* libmariadb 3.3's, extended ones included */

typedef struct change_user_case {
	const char *title;
	uint64_t caps;
	const char *packet; /* the client's COM_CHANGE_USER */
	const char *user, *auth_hex, *db;
	uint16_t charset;
	size_t attrs_len;
} change_user_case_t;

/* captured: a relay between MariaDB 10.11.19 and the clients (test_auth.c tells how) */
static const change_user_case_t change_user_cases[] = {
        {"mysqlnd to nopw", MYSQLND,
         "116e6f70770000740008006d7973716c5f6e61746976655f70617373776f7264"
         "002c0c5f636c69656e745f6e616d65076d7973716c6e640c5f7365727665725f"
         "686f7374093132372e302e302e31",
         "nopw", "", "t", 8, 44},
        {"mysqlnd to u", MYSQLND,
         "11750014abf29a983a1ea397e15e1df3f93917b2308ef0d9740008006d797371"
         "6c5f6e61746976655f70617373776f7264002c0c5f636c69656e745f6e616d65"
         "076d7973716c6e640c5f7365727665725f686f7374093132372e302e302e31",
         "u", "abf29a983a1ea397e15e1df3f93917b2308ef0d9", "t", 8, 44},
        {"libmariadb to nopw", LIBMARIADB,
         "116e6f7077000074002d006d7973716c5f6e61746976655f70617373776f7264"
         "006c035f6f73054c696e75780c5f636c69656e745f6e616d650a6c69626d6172"
         "69616462045f7069640531373239340f5f636c69656e745f76657273696f6e06"
         "332e332e3230095f706c6174666f726d067838365f36340c5f7365727665725f"
         "686f7374093132372e302e302e31",
         "nopw", "", "t", 45, 108},
        {"libmariadb to u, no database", LIBMARIADB,
         "11750014e032fc5751a91dbab0eaa5efc12ec690000230a6002d006d7973716c"
         "5f6e61746976655f70617373776f7264006c035f6f73054c696e75780c5f636c"
         "69656e745f6e616d650a6c69626d617269616462045f7069640531373239340f"
         "5f636c69656e745f76657273696f6e06332e332e3230095f706c6174666f726d"
         "067838365f36340c5f7365727665725f686f7374093132372e302e302e31",
         "u", "e032fc5751a91dbab0eaa5efc12ec690000230a6", "", 45, 108},
};

START_TEST(test_change_user_full)
{
	const change_user_case_t *c = &change_user_cases[_i];
	uint8_t b[FIX_MAX], auth[64];
	size_t n = unhex(c->packet, b, sizeof(b)), an = unhex(c->auth_hex, auth, sizeof(auth));
	myp_change_user_full_t cu;
	myp_change_user_t head;

	ck_assert_int_eq(myp_change_user_full_parse(b, n, c->caps, &cu), MYP_OK);
	ck_assert(slice_eq(cu.user, cu.user_len, c->user));
	ck_assert(cu.auth_len == an && (an == 0 || memcmp(cu.auth, auth, an) == 0));
	ck_assert(slice_eq(cu.db, cu.db_len, c->db));
	ck_assert(cu.has_charset);
	ck_assert_uint_eq(cu.charset, c->charset);
	ck_assert(slice_eq(cu.auth_plugin, cu.auth_plugin_len, "mysql_native_password"));
	ck_assert_uint_eq(cu.attrs_len, c->attrs_len);
	ck_assert(cu.attrs + cu.attrs_len == b + n);
	/* cut before the database's NUL, more is needed; after it, what is there counts (a cut
	 * plugin name or attribute block is broken) */
	size_t db_end = (size_t)(cu.db + cu.db_len + 1 - b);

	for (size_t k = 0; k < n; k++) {
		uint8_t *d = dup_exact(b, k);
		myp_change_user_full_t part;
		myp_status_t st = myp_change_user_full_parse(d, k, c->caps, &part);

		if (k < db_end)
			ck_assert_int_eq(st, MYP_NEED_MORE);
		else
			ck_assert(st == MYP_OK || st == MYP_EPROTO);
		free(d);
	}
	/* the short parser agrees */
	ck_assert_int_eq(myp_change_user_parse(b, n, c->caps, &head), MYP_OK);
	ck_assert(slice_eq(head.user, head.user_len, c->user));
	ck_assert_uint_eq(head.charset, c->charset);
}
END_TEST

START_TEST(test_change_user_forms)
{
	uint8_t b[128];
	size_t n;
	myp_change_user_full_t cu;

	/* built: pre-4.1 auth (NUL-terminated), no charset */
	n = unhex("11 |bob| 00 |x| 00 |db| 00", b, sizeof(b));
	ck_assert_int_eq(myp_change_user_full_parse(b, n, 0, &cu), MYP_OK);
	ck_assert(slice_eq(cu.auth, cu.auth_len, "x"));
	ck_assert(slice_eq(cu.db, cu.db_len, "db"));
	ck_assert(!cu.has_charset);
	ck_assert_ptr_null(cu.auth_plugin);
	/* one byte after the database is no collation id (the server reads it the same way) */
	n = unhex("11 |bob| 00 00 00 21", b, sizeof(b));
	ck_assert_int_eq(myp_change_user_full_parse(b, n, MYSQLND, &cu), MYP_OK);
	ck_assert(!cu.has_charset);
	/* the reply runs past the packet; the database is cut; an unterminated plugin; attrs
	 * longer than the packet */
	n = unhex("11 |bob| 00 14 0102", b, sizeof(b));
	ck_assert_int_eq(myp_change_user_full_parse(b, n, MYSQLND, &cu), MYP_NEED_MORE);
	n = unhex("11 |bob| 00 00 |db|", b, sizeof(b));
	ck_assert_int_eq(myp_change_user_full_parse(b, n, MYSQLND, &cu), MYP_NEED_MORE);
	n = unhex("11 |bob| 00 00 00 2100 |mysql_nat|", b, sizeof(b));
	ck_assert_int_eq(myp_change_user_full_parse(b, n, MYSQLND, &cu), MYP_EPROTO);
	n = unhex("11 |bob| 00 00 00 2100 |p| 00 05 |abc|", b, sizeof(b));
	ck_assert_int_eq(myp_change_user_full_parse(b, n, MYSQLND, &cu), MYP_EPROTO);
	/* without CONNECT_ATTRS the bytes after the plugin are not read */
	ck_assert_int_eq(myp_change_user_full_parse(b, n, MYSQLND & ~MYP_CLIENT_CONNECT_ATTRS, &cu),
	                 MYP_OK);
	ck_assert_ptr_null(cu.attrs);
	b[0] = MYP_COM_QUERY;
	ck_assert_int_eq(myp_change_user_full_parse(b, n, MYSQLND, &cu), MYP_EPROTO);
	ck_assert_int_eq(myp_change_user_full_parse(b, 0, MYSQLND, &cu), MYP_NEED_MORE);
}
END_TEST

/* captured (test_auth.c tells how): mysqlnd's handshake response, without SESSION_TRACK */
#define MYSQLND_HSRESP                                                     \
	"8da21a00000000c0080000000000000000000000000000000000000000000000" \
	"750014abf29a983a1ea397e15e1df3f93917b2308ef0d974006d7973716c5f6e" \
	"61746976655f70617373776f7264002c0c5f636c69656e745f6e616d65076d79" \
	"73716c6e640c5f7365727665725f686f7374093132372e302e302e31"

START_TEST(test_hsresp_add_caps)
{
	uint8_t b[256], orig[256];
	size_t n = unhex(MYSQLND_HSRESP, b, sizeof(b));
	myp_hsresp_t before, after;

	memcpy(orig, b, n);
	ck_assert_int_eq(myp_hsresp_parse(orig, n, &before), MYP_OK);
	ck_assert(!(before.caps & MYP_CLIENT_SESSION_TRACK));
	ck_assert_int_eq(myp_hsresp_add_caps(b, n, MYP_CLIENT_SESSION_TRACK), MYP_OK);
	ck_assert_int_eq(myp_hsresp_parse(b, n, &after), MYP_OK);
	ck_assert_uint_eq(after.caps, before.caps | MYP_CLIENT_SESSION_TRACK);
	/* nothing else moved or changed */
	ck_assert_int_eq(memcmp(b + 4, orig + 4, n - 4), 0);
	ck_assert_uint_eq((size_t)(after.auth - b), (size_t)(before.auth - orig));
	ck_assert_uint_eq(after.attrs_len, before.attrs_len);
	/* twice: the same */
	ck_assert_int_eq(myp_hsresp_add_caps(b, n, MYP_CLIENT_SESSION_TRACK), MYP_OK);
	ck_assert_int_eq(myp_hsresp_parse(b, n, &after), MYP_OK);
	ck_assert_uint_eq(after.caps, before.caps | MYP_CLIENT_SESSION_TRACK);
	/* bits that would change what the client reads are not the proxy's to add */
	ck_assert_int_eq(myp_hsresp_add_caps(b, n, MYP_CLIENT_DEPRECATE_EOF), MYP_EPROTO);
	ck_assert_int_eq(myp_hsresp_add_caps(b, n, MYP_MARIADB_CLIENT_CACHE_METADATA), MYP_EPROTO);
	ck_assert_int_eq(myp_hsresp_add_caps(b, 3, MYP_CLIENT_SESSION_TRACK), MYP_NEED_MORE);
}
END_TEST

/* ---- replaying system variables --------------------------------------------------------- */

typedef struct sysvar_case {
	const char *name, *value; /* as a SYSVAR entry reports them */
	const char *sql;          /* the assignment built */
} sysvar_case_t;

/* values as MariaDB 10.11's tracker reported them after SET statements; SYSVAR_SQL (all of
 * them joined) was run on that server, which then showed every value again */
static const sysvar_case_t sysvar_cases[] = {
        {"character_set_results", "", "@@SESSION.`character_set_results`=NULL"},
        {"big_tables", "ON", "@@SESSION.`big_tables`='ON'"},
        {"max_statement_time", "1.500000", "@@SESSION.`max_statement_time`=1.500000"},
        {"sql_select_limit", "18446744073709551615",
         "@@SESSION.`sql_select_limit`=18446744073709551615"},
        {"tx_isolation", "READ-COMMITTED", "@@SESSION.`tx_isolation`='READ-COMMITTED'"},
        {"time_zone", "+02:00", "@@SESSION.`time_zone`='+02:00'"},
        {"auto_increment_increment", "5", "@@SESSION.`auto_increment_increment`=5"},
        {"sql_mode", "", "@@SESSION.`sql_mode`=''"},
        {"last_insert_id", "42", "@@SESSION.`last_insert_id`=42"},
};

#define SYSVAR_SQL                                                                    \
	"SET @@SESSION.`character_set_results`=NULL, @@SESSION.`big_tables`='ON', "   \
	"@@SESSION.`max_statement_time`=1.500000, "                                   \
	"@@SESSION.`sql_select_limit`=18446744073709551615, "                         \
	"@@SESSION.`tx_isolation`='READ-COMMITTED', @@SESSION.`time_zone`='+02:00', " \
	"@@SESSION.`auto_increment_increment`=5, @@SESSION.`sql_mode`='', "           \
	"@@SESSION.`last_insert_id`=42"

static bool wbuf_is(const myp_wbuf_t *w, const char *want)
{
	return !w->failed && slice_eq(w->buf, w->len, want);
}

static void sysvar(myp_wbuf_t *w, const char *name, const char *value, bool nbe)
{
	myp_track_sysvar_sql(w, (const uint8_t *)name, strlen(name), (const uint8_t *)value,
	                     strlen(value), nbe);
}

START_TEST(test_sysvar_sql)
{
	char buf[1024];
	myp_wbuf_t w;

	myp_wbuf_init(&w, (uint8_t *)buf, sizeof(buf));
	myp_wbuf_bytes(&w, "SET ", 4);
	for (size_t i = 0; i < sizeof(sysvar_cases) / sizeof(sysvar_cases[0]); i++) {
		myp_wbuf_t one;
		char b1[128];

		myp_wbuf_init(&one, (uint8_t *)b1, sizeof(b1));
		sysvar(&one, sysvar_cases[i].name, sysvar_cases[i].value, false);
		ck_assert_msg(wbuf_is(&one, sysvar_cases[i].sql), "%s", sysvar_cases[i].name);
		if (i)
			myp_wbuf_bytes(&w, ", ", 2);
		sysvar(&w, sysvar_cases[i].name, sysvar_cases[i].value, false);
	}
	ck_assert(wbuf_is(&w, SYSVAR_SQL));

	/* quotes always doubled, backslashes unless the session has NO_BACKSLASH_ESCAPES */
	myp_wbuf_init(&w, (uint8_t *)buf, sizeof(buf));
	sysvar(&w, "v", "a'b\\c", false);
	ck_assert(wbuf_is(&w, "@@SESSION.`v`='a''b\\\\c'"));
	myp_wbuf_init(&w, (uint8_t *)buf, sizeof(buf));
	sysvar(&w, "v", "a'b\\c", true);
	ck_assert(wbuf_is(&w, "@@SESSION.`v`='a''b\\c'"));
	/* numbers are only what the server prints as one */
	static const char *const quoted[] = {"1.", ".5", "+", "-", "1e5", "0x1F", " 1", "1 "};
	for (size_t i = 0; i < sizeof(quoted) / sizeof(quoted[0]); i++) {
		char want[64];

		snprintf(want, sizeof(want), "@@SESSION.`v`='%s'", quoted[i]);
		myp_wbuf_init(&w, (uint8_t *)buf, sizeof(buf));
		sysvar(&w, "v", quoted[i], false);
		ck_assert_msg(wbuf_is(&w, want), "%s", quoted[i]);
	}
	myp_wbuf_init(&w, (uint8_t *)buf, sizeof(buf));
	sysvar(&w, "v", "-5", false);
	ck_assert(wbuf_is(&w, "@@SESSION.`v`=-5"));
	/* a backquote in a name; an empty value of a variable that is no character set */
	myp_wbuf_init(&w, (uint8_t *)buf, sizeof(buf));
	sysvar(&w, "a`b", "", false);
	ck_assert(wbuf_is(&w, "@@SESSION.`a``b`=''"));
	myp_wbuf_init(&w, (uint8_t *)buf, sizeof(buf));
	sysvar(&w, "character_set", "", false);
	ck_assert(wbuf_is(&w, "@@SESSION.`character_set`=''"));
	/* too small: sticky failure */
	for (size_t cap = 0; cap < strlen(sysvar_cases[4].sql); cap++) {
		myp_wbuf_init(&w, (uint8_t *)buf, cap);
		sysvar(&w, sysvar_cases[4].name, sysvar_cases[4].value, false);
		ck_assert(w.failed);
	}
}
END_TEST

/* ---- seeds for fuzz_track ------------------------------------------------------------- */

/* Seed format of test/fuzz/fuzz_track.c: 1 byte of flags (bit 0: CLIENT_DEPRECATE_EOF,
 * bit 1: no CLIENT_SESSION_TRACK), then a whole packet. */
static bool write_seed(const char *dir, const char *name, uint8_t flags, const uint8_t *pkt,
                       size_t n)
{
	char path[512];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "wb")))
		return false;
	ok = fwrite(&flags, 1, 1, f) == 1 && fwrite(pkt, 1, n, f) == n;
	return fclose(f) == 0 && ok;
}

static bool write_corpus(const char *dir)
{
	uint8_t pkt[FIX_MAX];
	char name[64];

	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return false;
	for (size_t i = 0; i < sizeof(strip_cases) / sizeof(strip_cases[0]); i++) {
		size_t n = packet(strip_cases[i].track, 1, pkt, sizeof(pkt));

		snprintf(name, sizeof(name), "strip_%02zu", i);
		if (!write_seed(dir, name, (strip_cases[i].caps & DEOF) ? 1 : 0, pkt, n))
			return false;
	}
	for (size_t i = 0; i < sizeof(entries_cases) / sizeof(entries_cases[0]); i++) {
		size_t n = packet(entries_cases[i].ok, 1, pkt, sizeof(pkt));

		snprintf(name, sizeof(name), "entries_%02zu", i);
		if (!write_seed(dir, name, (entries_cases[i].caps & DEOF) ? 1 : 0, pkt, n))
			return false;
	}
	for (size_t i = 0; i < sizeof(change_user_cases) / sizeof(change_user_cases[0]); i++) {
		size_t n = packet(change_user_cases[i].packet, 0, pkt, sizeof(pkt));

		snprintf(name, sizeof(name), "change_user_%02zu", i);
		if (!write_seed(dir, name, 0, pkt, n))
			return false;
	}
	return true;
}

static Suite *track_suite(void)
{
	Suite *s = suite_create("track");
	TCase *tc = tcase_create("strip");

	tcase_add_loop_test(tc, test_strip_captured, 0,
	                    sizeof(strip_cases) / sizeof(strip_cases[0]));
	tcase_add_loop_test(tc, test_strip_bounds, 0, sizeof(strip_cases) / sizeof(strip_cases[0]));
	tcase_add_test(tc, test_strip_built);
	tcase_add_test(tc, test_strip_bad);
	suite_add_tcase(s, tc);

	tc = tcase_create("entries");
	tcase_add_loop_test(tc, test_entries, 0, sizeof(entries_cases) / sizeof(entries_cases[0]));
	tcase_add_test(tc, test_entries_bad);
	tcase_add_test(tc, test_sysvar_sql);
	suite_add_tcase(s, tc);

	tc = tcase_create("stmt");
	tcase_add_test(tc, test_stmt_prepare);
	tcase_add_test(tc, test_stmt_id_rewrite);
	tcase_add_test(tc, test_stmt_execute);
	suite_add_tcase(s, tc);

	tc = tcase_create("login");
	tcase_add_loop_test(tc, test_change_user_full, 0,
	                    sizeof(change_user_cases) / sizeof(change_user_cases[0]));
	tcase_add_test(tc, test_change_user_forms);
	tcase_add_test(tc, test_hsresp_add_caps);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
		return write_corpus(argv[2]) ? 0 : 1;
	if (argc != 1) {
		fprintf(stderr, "usage: %s [--write-corpus DIR]\n", argv[0]);
		return 2;
	}
	return gp_check_run(track_suite(), CK_ENV);
}
