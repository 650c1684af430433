/* accounts.h - the accounts of mysql.global_priv as the proxy keeps them to learn logins. */
#ifndef GP_ACCOUNTS_H
#define GP_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/config.h"
#include "cluster/cluster.h"
#include "cluster/priv.h"
#include "session/auth.h"
#include "session/core_learn.h"
#include "session/vault.h"

/*
 * Issue 17: to learn SHA1(password) from a relayed mysql_native_password login the proxy needs
 * the account's stored hash. It reads every row of mysql.global_priv (through the monitor's
 * non-blocking jobs, as auth.user, on the writer or else any node up) every auth.refresh_ms,
 * and sooner when a login names a user it does not know (at most once a second). A row keeps
 * only what learning needs: the user name, its native hashes, whether it is locked, expired
 * or a role. The table lives in a vault (not in core dumps, wiped when replaced).
 *
 * Without SELECT on mysql.global_priv the read fails with 1142: one log line
 * (event=auth_accounts state=denied), the state DENIED on /metrics, nothing is learned, and
 * the proxy otherwise works as before. Each state change is logged once; a read that only
 * repeats the state logs at debug.
 */

typedef enum gp_accounts_state {
	GP_ACCOUNTS_UNREAD, /* not read yet */
	GP_ACCOUNTS_OK,     /* the last read succeeded */
	GP_ACCOUNTS_DENIED, /* auth.user may not read mysql.global_priv */
	GP_ACCOUNTS_FAILED, /* the last read failed otherwise (login, node lost) */
	GP_ACCOUNTS__COUNT
} gp_accounts_state_t;

typedef struct gp_account {
	char user[GP_PRIV_USER_MAX + 1];       /* User */
	gp_auth_hash_t hash[GP_PRIV_MAX_AUTH]; /* its mysql_native_password hashes, any host */
	uint8_t nhash;                         /* how many */
	bool closed;                           /* locked, expired or a role: learns nothing */
} gp_account_t;

/* What a session's login taught: a slot of the secrets vault, held by the session. */
typedef struct gp_learned {
	uint32_t vault_link_;             /* the vault's free-list link while the slot is free */
	bool live;                        /* handed out (a free slot reads 0 here) */
	bool dropped;                     /* a read showed the account changed: wiped */
	gp_auth_secret_t secret;          /* SHA1(password) */
	char user[GP_LEARN_USER_MAX + 1]; /* whose */
} gp_learned_t;

/* How a login's learning ended (metrics). */
typedef enum gp_learn_result {
	GP_LEARN_LEARNED,    /* the reply proved a stored hash: kept */
	GP_LEARN_NOT_NATIVE, /* another plugin, or the exchange was not seen whole */
	GP_LEARN_NO_HASH,    /* no usable native hash for the user (unknown, locked, expired, or
	                      * the accounts cannot be read) */
	GP_LEARN_MISMATCH,   /* no stored hash matched the reply */
	GP_LEARN_FULL,       /* no vault slot left (or no vault) */
	GP_LEARN__COUNT
} gp_learn_result_t;

typedef struct gp_accounts_stats {
	uint64_t reads[GP_ACCOUNTS__COUNT]; /* reads ended in OK / DENIED / FAILED */
	uint64_t unknown_user_reads;        /* of which asked for by a login of an unknown user */
	uint64_t learn[GP_LEARN__COUNT];    /* logins by what they taught */
	uint64_t dropped;                   /* learned secrets a read showed stale (wiped) */
	uint32_t learned_now;               /* sessions holding a live secret */
} gp_accounts_stats_t;

typedef struct gp_accounts {
	uv_loop_t *loop;           /* the one loop */
	gp_cluster_t *cluster;     /* its monitor runs the reads; its writer is asked first */
	char *user, *password;     /* auth.user / auth.password (the effective ones) */
	int64_t refresh_ms;        /* auth.refresh_ms */
	uv_timer_t timer;          /* the next read */
	bool started, closing;     /* lifecycle */
	bool reading;              /* a read is in flight */
	bool reread;               /* an unknown user asked for another read meanwhile */
	bool unknown_read;         /* the read in flight was asked for by an unknown user */
	uint64_t last_read_ms;     /* loop ms the last read began */
	gp_accounts_state_t state; /* how the last read ended */
	gp_vault_t table;          /* the accounts (gp_account_t slots) */
	size_t n;                  /* rows in it */
	gp_vault_t next;           /* the read in flight fills this */
	size_t next_n;             /* rows in it */
	bool next_bad;             /* a row did not fit or parse */
	int64_t default_lifetime;  /* @@default_password_lifetime of the read in flight */
	uint64_t generation;       /* successful reads so far (learned secrets re-check) */
	gp_vault_t secrets;        /* gp_learned_t slots, one a session that learned */
	bool secrets_ok;           /* the vault was mapped (else nothing is learned) */
	gp_accounts_stats_t stats; /* counters for /metrics */
} gp_accounts_t;

/* Keep the effective auth account of cfg; reads start with gp_accounts_start. */
GP_WUR gp_status_t gp_accounts_init(gp_accounts_t *a, uv_loop_t *loop, gp_cluster_t *cluster,
                                    const gp_config_t *cfg);
/* The first read once the monitor runs, then every refresh_ms. */
void gp_accounts_start(gp_accounts_t *a);
/* A reload: the auth account and refresh_ms of cfg from the next read on (out of memory:
 * the old ones stay, and say so in the log). */
void gp_accounts_reload(gp_accounts_t *a, const gp_config_t *cfg);
/* Stop reading, close the timer, wipe the table (teardown). */
void gp_accounts_stop(gp_accounts_t *a);

/* The stored native hashes of user (every host's row that is not closed) into out[0..max);
 * how many. A user the table does not hold asks for a read (rate-limited). */
size_t gp_accounts_hashes(gp_accounts_t *a, const char *user, size_t len, gp_auth_hash_t *out,
                          size_t max);
/* How the last read ended; how many accounts it found. */
gp_accounts_state_t gp_accounts_state(const gp_accounts_t *a);
size_t gp_accounts_count(const gp_accounts_t *a);
/* Successful reads so far: a session that learned at generation g re-checks after a newer. */
uint64_t gp_accounts_generation(const gp_accounts_t *a);
const gp_accounts_stats_t *gp_accounts_stats(const gp_accounts_t *a);
/* A session's login or COM_CHANGE_USER was accepted: give back what *held taught (the old
 * user's), then learn from l if it is ready (*held: the new slot or NULL), wipe l. */
gp_learn_result_t gp_accounts_login(gp_accounts_t *a, gp_learned_t **held, gp_core_learn_t *l);
/* The session ends: wipe and give back its slot (NULL: nothing). */
void gp_accounts_forget(gp_accounts_t *a, gp_learned_t *held);
/* The slot still holds a secret that logs in (not dropped by a read since). */
bool gp_accounts_learned(const gp_learned_t *held);
/* "learned", "not_native", "no_hash", "mismatch", "full". */
const char *gp_learn_result_name(gp_learn_result_t r);
/* "unread", "ok", "denied", "failed". */
const char *gp_accounts_state_name(gp_accounts_state_t s);

#endif
