/* priv.c - one mysql.global_priv row: how its account logs in, if it may. */
#include <string.h>

#include <jansson.h>

#include "cluster/priv.h"

#define NATIVE_PLUGIN "mysql_native_password"
#define NATIVE_HASH   41 /* "*" + 40 hex digits: SHA1(SHA1(password)) */
#define SECS_PER_DAY  86400

/* A native password's authentication_string the proxy can check: none, or "*" + hex. */
static bool native_hash_ok(const char *s, size_t len)
{
	if (len == 0)
		return true;
	if (len != NATIVE_HASH || s[0] != '*')
		return false;
	for (size_t i = 1; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Copy s[0..len) with a NUL into dst[0..cap]; false if it does not fit. */
static bool copy_str(char *dst, size_t cap, const char *s, size_t len)
{
	if (len > cap)
		return false;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return true;
}

/* A string member of o (absent: ""), GP_EPROTO if it is there and not a string. */
static gp_status_t get_str(json_t *o, const char *key, const char **s, size_t *len)
{
	json_t *v = json_object_get(o, key);

	*s = "";
	*len = 0;
	if (!v)
		return GP_OK;
	if (!json_is_string(v))
		return GP_EPROTO;
	*s = json_string_value(v);
	*len = json_string_length(v);
	return GP_OK;
}

/* An integer member of o, dflt if absent. Numbers arrive as reals (JSON_DECODE_INT_AS_REAL):
 * "access" may be 2^64-1, which jansson's integers cannot hold. */
static gp_status_t get_int(json_t *o, const char *key, int64_t dflt, int64_t *out)
{
	json_t *v = json_object_get(o, key);
	double d;

	*out = dflt;
	if (!v)
		return GP_OK;
	if (!json_is_number(v))
		return GP_EPROTO;
	d = json_number_value(v);
	/* exact up to 2^53: unix times and day counts are far below */
	if (d != d || d < -9007199254740992.0 || d > 9007199254740992.0 || d != (double)(int64_t)d)
		return GP_EPROTO;
	*out = (int64_t)d;
	return GP_OK;
}

/* A boolean member of o, false if absent. */
static gp_status_t get_bool(json_t *o, const char *key, bool *out)
{
	json_t *v = json_object_get(o, key);

	*out = false;
	if (!v)
		return GP_OK;
	if (!json_is_boolean(v))
		return GP_EPROTO;
	*out = json_is_true(v);
	return GP_OK;
}

/* One way to log in, from an object with "plugin" and "authentication_string". */
static gp_status_t auth_from(json_t *o, gp_priv_auth_t *a)
{
	const char *plugin, *str;
	size_t plen, slen;
	gp_status_t st;

	if ((st = get_str(o, "plugin", &plugin, &plen)) != GP_OK ||
	    (st = get_str(o, "authentication_string", &str, &slen)) != GP_OK)
		return st;
	if (plen == 0) {
		/* rows from before plugins: the native password (or the old one, which the hash
		 * check below refuses) */
		plugin = NATIVE_PLUGIN;
		plen = strlen(NATIVE_PLUGIN);
	}
	if (!copy_str(a->plugin, GP_PRIV_PLUGIN_MAX, plugin, plen) ||
	    !copy_str(a->auth_string, GP_PRIV_AUTH_STR_MAX, str, slen))
		return GP_ELIMIT;
	a->auth_string_len = slen;
	a->native = strcmp(a->plugin, NATIVE_PLUGIN) == 0 && native_hash_ok(str, slen);
	return GP_OK;
}

/* The alternatives: auth_or's, each {} standing for the top-level pair; else that pair. */
static gp_status_t auths_from(json_t *root, gp_priv_t *out)
{
	json_t *alts = json_object_get(root, "auth_or"), *item;
	size_t i;
	gp_status_t st;

	if (!alts) {
		out->nauth = 1;
		return auth_from(root, &out->auth[0]);
	}
	if (!json_is_array(alts) || json_array_size(alts) == 0)
		return GP_EPROTO;
	if (json_array_size(alts) > GP_PRIV_MAX_AUTH)
		return GP_ELIMIT;
	json_array_foreach(alts, i, item)
	{
		if (!json_is_object(item))
			return GP_EPROTO;
		st = auth_from(json_object_size(item) ? item : root, &out->auth[i]);
		if (st != GP_OK)
			return st;
		out->nauth = i + 1;
	}
	return GP_OK;
}

gp_status_t gp_priv_parse(const char *user, size_t user_len, const char *host, size_t host_len,
                          const char *priv, size_t priv_len, gp_priv_t *out)
{
	json_error_t err;
	json_t *root;
	gp_status_t st = GP_OK;

	memset(out, 0, sizeof(*out));
	if (!copy_str(out->user, GP_PRIV_USER_MAX, user, user_len) ||
	    !copy_str(out->host, GP_PRIV_HOST_MAX, host, host_len))
		return GP_ELIMIT;
	/* err.text may quote the input: it is never shown */
	root = json_loadb(priv, priv_len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &err);
	explicit_bzero(&err, sizeof(err));
	if (!root || !json_is_object(root)) {
		json_decref(root);
		gp_priv_wipe(out);
		return GP_EPROTO;
	}
	if (st == GP_OK)
		st = get_bool(root, "is_role", &out->is_role);
	if (st == GP_OK)
		st = get_bool(root, "account_locked", &out->locked);
	if (st == GP_OK)
		st = get_int(root, "password_last_changed", -1, &out->password_last_changed);
	/* PASSWORD EXPIRE writes 0; a row without the key is as old as 0 for the lifetime
	 * check, but not expired by itself (checked against 10.11) */
	out->expired = out->password_last_changed == 0;
	if (out->password_last_changed < 0)
		out->password_last_changed = 0;
	if (st == GP_OK)
		st = get_int(root, "password_lifetime", -1, &out->password_lifetime);
	if (st == GP_OK)
		st = auths_from(root, out);
	json_decref(root);
	if (st != GP_OK) {
		gp_priv_wipe(out);
		return st;
	}
	return GP_OK;
}

bool gp_priv_password_expired(const gp_priv_t *p, int64_t now, int64_t default_lifetime_days)
{
	int64_t days = p->password_lifetime < 0 ? default_lifetime_days : p->password_lifetime;

	if (p->expired)
		return true;
	if (days <= 0)
		return false;
	return now > p->password_last_changed + days * SECS_PER_DAY;
}

bool gp_priv_learnable(const gp_priv_t *p)
{
	if (p->is_role || p->locked)
		return false;
	for (size_t i = 0; i < p->nauth; i++)
		if (p->auth[i].native)
			return true;
	return false;
}

void gp_priv_wipe(gp_priv_t *p)
{
	explicit_bzero(p, sizeof(*p));
}
