/* test_codec_handshake.c - greeting, handshake response and auth switch tests (in test_codec.c). */

/* captured: MariaDB 10.11.19's greeting (CLIENT_MYSQL clear: extended caps 0x1d) */
#define GREETING_MARIADB                                                                           \
	"0a |5.5.5-10.11.19-MariaDB-0+deb12u1| 00 11000000 3b7b7a724c65367e 00 fef7 08 0200 ff81 " \
	"15 000000000000 1d000000 3a42217758323241306d543e 00 |mysql_native_password| 00"

static const struct greeting_case {
	const char *name;
	const char *hex;
	myp_status_t st;
	const char *version;
	uint32_t conn_id;
	uint64_t caps;
	uint8_t charset;
	uint16_t status;
	const char *scramble; /* hex */
	const char *plugin;   /* NULL: none */
	size_t caps_ext_off;
} greeting_cases[] = {
        {"mariadb", GREETING_MARIADB, MYP_OK, "5.5.5-10.11.19-MariaDB-0+deb12u1", 17,
         0x1D81FFF7FEull, 8, 2, "3b7b7a724c65367e 3a42217758323241306d543e",
         "mysql_native_password", 61},
        /* built: a MySQL 8 greeting (CLIENT_MYSQL set: the filler is not MariaDB's caps) */
        {"mysql8",
         "0a |8.0.36| 00 2a000000 0102030405060708 00 ffff ff 0200 ffdf 15 000000000000 00000000 "
         "090a0b0c0d0e0f1011121314 00 |caching_sha2_password| 00",
         MYP_OK, "8.0.36", 42, 0xDFFFFFFFull, 0xFF, 2, "0102030405060708 090a0b0c0d0e0f1011121314",
         "caching_sha2_password", 0},
        /* built: no SECURE_CONNECTION, no PLUGIN_AUTH: only the 8-byte scramble */
        {"minimal",
         "0a |5.0.0| 00 01000000 |abcdefgh| 00 0102 21 0200 0000 00 000000000000 00000000", MYP_OK,
         "5.0.0", 1, 0x0201, 0x21, 2, "6162636465666768", NULL, 0},
        /* built: 32 bytes of plugin data, the most a greeting can carry here */
        {"long_scramble",
         "0a |x| 00 05000000 |aaaaaaaa| 00 00a2 08 0200 0800 21 000000000000 00000000 "
         "|bbbbbbbbbbbbbbbbbbbbbbbb| 00 |client_ed25519| 00",
         MYP_OK, "x", 5, 0x0008A200ull, 8, 2,
         "6161616161616161 626262626262626262626262626262626262626262626262", "client_ed25519", 30},
        /* built: 33 bytes of plugin data do not fit myp_greeting_t */
        {.name = "too_long_scramble",
         .hex = "0a |x| 00 05000000 |aaaaaaaa| 00 00a2 08 0200 0800 22 000000000000 00000000 "
                "|bbbbbbbbbbbbbbbbbbbbbbbbb| 00 |client_ed25519| 00",
         .st = MYP_EPROTO},
        /* built: an ERR instead of a greeting (max_connections) */
        {.name = "err_instead", .hex = "ff 1004 |Too many connections|", .st = MYP_EPROTO},
        {.name = "protocol9", .hex = "09 |x| 00 01000000", .st = MYP_EPROTO},
        /* built: a server without PROTOCOL_41 */
        {.name = "pre41",
         .hex = "0a |4.0| 00 01000000 |abcdefgh| 00 0100 21 0200 0000 00 000000000000 00000000",
         .st = MYP_EPROTO},
};

START_TEST(test_greeting_parse)
{
	const struct greeting_case *c = &greeting_cases[_i];
	uint8_t b[FIX_MAX], sc[64];
	size_t n = unhex(c->hex, b, sizeof(b));
	uint8_t *d = dup_exact(b, n);
	myp_greeting_t g;

	ck_assert_int_eq(myp_greeting_parse(d, n, &g), c->st);
	if (c->st == MYP_OK) {
		size_t sn = unhex(c->scramble, sc, sizeof(sc));

		ck_assert_uint_eq(g.protocol, 10);
		ck_assert(slice_eq(g.version, g.version_len, c->version));
		ck_assert_uint_eq(g.conn_id, c->conn_id);
		ck_assert_uint_eq(g.caps, c->caps);
		ck_assert_uint_eq(g.charset, c->charset);
		ck_assert_uint_eq(g.status, c->status);
		ck_assert(slices_eq(g.scramble, g.scramble_len, sc, sn));
		ck_assert(slice_eq(g.auth_plugin, g.auth_plugin_len, c->plugin));
		ck_assert_uint_eq(g.caps_ext_off, c->caps_ext_off);
		ck_assert_uint_eq(g.conn_id_off, 1 + strlen(c->version) + 1);
		ck_assert_uint_eq(g.caps_lo_off, g.conn_id_off + 4 + 8 + 1);
		ck_assert_uint_eq(g.caps_hi_off, g.caps_lo_off + 5);
		/* a greeting is only whole with its last field: every prefix is NEED_MORE */
		for (size_t k = 0; k < n; k++) {
			uint8_t *t = dup_exact(b, k);
			ck_assert_msg(myp_greeting_parse(t, k, &g) == MYP_NEED_MORE, "prefix %zu",
			              k);
			free(t);
		}
	}
	free(d);
}
END_TEST

START_TEST(test_greeting_build)
{
	const struct greeting_case *c = &greeting_cases[_i];
	uint8_t b[FIX_MAX], out[FIX_MAX];
	size_t n = unhex(c->hex, b, sizeof(b));
	myp_greeting_t g, back;
	myp_wbuf_t w;
	myp_frame_t f;

	if (c->st != MYP_OK)
		return;
	ck_assert_int_eq(myp_greeting_parse(b, n, &g), MYP_OK);
	myp_wbuf_init(&w, out, sizeof(out));
	myp_greeting_build(&w, 0, &g);
	ck_assert(!w.failed);
	ck_assert_int_eq(myp_frame_packet(out, w.len, &f), MYP_OK);
	ck_assert_uint_eq(f.seq, 0);
	/* all fixtures are canonical: the build is byte-identical */
	ck_assert_uint_eq(f.len, n);
	ck_assert_int_eq(memcmp(f.payload, b, n), 0);
	ck_assert_int_eq(myp_greeting_parse(f.payload, f.len, &back), MYP_OK);
	ck_assert_uint_eq(back.caps, g.caps);
	ck_assert(slices_eq(back.scramble, back.scramble_len, g.scramble, g.scramble_len));
	for (size_t cap = 0; cap < w.len; cap++) {
		myp_wbuf_t s;
		myp_wbuf_init(&s, out, cap);
		myp_greeting_build(&s, 0, &g);
		ck_assert(s.failed);
		ck_assert_uint_le(s.len, cap);
	}
}
END_TEST

START_TEST(test_greeting_patch)
{
	uint8_t b[FIX_MAX], orig[FIX_MAX];
	size_t n = unhex(GREETING_MARIADB, b, sizeof(b));
	uint64_t clear = MYP_CLIENT_SSL | MYP_CLIENT_COMPRESS | MYP_CLIENT_DEPRECATE_EOF |
	                 MYP_MARIADB_CLIENT_CACHE_METADATA | MYP_MARIADB_CLIENT_PROGRESS;
	myp_greeting_t g, back;

	memcpy(orig, b, n);
	ck_assert_int_eq(myp_greeting_parse(b, n, &g), MYP_OK);
	myp_greeting_patch(b, n, &g, 0xDEADBEEF, clear);
	ck_assert_int_eq(myp_greeting_parse(b, n, &back), MYP_OK);
	ck_assert_uint_eq(back.conn_id, 0xDEADBEEF);
	ck_assert_uint_eq(back.caps, g.caps & ~clear);
	ck_assert_uint_ne(back.caps, g.caps);
	ck_assert(slices_eq(back.scramble, back.scramble_len, g.scramble, g.scramble_len));
	ck_assert(slices_eq(back.version, back.version_len, g.version, g.version_len));
	/* only the id and the capability bytes changed */
	for (size_t i = 0; i < n; i++) {
		bool patched = (i >= g.conn_id_off && i < g.conn_id_off + 4) ||
		               (i >= g.caps_lo_off && i < g.caps_lo_off + 2) ||
		               (i >= g.caps_hi_off && i < g.caps_hi_off + 2) ||
		               (i >= g.caps_ext_off && i < g.caps_ext_off + 4);
		if (!patched)
			ck_assert_uint_eq(b[i], orig[i]);
	}
	/* a payload shorter than the offsets is left alone, not overrun */
	uint8_t *t = dup_exact(orig, 40);
	myp_greeting_patch(t, 40, &g, 1, ~0ull);
	ck_assert_int_eq(memcmp(t, orig, 34), 0);
	free(t);
}
END_TEST

/* captured: libmariadb 3.3.20's (mariadb CLI) handshake response to the greeting above */
#define HSRESP_LIBMARIADB                                                                       \
	"8ca2bf00 00000010 21 00000000000000000000000000000000000000 1d000000 |u| 00 "          \
	"14 595d9293ecfeca20f072c713e122e438b5dbcc7b |t| 00 |mysql_native_password| 00 "        \
	"7f 03|_os|05|Linux|0c|_client_name|0a|libmariadb|04|_pid|05|10875|0f|_client_version|" \
	"06|3.3.20|09|_platform|06|x86_64|0c|program_name|05|mysql|0c|_server_host|09|127.0.0.1|"

static const struct hsresp_case {
	const char *name;
	const char *hex;
	myp_status_t st;
	uint64_t caps;
	uint32_t max_packet;
	uint8_t charset;
	bool ssl;
	const char *user, *auth_hex, *db, *plugin; /* NULL: absent */
	size_t attrs_len;
	bool canonical; /* build gives the same bytes */
} hsresp_cases[] = {
        {"libmariadb", HSRESP_LIBMARIADB, MYP_OK, 0x1D00BFA28Cull, 0x10000000, 33, false, "u",
         "595d9293ecfeca20f072c713e122e438b5dbcc7b", "t", "mysql_native_password", 127, true},
        /* built: the SSLRequest a libmariadb client sends before TLS */
        {"ssl_request", "8caabf00 00000001 21 00000000000000000000000000000000000000 1d000000",
         MYP_OK, 0x1D00BFAA8Cull, 0x01000000, 33, true, NULL, NULL, NULL, NULL, 0, true},
        /* built: a MySQL-style client (CLIENT_MYSQL set): 1-byte auth length, filler ignored */
        {"mysql_client",
         "09a20800 00000001 2d 00000000000000000000000000000000000000 deadbeef |app| 00 "
         "14 0102030405060708090a0b0c0d0e0f1011121314 |shop| 00 |mysql_native_password| 00",
         MYP_OK, 0x8A209, 0x01000000, 0x2D, false, "app",
         "0102030405060708090a0b0c0d0e0f1011121314", "shop", "mysql_native_password", 0, false},
        /* built: neither LENENC nor SECURE_CONNECTION: NUL-terminated auth data */
        {"nul_auth",
         "01020000 00000001 08 0000000000000000000000000000000000000000000000 |bob| 00 "
         "|secret| 00",
         MYP_OK, 0x201, 0x01000000, 8, false, "bob", "736563726574", NULL, NULL, 0, true},
        /* built: the payload ends after the auth data although db/plugin/attrs are flagged */
        {"ends_early",
         "8ca2bf00 00000010 21 00000000000000000000000000000000000000 1d000000 |u| 00 00", MYP_OK,
         0x1D00BFA28Cull, 0x10000000, 33, false, "u", "", NULL, NULL, 0, false},
        /* built: HandshakeResponse320 */
        {.name = "pre41", .hex = "8500 0000 01 |u| 00", .st = MYP_EPROTO},
};

START_TEST(test_hsresp_parse)
{
	const struct hsresp_case *c = &hsresp_cases[_i];
	uint8_t b[FIX_MAX], ab[64];
	size_t n = unhex(c->hex, b, sizeof(b));
	uint8_t *d = dup_exact(b, n);
	myp_hsresp_t r;

	ck_assert_int_eq(myp_hsresp_parse(d, n, &r), c->st);
	if (c->st == MYP_OK) {
		ck_assert_uint_eq(r.caps, c->caps);
		ck_assert_uint_eq(r.max_packet, c->max_packet);
		ck_assert_uint_eq(r.charset, c->charset);
		ck_assert(r.ssl_request == c->ssl);
		ck_assert(slice_eq(r.user, r.user_len, c->user));
		if (c->auth_hex) {
			size_t an = unhex(c->auth_hex, ab, sizeof(ab));
			ck_assert(slices_eq(r.auth, r.auth_len, ab, an));
		}
		ck_assert(slice_eq(r.db, r.db_len, c->db));
		ck_assert(c->db || !r.db);
		ck_assert(slice_eq(r.auth_plugin, r.auth_plugin_len, c->plugin));
		ck_assert(c->plugin || !r.auth_plugin);
		ck_assert_uint_eq(r.attrs_len, c->attrs_len);
		if (c->attrs_len)
			ck_assert(slice_eq(r.attrs, 4, "\x03_os"));
		for (size_t k = 0; k < n; k++) {
			uint8_t *t = dup_exact(b, k);
			myp_status_t st = myp_hsresp_parse(t, k, &r);

			/* before and inside the user name nothing is complete; at field
			 * boundaries further on, a shorter response is a valid one */
			if (k < 33 + (c->user ? strlen(c->user) : 0) && !(k == 32 && c->ssl))
				ck_assert_msg(st == MYP_NEED_MORE, "%s: prefix %zu", c->name, k);
			else
				ck_assert_msg(st == MYP_NEED_MORE || st == MYP_OK, "%s: %zu",
				              c->name, k);
			free(t);
		}
	}
	free(d);
}
END_TEST

START_TEST(test_hsresp_build)
{
	const struct hsresp_case *c = &hsresp_cases[_i];
	uint8_t b[FIX_MAX], out[FIX_MAX];
	size_t n = unhex(c->hex, b, sizeof(b));
	myp_hsresp_t r, back;
	myp_wbuf_t w;
	myp_frame_t f;

	if (c->st != MYP_OK)
		return;
	ck_assert_int_eq(myp_hsresp_parse(b, n, &r), MYP_OK);
	myp_wbuf_init(&w, out, sizeof(out));
	myp_hsresp_build(&w, 1, &r);
	ck_assert(!w.failed);
	ck_assert_int_eq(myp_frame_packet(out, w.len, &f), MYP_OK);
	ck_assert_uint_eq(f.seq, 1);
	if (c->canonical) {
		ck_assert_uint_eq(f.len, n);
		ck_assert_int_eq(memcmp(f.payload, b, n), 0);
	}
	ck_assert_int_eq(myp_hsresp_parse(f.payload, f.len, &back), MYP_OK);
	ck_assert_uint_eq(back.caps, r.caps);
	ck_assert(back.ssl_request == r.ssl_request);
	ck_assert(slices_eq(back.user, back.user_len, r.user, r.user_len));
	ck_assert(slices_eq(back.auth, back.auth_len, r.auth, r.auth_len));
	ck_assert(slices_eq(back.db, back.db_len, r.db, r.db_len));
	ck_assert(slices_eq(back.auth_plugin, back.auth_plugin_len, r.auth_plugin,
	                    r.auth_plugin_len));
	ck_assert(slices_eq(back.attrs, back.attrs_len, r.attrs, r.attrs_len));
	for (size_t cap = 0; cap < w.len; cap++) {
		myp_wbuf_t s;
		myp_wbuf_init(&s, out, cap);
		myp_hsresp_build(&s, 1, &r);
		ck_assert(s.failed);
		ck_assert_uint_le(s.len, cap);
	}
}
END_TEST

START_TEST(test_hsresp_build_long_auth)
{
	uint8_t out[1024], auth[300];
	myp_hsresp_t r = {.caps = MYP_CLIENT_PROTOCOL_41 | MYP_CLIENT_SECURE_CONNECTION,
	                  .user = (const uint8_t *)"u",
	                  .user_len = 1,
	                  .auth = auth,
	                  .auth_len = sizeof(auth)},
	             back;
	myp_wbuf_t w;
	myp_frame_t f;

	memset(auth, 'a', sizeof(auth));
	/* 300 bytes do not fit SECURE_CONNECTION's 1-byte length */
	myp_wbuf_init(&w, out, sizeof(out));
	myp_hsresp_build(&w, 1, &r);
	ck_assert(w.failed);
	/* they do with PLUGIN_AUTH_LENENC_CLIENT_DATA */
	r.caps |= MYP_CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA;
	myp_wbuf_init(&w, out, sizeof(out));
	myp_hsresp_build(&w, 1, &r);
	ck_assert(!w.failed);
	ck_assert_int_eq(myp_frame_packet(out, w.len, &f), MYP_OK);
	ck_assert_int_eq(myp_hsresp_parse(f.payload, f.len, &back), MYP_OK);
	ck_assert_uint_eq(back.auth_len, sizeof(auth));
}
END_TEST

START_TEST(test_hsresp_clear_caps)
{
	uint8_t b[FIX_MAX];
	size_t n = unhex(HSRESP_LIBMARIADB, b, sizeof(b));
	uint64_t clear = MYP_CLIENT_SSL | MYP_CLIENT_COMPRESS | MYP_CLIENT_MULTI_STATEMENTS |
	                 MYP_MARIADB_CLIENT_CACHE_METADATA | MYP_MARIADB_CLIENT_PROGRESS;
	myp_hsresp_t r, back;

	ck_assert_int_eq(myp_hsresp_parse(b, n, &r), MYP_OK);
	myp_hsresp_clear_caps(b, n, clear);
	ck_assert_int_eq(myp_hsresp_parse(b, n, &back), MYP_OK);
	ck_assert_uint_eq(back.caps, r.caps & ~clear);
	ck_assert(back.caps & MYP_MARIADB_CLIENT_STMT_BULK_OPERATIONS); /* kept */
	ck_assert(slices_eq(back.user, back.user_len, r.user, r.user_len));
	ck_assert(slices_eq(back.auth, back.auth_len, r.auth, r.auth_len));
	ck_assert(slices_eq(back.attrs, back.attrs_len, r.attrs, r.attrs_len));

	/* CLIENT_MYSQL set: bytes 28..31 are filler, not extended caps: untouched */
	n = unhex(hsresp_cases[2].hex, b, sizeof(b));
	myp_hsresp_clear_caps(b, n, MYP_CLIENT_CONNECT_WITH_DB | ~0xFFFFFFFFull);
	ck_assert_int_eq(memcmp(b + 28, "\xde\xad\xbe\xef", 4), 0);
	ck_assert_int_eq(myp_hsresp_parse(b, n, &back), MYP_OK);
	ck_assert(!(back.caps & MYP_CLIENT_CONNECT_WITH_DB));

	/* short payloads: only what is there */
	n = unhex(HSRESP_LIBMARIADB, b, sizeof(b));
	for (size_t k = 0; k < 32; k++) {
		uint8_t *t = dup_exact(b, k);
		myp_hsresp_clear_caps(t, k, ~0ull);
		if (k >= 4)
			ck_assert_int_eq(memcmp(t, "\0\0\0\0", 4), 0);
		free(t);
	}
}
END_TEST

/* captured: COM_CHANGE_USER's switch to mysql_native_password */
#define AUTHSWITCH_NATIVE "fe |mysql_native_password| 00 |,%q/3Pz8D,P.6blx7F=;| 00"

START_TEST(test_authswitch)
{
	uint8_t b[128], out[128];
	size_t n = unhex(AUTHSWITCH_NATIVE, b, sizeof(b));
	myp_authswitch_t a;
	myp_wbuf_t w;
	myp_frame_t f;

	ck_assert_int_eq(myp_authswitch_parse(b, n, &a), MYP_OK);
	ck_assert(slice_eq(a.plugin, a.plugin_len, "mysql_native_password"));
	ck_assert_uint_eq(a.data_len, 21);
	ck_assert_uint_eq(a.data[20], 0);
	for (size_t k = 0; k < n; k++) {
		uint8_t *t = dup_exact(b, k);
		myp_status_t st = myp_authswitch_parse(t, k, &a);

		/* the data runs to the end of the payload: after the name, shorter is valid */
		ck_assert_int_eq(st, k < 23 ? MYP_NEED_MORE : MYP_OK);
		free(t);
	}
	ck_assert_int_eq(myp_authswitch_parse(b, n, &a), MYP_OK);
	myp_wbuf_init(&w, out, sizeof(out));
	myp_authswitch_build(&w, 2, "mysql_native_password", a.data, a.data_len);
	ck_assert(!w.failed);
	ck_assert_int_eq(myp_frame_packet(out, w.len, &f), MYP_OK);
	ck_assert_uint_eq(f.len, n);
	ck_assert_int_eq(memcmp(f.payload, b, n), 0);
	for (size_t cap = 0; cap < w.len; cap++) {
		myp_wbuf_init(&w, out, cap);
		myp_authswitch_build(&w, 2, "mysql_native_password", a.data, a.data_len);
		ck_assert(w.failed);
	}
	n = unhex("01 03", b, sizeof(b)); /* AuthMoreData is not a switch */
	ck_assert_int_eq(myp_authswitch_parse(b, n, &a), MYP_EPROTO);
	n = unhex("fe |caching_sha2_password| 00", b, sizeof(b));
	ck_assert_int_eq(myp_authswitch_parse(b, n, &a), MYP_OK);
	ck_assert_uint_eq(a.data_len, 0);
}
END_TEST

/* A deferred greeting: the server's version, charset, status and caps (less the cleared
 * ones, plugin auth forced on), another id and nonce, and mysql_native_password. */
START_TEST(test_greeting_reissue)
{
	uint8_t b[FIX_MAX], out[FIX_MAX];
	size_t n = unhex(GREETING_MARIADB, b, sizeof(b));
	const uint8_t nonce[20] = "ABCDEFGHIJKLMNOPQRST";
	uint64_t clear = MYP_CLIENT_SSL | MYP_CLIENT_COMPRESS | MYP_MARIADB_CLIENT_PROGRESS;
	myp_greeting_t g, back;
	myp_wbuf_t w;
	myp_frame_t f;

	ck_assert_int_eq(myp_greeting_parse(b, n, &g), MYP_OK);
	myp_wbuf_init(&w, out, sizeof(out));
	myp_greeting_reissue(&w, &g, 0x40000007u, nonce, sizeof(nonce), "mysql_native_password",
	                     clear);
	ck_assert(!w.failed);
	ck_assert_int_eq(myp_frame_packet(out, w.len, &f), MYP_OK);
	ck_assert_uint_eq(f.seq, 0);
	ck_assert_int_eq(myp_greeting_parse(f.payload, f.len, &back), MYP_OK);
	ck_assert(slices_eq(back.version, back.version_len, g.version, g.version_len));
	ck_assert_uint_eq(back.conn_id, 0x40000007u);
	ck_assert_uint_eq(back.caps, g.caps & ~clear);
	ck_assert_uint_eq(back.charset, g.charset);
	ck_assert_uint_eq(back.status, g.status);
	ck_assert(slices_eq(back.scramble, back.scramble_len, nonce, sizeof(nonce)));
	ck_assert(slice_eq(back.auth_plugin, back.auth_plugin_len, "mysql_native_password"));
	/* a template without plugin auth still yields a greeting a modern client can follow */
	n = unhex(greeting_cases[2].hex, b, sizeof(b));
	ck_assert_int_eq(myp_greeting_parse(b, n, &g), MYP_OK);
	myp_wbuf_init(&w, out, sizeof(out));
	myp_greeting_reissue(&w, &g, 9, nonce, sizeof(nonce), "mysql_native_password", 0);
	ck_assert(!w.failed);
	ck_assert_int_eq(myp_frame_packet(out, w.len, &f), MYP_OK);
	ck_assert_int_eq(myp_greeting_parse(f.payload, f.len, &back), MYP_OK);
	ck_assert(back.caps & MYP_CLIENT_PLUGIN_AUTH);
	ck_assert(back.caps & MYP_CLIENT_SECURE_CONNECTION);
	ck_assert(slices_eq(back.scramble, back.scramble_len, nonce, sizeof(nonce)));
	/* too small a buffer fails, never overruns */
	for (size_t cap = 0; cap < w.len; cap++) {
		myp_wbuf_t s;
		myp_wbuf_init(&s, out, cap);
		myp_greeting_reissue(&s, &g, 9, nonce, sizeof(nonce), "mysql_native_password", 0);
		ck_assert(s.failed);
		ck_assert_uint_le(s.len, cap);
	}
}
END_TEST

/* The response a backend gets for a deferred client: everything kept but the auth data
 * (empty) and the plugin name, which no server has. */
START_TEST(test_hsresp_defer_build)
{
	const struct hsresp_case *c = &hsresp_cases[_i];
	uint8_t b[FIX_MAX], out[FIX_MAX];
	size_t n = unhex(c->hex, b, sizeof(b));
	myp_hsresp_t r, back;
	myp_wbuf_t w;
	myp_frame_t f;

	if (c->st != MYP_OK || c->ssl)
		return;
	ck_assert_int_eq(myp_hsresp_parse(b, n, &r), MYP_OK);
	myp_wbuf_init(&w, out, sizeof(out));
	myp_hsresp_defer_build(&w, 1, &r, "galera_proxy_deferred", MYP_CLIENT_SSL);
	ck_assert(!w.failed);
	ck_assert_int_eq(myp_frame_packet(out, w.len, &f), MYP_OK);
	ck_assert_uint_eq(f.seq, 1);
	ck_assert_int_eq(myp_hsresp_parse(f.payload, f.len, &back), MYP_OK);
	ck_assert_uint_eq(back.caps, (r.caps & ~MYP_CLIENT_SSL) | MYP_CLIENT_PLUGIN_AUTH);
	ck_assert_uint_eq(back.max_packet, r.max_packet);
	ck_assert_uint_eq(back.charset, r.charset);
	ck_assert(slices_eq(back.user, back.user_len, r.user, r.user_len));
	ck_assert_uint_eq(back.auth_len, 0);
	if (r.db)
		ck_assert(slices_eq(back.db, back.db_len, r.db, r.db_len));
	ck_assert(slice_eq(back.auth_plugin, back.auth_plugin_len, "galera_proxy_deferred"));
	ck_assert_uint_eq(back.attrs_len, r.attrs_len);
	if (r.attrs_len)
		ck_assert_int_eq(memcmp(back.attrs, r.attrs, r.attrs_len), 0);
}
END_TEST

/* The proxy's own native-password login, as a server parses it; and a bare auth answer. */
START_TEST(test_native_login_build)
{
	static const uint8_t auth[MYP_NATIVE_AUTH_LEN] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
	                                                  11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
	myp_greeting_t g = {.caps = MYP_CLIENT_PROTOCOL_41 | MYP_CLIENT_SECURE_CONNECTION |
	                            MYP_CLIENT_PLUGIN_AUTH | MYP_CLIENT_SSL | MYP_CLIENT_COMPRESS |
	                            MYP_CLIENT_CONNECT_ATTRS | MYP_CLIENT_TRANSACTIONS,
	                    .charset = 45};
	uint8_t out[256];
	myp_wbuf_t w;
	myp_frame_t f;
	myp_hsresp_t r;

	myp_wbuf_init(&w, out, sizeof(out));
	myp_native_login_build(&w, 1, &g, "monitor", 7, auth, sizeof(auth));
	ck_assert(!w.failed);
	ck_assert_int_eq(myp_frame_packet(out, w.len, &f), MYP_OK);
	ck_assert_uint_eq(f.seq, 1);
	ck_assert_int_eq(myp_hsresp_parse(f.payload, f.len, &r), MYP_OK);
	/* only what a plain login needs: never TLS, compression or attributes */
	ck_assert_uint_eq(r.caps, MYP_CLIENT_PROTOCOL_41 | MYP_CLIENT_SECURE_CONNECTION |
	                                  MYP_CLIENT_PLUGIN_AUTH | MYP_CLIENT_TRANSACTIONS);
	ck_assert_uint_eq(r.charset, 45);
	ck_assert_uint_eq(r.max_packet, 1u << 24);
	ck_assert(slice_eq(r.user, r.user_len, "monitor"));
	ck_assert(slices_eq(r.auth, r.auth_len, auth, sizeof(auth)));
	ck_assert(slice_eq(r.auth_plugin, r.auth_plugin_len, MYP_NATIVE_PLUGIN));
	/* an empty password: no auth bytes */
	myp_wbuf_init(&w, out, sizeof(out));
	myp_native_login_build(&w, 1, &g, "monitor", 7, NULL, 0);
	ck_assert_int_eq(myp_frame_packet(out, w.len, &f), MYP_OK);
	ck_assert_int_eq(myp_hsresp_parse(f.payload, f.len, &r), MYP_OK);
	ck_assert_uint_eq(r.auth_len, 0);

	myp_wbuf_init(&w, out, sizeof(out));
	myp_auth_data_build(&w, 3, auth, sizeof(auth));
	ck_assert(!w.failed);
	ck_assert_uint_eq(w.len, MYP_HEADER_LEN + sizeof(auth));
	ck_assert_int_eq(myp_frame_packet(out, w.len, &f), MYP_OK);
	ck_assert_uint_eq(f.seq, 3);
	ck_assert(slices_eq(f.payload, f.len, auth, sizeof(auth)));
	myp_wbuf_init(&w, out, MYP_HEADER_LEN + 4);
	myp_auth_data_build(&w, 3, auth, sizeof(auth));
	ck_assert(w.failed); /* does not fit: flagged, never cut */
}
END_TEST

static TCase *handshake_tcase(void)
{
	TCase *tc = tcase_create("handshake");
	int ng = sizeof(greeting_cases) / sizeof(greeting_cases[0]);
	int nh = sizeof(hsresp_cases) / sizeof(hsresp_cases[0]);

	tcase_add_loop_test(tc, test_greeting_parse, 0, ng);
	tcase_add_loop_test(tc, test_greeting_build, 0, ng);
	tcase_add_test(tc, test_greeting_patch);
	tcase_add_loop_test(tc, test_hsresp_parse, 0, nh);
	tcase_add_loop_test(tc, test_hsresp_build, 0, nh);
	tcase_add_test(tc, test_hsresp_build_long_auth);
	tcase_add_test(tc, test_hsresp_clear_caps);
	tcase_add_test(tc, test_authswitch);
	tcase_add_test(tc, test_greeting_reissue);
	tcase_add_loop_test(tc, test_hsresp_defer_build, 0, nh);
	tcase_add_test(tc, test_native_login_build);
	return tc;
}
