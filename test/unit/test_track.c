/* test_track.c - Check unit tests for the codec pieces of session moves: tracking, statements. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fixture.h"
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

#include "test_track_stmt.c"

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
