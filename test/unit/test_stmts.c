/* test_stmts.c - Check unit tests for a session's prepared statements across a move (stmts.c). */
#include <check.h>
#include <string.h>

#include "codec/myp_stmt.h"
#include "gp_check.h"
#include "session/stmts.h"

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A COM_STMT_PREPARE payload of sql. */
static uint32_t prepare(uint8_t *p, const char *sql)
{
	p[0] = MYP_COM_STMT_PREPARE;
	memcpy(p + 1, sql, strlen(sql));
	return (uint32_t)strlen(sql) + 1;
}

/* A PREPARE_OK payload: id, no columns, params parameters. */
static uint32_t prepare_ok(uint8_t *p, uint32_t id, uint16_t params)
{
	memset(p, 0, 12);
	put32(p + 1, id);
	p[7] = (uint8_t)params;
	return 12;
}

/* Prepare sql on the "server" as id with params parameters; the id the client sees. */
static uint32_t prepared(gp_stmts_t *st, const char *sql, uint32_t id, uint16_t params)
{
	uint8_t p[256];
	uint32_t n = prepare(p, sql);
	ck_assert_int_eq(gp_stmts_command(st, p, n, n), GP_STMTS_RELAY);
	n = prepare_ok(p, id, params);
	gp_stmts_prepared(st, p, n);
	return get32(p + 1);
}

/* An EXECUTE payload of id with one string parameter "ab", flags, types sent or not. */
static uint32_t execute(uint8_t *p, uint32_t id, uint8_t flags, bool types)
{
	uint32_t n = 0;
	p[n++] = MYP_COM_STMT_EXECUTE;
	put32(p + n, id);
	n += 4;
	p[n++] = flags;
	put32(p + n, 1);
	n += 4;
	p[n++] = 0; /* NULL bitmap */
	p[n++] = types ? 1 : 0;
	if (types) {
		p[n++] = 0xFD; /* VAR_STRING */
		p[n++] = 0;
	}
	p[n++] = 2;
	p[n++] = 'a';
	p[n++] = 'b';
	return n;
}

/* A command naming statement id (CLOSE, RESET, SEND_LONG_DATA, FETCH: the id is enough). */
static uint32_t id_cmd(uint8_t *p, uint8_t cmd, uint32_t id)
{
	p[0] = cmd;
	put32(p + 1, id);
	memset(p + 5, 0, 6);
	return 11;
}

START_TEST(test_stmts_before_move)
{
	gp_stmts_t st;
	uint8_t p[256];
	gp_stmts_init(&st);
	/* Before any move the client holds the server's ids: nothing is rewritten. */
	ck_assert_uint_eq(prepared(&st, "SELECT ?", 5, 1), 5);
	ck_assert_uint_eq(st.n, 1);
	ck_assert_str_eq(st.v[0].sql, "SELECT ?");
	uint32_t n = execute(p, 5, 0, true);
	ck_assert_int_eq(gp_stmts_command(&st, p, n, n), GP_STMTS_RELAY);
	ck_assert_uint_eq(get32(p + 1), 5);
	ck_assert_ptr_nonnull(st.v[0].types);
	ck_assert_int_eq(st.v[0].types[0], 0xFD);
	ck_assert_uint_eq(gp_stmts_unmovable(&st), 0);
	/* A refused PREPARE keeps nothing. */
	n = prepare(p, "SELEC ?");
	ck_assert_int_eq(gp_stmts_command(&st, p, n, n), GP_STMTS_RELAY);
	p[0] = 0xFF;
	gp_stmts_prepared(&st, p, 9);
	ck_assert_uint_eq(st.n, 1);
	ck_assert(!st.pending);
	gp_stmts_free(&st);
}
END_TEST

START_TEST(test_stmts_after_move)
{
	gp_stmts_t st;
	uint8_t p[256], out[256];
	gp_stmts_init(&st);
	prepared(&st, "SELECT ?", 5, 1);
	prepared(&st, "SELECT 1", 9, 0);
	uint32_t n = execute(p, 5, 0, true);
	ck_assert_int_eq(gp_stmts_command(&st, p, n, n), GP_STMTS_RELAY);

	/* Moved: the new server prepared them as 1 and 2. */
	gp_stmts_moving(&st);
	gp_stmts_reprepared(&st, 0, 1);
	gp_stmts_reprepared(&st, 1, 2);
	ck_assert(st.v[0].rebind);
	ck_assert(!st.v[1].rebind); /* no parameters: nothing to bind */

	/* The client's EXECUTE of 5 without types: rebuilt for id 1 with the types it bound. */
	n = execute(p, 5, 0, false);
	ck_assert_int_eq(gp_stmts_command(&st, p, n, n), GP_STMTS_REBUILD);
	ck_assert_uint_eq(get32(p + 1), 1);
	myp_wbuf_t w;
	myp_wbuf_init(&w, out, sizeof(out));
	ck_assert(gp_stmts_rebuild(&st, p, n, &w));
	uint8_t want[64];
	uint32_t wn = execute(want, 1, 0, true);
	ck_assert_uint_eq(w.len, MYP_HEADER_LEN + wn);
	ck_assert_int_eq(out[3], 0); /* seq 0 */
	ck_assert_mem_eq(out + MYP_HEADER_LEN, want, wn);
	ck_assert(!st.v[0].rebind);
	/* The next EXECUTE is only mapped. */
	n = execute(p, 5, 0, false);
	ck_assert_int_eq(gp_stmts_command(&st, p, n, n), GP_STMTS_RELAY);
	ck_assert_uint_eq(get32(p + 1), 1);
	n = id_cmd(p, MYP_COM_STMT_RESET, 9);
	ck_assert_int_eq(gp_stmts_command(&st, p, n, n), GP_STMTS_RELAY);
	ck_assert_uint_eq(get32(p + 1), 2);

	/* A new statement: the server says 3, the client gets 10 (above every id it holds). */
	ck_assert_uint_eq(prepared(&st, "SELECT 2", 3, 0), 10);
	n = id_cmd(p, MYP_COM_STMT_FETCH, 10);
	ck_assert_int_eq(gp_stmts_command(&st, p, n, n), GP_STMTS_RELAY);
	ck_assert_uint_eq(get32(p + 1), 3);
	/* DIRECT: the statement the client prepared last, by its id on this server. */
	n = execute(p, MYP_STMT_ID_DIRECT, 0, false);
	ck_assert_int_eq(gp_stmts_command(&st, p, n, n), GP_STMTS_RELAY);
	ck_assert_uint_eq(get32(p + 1), 3);
	/* An id the client never held: 0, which no statement has (the server refuses it), never
	 * a live id of the new server. */
	n = id_cmd(p, MYP_COM_STMT_EXECUTE, 2);
	ck_assert_int_eq(gp_stmts_command(&st, p, n, n), GP_STMTS_RELAY);
	ck_assert_uint_eq(get32(p + 1), 0);
	/* CLOSE forgets it; its id is never handed out again. */
	n = id_cmd(p, MYP_COM_STMT_CLOSE, 10);
	ck_assert_int_eq(gp_stmts_command(&st, p, n, n), GP_STMTS_RELAY);
	ck_assert_uint_eq(get32(p + 1), 3);
	ck_assert_uint_eq(st.n, 2);
	ck_assert_uint_eq(prepared(&st, "SELECT 3", 4, 0), 11);
	gp_stmts_free(&st);
}
END_TEST

START_TEST(test_stmts_unmovable)
{
	gp_stmts_t st;
	uint8_t p[256];
	gp_stmts_init(&st);
	prepared(&st, "SELECT ?", 1, 1);
	/* A cursor until RESET. */
	uint32_t n = execute(p, 1, 1, true);
	gp_stmts_command(&st, p, n, n);
	ck_assert_uint_eq(gp_stmts_unmovable(&st), GP_UNMOV_CURSOR);
	ck_assert_str_eq(gp_stmts_reason_name(GP_UNMOV_CURSOR), "cursor");
	n = id_cmd(p, MYP_COM_STMT_RESET, 1);
	gp_stmts_command(&st, p, n, n);
	ck_assert_uint_eq(gp_stmts_unmovable(&st), 0);
	/* Long data until the EXECUTE that takes it. */
	n = id_cmd(p, MYP_COM_STMT_SEND_LONG_DATA, 1);
	gp_stmts_command(&st, p, n, n);
	ck_assert_uint_eq(gp_stmts_unmovable(&st), GP_UNMOV_LONG_DATA);
	n = execute(p, 1, 0, false);
	gp_stmts_command(&st, p, n, n);
	ck_assert_uint_eq(gp_stmts_unmovable(&st), 0);
	/* A PREPARE seen only in part (longer than the peek): its statement is unknown. */
	n = prepare(p, "SELECT ? FROM a_long_table");
	gp_stmts_command(&st, p, 10, n);
	n = prepare_ok(p, 2, 1);
	gp_stmts_prepared(&st, p, n);
	ck_assert_uint_eq(gp_stmts_unmovable(&st), GP_UNMOV_STMT_UNKNOWN);
	ck_assert_str_eq(gp_stmts_reason_name(GP_UNMOV_STMT_UNKNOWN), "stmt_unknown");
	/* Counted per statement: cursors on two stay a reason until both are reset or closed,
	 * and closing the unknown one ends its reason. */
	n = execute(p, 1, 1, true);
	gp_stmts_command(&st, p, n, n);
	n = execute(p, 2, 1, true);
	gp_stmts_command(&st, p, n, n);
	ck_assert_uint_eq(gp_stmts_unmovable(&st), GP_UNMOV_STMT_UNKNOWN | GP_UNMOV_CURSOR);
	n = id_cmd(p, MYP_COM_STMT_CLOSE, 2);
	gp_stmts_command(&st, p, n, n);
	ck_assert_uint_eq(gp_stmts_unmovable(&st), GP_UNMOV_CURSOR);
	n = id_cmd(p, MYP_COM_STMT_RESET, 1);
	gp_stmts_command(&st, p, n, n);
	ck_assert_uint_eq(gp_stmts_unmovable(&st), 0);
	n = id_cmd(p, MYP_COM_STMT_SEND_LONG_DATA, 1);
	gp_stmts_command(&st, p, n, n);
	/* COM_RESET_CONNECTION: the server forgets them all, and so does the proxy. */
	p[0] = MYP_COM_RESET_CONNECTION;
	ck_assert_int_eq(gp_stmts_command(&st, p, 1, 1), GP_STMTS_RELAY);
	ck_assert_uint_eq(st.n, 0);
	ck_assert_uint_eq(gp_stmts_unmovable(&st), 0);
	gp_stmts_free(&st);
}
END_TEST

START_TEST(test_stmts_refuse)
{
	gp_stmts_t st;
	uint8_t p[256];
	gp_stmts_init(&st);
	prepared(&st, "SELECT ?", 1, 1);
	uint32_t n = execute(p, 1, 0, true);
	gp_stmts_command(&st, p, n, n);
	gp_stmts_moving(&st);
	gp_stmts_reprepared(&st, 0, 4);
	/* The first EXECUTE there, seen only in part: it cannot be rebuilt. */
	n = execute(p, 1, 0, false);
	ck_assert_int_eq(gp_stmts_command(&st, p, n - 2, 70000), GP_STMTS_REFUSE);
	/* One that sends its types itself needs nothing. */
	n = execute(p, 1, 0, true);
	ck_assert_int_eq(gp_stmts_command(&st, p, n, n), GP_STMTS_RELAY);
	ck_assert_uint_eq(get32(p + 1), 4);
	ck_assert(!st.v[0].rebind);
	gp_stmts_free(&st);
}
END_TEST

static Suite *stmts_suite(void)
{
	Suite *s = suite_create("stmts");
	TCase *tc = tcase_create("stmts");

	tcase_add_test(tc, test_stmts_before_move);
	tcase_add_test(tc, test_stmts_after_move);
	tcase_add_test(tc, test_stmts_unmovable);
	tcase_add_test(tc, test_stmts_refuse);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return gp_check_run(stmts_suite(), CK_ENV);
}
