/* myp_stmt.c - server-side prepared statements: prepare, its OK, statement ids, EXECUTE. */
#include <string.h>

#include "myp_stmt.h"
#include "myp_wire.h"

#define STMT_ID_END      5  /* command byte + 4-byte id */
#define PREPARE_OK_LEN   12 /* 0x00, id 4, columns 2, params 2, filler 1, warnings 2 */
#define EXECUTE_HEAD_LEN 10 /* command, id 4, flags 1, iterations 4 */

void myp_stmt_prepare_build(myp_wbuf_t *w, const char *sql, size_t len)
{
	size_t start = myp_wbuf_packet_begin(w);

	myp_wbuf_u8(w, MYP_COM_STMT_PREPARE);
	myp_wbuf_bytes(w, sql, len);
	myp_wbuf_packet_end(w, start, 0);
}

myp_status_t myp_stmt_prepare_ok_parse(const uint8_t *p, size_t n, myp_stmt_prepare_ok_t *out)
{
	myp_status_t st = myp_cmd_head(p, n, 0x00, PREPARE_OK_LEN);

	if (st != MYP_OK)
		return st; /* MySQL 8 may add a metadata_follows byte: longer is fine */
	out->stmt_id = myp_get_u32(p + 1);
	out->columns = myp_get_u16(p + 5);
	out->params = myp_get_u16(p + 7);
	out->warnings = myp_get_u16(p + 10);
	return MYP_OK;
}

bool myp_stmt_cmd_has_id(uint8_t cmd)
{
	switch (cmd) {
	case MYP_COM_STMT_EXECUTE:
	case MYP_COM_STMT_SEND_LONG_DATA:
	case MYP_COM_STMT_FETCH:
	case MYP_COM_STMT_RESET:
	case MYP_COM_STMT_CLOSE:
	case MYP_COM_STMT_BULK_EXECUTE:
		return true;
	default:
		break;
	}
	return false;
}

myp_status_t myp_stmt_id_parse(const uint8_t *p, size_t n, uint32_t *id)
{
	if (n < 1)
		return MYP_NEED_MORE;
	if (!myp_stmt_cmd_has_id(p[0]))
		return MYP_EPROTO;
	if (n < STMT_ID_END)
		return MYP_NEED_MORE;
	*id = myp_get_u32(p + 1);
	return MYP_OK;
}

myp_status_t myp_stmt_id_rewrite(uint8_t *p, size_t n, myp_stmt_map_fn map, void *ctx)
{
	uint32_t id, to;
	myp_status_t st;

	if (n >= 1 && !myp_stmt_cmd_has_id(p[0]))
		return MYP_OK;
	if ((st = myp_stmt_id_parse(p, n, &id)) != MYP_OK)
		return st;
	if (id == MYP_STMT_ID_DIRECT)
		return MYP_OK;
	if (!map(ctx, id, &to))
		return MYP_EPROTO;
	myp_put_u32(p + 1, to);
	return MYP_OK;
}

myp_status_t myp_stmt_execute_parse(const uint8_t *p, size_t n, uint16_t params,
                                    myp_stmt_exec_t *out)
{
	size_t off = EXECUTE_HEAD_LEN;
	myp_status_t st;

	memset(out, 0, sizeof(*out));
	if ((st = myp_cmd_head(p, n, MYP_COM_STMT_EXECUTE, EXECUTE_HEAD_LEN)) != MYP_OK)
		return st;
	out->stmt_id = myp_get_u32(p + 1);
	out->flags = p[5];
	out->iterations = myp_get_u32(p + 6);
	if (params) {
		out->nulls_len = ((size_t)params + 7) / 8;
		if (n - off < out->nulls_len + 1)
			return MYP_NEED_MORE;
		out->nulls = p + off;
		off += out->nulls_len;
		if (p[off] > 1)
			return MYP_EPROTO; /* new_params_bound_flag is 0 or 1 */
		out->types_bound = p[off++] == 1;
		if (out->types_bound) {
			out->types_len = (size_t)params * MYP_STMT_PARAM_TYPE_LEN;
			if (n - off < out->types_len)
				return MYP_NEED_MORE;
			out->types = p + off;
			off += out->types_len;
		}
	}
	out->values = p + off;
	out->values_len = n - off;
	return MYP_OK;
}

void myp_stmt_execute_build(myp_wbuf_t *w, const myp_stmt_exec_t *e, uint32_t stmt_id,
                            const uint8_t *types, size_t types_len)
{
	size_t start = myp_wbuf_packet_begin(w);

	myp_wbuf_u8(w, MYP_COM_STMT_EXECUTE);
	myp_wbuf_u32(w, stmt_id);
	myp_wbuf_u8(w, e->flags);
	myp_wbuf_u32(w, e->iterations);
	if (e->nulls_len) {
		myp_wbuf_bytes(w, e->nulls, e->nulls_len);
		myp_wbuf_u8(w, 1);
		myp_wbuf_bytes(w, types, types_len);
	}
	myp_wbuf_bytes(w, e->values, e->values_len);
	myp_wbuf_packet_end(w, start, 0);
}
