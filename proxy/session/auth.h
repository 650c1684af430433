/* auth.h - the proxy's own login secrets: scrambling a password for mysql_native_password. */
#ifndef GP_AUTH_H
#define GP_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "codec/myp.h"

/* mysql_native_password's answer to scramble (its first MYP_NATIVE_AUTH_LEN bytes at most):
 * SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))). Leaves no copy of SHA1(pw) behind. */
void gp_auth_native_scramble(const char *pw, const uint8_t *scramble, size_t slen,
                             uint8_t out[MYP_NATIVE_AUTH_LEN]);

#endif
