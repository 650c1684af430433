/* test_codec_cmd.c - client commands the proxy reads or rewrites, rows of a result (included by
 * test_codec.c). */

START_TEST(test_process_kill)
{
	uint8_t b[16];
	uint32_t id = 0;
	size_t n = unhex("0c 01000040", b, sizeof(b)); /* built: COM_PROCESS_KILL 1073741825 */

	ck_assert_int_eq(myp_process_kill_parse(b, n, &id), MYP_OK);
	ck_assert_uint_eq(id, 1073741825u);
	for (size_t i = 0; i < n; i++) {
		uint8_t *cut = malloc(i ? i : 1);
		memcpy(cut, b, i);
		ck_assert_int_eq(myp_process_kill_parse(cut, i, &id), MYP_NEED_MORE);
		ck_assert_int_eq(myp_process_kill_set_id(cut, i, 7), MYP_NEED_MORE);
		free(cut);
	}
	ck_assert_int_eq(myp_process_kill_set_id(b, n, 0x01020304u), MYP_OK);
	uint8_t want[5];
	unhex("0c 04030201", want, sizeof(want));
	ck_assert_mem_eq(b, want, 5);
	/* bytes after the id are ignored, as the server does */
	n = unhex("0c 2a000000 99", b, sizeof(b));
	ck_assert_int_eq(myp_process_kill_parse(b, n, &id), MYP_OK);
	ck_assert_uint_eq(id, 42);
	n = unhex("03 2a000000", b, sizeof(b));
	ck_assert_int_eq(myp_process_kill_parse(b, n, &id), MYP_EPROTO);
	ck_assert_int_eq(myp_process_kill_set_id(b, n, 1), MYP_EPROTO);
	ck_assert_uint_eq(b[0], 0x03);
}
END_TEST

START_TEST(test_query_set_number)
{
	uint8_t b[] = "\x03KILL 1073741825";
	size_t n = sizeof(b) - 1;
	ck_assert_int_eq(myp_query_set_number(b, n, 5, 10, 0), MYP_OK);
	ck_assert_str_eq((const char *)b + 1, "KILL 0         ");
	ck_assert_int_eq(myp_query_set_number(b, n, 5, 10, 4294967295u), MYP_OK);
	ck_assert_str_eq((const char *)b + 1, "KILL 4294967295");
	ck_assert_int_eq(myp_query_set_number(b, n, 5, 3, 1234), MYP_EPROTO); /* does not fit */
	ck_assert_int_eq(myp_query_set_number(b, n, 5, 11, 1), MYP_EPROTO);   /* past the end */
	ck_assert_int_eq(myp_query_set_number(b, n, 16, 0, 1), MYP_EPROTO);
	ck_assert_int_eq(myp_query_set_number(b, 0, 0, 0, 1), MYP_EPROTO);
	ck_assert_str_eq((const char *)b + 1, "KILL 4294967295"); /* refused: untouched */
	b[0] = MYP_COM_PROCESS_KILL;
	ck_assert_int_eq(myp_query_set_number(b, n, 5, 10, 1), MYP_EPROTO);
}
END_TEST

typedef struct cu_case {
	uint64_t caps;    /* session capabilities */
	const char *hex;  /* COM_CHANGE_USER payload */
	myp_status_t st;  /* expected status */
	const char *user; /* expected user (NULL: none) */
	int charset;      /* expected collation id, -1: none */
} cu_case_t;

/* Built from MariaDB 10.11's parse_com_change_user_packet. */
static const cu_case_t cu_cases[] = {
        /* libmariadb: secure connection, 20-byte scramble, db, collation, plugin, attrs */
        {K41,
         "11 |low| 00 14 0102030405060708090a0b0c0d0e0f1011121314 |test| 00 2d00 "
         "|mysql_native_password| 00 00",
         MYP_OK, "low", 45},
        {K41, "11 |app| 00 00 00 0800", MYP_OK, "app", 8},          /* no password, no db */
        {K41, "11 |app| 00 00 00", MYP_OK, "app", -1},              /* no collation */
        {K41, "11 |app| 00 00 00 08", MYP_OK, "app", -1},           /* one byte: not read */
        {K41, "11 00 00 00 2100", MYP_OK, "", 33},                  /* empty user */
        {0, "11 |app| 00 |pw| 00 |db| 00 2100", MYP_OK, "app", 33}, /* pre-4.1 password */
        {0, "11 |app| 00 |pw| 00", MYP_NEED_MORE, "app", -1},
        {K41, "11 |app| 00 14 0102", MYP_NEED_MORE, "app", -1}, /* a prefix: user whole */
        {K41, "11 |app| 00", MYP_NEED_MORE, "app", -1},
        {K41, "11 |ap|", MYP_NEED_MORE, NULL, -1},
        {K41, "03 |app| 00", MYP_EPROTO, NULL, -1},
};

START_TEST(test_change_user)
{
	const cu_case_t *c = &cu_cases[_i];
	uint8_t b[256];
	size_t n = unhex(c->hex, b, sizeof(b));
	myp_change_user_t cu;

	ck_assert_int_eq(myp_change_user_parse(b, n, c->caps, &cu), c->st);
	if (c->user) {
		ck_assert_ptr_nonnull(cu.user);
		ck_assert_uint_eq(cu.user_len, strlen(c->user));
		ck_assert_mem_eq(cu.user, c->user, cu.user_len);
	} else {
		ck_assert_ptr_null(cu.user);
	}
	ck_assert_int_eq(cu.has_charset, c->charset >= 0);
	if (c->charset >= 0)
		ck_assert_uint_eq(cu.charset, (unsigned)c->charset);
	/* every prefix parses without reading past it */
	for (size_t i = 0; i < n; i++) {
		uint8_t *cut = malloc(i ? i : 1);
		memcpy(cut, b, i);
		myp_status_t st = myp_change_user_parse(cut, i, c->caps, &cu);
		ck_assert(st == MYP_NEED_MORE || st == MYP_OK || st == MYP_EPROTO);
		if (cu.user)
			ck_assert(cu.user + cu.user_len < cut + i);
		free(cut);
	}
}
END_TEST

/* SHOW GRANTS as a text result: which packets are rows. Built (column definition as
 * MariaDB 10.11 describes the one column "Grants for low@%"). */
#define DEF_GRANTS "03|def|00 00 00 10|Grants for low@%|00 0c 2d00 00040000 fd 0100 27 0000"
#define ROW_USAGE  "2b |GRANT USAGE ON *.* TO `low`@`%` IDENTIFIED|"
#define ROW_DB     "2e |GRANT SELECT, INSERT ON `accdb`.* TO `low`@`%`|"

typedef struct row_case {
	uint64_t caps;     /* negotiated capabilities */
	const char *pk[8]; /* server packets in order */
	const char *rows;  /* per packet: 'R' a row, '-' not */
} row_case_t;

static const row_case_t row_cases[] = {
        {K41, {"01", DEF_GRANTS, EOF2, ROW_USAGE, ROW_DB, EOF2}, "---RR-"},
        {K41 | DEOF, {"01", DEF_GRANTS, ROW_USAGE, ROW_DB, OKEOF2}, "--RR-"},
        {K41 | DEOF | CMETA, {"01 01", DEF_GRANTS, ROW_USAGE, OKEOF2}, "--R-"},
        {K41,
         {"01", DEF_GRANTS, EOF2, ROW_USAGE, "ff 4a04 |#70100Query execution was interrupted|"},
         "---R-"},
        {K41, {"ff 4d04 |#42000no|"}, "-"},
        {K41, {OK2}, "-"},
};

START_TEST(test_resp_is_row)
{
	const row_case_t *c = &row_cases[_i];
	static const char cmd[] = "\x03SHOW GRANTS";
	myp_resp_t r;
	uint8_t b[FIX_MAX];

	myp_resp_begin(&r, c->caps, (const uint8_t *)cmd, sizeof(cmd) - 1);
	for (size_t i = 0; c->pk[i]; i++) {
		size_t n = unhex(c->pk[i], b, sizeof(b));
		ck_assert_msg(myp_resp_is_row(&r, (uint32_t)n, b, n) == (c->rows[i] == 'R'),
		              "case %d packet %zu", _i, i);
		myp_resp_event_t ev = myp_resp_feed_server(&r, (uint32_t)n, b, n);
		ck_assert_int_eq(ev, c->pk[i + 1] ? MYP_RESP_CONTINUE : MYP_RESP_DONE);
	}
	ck_assert(!myp_resp_is_row(&r, 1, (const uint8_t *)"\x05", 1)); /* done: nothing is */
}
END_TEST

static TCase *cmd_tcase(void)
{
	TCase *tc = tcase_create("cmd");

	tcase_add_test(tc, test_process_kill);
	tcase_add_test(tc, test_query_set_number);
	tcase_add_loop_test(tc, test_change_user, 0, sizeof(cu_cases) / sizeof(cu_cases[0]));
	tcase_add_loop_test(tc, test_resp_is_row, 0, sizeof(row_cases) / sizeof(row_cases[0]));
	return tc;
}
