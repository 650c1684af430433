/* myp_row.c - reading values out of text-protocol result rows. */
#include "myp.h"

myp_status_t myp_row_first_uint(const uint8_t *p, size_t n, uint64_t *val)
{
	const uint8_t *s;
	uint64_t slen;
	size_t used;
	myp_status_t st;

	if (n >= 1 && p[0] == 0xFB)
		return MYP_EPROTO; /* NULL: no number */
	if ((st = myp_lenenc_str(p, n, &s, &slen, &used)) != MYP_OK)
		return st;
	if (slen == 0 || slen > 20)
		return MYP_EPROTO; /* UINT64_MAX has 20 digits */
	uint64_t v = 0;
	for (uint64_t i = 0; i < slen; i++) {
		if (s[i] < '0' || s[i] > '9')
			return MYP_EPROTO;
		uint64_t d = (uint64_t)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return MYP_EPROTO;
		v = v * 10 + d;
	}
	*val = v;
	return MYP_OK;
}
