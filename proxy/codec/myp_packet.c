/* myp_packet.c - packet framing: headers, length-encoded values, the encoder buffer, command names.
 */
#include <string.h>

#include "myp.h"

const char *myp_strstatus(myp_status_t st)
{
	switch (st) {
	case MYP_OK:
		return "ok";
	case MYP_NEED_MORE:
		return "need more data";
	case MYP_EPROTO:
		return "protocol error";
	case MYP_EOVERFLOW:
		return "buffer overflow";
	}
	return "unknown status";
}

/* ---- framing ---------------------------------------------------------- */

myp_status_t myp_frame_header(const uint8_t *p, size_t n, myp_frame_t *out)
{
	if (n < MYP_HEADER_LEN)
		return MYP_NEED_MORE;
	out->len = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
	out->seq = p[3];
	out->payload = p + MYP_HEADER_LEN;
	return MYP_OK;
}

myp_status_t myp_frame_packet(const uint8_t *p, size_t n, myp_frame_t *out)
{
	myp_status_t st = myp_frame_header(p, n, out);

	if (st != MYP_OK)
		return st;
	if (n - MYP_HEADER_LEN < out->len)
		return MYP_NEED_MORE;
	return MYP_OK;
}

void myp_frame_put_header(uint8_t *dst, uint32_t len, uint8_t seq)
{
	dst[0] = (uint8_t)len;
	dst[1] = (uint8_t)(len >> 8);
	dst[2] = (uint8_t)(len >> 16);
	dst[3] = seq;
}

/* ---- length-encoded integers and strings ------------------------------ */

myp_status_t myp_lenenc_int(const uint8_t *p, size_t n, uint64_t *val, size_t *used, bool *is_null)
{
	size_t width;
	uint64_t v = 0;

	if (n < 1)
		return MYP_NEED_MORE;
	if (is_null)
		*is_null = false;
	if (p[0] < 0xFB) {
		*val = p[0];
		*used = 1;
		return MYP_OK;
	}
	switch (p[0]) {
	case 0xFB:
		if (!is_null)
			return MYP_EPROTO; /* the caller's field cannot be NULL */
		*is_null = true;
		*val = 0;
		*used = 1;
		return MYP_OK;
	case 0xFC:
		width = 2;
		break;
	case 0xFD:
		width = 3;
		break;
	case 0xFE:
		width = 8;
		break;
	default:
		return MYP_EPROTO; /* 0xFF starts an ERR packet, never a number */
	}
	if (n < 1 + width)
		return MYP_NEED_MORE;
	for (size_t i = width; i > 0; i--)
		v = v << 8 | p[i];
	*val = v;
	*used = 1 + width;
	return MYP_OK;
}

myp_status_t myp_lenenc_str(const uint8_t *p, size_t n, const uint8_t **s, uint64_t *slen,
                            size_t *used)
{
	uint64_t len;
	size_t hdr;
	myp_status_t st = myp_lenenc_int(p, n, &len, &hdr, NULL);

	if (st != MYP_OK)
		return st;
	if (len > n - hdr)
		return MYP_NEED_MORE;
	*s = p + hdr;
	*slen = len;
	*used = hdr + (size_t)len;
	return MYP_OK;
}

size_t myp_lenenc_size(uint64_t v)
{
	if (v < 0xFB)
		return 1;
	if (v <= 0xFFFF)
		return 3;
	if (v <= 0xFFFFFF)
		return 4;
	return 9;
}

/* ---- encoder buffer ---------------------------------------------------- */

void myp_wbuf_init(myp_wbuf_t *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->failed = false;
}

/* Room for n more bytes? Marks the buffer failed (for good) when not. */
static bool wbuf_room(myp_wbuf_t *w, size_t n)
{
	if (w->failed || n > w->cap - w->len) {
		w->failed = true;
		return false;
	}
	return true;
}

/* Little-endian unsigned integer of width bytes. */
static void wbuf_le(myp_wbuf_t *w, uint64_t v, size_t width)
{
	if (!wbuf_room(w, width))
		return;
	for (size_t i = 0; i < width; i++)
		w->buf[w->len++] = (uint8_t)(v >> (8 * i));
}

void myp_wbuf_u8(myp_wbuf_t *w, uint8_t v)
{
	wbuf_le(w, v, 1);
}

void myp_wbuf_u16(myp_wbuf_t *w, uint16_t v)
{
	wbuf_le(w, v, 2);
}

void myp_wbuf_u24(myp_wbuf_t *w, uint32_t v)
{
	wbuf_le(w, v, 3);
}

void myp_wbuf_u32(myp_wbuf_t *w, uint32_t v)
{
	wbuf_le(w, v, 4);
}

void myp_wbuf_bytes(myp_wbuf_t *w, const void *p, size_t n)
{
	if (!wbuf_room(w, n))
		return;
	if (n)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void myp_wbuf_strnul(myp_wbuf_t *w, const char *s)
{
	myp_wbuf_bytes(w, s, strlen(s) + 1);
}

void myp_wbuf_lenenc_int(myp_wbuf_t *w, uint64_t v)
{
	size_t size = myp_lenenc_size(v);

	if (!wbuf_room(w, size))
		return;
	switch (size) {
	case 1:
		wbuf_le(w, v, 1);
		break;
	case 3:
		wbuf_le(w, 0xFC, 1);
		wbuf_le(w, v, 2);
		break;
	case 4:
		wbuf_le(w, 0xFD, 1);
		wbuf_le(w, v, 3);
		break;
	default:
		wbuf_le(w, 0xFE, 1);
		wbuf_le(w, v, 8);
		break;
	}
}

void myp_wbuf_lenenc_str(myp_wbuf_t *w, const void *p, size_t n)
{
	myp_wbuf_lenenc_int(w, n);
	myp_wbuf_bytes(w, p, n);
}

size_t myp_wbuf_packet_begin(myp_wbuf_t *w)
{
	size_t start = w->len;

	myp_wbuf_u32(w, 0);
	return start;
}

void myp_wbuf_packet_end(myp_wbuf_t *w, size_t start, uint8_t seq)
{
	size_t len;

	if (w->failed)
		return;
	if (start > w->len || w->len - start < MYP_HEADER_LEN) {
		w->failed = true; /* no matching packet_begin */
		return;
	}
	len = w->len - start - MYP_HEADER_LEN;
	if (len >= MYP_MAX_PAYLOAD) {
		/* would need splitting into continuation packets: not for this encoder */
		w->failed = true;
		return;
	}
	myp_frame_put_header(w->buf + start, (uint32_t)len, seq);
}

/* ---- commands ------------------------------------------------------------ */

const char *myp_cmd_name(uint8_t cmd)
{
	static const char *const names[] = {
	        [MYP_COM_SLEEP] = "sleep",
	        [MYP_COM_QUIT] = "quit",
	        [MYP_COM_INIT_DB] = "init_db",
	        [MYP_COM_QUERY] = "query",
	        [MYP_COM_FIELD_LIST] = "field_list",
	        [MYP_COM_CREATE_DB] = "create_db",
	        [MYP_COM_DROP_DB] = "drop_db",
	        [MYP_COM_REFRESH] = "refresh",
	        [MYP_COM_SHUTDOWN] = "shutdown",
	        [MYP_COM_STATISTICS] = "statistics",
	        [MYP_COM_PROCESS_INFO] = "process_info",
	        [MYP_COM_CONNECT] = "connect",
	        [MYP_COM_PROCESS_KILL] = "process_kill",
	        [MYP_COM_DEBUG] = "debug",
	        [MYP_COM_PING] = "ping",
	        [MYP_COM_TIME] = "time",
	        [MYP_COM_DELAYED_INSERT] = "delayed_insert",
	        [MYP_COM_CHANGE_USER] = "change_user",
	        [MYP_COM_BINLOG_DUMP] = "binlog_dump",
	        [MYP_COM_TABLE_DUMP] = "table_dump",
	        [MYP_COM_CONNECT_OUT] = "connect_out",
	        [MYP_COM_REGISTER_SLAVE] = "register_slave",
	        [MYP_COM_STMT_PREPARE] = "stmt_prepare",
	        [MYP_COM_STMT_EXECUTE] = "stmt_execute",
	        [MYP_COM_STMT_SEND_LONG_DATA] = "stmt_send_long_data",
	        [MYP_COM_STMT_CLOSE] = "stmt_close",
	        [MYP_COM_STMT_RESET] = "stmt_reset",
	        [MYP_COM_SET_OPTION] = "set_option",
	        [MYP_COM_STMT_FETCH] = "stmt_fetch",
	        [MYP_COM_DAEMON] = "daemon",
	        [MYP_COM_BINLOG_DUMP_GTID] = "binlog_dump_gtid",
	        [MYP_COM_RESET_CONNECTION] = "reset_connection",
	};

	if (cmd == MYP_COM_STMT_BULK_EXECUTE)
		return "stmt_bulk_execute";
	if (cmd == MYP_COM_MULTI)
		return "multi";
	if (cmd < sizeof(names) / sizeof(names[0]) && names[cmd])
		return names[cmd];
	return "unknown";
}

myp_cmd_kind_t myp_cmd_kind(uint8_t cmd)
{
	switch (cmd) {
	case MYP_COM_STMT_CLOSE:
	case MYP_COM_STMT_SEND_LONG_DATA:
		return MYP_CMDK_NO_RESPONSE;
	case MYP_COM_QUIT:
		return MYP_CMDK_QUIT;
	case MYP_COM_BINLOG_DUMP:
	case MYP_COM_BINLOG_DUMP_GTID:
	case MYP_COM_TABLE_DUMP:
	case MYP_COM_REGISTER_SLAVE:
	case MYP_COM_CONNECT_OUT:
	case MYP_COM_DAEMON:
	case MYP_COM_MULTI:
		return MYP_CMDK_UNSUPPORTED;
	default:
		/* unknown command bytes too: the server answers them with one ERR */
		return MYP_CMDK_RESPONSE;
	}
}
