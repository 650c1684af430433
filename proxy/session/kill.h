/* kill.h - KILL through the proxy: the statements it translates, who may run them (pure). */
#ifndef GP_KILL_H
#define GP_KILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Proxy connection ids start here: far above any server thread id, so they never collide. */
#define GP_CONN_ID_BASE (1u << 30)
/* Cross-node KILLs in flight proxy-wide (privilege check + the KILL on the target's node);
 * one more is refused at once rather than queued behind slow nodes. */
#define GP_KILL_JOBS_MAX 16

/* Server error codes of a KILL. */
#define GP_ER_NO_SUCH_THREAD 1094 /* Unknown thread id: %lu */
#define GP_ER_KILL_DENIED    1095 /* You are not owner of thread %lu */
#define GP_ER_UNKNOWN        1105 /* Unknown error: the proxy's own failures */

typedef struct gp_kill {
	bool query;           /* KILL QUERY (else the whole connection) */
	uint64_t id;          /* the thread id named */
	size_t id_off;        /* where its digits start in the statement */
	size_t id_len;        /* how many digits */
	const char *hardsoft; /* "HARD", "SOFT" or "" as written */
} gp_kill_t;

/*
 * Parse `KILL [HARD|SOFT] [CONNECTION|QUERY] <number>` (case-insensitive, any
 * whitespace, an optional trailing ';'). Forms the proxy does not translate
 * (KILL QUERY ID, KILL USER, comments, expressions) return false and go to the
 * server untouched.
 */
bool gp_kill_parse(const char *sql, size_t n, gp_kill_t *out);

/* The statement that runs k on the target's node against its thread: "KILL [HARD |SOFT ]
 * QUERY|CONNECTION <thread>". False if it does not fit in cap. */
bool gp_kill_sql(char *buf, size_t cap, const gp_kill_t *k, uint32_t thread);

/* The server's own message for a KILL error code, naming id as the client named it:
 * 1094 "Unknown thread id: N", 1095 "You are not owner of thread N"; NULL for other codes. */
const char *gp_kill_message(char *buf, size_t cap, unsigned code, uint64_t id);

/* ---- who may KILL whom --------------------------------------------------------- */

/*
 * MariaDB lets a session KILL another's thread when the two login user names are equal
 * (strcmp of the names as the server keeps them: converted to utf8, the host ignored), or
 * when the killer holds SUPER or CONNECTION ADMIN (its own or an active role's). The proxy
 * decides the first here and asks the killer's own server for the second (SHOW GRANTS).
 */

#define GP_KILL_USER_MAX 128 /* MariaDB keeps at most 128 characters of a login name */

/* A login user name as its server keeps it, for the equality test. The name is a heap copy of
 * its own length: a session holds one login, or two while a COM_CHANGE_USER runs. A zeroed
 * struct is an unknown login; gp_kill_login_clear frees what a set one holds. */
typedef struct gp_kill_login {
	char *name;       /* the name (not NUL-terminated), NULL while unknown */
	uint8_t len;      /* its length */
	uint16_t charset; /* collation id the client sent it in (0: not known) */
	bool known;       /* a name is set and held whole */
} gp_kill_login_t;

/*
 * Record the user name a client sent (raw bytes in its charset, collation id `charset`, 0 if
 * the packet had none). handshake: the connection's first login, which MariaDB 10.11 treats
 * like this: one pair of enclosing single quotes is dropped ('bob' logs in as bob) and the
 * name is cut to 128 characters; COM_CHANGE_USER does neither. A name the proxy cannot hold
 * exactly as the server does leaves the login unknown (never equal to any other); so does a
 * failed allocation. l is zeroed or set before: what it held is freed first.
 */
void gp_kill_login_set(gp_kill_login_t *l, const uint8_t *name, size_t n, uint16_t charset,
                       bool handshake);
/* Free what l holds; it is an unknown login after. */
void gp_kill_login_clear(gp_kill_login_t *l);
/* dst takes src's login (what dst held is freed); src is an unknown login after. */
void gp_kill_login_move(gp_kill_login_t *dst, gp_kill_login_t *src);
/* The name quoted for a log line (gp_log_quote into buf), or "-" while unknown. */
const char *gp_kill_login_log(char *buf, size_t cap, const gp_kill_login_t *l);
/* Would the server find the two names equal? Unknown logins never are. Names of plain ASCII
 * compare as bytes; others only when both came in the same collation (the server converts
 * each from its client's charset before comparing), else they count as different. */
bool gp_kill_login_same(const gp_kill_login_t *a, const gp_kill_login_t *b);

/*
 * The statement the check runs on the killer's own session. SHOW GRANTS lists the account's
 * grants and those of the active role (and the roles it holds), not those of a default role
 * disabled with SET ROLE NONE: what the server adds to the session's privileges. It opens no
 * transaction, keeps the warnings and changes no variable; character_set_results is pinned
 * for this statement only, so the lines arrive in an ASCII-compatible charset.
 */
#define GP_KILL_CHECK_SQL "SET STATEMENT character_set_results=utf8mb4 FOR SHOW GRANTS"
/* Bytes of each SHOW GRANTS row the check reads: the privilege list and "ON *.*" come first
 * and take well under this; the rest of a longer row (auth strings) is skipped. */
#define GP_KILL_GRANT_PEEK 2048

/* One SHOW GRANTS line, or the first n bytes of it: does it grant SUPER, CONNECTION ADMIN or
 * ALL PRIVILEGES ON *.*? Identifiers may be quoted with ` " or ' (sql_mode, the setting
 * sql_quote_show_create): a quoted name never counts as a privilege. */
bool gp_kill_grant_allows(const char *line, size_t n);
/* The same for a text-protocol row of SHOW GRANTS (payload, or its first n bytes). */
bool gp_kill_grant_row_allows(const uint8_t *p, size_t n);

/* Take one of the GP_KILL_JOBS_MAX cross-node slots counted in *inflight; false when all
 * are taken. gp_kill_slot_give returns one. */
bool gp_kill_slot_take(uint32_t *inflight);
void gp_kill_slot_give(uint32_t *inflight);

/* ---- a translated KILL in flight ------------------------------------------------- */

typedef enum gp_kill_phase {
	GP_KILL_IDLE,     /* none */
	GP_KILL_RELAYED,  /* same node: rewritten and relayed; a refusal is made to name our id */
	GP_KILL_CHECKING, /* another node: the killer's grants are being read */
	GP_KILL_CHECKED,  /* ... read; acted on once the scan that ended them is over */
	GP_KILL_RUNNING   /* another node: the KILL runs there over the eviction account */
} gp_kill_phase_t;

typedef struct gp_kill_req {
	gp_kill_phase_t phase; /* where it is */
	gp_kill_t k;           /* the KILL as parsed (id: as the client named it) */
	uint32_t target;       /* the target's proxy connection id */
	bool privileged;       /* a grants line allows killing other users' threads */
	bool slot;             /* holds a cross-node slot (gp_kill_slot_take) */
} gp_kill_req_t;

#endif
