/* priv.h - one mysql.global_priv row: how its account logs in, if it may. */
#ifndef GP_PRIV_H
#define GP_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

/*
 * MariaDB 10.4+ keeps each account in mysql.global_priv: User, Host and Priv, a JSON object
 * (checked against 10.11): "plugin" and "authentication_string" (both absent on old rows:
 * mysql_native_password with an empty password), "auth_or" for IDENTIFIED VIA a OR b: the
 * alternatives in order, each {"plugin", "authentication_string"}, with one {} standing for
 * the top-level pair (which the server keeps on mysql_native_password when one of them is);
 * "account_locked": true; "password_last_changed": unix time, 0 after PASSWORD EXPIRE (a row
 * without it counts as changed at 0 for the lifetime, but is not expired by itself);
 * "password_lifetime": days, -1 (or absent) for the global default_password_lifetime, 0 for
 * never; "is_role": true for roles. The hashes are secrets too (they open an offline guess
 * of the password): they live in the struct only, which gp_priv_wipe clears, and nothing
 * here logs or puts a row's text into an error. (jansson's own copies of the row, freed
 * after parsing, are not wiped: a wiping allocator would be json_set_alloc_funcs at start.)
 */

#define GP_PRIV_USER_MAX     384 /* User char(128) in utf8mb3 */
#define GP_PRIV_HOST_MAX     765 /* Host char(255) in utf8mb3 */
#define GP_PRIV_PLUGIN_MAX   64  /* a plugin name (NAME_CHAR_LEN) */
#define GP_PRIV_AUTH_STR_MAX 512 /* an authentication_string (PAM service names, ed25519 keys) */
#define GP_PRIV_MAX_AUTH     8   /* alternatives in auth_or */

typedef struct gp_priv_auth {
	char plugin[GP_PRIV_PLUGIN_MAX + 1];        /* plugin name, never empty */
	char auth_string[GP_PRIV_AUTH_STR_MAX + 1]; /* authentication_string (secret) */
	size_t auth_string_len;                     /* its length */
	bool native; /* mysql_native_password with a hash the proxy can check: auth_string is
	              * "" (no password) or "*" + 40 hex digits (gp_auth_hash_parse reads it) */
} gp_priv_auth_t;

typedef struct gp_priv {
	char user[GP_PRIV_USER_MAX + 1];       /* User */
	char host[GP_PRIV_HOST_MAX + 1];       /* Host (a pattern: '%', '10.0.0.%', a name) */
	gp_priv_auth_t auth[GP_PRIV_MAX_AUTH]; /* the ways to log in, in the server's order */
	size_t nauth;                          /* how many (>= 1) */
	bool is_role;                          /* a role: nobody logs in as it */
	bool locked;                           /* ACCOUNT LOCK */
	bool expired;                          /* PASSWORD EXPIRE (password_last_changed 0) */
	int64_t password_last_changed;         /* unix time (0 if the row does not say) */
	int64_t password_lifetime;             /* days; -1: the global default; 0: never expires */
} gp_priv_t;

/* Parse one row into *out. GP_EPROTO: Priv is not JSON or a key has the wrong type;
 * GP_ELIMIT: a field is longer than the struct holds or auth_or has more than
 * GP_PRIV_MAX_AUTH alternatives. On failure *out is wiped. */
GP_WUR gp_status_t gp_priv_parse(const char *user, size_t user_len, const char *host,
                                 size_t host_len, const char *priv, size_t priv_len,
                                 gp_priv_t *out);

/* Whether the password has expired at now (unix time), given the server's
 * default_password_lifetime in days (0: never), as the server decides at login. */
bool gp_priv_password_expired(const gp_priv_t *p, int64_t now, int64_t default_lifetime_days);

/* Whether a login to this account can be learned: not a role, not locked, and at least one
 * alternative is mysql_native_password with a readable hash. */
bool gp_priv_learnable(const gp_priv_t *p);

/* Clear everything, the hashes included (explicit_bzero). */
void gp_priv_wipe(gp_priv_t *p);

#endif
