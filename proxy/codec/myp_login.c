/* myp_login.c - login packets a moved session needs: COM_CHANGE_USER in full, tracking asked. */
#include <string.h>

#include "myp_login.h"
#include "myp_wire.h"

myp_status_t myp_hsresp_add_caps(uint8_t *p, size_t n, uint64_t add_caps)
{
	uint32_t lo;

	if (add_caps & ~(uint64_t)MYP_HSRESP_ADDABLE_CAPS)
		return MYP_EPROTO;
	if (n < 4)
		return MYP_NEED_MORE;
	lo = myp_get_u32(p);
	lo |= (uint32_t)add_caps; /* every addable bit is one of the low 32 */
	myp_put_u32(p, lo);
	return MYP_OK;
}

myp_status_t myp_change_user_full_parse(const uint8_t *p, size_t n, uint64_t caps,
                                        myp_change_user_full_t *out)
{
	size_t off = 1;
	myp_status_t st;
	uint64_t alen;
	size_t used;

	memset(out, 0, sizeof(*out));
	if (n < 1)
		return MYP_NEED_MORE;
	if (p[0] != MYP_COM_CHANGE_USER)
		return MYP_EPROTO;
	if ((st = myp_get_strnul(p, n, &off, &out->user, &out->user_len)) != MYP_OK)
		return st;
	st = (caps & MYP_CLIENT_SECURE_CONNECTION)
	             ? myp_get_str1(p, n, &off, &out->auth, &out->auth_len)
	             : myp_get_strnul(p, n, &off, &out->auth, &out->auth_len);
	if (st != MYP_OK)
		return st;
	if ((st = myp_get_strnul(p, n, &off, &out->db, &out->db_len)) != MYP_OK)
		return st;
	if (n - off < 2)
		return MYP_OK; /* a 4.0-style packet: nothing more */
	out->charset = (uint16_t)(p[off] | p[off + 1] << 8);
	out->has_charset = true;
	off += 2;
	if ((caps & MYP_CLIENT_PLUGIN_AUTH) && off < n) {
		st = myp_get_strnul(p, n, &off, &out->auth_plugin, &out->auth_plugin_len);
		if (st != MYP_OK)
			return MYP_EPROTO; /* the whole payload: an unterminated name is broken */
	}
	if ((caps & MYP_CLIENT_CONNECT_ATTRS) && off < n) {
		if (myp_lenenc_int(p + off, n - off, &alen, &used, NULL) != MYP_OK ||
		    alen > n - off - used)
			return MYP_EPROTO;
		out->attrs = p + off + used;
		out->attrs_len = (size_t)alen;
	}
	return MYP_OK;
}
