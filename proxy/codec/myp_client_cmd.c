/* myp_client_cmd.c - client commands the proxy reads or rewrites: COM_PROCESS_KILL, a KILL
 * statement's id, COM_CHANGE_USER. */
#include <string.h>

#include "myp_wire.h"

#define PROCESS_KILL_LEN 5 /* 0x0C + 4-byte thread id */

myp_status_t myp_process_kill_parse(const uint8_t *p, size_t n, uint32_t *id)
{
	myp_status_t st = myp_cmd_head(p, n, MYP_COM_PROCESS_KILL, PROCESS_KILL_LEN);

	if (st == MYP_OK)
		*id = myp_get_u32(p + 1);
	return st;
}

myp_status_t myp_process_kill_set_id(uint8_t *p, size_t n, uint32_t id)
{
	uint32_t old;
	myp_status_t st = myp_process_kill_parse(p, n, &old);

	if (st != MYP_OK)
		return st;
	myp_put_u32(p + 1, id);
	return MYP_OK;
}

myp_status_t myp_query_set_number(uint8_t *p, size_t n, size_t off, size_t len, uint64_t v)
{
	uint8_t digits[20]; /* UINT64_MAX has 20 */
	size_t nd = 0;

	if (n < 1 || p[0] != MYP_COM_QUERY || off > n - 1 || len > n - 1 - off)
		return MYP_EPROTO;
	do {
		digits[nd++] = (uint8_t)('0' + v % 10);
		v /= 10;
	} while (v);
	if (nd > len)
		return MYP_EPROTO;
	uint8_t *d = p + 1 + off;
	for (size_t i = 0; i < nd; i++)
		d[i] = digits[nd - 1 - i];
	memset(d + nd, ' ', len - nd);
	return MYP_OK;
}

/*
 * As MariaDB 10.11 reads it (parse_com_change_user_packet): user NUL; the auth response as a
 * length byte and data under CLIENT_SECURE_CONNECTION, else NUL-terminated; database NUL;
 * then, only if at least two bytes are left, the collation id (2 bytes); plugin name and
 * attributes follow, which the proxy does not need.
 */
myp_status_t myp_change_user_parse(const uint8_t *p, size_t n, uint64_t caps,
                                   myp_change_user_t *out)
{
	const uint8_t *nul;
	size_t off = 1;

	memset(out, 0, sizeof(*out));
	if (n < 1)
		return MYP_NEED_MORE;
	if (p[0] != MYP_COM_CHANGE_USER)
		return MYP_EPROTO;
	if (!(nul = memchr(p + off, 0, n - off)))
		return MYP_NEED_MORE;
	out->user = p + off;
	out->user_len = (size_t)(nul - out->user);
	off += out->user_len + 1;
	if (caps & MYP_CLIENT_SECURE_CONNECTION) {
		if (off >= n)
			return MYP_NEED_MORE;
		size_t auth_len = p[off];
		off += 1 + auth_len;
	} else {
		if (off >= n || !(nul = memchr(p + off, 0, n - off)))
			return MYP_NEED_MORE;
		off = (size_t)(nul - p) + 1;
	}
	if (off >= n || !(nul = memchr(p + off, 0, n - off)))
		return MYP_NEED_MORE;
	off = (size_t)(nul - p) + 1;
	if (n - off >= 2) {
		out->charset = (uint16_t)(p[off] | p[off + 1] << 8);
		out->has_charset = true;
	}
	return MYP_OK;
}
