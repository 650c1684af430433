/* myp_track.c - session-state tracking in OK packets: its entries, OKs rebuilt without them. */
#include <string.h>

#include "myp_track.h"

#define EOF_STATUS_OFF 3 /* 0xFE, warnings (2), status (2) */

/* A lenenc string at p[*off] that must end by n: advances *off. */
static bool take_str(const uint8_t *p, size_t n, size_t *off, const uint8_t **s, size_t *slen)
{
	uint64_t len;
	size_t used;

	if (myp_lenenc_str(p + *off, n - *off, s, &len, &used) != MYP_OK)
		return false;
	*slen = (size_t)len;
	*off += used;
	return true;
}

void myp_track_iter_init(myp_track_iter_t *it, const uint8_t *state, size_t len)
{
	it->p = state;
	it->n = state ? len : 0;
	it->off = 0;
	it->failed = false;
}

/* The typed view of an entry's data; false if the data does not have its type's form. */
static bool entry_decode(myp_track_entry_t *e)
{
	const uint8_t *d = e->data;
	size_t n = e->data_len, off = 0;
	uint64_t spec;
	size_t used;

	switch (e->type) {
	case MYP_TRACK_SYSVAR:
		if (!take_str(d, n, &off, &e->name, &e->name_len) ||
		    !take_str(d, n, &off, &e->value, &e->value_len))
			return false;
		break;
	case MYP_TRACK_GTIDS:
		if (myp_lenenc_int(d, n, &spec, &used, NULL) != MYP_OK)
			return false;
		off = used;
		if (!take_str(d, n, &off, &e->value, &e->value_len))
			return false;
		break;
	case MYP_TRACK_SCHEMA:
	case MYP_TRACK_TRX_CHARACTERISTICS:
	case MYP_TRACK_TRX_STATE:
		if (!take_str(d, n, &off, &e->value, &e->value_len))
			return false;
		break;
	default:
		/* STATE_CHANGE ('1') and types newer than this codec: the data as it is */
		e->value = d;
		e->value_len = n;
		return true;
	}
	return off == n; /* the strings fill the entry exactly */
}

bool myp_track_next(myp_track_iter_t *it, myp_track_entry_t *e)
{
	size_t off = it->off;

	if (it->failed || off >= it->n)
		return false;
	memset(e, 0, sizeof(*e));
	e->type = it->p[off++];
	/* the server writes the type as one byte (MariaDB asserts every type is below 251) */
	if (e->type >= 0xFB || !take_str(it->p, it->n, &off, &e->data, &e->data_len) ||
	    !entry_decode(e)) {
		it->failed = true;
		return false;
	}
	it->off = off;
	return true;
}

const char *myp_track_type_name(uint8_t type)
{
	switch (type) {
	case MYP_TRACK_SYSVAR:
		return "sysvar";
	case MYP_TRACK_SCHEMA:
		return "schema";
	case MYP_TRACK_STATE_CHANGE:
		return "state_change";
	case MYP_TRACK_GTIDS:
		return "gtids";
	case MYP_TRACK_TRX_CHARACTERISTICS:
		return "trx_characteristics";
	case MYP_TRACK_TRX_STATE:
		return "trx_state";
	default:
		break;
	}
	return "unknown";
}

/* ---- replay ----------------------------------------------------------------------- */

/* [-+]digits[.digits]: what the server prints for its numeric variables. */
static bool is_number(const uint8_t *v, size_t n)
{
	size_t i = 0, digits = 0;

	if (i < n && (v[i] == '-' || v[i] == '+'))
		i++;
	for (; i < n && v[i] >= '0' && v[i] <= '9'; i++)
		digits++;
	if (digits && i < n && v[i] == '.') {
		size_t frac = 0;

		for (i++; i < n && v[i] >= '0' && v[i] <= '9'; i++)
			frac++;
		if (!frac)
			return false;
	}
	return digits && i == n;
}

void myp_track_sysvar_sql(myp_wbuf_t *w, const uint8_t *name, size_t name_len, const uint8_t *value,
                          size_t value_len, bool no_backslash_escapes)
{
	static const char charset_prefix[] = "character_set_";

	myp_wbuf_bytes(w, "@@SESSION.`", 11);
	for (size_t i = 0; i < name_len; i++) {
		if (name[i] == '`')
			myp_wbuf_u8(w, '`'); /* doubled inside a quoted identifier */
		myp_wbuf_u8(w, name[i]);
	}
	myp_wbuf_bytes(w, "`=", 2);
	if (value_len == 0 && name_len >= sizeof(charset_prefix) - 1 &&
	    memcmp(name, charset_prefix, sizeof(charset_prefix) - 1) == 0) {
		myp_wbuf_bytes(w, "NULL", 4);
		return;
	}
	if (is_number(value, value_len)) {
		myp_wbuf_bytes(w, value, value_len);
		return;
	}
	myp_wbuf_u8(w, '\'');
	for (size_t i = 0; i < value_len; i++) {
		if (value[i] == '\'' || (value[i] == '\\' && !no_backslash_escapes))
			myp_wbuf_u8(w, value[i]);
		myp_wbuf_u8(w, value[i]);
	}
	myp_wbuf_u8(w, '\'');
}

/* ---- stripping ------------------------------------------------------------------ */

static void clear_state_flag(uint8_t *status)
{
	status[1] &= (uint8_t) ~(MYP_SERVER_SESSION_STATE_CHANGED >> 8);
}

/* The packet as it is, less the flag at status_off (0: no status). */
static myp_status_t copy_clearing(const uint8_t *pkt, size_t len, size_t status_off, uint8_t *dst,
                                  size_t cap, size_t *out_len)
{
	if (cap < len)
		return MYP_EOVERFLOW;
	memmove(dst, pkt, len);
	if (status_off)
		clear_state_flag(dst + status_off);
	*out_len = len;
	return MYP_OK;
}

myp_status_t myp_ok_untrack(const uint8_t *pkt, size_t n, uint64_t caps, uint8_t *dst, size_t cap,
                            size_t *out_len)
{
	myp_frame_t f;
	myp_ok_t ok;
	myp_status_t st;
	const uint8_t *p;
	size_t head = 1, used, out, k;
	uint64_t v;

	if ((st = myp_frame_packet(pkt, n, &f)) != MYP_OK)
		return st;
	if (f.len < 1 || f.len >= MYP_MAX_PAYLOAD)
		return MYP_EPROTO;
	p = f.payload;
	if (p[0] == 0xFE && !(caps & MYP_CLIENT_DEPRECATE_EOF)) {
		myp_eof_t eof;

		if (myp_eof_parse(p, f.len, &eof) != MYP_OK)
			return MYP_EPROTO; /* a whole packet: a short one is no EOF either */
		return copy_clearing(pkt, MYP_HEADER_LEN + f.len, MYP_HEADER_LEN + EOF_STATUS_OFF,
		                     dst, cap, out_len);
	}
	if ((st = myp_ok_parse(p, f.len, caps, &ok)) != MYP_OK)
		return MYP_EPROTO;
	/* the head as the server wrote it: header byte, two lenenc ints, status, warnings */
	for (int i = 0; i < 2; i++) {
		if (myp_lenenc_int(p + head, f.len - head, &v, &used, NULL) != MYP_OK)
			return MYP_EPROTO; /* cannot happen after myp_ok_parse */
		head += used;
	}
	if (!(caps & (MYP_CLIENT_PROTOCOL_41 | MYP_CLIENT_TRANSACTIONS)))
		return copy_clearing(pkt, MYP_HEADER_LEN + f.len, 0, dst, cap, out_len);
	if (!(caps & MYP_CLIENT_SESSION_TRACK))
		return copy_clearing(pkt, MYP_HEADER_LEN + f.len, MYP_HEADER_LEN + head, dst, cap,
		                     out_len);
	k = ok.info_len ? myp_lenenc_size(ok.info_len) : 0;
	head += (caps & MYP_CLIENT_PROTOCOL_41) ? 4 : 2;
	out = head + k + ok.info_len;
	if (cap < MYP_HEADER_LEN + out)
		return MYP_EOVERFLOW;
	/* front to back: every byte lands at or before where it was read (dst == pkt) */
	memmove(dst + MYP_HEADER_LEN, p, head);
	clear_state_flag(dst + MYP_HEADER_LEN + head - ((caps & MYP_CLIENT_PROTOCOL_41) ? 4 : 2));
	if (ok.info_len) {
		myp_wbuf_t w;

		/* in place, the length goes where the server's was (at least k bytes long): it
		 * cannot reach the info it comes before */
		myp_wbuf_init(&w, dst + MYP_HEADER_LEN + head, k);
		myp_wbuf_lenenc_int(&w, ok.info_len);
		memmove(dst + MYP_HEADER_LEN + head + k, ok.info, ok.info_len);
	}
	myp_frame_put_header(dst, (uint32_t)out, f.seq);
	*out_len = MYP_HEADER_LEN + out;
	return MYP_OK;
}
