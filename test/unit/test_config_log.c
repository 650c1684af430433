/* test_config_log.c - addresses, log lines, statuses (included by test_config.c). */

/* ---- addresses --------------------------------------------------------- */

static const struct addr_case {
	const char *addr; /* input */
	const char *host; /* NULL: must be rejected */
	unsigned port;    /* expected port */
} addr_cases[] = {
        {"127.0.0.1:3306", "127.0.0.1", 3306},
        {"[::1]:3306", "::1", 3306},
        {"[fe80::1:2]:1", "fe80::1:2", 1},
        {"localhost:65535", "localhost", 65535},
        {"a-b.c_d.example:80", "a-b.c_d.example", 80},
        {"0.0.0.0:6033", "0.0.0.0", 6033},
        {"127.0.0.1", NULL, 0},
        {"127.0.0.1:0", NULL, 0},
        {"127.0.0.1:65536", NULL, 0},
        {"127.0.0.1:70000", NULL, 0},
        {"127.0.0.1:123456", NULL, 0},
        {"127.0.0.1:-1", NULL, 0},
        {"127.0.0.1: 80", NULL, 0},
        {"127.0.0.1:80 ", NULL, 0},
        {":3306", NULL, 0},
        {"", NULL, 0},
        {"::1:3306", NULL, 0},
        {"[::1]", NULL, 0},
        {"[::1]:", NULL, 0},
        {"[::1:3306", NULL, 0},
        {"[]:3306", NULL, 0},
        {"[10.0.0.1]:3306", NULL, 0},
        {"256.0.0.1:3306", NULL, 0},
        {"a..b:3306", NULL, 0},
        {"host-:3306", NULL, 0},
        {"ho/st:3306", NULL, 0},
};

START_TEST(test_split_addr)
{
	for (size_t i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++) {
		const struct addr_case *ac = &addr_cases[i];
		char host[GP_ADDR_MAX] = "";
		uint16_t port = 0;
		gp_status_t st = gp_config_split_addr(ac->addr, host, sizeof(host), &port);
		if (ac->host == NULL) {
			ck_assert_msg(st == GP_EINVAL, "'%s' accepted", ac->addr);
			continue;
		}
		ck_assert_msg(st == GP_OK, "'%s' rejected", ac->addr);
		ck_assert_str_eq(host, ac->host);
		ck_assert_uint_eq(port, ac->port);
	}
	char small[4];
	uint16_t port;
	ck_assert_int_eq(gp_config_split_addr("abcd:1", small, sizeof(small), &port), GP_EINVAL);
	ck_assert_int_eq(gp_config_split_addr("abc:1", small, sizeof(small), &port), GP_OK);
	ck_assert_int_eq(gp_config_split_addr(NULL, small, sizeof(small), &port), GP_EINVAL);
}
END_TEST

/* ---- logging ----------------------------------------------------------- */

static const struct quote_case {
	const char *in;   /* input bytes */
	unsigned len;     /* their count */
	unsigned cap;     /* output buffer size */
	const char *want; /* result */
} quote_cases[] = {
        {"abc", 3, 64, "abc"},
        {"", 0, 64, "\"\""},
        {NULL, 0, 64, "\"\""},
        {"a b", 3, 64, "\"a b\""},
        {"k=v", 3, 64, "\"k=v\""},
        {"say \"hi\"", 8, 64, "\"say \\\"hi\\\"\""},
        {"a\"b", 3, 64, "\"a\\\"b\""},
        {"C:\\dir", 6, 64, "C:\\dir"}, /* a backslash alone needs no quotes */
        {"a\\b c", 5, 64, "\"a\\\\b c\""},
        {"x\ny", 3, 64, "\"x\\ny\""},
        {"\t", 1, 64, "\"\\t\""},
        {"\r\x01\x1f\x7f", 4, 64, "\"\\x0d\\x01\\x1f\\x7f\""},
        {"a\0b", 3, 64, "\"a\\x00b\""},
        {"h\xc3\xa9llo", 6, 64, "h\xc3\xa9llo"}, /* UTF-8 passes through */
        {"abc", 2, 64, "ab"},                    /* len, not strlen */
        {"abcdefgh", 8, 5, "abcd"},
        {"a b c d", 7, 6, "\"a b\""},
        {"\"\"\"", 3, 5, "\"\\\"\""}, /* an escape is never split */
        {"\x01", 1, 6, "\"\""},       /* nor a \xNN one */
        {"a b", 3, 2, ""},
        {"abc", 3, 1, ""},
};

START_TEST(test_log_quote)
{
	for (size_t i = 0; i < sizeof(quote_cases) / sizeof(quote_cases[0]); i++) {
		const struct quote_case *qc = &quote_cases[i];
		char buf[64];
		memset(buf, 'Z', sizeof(buf));
		const char *got = gp_log_quote(buf, qc->cap, qc->in, qc->len);
		ck_assert_ptr_eq(got, buf);
		ck_assert_msg(strcmp(got, qc->want) == 0, "case %zu: got [%s] want [%s]", i, got,
		              qc->want);
		if (qc->cap < sizeof(buf))
			ck_assert_int_eq(buf[qc->cap], 'Z'); /* nothing written past cap */
	}
	ck_assert_str_eq(gp_log_quote(NULL, 0, "x", 1), "");
}
END_TEST

/* Run fn with stderr redirected to a temp file; return what it wrote. */
static char *capture_stderr(void (*fn)(void))
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	char *out;
	long n;

	ck_assert_ptr_nonnull(tmp);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_ge(dup2(fileno(tmp), STDERR_FILENO), 0);
	fn();
	ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
	close(saved);
	n = lseek(fileno(tmp), 0, SEEK_END); /* write(2) went straight to the shared fd */
	ck_assert_int_ge(n, 0);
	out = calloc(1, (size_t)n + 1);
	ck_assert_int_eq(pread(fileno(tmp), out, (size_t)n, 0), n);
	fclose(tmp);
	return out;
}

static void log_some_lines(void)
{
	gp_log(GP_LOG_DEBUG, "hidden", "x=1"); /* below the default level */
	gp_log(GP_LOG_INFO, "client_accept", "conn=%u client=%s", 7u, "127.0.0.1:5000");
	gp_log(GP_LOG_ERROR, "bare", "%s", "");
}

static void log_huge_line(void)
{
	char big[5000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	gp_log(GP_LOG_WARN, "huge", "v=%s", big);
}

START_TEST(test_log_lines)
{
	regex_t re;
	ck_assert_int_eq(gp_log_min_level, GP_LOG_INFO);
	ck_assert_int_eq(
	        regcomp(&re,
	                "^ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
	                "level=info event=client_accept conn=7 client=127\\.0\\.0\\.1:5000\n"
	                "ts=[^ ]+ level=error event=bare\n$",
	                REG_EXTENDED),
	        0);
	char *out = capture_stderr(log_some_lines);
	ck_assert_msg(regexec(&re, out, 0, NULL, 0) == 0, "got: %s", out);
	regfree(&re);
	free(out);

	out = capture_stderr(log_huge_line);
	size_t len = strlen(out);
	ck_assert_uint_le(len, 2048);
	ck_assert_ptr_nonnull(strstr(out, "level=warn event=huge v=aaaa"));
	ck_assert_str_eq(out + len - 20, " log_truncated=true\n");
	free(out);

	gp_log_min_level = GP_LOG_ERROR;
	out = capture_stderr(log_some_lines);
	ck_assert_ptr_null(strstr(out, "client_accept"));
	ck_assert_ptr_nonnull(strstr(out, "event=bare"));
	free(out);
	gp_log_min_level = GP_LOG_INFO;
}
END_TEST

START_TEST(test_log_levels)
{
	ck_assert_int_eq(gp_log_level_parse("debug"), GP_LOG_DEBUG);
	ck_assert_int_eq(gp_log_level_parse("info"), GP_LOG_INFO);
	ck_assert_int_eq(gp_log_level_parse("warn"), GP_LOG_WARN);
	ck_assert_int_eq(gp_log_level_parse("error"), GP_LOG_ERROR);
	ck_assert_int_eq(gp_log_level_parse("warning"), -1);
	ck_assert_int_eq(gp_log_level_parse(""), -1);
	ck_assert_int_eq(gp_log_level_parse(NULL), -1);
	for (int l = GP_LOG_DEBUG; l <= GP_LOG_ERROR; l++)
		ck_assert_int_eq(gp_log_level_parse(gp_log_level_name((gp_log_level_t)l)), l);
	ck_assert_str_eq(gp_log_level_name((gp_log_level_t)9), "unknown");
}
END_TEST

/* ---- statuses ---------------------------------------------------------- */

START_TEST(test_strerror)
{
	static const char *const want[GP_STATUS__COUNT] = {
#define WANT_TEXT(name, text) [name] = text,
	        GP_STATUS_TABLE(WANT_TEXT)
#undef WANT_TEXT
	};
	for (int st = 0; st < GP_STATUS__COUNT; st++) {
		ck_assert_ptr_nonnull(want[st]);
		ck_assert_str_eq(gp_strerror((gp_status_t)st), want[st]);
		for (int o = 0; o < st; o++)
			ck_assert_str_ne(gp_strerror((gp_status_t)st), gp_strerror((gp_status_t)o));
	}
	ck_assert_str_eq(gp_strerror(GP_OK), "ok");
	ck_assert_str_eq(gp_strerror(GP_ECONFIG), "invalid configuration");
	ck_assert_str_eq(gp_strerror(GP_STATUS__COUNT), "unknown error");
	ck_assert_str_eq(gp_strerror((gp_status_t)-1), "unknown error");
}
END_TEST

START_TEST(test_status_from_uv)
{
	static const struct {
		int uv;
		gp_status_t st;
	} map[] = {
	        {0, GP_OK},
	        {UV_ECONNREFUSED, GP_ECONNREFUSED},
	        {UV_ETIMEDOUT, GP_ETIMEDOUT},
	        {UV_ENOMEM, GP_ENOMEM},
	        {UV_EOF, GP_ECLOSED},
	        {UV_ECONNRESET, GP_ECLOSED},
	        {UV_EPIPE, GP_ECLOSED},
	        {UV_EINVAL, GP_EINVAL},
	        {UV_EADDRINUSE, GP_EUV},
	        {UV_ECANCELED, GP_EUV},
	        {UV_EAI_NONAME, GP_EUV},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		ck_assert_msg(gp_status_from_uv(map[i].uv) == map[i].st, "%s -> %s",
		              map[i].uv ? uv_err_name(map[i].uv) : "0",
		              gp_strerror(gp_status_from_uv(map[i].uv)));
}
END_TEST
