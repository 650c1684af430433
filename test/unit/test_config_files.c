/* test_config_files.c - secrets read from files, the example file, --describe-config. */

/* ---- secrets in files -------------------------------------------------- */

#define MARKER "TOPSECRET-7f3a" /* never allowed in an error message */

/* A scratch directory with gp.conf (MINIMAL + extra) and files named in it. */
typedef struct secret_dir {
	char dir[64];
	char *files[8];
	int nfiles;
} secret_dir_t;

static void sd_file(secret_dir_t *sd, const char *name, const char *data, size_t len)
{
	char *path;
	ck_assert_int_ne(asprintf(&path, "%s/%s", sd->dir, name), -1);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_lt(sd->nfiles, 8);
	sd->files[sd->nfiles++] = path;
}

static void sd_open(secret_dir_t *sd)
{
	memset(sd, 0, sizeof(*sd));
	snprintf(sd->dir, sizeof(sd->dir), "/tmp/gp-test-secret-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(sd->dir));
}

static void sd_close(secret_dir_t *sd)
{
	for (int i = 0; i < sd->nfiles; i++) {
		unlink(sd->files[i]);
		rmdir(sd->files[i]); /* the directory case */
		free(sd->files[i]);
	}
	ck_assert_int_eq(rmdir(sd->dir), 0);
}

/* Load gp.conf = MINIMAL + extra from sd; the config or NULL, the message in err. */
static gp_config_t *sd_load(secret_dir_t *sd, const char *extra, char *err, size_t cap)
{
	char *text, *path;
	gp_config_t *c = NULL;
	ck_assert_int_ne(asprintf(&text, MINIMAL "%s", extra), -1);
	path = write_temp(sd->dir, "gp.conf", text);
	gp_status_t st = gp_config_load(path, &c, err, cap);
	ck_assert(st == GP_OK || st == GP_ECONFIG);
	ck_assert((st == GP_OK) == (c != NULL));
	unlink(path);
	free(path);
	free(text);
	return c;
}

START_TEST(test_secret_files)
{
	secret_dir_t sd;
	char err[512], abs[256], *text;
	gp_config_t *c;
	sd_open(&sd);
	sd_file(&sd, "mon", "s3cret\n", 7);
	sd_file(&sd, "ev", "ev pass\r\n", 9); /* CRLF dropped, inner spaces kept */
	sd_file(&sd, "tok", "tok-no-newline", 14);

	/* Relative to the configuration's directory; eviction inherits the monitor's. */
	c = sd_load(&sd, "monitor = { password_file = \"mon\"; };\n", err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->monitor_password, "s3cret");
	ck_assert_str_eq(c->monitor_password_file, "mon");
	ck_assert_str_eq(c->eviction_password, "s3cret");
	ck_assert_str_eq(c->eviction_password_file, "");
	gp_config_free(c);

	/* Absolute paths; every secret key has its twin. */
	snprintf(abs, sizeof(abs),
	         "monitor = { password = \"inline\"; };\n"
	         "eviction = { user = \"root\"; password_file = \"%s/ev\"; };\n"
	         "http_admin_token_file = \"%s/tok\";\n",
	         sd.dir, sd.dir);
	c = sd_load(&sd, abs, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->monitor_password, "inline");
	ck_assert_str_eq(c->eviction_password, "ev pass");
	ck_assert_str_eq(c->top_http_admin_token, "tok-no-newline");
	gp_config_free(c);

	/* Read at every load (a reload is one): a changed file gives the new secret. */
	sd_file(&sd, "mon", "changed\n", 8);
	c = sd_load(&sd, "monitor = { password_file = \"mon\"; };\n", err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->monitor_password, "changed");
	gp_config_free(c);
	free(sd.files[--sd.nfiles]);

	/* An empty inline value is no value: the file is used. */
	c = sd_load(&sd, "monitor = { password = \"\"; password_file = \"mon\"; };\n", err,
	            sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->monitor_password, "changed");
	gp_config_free(c);

	/* Exactly GP_SECRET_MAX bytes plus a newline fit. */
	text = malloc(GP_SECRET_MAX + 1);
	ck_assert_ptr_nonnull(text);
	memset(text, 'x', GP_SECRET_MAX);
	text[GP_SECRET_MAX] = '\n';
	sd_file(&sd, "max", text, GP_SECRET_MAX + 1);
	c = sd_load(&sd, "monitor = { password_file = \"max\"; };\n", err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_uint_eq(strlen(c->monitor_password), GP_SECRET_MAX);
	gp_config_free(c);
	free(text);
	sd_close(&sd);
}
END_TEST

/* Each refused: the message names the key (":3:" is its line) and the path, never the
 * secret itself. */
static const struct secret_bad {
	const char *file;  /* name of the file in the scratch directory (NULL: none) */
	const char *data;  /* its content */
	size_t len;        /* its length */
	const char *extra; /* lines 3.. of gp.conf; %s is the scratch directory */
	const char *err;   /* a substring of the message; %s is the scratch directory */
} secret_bads[] = {
        {"mon", MARKER "\n", sizeof(MARKER),
         "monitor = { password = \"" MARKER "\"; password_file = \"mon\"; };\n",
         ":3: 'password' and 'password_file' in monitor are both set: use one"},
        {NULL, NULL, 0, "monitor = { password_file = \"nope\"; };\n",
         ":3: 'password_file' in monitor: cannot read '%s/nope': No such file or directory"},
        {NULL, NULL, 0, "eviction = { password_file = \"/nonexistent/x\"; };\n",
         ":3: 'password_file' in eviction: cannot read '/nonexistent/x': No such file"},
        {NULL, NULL, 0, "http_admin_token_file = \"nope\";\n",
         ":3: 'http_admin_token_file': cannot read '%s/nope'"},
        {"empty", "", 0, "monitor = { password_file = \"empty\"; };\n",
         ":3: 'password_file' in monitor: '%s/empty' is empty"},
        {"nl", "\n", 1, "monitor = { password_file = \"nl\"; };\n",
         ":3: 'password_file' in monitor: '%s/nl' is empty"},
        {"two", MARKER "\n" MARKER "\n", 2 * sizeof(MARKER),
         "monitor = { password_file = \"two\"; };\n", "'%s/two' must hold one line"},
        {"twonl", MARKER "\n\n", sizeof(MARKER) + 1, "monitor = { password_file = \"twonl\"; };\n",
         "'%s/twonl' must hold one line"},
        {"nul", MARKER "\0x", sizeof(MARKER) + 1, "monitor = { password_file = \"nul\"; };\n",
         "'%s/nul' must hold one line"},
        {NULL, NULL, 0, "monitor = { password_file = \".\"; };\n",
         ":3: 'password_file' in monitor: '%s/.' is not a regular file"},
        {NULL, NULL, 0, "monitor = { password_file = 1; };\n",
         ":3: 'password_file' must be a string"},
};

START_TEST(test_secret_file_errors)
{
	const struct secret_bad *b = &secret_bads[_i];
	secret_dir_t sd;
	char err[512], extra[512], want[512];
	sd_open(&sd);
	if (b->file)
		sd_file(&sd, b->file, b->data, b->len);
	snprintf(extra, sizeof(extra), b->extra, sd.dir);
	snprintf(want, sizeof(want), b->err, sd.dir);
	gp_config_t *c = sd_load(&sd, extra, err, sizeof(err));
	ck_assert_msg(c == NULL, "case %d loaded", _i);
	ck_assert_msg(strstr(err, want) != NULL, "case %d: '%s' lacks '%s'", _i, err, want);
	ck_assert_msg(strstr(err, MARKER) == NULL, "case %d: the secret is in '%s'", _i, err);
	sd_close(&sd);
}
END_TEST

START_TEST(test_secret_file_limits)
{
	secret_dir_t sd;
	char err[512], want[256];
	sd_open(&sd);
	char *text = malloc(GP_SECRET_MAX + 1);
	ck_assert_ptr_nonnull(text);
	memset(text, 'x', GP_SECRET_MAX + 1);
	sd_file(&sd, "big", text, GP_SECRET_MAX + 1);
	free(text);
	ck_assert_ptr_null(
	        sd_load(&sd, "monitor = { password_file = \"big\"; };\n", err, sizeof(err)));
	snprintf(want, sizeof(want), "'%s/big' holds more than %d bytes", sd.dir, GP_SECRET_MAX);
	ck_assert_msg(strstr(err, want) != NULL, "'%s'", err);

	/* A FIFO is refused at once: a reload must never wait for a writer. */
	char *fifo;
	ck_assert_int_ne(asprintf(&fifo, "%s/fifo", sd.dir), -1);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	sd.files[sd.nfiles++] = fifo;
	ck_assert_ptr_null(
	        sd_load(&sd, "monitor = { password_file = \"fifo\"; };\n", err, sizeof(err)));
	ck_assert_msg(strstr(err, "is not a regular file") != NULL, "'%s'", err);
	sd_close(&sd);
}
END_TEST

/* proxy/galera-proxy.conf.example: found from GP_EXAMPLE_CONF, GP_FIXTURES or __FILE__. */
static char *example_path(void)
{
	const char *env = getenv("GP_EXAMPLE_CONF");
	const char *fx = getenv("GP_FIXTURES");
	const char *tail = "/../../proxy/galera-proxy.conf.example";
	char *p;

	if (env != NULL)
		return strdup(env);
	if (fx != NULL && strlen(fx) > 9 && strcmp(fx + strlen(fx) - 9, "/fixtures") == 0) {
		ck_assert_int_ne(asprintf(&p, "%.*s%s", (int)strlen(fx) - 9, fx, tail), -1);
		return p;
	}
	const char *slash = strrchr(__FILE__, '/');
	ck_assert_int_ne(asprintf(&p, "%.*s%s", slash ? (int)(slash - __FILE__) : 1,
	                          slash ? __FILE__ : ".", tail),
	                 -1);
	return p;
}

START_TEST(test_example_file)
{
	char *path = example_path();
	char err[512];
	gp_config_t *c = NULL;

	gp_status_t st = gp_config_load(path, &c, err, sizeof(err));
	ck_assert_msg(st == GP_OK, "%s: %s", path, err);
	/* It sets every key to its table default, so it documents the real behaviour. */
	check_defaults(c);
	ck_assert_uint_ge(c->nbackends, 1);
	gp_config_free(c);

	/* ... and it really spells out every key, not just leaves it to the default. */
	config_t cf;
	config_init(&cf);
	ck_assert_int_eq(config_read_file(&cf, path), CONFIG_TRUE);
	for (size_t i = 0; i < sizeof(key_rows) / sizeof(key_rows[0]); i++) {
		char lookup[128];
		if (strcmp(key_rows[i].section, "top") == 0)
			snprintf(lookup, sizeof(lookup), "%s", key_rows[i].key);
		else
			snprintf(lookup, sizeof(lookup), "%s.%s", key_rows[i].section,
			         key_rows[i].key);
		ck_assert_msg(config_lookup(&cf, lookup) != NULL, "%s does not set %s", path,
		              lookup);
	}
	config_destroy(&cf);
	free(path);
}
END_TEST

START_TEST(test_describe)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int lines = 0;

	ck_assert_ptr_nonnull(f);
	gp_config_describe(f);
	ck_assert_int_eq(fclose(f), 0);
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	/* header, separator, one row per key, three backend rows */
	ck_assert_int_eq(lines, (int)(sizeof(key_rows) / sizeof(key_rows[0])) + 2 + 3);
	ck_assert_ptr_nonnull(strstr(buf, "| section | key | type | default | description |\n"));
	ck_assert_ptr_nonnull(strstr(buf, "| monitor | `interval_ms` | integer | `250` | "));
	ck_assert_ptr_nonnull(strstr(buf, "| (top level) | `log_level` | string | `\"info\"` | "
	                                  "debug\\|info\\|warn\\|error |\n"));
	ck_assert_ptr_nonnull(strstr(buf, "| routing | `failback` | boolean | `false` |"));
	/* Each secret is followed by its twin. */
	ck_assert_ptr_nonnull(
	        strstr(buf, "| monitor | `password` | string | `\"\"` | monitor password |\n"
	                    "| monitor | `password_file` | string | `\"\"` | read password "
	                    "from this file instead (see Secrets) |\n"));
	ck_assert_ptr_nonnull(strstr(buf, "| (top level) | `http_admin_token_file` | string |"));
	ck_assert_ptr_nonnull(strstr(buf, "| eviction | `password_file` | string |"));
	free(buf);
}
END_TEST
