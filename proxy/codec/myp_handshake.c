/* myp_handshake.c - connection-phase packets: greeting, handshake response, auth switch. */
#include <string.h>

#include "myp_wire.h"

#define GREETING_FILLER_LEN 6  /* zero bytes after auth_plugin_data_len... */
#define GREETING_EXT_LEN    4  /* ...then MariaDB's extended capabilities (or 4 zeros) */
#define HSRESP_FIXED_LEN    32 /* caps, max packet, charset, 23 filler: all an SSLRequest has */
#define HSRESP_EXT_CAPS_OFF 28 /* MariaDB extended capabilities in the last filler bytes */
#define SCRAMBLE_PART1_LEN  8  /* auth-plugin-data-part-1 */
#define SCRAMBLE_PART2_MIN  13 /* part 2 is at least this long, its last byte a NUL */

/* ---- greeting (Protocol::HandshakeV10) ------------------------------------ */

myp_status_t myp_greeting_parse(const uint8_t *p, size_t n, myp_greeting_t *out)
{
	size_t off = 1, part2_len, data_len;
	uint8_t auth_len;
	myp_status_t st;

	if (n < 1)
		return MYP_NEED_MORE;
	if (p[0] != 10)
		return MYP_EPROTO; /* an ERR (0xFF) instead of a greeting, or protocol 9 */
	memset(out, 0, sizeof(*out));
	out->protocol = p[0];
	if ((st = myp_get_strnul(p, n, &off, &out->version, &out->version_len)) != MYP_OK)
		return st;
	/* conn id, part 1, filler, caps lo, charset, status, caps hi, auth len, 6 + 4 filler */
	if (n - off <
	    4 + SCRAMBLE_PART1_LEN + 1 + 2 + 1 + 2 + 2 + 1 + GREETING_FILLER_LEN + GREETING_EXT_LEN)
		return MYP_NEED_MORE; /* pre-4.1 greetings that stop after caps lo are refused */
	out->conn_id_off = off;
	out->conn_id = myp_get_u32(p + off);
	off += 4;
	memcpy(out->scramble, p + off, SCRAMBLE_PART1_LEN);
	out->scramble_len = SCRAMBLE_PART1_LEN;
	off += SCRAMBLE_PART1_LEN + 1;
	out->caps_lo_off = off;
	out->caps = myp_get_u16(p + off);
	off += 2;
	out->charset = p[off++];
	out->status = myp_get_u16(p + off);
	off += 2;
	out->caps_hi_off = off;
	out->caps |= (uint64_t)myp_get_u16(p + off) << 16;
	off += 2;
	auth_len = p[off++];
	off += GREETING_FILLER_LEN;
	if (!(out->caps & MYP_CLIENT_LONG_PASSWORD)) {
		/* a MariaDB server: CLIENT_MYSQL clear, extended caps in the filler */
		out->caps_ext_off = off;
		out->caps |= (uint64_t)myp_get_u32(p + off) << 32;
	}
	off += GREETING_EXT_LEN;
	if (!(out->caps & MYP_CLIENT_PROTOCOL_41))
		return MYP_EPROTO;
	if (out->caps & MYP_CLIENT_SECURE_CONNECTION) {
		/* part 2 is MAX(13, auth_len - 8) bytes; auth_len counts a trailing NUL */
		part2_len = auth_len > SCRAMBLE_PART1_LEN + SCRAMBLE_PART2_MIN
		                    ? (size_t)auth_len - SCRAMBLE_PART1_LEN
		                    : SCRAMBLE_PART2_MIN;
		if ((out->caps & MYP_CLIENT_PLUGIN_AUTH) && auth_len > SCRAMBLE_PART1_LEN)
			data_len = (size_t)auth_len - 1 - SCRAMBLE_PART1_LEN;
		else
			data_len = part2_len - 1;
		if (n - off < part2_len)
			return MYP_NEED_MORE;
		if (SCRAMBLE_PART1_LEN + data_len > sizeof(out->scramble))
			return MYP_EPROTO;
		memcpy(out->scramble + SCRAMBLE_PART1_LEN, p + off, data_len);
		out->scramble_len += data_len;
		off += part2_len;
	}
	if (out->caps & MYP_CLIENT_PLUGIN_AUTH) {
		/* MariaDB always NUL-terminates the name (only MySQL 5.5.7-5.5.9 did not) */
		st = myp_get_strnul(p, n, &off, &out->auth_plugin, &out->auth_plugin_len);
		if (st != MYP_OK)
			return st;
	}
	return MYP_OK;
}

void myp_greeting_patch(uint8_t *p, size_t n, const myp_greeting_t *g, uint32_t conn_id,
                        uint64_t clear_caps)
{
	if (g->conn_id_off && g->conn_id_off + 4 <= n)
		myp_put_u32(p + g->conn_id_off, conn_id);
	if (g->caps_lo_off && g->caps_lo_off + 2 <= n)
		myp_put_u16(p + g->caps_lo_off,
		            (uint16_t)(myp_get_u16(p + g->caps_lo_off) & ~clear_caps));
	if (g->caps_hi_off && g->caps_hi_off + 2 <= n)
		myp_put_u16(p + g->caps_hi_off,
		            (uint16_t)(myp_get_u16(p + g->caps_hi_off) & ~(clear_caps >> 16)));
	if (g->caps_ext_off && g->caps_ext_off + 4 <= n)
		myp_put_u32(p + g->caps_ext_off,
		            (uint32_t)(myp_get_u32(p + g->caps_ext_off) & ~(clear_caps >> 32)));
}

void myp_greeting_set_caps(uint8_t *p, size_t n, const myp_greeting_t *g, uint32_t set_caps)
{
	if (g->caps_lo_off && g->caps_lo_off + 2 <= n)
		myp_put_u16(p + g->caps_lo_off,
		            (uint16_t)(myp_get_u16(p + g->caps_lo_off) | (set_caps & 0xFFFF)));
	if (g->caps_hi_off && g->caps_hi_off + 2 <= n)
		myp_put_u16(p + g->caps_hi_off,
		            (uint16_t)(myp_get_u16(p + g->caps_hi_off) | (set_caps >> 16)));
}

void myp_greeting_build(myp_wbuf_t *w, uint8_t seq, const myp_greeting_t *g)
{
	static const uint8_t zeros[SCRAMBLE_PART2_MIN + SCRAMBLE_PART1_LEN];
	size_t start = myp_wbuf_packet_begin(w);
	size_t part1 = g->scramble_len < SCRAMBLE_PART1_LEN ? g->scramble_len : SCRAMBLE_PART1_LEN;
	size_t data2 =
	        g->scramble_len > sizeof(g->scramble) ? sizeof(g->scramble) : g->scramble_len;
	size_t part2;

	data2 = data2 > SCRAMBLE_PART1_LEN ? data2 - SCRAMBLE_PART1_LEN : 0;
	part2 = data2 + 1 > SCRAMBLE_PART2_MIN ? data2 + 1 : SCRAMBLE_PART2_MIN;
	myp_wbuf_u8(w, g->protocol ? g->protocol : 10);
	myp_wbuf_bytes(w, g->version, g->version_len);
	myp_wbuf_u8(w, 0);
	myp_wbuf_u32(w, g->conn_id);
	myp_wbuf_bytes(w, g->scramble, part1);
	myp_wbuf_bytes(w, zeros, SCRAMBLE_PART1_LEN - part1);
	myp_wbuf_u8(w, 0);
	myp_wbuf_u16(w, (uint16_t)g->caps);
	myp_wbuf_u8(w, g->charset);
	myp_wbuf_u16(w, g->status);
	myp_wbuf_u16(w, (uint16_t)(g->caps >> 16));
	/* auth_plugin_data_len counts the NUL; without PLUGIN_AUTH it is 0 unless needed to
	 * announce a part 2 longer than 13 bytes */
	if ((g->caps & MYP_CLIENT_PLUGIN_AUTH) || part2 > SCRAMBLE_PART2_MIN)
		myp_wbuf_u8(w, (uint8_t)(SCRAMBLE_PART1_LEN + data2 + 1));
	else
		myp_wbuf_u8(w, 0);
	myp_wbuf_bytes(w, zeros, GREETING_FILLER_LEN);
	myp_wbuf_u32(w, (g->caps & MYP_CLIENT_LONG_PASSWORD) ? 0 : (uint32_t)(g->caps >> 32));
	if (g->caps & MYP_CLIENT_SECURE_CONNECTION) {
		myp_wbuf_bytes(w, g->scramble + SCRAMBLE_PART1_LEN, data2);
		myp_wbuf_bytes(w, zeros, part2 - data2); /* padding and the trailing NUL */
	}
	if (g->caps & MYP_CLIENT_PLUGIN_AUTH) {
		myp_wbuf_bytes(w, g->auth_plugin, g->auth_plugin_len);
		myp_wbuf_u8(w, 0);
	}
	myp_wbuf_packet_end(w, start, seq);
}

void myp_greeting_reissue(myp_wbuf_t *w, const myp_greeting_t *g, uint32_t conn_id,
                          const uint8_t *nonce, size_t nonce_len, const char *plugin,
                          uint64_t clear_caps)
{
	myp_greeting_t out = *g;

	if (nonce_len > 20)
		nonce_len = 20; /* what every client expects of mysql_native_password */
	out.protocol = 10;
	out.conn_id = conn_id;
	out.caps = (g->caps & ~clear_caps) | MYP_CLIENT_PLUGIN_AUTH | MYP_CLIENT_SECURE_CONNECTION;
	memset(out.scramble, 0, sizeof(out.scramble));
	memcpy(out.scramble, nonce, nonce_len);
	out.scramble_len = nonce_len;
	out.auth_plugin = (const uint8_t *)(plugin ? plugin : "");
	out.auth_plugin_len = strlen((const char *)out.auth_plugin);
	myp_greeting_build(w, 0, &out);
}

/* ---- handshake response (Protocol::HandshakeResponse41, SSLRequest) -------- */

myp_status_t myp_hsresp_parse(const uint8_t *p, size_t n, myp_hsresp_t *out)
{
	size_t off = HSRESP_FIXED_LEN;
	uint64_t len;
	size_t used;
	myp_status_t st;

	if (n < 4)
		return MYP_NEED_MORE;
	memset(out, 0, sizeof(*out));
	out->caps = myp_get_u32(p);
	if (!(out->caps & MYP_CLIENT_PROTOCOL_41))
		return MYP_EPROTO; /* HandshakeResponse320 */
	if (n < HSRESP_FIXED_LEN)
		return MYP_NEED_MORE;
	out->max_packet = myp_get_u32(p + 4);
	out->charset = p[8];
	if (!(out->caps & MYP_CLIENT_LONG_PASSWORD))
		out->caps |= (uint64_t)myp_get_u32(p + HSRESP_EXT_CAPS_OFF) << 32;
	if (n == HSRESP_FIXED_LEN && (out->caps & MYP_CLIENT_SSL)) {
		out->ssl_request = true;
		return MYP_OK;
	}
	if ((st = myp_get_strnul(p, n, &off, &out->user, &out->user_len)) != MYP_OK)
		return st;
	if (out->caps & MYP_CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) {
		if ((st = myp_lenenc_str(p + off, n - off, &out->auth, &len, &used)) != MYP_OK)
			return st;
		out->auth_len = (size_t)len;
		off += used;
	} else {
		st = (out->caps & MYP_CLIENT_SECURE_CONNECTION)
		             ? myp_get_str1(p, n, &off, &out->auth, &out->auth_len)
		             : myp_get_strnul(p, n, &off, &out->auth, &out->auth_len);
		if (st != MYP_OK)
			return st;
	}
	/* Like the server, a payload that ends here leaves the optional parts absent. */
	if ((out->caps & MYP_CLIENT_CONNECT_WITH_DB) && off < n) {
		if ((st = myp_get_strnul(p, n, &off, &out->db, &out->db_len)) != MYP_OK)
			return st;
	}
	if ((out->caps & MYP_CLIENT_PLUGIN_AUTH) && off < n) {
		st = myp_get_strnul(p, n, &off, &out->auth_plugin, &out->auth_plugin_len);
		if (st != MYP_OK)
			return st;
	}
	if ((out->caps & MYP_CLIENT_CONNECT_ATTRS) && off < n) {
		if ((st = myp_lenenc_str(p + off, n - off, &out->attrs, &len, &used)) != MYP_OK)
			return st;
		out->attrs_len = (size_t)len;
	}
	return MYP_OK;
}

void myp_hsresp_clear_caps(uint8_t *p, size_t n, uint64_t clear_caps)
{
	uint32_t lo;

	if (n < 4)
		return;
	lo = myp_get_u32(p);
	myp_put_u32(p, lo & ~(uint32_t)clear_caps);
	/* the extended bits live at offset 28 only if the client cleared CLIENT_MYSQL */
	if (!(lo & MYP_CLIENT_LONG_PASSWORD) && n >= HSRESP_EXT_CAPS_OFF + 4)
		myp_put_u32(p + HSRESP_EXT_CAPS_OFF,
		            myp_get_u32(p + HSRESP_EXT_CAPS_OFF) & ~(uint32_t)(clear_caps >> 32));
}

void myp_hsresp_set_caps(uint8_t *p, size_t n, uint32_t set_caps)
{
	if (n >= 4)
		myp_put_u32(p, myp_get_u32(p) | set_caps);
}

void myp_ssl_request_build(myp_wbuf_t *w, uint8_t seq, uint64_t caps, uint32_t max_packet,
                           uint8_t charset)
{
	myp_hsresp_t r = {.caps = caps | MYP_CLIENT_SSL,
	                  .max_packet = max_packet,
	                  .charset = charset,
	                  .ssl_request = true};
	myp_hsresp_build(w, seq, &r);
}

void myp_hsresp_build(myp_wbuf_t *w, uint8_t seq, const myp_hsresp_t *r)
{
	static const uint8_t zeros[HSRESP_EXT_CAPS_OFF - 9];
	size_t start = myp_wbuf_packet_begin(w);

	myp_wbuf_u32(w, (uint32_t)r->caps);
	myp_wbuf_u32(w, r->max_packet);
	myp_wbuf_u8(w, r->charset);
	myp_wbuf_bytes(w, zeros, sizeof(zeros));
	myp_wbuf_u32(w, (r->caps & MYP_CLIENT_LONG_PASSWORD) ? 0 : (uint32_t)(r->caps >> 32));
	if (r->ssl_request) {
		myp_wbuf_packet_end(w, start, seq);
		return;
	}
	myp_wbuf_bytes(w, r->user, r->user_len);
	myp_wbuf_u8(w, 0);
	if (r->caps & MYP_CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) {
		myp_wbuf_lenenc_str(w, r->auth, r->auth_len);
	} else if (r->caps & MYP_CLIENT_SECURE_CONNECTION) {
		if (r->auth_len > 0xFF)
			w->failed = true; /* does not fit the 1-byte length */
		myp_wbuf_u8(w, (uint8_t)r->auth_len);
		myp_wbuf_bytes(w, r->auth, r->auth_len);
	} else {
		myp_wbuf_bytes(w, r->auth, r->auth_len);
		myp_wbuf_u8(w, 0);
	}
	if (r->caps & MYP_CLIENT_CONNECT_WITH_DB) {
		myp_wbuf_bytes(w, r->db, r->db_len);
		myp_wbuf_u8(w, 0);
	}
	if (r->caps & MYP_CLIENT_PLUGIN_AUTH) {
		myp_wbuf_bytes(w, r->auth_plugin, r->auth_plugin_len);
		myp_wbuf_u8(w, 0);
	}
	if (r->caps & MYP_CLIENT_CONNECT_ATTRS)
		myp_wbuf_lenenc_str(w, r->attrs, r->attrs_len);
	myp_wbuf_packet_end(w, start, seq);
}

void myp_hsresp_defer_build(myp_wbuf_t *w, uint8_t seq, const myp_hsresp_t *r, const char *plugin,
                            uint64_t clear_caps)
{
	myp_hsresp_t out = *r;

	out.caps = (r->caps & ~clear_caps) | MYP_CLIENT_PLUGIN_AUTH;
	out.ssl_request = false;
	out.auth = NULL;
	out.auth_len = 0;
	out.auth_plugin = (const uint8_t *)(plugin ? plugin : "");
	out.auth_plugin_len = strlen((const char *)out.auth_plugin);
	myp_hsresp_build(w, seq, &out);
}

void myp_native_login_build(myp_wbuf_t *w, uint8_t seq, const myp_greeting_t *g, const char *user,
                            size_t user_len, const uint8_t *auth, size_t auth_len)
{
	static const char plugin[] = MYP_NATIVE_PLUGIN;
	myp_hsresp_t r = {
	        .caps = g->caps & (MYP_CLIENT_LONG_PASSWORD | MYP_CLIENT_PROTOCOL_41 |
	                           MYP_CLIENT_SECURE_CONNECTION | MYP_CLIENT_PLUGIN_AUTH |
	                           MYP_CLIENT_TRANSACTIONS),
	        .max_packet = 1u << 24,
	        .charset = g->charset,
	        .user = (const uint8_t *)user,
	        .user_len = user_len,
	        .auth = auth,
	        .auth_len = auth_len,
	        .auth_plugin = (const uint8_t *)plugin,
	        .auth_plugin_len = sizeof(plugin) - 1,
	};
	myp_hsresp_build(w, seq, &r);
}

void myp_auth_data_build(myp_wbuf_t *w, uint8_t seq, const uint8_t *data, size_t n)
{
	size_t start = myp_wbuf_packet_begin(w);
	myp_wbuf_bytes(w, data, n);
	myp_wbuf_packet_end(w, start, seq);
}

/* ---- auth switch ------------------------------------------------------------ */

myp_status_t myp_authswitch_parse(const uint8_t *p, size_t n, myp_authswitch_t *out)
{
	size_t off = 1;
	myp_status_t st;

	if (n < 1)
		return MYP_NEED_MORE;
	if (p[0] != 0xFE)
		return MYP_EPROTO;
	memset(out, 0, sizeof(*out));
	/* a bare 0xFE (pre-4.1 "use old password") looks like a prefix: NEED_MORE */
	if ((st = myp_get_strnul(p, n, &off, &out->plugin, &out->plugin_len)) != MYP_OK)
		return st;
	out->data = p + off;
	out->data_len = n - off;
	return MYP_OK;
}

void myp_authswitch_build(myp_wbuf_t *w, uint8_t seq, const char *plugin, const uint8_t *data,
                          size_t data_len)
{
	size_t start = myp_wbuf_packet_begin(w);

	myp_wbuf_u8(w, 0xFE);
	myp_wbuf_strnul(w, plugin ? plugin : "");
	myp_wbuf_bytes(w, data, data_len);
	myp_wbuf_packet_end(w, start, seq);
}
