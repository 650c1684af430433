/* core_learn.c - keeps the user, nonce and reply of a relayed native-password login. */
#include "session/core_learn.h"

#include <string.h>

#include "codec/myp_login.h"

/* The plugin a packet names is mysql_native_password (none named: the client's default,
 * which for a client that sends no name is the native one). */
static bool learn_is_native(const uint8_t *plugin, size_t len)
{
	return !plugin || (len == sizeof(MYP_NATIVE_PLUGIN) - 1 &&
	                   !memcmp(plugin, MYP_NATIVE_PLUGIN, sizeof(MYP_NATIVE_PLUGIN) - 1));
}

static void learn_user(gp_core_learn_t *l, const uint8_t *user, size_t len)
{
	l->user_ok = user && len <= GP_LEARN_USER_MAX && !memchr(user, '\0', len);
	if (!l->user_ok)
		len = 0;
	if (len)
		memcpy(l->user, user, len);
	l->user[len] = '\0';
}

/* The reply answers the nonce in hand when it is a native one (20 bytes, or none). */
static void learn_reply(gp_core_learn_t *l, const uint8_t *reply, size_t len)
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

void gp_learn_hsresp(gp_core_learn_t *l, const myp_hsresp_t *r, bool deferred)
{
	gp_learn_wipe(l);
	learn_user(l, r->user, r->user_len);
	l->native = !deferred && learn_is_native(r->auth_plugin, r->auth_plugin_len);
	l->nonce_ok = l->native && l->greet_ok;
	if (l->nonce_ok)
		memcpy(l->nonce, l->greet_nonce, MYP_NATIVE_AUTH_LEN);
	learn_reply(l, r->auth, r->auth_len);
}

void gp_learn_change_user(gp_core_learn_t *l, const uint8_t *p, size_t n, size_t len, uint64_t caps)
{
	gp_learn_wipe(l);
	myp_change_user_full_t cu;
	if (n == len && myp_change_user_full_parse(p, n, caps, &cu) == MYP_OK) {
		learn_user(l, cu.user, cu.user_len);
		l->native = learn_is_native(cu.auth_plugin, cu.auth_plugin_len);
		l->nonce_ok = l->native && l->greet_ok;
		if (l->nonce_ok)
			memcpy(l->nonce, l->greet_nonce, MYP_NATIVE_AUTH_LEN);
		learn_reply(l, cu.auth, cu.auth_len);
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
	learn_user(l, c.user, c.user_len);
	l->native = true;
	size_t off = (size_t)(c.user - p) + c.user_len + 1; /* past the name's NUL */
	if (!(caps & MYP_CLIENT_SECURE_CONNECTION) || off >= n || off + 1 + p[off] > n)
		return;
	l->nonce_ok = l->greet_ok;
	if (l->nonce_ok)
		memcpy(l->nonce, l->greet_nonce, MYP_NATIVE_AUTH_LEN);
	learn_reply(l, p + off + 1, p[off]);
}

void gp_learn_server(gp_core_learn_t *l, const uint8_t *p, size_t n, size_t len)
{
	myp_authswitch_t as;
	l->want_reply = false;
	if (n == len && n > 1 && p[0] == 0xFE && myp_authswitch_parse(p, n, &as) == MYP_OK &&
	    learn_is_native(as.plugin, as.plugin_len) && as.plugin &&
	    (as.data_len == MYP_NATIVE_AUTH_LEN ||
	     (as.data_len == MYP_NATIVE_AUTH_LEN + 1 && as.data[MYP_NATIVE_AUTH_LEN] == 0))) {
		memcpy(l->nonce, as.data, MYP_NATIVE_AUTH_LEN);
		l->nonce_ok = l->native = l->want_reply = true;
		l->reply_ok = false;
		return;
	}
	l->native = false; /* another plugin's round: nothing to learn from this login */
}

void gp_learn_client(gp_core_learn_t *l, const uint8_t *p, size_t n, size_t len)
{
	if (!l->want_reply)
		return;
	l->want_reply = false;
	if (n == len)
		learn_reply(l, p, n);
	else
		l->reply_ok = false;
}

bool gp_learn_ready(const gp_core_learn_t *l)
{
	return l->native && l->user_ok && l->nonce_ok && l->reply_ok && !l->want_reply;
}

void gp_learn_wipe(gp_core_learn_t *l)
{
	uint8_t greet[MYP_NATIVE_AUTH_LEN];
	bool greet_ok = l->greet_ok;
	memcpy(greet, l->greet_nonce, sizeof(greet));
	explicit_bzero(l, sizeof(*l));
	memcpy(l->greet_nonce, greet, sizeof(greet));
	l->greet_ok = greet_ok;
}
