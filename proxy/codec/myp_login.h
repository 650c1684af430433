/* myp_login.h - login packets a moved session needs: COM_CHANGE_USER in full, tracking asked. */
#ifndef MYP_LOGIN_H
#define MYP_LOGIN_H

#include "myp.h"

/*
 * myp_change_user_parse (myp.h) stops at the collation id; a session that learns the
 * credential of the new user needs the rest: the auth reply and the plugin it was computed
 * for. Read as MariaDB 10.11 does (parse_com_change_user_packet): user NUL; the reply as a
 * length byte and data under CLIENT_SECURE_CONNECTION, else NUL-terminated; database NUL;
 * then, each only if bytes are left: the collation id (only if two are), the plugin name
 * (NUL-terminated, under CLIENT_PLUGIN_AUTH) and the attributes (a lenenc length and data,
 * under CLIENT_CONNECT_ATTRS). The reply was computed with the connection's nonce, the one
 * of its greeting (MariaDB 10.11 then also sends an AuthSwitchRequest with that same nonce,
 * which mysqlnd and libmariadb answer with the same reply).
 */

typedef struct myp_change_user_full {
	const uint8_t *user;        /* the new user (slice, no NUL) */
	size_t user_len;            /* its length */
	const uint8_t *auth;        /* the auth reply (slice; empty for an empty password) */
	size_t auth_len;            /* its length */
	const uint8_t *db;          /* the database (slice, no NUL; empty: none) */
	size_t db_len;              /* its length */
	uint16_t charset;           /* collation id */
	bool has_charset;           /* the packet carries one */
	const uint8_t *auth_plugin; /* plugin the reply is for (slice; NULL if none) */
	size_t auth_plugin_len;     /* its length */
	const uint8_t *attrs;       /* connection attributes (slice; NULL if none) */
	size_t attrs_len;           /* their length */
} myp_change_user_full_t;

/* Parse a whole COM_CHANGE_USER payload (first byte 0x11). caps: the session's. */
MYP_WUR myp_status_t myp_change_user_full_parse(const uint8_t *p, size_t n, uint64_t caps,
                                                myp_change_user_full_t *out);

/* Capabilities myp_hsresp_add_caps may add: they change no byte of the handshake response
 * and only what the proxy itself takes back out (myp_ok_untrack for SESSION_TRACK). */
#define MYP_HSRESP_ADDABLE_CAPS MYP_CLIENT_SESSION_TRACK

/* Add capability bits in place to a handshake response payload (p/n as relayed to the
 * server), so that a session whose client did not ask for tracking is tracked on the server
 * side (the capabilities of an SSLRequest get the same). MYP_EPROTO for bits outside
 * MYP_HSRESP_ADDABLE_CAPS; MYP_NEED_MORE if n < 4. */
MYP_WUR myp_status_t myp_hsresp_add_caps(uint8_t *p, size_t n, uint64_t add_caps);

#endif
