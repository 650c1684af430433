/* myp_track.h - session-state tracking in OK packets: read the entries, strip them for a client. */
#ifndef MYP_TRACK_H
#define MYP_TRACK_H

#include "myp.h"

/*
 * Under CLIENT_SESSION_TRACK an OK whose status has SERVER_SESSION_STATE_CHANGED ends with a
 * block (myp_ok_t.session_state, its total length already read) of entries: a type byte, the
 * entry's length (lenenc), then its data:
 * - SYSVAR: name and value, two lenenc strings (session_track_system_variables);
 * - SCHEMA: the new default schema, a lenenc string (session_track_schema);
 * - STATE_CHANGE: the byte '1' (session_track_state_change): some state changed; MariaDB
 *   sends it for every change, named or not (user variables, temporary tables, ...);
 * - GTIDS (MySQL only): an encoding byte (lenenc, 0) and a lenenc string;
 * - TRX_CHARACTERISTICS: SQL that re-creates the next transaction's characteristics, a
 *   lenenc string ("" when there are none);
 * - TRX_STATE: 8 characters, a lenenc string (session_track_transaction_info=STATE).
 * Checked against MariaDB 10.11: the server writes the info string (lenenc, "" when empty)
 * before the block. A classic EOF may carry SERVER_SESSION_STATE_CHANGED without any block
 * (the change is then reported by nothing).
 */

typedef enum myp_track_type {
	MYP_TRACK_SYSVAR = 0,              /* a system variable: name, value */
	MYP_TRACK_SCHEMA = 1,              /* the default schema */
	MYP_TRACK_STATE_CHANGE = 2,        /* some session state changed */
	MYP_TRACK_GTIDS = 3,               /* GTIDs (MySQL) */
	MYP_TRACK_TRX_CHARACTERISTICS = 4, /* SQL that re-creates the transaction characteristics */
	MYP_TRACK_TRX_STATE = 5            /* the transaction state, 8 characters */
} myp_track_type_t;

typedef struct myp_track_entry {
	uint8_t type;         /* a myp_track_type_t, or a newer type (value = the raw data) */
	const uint8_t *data;  /* the entry's whole data (slice) */
	size_t data_len;      /* its length */
	const uint8_t *name;  /* SYSVAR: the variable's name (slice), else NULL */
	size_t name_len;      /* its length */
	const uint8_t *value; /* SYSVAR value, SCHEMA name, GTIDS set, TRX_* text; STATE_CHANGE and
	                       * unknown types: the raw data (slice, may be empty) */
	size_t value_len;     /* its length */
} myp_track_entry_t;

/* Walks a state block without copying. A malformed entry stops it and sets failed. */
typedef struct myp_track_iter {
	const uint8_t *p; /* the block */
	size_t n;         /* its length */
	size_t off;       /* next entry */
	bool failed;      /* sticky: an entry was malformed (the walk stopped there) */
} myp_track_iter_t;

/* Start walking state[0..len) (myp_ok_t.session_state / session_state_len; NULL, 0: none). */
void myp_track_iter_init(myp_track_iter_t *it, const uint8_t *state, size_t len);
/* The next entry into *e: true; false at the end of the block or on a malformed entry
 * (check it->failed once after the loop). */
bool myp_track_next(myp_track_iter_t *it, myp_track_entry_t *e);
/* "sysvar", "schema", "state_change", "gtids", "trx_characteristics", "trx_state", "unknown". */
const char *myp_track_type_name(uint8_t type);

/*
 * Append "@@SESSION.`name`=value" to w (SQL text, not a packet: join assignments with ", "
 * after "SET ", then myp_query_build) to give a variable on another server the value a
 * SYSVAR entry reported. Checked against MariaDB 10.11: a number (digits, a sign, a
 * fraction: "5", "1.500000", "18446744073709551615") goes unquoted, a numeric variable
 * refuses a quoted one (1232); anything else is a quoted string ('ON', 'READ-COMMITTED',
 * '+02:00', ''), with quotes doubled and backslashes doubled unless no_backslash_escapes
 * (the target session's SERVER_STATUS_NO_BACKSLASH_ESCAPES); an empty character_set_*
 * is NULL (SET character_set_results = NULL is reported as ""; '' is refused). Whether a
 * variable should be replayed at all is the caller's decision.
 */
void myp_track_sysvar_sql(myp_wbuf_t *w, const uint8_t *name, size_t name_len, const uint8_t *value,
                          size_t value_len, bool no_backslash_escapes);

/*
 * Rebuild one whole server packet (4-byte header + payload in pkt[0..n)) for a client that
 * did not ask for CLIENT_SESSION_TRACK: an OK (0x00, or 0xFE under CLIENT_DEPRECATE_EOF)
 * loses its state block and SERVER_SESSION_STATE_CHANGED, its info string (lenenc, as the
 * server sends it to such a client) stays when not empty; a classic EOF (0xFE, no
 * DEPRECATE_EOF) loses the flag. The header's length is corrected, the sequence id kept.
 * caps: the capabilities negotiated with the server. The result (never longer than the
 * input) goes to dst[0..cap), *out_len its length; dst may be pkt (rewritten in place).
 * MYP_NEED_MORE: pkt is not a whole packet; MYP_EPROTO: not an OK/EOF or malformed;
 * MYP_EOVERFLOW: cap too small.
 */
MYP_WUR myp_status_t myp_ok_untrack(const uint8_t *pkt, size_t n, uint64_t caps, uint8_t *dst,
                                    size_t cap, size_t *out_len);

#endif
