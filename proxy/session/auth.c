/* auth.c - scrambling the monitor's password for mysql_native_password (nettle's SHA1). */
#include "session/auth.h"

#include <nettle/sha1.h>
#include <string.h>

_Static_assert(SHA1_DIGEST_SIZE == MYP_NATIVE_AUTH_LEN, "native auth is one SHA1 long");

void gp_auth_native_scramble(const char *pw, const uint8_t *scramble, size_t slen,
                             uint8_t out[MYP_NATIVE_AUTH_LEN])
{
	struct sha1_ctx c;
	uint8_t h1[SHA1_DIGEST_SIZE], h2[SHA1_DIGEST_SIZE], h3[SHA1_DIGEST_SIZE];
	if (slen > MYP_NATIVE_AUTH_LEN)
		slen = MYP_NATIVE_AUTH_LEN;
	sha1_init(&c);
	sha1_update(&c, strlen(pw), (const uint8_t *)pw);
	sha1_digest(&c, SHA1_DIGEST_SIZE, h1);
	sha1_update(&c, SHA1_DIGEST_SIZE, h1);
	sha1_digest(&c, SHA1_DIGEST_SIZE, h2);
	sha1_update(&c, slen, scramble);
	sha1_update(&c, SHA1_DIGEST_SIZE, h2);
	sha1_digest(&c, SHA1_DIGEST_SIZE, h3);
	for (size_t i = 0; i < SHA1_DIGEST_SIZE; i++)
		out[i] = h1[i] ^ h3[i];
	/* SHA1(pw) logs in as well as the password does: leave no copy on the stack. */
	explicit_bzero(h1, sizeof(h1));
	explicit_bzero(h2, sizeof(h2));
	explicit_bzero(h3, sizeof(h3));
	explicit_bzero(&c, sizeof(c));
}
