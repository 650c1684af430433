/* mconn.h - one libmariadb connection driven without blocking on the uv loop. */
#ifndef GP_MCONN_H
#define GP_MCONN_H

#include <mysql.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "base/config.h"

/*
 * Each operation (connect, query, store, close) starts with gp_mconn_<op>() and ends with
 * exactly one call of done(mc), possibly from inside the start call; the caller then reads
 * the result fields (ret_mysql, ret_int, res) and libmariadb's errors on &mc->mysql. The
 * connection's uv handles are counted in the env it shares with its owner, so the owner
 * knows when the last one has closed (shutdown completes only then).
 */

/* TLS to the nodes (tls.backend), as libmariadb is told it at each connect. */
typedef struct gp_mconn_tls {
	int mode;   /* 0 off, 1 on (encrypt, trust any certificate), 2 verify (CA, host) */
	char *ca;   /* PEM CA file (verify); NULL: none */
	char *cert; /* PEM client certificate (REQUIRE X509 accounts); NULL: none */
	char *key;  /* its key */
} gp_mconn_tls_t;

/* Shared by an owner and its connections: the loop and the count of open uv handles. */
typedef struct gp_mconn_env {
	uv_loop_t *loop;                               /* the one loop */
	size_t handles;                                /* open uv handles, the owner's too */
	void (*last_closed)(struct gp_mconn_env *env); /* handles dropped to 0 */
	void *arg;                                     /* the owner's */
	gp_mconn_tls_t tls;                            /* TLS for every connection (owner's) */
} gp_mconn_env_t;

typedef struct gp_mconn gp_mconn_t;
typedef struct gp_mconn_poll gp_mconn_poll_t;

typedef enum gp_mconn_op {
	GP_MC_NONE,
	GP_MC_CONNECT,
	GP_MC_QUERY,
	GP_MC_STORE,
	GP_MC_CLOSE
} gp_mconn_op_t;

struct gp_mconn {
	gp_mconn_env_t *env;   /* loop and handle account */
	void *owner;           /* whoever drives it */
	MYSQL mysql;           /* the library's handle (our storage) */
	bool inited;           /* mysql_init done, mysql_close not finished */
	bool connected;        /* handshake done and not broken (the owner sets it) */
	gp_mconn_op_t op;      /* operation in flight */
	int wait;              /* MYSQL_WAIT_* it waits for */
	gp_mconn_poll_t *poll; /* only while waiting or idle-watching */
	bool idle_watch;       /* poll watches an idle connection for EOF */
	uv_timer_t timer;      /* libmariadb's timeout during a wait; the owner's when idle */
	MYSQL *ret_mysql;      /* result of connect */
	int ret_int;           /* result of query */
	MYSQL_RES *res;        /* result of store_result */
	bool oom;              /* mysql_init/options failed */
	bool no_tls;           /* connected in clear under tls.backend: refused (ret_mysql NULL) */
	void (*done)(gp_mconn_t *mc);     /* the operation finished (maybe synchronously) */
	void (*lost)(gp_mconn_t *mc);     /* the idle connection became readable: broken */
	void (*disposed)(gp_mconn_t *mc); /* timer closed: the owner may be freed */
};

/* Why the last operation failed: mconn's own reason (out of memory, a node without TLS), else
 * libmariadb's message. */
const char *gp_mconn_error(gp_mconn_t *mc);
/* A handle of env closed: the count drops, last_closed runs at 0. */
void gp_mconn_env_release(gp_mconn_env_t *env);

/* Opens the connection's timer (one handle in env); timer.data is mc. */
void gp_mconn_init(gp_mconn_t *mc, gp_mconn_env_t *env, void *owner, void (*done)(gp_mconn_t *));
/* TCP connect; timeout_s is the library's backstop behind the owner's own deadline. With
 * env's tls.mode set, TLS or failure (a node that offers none is an error, no downgrade). */
void gp_mconn_connect(gp_mconn_t *mc, const gp_backend_conf_t *b, const char *user,
                      const char *pass, unsigned timeout_s);
void gp_mconn_query(gp_mconn_t *mc, const char *sql);
void gp_mconn_store(gp_mconn_t *mc);
/* Frees the result gp_mconn_store left in mc->res, if any. */
void gp_mconn_free_result(gp_mconn_t *mc);
/* Sends COM_QUIT if connected and frees the library's state; done() follows. */
void gp_mconn_close(gp_mconn_t *mc);
/* Abandons the operation in flight without done(); afterwards only gp_mconn_close is valid. */
void gp_mconn_abort(gp_mconn_t *mc);
/* The connection is closed (inited == false): release its timer, then disposed(mc). */
void gp_mconn_dispose(gp_mconn_t *mc, void (*disposed)(gp_mconn_t *));
/* Watch an idle connection: lost(mc) once it turns readable (EOF, reset, or a stray byte). */
void gp_mconn_watch_idle(gp_mconn_t *mc, void (*lost)(gp_mconn_t *));

#endif
