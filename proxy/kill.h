/* kill.h - recognise KILL statements aimed at proxy connection ids (pure, no I/O). */
#ifndef GP_KILL_H
#define GP_KILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Proxy connection ids start here: far above any server thread id, so they never collide. */
#define GP_CONN_ID_BASE (1u << 30)

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

/* Rewrite the id in place with id (digits, then spaces to keep the length).
 * False if it does not fit (never, since proxy ids are longer than thread ids). */
bool gp_kill_rewrite(char *sql, const gp_kill_t *k, uint64_t id);

#endif
