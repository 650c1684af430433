/* auth.c - mysql_native_password: learn SHA1(password) from a login, answer a new nonce with it. */
#include <string.h>

#include <nettle/memops.h>
#include <nettle/sha1.h>

#include "session/auth.h"

_Static_assert(SHA1_DIGEST_SIZE == GP_AUTH_SHA1_LEN, "a SHA1 digest is 20 bytes");

/* The nonce without the NUL an AuthSwitchRequest adds; false if it is not 20 bytes. */
static bool nonce_ok(const uint8_t *nonce, size_t *len)
{
	if (!nonce)
		return false;
	if (*len == GP_AUTH_SHA1_LEN + 1 && nonce[GP_AUTH_SHA1_LEN] == 0)
		*len = GP_AUTH_SHA1_LEN;
	return *len == GP_AUTH_SHA1_LEN;
}

static int hex_digit(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool gp_auth_hash_parse(const void *s, size_t len, gp_auth_hash_t *out)
{
	const uint8_t *p = s;

	memset(out, 0, sizeof(*out));
	if (len == 0) {
		out->empty = true;
		return true;
	}
	if (len == GP_AUTH_SHA1_LEN) {
		memcpy(out->h, p, GP_AUTH_SHA1_LEN);
		return true;
	}
	if (len != GP_AUTH_HASH_TEXT || p[0] != '*')
		return false;
	for (size_t i = 0; i < GP_AUTH_SHA1_LEN; i++) {
		int hi = hex_digit(p[1 + 2 * i]), lo = hex_digit(p[2 + 2 * i]);

		if (hi < 0 || lo < 0) {
			explicit_bzero(out, sizeof(*out));
			return false;
		}
		out->h[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* SHA1(nonce + stored): what the reply is XORed with. */
static void mix_n(const uint8_t *nonce, size_t nonce_len, const uint8_t *stored,
                  uint8_t out[GP_AUTH_SHA1_LEN])
{
	struct sha1_ctx c;

	sha1_init(&c);
	sha1_update(&c, nonce_len, nonce);
	sha1_update(&c, GP_AUTH_SHA1_LEN, stored);
	sha1_digest(&c, GP_AUTH_SHA1_LEN, out);
	explicit_bzero(&c, sizeof(c));
}

static void mix(const uint8_t *nonce, const uint8_t *stored, uint8_t out[GP_AUTH_SHA1_LEN])
{
	mix_n(nonce, GP_AUTH_SHA1_LEN, stored, out);
}

static void sha1_of(const uint8_t *in, uint8_t out[GP_AUTH_SHA1_LEN])
{
	struct sha1_ctx c;

	sha1_init(&c);
	sha1_update(&c, GP_AUTH_SHA1_LEN, in);
	sha1_digest(&c, GP_AUTH_SHA1_LEN, out);
	explicit_bzero(&c, sizeof(c));
}

bool gp_auth_native_learn(const uint8_t *nonce, size_t nonce_len, const uint8_t *reply,
                          size_t reply_len, const gp_auth_hash_t *stored, gp_auth_secret_t *out)
{
	uint8_t m[GP_AUTH_SHA1_LEN], check[GP_AUTH_SHA1_LEN];
	bool ok;

	explicit_bzero(out, sizeof(*out));
	if (stored->empty || reply_len == 0) {
		/* the server accepts an empty reply for an empty password, and nothing else */
		out->empty = stored->empty && reply_len == 0;
		return out->empty;
	}
	if (!nonce_ok(nonce, &nonce_len) || reply_len != GP_AUTH_SHA1_LEN || !reply)
		return false;
	mix(nonce, stored->h, m);
	for (size_t i = 0; i < GP_AUTH_SHA1_LEN; i++)
		out->sha1[i] = reply[i] ^ m[i];
	sha1_of(out->sha1, check);
	ok = memeql_sec(check, stored->h, GP_AUTH_SHA1_LEN);
	explicit_bzero(m, sizeof(m));
	explicit_bzero(check, sizeof(check));
	if (!ok)
		explicit_bzero(out, sizeof(*out));
	return ok;
}

size_t gp_auth_native_reply(const gp_auth_secret_t *s, const uint8_t *nonce, size_t nonce_len,
                            uint8_t out[GP_AUTH_SHA1_LEN])
{
	uint8_t stored[GP_AUTH_SHA1_LEN], m[GP_AUTH_SHA1_LEN];

	if (s->empty || !nonce_ok(nonce, &nonce_len))
		return 0;
	sha1_of(s->sha1, stored);
	mix(nonce, stored, m);
	for (size_t i = 0; i < GP_AUTH_SHA1_LEN; i++)
		out[i] = s->sha1[i] ^ m[i];
	explicit_bzero(stored, sizeof(stored));
	explicit_bzero(m, sizeof(m));
	return GP_AUTH_SHA1_LEN;
}

bool gp_auth_secret_matches(const gp_auth_secret_t *s, const gp_auth_hash_t *stored)
{
	uint8_t h[GP_AUTH_SHA1_LEN];
	bool ok;

	if (s->empty || stored->empty)
		return s->empty && stored->empty;
	sha1_of(s->sha1, h);
	ok = memeql_sec(h, stored->h, GP_AUTH_SHA1_LEN);
	explicit_bzero(h, sizeof(h));
	return ok;
}

void gp_auth_secret_wipe(gp_auth_secret_t *s)
{
	explicit_bzero(s, sizeof(*s));
}

void gp_auth_native_scramble(const char *pw, const uint8_t *scramble, size_t slen,
                             uint8_t out[GP_AUTH_SHA1_LEN])
{
	struct sha1_ctx c;
	uint8_t h1[GP_AUTH_SHA1_LEN], h2[GP_AUTH_SHA1_LEN], m[GP_AUTH_SHA1_LEN];

	if (slen > GP_AUTH_SHA1_LEN)
		slen = GP_AUTH_SHA1_LEN;
	sha1_init(&c);
	sha1_update(&c, strlen(pw), (const uint8_t *)pw);
	sha1_digest(&c, GP_AUTH_SHA1_LEN, h1);
	explicit_bzero(&c, sizeof(c));
	sha1_of(h1, h2);
	mix_n(scramble, slen, h2, m);
	for (size_t i = 0; i < GP_AUTH_SHA1_LEN; i++)
		out[i] = h1[i] ^ m[i];
	explicit_bzero(h1, sizeof(h1));
	explicit_bzero(h2, sizeof(h2));
	explicit_bzero(m, sizeof(m));
}
