/* myp_resp.c - response state machine: where a command's response ends, in which state. */
#include <string.h>

#include "myp.h"

/*
 * Server behaviour this follows, checked against MariaDB 10.11 on the wire:
 * - A result set is: column count [+ metadata_follows byte if MARIADB_CLIENT_CACHE_METADATA],
 *   column definitions (skipped when metadata_follows is 0, which only COM_STMT_EXECUTE
 *   uses; text results always carry 1), an EOF unless CLIENT_DEPRECATE_EOF (sent even when
 *   the definitions were skipped), rows, then an EOF or, under CLIENT_DEPRECATE_EOF, an OK
 *   with the 0xFE header. MORE_RESULTS_EXISTS in the terminator announces another result.
 * - COM_STMT_EXECUTE that opens a cursor sends the metadata and ends: without
 *   DEPRECATE_EOF on the metadata EOF (status has CURSOR_EXISTS), with it on an OK-as-EOF
 *   right after the definitions. Rows come later through COM_STMT_FETCH.
 * - COM_STMT_PREPARE is unaffected by CACHE_METADATA.
 * - COM_SET_OPTION, COM_DEBUG and COM_SHUTDOWN answer with an EOF (OK-as-EOF).
 */

enum phase {
	PH_DONE,            /* response complete: nothing more belongs to it */
	PH_INVALID,         /* begun with a command that has no trackable response */
	PH_FIRST,           /* OK, ERR, LOCAL INFILE request or a column count */
	PH_COLDEFS,         /* r->left column definitions to come */
	PH_COLEOF,          /* the EOF after the column definitions */
	PH_ROWS,            /* rows until EOF / OK-as-EOF / ERR */
	PH_INFILE_DATA,     /* the client sends file data; an empty packet ends it */
	PH_INFILE_RESULT,   /* the server's OK/ERR for the loaded data */
	PH_PREP_FIRST,      /* COM_STMT_PREPARE: ERR or its OK */
	PH_PREP_PARAMS,     /* r->left parameter definitions */
	PH_PREP_PARAMS_EOF, /* the EOF after them */
	PH_PREP_COLS,       /* r->left column definitions */
	PH_PREP_COLS_EOF,   /* the EOF after them */
	PH_FIELDLIST,       /* COM_FIELD_LIST: definitions until EOF / OK-as-EOF */
	PH_SINGLE,          /* exactly one OK, ERR or EOF */
	PH_STATS,           /* COM_STATISTICS: one string packet */
	PH_AUTH,            /* authentication exchange: ends at OK or ERR */
};

#define STMT_PREPARE_OK_LEN   12 /* 0x00, stmt id 4, columns 2, params 2, filler 1, warnings 2 */
#define CURSOR_TYPE_READ_ONLY 1  /* COM_STMT_EXECUTE flag: open a cursor */

static bool is_binary(uint8_t cmd)
{
	return cmd == MYP_COM_STMT_EXECUTE || cmd == MYP_COM_STMT_BULK_EXECUTE ||
	       cmd == MYP_COM_STMT_FETCH;
}

static void resp_init(myp_resp_t *r, uint64_t caps, uint8_t cmd, enum phase ph)
{
	memset(r, 0, sizeof(*r));
	r->caps = caps;
	r->cmd = cmd;
	r->phase = (uint8_t)ph;
}

void myp_resp_begin(myp_resp_t *r, uint64_t caps, const uint8_t *p, size_t n)
{
	enum phase ph;

	if (n < 1) {
		resp_init(r, caps, 0, PH_INVALID);
		return;
	}
	if (myp_cmd_kind(p[0]) != MYP_CMDK_RESPONSE) {
		resp_init(r, caps, p[0], PH_INVALID);
		return;
	}
	switch (p[0]) {
	case MYP_COM_QUERY:
	case MYP_COM_PROCESS_INFO: /* SHOW PROCESSLIST: a text result set */
	case MYP_COM_STMT_EXECUTE:
	case MYP_COM_STMT_BULK_EXECUTE:
		ph = PH_FIRST;
		break;
	case MYP_COM_STMT_FETCH:
		ph = PH_ROWS;
		break;
	case MYP_COM_STMT_PREPARE:
		ph = PH_PREP_FIRST;
		break;
	case MYP_COM_FIELD_LIST:
		ph = PH_FIELDLIST;
		break;
	case MYP_COM_STATISTICS:
		ph = PH_STATS;
		break;
	case MYP_COM_CHANGE_USER:
		ph = PH_AUTH;
		break;
	default:
		ph = PH_SINGLE; /* incl. unknown commands, answered with one ERR */
		break;
	}
	resp_init(r, caps, p[0], ph);
	/* the flags byte after the statement id (mysqld_stmt_execute reads it the same way) */
	if (p[0] == MYP_COM_STMT_EXECUTE && n > 5 && (p[5] & CURSOR_TYPE_READ_ONLY))
		r->cursor = true;
}

void myp_resp_begin_len(myp_resp_t *r, uint64_t caps, uint32_t len, const uint8_t *p, size_t n)
{
	myp_resp_begin(r, caps, p, n);
	r->client_cont = len == MYP_MAX_PAYLOAD;
}

void myp_resp_begin_auth(myp_resp_t *r, uint64_t caps)
{
	resp_init(r, caps, MYP_COM_CONNECT, PH_AUTH);
}

/* ---- packet classification ------------------------------------------------ */

static bool is_progress(const myp_resp_t *r, const uint8_t *p, size_t n)
{
	return (r->caps & MYP_MARIADB_CLIENT_PROGRESS) && n >= 3 && p[0] == 0xFF && p[1] == 0xFF &&
	       p[2] == 0xFF;
}

/* 0xFE that ends a result: an EOF, or an OK under DEPRECATE_EOF; a longer one is a row. */
static bool is_terminator(uint32_t len, const uint8_t *p, size_t n)
{
	return n >= 1 && p[0] == 0xFE && len < MYP_MAX_PAYLOAD;
}

bool myp_resp_is_row(const myp_resp_t *r, uint32_t len, const uint8_t *p, size_t n)
{
	return r->phase == PH_ROWS && !r->server_cont && n >= 1 && p[0] != 0xFF &&
	       !is_terminator(len, p, n);
}

/* The server status of an EOF or (deprecate_eof) an OK-as-EOF / OK. */
static bool read_status(const myp_resp_t *r, uint32_t len, const uint8_t *p, size_t n, bool as_ok,
                        uint16_t *status, uint64_t *affected)
{
	myp_ok_t ok;
	myp_eof_t eof;

	if (as_ok) {
		/* only the fixed head is needed: parse without SESSION_TRACK so that a peeked
		 * prefix cannot cut a length-encoded info string */
		if (myp_ok_parse(p, n, r->caps & ~MYP_CLIENT_SESSION_TRACK, &ok) != MYP_OK)
			return false;
		*status = ok.status;
		if (affected)
			*affected = ok.affected_rows;
		return true;
	}
	if (len >= 9 || myp_eof_parse(p, n, &eof) != MYP_OK)
		return false;
	*status = eof.status;
	return true;
}

static myp_resp_event_t end_with_err(myp_resp_t *r, const uint8_t *p, size_t n)
{
	myp_err_t err;

	if (myp_err_parse(p, n, r->caps, &err) != MYP_OK)
		return MYP_RESP_EPROTO;
	r->failed = true;
	r->err_code = err.code;
	r->status &= (uint16_t)~MYP_SERVER_MORE_RESULTS_EXISTS; /* an ERR ends a multi-result */
	r->client_turn = false;
	r->phase = PH_DONE;
	return MYP_RESP_DONE;
}

/* A result ended on this status: another follows if it says so and the command allows. */
static myp_resp_event_t end_result(myp_resp_t *r, uint16_t status, bool multi)
{
	r->status = status;
	r->status_seen = true;
	r->results++;
	if (multi && (status & MYP_SERVER_MORE_RESULTS_EXISTS)) {
		r->phase = PH_FIRST;
		return MYP_RESP_CONTINUE;
	}
	r->client_turn = false;
	r->phase = PH_DONE;
	return MYP_RESP_DONE;
}

/* The terminator of rows or definitions: EOF, or OK-as-EOF under DEPRECATE_EOF. */
static myp_resp_event_t end_rows(myp_resp_t *r, uint32_t len, const uint8_t *p, size_t n,
                                 bool multi)
{
	uint16_t status;
	bool deprecate_eof = r->caps & MYP_CLIENT_DEPRECATE_EOF;

	if (!read_status(r, len, p, n, deprecate_eof, &status, NULL))
		return MYP_RESP_EPROTO;
	return end_result(r, status, multi);
}

/* After the column definitions (or the count, if they were skipped). */
static void after_coldefs(myp_resp_t *r)
{
	r->phase = (r->caps & MYP_CLIENT_DEPRECATE_EOF) ? PH_ROWS : PH_COLEOF;
}

/* ---- phases ------------------------------------------------------------------ */

static myp_resp_event_t on_first(myp_resp_t *r, uint32_t len, const uint8_t *p, size_t n)
{
	uint64_t count;
	size_t used;
	myp_ok_t ok;

	switch (p[0]) {
	case 0x00:
		if (myp_ok_parse(p, n, r->caps & ~MYP_CLIENT_SESSION_TRACK, &ok) != MYP_OK)
			return MYP_RESP_EPROTO;
		r->affected_rows = ok.affected_rows;
		return end_result(r, ok.status, true);
	case 0xFF:
		return end_with_err(r, p, n);
	case 0xFB:
		/* LOCAL INFILE request (NULL is no column count): only a text query loads */
		if (r->cmd != MYP_COM_QUERY)
			return MYP_RESP_EPROTO;
		r->phase = PH_INFILE_DATA;
		r->client_turn = true;
		return MYP_RESP_CONTINUE;
	default:
		break;
	}
	if (myp_lenenc_int(p, n, &count, &used, NULL) != MYP_OK || count == 0 || p[0] == 0xFE)
		return MYP_RESP_EPROTO;
	if (r->caps & MYP_MARIADB_CLIENT_CACHE_METADATA) {
		/* metadata_follows: 1 = definitions follow, 0 = client has them cached */
		if (len != used + 1 || n < used + 1 || p[used] > 1)
			return MYP_RESP_EPROTO;
		if (p[used] == 0) {
			after_coldefs(r);
			return MYP_RESP_CONTINUE;
		}
	} else if (len != used) {
		return MYP_RESP_EPROTO;
	}
	r->left = count;
	r->phase = PH_COLDEFS;
	return MYP_RESP_CONTINUE;
}

/* A column or parameter definition: anything a lenenc catalog string can start with. */
static myp_resp_event_t on_def(myp_resp_t *r, uint32_t len, const uint8_t *p, size_t n,
                               enum phase next)
{
	if (p[0] == 0xFF)
		return end_with_err(r, p, n);
	if (is_terminator(len, p, n) || p[0] == 0xFB)
		return MYP_RESP_EPROTO; /* too few definitions */
	if (--r->left == 0)
		r->phase = (uint8_t)next;
	return MYP_RESP_CONTINUE;
}

static myp_resp_event_t on_coleof(myp_resp_t *r, uint32_t len, const uint8_t *p, size_t n)
{
	uint16_t status;

	if (p[0] == 0xFF)
		return end_with_err(r, p, n);
	if (!read_status(r, len, p, n, false, &status, NULL))
		return MYP_RESP_EPROTO;
	if (r->cursor && (status & MYP_SERVER_STATUS_CURSOR_EXISTS)) {
		/* the server opened a cursor: rows come with COM_STMT_FETCH */
		return end_result(r, status, false);
	}
	r->phase = PH_ROWS;
	return MYP_RESP_CONTINUE;
}

static myp_resp_event_t on_rows(myp_resp_t *r, uint32_t len, const uint8_t *p, size_t n)
{
	if (is_terminator(len, p, n))
		return end_rows(r, len, p, n, r->cmd != MYP_COM_STMT_FETCH);
	if (p[0] == 0xFF)
		return end_with_err(r, p, n);
	if (is_binary(r->cmd) && p[0] != 0x00)
		return MYP_RESP_EPROTO; /* binary rows start with a 0x00 header */
	return MYP_RESP_CONTINUE;       /* text rows start with any lenenc byte, 0xFB (NULL) too */
}

static myp_resp_event_t on_single(myp_resp_t *r, uint32_t len, const uint8_t *p, size_t n)
{
	uint16_t status;
	uint64_t affected = 0;

	if (p[0] == 0xFF)
		return end_with_err(r, p, n);
	if (p[0] == 0x00) {
		if (!read_status(r, len, p, n, true, &status, &affected))
			return MYP_RESP_EPROTO;
	} else if (is_terminator(len, p, n)) {
		if (!read_status(r, len, p, n, r->caps & MYP_CLIENT_DEPRECATE_EOF, &status, NULL))
			return MYP_RESP_EPROTO;
	} else {
		return MYP_RESP_EPROTO;
	}
	r->affected_rows = affected;
	return end_result(r, status, false);
}

static myp_resp_event_t on_infile_result(myp_resp_t *r, uint32_t len, const uint8_t *p, size_t n)
{
	uint16_t status;
	uint64_t affected;

	if (p[0] == 0xFF)
		return end_with_err(r, p, n);
	if (p[0] != 0x00 || !read_status(r, len, p, n, true, &status, &affected))
		return MYP_RESP_EPROTO;
	r->affected_rows = affected;
	return end_result(r, status, true); /* MORE_RESULTS: the next statement's result */
}

static myp_resp_event_t prep_next_block(myp_resp_t *r)
{
	if (r->prep_params) {
		r->left = r->prep_params;
		r->prep_params = 0;
		r->phase = PH_PREP_PARAMS;
		return MYP_RESP_CONTINUE;
	}
	if (r->prep_cols) {
		r->left = r->prep_cols;
		r->prep_cols = 0;
		r->phase = PH_PREP_COLS;
		return MYP_RESP_CONTINUE;
	}
	r->phase = PH_DONE;
	return MYP_RESP_DONE;
}

static myp_resp_event_t on_prep_first(myp_resp_t *r, uint32_t len, const uint8_t *p, size_t n)
{
	if (p[0] == 0xFF)
		return end_with_err(r, p, n);
	/* MySQL 8 may add a metadata_follows byte: accept a longer OK */
	if (p[0] != 0x00 || len < STMT_PREPARE_OK_LEN || n < STMT_PREPARE_OK_LEN)
		return MYP_RESP_EPROTO;
	r->stmt_id =
	        (uint32_t)p[1] | (uint32_t)p[2] << 8 | (uint32_t)p[3] << 16 | (uint32_t)p[4] << 24;
	r->prep_cols = (uint16_t)(p[5] | p[6] << 8);
	r->prep_params = (uint16_t)(p[7] | p[8] << 8);
	r->results = 1;
	return prep_next_block(r);
}

static myp_resp_event_t on_prep_eof(myp_resp_t *r, uint32_t len, const uint8_t *p, size_t n)
{
	uint16_t status;

	if (!read_status(r, len, p, n, false, &status, NULL))
		return MYP_RESP_EPROTO;
	r->status = status;
	r->status_seen = true;
	return prep_next_block(r);
}

/* After a block of prepare definitions: its EOF, or the next block. */
static enum phase prep_after(const myp_resp_t *r, enum phase eof_phase)
{
	return (r->caps & MYP_CLIENT_DEPRECATE_EOF) ? PH_DONE : eof_phase;
}

static myp_resp_event_t on_prep_def(myp_resp_t *r, uint32_t len, const uint8_t *p, size_t n,
                                    enum phase eof_phase)
{
	myp_resp_event_t ev = on_def(r, len, p, n, prep_after(r, eof_phase));

	if (ev == MYP_RESP_CONTINUE && r->phase == PH_DONE)
		return prep_next_block(r); /* DEPRECATE_EOF: no EOF between blocks */
	return ev;
}

static myp_resp_event_t on_fieldlist(myp_resp_t *r, uint32_t len, const uint8_t *p, size_t n)
{
	if (is_terminator(len, p, n))
		return end_rows(r, len, p, n, false);
	if (p[0] == 0xFF)
		return end_with_err(r, p, n);
	if (p[0] == 0xFB)
		return MYP_RESP_EPROTO;
	return MYP_RESP_CONTINUE;
}

static myp_resp_event_t on_auth(myp_resp_t *r, uint32_t len, const uint8_t *p, size_t n)
{
	switch (p[0]) {
	case 0x00:
		return on_single(r, len, p, n);
	case 0xFF:
		return end_with_err(r, p, n);
	default:
		/* 0xFE AuthSwitchRequest, 0x01 AuthMoreData, or raw plugin data: MariaDB sends
		 * plugin packets as they are and prefixes 0x01 only to those starting 0x01,
		 * 0xFE or 0xFF (PAM's dialog asks with 0x02/0x04). The server may also go on by
		 * itself (caching_sha2 fast auth: 0x01 0x03, then OK). */
		r->client_turn = true;
		return MYP_RESP_CONTINUE;
	}
}

static myp_resp_event_t dispatch_server(myp_resp_t *r, uint32_t len, const uint8_t *p, size_t n)
{
	switch ((enum phase)r->phase) {
	case PH_FIRST:
		return on_first(r, len, p, n);
	case PH_COLDEFS:
		return on_def(r, len, p, n,
		              (r->caps & MYP_CLIENT_DEPRECATE_EOF) ? PH_ROWS : PH_COLEOF);
	case PH_COLEOF:
		return on_coleof(r, len, p, n);
	case PH_ROWS:
		return on_rows(r, len, p, n);
	case PH_INFILE_DATA:
		/* the server reads all the data before it answers; only an ERR (killed) ends it */
		if (p[0] == 0xFF) {
			r->client_turn = false;
			return end_with_err(r, p, n);
		}
		return MYP_RESP_EPROTO;
	case PH_INFILE_RESULT:
		return on_infile_result(r, len, p, n);
	case PH_PREP_FIRST:
		return on_prep_first(r, len, p, n);
	case PH_PREP_PARAMS:
		return on_prep_def(r, len, p, n, PH_PREP_PARAMS_EOF);
	case PH_PREP_COLS:
		return on_prep_def(r, len, p, n, PH_PREP_COLS_EOF);
	case PH_PREP_PARAMS_EOF:
	case PH_PREP_COLS_EOF:
		return on_prep_eof(r, len, p, n);
	case PH_FIELDLIST:
		return on_fieldlist(r, len, p, n);
	case PH_SINGLE:
		return on_single(r, len, p, n);
	case PH_STATS:
		if (p[0] == 0xFF)
			return end_with_err(r, p, n);
		r->phase = PH_DONE;
		return MYP_RESP_DONE;
	case PH_AUTH:
		return on_auth(r, len, p, n);
	case PH_DONE:
	case PH_INVALID:
		break;
	}
	return MYP_RESP_EPROTO;
}

myp_resp_event_t myp_resp_feed_server(myp_resp_t *r, uint32_t len, const uint8_t *p, size_t n)
{
	myp_resp_event_t ev;

	if (r->phase == PH_DONE || r->phase == PH_INVALID || n > len || len > MYP_MAX_PAYLOAD)
		return MYP_RESP_EPROTO;
	if (r->server_cont) {
		/* the rest of a 0xFFFFFF-long packet: its first bytes mean nothing */
		r->server_cont = len == MYP_MAX_PAYLOAD;
		return MYP_RESP_CONTINUE;
	}
	if (n < 1)
		return MYP_RESP_EPROTO; /* no packet of any response is empty */
	if (r->phase == PH_STATS) {
		ev = dispatch_server(r, len, p, n); /* a plain string: no progress reports */
	} else if (is_progress(r, p, n)) {
		ev = MYP_RESP_CONTINUE;
	} else {
		ev = dispatch_server(r, len, p, n);
	}
	if (ev == MYP_RESP_CONTINUE)
		r->server_cont = len == MYP_MAX_PAYLOAD;
	else if (ev == MYP_RESP_DONE && len == MYP_MAX_PAYLOAD)
		ev = MYP_RESP_EPROTO; /* a response cannot end on a packet that continues */
	if (ev == MYP_RESP_EPROTO)
		r->phase = PH_DONE;
	return ev;
}

myp_resp_event_t myp_resp_feed_client(myp_resp_t *r, uint32_t len, const uint8_t *p, size_t n)
{
	(void)p;
	if (n > len || len > MYP_MAX_PAYLOAD)
		return MYP_RESP_EPROTO;
	if (r->client_cont) {
		/* rest of a 0xFFFFFF-long client packet (the command itself, data, auth) */
		r->client_cont = len == MYP_MAX_PAYLOAD;
		return MYP_RESP_CONTINUE;
	}
	if (!r->client_turn || r->phase == PH_DONE || r->phase == PH_INVALID) {
		r->phase = PH_DONE;
		return MYP_RESP_EPROTO;
	}
	if (r->phase == PH_INFILE_DATA && len == 0) {
		/* the empty packet ends the file data: the server answers next */
		r->client_turn = false;
		r->phase = PH_INFILE_RESULT;
		return MYP_RESP_CONTINUE;
	}
	r->client_cont = len == MYP_MAX_PAYLOAD;
	return MYP_RESP_CONTINUE;
}

/* ---- transaction state ------------------------------------------------------- */

myp_err_trans_t myp_err_trans(uint16_t code)
{
	switch (code) {
	case 1213: /* ER_LOCK_DEADLOCK: InnoDB deadlock, Galera certification failure, BF abort */
		return MYP_ERR_TRANS_ROLLBACK;
	case 1022: /* ER_DUP_KEY */
	case 1048: /* ER_BAD_NULL_ERROR */
	case 1062: /* ER_DUP_ENTRY */
	case 1064: /* ER_PARSE_ERROR: nothing ran */
	case 1216: /* ER_NO_REFERENCED_ROW */
	case 1217: /* ER_ROW_IS_REFERENCED */
	case 1242: /* ER_SUBQUERY_NO_1_ROW */
	case 1264: /* ER_WARN_DATA_OUT_OF_RANGE */
	case 1292: /* ER_TRUNCATED_WRONG_VALUE */
	case 1317: /* ER_QUERY_INTERRUPTED: KILL QUERY */
	case 1364: /* ER_NO_DEFAULT_FOR_FIELD */
	case 1365: /* ER_DIVISION_BY_ZERO */
	case 1366: /* ER_TRUNCATED_WRONG_VALUE_FOR_FIELD */
	case 1406: /* ER_DATA_TOO_LONG */
	case 1451: /* ER_ROW_IS_REFERENCED_2 */
	case 1452: /* ER_NO_REFERENCED_ROW_2 */
	case 1586: /* ER_DUP_ENTRY_WITH_KEY_NAME */
	case 1690: /* ER_DATA_OUT_OF_RANGE */
	case 1792: /* ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION */
	case 4025: /* ER_CONSTRAINT_FAILED: a CHECK constraint */
		return MYP_ERR_TRANS_STATEMENT;
	default: /* 1205 lock wait timeout (innodb_rollback_on_timeout), DDL errors, ... */
		return MYP_ERR_TRANS_UNKNOWN;
	}
}

myp_trans_t myp_resp_trans(const myp_resp_t *r, myp_trans_t before)
{
	myp_trans_t t = before;

	if (r->status_seen)
		t = (r->status & MYP_SERVER_STATUS_IN_TRANS) ? MYP_TRANS_OPEN : MYP_TRANS_NONE;
	if (!r->failed)
		return t;
	switch (myp_err_trans(r->err_code)) {
	case MYP_ERR_TRANS_ROLLBACK:
		return MYP_TRANS_NONE;
	case MYP_ERR_TRANS_STATEMENT:
		/* outside a transaction the statement may have begun one (autocommit=0, a CALL) */
		return t == MYP_TRANS_OPEN ? MYP_TRANS_OPEN : MYP_TRANS_UNKNOWN;
	case MYP_ERR_TRANS_UNKNOWN:
		break;
	}
	return MYP_TRANS_UNKNOWN;
}

const char *myp_trans_name(myp_trans_t t)
{
	switch (t) {
	case MYP_TRANS_NONE:
		return "none";
	case MYP_TRANS_OPEN:
		return "open";
	case MYP_TRANS_UNKNOWN:
		break;
	}
	return "unknown";
}
