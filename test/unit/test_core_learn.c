/* test_core_learn.c - Check unit tests for what the core keeps of a native login (core_learn.c). */
#include <check.h>
#include <string.h>

#include "gp_check.h"
#include "session/core_learn.h"

#define N 20

static const uint8_t greet_nonce[N] = "ABCDEFGHIJKLMNOPQRS";
static const uint8_t reply1[N] = "reply-one-20-bytes!";
static const uint8_t reply2[N] = "reply-two-20-bytes!";
static const uint8_t switch_nonce[N] = "zyxwvutsrqponmlkjih";
static const uint64_t caps = MYP_CLIENT_PROTOCOL_41 | MYP_CLIENT_SECURE_CONNECTION |
                             MYP_CLIENT_PLUGIN_AUTH | MYP_CLIENT_CONNECT_WITH_DB;

/* A learner that saw the backend's greeting (l zeroed, or used before: its exchange is
 * wiped and freed first). */
static void greeted(gp_core_learn_t *l)
{
	myp_greeting_t g;
	gp_learn_wipe(l);
	memset(l, 0, sizeof(*l));
	memset(&g, 0, sizeof(g));
	memcpy(g.scramble, greet_nonce, N);
	g.scramble_len = N;
	gp_learn_greeting(l, &g);
}

static myp_hsresp_t hsresp(const char *user, const uint8_t *auth, size_t alen, const char *plugin)
{
	myp_hsresp_t r;
	memset(&r, 0, sizeof(r));
	r.caps = caps;
	r.user = (const uint8_t *)user;
	r.user_len = strlen(user);
	r.auth = auth;
	r.auth_len = alen;
	r.auth_plugin = (const uint8_t *)plugin;
	r.auth_plugin_len = plugin ? strlen(plugin) : 0;
	return r;
}

/* An AuthSwitchRequest payload to plugin with nonce (+ NUL, as MariaDB sends it). */
static size_t authswitch(uint8_t *p, const char *plugin, const uint8_t *nonce)
{
	size_t n = 0;
	p[n++] = 0xFE;
	memcpy(p + n, plugin, strlen(plugin) + 1);
	n += strlen(plugin) + 1;
	memcpy(p + n, nonce, N);
	n += N;
	p[n++] = 0;
	return n;
}

/* A COM_CHANGE_USER payload for user with a 20-byte reply, db test, native plugin. */
static size_t change_user(uint8_t *p, const char *user, const uint8_t *reply)
{
	size_t n = 0;
	p[n++] = MYP_COM_CHANGE_USER;
	memcpy(p + n, user, strlen(user) + 1);
	n += strlen(user) + 1;
	p[n++] = N;
	memcpy(p + n, reply, N);
	n += N;
	memcpy(p + n, "test", 5);
	n += 5;
	p[n++] = 45; /* utf8mb4_general_ci */
	p[n++] = 0;
	memcpy(p + n, MYP_NATIVE_PLUGIN, sizeof(MYP_NATIVE_PLUGIN));
	n += sizeof(MYP_NATIVE_PLUGIN);
	return n;
}

START_TEST(test_learn_handshake)
{
	gp_core_learn_t l = {0};
	greeted(&l);
	myp_hsresp_t r = hsresp("app", reply1, N, MYP_NATIVE_PLUGIN);
	gp_learn_hsresp(&l, &r, false);
	ck_assert(gp_learn_ready(&l));
	ck_assert_str_eq(l.ex->user, "app");
	ck_assert_mem_eq(l.ex->nonce, greet_nonce, N);
	ck_assert_mem_eq(l.ex->reply, reply1, N);
	ck_assert_uint_eq(l.ex->reply_len, N);

	/* no plugin named (an old client): its default is the native one */
	greeted(&l);
	r = hsresp("app", reply1, N, NULL);
	gp_learn_hsresp(&l, &r, false);
	ck_assert(gp_learn_ready(&l));

	/* an empty password: an empty reply */
	greeted(&l);
	r = hsresp("app", NULL, 0, MYP_NATIVE_PLUGIN);
	gp_learn_hsresp(&l, &r, false);
	ck_assert(gp_learn_ready(&l));
	ck_assert_uint_eq(l.ex->reply_len, 0);

	/* a reply of another length is no native one */
	greeted(&l);
	r = hsresp("app", reply1, 8, MYP_NATIVE_PLUGIN);
	gp_learn_hsresp(&l, &r, false);
	ck_assert(!gp_learn_ready(&l));

	/* a greeting without a 20-byte nonce leaves nothing to pair the reply with */
	gp_learn_wipe(&l);
	memset(&l, 0, sizeof(l));
	r = hsresp("app", reply1, N, MYP_NATIVE_PLUGIN);
	gp_learn_hsresp(&l, &r, false);
	ck_assert(!gp_learn_ready(&l));
	gp_learn_wipe(&l);
}
END_TEST

START_TEST(test_learn_switch)
{
	gp_core_learn_t l = {0};
	uint8_t p[128];
	size_t n;

	/* ed25519 first, then the server switches to native with a nonce of its own */
	greeted(&l);
	myp_hsresp_t r = hsresp("app", reply1, N, "client_ed25519");
	gp_learn_hsresp(&l, &r, false);
	ck_assert(!gp_learn_ready(&l));
	n = authswitch(p, MYP_NATIVE_PLUGIN, switch_nonce);
	gp_learn_server(&l, p, n, n);
	ck_assert(!gp_learn_ready(&l)); /* the client has not answered yet */
	gp_learn_client(&l, reply2, N, N);
	ck_assert(gp_learn_ready(&l));
	ck_assert_mem_eq(l.ex->nonce, switch_nonce, N);
	ck_assert_mem_eq(l.ex->reply, reply2, N);

	/* deferred: the first reply answered the proxy's nonce; only the switch teaches */
	greeted(&l);
	r = hsresp("app", reply1, N, MYP_NATIVE_PLUGIN);
	gp_learn_hsresp(&l, &r, true);
	ck_assert(!gp_learn_ready(&l));
	gp_learn_server(&l, p, n, n);
	gp_learn_client(&l, reply2, N, N);
	ck_assert(gp_learn_ready(&l));
	ck_assert_mem_eq(l.ex->nonce, switch_nonce, N);

	/* a switch to another plugin, or a plugin's own round, teaches nothing */
	greeted(&l);
	r = hsresp("app", reply1, N, MYP_NATIVE_PLUGIN);
	gp_learn_hsresp(&l, &r, false);
	n = authswitch(p, "client_ed25519", switch_nonce);
	gp_learn_server(&l, p, n, n);
	gp_learn_client(&l, reply2, N, N);
	ck_assert(!gp_learn_ready(&l));
	greeted(&l);
	gp_learn_hsresp(&l, &r, false);
	const uint8_t more[] = {0x01, 0x03};
	gp_learn_server(&l, more, sizeof(more), sizeof(more));
	ck_assert(!gp_learn_ready(&l));

	/* a switch seen only in part (a prefix): its nonce is unknown */
	greeted(&l);
	gp_learn_hsresp(&l, &r, false);
	n = authswitch(p, MYP_NATIVE_PLUGIN, switch_nonce);
	gp_learn_server(&l, p, 32, n);
	gp_learn_client(&l, reply2, N, N);
	ck_assert(!gp_learn_ready(&l));
	gp_learn_wipe(&l);
}
END_TEST

START_TEST(test_learn_change_user)
{
	gp_core_learn_t l = {0};
	uint8_t p[256], sw[128];

	/* whole: the greeting's nonce and the reply in the command */
	greeted(&l);
	size_t n = change_user(p, "bob", reply1);
	gp_learn_change_user(&l, p, n, n, caps);
	ck_assert(gp_learn_ready(&l));
	ck_assert_str_eq(l.ex->user, "bob");
	ck_assert_mem_eq(l.ex->nonce, greet_nonce, N);
	ck_assert_mem_eq(l.ex->reply, reply1, N);

	/* a prefix holding the name and the reply (the plugin cut off) */
	greeted(&l);
	gp_learn_change_user(&l, p, 1 + 4 + 1 + N, n, caps);
	ck_assert(gp_learn_ready(&l));
	ck_assert_mem_eq(l.ex->reply, reply1, N);

	/* a prefix cut inside the reply: only a switch can teach */
	greeted(&l);
	gp_learn_change_user(&l, p, 12, n, caps);
	ck_assert(!gp_learn_ready(&l));
	ck_assert_str_eq(l.ex->user, "bob");
	size_t ns = authswitch(sw, MYP_NATIVE_PLUGIN, greet_nonce);
	gp_learn_server(&l, sw, ns, ns);
	gp_learn_client(&l, reply1, N, N);
	ck_assert(gp_learn_ready(&l));

	/* a name the proxy cannot hold whole learns nothing */
	char longname[GP_LEARN_USER_MAX + 2];
	memset(longname, 'u', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	uint8_t big[GP_LEARN_USER_MAX + 128];
	greeted(&l);
	n = change_user(big, longname, reply1);
	gp_learn_change_user(&l, big, n, n, caps);
	ck_assert(!gp_learn_ready(&l));
	gp_learn_wipe(&l);
}
END_TEST

START_TEST(test_learn_wipe)
{
	gp_core_learn_t l = {0};
	greeted(&l);
	myp_hsresp_t r = hsresp("app", reply1, N, MYP_NATIVE_PLUGIN);
	gp_learn_hsresp(&l, &r, false);
	gp_learn_wipe(&l);
	ck_assert(!gp_learn_ready(&l));
	ck_assert_ptr_null(l.ex); /* wiped (explicit_bzero) and freed: an idle session holds none */
	/* the greeting's nonce stays: a later COM_CHANGE_USER answers it */
	ck_assert(l.greet_ok);
	ck_assert_mem_eq(l.greet_nonce, greet_nonce, N);
	gp_learn_wipe(&l);
}
END_TEST

static Suite *learn_suite(void)
{
	Suite *s = suite_create("core_learn");
	TCase *tc = tcase_create("core_learn");

	tcase_add_test(tc, test_learn_handshake);
	tcase_add_test(tc, test_learn_switch);
	tcase_add_test(tc, test_learn_change_user);
	tcase_add_test(tc, test_learn_wipe);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return gp_check_run(learn_suite(), CK_ENV);
}
