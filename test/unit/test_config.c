/* test_config.c - unit tests for config loading, addresses, logfmt quoting and statuses. */
#include <check.h>
#include <libconfig.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "gp_check.h"
#include "base/config.h"
#include "base/log.h"
#include "base/status.h"

/* Lines 1-2 of most cases, so a case's own lines start at 3. */
#define LISTEN  "listen = \"127.0.0.1:6033\";\n"
#define BACKEND "backends = ( { name = \"db1\"; address = \"127.0.0.1:3311\"; } );\n"
#define MINIMAL LISTEN BACKEND

#define FULL_EXAMPLE                                                                               \
	"listen      = \"127.0.0.1:6033\";   # read-write endpoint\n"                              \
	"listen_ro   = \"127.0.0.1:6034\";   # optional read-only endpoint\n"                      \
	"http_listen = \"127.0.0.1:9480\";\n"                                                      \
	"log_level = \"debug\";\n"                                                                 \
	"limits = { max_client_connections = 5000; client_handshake_timeout_ms = 10000; "          \
	"client_idle_timeout_ms = 0; backend_connect_timeout_ms = 2000; shutdown_timeout_ms = "    \
	"5000; };\n"                                                                               \
	"monitor = { user = \"monitor\"; password = \"monitor\"; interval_ms = 250; timeout_ms = " \
	"1000; fall = 2; rise = 2; };\n"                                                           \
	"routing = { connect_wait_ms = 3000; drain_timeout_ms = 5000; failback = false; "          \
	"failback_after_ms = 30000; donor_is_reader = false; max_recv_queue = 100; "               \
	"fence_timeout_ms = 5000; };\n"                                                            \
	"eviction = { enabled = true; };\n"                                                        \
	"backends = (\n"                                                                           \
	"  { name = \"db1\"; address = \"127.0.0.1:3311\"; priority = 1; },\n"                     \
	"  { name = \"db2\"; address = \"127.0.0.1:3312\"; priority = 2; },\n"                     \
	"  { name = \"db3\"; address = \"127.0.0.1:3313\"; priority = 3; }\n"                      \
	");\n"

/* ---- helpers ---------------------------------------------------------- */

/* Write text to a fresh temp file; the caller unlinks and frees the returned path. */
static char *write_temp(const char *dir, const char *name, const char *text)
{
	char *path;
	FILE *f;

	if (name != NULL) {
		ck_assert_int_ne(asprintf(&path, "%s/%s", dir, name), -1);
		f = fopen(path, "w");
	} else {
		const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
		ck_assert_int_ne(asprintf(&path, "%s/gp-test-config-XXXXXX.conf", tmp), -1);
		int fd = mkstemps(path, 5);
		ck_assert_int_ge(fd, 0);
		f = fdopen(fd, "w");
	}
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* Load text as a config file; on failure *out is NULL and err holds the message. */
static gp_status_t load_text(const char *text, gp_config_t **out, char *err, size_t errcap)
{
	char *path = write_temp(NULL, NULL, text);
	gp_status_t st = gp_config_load(path, out, err, errcap);
	unlink(path);
	free(path);
	return st;
}

static gp_config_t *load_ok(const char *text)
{
	char err[512];
	gp_config_t *c = NULL;
	gp_status_t st = load_text(text, &c, err, sizeof(err));
	ck_assert_msg(st == GP_OK, "expected ok, got %s: %s\n--- config ---\n%s", gp_strerror(st),
	              err, text);
	ck_assert_ptr_nonnull(c);
	return c;
}

/* Check helpers by table type, so the X-macro can call the right one for each key. */
static void check_STR(const char *got, const char *want, const char *what)
{
	ck_assert_msg(strcmp(got, want) == 0, "%s: got '%s', want '%s'", what, got, want);
}

static void check_SECRET(const char *got, const char *want, const char *what)
{
	check_STR(got, want, what);
}

static void check_INT(int64_t got, int64_t want, const char *what)
{
	ck_assert_msg(got == want, "%s: got %lld, want %lld", what, (long long)got,
	              (long long)want);
}

static void check_BOOL(bool got, bool want, const char *what)
{
	ck_assert_msg(got == want, "%s: got %d, want %d", what, got, want);
}

/* Every key holds its table default except those a file set (listen) or inherited. */
static void check_defaults(const gp_config_t *c)
{
#define CHECK_DEFAULT(sec, field, key, type, def, help)                                           \
	if (strcmp(#sec "." key, "top.listen") != 0 && strcmp(#sec, "eviction") != 0 &&           \
	    strcmp(#sec "." key, "auth.user") != 0 && strcmp(#sec "." key, "auth.password") != 0) \
		check_##type(c->sec##_##field, def, #sec "." key);
	GP_CONFIG_TABLE(CHECK_DEFAULT)
#undef CHECK_DEFAULT
	ck_assert_int_eq(c->eviction_enabled, true);
	ck_assert_str_eq(c->eviction_user, c->monitor_user); /* inherited */
	ck_assert_str_eq(c->eviction_password, c->monitor_password);
	ck_assert_str_eq(c->auth_user, c->monitor_user); /* inherited */
	ck_assert_str_eq(c->auth_password, c->monitor_password);
}

/* ---- table-driven load cases ------------------------------------------ */

typedef struct load_case {
	const char *text;    /* the whole file */
	const char *err_sub; /* NULL: must load; else a substring of the error, with ":line:" */
} load_case_t;

static const load_case_t load_cases[] = {
        /* valid files */
        {MINIMAL, NULL},
        {FULL_EXAMPLE, NULL},
        {LISTEN "backends = ( { name = \"v6\"; address = \"[::1]:3306\"; } );\n", NULL},
        {LISTEN "backends = ( { name = \"h\"; address = \"db-1.example.com:65535\"; } );\n", NULL},
        {LISTEN "backends = ( { name = \"A_b.c-9\"; address = \"galera_node1:3306\"; } );\n", NULL},
        {"listen = \"[::]:6033\";\n" BACKEND, NULL},
        {MINIMAL "limits = { client_idle_timeout_ms = 5000000000L; };\n", NULL},
        {MINIMAL "limits = { shutdown_timeout_ms = 0x10; };\n", NULL},
        {MINIMAL "vip = \"10.0.0.100\";\npeer = \"10.0.0.2:9480\";\n", NULL},
        {MINIMAL "vip = \"fd00::100\";\n", NULL},
        {MINIMAL "monitor = { };\nrouting = { };\n", NULL},
        {MINIMAL "listen_ro = \"127.0.0.1:6034\";\nhttp_listen = \"localhost:9480\";\n", NULL},

        /* unknown keys, in every place a key can be */
        {MINIMAL "foo = 1;\n", ":3: unknown key 'foo' at top level"},
        {MINIMAL "backend = 1;\n", ":3: unknown key 'backend' at top level"},
        {MINIMAL "limits = {\n  max_clients = 1;\n};\n", ":4: unknown key 'max_clients' in limits"},
        {MINIMAL "monitor = {\n  interval_ms = 250;\n  intervall_ms = 250;\n};\n",
         ":5: unknown key 'intervall_ms' in monitor"},
        {MINIMAL "routing = { failbak = true; };\n", ":3: unknown key 'failbak' in routing"},
        {MINIMAL "eviction = { enable = true; };\n", ":3: unknown key 'enable' in eviction"},
        {MINIMAL "monitor = { listen = \"x\"; };\n", ":3: unknown key 'listen' in monitor"},
        {MINIMAL "eviction = { interval_ms = 5; };\n", ":3: unknown key 'interval_ms' in eviction"},
        {MINIMAL "auth = { refresh = 5; };\n", ":3: unknown key 'refresh' in auth"},
        {LISTEN "backends = (\n { name = \"db1\"; address = \"127.0.0.1:1\"; },\n"
                " { name = \"db2\"; address = \"127.0.0.1:2\";\n   prio = 1; }\n);\n",
         ":5: unknown key 'prio' in backend 2"},

        /* wrong types (every table key is covered by test_type_every_key) */
        {MINIMAL "monitor = 5;\n", ":3: 'monitor' must be a group"},
        {MINIMAL "limits = ( 1 );\n", ":3: 'limits' must be a group"},
        {MINIMAL "monitor = { interval_ms = 2.5; };\n", ":3: 'interval_ms' must be an integer"},
        {MINIMAL "routing = { failback = \"yes\"; };\n", ":3: 'failback' must be true or false"},
        {MINIMAL "eviction = { enabled = 1; };\n", ":3: 'enabled' must be true or false"},
        {MINIMAL "monitor = { fall = -1; };\n", ":3: 'fall' must not be negative"},
        {MINIMAL "limits = { shutdown_timeout_ms = 99999999999999999999; };\n",
         ":3: 'shutdown_timeout_ms' must not be negative"},
        {LISTEN "backends = { db1 = 1; };\n", ":2: 'backends' must be a list"},
        {LISTEN "backends = \"db1\";\n", ":2: 'backends' must be a list"},
        {LISTEN "backends = ( \"127.0.0.1:3311\" );\n", ":2: backend 1 must be a group"},
        {LISTEN "backends = ( { name = 1; address = \"127.0.0.1:1\"; } );\n",
         ":2: 'name' must be a string"},
        {LISTEN "backends = ( { name = \"a\"; address = [\"127.0.0.1:1\"]; } );\n",
         ":2: 'address' must be a string"},
        {LISTEN "backends = ( { name = \"a\"; address = \"127.0.0.1:1\"; priority = \"1\"; } );\n",
         ":2: 'priority' must be an integer"},
        {LISTEN "backends = ( { name = \"a\"; address = \"127.0.0.1:1\"; priority = -2; } );\n",
         ":2: 'priority' must not be negative"},

        /* libconfig syntax errors keep libconfig's text and line */
        {MINIMAL "monitor = {\n  interval_ms = ;\n};\n", ":4: syntax error"},
        {MINIMAL "listen = \"127.0.0.1:1\";\n", ":3: duplicate setting name"},
        {MINIMAL "monitor = { user = \"unterminated; };\n", ":4: syntax error"}, /* at EOF */

        /* backends */
        {LISTEN "backends = (\n { name = \"db1\"; address = \"127.0.0.1:1\"; },\n"
                " { name = \"db1\"; address = \"127.0.0.1:2\"; }\n);\n",
         ":4: duplicate backend name 'db1'"},
        {LISTEN "backends = (\n { name = \"db1\"; address = \"127.0.0.1:1\"; },\n"
                " { name = \"db2\"; address = \"127.0.0.1:1\"; }\n);\n",
         ":4: backends 'db1' and 'db2' have the same address"},
        {LISTEN "backends = ();\n", ":2: 'backends' must name at least one backend"},
        {LISTEN "backends = [];\n", ":2: 'backends' must name at least one backend"},
        {LISTEN "backends = ( { address = \"127.0.0.1:1\"; } );\n",
         ":2: backend 1: 'name' is required"},
        {LISTEN "backends = ( { name = \"db1\"; } );\n", ":2: backend 1: 'address' is required"},
        {LISTEN "backends = ( { name = \"\"; address = \"127.0.0.1:1\"; } );\n",
         ":2: backend 1: 'name' must be 1-63 characters"},
        {LISTEN "backends = ( { name = \"db 1\"; address = \"127.0.0.1:1\"; } );\n",
         ":2: backend 1: 'name' must be"},
        {LISTEN "backends = ( { name = \"0123456789012345678901234567890123456789012345678901234567"
                "890123\"; address = \"127.0.0.1:1\"; } );\n",
         ":2: backend 1: 'name' must be"},

        /* bad backend addresses */
        {LISTEN "backends = ( { name = \"db1\"; address = \"127.0.0.1\"; } );\n",
         ":2: backend 'db1': 'address' must be HOST:PORT with port 1-65535, got '127.0.0.1'"},
        {LISTEN "backends = ( { name = \"db1\"; address = \"127.0.0.1:0\"; } );\n",
         ":2: backend 'db1': 'address' must be HOST:PORT"},
        {LISTEN "backends = ( { name = \"db1\"; address = \"127.0.0.1:70000\"; } );\n",
         "got '127.0.0.1:70000'"},
        {LISTEN "backends = ( { name = \"db1\"; address = \"127.0.0.1:\"; } );\n",
         "got '127.0.0.1:'"},
        {LISTEN "backends = ( { name = \"db1\"; address = \":3306\"; } );\n", "got ':3306'"},
        {LISTEN "backends = ( { name = \"db1\"; address = \"::1:3306\"; } );\n", "got '::1:3306'"},
        {LISTEN "backends = ( { name = \"db1\"; address = \"[::1]3306\"; } );\n",
         "got '[::1]3306'"},
        {LISTEN "backends = ( { name = \"db1\"; address = \"[db1]:3306\"; } );\n",
         "got '[db1]:3306'"},
        {LISTEN "backends = ( { name = \"db1\"; address = \"300.1.1.1:3306\"; } );\n",
         "got '300.1.1.1:3306'"},
        {LISTEN "backends = ( { name = \"db1\"; address = \"db 1:3306\"; } );\n",
         "got 'db 1:3306'"},
        {LISTEN "backends = ( { name = \"db1\"; address = \"-db:3306\"; } );\n", "got '-db:3306'"},
        {LISTEN "backends = ( { name = \"db1\"; address = \"db:+3306\"; } );\n", "got 'db:+3306'"},

        /* listen addresses and the other top-level checks */
        {BACKEND, "'listen' is required"},
        {LISTEN, "'backends' is required"},
        {BACKEND "listen = \"\";\n", ":2: 'listen' is required"},
        {BACKEND "listen = \"6033\";\n",
         ":2: 'listen' must be HOST:PORT with port 1-65535, got '6033'"},
        {BACKEND "listen = \"127.0.0.1:0\";\n", ":2: 'listen' must be HOST:PORT"},
        {MINIMAL "listen_ro = \"127.0.0.1:99999\";\n", ":3: 'listen_ro' must be HOST:PORT"},
        {MINIMAL "http_listen = \"localhost\";\n", ":3: 'http_listen' must be HOST:PORT"},
        {MINIMAL "peer = \"10.0.0.2\";\n", ":3: 'peer' must be HOST:PORT"},
        {MINIMAL "listen_ro = \"127.0.0.1:6033\";\n",
         ":3: 'listen' and 'listen_ro' must be different"},
        {MINIMAL "http_listen = \"0.0.0.0:6033\";\n",
         ":3: 'listen' and 'http_listen' must be different"},
        {MINIMAL "listen_ro = \"[::1]:7000\";\nhttp_listen = \"[0:0::1]:7000\";\n",
         ":4: 'listen_ro' and 'http_listen' must be different"},
        {MINIMAL "log_level = \"verbose\";\n",
         ":3: 'log_level' must be one of debug, info, warn, error"},
        {MINIMAL "log_level = \"INFO\";\n", ":3: 'log_level' must be one of"},
        {MINIMAL "vip = \"10.0.0.100/24\";\n", ":3: 'vip' must be an IPv4 or IPv6 address"},
        {MINIMAL "vip = \"vip.example.com\";\n", ":3: 'vip' must be an IPv4 or IPv6 address"},
        {MINIMAL "monitor = { interval_ms = 9; };\n",
         ":3: 'interval_ms' in monitor must be at least 10"},
        {MINIMAL "monitor = { timeout_ms = 0; };\n",
         ":3: 'timeout_ms' in monitor must be at least 10"},
        {MINIMAL "monitor = { fall = 0; };\n", ":3: 'fall' in monitor must be at least 1"},
        {MINIMAL "monitor = { rise = 0; };\n", ":3: 'rise' in monitor must be at least 1"},
        {MINIMAL "auth = { refresh_ms = 99; };\n", ":3: 'refresh_ms' in auth must be at least 100"},
        {MINIMAL "limits = { max_client_connections = 0; };\n",
         ":3: 'max_client_connections' in limits must be at least 1"},
        {MINIMAL "monitor = { user = \"\"; };\n", ":3: 'user' in monitor must not be empty"},

        /* tls: cert and key together, the rest needs them, known versions only */
        {MINIMAL "tls = { cert = \"/c.pem\"; };\n", ":3: 'cert' and 'key' in tls go together"},
        {MINIMAL "tls = { key = \"/k.pem\"; };\n", ":3: 'cert' and 'key' in tls go together"},
        {MINIMAL "tls = { require = true; };\n", ":3: 'require' in tls needs 'cert' and 'key'"},
        {MINIMAL "tls = { ca = \"/ca.pem\"; };\n", ":3: 'ca' in tls needs 'cert' and 'key'"},
        {MINIMAL "tls = { cert = \"/c\"; key = \"/k\"; min_version = \"TLSv1.1\"; };\n",
         ":3: 'min_version' in tls must be TLSv1.2 or TLSv1.3"},
        {MINIMAL "tls = { cert = \"/c\"; key = \"/k\"; min_version = \"TLSv1.3\"; "
                 "require = true; ca = \"/ca\"; ciphers = \"HIGH\"; };\n",
         NULL},

        /* tls.backend: a known mode; verify needs the CA, which means nothing otherwise; a
         * client certificate comes with its key, and only with TLS to the nodes */
        {MINIMAL "tls = { backend = \"yes\"; };\n",
         ":3: 'backend' in tls must be one of off, on, verify"},
        {MINIMAL "tls = { backend = \"verify\"; };\n",
         ":3: 'backend' = \"verify\" in tls needs 'backend_ca' (the nodes' CA)"},
        {MINIMAL "tls = { backend = \"on\"; backend_ca = \"/ca\"; };\n",
         ":3: 'backend_ca' in tls needs backend = \"verify\""},
        {MINIMAL "tls = { backend = \"on\"; backend_cert = \"/c\"; };\n",
         ":3: 'backend_cert' and 'backend_key' in tls go together"},
        {MINIMAL "tls = { backend = \"on\"; backend_key = \"/k\"; };\n",
         ":3: 'backend_cert' and 'backend_key' in tls go together"},
        {MINIMAL "tls = { backend_cert = \"/c\"; backend_key = \"/k\"; };\n",
         ":3: 'backend_cert' in tls needs backend = \"on\" or \"verify\""},
        {MINIMAL "tls = { backend = \"verify\"; backend_ca = \"/ca\"; backend_cert = \"/c\"; "
                 "backend_key = \"/k\"; };\n",
         NULL},
        {MINIMAL "tls = { backend = \"on\"; };\n", NULL},
};

START_TEST(test_load_case)
{
	const load_case_t *lc = &load_cases[_i];
	char err[512] = "untouched";
	gp_config_t *c = NULL;
	gp_status_t st = load_text(lc->text, &c, err, sizeof(err));

	if (lc->err_sub == NULL) {
		ck_assert_msg(st == GP_OK, "case %d: want ok, got '%s'\n%s", _i, err, lc->text);
		ck_assert_ptr_nonnull(c);
		ck_assert_str_eq(err, "");
		gp_config_free(c);
		return;
	}
	ck_assert_msg(st == GP_ECONFIG, "case %d: want an error, got %s\n%s", _i, gp_strerror(st),
	              lc->text);
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(err, lc->err_sub) != NULL, "case %d: error '%s' lacks '%s'\n%s", _i,
	              err, lc->err_sub, lc->text);
	/* Every message starts with the file's path. */
	ck_assert_msg(strncmp(err, "/", 1) == 0 && strstr(err, ".conf:") != NULL, "case %d: '%s'",
	              _i, err);
}
END_TEST

/* ---- generated from the table ------------------------------------------ */

typedef struct key_row {
	const char *section; /* "top" or group */
	const char *key;     /* name in the file */
	const char *type;    /* STR, INT, BOOL */
} key_row_t;

/* Every key of the file: the table's rows, each SECRET followed by its twin KEY_file. */
#define KEY_TWIN_STR(sec, key)
#define KEY_TWIN_INT(sec, key)
#define KEY_TWIN_BOOL(sec, key)
#define KEY_TWIN_SECRET(sec, key) {#sec, key "_file", "FILE"},
static const key_row_t key_rows[] = {
#define KEY_ROW(sec, field, key, type, def, help) {#sec, key, #type}, KEY_TWIN_##type(sec, key)
        GP_CONFIG_TABLE(KEY_ROW)
#undef KEY_ROW
};

/* Text setting one key (on line 3) to val. */
static char *text_with_key(const key_row_t *k, const char *val)
{
	char *text;
	int n;

	if (strcmp(k->section, "top") == 0)
		n = asprintf(&text, "%s%s = %s;\n",
		             strcmp(k->key, "listen") == 0 ? BACKEND : MINIMAL, k->key, val);
	else
		n = asprintf(&text, MINIMAL "%s = { %s = %s; };\n", k->section, k->key, val);
	ck_assert_int_ne(n, -1);
	return text;
}

START_TEST(test_type_every_key)
{
	const key_row_t *k = &key_rows[_i];
	/* A value of some other type, and the message that type's check must give. */
	const char *bad = "1", *want = "must be a string";
	char err[512], sub[256];
	gp_config_t *c = NULL;

	if (strcmp(k->type, "INT") == 0) {
		bad = "\"1\"";
		want = "must be an integer";
	} else if (strcmp(k->type, "BOOL") == 0) {
		want = "must be true or false";
	}
	char *text = text_with_key(k, bad);
	gp_status_t st = load_text(text, &c, err, sizeof(err));
	snprintf(sub, sizeof(sub), ":%d: '%s' %s", strcmp(k->key, "listen") == 0 ? 2 : 3, k->key,
	         want);
	ck_assert_msg(st == GP_ECONFIG && strstr(err, sub) != NULL, "%s.%s: '%s' lacks '%s'",
	              k->section, k->key, err, sub);
	ck_assert_ptr_null(c);
	free(text);
}
END_TEST

START_TEST(test_unknown_in_every_section)
{
	const key_row_t *k = &key_rows[_i];
	char err[512], sub[256];
	gp_config_t *c = NULL;
	key_row_t typo = {k->section, NULL, k->type};
	char *name;

	ck_assert_int_ne(asprintf(&name, "%sx", k->key), -1);
	typo.key = name;
	char *text = text_with_key(&typo, "1");
	gp_status_t st = load_text(text, &c, err, sizeof(err));
	if (strcmp(k->section, "top") == 0)
		snprintf(sub, sizeof(sub), ":3: unknown key '%s' at top level", name);
	else
		snprintf(sub, sizeof(sub), ":3: unknown key '%s' in %s", name, k->section);
	ck_assert_msg(st == GP_ECONFIG && strstr(err, sub) != NULL, "'%s' lacks '%s'", err, sub);
	free(text);
	free(name);
}
END_TEST

/* ---- whole files ------------------------------------------------------- */

START_TEST(test_minimal_gets_defaults)
{
	gp_config_t *c = load_ok(MINIMAL);

	check_defaults(c);
	ck_assert_str_eq(c->top_listen, "127.0.0.1:6033");
	ck_assert_str_eq(c->eviction_user, "monitor");
	ck_assert_str_eq(c->eviction_password, "");
	ck_assert_uint_eq(c->nbackends, 1);
	ck_assert_str_eq(c->backends[0].name, "db1");
	ck_assert_str_eq(c->backends[0].address, "127.0.0.1:3311");
	ck_assert_str_eq(c->backends[0].host, "127.0.0.1");
	ck_assert_uint_eq(c->backends[0].port, 3311);
	ck_assert_int_eq(c->backends[0].priority, 1);
	ck_assert_ptr_nonnull(strstr(c->path, "gp-test-config-"));
	gp_config_free(c);
}
END_TEST

START_TEST(test_full_example)
{
	gp_config_t *c = load_ok(FULL_EXAMPLE);

	ck_assert_str_eq(c->top_listen, "127.0.0.1:6033");
	ck_assert_str_eq(c->top_listen_ro, "127.0.0.1:6034");
	ck_assert_str_eq(c->top_http_listen, "127.0.0.1:9480");
	ck_assert_str_eq(c->top_log_level, "debug");
	ck_assert_int_eq(c->limits_max_client_connections, 5000);
	ck_assert_int_eq(c->limits_backend_connect_timeout_ms, 2000);
	ck_assert_int_eq(c->limits_shutdown_timeout_ms, 5000);
	ck_assert_int_eq(c->limits_client_idle_timeout_ms, 0);
	ck_assert_str_eq(c->monitor_user, "monitor");
	ck_assert_str_eq(c->monitor_password, "monitor");
	ck_assert_str_eq(c->eviction_user, "monitor");
	ck_assert_str_eq(c->eviction_password, "monitor");
	ck_assert_int_eq(c->monitor_interval_ms, 250);
	ck_assert_int_eq(c->routing_connect_wait_ms, 3000);
	ck_assert_int_eq(c->routing_failback, false);
	ck_assert_int_eq(c->eviction_enabled, true);
	ck_assert_uint_eq(c->nbackends, 3);
	for (int i = 0; i < 3; i++) {
		char name[8];
		snprintf(name, sizeof(name), "db%d", i + 1);
		ck_assert_str_eq(c->backends[i].name, name);
		ck_assert_str_eq(c->backends[i].host, "127.0.0.1");
		ck_assert_uint_eq(c->backends[i].port, 3311 + i);
		ck_assert_int_eq(c->backends[i].priority, i + 1);
	}
	gp_config_free(c);
}
END_TEST

START_TEST(test_values_and_priorities)
{
	gp_config_t *c =
	        load_ok(LISTEN "backends = (\n"
	                       "  { name = \"a\"; address = \"[::1]:3306\"; priority = 7; },\n"
	                       "  { name = \"b\"; address = \"db.example:3307\"; },\n"
	                       "  { address = \"127.0.0.1:3308\"; name = \"c\"; }\n"
	                       ");\n"
	                       "limits = { client_idle_timeout_ms = 5000000000L; };\n"
	                       "routing = { failback = true; donor_is_reader = true; };\n"
	                       "eviction = { enabled = false; user = \"ev\"; };\n"
	                       "monitor = { user = \"mon\"; password = \"s3cret\"; };\n");

	ck_assert_uint_eq(c->nbackends, 3);
	ck_assert_str_eq(c->backends[0].host, "::1");
	ck_assert_str_eq(c->backends[0].address, "[::1]:3306");
	ck_assert_int_eq(c->backends[0].priority, 7);
	ck_assert_str_eq(c->backends[1].host, "db.example");
	ck_assert_int_eq(c->backends[1].priority, 2); /* default: position in the list */
	ck_assert_int_eq(c->backends[2].priority, 3);
	ck_assert_int_eq(c->limits_client_idle_timeout_ms, 5000000000LL);
	ck_assert_int_eq(c->routing_failback, true);
	ck_assert_int_eq(c->routing_donor_is_reader, true);
	ck_assert_int_eq(c->eviction_enabled, false);
	ck_assert_str_eq(c->eviction_user, "ev");
	ck_assert_str_eq(c->eviction_password, "s3cret"); /* empty: the monitor's */
	gp_config_free(c);
}
END_TEST

START_TEST(test_eviction_defaults_to_monitor)
{
	gp_config_t *c = load_ok(MINIMAL "monitor = { user = \"mon\"; password = \"pw\"; };\n");
	ck_assert_str_eq(c->eviction_user, "mon");
	ck_assert_str_eq(c->eviction_password, "pw");
	gp_config_free(c);

	c = load_ok(MINIMAL "monitor = { user = \"mon\"; password = \"pw\"; };\n"
	                    "eviction = { user = \"root\"; password = \"rootpw\"; };\n");
	ck_assert_str_eq(c->eviction_user, "root");
	ck_assert_str_eq(c->eviction_password, "rootpw");
	ck_assert_str_eq(c->auth_user, "mon"); /* auth inherits on its own */
	ck_assert_str_eq(c->auth_password, "pw");
	gp_config_free(c);

	c = load_ok(MINIMAL "monitor = { user = \"mon\"; password = \"pw\"; };\n"
	                    "auth = { user = \"privreader\"; password = \"apw\"; };\n");
	ck_assert_str_eq(c->auth_user, "privreader");
	ck_assert_str_eq(c->auth_password, "apw");
	ck_assert_str_eq(c->eviction_user, "mon");
	ck_assert_int_eq(c->auth_refresh_ms, 10000);
	gp_config_free(c);
}
END_TEST

/* n backends on one line each, after the listen line. */
static char *backends_text(int n)
{
	size_t cap = 128 + (size_t)n * 80, len;
	char *t = malloc(cap);

	ck_assert_ptr_nonnull(t);
	len = (size_t)snprintf(t, cap, LISTEN "backends = (\n");
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(t + len, cap - len,
		                        "{ name = \"db%d\"; address = \"127.0.0.1:%d\"; }%s\n", i,
		                        10000 + i, i + 1 < n ? "," : "");
	snprintf(t + len, cap - len, ");\n");
	return t;
}

START_TEST(test_max_backends)
{
	char *t = backends_text(GP_MAX_BACKENDS);
	gp_config_t *c = load_ok(t);
	ck_assert_uint_eq(c->nbackends, GP_MAX_BACKENDS);
	ck_assert_int_eq(c->backends[GP_MAX_BACKENDS - 1].priority, GP_MAX_BACKENDS);
	gp_config_free(c);
	free(t);

	char err[512], want[64];
	t = backends_text(GP_MAX_BACKENDS + 1);
	ck_assert_int_eq(load_text(t, &c, err, sizeof(err)), GP_ECONFIG);
	snprintf(want, sizeof(want), ":2: too many backends: %d (at most %d)", GP_MAX_BACKENDS + 1,
	         GP_MAX_BACKENDS);
	ck_assert_msg(strstr(err, want) != NULL, "'%s'", err);
	free(t);
}
END_TEST

START_TEST(test_missing_file_and_small_err)
{
	char err[512];
	gp_config_t *c = (gp_config_t *)&err; /* must be reset to NULL */

	ck_assert_int_eq(gp_config_load("/nonexistent/gp.conf", &c, err, sizeof(err)), GP_ECONFIG);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, "/nonexistent/gp.conf: cannot read: No such file or directory");

	/* A tiny or absent error buffer is not written past. */
	char tiny[8] = "xxxxxxx";
	ck_assert_int_eq(load_text(MINIMAL "foo = 1;\n", &c, tiny, 4), GP_ECONFIG);
	ck_assert_int_eq(strlen(tiny), 3);
	ck_assert_int_eq(load_text(MINIMAL "foo = 1;\n", &c, NULL, 0), GP_ECONFIG);
	ck_assert_int_eq(gp_config_load(NULL, &c, err, sizeof(err)), GP_EINVAL);
}
END_TEST

START_TEST(test_include_relative_to_file)
{
	char dir[] = "/tmp/gp-test-config-dir-XXXXXX";
	char err[512];
	gp_config_t *c = NULL;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	char *inc = write_temp(dir, "backends.inc", BACKEND);
	char *bad = write_temp(dir, "bad.inc", "\n\nmonitor = { fal = 1; };\n");
	char *top = write_temp(dir, "gp.conf", LISTEN "@include \"backends.inc\"\n");
	char *top2 = write_temp(dir, "gp2.conf", MINIMAL "@include \"bad.inc\"\n");

	ck_assert_int_eq(gp_config_load(top, &c, err, sizeof(err)), GP_OK);
	ck_assert_uint_eq(c->nbackends, 1);
	gp_config_free(c);
	ck_assert_int_eq(gp_config_load(top2, &c, err, sizeof(err)), GP_ECONFIG);
	ck_assert_msg(strstr(err, "bad.inc:3: unknown key 'fal' in monitor") != NULL, "'%s'", err);

	char *files[] = {inc, bad, top, top2};
	for (int i = 0; i < 4; i++) {
		unlink(files[i]);
		free(files[i]);
	}
	rmdir(dir);
}
END_TEST

START_TEST(test_generation)
{
	gp_config_t *a = load_ok(MINIMAL), *b = load_ok(MINIMAL);
	uint64_t ga = gp_config_generation(a), gb = gp_config_generation(b);
	ck_assert_uint_gt(ga, 0);
	ck_assert_uint_gt(gb, ga);
	/* A configuration allocated where a freed one was is still another generation. */
	gp_config_free(a);
	gp_config_t *c = load_ok(MINIMAL);
	ck_assert_uint_gt(gp_config_generation(c), gb);
	gp_config_free(b);
	gp_config_free(c);
}
END_TEST

#include "test_config_files.c"
#include "test_config_log.c"

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("load");

	tcase_add_loop_test(tc, test_load_case, 0,
	                    (int)(sizeof(load_cases) / sizeof(load_cases[0])));
	tcase_add_loop_test(tc, test_type_every_key, 0,
	                    (int)(sizeof(key_rows) / sizeof(key_rows[0])));
	tcase_add_loop_test(tc, test_unknown_in_every_section, 0,
	                    (int)(sizeof(key_rows) / sizeof(key_rows[0])));
	tcase_add_test(tc, test_minimal_gets_defaults);
	tcase_add_test(tc, test_full_example);
	tcase_add_test(tc, test_values_and_priorities);
	tcase_add_test(tc, test_eviction_defaults_to_monitor);
	tcase_add_test(tc, test_max_backends);
	tcase_add_test(tc, test_missing_file_and_small_err);
	tcase_add_test(tc, test_include_relative_to_file);
	tcase_add_test(tc, test_example_file);
	tcase_add_test(tc, test_generation);
	tcase_add_test(tc, test_secret_files);
	tcase_add_loop_test(tc, test_secret_file_errors, 0,
	                    (int)(sizeof(secret_bads) / sizeof(secret_bads[0])));
	tcase_add_test(tc, test_secret_file_limits);
	tcase_add_test(tc, test_describe);
	tcase_add_test(tc, test_split_addr);
	suite_add_tcase(s, tc);

	tc = tcase_create("log");
	tcase_add_test(tc, test_log_quote);
	tcase_add_test(tc, test_log_lines);
	tcase_add_test(tc, test_log_levels);
	suite_add_tcase(s, tc);

	tc = tcase_create("status");
	tcase_add_test(tc, test_strerror);
	tcase_add_test(tc, test_status_from_uv);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return gp_check_run(config_suite(), CK_NORMAL);
}
