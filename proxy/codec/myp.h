/* myp.h - pure MySQL/MariaDB wire-protocol codec: bytes in, structs out. */
#ifndef MYP_H
#define MYP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Rules of the house:
 * - No I/O, no malloc, no libuv, nothing beyond libc.
 * - Decoders take (const uint8_t *p, size_t n) and return MYP_NEED_MORE when the
 *   input is a truncated prefix of something valid, MYP_EPROTO when it can never
 *   become valid. They never read past p + n. Outputs are slices into p.
 * - Encoders write into a myp_wbuf_t with a sticky overflow flag: write the whole
 *   packet, then check once.
 */

#define MYP_WUR __attribute__((warn_unused_result))

typedef enum myp_status {
	MYP_OK = 0,
	MYP_NEED_MORE = 1, /* truncated input: feed more bytes */
	MYP_EPROTO = -1,   /* malformed input */
	MYP_EOVERFLOW = -2 /* encoder ran out of room */
} myp_status_t;

const char *myp_strstatus(myp_status_t st);

/* ---- framing ---------------------------------------------------------- */

#define MYP_HEADER_LEN  4
#define MYP_MAX_PAYLOAD 0xFFFFFFu /* a payload this long is continued by the next packet */

typedef struct myp_frame {
	uint32_t len;           /* payload length (0..0xFFFFFF) */
	uint8_t seq;            /* sequence id */
	const uint8_t *payload; /* points just after the header (may be partly missing) */
} myp_frame_t;

/* Parse the 4-byte header at p. MYP_NEED_MORE if n < 4. Does not require the payload. */
MYP_WUR myp_status_t myp_frame_header(const uint8_t *p, size_t n, myp_frame_t *out);
/* Parse one whole packet (header + full payload): MYP_NEED_MORE until all of it is there. */
MYP_WUR myp_status_t myp_frame_packet(const uint8_t *p, size_t n, myp_frame_t *out);
/* Write a 4-byte header. */
void myp_frame_put_header(uint8_t *dst, uint32_t len, uint8_t seq);

/* ---- length-encoded integers and strings ------------------------------ */

/* Decode a length-encoded integer at p. *used = bytes consumed. 0xFB (NULL) gives
 * MYP_OK with *is_null = true (is_null may be NULL only if the caller knows NULL is
 * impossible; then 0xFB is MYP_EPROTO). 0xFF is MYP_EPROTO. */
MYP_WUR myp_status_t myp_lenenc_int(const uint8_t *p, size_t n, uint64_t *val, size_t *used,
                                    bool *is_null);
/* Decode a length-encoded string: *s points into p. */
MYP_WUR myp_status_t myp_lenenc_str(const uint8_t *p, size_t n, const uint8_t **s, uint64_t *slen,
                                    size_t *used);
/* Bytes needed to encode v. */
size_t myp_lenenc_size(uint64_t v);

/* ---- encoder buffer ---------------------------------------------------- */

typedef struct myp_wbuf {
	uint8_t *buf; /* destination */
	size_t cap;   /* its capacity */
	size_t len;   /* bytes written so far */
	bool failed;  /* sticky: some write did not fit */
} myp_wbuf_t;

void myp_wbuf_init(myp_wbuf_t *w, uint8_t *buf, size_t cap);
void myp_wbuf_u8(myp_wbuf_t *w, uint8_t v);
void myp_wbuf_u16(myp_wbuf_t *w, uint16_t v);
void myp_wbuf_u24(myp_wbuf_t *w, uint32_t v);
void myp_wbuf_u32(myp_wbuf_t *w, uint32_t v);
void myp_wbuf_bytes(myp_wbuf_t *w, const void *p, size_t n);
void myp_wbuf_strnul(myp_wbuf_t *w, const char *s); /* bytes + NUL */
void myp_wbuf_lenenc_int(myp_wbuf_t *w, uint64_t v);
void myp_wbuf_lenenc_str(myp_wbuf_t *w, const void *p, size_t n);
/* Start a packet: reserves the 4-byte header; myp_wbuf_packet_end fills it in. */
size_t myp_wbuf_packet_begin(myp_wbuf_t *w);
void myp_wbuf_packet_end(myp_wbuf_t *w, size_t start, uint8_t seq);

/* ---- capability and status flags ---------------------------------------- */

#define MYP_CLIENT_LONG_PASSWORD                  (1ull << 0) /* MariaDB calls this CLIENT_MYSQL */
#define MYP_CLIENT_FOUND_ROWS                     (1ull << 1)
#define MYP_CLIENT_LONG_FLAG                      (1ull << 2)
#define MYP_CLIENT_CONNECT_WITH_DB                (1ull << 3)
#define MYP_CLIENT_NO_SCHEMA                      (1ull << 4)
#define MYP_CLIENT_COMPRESS                       (1ull << 5)
#define MYP_CLIENT_ODBC                           (1ull << 6)
#define MYP_CLIENT_LOCAL_FILES                    (1ull << 7)
#define MYP_CLIENT_IGNORE_SPACE                   (1ull << 8)
#define MYP_CLIENT_PROTOCOL_41                    (1ull << 9)
#define MYP_CLIENT_INTERACTIVE                    (1ull << 10)
#define MYP_CLIENT_SSL                            (1ull << 11)
#define MYP_CLIENT_IGNORE_SIGPIPE                 (1ull << 12)
#define MYP_CLIENT_TRANSACTIONS                   (1ull << 13)
#define MYP_CLIENT_RESERVED                       (1ull << 14)
#define MYP_CLIENT_SECURE_CONNECTION              (1ull << 15)
#define MYP_CLIENT_MULTI_STATEMENTS               (1ull << 16)
#define MYP_CLIENT_MULTI_RESULTS                  (1ull << 17)
#define MYP_CLIENT_PS_MULTI_RESULTS               (1ull << 18)
#define MYP_CLIENT_PLUGIN_AUTH                    (1ull << 19)
#define MYP_CLIENT_CONNECT_ATTRS                  (1ull << 20)
#define MYP_CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA (1ull << 21)
#define MYP_CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS   (1ull << 22)
#define MYP_CLIENT_SESSION_TRACK                  (1ull << 23)
#define MYP_CLIENT_DEPRECATE_EOF                  (1ull << 24)
#define MYP_CLIENT_OPTIONAL_RESULTSET_METADATA    (1ull << 25)
#define MYP_CLIENT_ZSTD_COMPRESSION               (1ull << 26)
#define MYP_CLIENT_QUERY_ATTRIBUTES               (1ull << 27) /* MySQL 8 */
#define MYP_CLIENT_SSL_VERIFY_SERVER_CERT         (1ull << 30)
#define MYP_CLIENT_REMEMBER_OPTIONS               (1ull << 31)
/* MariaDB extended capabilities: the upper 32 bits, exchanged in the filler bytes
 * of the greeting and handshake response when CLIENT_LONG_PASSWORD is clear. */
#define MYP_MARIADB_CLIENT_PROGRESS             (1ull << 32)
#define MYP_MARIADB_CLIENT_COM_MULTI            (1ull << 33)
#define MYP_MARIADB_CLIENT_STMT_BULK_OPERATIONS (1ull << 34)
#define MYP_MARIADB_CLIENT_EXTENDED_METADATA    (1ull << 35)
#define MYP_MARIADB_CLIENT_CACHE_METADATA       (1ull << 36)

#define MYP_SERVER_STATUS_IN_TRANS             0x0001
#define MYP_SERVER_STATUS_AUTOCOMMIT           0x0002
#define MYP_SERVER_MORE_RESULTS_EXISTS         0x0008
#define MYP_SERVER_QUERY_NO_GOOD_INDEX_USED    0x0010
#define MYP_SERVER_QUERY_NO_INDEX_USED         0x0020
#define MYP_SERVER_STATUS_CURSOR_EXISTS        0x0040
#define MYP_SERVER_STATUS_LAST_ROW_SENT        0x0080
#define MYP_SERVER_STATUS_DB_DROPPED           0x0100
#define MYP_SERVER_STATUS_NO_BACKSLASH_ESCAPES 0x0200
#define MYP_SERVER_STATUS_METADATA_CHANGED     0x0400
#define MYP_SERVER_QUERY_WAS_SLOW              0x0800
#define MYP_SERVER_PS_OUT_PARAMS               0x1000
#define MYP_SERVER_STATUS_IN_TRANS_READONLY    0x2000
#define MYP_SERVER_SESSION_STATE_CHANGED       0x4000

/* ---- commands ------------------------------------------------------------ */

enum myp_cmd {
	MYP_COM_SLEEP = 0x00,
	MYP_COM_QUIT = 0x01,
	MYP_COM_INIT_DB = 0x02,
	MYP_COM_QUERY = 0x03,
	MYP_COM_FIELD_LIST = 0x04,
	MYP_COM_CREATE_DB = 0x05,
	MYP_COM_DROP_DB = 0x06,
	MYP_COM_REFRESH = 0x07,
	MYP_COM_SHUTDOWN = 0x08,
	MYP_COM_STATISTICS = 0x09,
	MYP_COM_PROCESS_INFO = 0x0a,
	MYP_COM_CONNECT = 0x0b,
	MYP_COM_PROCESS_KILL = 0x0c,
	MYP_COM_DEBUG = 0x0d,
	MYP_COM_PING = 0x0e,
	MYP_COM_TIME = 0x0f,
	MYP_COM_DELAYED_INSERT = 0x10,
	MYP_COM_CHANGE_USER = 0x11,
	MYP_COM_BINLOG_DUMP = 0x12,
	MYP_COM_TABLE_DUMP = 0x13,
	MYP_COM_CONNECT_OUT = 0x14,
	MYP_COM_REGISTER_SLAVE = 0x15,
	MYP_COM_STMT_PREPARE = 0x16,
	MYP_COM_STMT_EXECUTE = 0x17,
	MYP_COM_STMT_SEND_LONG_DATA = 0x18,
	MYP_COM_STMT_CLOSE = 0x19,
	MYP_COM_STMT_RESET = 0x1a,
	MYP_COM_SET_OPTION = 0x1b,
	MYP_COM_STMT_FETCH = 0x1c,
	MYP_COM_DAEMON = 0x1d,
	MYP_COM_BINLOG_DUMP_GTID = 0x1e,
	MYP_COM_RESET_CONNECTION = 0x1f,
	MYP_COM_STMT_BULK_EXECUTE = 0xfa,
	MYP_COM_MULTI = 0xfe
};

/* Build a COM_QUERY packet (seq 0) running sql[0..len). Under CLIENT_QUERY_ATTRIBUTES it
 * carries an empty attribute block first. */
void myp_query_build(myp_wbuf_t *w, uint64_t caps, const char *sql, size_t len);
/* Build a command packet without arguments (seq 0): COM_PING, COM_QUIT, COM_RESET_CONNECTION. */
void myp_cmd_build(myp_wbuf_t *w, uint8_t cmd);

/* Name for logs and metrics labels ("query", "stmt_execute", ...; "unknown"). */
const char *myp_cmd_name(uint8_t cmd);

/* How a command is answered: the proxy relays only what it can track. */
typedef enum myp_cmd_kind {
	MYP_CMDK_RESPONSE,    /* a response follows (tracked by myp_resp_t) */
	MYP_CMDK_NO_RESPONSE, /* COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA */
	MYP_CMDK_QUIT,        /* COM_QUIT: no response, server closes */
	MYP_CMDK_UNSUPPORTED  /* replication/streaming commands: the proxy refuses them */
} myp_cmd_kind_t;
myp_cmd_kind_t myp_cmd_kind(uint8_t cmd);

/* COM_PROCESS_KILL: the thread id it names (payload 0x0C + 4 bytes; more are ignored, as the
 * server does), and the same packet made to name another. */
MYP_WUR myp_status_t myp_process_kill_parse(const uint8_t *p, size_t n, uint32_t *id);
MYP_WUR myp_status_t myp_process_kill_set_id(uint8_t *p, size_t n, uint32_t id);
/* A COM_QUERY payload (p, n) made to name v instead of the decimal number at sql[off..off+len)
 * of its statement (sql = p + 1): v's digits, then spaces, so the length stays. MYP_EPROTO if
 * it is no COM_QUERY, the span is not inside it or v's digits do not fit in len. */
MYP_WUR myp_status_t myp_query_set_number(uint8_t *p, size_t n, size_t off, size_t len, uint64_t v);

typedef struct myp_change_user {
	const uint8_t *user; /* the new user name (slice, no NUL) */
	size_t user_len;     /* its length */
	uint16_t charset;    /* collation id the client names */
	bool has_charset;    /* the packet carries one (else the session's current charset holds) */
} myp_change_user_t;

/* Parse a COM_CHANGE_USER payload (first byte 0x11) as far as the collation id. caps: the
 * session's. MYP_NEED_MORE with out->user set when only the name is whole in p/n; given a
 * prefix of the payload, has_charset false may mean the id was cut off. */
MYP_WUR myp_status_t myp_change_user_parse(const uint8_t *p, size_t n, uint64_t caps,
                                           myp_change_user_t *out);

/* ---- generic response packets (OK / ERR / EOF) ------------------------- */

typedef struct myp_ok {
	uint64_t affected_rows;       /* rows changed */
	uint64_t last_insert_id;      /* auto-increment id */
	uint16_t status;              /* server status flags */
	uint16_t warnings;            /* warning count */
	const uint8_t *info;          /* human-readable info (slice, may be NULL) */
	size_t info_len;              /* its length */
	const uint8_t *session_state; /* SESSION_TRACK state changes (slice, may be NULL) */
	size_t session_state_len;     /* its length */
} myp_ok_t;

typedef struct myp_err {
	uint16_t code;          /* error code (0xFFFF = MariaDB progress report) */
	char sqlstate[6];       /* 5 chars + NUL ("HY000" if the packet had none) */
	const uint8_t *message; /* slice */
	size_t message_len;     /* its length */
} myp_err_t;

typedef struct myp_eof {
	uint16_t warnings; /* warning count */
	uint16_t status;   /* server status flags */
} myp_eof_t;

/* Parse whole payloads (first byte included). caps are the negotiated capabilities.
 * myp_ok_parse accepts header 0x00 and 0xFE (the OK that replaces EOF). */
MYP_WUR myp_status_t myp_ok_parse(const uint8_t *p, size_t n, uint64_t caps, myp_ok_t *out);
MYP_WUR myp_status_t myp_err_parse(const uint8_t *p, size_t n, uint64_t caps, myp_err_t *out);
MYP_WUR myp_status_t myp_eof_parse(const uint8_t *p, size_t n, myp_eof_t *out);

/* Build whole packets (header included) into w. */
void myp_ok_build(myp_wbuf_t *w, uint8_t seq, uint64_t caps, const myp_ok_t *ok);
void myp_err_build(myp_wbuf_t *w, uint8_t seq, uint64_t caps, uint16_t code, const char *sqlstate,
                   const char *message);
void myp_eof_build(myp_wbuf_t *w, uint8_t seq, uint16_t warnings, uint16_t status);
/* Build the OK packet with the 0xFE header that ends a result set under CLIENT_DEPRECATE_EOF. */
void myp_ok_eof_build(myp_wbuf_t *w, uint8_t seq, uint64_t caps, const myp_ok_t *ok);

/* MariaDB progress report: an ERR payload 0xFF 0xFF 0xFF (code 0xFFFF) followed by this
 * data, sent only while MARIADB_CLIENT_PROGRESS is negotiated. */
typedef struct myp_progress {
	uint8_t stage;       /* current stage, from 1 */
	uint8_t max_stage;   /* number of stages */
	uint32_t progress;   /* progress within the stage in 1/1000 percent (0..100000) */
	const uint8_t *info; /* stage name (slice) */
	size_t info_len;     /* its length */
} myp_progress_t;

/* Parse a whole progress-report payload (first byte 0xFF included). */
MYP_WUR myp_status_t myp_progress_parse(const uint8_t *p, size_t n, myp_progress_t *out);
void myp_progress_build(myp_wbuf_t *w, uint8_t seq, const myp_progress_t *pr);

/* ---- handshake ------------------------------------------------------------ */

typedef struct myp_greeting {
	uint8_t protocol;           /* must be 10 */
	const uint8_t *version;     /* server version (slice, no NUL) */
	size_t version_len;         /* its length */
	uint32_t conn_id;           /* server thread id */
	size_t conn_id_off;         /* offset of conn_id in the payload (for patching) */
	uint8_t scramble[32];       /* auth-plugin-data parts 1+2, without the trailing NUL */
	size_t scramble_len;        /* its length (usually 20) */
	uint64_t caps;              /* capabilities incl. MariaDB extended ones */
	size_t caps_lo_off;         /* offset of the low 16 bits in the payload */
	size_t caps_hi_off;         /* offset of bits 16..31 */
	size_t caps_ext_off;        /* offset of the MariaDB extended 32 bits (0 if absent) */
	uint8_t charset;            /* server default collation id */
	uint16_t status;            /* server status flags */
	const uint8_t *auth_plugin; /* plugin name (slice, may be NULL) */
	size_t auth_plugin_len;     /* its length */
} myp_greeting_t;

MYP_WUR myp_status_t myp_greeting_parse(const uint8_t *p, size_t n, myp_greeting_t *out);
/* Patch a greeting payload in place: set the connection id and clear capability bits
 * (clear_caps may include MariaDB extended bits). p/n/g as parsed. */
void myp_greeting_patch(uint8_t *p, size_t n, const myp_greeting_t *g, uint32_t conn_id,
                        uint64_t clear_caps);
/* Set capability bits in a greeting payload in place (the low 32 only: CLIENT_SSL, which
 * the proxy offers of its own when it terminates TLS). p/n/g as parsed. */
void myp_greeting_set_caps(uint8_t *p, size_t n, const myp_greeting_t *g, uint32_t set_caps);
/* Build a greeting packet (used by tests and fake servers). */
void myp_greeting_build(myp_wbuf_t *w, uint8_t seq, const myp_greeting_t *g);
/* Build a greeting (seq 0) modelled on a server's parsed one: its version, charset and
 * status, its capabilities less clear_caps (PLUGIN_AUTH and SECURE_CONNECTION forced on),
 * with another connection id, nonce (<= 20 bytes) and auth plugin. */
void myp_greeting_reissue(myp_wbuf_t *w, const myp_greeting_t *g, uint32_t conn_id,
                          const uint8_t *nonce, size_t nonce_len, const char *plugin,
                          uint64_t clear_caps);

typedef struct myp_hsresp {
	uint64_t caps;              /* client capabilities incl. MariaDB extended ones */
	uint32_t max_packet;        /* client's max packet size */
	uint8_t charset;            /* collation id */
	bool ssl_request;           /* the 32-byte SSLRequest form (CLIENT_SSL set, nothing more) */
	const uint8_t *user;        /* slice, no NUL */
	size_t user_len;            /* its length */
	const uint8_t *auth;        /* auth response (slice) */
	size_t auth_len;            /* its length */
	const uint8_t *db;          /* database (slice, may be NULL) */
	size_t db_len;              /* its length */
	const uint8_t *auth_plugin; /* plugin name (slice, may be NULL) */
	size_t auth_plugin_len;     /* its length */
	const uint8_t *attrs;       /* connection attributes block (slice, may be NULL) */
	size_t attrs_len;           /* its length */
} myp_hsresp_t;

/* Parse a HandshakeResponse41 (or SSLRequest). Protocol 3.20 responses are MYP_EPROTO. */
MYP_WUR myp_status_t myp_hsresp_parse(const uint8_t *p, size_t n, myp_hsresp_t *out);
/* Clear capability bits in place in a handshake response payload (low 32 bits only;
 * extended bits at offset 28 when CLIENT_LONG_PASSWORD is clear). */
void myp_hsresp_clear_caps(uint8_t *p, size_t n, uint64_t clear_caps);
/* Set capability bits (low 32 only, e.g. CLIENT_SSL) in place in a handshake response. */
void myp_hsresp_set_caps(uint8_t *p, size_t n, uint32_t set_caps);
/* Build the SSLRequest a client sends before its TLS handshake: the 32 bytes of a handshake
 * response up to the user name, with CLIENT_SSL set in caps (seq 1 after a greeting). */
void myp_ssl_request_build(myp_wbuf_t *w, uint8_t seq, uint64_t caps, uint32_t max_packet,
                           uint8_t charset);
/* Build a handshake response (tests, monitor-less clients). */
void myp_hsresp_build(myp_wbuf_t *w, uint8_t seq, const myp_hsresp_t *r);
/* Build r again less clear_caps, with an empty auth response and plugin as its auth
 * plugin name: a server that has no such plugin answers with an AuthSwitchRequest. */
void myp_hsresp_defer_build(myp_wbuf_t *w, uint8_t seq, const myp_hsresp_t *r, const char *plugin,
                            uint64_t clear_caps);

#define MYP_NATIVE_PLUGIN   "mysql_native_password"
#define MYP_NATIVE_AUTH_LEN 20 /* its scramble and its answer */
/* Build a mysql_native_password login answering greeting g (seq 1): protocol 4.1, secure
 * connection, plugin auth and transactions as g offers them, g's collation, user and auth
 * (the scrambled password, MYP_NATIVE_AUTH_LEN bytes, or none for an empty password). */
void myp_native_login_build(myp_wbuf_t *w, uint8_t seq, const myp_greeting_t *g, const char *user,
                            size_t user_len, const uint8_t *auth, size_t auth_len);
/* Build one round's auth data as its own packet (an answer to an auth switch or a plugin's
 * request): the bytes as they are. */
void myp_auth_data_build(myp_wbuf_t *w, uint8_t seq, const uint8_t *data, size_t n);

typedef struct myp_authswitch {
	const uint8_t *plugin; /* plugin name (slice) */
	size_t plugin_len;     /* its length */
	const uint8_t *data;   /* plugin data (slice) */
	size_t data_len;       /* its length */
} myp_authswitch_t;

/* Parse an AuthSwitchRequest payload (first byte 0xFE). */
MYP_WUR myp_status_t myp_authswitch_parse(const uint8_t *p, size_t n, myp_authswitch_t *out);
void myp_authswitch_build(myp_wbuf_t *w, uint8_t seq, const char *plugin, const uint8_t *data,
                          size_t data_len);

/* ---- response tracking ------------------------------------------------------ */

/*
 * The response state machine. The proxy feeds it every physical packet of one
 * command's exchange, in order, from both directions, and learns where the response
 * ends and the status flags it ended with. It never needs more than the first
 * MYP_RESP_PEEK bytes of any payload; continuation packets (after a 0xFFFFFF one)
 * are recognised and not interpreted. Covers COM_QUERY (OK, ERR, text result sets,
 * multi-results, LOCAL INFILE), COM_STMT_PREPARE, COM_STMT_EXECUTE (binary rows,
 * cursors), COM_STMT_FETCH, COM_FIELD_LIST, COM_CHANGE_USER (auth exchange),
 * COM_STATISTICS and the single OK/ERR/EOF commands, with CLIENT_DEPRECATE_EOF on and
 * off, MARIADB_CLIENT_CACHE_METADATA and MariaDB progress reports (ERR 0xFFFF while
 * MARIADB_CLIENT_PROGRESS is negotiated). The initial connection's authentication is
 * tracked with myp_resp_begin_auth().
 */

#define MYP_RESP_PEEK 32 /* bytes of each payload the caller must supply (or all, if shorter) */

typedef enum myp_resp_event {
	MYP_RESP_CONTINUE = 0, /* more packets belong to this response */
	MYP_RESP_DONE = 1,     /* the response is complete; r->status/r->ok/r->err tell how */
	MYP_RESP_EPROTO = -1   /* the packet cannot be part of this response */
} myp_resp_event_t;

typedef struct myp_resp {
	uint64_t caps;          /* negotiated capabilities */
	uint8_t cmd;            /* command being answered */
	uint8_t phase;          /* internal phase (codec-private) */
	bool server_cont;       /* last server packet was 0xFFFFFF long: next one continues it */
	bool client_cont;       /* same for client packets */
	bool client_turn;       /* client packets now belong to this exchange (infile data, auth) */
	bool cursor;            /* COM_STMT_EXECUTE asked for a cursor */
	uint64_t left;          /* column/param definitions left in the current block */
	uint16_t prep_params;   /* COM_STMT_PREPARE: param definitions still to come as a block */
	uint16_t status;        /* status flags of the last OK/EOF seen, less MORE_RESULTS_EXISTS
	                         * once an ERR ended the response */
	bool status_seen;       /* status is valid (an OK/EOF ended a result) */
	bool failed;            /* the response ended with an ERR */
	uint16_t err_code;      /* that ERR's code */
	uint64_t affected_rows; /* from the final OK, if any */
	uint32_t results;       /* result sets/OKs seen (multi-results) */
	uint16_t prep_cols;     /* COM_STMT_PREPARE: column definitions after the params */
	uint32_t stmt_id;       /* COM_STMT_PREPARE: statement id from its OK */
} myp_resp_t;

/* Begin tracking the response to a command whose first packet payload (prefix of n
 * bytes, n >= 1) is p. Commands of kind MYP_CMDK_NO_RESPONSE/QUIT/UNSUPPORTED must not
 * be begun. */
void myp_resp_begin(myp_resp_t *r, uint64_t caps, const uint8_t *p, size_t n);
/* Same, knowing the command packet's full payload length: a command of 0xFFFFFF bytes is
 * continued by more client packets, which then feed as continuations (client_cont). */
void myp_resp_begin_len(myp_resp_t *r, uint64_t caps, uint32_t len, const uint8_t *p, size_t n);
/* Begin tracking the connection-phase authentication after the handshake response:
 * ends at the server's OK or ERR; AuthSwitch / AuthMoreData hand the turn to the client. */
void myp_resp_begin_auth(myp_resp_t *r, uint64_t caps);
/* The server packet about to be fed (len, p/n as for myp_resp_feed_server) is a row of a
 * result set, not its metadata or terminator. */
bool myp_resp_is_row(const myp_resp_t *r, uint32_t len, const uint8_t *p, size_t n);
/* Feed one server packet: len is its full payload length, p/n its first bytes
 * (n = min(len, MYP_RESP_PEEK) at least). */
MYP_WUR myp_resp_event_t myp_resp_feed_server(myp_resp_t *r, uint32_t len, const uint8_t *p,
                                              size_t n);
/* Feed one client packet that arrived while r->client_turn is set. */
MYP_WUR myp_resp_event_t myp_resp_feed_client(myp_resp_t *r, uint32_t len, const uint8_t *p,
                                              size_t n);

/* ---- text rows ------------------------------------------------------------------ */

/* The first column of a text-protocol row payload p (a result set's row, as
 * myp_resp_is_row tells) as an unsigned decimal integer: MYP_NEED_MORE if the column is
 * cut, MYP_EPROTO for NULL, an empty value, anything but digits or more than UINT64_MAX. */
MYP_WUR myp_status_t myp_row_first_uint(const uint8_t *p, size_t n, uint64_t *val);

/* ---- transaction state ---------------------------------------------------------- */

/*
 * An OK or EOF says whether a transaction is open (SERVER_STATUS_IN_TRANS); an ERR does
 * not, and what it did depends on the error. Checked against MariaDB 10.11 with Galera 4:
 * - a deadlock, a Galera certification failure or a BF abort (all ERR 1213) roll the whole
 *   transaction back;
 * - most errors undo only their statement (duplicate key, bad value, parse error): a
 *   transaction open before it stays open. But a DDL statement commits before it runs and
 *   may fail after that (ALTER TABLE ... ADD UNIQUE: 1062), and a CALL or compound
 *   statement may open or end one and then fail: the state the ERR implies is a guess;
 * - a lock wait timeout (1205) undoes its statement, or the whole transaction under
 *   innodb_rollback_on_timeout, which the ERR does not tell.
 * A COM_PING answers with an OK carrying the status flags and leaves the session as it
 * was (warnings, SHOW WARNINGS, @@in_transaction; not ROW_COUNT(), which reads 0 after it).
 */

typedef enum myp_trans {
	MYP_TRANS_NONE = 0,   /* no transaction open */
	MYP_TRANS_OPEN = 1,   /* a transaction is open */
	MYP_TRANS_UNKNOWN = 2 /* an ERR left one open or not: only the server can tell */
} myp_trans_t;

typedef enum myp_err_trans {
	MYP_ERR_TRANS_ROLLBACK,  /* the whole transaction was rolled back */
	MYP_ERR_TRANS_STATEMENT, /* only the statement was undone */
	MYP_ERR_TRANS_UNKNOWN    /* either, or more (the statement committed first) */
} myp_err_trans_t;

/* What an ERR with this code did to the transaction it interrupted. */
myp_err_trans_t myp_err_trans(uint16_t code);
/* The transaction state after a complete response (MYP_RESP_DONE), given the state before
 * the command: the last status flags seen, then what the ERR that ended it implies (for a
 * statement-level error, OPEN only if a transaction was open before it). */
myp_trans_t myp_resp_trans(const myp_resp_t *r, myp_trans_t before);
/* "none", "open", "unknown". */
const char *myp_trans_name(myp_trans_t t);

#endif
