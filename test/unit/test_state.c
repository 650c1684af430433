/* test_state.c - Check unit tests for a session's re-creatable state (session/state.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "gp_check.h"
#include "codec/myp_track.h"
#include "session/state.h"

#define TRACK 0xAFA28Eull /* the captures' caps (test_track.c): PROTOCOL_41, SESSION_TRACK */

/* Feed one captured OK payload (hex) as the core does: parsed with the session's caps. */
static void feed_ok(gp_sstate_t *st, const char *hex)
{
	static uint8_t b[1024];
	size_t n = unhex(hex, b, sizeof(b));
	myp_ok_t ok;
	ck_assert_int_eq(myp_ok_parse(b, n, TRACK, &ok), MYP_OK);
	gp_sstate_ok(st, &ok, true);
}

static bool var_is(const gp_sstate_t *st, const char *name, const char *want)
{
	const uint8_t *v;
	size_t n;
	return gp_sstate_var(st, name, &v, &n) && n == strlen(want) && memcmp(v, want, n) == 0;
}

/* captured (test_track.c's entries, capture_track.py) */
#define OK_LOGIN_DB_T "000000024000000015010201740201310509085f5f5f5f5f5f5f5f040100"
#define OK_SET_NAMES                                                       \
	"000000024000000065001d146368617261637465725f7365745f636c69656e74" \
	"07757466386d62340021186368617261637465725f7365745f636f6e6e656374" \
	"696f6e07757466386d6234001e156368617261637465725f7365745f72657375" \
	"6c747307757466386d6234020131"
#define OK_INIT_DB_T "00000002400000000701020174020131"
#define OK_SQLMODE_TZ                                                      \
	"00000002c00000002d00110974696d655f7a6f6e65062b30323a303000150873" \
	"716c5f6d6f64650b414e53495f51554f544553020131"
#define OK_ISOLATION                                                       \
	"00000002c000000021001c0c74785f69736f6c6174696f6e0e524541442d434f" \
	"4d4d4954544544020131"
#define OK_USER_VAR "00000002c000000003020131"
#define OK_TRX_READ_ONLY                                                   \
	"00000003e00000002a050908545f5f5f5f5f5f5f041d1c535441525420545241" \
	"4e53414354494f4e2052454144204f4e4c593b"

START_TEST(test_state_tracked)
{
	gp_sstate_t st;
	gp_sstate_init(&st);
	ck_assert_str_eq(gp_sstate_schema(&st), "");
	ck_assert_uint_eq(gp_sstate_nvars(&st), 0);
	char sql[512];
	ck_assert_uint_eq(gp_sstate_replay_sql(&st, false, sql, sizeof(sql)), 0);

	feed_ok(&st, OK_LOGIN_DB_T);
	ck_assert_str_eq(gp_sstate_schema(&st), "t");
	feed_ok(&st, OK_SET_NAMES);
	feed_ok(&st, OK_SQLMODE_TZ);
	feed_ok(&st, OK_ISOLATION);
	feed_ok(&st, OK_TRX_READ_ONLY); /* the transaction's: nothing kept, nothing lost */
	ck_assert_uint_eq(gp_sstate_unmovable(&st), 0);
	ck_assert_uint_eq(gp_sstate_nvars(&st), 6);
	ck_assert(var_is(&st, "character_set_client", "utf8mb4"));
	ck_assert(var_is(&st, "TIME_ZONE", "+02:00")); /* names as the server treats them */
	ck_assert(var_is(&st, "tx_isolation", "READ-COMMITTED"));
	size_t n = gp_sstate_replay_sql(&st, false, sql, sizeof(sql));
	sql[n] = '\0';
	ck_assert_str_eq(sql, "SET @@SESSION.`character_set_client`='utf8mb4', "
	                      "@@SESSION.`character_set_connection`='utf8mb4', "
	                      "@@SESSION.`character_set_results`='utf8mb4', "
	                      "@@SESSION.`time_zone`='+02:00', @@SESSION.`sql_mode`='ANSI_QUOTES', "
	                      "@@SESSION.`tx_isolation`='READ-COMMITTED'");
	/* too small: nothing rather than half a statement */
	ck_assert_uint_eq(gp_sstate_replay_sql(&st, false, sql, 40), 0);

	/* a new value replaces the old one and goes last (replayed in the order of changes) */
	feed_ok(&st, "00000002c00000001300110974696d655f7a6f6e65065554432b3031020131");
	ck_assert(var_is(&st, "time_zone", "UTC+01"));
	ck_assert_uint_eq(gp_sstate_nvars(&st), 6);
	n = gp_sstate_replay_sql(&st, false, sql, sizeof(sql));
	sql[n] = '\0';
	ck_assert_ptr_nonnull(strstr(sql, "'READ-COMMITTED', @@SESSION.`time_zone`='UTC+01'"));

	feed_ok(&st, OK_INIT_DB_T);
	ck_assert_str_eq(gp_sstate_schema(&st), "t");
	ck_assert_uint_eq(gp_sstate_unmovable(&st), 0);
	gp_sstate_release(&st);
	ck_assert_uint_eq(gp_sstate_nvars(&st), 0);
}
END_TEST

START_TEST(test_state_unnamed)
{
	gp_sstate_t st;
	gp_sstate_init(&st);
	feed_ok(&st, OK_USER_VAR); /* SET @x: STATE_CHANGE alone */
	ck_assert_uint_eq(gp_sstate_unmovable(&st), GP_UNMOV_UNTRACKED_CHANGE);
	ck_assert_str_eq(gp_sstate_reason_name(GP_UNMOV_UNTRACKED_CHANGE), "untracked_change");

	/* a peeked OK that says something changed: what is not known */
	gp_sstate_init(&st);
	myp_ok_t ok = {.status = MYP_SERVER_SESSION_STATE_CHANGED, .last_insert_id = 7};
	gp_sstate_ok(&st, &ok, false);
	ck_assert_uint_eq(gp_sstate_unmovable(&st), GP_UNMOV_UNTRACKED_CHANGE);
	ck_assert(gp_sstate_has_last_insert_id(&st));
	ck_assert_uint_eq(gp_sstate_last_insert_id(&st), 7);

	/* a malformed block, a type newer than the codec */
	gp_sstate_init(&st);
	feed_ok(&st, "00 00 00 0240 0000 00 04 01 06 05 |mys|");
	ck_assert_uint_eq(gp_sstate_unmovable(&st), GP_UNMOV_UNTRACKED_CHANGE);
	gp_sstate_init(&st);
	feed_ok(&st, "00 00 00 0240 0000 00 05 07 03 |abc|");
	ck_assert_uint_eq(gp_sstate_unmovable(&st), GP_UNMOV_UNTRACKED_CHANGE);

	/* the session turns tracking off: what it changes next is not reported */
	gp_sstate_init(&st);
	feed_ok(&st, "00 00 00 0240 0000 00 1b 00 19 14 |session_track_schema| 03 |OFF|");
	ck_assert_uint_eq(gp_sstate_unmovable(&st), GP_UNMOV_NO_TRACKING);
	ck_assert_uint_eq(gp_sstate_nvars(&st), 0);
	ck_assert_str_eq(gp_sstate_reason_name(GP_UNMOV_NO_TRACKING), "no_tracking");
	ck_assert_str_eq(gp_sstate_reason_name(1u << 30), "unknown");

	/* SET insert_id = 5: the next INSERT's, not a session's to replay */
	gp_sstate_init(&st);
	feed_ok(&st, "00 00 00 0240 0000 00 11 00 0c 09 |insert_id| 01 |5| 02 01 31");
	ck_assert_uint_eq(gp_sstate_unmovable(&st), GP_UNMOV_INSERT_ID_EXPR);
	ck_assert_uint_eq(gp_sstate_nvars(&st), 0);
}
END_TEST

START_TEST(test_state_last_insert_id)
{
	gp_sstate_t st;
	gp_sstate_init(&st);
	ck_assert(!gp_sstate_has_last_insert_id(&st));
	myp_ok_t ok = {.last_insert_id = 42};
	gp_sstate_ok(&st, &ok, true);
	ok.last_insert_id = 0; /* LAST_INSERT_ID() stays after an OK without one */
	gp_sstate_ok(&st, &ok, true);
	ck_assert(gp_sstate_has_last_insert_id(&st));
	ck_assert_uint_eq(gp_sstate_last_insert_id(&st), 42);
	ok.last_insert_id = UINT64_MAX;
	gp_sstate_ok(&st, &ok, true);
	ck_assert_uint_eq(gp_sstate_last_insert_id(&st), UINT64_MAX);
	ck_assert_uint_eq(gp_sstate_unmovable(&st), 0);
}
END_TEST

START_TEST(test_state_full)
{
	gp_sstate_t st;
	gp_sstate_init(&st);
	uint8_t b[1024];
	char name[32];
	uint8_t value[200];
	memset(value, 'v', sizeof(value));
	int i;
	for (i = 0; gp_sstate_unmovable(&st) == 0 && i < 100; i++) {
		/* OK with one SYSVAR of name v<i> and a 200-byte value */
		snprintf(name, sizeof(name), "v%02d", i);
		myp_wbuf_t w, e;
		uint8_t ent[300];
		myp_wbuf_init(&e, ent, sizeof(ent));
		myp_wbuf_lenenc_str(&e, name, strlen(name));
		myp_wbuf_lenenc_str(&e, value, sizeof(value));
		ck_assert(!e.failed);
		size_t block = 1 + (e.len < 251 ? 1 : 3) + e.len; /* type, entry length, entry */
		myp_wbuf_init(&w, b, sizeof(b));
		myp_wbuf_bytes(&w, "\x00\x00\x00\x02\x40\x00\x00", 7); /* STATE_CHANGED */
		myp_wbuf_u8(&w, 0);                                    /* no info */
		myp_wbuf_lenenc_int(&w, block);
		myp_wbuf_u8(&w, MYP_TRACK_SYSVAR);
		myp_wbuf_lenenc_int(&w, e.len);
		myp_wbuf_bytes(&w, ent, e.len);
		ck_assert(!w.failed);
		myp_ok_t ok;
		ck_assert_int_eq(myp_ok_parse(b, w.len, TRACK, &ok), MYP_OK);
		gp_sstate_ok(&st, &ok, true);
	}
	ck_assert_uint_eq(gp_sstate_unmovable(&st), GP_UNMOV_STATE_FULL);
	ck_assert_int_eq(i, GP_SSTATE_VARS_MAX / (3 + 3 + 200) + 1);
	ck_assert_str_eq(gp_sstate_reason_name(GP_UNMOV_STATE_FULL), "state_full");
	gp_sstate_release(&st);

	/* a schema longer than a server allows */
	char longdb[GP_SSTATE_SCHEMA_MAX + 2];
	memset(longdb, 'd', sizeof(longdb));
	gp_sstate_set_schema(&st, (const uint8_t *)longdb, sizeof(longdb));
	ck_assert_str_eq(gp_sstate_schema(&st), "");
	ck_assert_uint_eq(gp_sstate_unmovable(&st), GP_UNMOV_STATE_FULL);
}
END_TEST

START_TEST(test_state_reset)
{
	gp_sstate_t st;
	gp_sstate_init(&st);
	gp_sstate_set_schema(&st, (const uint8_t *)"app", 3);
	feed_ok(&st, OK_SET_NAMES);
	myp_ok_t ok = {.last_insert_id = 9};
	gp_sstate_ok(&st, &ok, true);
	gp_sstate_scan_query(&st, (const uint8_t *)"SET @a = 1", 10, true);
	gp_sstate_add(&st, 1u << 16); /* H-move's own reasons go too */
	ck_assert_uint_eq(gp_sstate_unmovable(&st), GP_UNMOV_USER_VAR | (1u << 16));
	gp_sstate_reset(&st);
	ck_assert_uint_eq(gp_sstate_unmovable(&st), 0);
	ck_assert_str_eq(gp_sstate_schema(&st), "");
	ck_assert_uint_eq(gp_sstate_nvars(&st), 0);
	ck_assert(!gp_sstate_has_last_insert_id(&st));
	feed_ok(&st, OK_SET_NAMES); /* the kept block is reused */
	ck_assert_uint_eq(gp_sstate_nvars(&st), 3);
	gp_sstate_release(&st);

	gp_sstate_t *h = gp_sstate_new();
	ck_assert_ptr_nonnull(h);
	feed_ok(h, OK_SET_NAMES);
	gp_sstate_free(h);
	gp_sstate_free(NULL);
}
END_TEST

/* ---- the text scan ----------------------------------------------------------------- */

typedef struct scan_case {
	const char *sql;
	uint32_t want; /* reason bits */
} scan_case_t;

static const scan_case_t scan_cases[] = {
        {"SELECT 1", 0},
        {"SELECT @@sql_mode, @@SESSION.time_zone, @@global.read_only", 0},
        {"SET @a = 1", GP_UNMOV_USER_VAR},
        {"select @`weird name`", GP_UNMOV_USER_VAR},
        {"SELECT @'q'", GP_UNMOV_USER_VAR},
        {"SELECT 1 INTO @x", GP_UNMOV_USER_VAR},
        {"SELECT @@x, @y", GP_UNMOV_USER_VAR},
        {"SELECT 'a@b.c', \"@x\", `@y` FROM t", 0},
        {"SELECT 'it''s @x'", 0},
        {"SELECT 'a\\'@x'", 0}, /* an escaped quote (backslash escapes) */
        {"SELECT 1 /* @x */, 2 -- @y\n", 0},
        {"SELECT 1 # @x\n, 2", 0},
        {"SELECT 1 /*! , @x */", GP_UNMOV_USER_VAR}, /* executable comments are code */
        {"SELECT 1 /*M!100000 , @x */", GP_UNMOV_USER_VAR},
        {"SELECT 1--1, @z", GP_UNMOV_USER_VAR}, /* "--" without a space is no comment */
        {"CREATE TEMPORARY TABLE t (a int)", GP_UNMOV_TEMP_TABLE},
        {"create or replace temporary table t select 1", GP_UNMOV_TEMP_TABLE},
        {"SELECT 'CREATE TEMPORARY TABLE'", 0},
        {"SELECT temporary_x FROM t", 0},
        {"PREPARE s FROM 'SELECT 1'", GP_UNMOV_SQL_PREPARE},
        {"  execute s", GP_UNMOV_SQL_PREPARE},
        {"SELECT 1; DEALLOCATE PREPARE s", GP_UNMOV_SQL_PREPARE},
        {"SELECT prepared FROM t", 0},
        {"SELECT GET_LOCK('a', 1)", GP_UNMOV_LOCK},
        {"select get_lock ('a', 1)", GP_UNMOV_LOCK},
        {"LOCK TABLES t READ", GP_UNMOV_LOCK},
        {"lock table t write", GP_UNMOV_LOCK},
        {"LOCK /* x */ TABLES t READ", GP_UNMOV_LOCK},
        {"FLUSH TABLES WITH READ LOCK", GP_UNMOV_LOCK},
        {"BACKUP LOCK t", GP_UNMOV_LOCK},
        {"SELECT * FROM t LOCK IN SHARE MODE", 0},
        {"SELECT lock, tables FROM t", 0},
        {"SELECT SQL_CALC_FOUND_ROWS * FROM t LIMIT 1", GP_UNMOV_FOUND_ROWS},
        {"SELECT FOUND_ROWS()", 0},
        {"SELECT LAST_INSERT_ID()", 0},
        {"SELECT last_insert_id( )", 0},
        {"SELECT LAST_INSERT_ID(5)", GP_UNMOV_INSERT_ID_EXPR},
        {"UPDATE seq SET id = LAST_INSERT_ID(id + 1)", GP_UNMOV_INSERT_ID_EXPR},
        {"SET @a=1; CREATE TEMPORARY TABLE t(a int); SELECT GET_LOCK('x',0)",
         GP_UNMOV_USER_VAR | GP_UNMOV_TEMP_TABLE | GP_UNMOV_LOCK},
        {"CALL p(1)", GP_UNMOV_UNTRACKED_CHANGE},
        {"SELECT 'unterminated @x", 0},
        {"SELECT 1 /* unterminated @x", 0},
};

START_TEST(test_state_scan)
{
	const scan_case_t *c = &scan_cases[_i];
	uint32_t got = gp_sstate_scan((const uint8_t *)c->sql, strlen(c->sql), false);
	ck_assert_msg(got == c->want, "%s: got %#x want %#x", c->sql, got, c->want);
	/* exactly sized: an overread shows under ASan */
	size_t n = strlen(c->sql);
	uint8_t *d = dup_exact((const uint8_t *)c->sql, n);
	gp_sstate_t st;
	gp_sstate_init(&st);
	gp_sstate_scan_query(&st, d, n, true);
	ck_assert_uint_eq(gp_sstate_unmovable(&st) & c->want, c->want);
	free(d);
}
END_TEST

START_TEST(test_state_scan_backslash)
{
	/* under NO_BACKSLASH_ESCAPES 'a\' is a whole string: the @x after it is a variable */
	static const char sql[] = "SELECT 'a\\', @x, 'b'";
	ck_assert_uint_eq(gp_sstate_scan((const uint8_t *)sql, sizeof(sql) - 1, false), 0);
	ck_assert_uint_eq(gp_sstate_scan((const uint8_t *)sql, sizeof(sql) - 1, true),
	                  GP_UNMOV_USER_VAR);
	/* the session's own scan reads it both ways: a statement may change the mode */
	gp_sstate_t st;
	gp_sstate_init(&st);
	gp_sstate_scan_query(&st, (const uint8_t *)sql, sizeof(sql) - 1, true);
	ck_assert_uint_eq(gp_sstate_unmovable(&st), GP_UNMOV_USER_VAR);
	/* a query the proxy saw only the start of */
	gp_sstate_init(&st);
	gp_sstate_scan_query(&st, (const uint8_t *)"SELECT 1", 8, false);
	ck_assert_uint_eq(gp_sstate_unmovable(&st), GP_UNMOV_LONG_QUERY);
	/* the scan only adds */
	gp_sstate_scan_query(&st, (const uint8_t *)"SELECT 1", 8, true);
	ck_assert_uint_eq(gp_sstate_unmovable(&st), GP_UNMOV_LONG_QUERY);
}
END_TEST

static Suite *state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("state");

	tcase_add_test(tc, test_state_tracked);
	tcase_add_test(tc, test_state_unnamed);
	tcase_add_test(tc, test_state_last_insert_id);
	tcase_add_test(tc, test_state_full);
	tcase_add_test(tc, test_state_reset);
	tcase_add_loop_test(tc, test_state_scan, 0, sizeof(scan_cases) / sizeof(scan_cases[0]));
	tcase_add_test(tc, test_state_scan_backslash);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return gp_check_run(state_suite(), CK_ENV);
}
