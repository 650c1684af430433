/* core_learn.c - keeps the user, nonce and reply of a relayed native-password login. */
#include "session/core_learn.h"

#include <stdlib.h>
#include <string.h>

#include "codec/myp_login.h"

/* The plugin a packet names is mysql_native_password (none named: the client's default,
 * which for a client that sends no name is the native one). */
static bool learn_is_native(const uint8_t *plugin, size_t len)
{
	return !plugin || (len == sizeof(MYP_NATIVE_PLUGIN) - 1 &&
	                   !memcmp(plugin, MYP_NATIVE_PLUGIN, sizeof(MYP_NATIVE_PLUGIN) - 1));
}

static void learn_user(gp_learn_ex_t *l, const uint8_t *user, size_t len)
{
	l->user_ok = user && len <= GP_LEARN_USER_MAX && !memchr(user, '\0', len);
	if (!l->user_ok)
		len = 0;
	if (len)
		memcpy(l->user, user, len);
	l->user[len] = '\0';
}

/* The reply answers the nonce in hand when it is a native one (20 bytes, or none). */
static void learn_reply(gp_learn_ex_t *l, const uint8_t *reply, size_t len)
{
	l->reply_ok = l->nonce_ok && (len == 0 || len == MYP_NATIVE_AUTH_LEN);
	l->reply_len = l->reply_ok ? (uint8_t)len : 0;
	if (l->reply_ok && len)
		memcpy(l->reply, reply, len);
}

void gp_learn_greeting(gp_core_learn_t *l, const myp_greeting_t *g)
{
	l->greet_ok = g->scramble_len == MYP_NATIVE_AUTH_LEN;
	if (l->greet_ok)
		memcpy(l->greet_nonce, g->scramble, MYP_NATIVE_AUTH_LEN);
}

/* A new exchange: the last one wiped, a zeroed one allocated (NULL: no memory, and then
 * nothing of this login is learned). */
static gp_learn_ex_t *learn_begin(gp_core_learn_t *l)
{
	gp_learn_wipe(l);
	l->ex = calloc(1, sizeof(*l->ex));
	return l->ex;
}

/* The exchange answers the greeting's nonce (a native one, greeting seen). */
static void learn_greet_nonce(const gp_core_learn_t *l, gp_learn_ex_t *x)
{
	x->nonce_ok = x->native && l->greet_ok;
	if (x->nonce_ok)
		memcpy(x->nonce, l->greet_nonce, MYP_NATIVE_AUTH_LEN);
}

void gp_learn_hsresp(gp_core_learn_t *l, const myp_hsresp_t *r, bool deferred)
{
	gp_learn_ex_t *x = learn_begin(l);
	if (!x)
		return;
	learn_user(x, r->user, r->user_len);
	x->native = !deferred && learn_is_native(r->auth_plugin, r->auth_plugin_len);
	learn_greet_nonce(l, x);
	learn_reply(x, r->auth, r->auth_len);
}

void gp_learn_change_user(gp_core_learn_t *l, const uint8_t *p, size_t n, size_t len, uint64_t caps)
{
	gp_learn_ex_t *x = learn_begin(l);
	if (!x)
		return;
	myp_change_user_full_t cu;
	if (n == len && myp_change_user_full_parse(p, n, caps, &cu) == MYP_OK) {
		learn_user(x, cu.user, cu.user_len);
		x->native = learn_is_native(cu.auth_plugin, cu.auth_plugin_len);
		learn_greet_nonce(l, x);
		learn_reply(x, cu.auth, cu.auth_len);
		return;
	}
	/* Longer than the core sees of a command (a plugin name and attributes follow): the
	 * name and the reply come first. The plugin it was computed for is cut off; the check
	 * against the stored native hash tells (another plugin's reply proves nothing). A
	 * server's AuthSwitchRequest, if one follows, brings its own nonce and reply. */
	myp_change_user_t c;
	myp_status_t st = myp_change_user_parse(p, n, caps, &c);
	if (st == MYP_EPROTO || !c.user)
		return;
	learn_user(x, c.user, c.user_len);
	x->native = true;
	size_t off = (size_t)(c.user - p) + c.user_len + 1; /* past the name's NUL */
	if (!(caps & MYP_CLIENT_SECURE_CONNECTION) || off >= n || off + 1 + p[off] > n)
		return;
	learn_greet_nonce(l, x);
	learn_reply(x, p + off + 1, p[off]);
}

void gp_learn_server(gp_core_learn_t *l, const uint8_t *p, size_t n, size_t len)
{
	myp_authswitch_t as;
	gp_learn_ex_t *x = l->ex;
	if (!x)
		return;
	x->want_reply = false;
	if (n == len && n > 1 && p[0] == 0xFE && myp_authswitch_parse(p, n, &as) == MYP_OK &&
	    learn_is_native(as.plugin, as.plugin_len) && as.plugin &&
	    (as.data_len == MYP_NATIVE_AUTH_LEN ||
	     (as.data_len == MYP_NATIVE_AUTH_LEN + 1 && as.data[MYP_NATIVE_AUTH_LEN] == 0))) {
		memcpy(x->nonce, as.data, MYP_NATIVE_AUTH_LEN);
		x->nonce_ok = x->native = x->want_reply = true;
		x->reply_ok = false;
		return;
	}
	x->native = false; /* another plugin's round: nothing to learn from this login */
}

void gp_learn_client(gp_core_learn_t *l, const uint8_t *p, size_t n, size_t len)
{
	gp_learn_ex_t *x = l->ex;
	if (!x || !x->want_reply)
		return;
	x->want_reply = false;
	if (n == len)
		learn_reply(x, p, n);
	else
		x->reply_ok = false;
}

bool gp_learn_ready(const gp_core_learn_t *l)
{
	const gp_learn_ex_t *x = l->ex;
	return x && x->native && x->user_ok && x->nonce_ok && x->reply_ok && !x->want_reply;
}

void gp_learn_wipe(gp_core_learn_t *l)
{
	if (!l->ex)
		return;
	explicit_bzero(l->ex, sizeof(*l->ex));
	free(l->ex);
	l->ex = NULL;
}
