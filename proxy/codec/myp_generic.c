/* myp_generic.c - the generic packets: OK, ERR, EOF, progress reports, plain commands. */
#include <string.h>

#include "myp.h"

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* A length-encoded integer that may not be NULL, advancing *off. */
static myp_status_t get_lenenc(const uint8_t *p, size_t n, size_t *off, uint64_t *v)
{
	size_t used;
	myp_status_t st = myp_lenenc_int(p + *off, n - *off, v, &used, NULL);

	if (st == MYP_OK)
		*off += used;
	return st;
}

/* A length-encoded string, advancing *off. */
static myp_status_t get_lenenc_str(const uint8_t *p, size_t n, size_t *off, const uint8_t **s,
                                   size_t *slen)
{
	uint64_t len;
	size_t used;
	myp_status_t st = myp_lenenc_str(p + *off, n - *off, s, &len, &used);

	if (st != MYP_OK)
		return st;
	*slen = (size_t)len;
	*off += used;
	return MYP_OK;
}

myp_status_t myp_ok_parse(const uint8_t *p, size_t n, uint64_t caps, myp_ok_t *out)
{
	size_t off = 1;
	myp_status_t st;

	if (n < 1)
		return MYP_NEED_MORE;
	if (p[0] != 0x00 && p[0] != 0xFE)
		return MYP_EPROTO;
	memset(out, 0, sizeof(*out));
	if ((st = get_lenenc(p, n, &off, &out->affected_rows)) != MYP_OK)
		return st;
	if ((st = get_lenenc(p, n, &off, &out->last_insert_id)) != MYP_OK)
		return st;
	if (caps & MYP_CLIENT_PROTOCOL_41) {
		if (n - off < 4)
			return MYP_NEED_MORE;
		out->status = get_u16(p + off);
		out->warnings = get_u16(p + off + 2);
		off += 4;
	} else if (caps & MYP_CLIENT_TRANSACTIONS) {
		if (n - off < 2)
			return MYP_NEED_MORE;
		out->status = get_u16(p + off);
		off += 2;
	}
	if (caps & MYP_CLIENT_SESSION_TRACK) {
		/* The server writes the info string only when it has one or a state change
		 * follows; the state-change block only with SERVER_SESSION_STATE_CHANGED. */
		bool changed = out->status & MYP_SERVER_SESSION_STATE_CHANGED;

		if (off < n || changed) {
			st = get_lenenc_str(p, n, &off, &out->info, &out->info_len);
			if (st != MYP_OK)
				return st;
		}
		if (changed) {
			st = get_lenenc_str(p, n, &off, &out->session_state,
			                    &out->session_state_len);
			if (st != MYP_OK)
				return st;
		}
	} else {
		out->info = p + off; /* string<EOF> */
		out->info_len = n - off;
	}
	if (out->info_len == 0)
		out->info = NULL;
	if (out->session_state_len == 0)
		out->session_state = NULL;
	return MYP_OK;
}

myp_status_t myp_err_parse(const uint8_t *p, size_t n, uint64_t caps, myp_err_t *out)
{
	size_t off = 3;

	if (n < 1)
		return MYP_NEED_MORE;
	if (p[0] != 0xFF)
		return MYP_EPROTO;
	if (n < 3)
		return MYP_NEED_MORE;
	memset(out, 0, sizeof(*out));
	out->code = get_u16(p + 1);
	memcpy(out->sqlstate, "HY000", 6);
	if (out->code == 0xFFFF && (caps & MYP_MARIADB_CLIENT_PROGRESS)) {
		/* a progress report: the "message" is the progress data (myp_progress_parse) */
		out->message = p + 3;
		out->message_len = n - 3;
		return MYP_OK;
	}
	/* Like libmariadb, look for the '#' marker whatever the caps: servers send the
	 * SQLSTATE to every 4.1 client, and an ERR before the handshake has no caps yet. */
	if (n > 3 && p[3] == '#') {
		if (n < 9)
			return MYP_NEED_MORE;
		memcpy(out->sqlstate, p + 4, 5);
		out->sqlstate[5] = '\0';
		off = 9;
	}
	out->message = p + off;
	out->message_len = n - off;
	return MYP_OK;
}

myp_status_t myp_eof_parse(const uint8_t *p, size_t n, myp_eof_t *out)
{
	if (n < 1)
		return MYP_NEED_MORE;
	if (p[0] != 0xFE || n >= 9)
		return MYP_EPROTO; /* 9 bytes or more starting 0xFE is a row or an OK */
	if (n < 5)
		return MYP_NEED_MORE; /* the 1-byte pre-4.1 EOF is not supported */
	out->warnings = get_u16(p + 1);
	out->status = get_u16(p + 3);
	return MYP_OK;
}

myp_status_t myp_progress_parse(const uint8_t *p, size_t n, myp_progress_t *out)
{
	size_t off = 9;
	myp_status_t st;

	if (n < 1)
		return MYP_NEED_MORE;
	if (p[0] != 0xFF || (n >= 2 && p[1] != 0xFF) || (n >= 3 && p[2] != 0xFF))
		return MYP_EPROTO;
	if (n < 9)
		return MYP_NEED_MORE;
	/* p[3] counts the strings that follow (1 today): room to grow, skipped */
	memset(out, 0, sizeof(*out));
	out->stage = p[4];
	out->max_stage = p[5];
	out->progress = (uint32_t)p[6] | (uint32_t)p[7] << 8 | (uint32_t)p[8] << 16;
	st = get_lenenc_str(p, n, &off, &out->info, &out->info_len);
	return st;
}

/* OK body shared by the 0x00 and 0xFE forms. */
static void ok_build(myp_wbuf_t *w, uint8_t seq, uint64_t caps, const myp_ok_t *ok, uint8_t hdr)
{
	size_t start = myp_wbuf_packet_begin(w);

	myp_wbuf_u8(w, hdr);
	myp_wbuf_lenenc_int(w, ok->affected_rows);
	myp_wbuf_lenenc_int(w, ok->last_insert_id);
	if (caps & MYP_CLIENT_PROTOCOL_41) {
		myp_wbuf_u16(w, ok->status);
		myp_wbuf_u16(w, ok->warnings);
	} else if (caps & MYP_CLIENT_TRANSACTIONS) {
		myp_wbuf_u16(w, ok->status);
	}
	if (caps & MYP_CLIENT_SESSION_TRACK) {
		bool changed = ok->status & MYP_SERVER_SESSION_STATE_CHANGED;

		if (ok->info_len || changed)
			myp_wbuf_lenenc_str(w, ok->info, ok->info_len);
		if (changed)
			myp_wbuf_lenenc_str(w, ok->session_state, ok->session_state_len);
	} else {
		myp_wbuf_bytes(w, ok->info, ok->info_len);
	}
	myp_wbuf_packet_end(w, start, seq);
}

void myp_ok_build(myp_wbuf_t *w, uint8_t seq, uint64_t caps, const myp_ok_t *ok)
{
	ok_build(w, seq, caps, ok, 0x00);
}

void myp_ok_eof_build(myp_wbuf_t *w, uint8_t seq, uint64_t caps, const myp_ok_t *ok)
{
	ok_build(w, seq, caps, ok, 0xFE);
}

void myp_err_build(myp_wbuf_t *w, uint8_t seq, uint64_t caps, uint16_t code, const char *sqlstate,
                   const char *message)
{
	size_t start = myp_wbuf_packet_begin(w);

	if (!sqlstate || strlen(sqlstate) != 5)
		sqlstate = "HY000";
	myp_wbuf_u8(w, 0xFF);
	myp_wbuf_u16(w, code);
	if (caps & MYP_CLIENT_PROTOCOL_41) {
		myp_wbuf_u8(w, '#');
		myp_wbuf_bytes(w, sqlstate, 5);
	}
	if (message)
		myp_wbuf_bytes(w, message, strlen(message));
	myp_wbuf_packet_end(w, start, seq);
}

void myp_eof_build(myp_wbuf_t *w, uint8_t seq, uint16_t warnings, uint16_t status)
{
	size_t start = myp_wbuf_packet_begin(w);

	myp_wbuf_u8(w, 0xFE);
	myp_wbuf_u16(w, warnings);
	myp_wbuf_u16(w, status);
	myp_wbuf_packet_end(w, start, seq);
}

void myp_progress_build(myp_wbuf_t *w, uint8_t seq, const myp_progress_t *pr)
{
	size_t start = myp_wbuf_packet_begin(w);

	myp_wbuf_u8(w, 0xFF);
	myp_wbuf_u16(w, 0xFFFF);
	myp_wbuf_u8(w, 1); /* one string follows */
	myp_wbuf_u8(w, pr->stage);
	myp_wbuf_u8(w, pr->max_stage);
	myp_wbuf_u24(w, pr->progress);
	myp_wbuf_lenenc_str(w, pr->info, pr->info_len);
	myp_wbuf_packet_end(w, start, seq);
}

/* ---- commands the proxy sends itself ------------------------------------------ */

void myp_query_build(myp_wbuf_t *w, uint64_t caps, const char *sql, size_t len)
{
	size_t start = myp_wbuf_packet_begin(w);

	myp_wbuf_u8(w, MYP_COM_QUERY);
	if (caps & MYP_CLIENT_QUERY_ATTRIBUTES) {
		myp_wbuf_lenenc_int(w, 0); /* parameter count */
		myp_wbuf_lenenc_int(w, 1); /* parameter sets: always 1 */
	}
	myp_wbuf_bytes(w, sql, len);
	myp_wbuf_packet_end(w, start, 0);
}

void myp_cmd_build(myp_wbuf_t *w, uint8_t cmd)
{
	size_t start = myp_wbuf_packet_begin(w);

	myp_wbuf_u8(w, cmd);
	myp_wbuf_packet_end(w, start, 0);
}
