/* auth.h - mysql_native_password: learn SHA1(password) from a login, answer a new nonce with it. */
#ifndef GP_AUTH_H
#define GP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * mysql_native_password: the server stores SHA1(SHA1(password)) ("*" + 40 hex digits in
 * mysql.global_priv); the client answers a 20-byte nonce with
 *     SHA1(password) XOR SHA1(nonce + SHA1(SHA1(password)))
 * (an empty reply for an empty password). Knowing the stored hash, the proxy recovers
 * SHA1(password) from a login it relayed and keeps it only if its SHA1 is the stored hash:
 * it then answers any nonce as the client would. SHA1(password) logs in as well as the
 * password does: the caller keeps gp_auth_secret_t in memory excluded from core dumps and
 * wipes it (gp_auth_secret_wipe) as soon as it is no longer needed. Every temporary here
 * is wiped before return. Nothing here logs.
 */

#define GP_AUTH_SHA1_LEN  20 /* a SHA1 digest; also the nonce's length */
#define GP_AUTH_HASH_TEXT 41 /* "*" + 40 hex digits */

/* The stored hash of one account: SHA1(SHA1(password)), or none (empty password). */
typedef struct gp_auth_hash {
	uint8_t h[GP_AUTH_SHA1_LEN]; /* SHA1(SHA1(password)) */
	bool empty;                  /* the account has an empty password (no hash) */
} gp_auth_hash_t;

/* What a login taught: enough to log in again. */
typedef struct gp_auth_secret {
	uint8_t sha1[GP_AUTH_SHA1_LEN]; /* SHA1(password) */
	bool empty;                     /* the password is empty: the reply is empty */
} gp_auth_secret_t;

/* Read a stored hash: "" (empty password), "*" + 40 hex digits (either case), or the 20 raw
 * bytes. False for anything else (another plugin's string). */
bool gp_auth_hash_parse(const void *s, size_t len, gp_auth_hash_t *out);

/* Recover the secret from a relayed login: nonce (20 bytes, or 21 ending in NUL as an
 * AuthSwitchRequest carries it), the client's reply, the stored hash. True, with *out set,
 * only if the reply proves the stored hash's password; false leaves *out wiped. */
bool gp_auth_native_learn(const uint8_t *nonce, size_t nonce_len, const uint8_t *reply,
                          size_t reply_len, const gp_auth_hash_t *stored, gp_auth_secret_t *out);

/* The reply to a new nonce (as for learn): writes out[0..GP_AUTH_SHA1_LEN) and returns its
 * length, 0 for an empty password (or a nonce of the wrong length: nothing written). */
size_t gp_auth_native_reply(const gp_auth_secret_t *s, const uint8_t *nonce, size_t nonce_len,
                            uint8_t out[GP_AUTH_SHA1_LEN]);

/* Whether the secret still matches a (refreshed) stored hash: a changed password, false. */
bool gp_auth_secret_matches(const gp_auth_secret_t *s, const gp_auth_hash_t *stored);

void gp_auth_secret_wipe(gp_auth_secret_t *s);

/* A login of the proxy's own (park.c's monitor login): the reply to scramble (its first
 * GP_AUTH_SHA1_LEN bytes at most) for the plain password pw. Leaves no copy of SHA1(pw). */
void gp_auth_native_scramble(const char *pw, const uint8_t *scramble, size_t slen,
                             uint8_t out[GP_AUTH_SHA1_LEN]);

#endif
