/* test_codec_resp.c - response state machine scenarios and fuzz seeds (included by test_codec.c).
 */

typedef struct rpkt {
	char dir;        /* 'S' server, 'C' client; 0 ends the list */
	uint32_t len;    /* full payload length; 0: the fixture's own length */
	const char *hex; /* the payload, or its first bytes when len is larger */
	char turn;       /* after it, client_turn is: 'T' set, 'F' clear, 0 unchecked */
} rpkt_t;

#define RESP_MAX_PKTS 16

/* A scenario: name, caps, command, expected end, status, err, results, affected; packets. */
#define SCEN(name, caps, cmd, end, status, err, results, affected, ...)             \
	{                                                                           \
		name, caps, cmd, {__VA_ARGS__}, end, status, err, results, affected \
	}

typedef struct scen {
	const char *name;
	uint64_t caps;
	const char *cmd; /* command payload; NULL: connection-phase authentication */
	rpkt_t pk[RESP_MAX_PKTS];
	myp_resp_event_t end; /* event of the last packet; every one before it is CONTINUE */
	int status;           /* final r->status; -1: status_seen must be false */
	int err;              /* r->err_code of a failed response; 0: must not fail */
	int results;          /* r->results; -1: unchecked */
	long long affected;   /* r->affected_rows; -1: unchecked */
} scen_t;

#define S(h)                 \
	{                    \
		'S', 0, h, 0 \
	}
#define C(h)                 \
	{                    \
		'C', 0, h, 0 \
	}
#define ST(h)                  \
	{                      \
		'S', 0, h, 'T' \
	} /* the client may send after it */
#define SF(h)                  \
	{                      \
		'S', 0, h, 'F' \
	}
#define CT(h)                  \
	{                      \
		'C', 0, h, 'T' \
	}
#define CF(h)                  \
	{                      \
		'C', 0, h, 'F' \
	}
#define SBIG(l, h)           \
	{                    \
		'S', l, h, 0 \
	}
#define CBIG(l, h)             \
	{                      \
		'C', l, h, 'T' \
	}
#define R_DONE   MYP_RESP_DONE
#define R_EPROTO MYP_RESP_EPROTO
#define BULK     MYP_MARIADB_CLIENT_STMT_BULK_OPERATIONS

/* Captured from MariaDB 10.11.19 (table t.a: id int primary key, s varchar(20), b blob). */
#define DEF_ID     "03|def|01|t|01|a|01|a|02|id|02|id|0c 3f00 0b000000 03 0350 00 0000"
#define DEF_ID_CUR "03|def|01|t|01|a|01|a|02|id|02|id|0c 3f00 0b000000 03 0110 00 0000"
#define DEF_S      "03|def|01|t|01|a|01|a|01|s|01|s|0c 2100 3c000000 fd 0000 00 0000"
#define DEF_1      "03|def|00 00 00 01|1|00 0c 3f00 01000000 03 8100 00 0000"
#define DEF_2      "03|def|00 00 00 01|2|00 0c 3f00 01000000 03 8100 00 0000"
#define DEF_P      "03|def|00 00 00 01|?|00 0c 3f00 00000000 06 8000 00 0000"
#define EOF2       "fe 0000 0200"
#define OKEOF2     "fe 00 00 0200 0000"
#define OK2        "00 00 00 0200 0000"
#define PROGRESS   "ff ffff 01 02 02 000000 0f |End bulk insert|"
#define PROGRESS1  "ff ffff 01 01 02 a08601 11 |copy to tmp table|" /* built */

#define CMD_SELECT   "03 |select id, s from a where id=1|"
#define CMD_PREPARE  "16 |select id, s from a where id > ?|"
#define CMD_EXEC     "17 01000000 00 01000000 00 01 0300 01000000"
#define CMD_EXEC_CUR "17 01000000 01 01000000 00 01 0300 01000000"
#define CMD_MULTI \
	"03 |select 1; insert into a values (10,'q',null); select 2 from dual where 0; do 1|"
#define CMD_INFILE                                                                               \
	"03 |load data local infile '/tmp/codec-db/infile.txt' into table a (s) set id = 100 + " \
	"length(s)|"
#define INFILE_REQ   "fb |/tmp/codec-db/infile.txt|"
#define INFILE_OK    "00 01 00 0200 0100 2f |Records: 2  Deleted: 0  Skipped: 1  Warnings: 1|"
#define ERR_NOTAB    "ff 7a04 |#42S02Table 't.nonexist' doesn't exist|"
#define ERR_SUBQ     "ff da04 |#21000Subquery returns more than 1 row|"
#define ERR_DENIED   "ff 1504 |#28000Access denied for user 'u'@'localhost' (using password: YES)|"
#define ERR_DUP      "ff 2604 |#23000Duplicate entry '1' for key 'PRIMARY'|"
#define ERR_LOCKWAIT "ff b504 |#HY000Lock wait timeout exceeded; try restarting transaction|"
#define ERR_DEADLOCK \
	"ff bd04 |#40001Deadlock found when trying to get lock; try restarting transaction|"
#define CMD_CALL "17 03000000 00 01000000 00 01 0300 0300 07000000 00000000"
#define DEF_X    "03|def|00 00 00 01|x|01|x|0c 3f00 0b000000 03 0000 00 0000"
#define DEF_Y    "03|def|01|t|01|p|01|p|01|y|01|y|0c 3f00 0b000000 03 0000 00 0000"
#define CMD_BIG  "03 |select repeat('x', 16777215 - 4), repeat('y', 16777216), 'z'|"
#define DEF_BX                                          \
	"03|def|00 00 00 19|repeat('x', 16777215 - 4)|" \
	"00 0c 2100 00000003 fb 0000 27 0000"
#define DEF_BY        "03|def|00 00 00 15|repeat('y', 16777216)|00 0c 2100 00000003 fb 0000 27 0000"
#define DEF_Z         "03|def|00 00 00 01|z|00 0c 2100 03000000 fd 0100 27 0000"
#define AUTHSW_NATIVE "fe |mysql_native_password| 00 |,%q/3Pz8D,P.6blx7F=;| 00"
#define TOKEN         "ad9890ccce1c254b4b5f3a378e35fd5c28e88f53"

static const scen_t scens[] = {
        /* ---- COM_QUERY text results, captured --------------------------------------- */
        SCEN("text_eof", K41, CMD_SELECT, R_DONE, 2, 0, 1, -1, S("02"), S(DEF_ID), S(DEF_S),
             S(EOF2), S("01310178"), S(EOF2)),
        SCEN("text_deof", K41 | DEOF, CMD_SELECT, R_DONE, 2, 0, 1, -1, S("02"), S(DEF_ID), S(DEF_S),
             S("01310178"), S(OKEOF2)),
        /* CACHE_METADATA: the metadata_follows byte comes with text results too (always 1) */
        SCEN("text_cmeta", K41 | CMETA, CMD_SELECT, R_DONE, 2, 0, 1, -1, S("0201"), S(DEF_ID),
             S(DEF_S), S(EOF2), S("01310178"), S(EOF2)),
        SCEN("text_cmeta_deof", K41 | CMETA | DEOF, CMD_SELECT, R_DONE, 2, 0, 1, -1, S("0201"),
             S(DEF_ID), S(DEF_S), S("01310178"), S(OKEOF2)),
        /* rows starting with 0x00 (empty string), 0xFB (NULL), 0xFC (long) - built */
        SCEN("text_row_starts", K41 | DEOF, CMD_SELECT, R_DONE, 2, 0, 1, -1, S("02"), S(DEF_ID),
             S(DEF_S), S("00 fb"), S("fb 00"), S("fc fb00 78787878"), S("fd 000001 78"), S(OKEOF2)),
        SCEN("multi_eof", K41 | PROG, CMD_MULTI, R_DONE, 2, 0, 4, 0, S("01"), S(DEF_1),
             S("fe 0000 0a00"), S("0131"), S("fe 0000 0a00"), S("00 01 00 0a00 0000"), S("01"),
             S(DEF_2), S("fe 0000 0a00"), S("fe 0000 0a00"), S(OK2)),
        SCEN("multi_deof", K41 | DEOF | PROG, CMD_MULTI, R_DONE, 2, 0, 4, 0, S("01"), S(DEF_1),
             S("0131"), S("fe 00 00 0a00 0000"), S("00 01 00 0a00 0000"), S("01"), S(DEF_2),
             S("fe 00 00 0a00 0000"), S(OK2)),
        /* an ERR ends a multi-result: the status kept from before it says no more results */
        SCEN("multi_err", K41, "03 |select 1; select * from nonexist; select 3|", R_DONE, 0x02,
             1146, 1, -1, S("01"), S(DEF_1), S("fe 0000 0a00"), S("0131"), S("fe 0000 0a00"),
             S(ERR_NOTAB)),
        SCEN("multi_err_deof", K41 | DEOF, "03 |select 1; select * from nonexist; select 3|",
             R_DONE, 0x02, 1146, 1, -1, S("01"), S(DEF_1), S("0131"), S("fe 00 00 0a00 0000"),
             S(ERR_NOTAB)),
        /* ---- ERRs and the transaction (see test_resp_trans), captured unless noted ---------- */
        SCEN("dup_key", K41, "03 |insert into a values (1,'x',null)|", R_DONE, -1, 1062, 0, -1,
             S(ERR_DUP)),
        SCEN("multi_begin_dup", K41, "03 |begin; insert into a values (1,'x',null); select 1|",
             R_DONE, 0x03, 1062, 1, 0, S("00 00 00 0b00 0000"), S(ERR_DUP)),
        SCEN("multi_begin_dup_deof", K41 | DEOF,
             "03 |begin; insert into a values (1,'x',null); select 1|", R_DONE, 0x03, 1062, 1, 0,
             S("00 00 00 0b00 0000"), S(ERR_DUP)),
        /* t.p: START TRANSACTION; INSERT INTO t.a VALUES (1,'y',null) */
        SCEN("call_err", K41, "03 |call p()|", R_DONE, -1, 1062, 0, -1, S(ERR_DUP)),
        SCEN("lock_wait_timeout", K41, "03 |update a set s='r' where id=1|", R_DONE, -1, 1205, 0,
             -1, S(ERR_LOCKWAIT)),
        /* built: MariaDB's deadlock (or Galera certification failure) text */
        SCEN("commit_deadlock", K41, "03 |commit|", R_DONE, -1, 1213, 0, -1, S(ERR_DEADLOCK)),
        SCEN("ddl_err", K41, "03 |create table a (x int)|", R_DONE, -1, 1050, 0, -1,
             S("ff 1a04 |#42S01Table 'a' already exists|")),
        SCEN("ping_in_trans", K41, "0e", R_DONE, 3, 0, 1, 0, S("00 00 00 0300 0000")),
        SCEN("rows_err", K41,
             "03 |select id, (select s from a where id > a1.id) from a a1 order by id desc|",
             R_DONE, -1, 1242, 0, -1, S("02"),
             S("03|def|01|t|02|a1|01|a|02|id|02|id|0c 3f00 0b000000 03 0350 00 0000"),
             S("03|def|00 00 00 22|(select s from a where id > a1.id)|00 0c 2100 3c000000 fd 0000 "
               "27 "
               "0000"),
             S("fe 0000 2200"), S("02 3130 fb"), S("01 33 01 71"), S(ERR_SUBQ)),
        SCEN("rows_err_deof", K41 | DEOF, "03 |select x|", R_DONE, -1, 1242, 0, -1, S("01"),
             S(DEF_1), S("02 3130"), S(ERR_SUBQ)),
        SCEN("begin", K41, "03 |begin|", R_DONE, 3, 0, 1, 0, S("00 00 00 0300 0000")),
        SCEN("select_in_trans", K41, "03 |select 1|", R_DONE, 3, 0, 1, -1, S("01"), S(DEF_1),
             S("fe 0000 0300"), S("0131"), S("fe 0000 0300")),
        SCEN("commit", K41, "03 |commit|", R_DONE, 2, 0, 1, 0, S(OK2)),
        SCEN("alter_progress", K41 | PROG, "03 |alter table big force|", R_DONE, 2, 0, 1, 0,
             S(PROGRESS1), S(PROGRESS1),
             S("00 00 00 0200 0000 26 |Records: 0  Duplicates: 0  Warnings: 0|")),
        /* without MARIADB_CLIENT_PROGRESS, code 0xFFFF is just an error */
        SCEN("progress_no_cap", K41, "03 |alter table big force|", R_DONE, -1, 0xFFFF, 0, -1,
             S(PROGRESS1)),
        SCEN("progress_rows", K41 | PROG, CMD_SELECT, R_DONE, 2, 0, 1, -1, S(PROGRESS), S("01"),
             S(DEF_1), S(PROGRESS), S(EOF2), S("0131"), S(PROGRESS), S(EOF2)),
        /* ---- LOCAL INFILE --------------------------------------------------------------- */
        SCEN("infile", K41 | PROG, CMD_INFILE, R_DONE, 2, 0, 1, 1, ST(INFILE_REQ),
             CT("6c310a6c320a"), CF(""), S(PROGRESS), SF(INFILE_OK)),
        SCEN("infile_deof", K41 | PROG | DEOF, CMD_INFILE, R_DONE, 2, 0, 1, 1, ST(INFILE_REQ),
             CT("6c310a6c320a"), CF(""), SF(INFILE_OK)),
        SCEN("infile_more", K41 | DEOF, "03 |load data local infile 'f' into table a; select 1|",
             R_DONE, 2, 0, 2, 1, ST(INFILE_REQ), CT("6c31"), CF(""), S("00 01 00 0a00 0000"),
             S("01"), S(DEF_1), S("0131"), S(OKEOF2)),
        /* a data packet of exactly 0xFFFFFF bytes: the empty packet after it continues it */
        SCEN("infile_max_data", K41, CMD_INFILE, R_DONE, 2, 0, 1, 1, ST(INFILE_REQ),
             CBIG(0xFFFFFF, "6c310a"), CT(""), CF(""), S(INFILE_OK)),
        SCEN("infile_err", K41, CMD_INFILE, R_DONE, -1, 1148, 0, -1, ST(INFILE_REQ), CT("6c31"),
             CF(""),
             S("ff 7c04 |#42000The used command is not allowed with this MariaDB version|")),
        SCEN("infile_killed", K41, CMD_INFILE, R_DONE, -1, 1317, 0, -1, ST(INFILE_REQ), CT("6c31"),
             SF("ff 2505 |#70100Query execution was interrupted|")),
        /* ---- prepared statements, captured ----------------------------------------------- */
        SCEN("prepare_eof", K41, CMD_PREPARE, R_DONE, 2, 0, 1, -1,
             S("00 01000000 0200 0100 00 0000"), S(DEF_P), S(EOF2), S(DEF_ID), S(DEF_S), S(EOF2)),
        SCEN("prepare_deof", K41 | DEOF, CMD_PREPARE, R_DONE, -1, 0, 1, -1,
             S("00 01000000 0200 0100 00 0000"), S(DEF_P), S(DEF_ID), S(DEF_S)),
        /* CACHE_METADATA does not change COM_STMT_PREPARE */
        SCEN("prepare_cmeta", K41 | CMETA, CMD_PREPARE, R_DONE, 2, 0, 1, -1,
             S("00 02000000 0200 0100 00 0000"), S(DEF_P), S(EOF2), S(DEF_ID), S(DEF_S), S(EOF2)),
        SCEN("prepare_call", K41, "16 |call p(?, ?)|", R_DONE, 2, 0, 1, -1,
             S("00 03000000 0000 0200 00 0000"), S(DEF_P), S(DEF_P), S(EOF2)),
        SCEN("prepare_call_deof", K41 | DEOF, "16 |call p(?, ?)|", R_DONE, -1, 0, 1, -1,
             S("00 03000000 0000 0200 00 0000"), S(DEF_P), S(DEF_P)),
        SCEN("prepare_plain", K41, "16 |do 1|", R_DONE, -1, 0, 1, -1,
             S("00 05000000 0000 0000 00 0000")),
        SCEN("prepare_err", K41, "16 |selec|", R_DONE, -1, 1064, 0, -1,
             S("ff 2804 |#42000You have an error in your SQL syntax|")),
        SCEN("prepare_progress", K41 | DEOF | PROG, CMD_PREPARE, R_DONE, -1, 0, 1, -1, S(PROGRESS),
             S("00 01000000 0200 0100 00 0000"), S(DEF_P), S(PROGRESS), S(DEF_ID), S(DEF_S)),
        SCEN("execute_eof", K41, CMD_EXEC, R_DONE, 2, 0, 1, -1, S("02"), S(DEF_ID), S(DEF_S),
             S(EOF2), S("00 08 02000000"), S("00 00 03000000 00"), S(EOF2)),
        SCEN("execute_deof", K41 | DEOF, CMD_EXEC, R_DONE, 2, 0, 1, -1, S("02"), S(DEF_ID),
             S(DEF_S), S("00 08 02000000"), S("00 00 03000000 00"), S(OKEOF2)),
        /* metadata_follows 0: no definitions, but the EOF is still sent without DEPRECATE_EOF */
        SCEN("execute_cmeta_skip", K41 | CMETA, CMD_EXEC, R_DONE, 2, 0, 1, -1, S("0200"), S(EOF2),
             S("00 08 02000000"), S("00 00 03000000 00"), S(EOF2)),
        SCEN("execute_cmeta_skip_deof", K41 | CMETA | DEOF, CMD_EXEC, R_DONE, 2, 0, 1, -1,
             S("0200"), S("00 08 02000000"), S("00 00 03000000 00"), S(OKEOF2)),
        SCEN("execute_insert", K41, "17 04000000 00 01000000 00 01 0300 14000000", R_DONE, 2, 0, 1,
             1, S("00 01 00 0200 0000")),
        /* OUT parameters: a second result set flagged PS_OUT_PARAMS */
        SCEN("execute_call", K41 | PROG, CMD_CALL, R_DONE, 2, 0, 3, 0, S("01"), S(DEF_X),
             S("fe 0000 0a00"), S("00 00 07000000"), S("fe 0000 0a00"), S("01"), S(DEF_Y),
             S("fe 0000 0a10"), S("00 00 0e000000"), S("fe 0000 0a10"), S(OK2)),
        SCEN("execute_call_deof", K41 | DEOF | PROG, CMD_CALL, R_DONE, 2, 0, 3, 0, S("01"),
             S(DEF_X), S("00 00 07000000"), S("fe 00 00 0a00 0000"), S("01"), S(DEF_Y),
             S("00 00 0e000000"), S("fe 00 00 0a10 0000"), S(OK2)),
        /* cursors: metadata, then the end, status CURSOR_EXISTS; rows come with COM_STMT_FETCH */
        SCEN("cursor_eof", K41, CMD_EXEC_CUR, R_DONE, 0x42, 0, 1, -1, S("02"), S(DEF_ID_CUR),
             S(DEF_S), S("fe 0000 4200")),
        SCEN("cursor_deof", K41 | DEOF, CMD_EXEC_CUR, R_DONE, 0x42, 0, 1, -1, S("02"),
             S(DEF_ID_CUR), S(DEF_S), S("fe 00 00 4200 0000")),
        SCEN("cursor_cmeta", K41 | CMETA, CMD_EXEC_CUR, R_DONE, 0x42, 0, 1, -1, S("0201"),
             S(DEF_ID_CUR), S(DEF_S), S("fe 0000 4200")),
        SCEN("cursor_cmeta_deof", K41 | CMETA | DEOF, CMD_EXEC_CUR, R_DONE, 0x42, 0, 1, -1,
             S("0201"), S(DEF_ID_CUR), S(DEF_S), S("fe 00 00 4200 0000")),
        SCEN("cursor_cmeta_skip", K41 | CMETA, CMD_EXEC_CUR, R_DONE, 0x42, 0, 1, -1, S("0200"),
             S("fe 0000 4200")),
        /* captured: a cursor asked for on a CALL is not opened: ordinary results follow */
        SCEN("cursor_call_not_opened", K41, "17 07000000 01 01000000 00 01 0300 01000000", R_DONE,
             2, 0, 2, 0, S("01"), S(DEF_X), S("fe 0000 0a00"), S("00 00 01000000"),
             S("fe 0000 0a00"), S(OK2)),
        SCEN("execute_do_cursor", K41, "17 06000000 01 01000000 00 01 0300 01000000", R_DONE, 2, 0,
             1, 0, S(OK2)),
        /* built: a cursor asked for but not opened (no CURSOR_EXISTS): rows follow */
        SCEN("cursor_not_opened", K41, CMD_EXEC_CUR, R_DONE, 2, 0, 1, -1, S("01"), S(DEF_1),
             S(EOF2), S("00 00 01000000"), S(EOF2)),
        SCEN("fetch", K41, "1c 01000000 01000000", R_DONE, 0x42, 0, 1, -1, S("00 08 02000000"),
             S("fe 0000 4200")),
        SCEN("fetch_last", K41, "1c 01000000 05000000", R_DONE, 0x82, 0, 1, -1,
             S("00 00 03000000 00"), S("fe 0000 8200")),
        SCEN("fetch_deof", K41 | DEOF, "1c 01000000 01000000", R_DONE, 0x42, 0, 1, -1,
             S("00 08 02000000"), S("fe 00 00 4200 0000")),
        SCEN("fetch_err", K41, "1c 01000000 05000000", R_DONE, -1, 1421, 0, -1,
             S("ff 8d05 |#HY000The statement (1) has no open cursor|")),
        SCEN("bulk", K41 | PROG | BULK, "fa 05000000 8000 0300 00 14000000 00 15000000", R_DONE, 2,
             0, 1, 2, S("00 02 00 0200 0000 26 |Records: 2  Duplicates: 0  Warnings: 0|")),
        /* ---- other commands, captured unless noted -------------------------------------- */
        SCEN("field_list", K41, "04 |a| 00", R_DONE, 2, 0, 1, -1, S(DEF_ID "01|0|"), S(DEF_S "fb"),
             S("03|def|01|t|01|a|01|a|01|b|01|b|0c 3f00 ffff0000 fc 9000 00 0000 fb"), S(EOF2)),
        SCEN("field_list_deof", K41 | DEOF, "04 |a| 00", R_DONE, 2, 0, 1, -1, S(DEF_ID "01|0|"),
             S(DEF_S "fb"), S(OKEOF2)),
        SCEN("field_list_err", K41, "04 |nonexist| 00", R_DONE, -1, 1146, 0, -1, S(ERR_NOTAB)),
        SCEN("statistics", K41, "09", R_DONE, -1, 0, 0, -1,
             S("|Uptime: 44  Threads: 2  Questions: 56  Slow queries: 0  Opens: 17  Open tables: "
               "10  "
               "Queries per second avg: 1.272|")),
        SCEN("set_option", K41, "1b 0000", R_DONE, 2, 0, 1, -1, S(EOF2)),
        SCEN("set_option_deof", K41 | DEOF, "1b 0000", R_DONE, 2, 0, 1, -1, S(OKEOF2)),
        SCEN("ping", K41, "0e", R_DONE, 2, 0, 1, 0, S(OK2)),
        SCEN("unknown_cmd", K41, "30", R_DONE, -1, 1047, 0, -1,
             S("ff 1704 |#08S01Unknown command|")),
        SCEN("sleep", K41, "00", R_DONE, -1, 1047, 0, -1, S("ff 1704 |#08S01Unknown command|")),
        SCEN("reset_connection", K41, "1f", R_DONE, 2, 0, 1, 0, S(OK2)),
        SCEN("init_db", K41, "02 |t|", R_DONE, 0x4002, 0, 1, 0,
             S("00 00 00 0240 0000 00 04 01020174")),
        SCEN("stmt_reset_err", K41, "1a 63000000", R_DONE, -1, 1243, 0, -1,
             S("ff db04 |#HY000Unknown prepared statement handler (99) given to "
               "mysqld_stmt_reset|")),
        SCEN("refresh", K41, "07 00", R_DONE, 2, 0, 1, 0, S(OK2)),
        SCEN("process_kill", K41, "0c 05000000", R_DONE, 2, 0, 1, 0, S(OK2)),
        /* built */
        SCEN("shutdown", K41, "08 00", R_DONE, 2, 0, 1, -1, S(EOF2)),
        /* built */
        SCEN("debug_deof", K41 | DEOF, "0d", R_DONE, 2, 0, 1, -1, S(OKEOF2)),
        /* built */
        SCEN("create_db", K41, "05 |x|", R_DONE, -1, 1047, 0, -1,
             S("ff 1704 |#08S01Unknown command|")),
        SCEN("process_info", K41, "0a", R_DONE, 2, 0, 1, -1, S("01"), S(DEF_1), S(EOF2), S("0131"),
             S(EOF2)),
        SCEN("change_user", K41 | PROG, "11 |u| 00 00 |t| 00 2100 |mysql_native_password| 00",
             R_DONE, 0x4002, 0, 1, 0, ST(AUTHSW_NATIVE), CT(TOKEN),
             SF("00 00 00 0240 0000 00 04 01020174")),
        SCEN("change_user_err", K41, "11 |x| 00 00 |t| 00 2100 |mysql_native_password| 00", R_DONE,
             -1, 1045, 0, -1,
             SF("ff 1504 |#28000Access denied for user 'x'@'localhost' (using password: NO)|")),
        SCEN("change_user_switch_err", K41, "11 |u| 00 00 00 2100", R_DONE, -1, 1045, 0, -1,
             ST(AUTHSW_NATIVE), CT(TOKEN), SF(ERR_DENIED)),
        /* ---- 0xFFFFFF packets and continuations ------------------------------------------ */
        SCEN("big_row", K41, CMD_BIG, R_DONE, 2, 0, 1, -1, S("03"), S(DEF_BX), S(DEF_BY), S(DEF_Z),
             S(EOF2), SBIG(0xFFFFFF, "fd fbffff 78787878"),
             SBIG(0xFFFFFF, "fe 0000000100000000 79797979"), S("79797979797979797979 01 7a"),
             S(EOF2)),
        SCEN("big_row_deof", K41 | DEOF, CMD_BIG, R_DONE, 2, 0, 1, -1, S("03"), S(DEF_BX),
             S(DEF_BY), S(DEF_Z), SBIG(0xFFFFFF, "fd fbffff 78787878"),
             SBIG(0xFFFFFF, "fe 0000000100000000 79797979"), S("79797979797979797979 01 7a"),
             S(OKEOF2)),
        /* built: continuations that look like an EOF, an ERR, an empty packet */
        SCEN("cont_like_eof", K41, CMD_SELECT, R_DONE, 2, 0, 1, -1, S("01"), S(DEF_1), S(EOF2),
             SBIG(0xFFFFFF, "fe 00000001 00000000 78"), S(EOF2), S(EOF2)),
        SCEN("cont_like_err", K41 | PROG, CMD_EXEC, R_DONE, 2, 0, 1, -1, S("01"), S(DEF_1), S(EOF2),
             SBIG(0xFFFFFF, "00 00 fe 00000001 00000000"), S("ff ffff 01 02"), S(EOF2)),
        SCEN("cont_empty", K41 | DEOF, CMD_SELECT, R_DONE, 2, 0, 1, -1, S("01"), S(DEF_1),
             SBIG(0xFFFFFF, "fd fbffff 78"), S(""), S(OKEOF2)),
        SCEN("cont_twice", K41 | DEOF, CMD_SELECT, R_DONE, 2, 0, 1, -1, S("01"), S(DEF_1),
             SBIG(0xFFFFFF, "fe 00000002 00000000"), SBIG(0xFFFFFF, "fe00000200"),
             S("fe 00 00 0200 0000"), S(OKEOF2)),
        /* ---- connection-phase authentication ---------------------------------------------- */
        SCEN("auth_ok", K41, NULL, R_DONE, 2, 0, 1, 0, SF("00 00 00 0200 0000")),
        SCEN("auth_err", K41, NULL, R_DONE, -1, 1045, 0, -1, SF(ERR_DENIED)),
        SCEN("auth_switch", K41, NULL, R_DONE, 2, 0, 1, 0, ST(AUTHSW_NATIVE), CT(TOKEN), SF(OK2)),
        /* built: caching_sha2_password fast path (0x01 0x03 then OK, the client says nothing) * and
           full path (0x01 0x04, public key request and reply) */
        SCEN("auth_sha2_fast", K41, NULL, R_DONE, 2, 0, 1, 0,
             ST("fe |caching_sha2_password| 00 |0123456789abcdefghij| 00"),
             CT("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"), ST("01 03"),
             SF(OK2)),
        SCEN("auth_sha2_full", K41, NULL, R_DONE, 2, 0, 1, 0, ST("01 04"), CT("02"),
             ST("01 |-----BEGIN PUBLIC KEY-----|"), CT("a1a2a3a4"), SF(OK2)),
        /* built: PAM's dialog plugin: raw questions (0x04 password, 0x02 echo on) */
        SCEN("auth_pam_dialog", K41, NULL, R_DONE, 2, 0, 1, 0, ST("fe |dialog| 00 04 |Password: |"),
             CT("|secret| 00"), ST("03 |Token: |"), CT("|123456| 00"), SF(OK2)),
        SCEN("auth_more_err", K41, NULL, R_DONE, -1, 1045, 0, -1, ST("01 04"), CT("|secret|00"),
             SF(ERR_DENIED)),
        /* ---- impossible sequences ---------------------------------------------------------- */
        SCEN("x_client_not_turn", K41, CMD_SELECT, R_EPROTO, -1, 0, -1, -1, S("01"), C("00")),
        SCEN("x_eof_first", K41, CMD_SELECT, R_EPROTO, -1, 0, -1, -1, S(EOF2)),
        SCEN("x_infile_exec", K41, CMD_EXEC, R_EPROTO, -1, 0, -1, -1, S(INFILE_REQ)),
        SCEN("x_count_trailing", K41, CMD_SELECT, R_EPROTO, -1, 0, -1, -1, S("0200")),
        SCEN("x_count_no_meta_byte", K41 | CMETA, CMD_SELECT, R_EPROTO, -1, 0, -1, -1, S("02")),
        SCEN("x_meta_byte_2", K41 | CMETA, CMD_SELECT, R_EPROTO, -1, 0, -1, -1, S("0202")),
        SCEN("x_count_huge_fe", K41, CMD_SELECT, R_EPROTO, -1, 0, -1, -1, S("fe 0100000000000000")),
        SCEN("x_binary_text_row", K41, CMD_EXEC, R_EPROTO, -1, 0, -1, -1, S("01"), S(DEF_1),
             S(EOF2), S("0131")),
        SCEN("x_fetch_text_row", K41, "1c 01000000 01000000", R_EPROTO, -1, 0, -1, -1, S("0131")),
        SCEN("x_too_few_defs", K41, CMD_SELECT, R_EPROTO, -1, 0, -1, -1, S("02"), S(DEF_ID),
             S(EOF2)),
        SCEN("x_no_coleof", K41, CMD_SELECT, R_EPROTO, -1, 0, -1, -1, S("01"), S(DEF_1), S("0131")),
        SCEN("x_short_eof_deof", K41 | DEOF, CMD_SELECT, R_EPROTO, -1, 0, -1, -1, S("01"), S(DEF_1),
             S("0131"), S(EOF2)),
        SCEN("x_long_eof", K41, CMD_SELECT, R_EPROTO, -1, 0, -1, -1, S("01"), S(DEF_1), S(EOF2),
             S("0131"), S("fe 0000 0200 00000000")),
        SCEN("x_single_odd", K41, "0e", R_EPROTO, -1, 0, -1, -1, S("01 02")),
        SCEN("x_single_ends_continued", K41, "0e", R_EPROTO, -1, 0, -1, -1, SBIG(0xFFFFFF, OK2)),
        SCEN("x_empty", K41, CMD_SELECT, R_EPROTO, -1, 0, -1, -1, S("")),
        SCEN("x_prepare_short_ok", K41, CMD_PREPARE, R_EPROTO, -1, 0, -1, -1,
             S("00 01000000 0200 01")),
        SCEN("x_prepare_eof_early", K41, CMD_PREPARE, R_EPROTO, -1, 0, -1, -1,
             S("00 01000000 0200 0100 00 0000"), S(EOF2)),
        SCEN("x_infile_server_talks", K41, CMD_INFILE, R_EPROTO, -1, 0, -1, -1, ST(INFILE_REQ),
             S(OK2)),
        SCEN("x_auth_empty", K41, NULL, R_EPROTO, -1, 0, -1, -1, S("")),
        SCEN("x_auth_client_first", K41, NULL, R_EPROTO, -1, 0, -1, -1, C("00")),
        SCEN("x_def_null", K41, CMD_SELECT, R_EPROTO, -1, 0, -1, -1, S("01"), S("fb")),
};

#define NSCENS ((int)(sizeof(scens) / sizeof(scens[0])))

static int scen_npk(const scen_t *sc)
{
	int n = 0;

	while (n < RESP_MAX_PKTS && sc->pk[n].dir)
		n++;
	return n;
}

static void scen_begin(const scen_t *sc, myp_resp_t *r)
{
	uint8_t b[FIX_MAX];

	if (sc->cmd) {
		size_t n = unhex(sc->cmd, b, sizeof(b));
		uint8_t *d = dup_exact(b, n);
		myp_resp_begin(r, sc->caps, d, n);
		free(d);
	} else {
		myp_resp_begin_auth(r, sc->caps);
	}
}

/* Feed packet i with at most max bytes of it (as len says, or as a shorter packet). */
static myp_resp_event_t scen_feed(const scen_t *sc, myp_resp_t *r, int i, size_t max, bool shorten)
{
	uint8_t b[FIX_MAX];
	const rpkt_t *pk = &sc->pk[i];
	size_t n = unhex(pk->hex, b, sizeof(b));
	uint32_t len = pk->len ? pk->len : (uint32_t)n;
	myp_resp_event_t ev;
	uint8_t *d;

	if (n > max)
		n = max;
	if (shorten)
		len = (uint32_t)n;
	d = dup_exact(b, n);
	if (pk->dir == 'S')
		ev = myp_resp_feed_server(r, len, d, n);
	else
		ev = myp_resp_feed_client(r, len, d, n);
	free(d);
	return ev;
}

static void scen_run(const scen_t *sc, size_t max)
{
	myp_resp_t r;
	int npk = scen_npk(sc);

	scen_begin(sc, &r);
	for (int i = 0; i < npk; i++) {
		myp_resp_event_t want = i == npk - 1 ? sc->end : MYP_RESP_CONTINUE;
		myp_resp_event_t ev = scen_feed(sc, &r, i, max, false);

		ck_assert_msg(ev == want, "%s (peek %zu): packet %d gave %d, want %d", sc->name,
		              max, i, ev, want);
		if (sc->pk[i].turn)
			ck_assert_msg(r.client_turn == (sc->pk[i].turn == 'T'),
			              "%s: client_turn after packet %d", sc->name, i);
	}
	if (sc->end != MYP_RESP_DONE)
		return;
	if (sc->status < 0) {
		ck_assert_msg(!r.status_seen, "%s: status seen", sc->name);
	} else {
		ck_assert_msg(r.status_seen, "%s: no status", sc->name);
		ck_assert_msg(r.status == sc->status, "%s: status %#x", sc->name, r.status);
	}
	ck_assert_msg(r.failed == (sc->err != 0), "%s: failed", sc->name);
	if (sc->err)
		ck_assert_msg(r.err_code == sc->err, "%s: err %u", sc->name, r.err_code);
	if (sc->results >= 0)
		ck_assert_msg(r.results == (uint32_t)sc->results, "%s: results %u", sc->name,
		              r.results);
	if (sc->affected >= 0)
		ck_assert_msg(r.affected_rows == (uint64_t)sc->affected, "%s: affected", sc->name);
	ck_assert_msg(!r.client_turn, "%s: client_turn left set", sc->name);
	/* nothing belongs to a finished response */
	ck_assert_int_eq(myp_resp_feed_server(&r, 7, (const uint8_t *)"\0\0\0\2\0\0\0", 7),
	                 MYP_RESP_EPROTO);
}

START_TEST(test_resp_scenario)
{
	const scen_t *sc = &scens[_i];

	scen_run(sc, FIX_MAX);       /* whole payloads */
	scen_run(sc, MYP_RESP_PEEK); /* what the proxy supplies: the first 32 bytes */
}
END_TEST

/* Every packet cut short (fewer bytes than promised, or a genuinely shorter packet):
 * any event is fine, reading past the bytes given is not (valgrind/ASan watch). */
START_TEST(test_resp_scenario_truncated)
{
	const scen_t *sc = &scens[_i];
	int npk = scen_npk(sc);
	uint8_t b[FIX_MAX];

	for (int i = 0; i < npk; i++) {
		size_t n = unhex(sc->pk[i].hex, b, sizeof(b));
		size_t lim = n < MYP_RESP_PEEK ? n : MYP_RESP_PEEK;

		for (size_t k = 0; k < lim; k++) {
			for (int shorten = 0; shorten < 2; shorten++) {
				myp_resp_t r;
				bool dead = false;

				scen_begin(sc, &r);
				for (int j = 0; j < i && !dead; j++)
					dead = scen_feed(sc, &r, j, MYP_RESP_PEEK, false) !=
					       MYP_RESP_CONTINUE;
				if (!dead)
					(void)scen_feed(sc, &r, i, k, shorten);
			}
		}
	}
}
END_TEST

START_TEST(test_resp_misuse)
{
	myp_resp_t r;
	uint8_t ok[] = {0, 0, 0, 2, 0, 0, 0};
	uint8_t stmt_close[] = {MYP_COM_STMT_CLOSE, 1, 0, 0, 0};
	uint8_t ping[] = {MYP_COM_PING};

	/* more bytes than the payload has */
	myp_resp_begin(&r, K41, ping, 1);
	ck_assert_int_eq(myp_resp_feed_server(&r, 3, ok, 7), MYP_RESP_EPROTO);
	/* payload length beyond a packet's */
	myp_resp_begin(&r, K41, ping, 1);
	ck_assert_int_eq(myp_resp_feed_server(&r, 0x1000000, ok, 7), MYP_RESP_EPROTO);
	/* commands without a response must not be begun: nothing fits them */
	myp_resp_begin(&r, K41, stmt_close, sizeof(stmt_close));
	ck_assert_int_eq(myp_resp_feed_server(&r, 7, ok, 7), MYP_RESP_EPROTO);
	ck_assert_int_eq(myp_resp_feed_client(&r, 7, ok, 7), MYP_RESP_EPROTO);
	myp_resp_begin(&r, K41, ping, 0);
	ck_assert_int_eq(myp_resp_feed_server(&r, 7, ok, 7), MYP_RESP_EPROTO);
	/* after EPROTO everything is EPROTO */
	myp_resp_begin(&r, K41, ping, 1);
	ck_assert_int_eq(myp_resp_feed_server(&r, 2, (const uint8_t *)"\x01\x02", 2),
	                 MYP_RESP_EPROTO);
	ck_assert_int_eq(myp_resp_feed_server(&r, 7, ok, 7), MYP_RESP_EPROTO);
}
END_TEST

START_TEST(test_resp_begin_fields)
{
	uint8_t b[128];
	size_t n;
	myp_resp_t r;

	n = unhex(CMD_EXEC_CUR, b, sizeof(b));
	myp_resp_begin(&r, K41, b, n);
	ck_assert(r.cursor);
	ck_assert_uint_eq(r.cmd, MYP_COM_STMT_EXECUTE);
	myp_resp_begin(&r, K41, b, 5); /* too short to say */
	ck_assert(!r.cursor);
	n = unhex(CMD_EXEC, b, sizeof(b));
	myp_resp_begin(&r, K41, b, n);
	ck_assert(!r.cursor);
	/* the prepare OK's statement id */
	n = unhex(CMD_PREPARE, b, sizeof(b));
	myp_resp_begin(&r, K41 | DEOF, b, n);
	n = unhex("00 2a000000 0000 0000 00 0000", b, sizeof(b));
	ck_assert_int_eq(myp_resp_feed_server(&r, (uint32_t)n, b, n), MYP_RESP_DONE);
	ck_assert_uint_eq(r.stmt_id, 42);
	myp_resp_begin_auth(&r, K41);
	ck_assert_uint_eq(r.cmd, MYP_COM_CONNECT);
	ck_assert(!r.client_turn);
}
END_TEST

/* A command of 0xFFFFFF bytes: its continuation packets belong to the exchange. */
START_TEST(test_resp_long_command)
{
	uint8_t q[MYP_RESP_PEEK] = {MYP_COM_QUERY, 's', 'e', 'l'};
	uint8_t ok[] = {0, 0, 0, 2, 0, 0, 0};
	myp_resp_t r;

	myp_resp_begin_len(&r, K41, MYP_MAX_PAYLOAD, q, sizeof(q));
	ck_assert(r.client_cont);
	ck_assert_int_eq(myp_resp_feed_client(&r, MYP_MAX_PAYLOAD, q, 4), MYP_RESP_CONTINUE);
	ck_assert(r.client_cont);
	ck_assert_int_eq(myp_resp_feed_client(&r, 0, q, 0), MYP_RESP_CONTINUE);
	ck_assert(!r.client_cont);
	ck_assert_int_eq(myp_resp_feed_server(&r, sizeof(ok), ok, sizeof(ok)), MYP_RESP_DONE);
	/* a short command has no continuation: a client packet is out of turn */
	myp_resp_begin_len(&r, K41, 4, q, 4);
	ck_assert(!r.client_cont);
	ck_assert_int_eq(myp_resp_feed_client(&r, 0, q, 0), MYP_RESP_EPROTO);
}
END_TEST

/* Built with the encoder: 300 columns need a 3-byte column count. */
START_TEST(test_resp_wide_result)
{
	static uint8_t buf[64 * 1024];
	uint8_t q[] = {MYP_COM_QUERY, '*'};
	myp_wbuf_t w;
	myp_resp_t r;
	size_t start, off = 0;
	myp_ok_t ok = {.status = MYP_SERVER_STATUS_AUTOCOMMIT | MYP_SERVER_STATUS_IN_TRANS};
	uint8_t seq = 1;

	myp_wbuf_init(&w, buf, sizeof(buf));
	start = myp_wbuf_packet_begin(&w);
	myp_wbuf_lenenc_int(&w, 300);
	myp_wbuf_packet_end(&w, start, seq++);
	for (int i = 0; i < 300; i++) {
		start = myp_wbuf_packet_begin(&w);
		myp_wbuf_lenenc_str(&w, "def", 3);
		for (int j = 0; j < 5; j++)
			myp_wbuf_lenenc_str(&w, "c", 1);
		myp_wbuf_u8(&w, 0x0c);
		myp_wbuf_u16(&w, 33);
		myp_wbuf_u32(&w, 10);
		myp_wbuf_u8(&w, 0xfd);
		myp_wbuf_u16(&w, 0);
		myp_wbuf_u8(&w, 0);
		myp_wbuf_u16(&w, 0);
		myp_wbuf_packet_end(&w, start, seq++);
	}
	start = myp_wbuf_packet_begin(&w);
	for (int i = 0; i < 300; i++)
		myp_wbuf_u8(&w, 0xFB); /* a row of NULLs */
	myp_wbuf_packet_end(&w, start, seq++);
	myp_ok_eof_build(&w, seq++, K41 | DEOF, &ok);
	ck_assert(!w.failed);

	myp_resp_begin(&r, K41 | DEOF, q, sizeof(q));
	for (int i = 0; i < 303; i++) {
		myp_frame_t f;
		size_t peek;

		ck_assert_int_eq(myp_frame_packet(buf + off, w.len - off, &f), MYP_OK);
		peek = f.len < MYP_RESP_PEEK ? f.len : MYP_RESP_PEEK;
		ck_assert_int_eq(myp_resp_feed_server(&r, f.len, f.payload, peek),
		                 i == 302 ? MYP_RESP_DONE : MYP_RESP_CONTINUE);
		off += MYP_HEADER_LEN + f.len;
	}
	ck_assert_uint_eq(off, w.len);
	ck_assert(r.status & MYP_SERVER_STATUS_IN_TRANS);
}
END_TEST

#include "test_codec_trans.c"

static TCase *resp_tcase(void)
{
	TCase *tc = tcase_create("resp");

	tcase_add_loop_test(tc, test_resp_scenario, 0, NSCENS);
	tcase_add_loop_test(tc, test_resp_scenario_truncated, 0, NSCENS);
	tcase_add_test(tc, test_resp_misuse);
	tcase_add_test(tc, test_resp_begin_fields);
	tcase_add_test(tc, test_resp_long_command);
	tcase_add_test(tc, test_resp_wide_result);
	tcase_add_test(tc, test_resp_trans);
	tcase_add_test(tc, test_err_trans);
	return tc;
}

/* ---- fuzz seeds ------------------------------------------------------------------ */

/*
 * test/fuzz/fuzz_codec.c's input: mode (bit 0: 1 = connection-phase auth), caps (8 bytes,
 * little-endian), then records: direction (bit 0: 1 = client), payload length (3 bytes),
 * bytes present k (2 bytes), k bytes. In a command-response input the first record is
 * the command. Every record also goes through every decoder.
 */
static void seed_record(FILE *f, bool client, uint32_t len, const uint8_t *p, size_t k)
{
	uint8_t h[6] = {client,     (uint8_t)len,     (uint8_t)(len >> 8), (uint8_t)(len >> 16),
	                (uint8_t)k, (uint8_t)(k >> 8)};

	fwrite(h, 1, sizeof(h), f);
	fwrite(p, 1, k, f);
}

static FILE *seed_open(const char *dir, const char *name, uint8_t mode, uint64_t caps)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return NULL;
	}
	fputc(mode, f);
	for (int i = 0; i < 8; i++)
		fputc((int)(caps >> (8 * i)) & 0xFF, f);
	return f;
}

static bool seed_hex_record(FILE *f, bool client, uint32_t len, const char *hex)
{
	static uint8_t b[FIX_MAX];
	size_t n;

	/* unhex asserts; the fixtures are known good here */
	n = unhex(hex, b, sizeof(b));
	seed_record(f, client, len ? len : (uint32_t)n, b, n);
	return true;
}

static bool resp_write_corpus(const char *dir)
{
	char name[256];
	FILE *f;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return false;
	}
	for (int i = 0; i < NSCENS; i++) {
		const scen_t *sc = &scens[i];

		snprintf(name, sizeof(name), "resp_%s", sc->name);
		if (!(f = seed_open(dir, name, sc->cmd ? 0 : 1, sc->caps)))
			return false;
		if (sc->cmd)
			seed_hex_record(f, true, 0, sc->cmd);
		for (int j = 0; j < scen_npk(sc); j++)
			seed_hex_record(f, sc->pk[j].dir == 'C', sc->pk[j].len, sc->pk[j].hex);
		fclose(f);
	}
	for (size_t i = 0; i < sizeof(greeting_cases) / sizeof(greeting_cases[0]); i++) {
		snprintf(name, sizeof(name), "greeting_%s", greeting_cases[i].name);
		if (!(f = seed_open(dir, name, 1, K41)))
			return false;
		seed_hex_record(f, false, 0, greeting_cases[i].hex);
		fclose(f);
	}
	for (size_t i = 0; i < sizeof(hsresp_cases) / sizeof(hsresp_cases[0]); i++) {
		snprintf(name, sizeof(name), "hsresp_%s", hsresp_cases[i].name);
		if (!(f = seed_open(dir, name, 1, K41)))
			return false;
		seed_hex_record(f, true, 0, hsresp_cases[i].hex);
		seed_hex_record(f, false, 0, AUTHSWITCH_NATIVE);
		fclose(f);
	}
	for (size_t i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
		snprintf(name, sizeof(name), "ok_%s", ok_cases[i].name);
		if (!(f = seed_open(dir, name, 0, ok_cases[i].caps)))
			return false;
		seed_hex_record(f, true, 0, "0e");
		seed_hex_record(f, false, 0, ok_cases[i].hex);
		fclose(f);
	}
	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		snprintf(name, sizeof(name), "err_%s", err_cases[i].name);
		if (!(f = seed_open(dir, name, 0, err_cases[i].caps)))
			return false;
		seed_hex_record(f, true, 0, "03 |alter table t force|");
		seed_hex_record(f, false, 0, err_cases[i].hex);
		fclose(f);
	}
	return true;
}
