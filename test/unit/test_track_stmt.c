/* test_track_stmt.c - test_track's prepared statements and login packets (included by it). */

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
