/* mconn.c - one libmariadb connection driven without blocking on the uv loop. */
#include "cluster/mconn.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/log.h"

/*
 * Handle rule (libuv + libmariadb): a uv_poll_t exists only while libmariadb waits on the
 * socket (or while an idle connection is watched for EOF). It is closed BEFORE every call
 * back into libmariadb, because any call may close the descriptor (mysql_close, a failed
 * read) and a poll handle must never watch a closed descriptor, whose number the kernel
 * may already have handed to another connection of the proxy. Each wait gets a fresh
 * handle; the old one is freed in its close callback.
 */

struct gp_mconn_poll {
	uv_poll_t handle;    /* watches the socket for one wait */
	gp_mconn_env_t *env; /* for the close callback: the connection may be gone by then */
};

/* What libmariadb waits for, as the libuv poll events that show it. */
static const struct {
	int wait, uv;
} wait_uv[] = {
        {MYSQL_WAIT_READ, UV_READABLE},
        {MYSQL_WAIT_WRITE, UV_WRITABLE},
        {MYSQL_WAIT_EXCEPT, UV_PRIORITIZED},
};

void gp_mconn_env_release(gp_mconn_env_t *env)
{
	if (--env->handles == 0 && env->last_closed)
		env->last_closed(env);
}

static void mpoll_closed(uv_handle_t *h)
{
	gp_mconn_poll_t *p = (gp_mconn_poll_t *)h;
	gp_mconn_env_t *env = p->env;
	free(p);
	gp_mconn_env_release(env);
}

static void mc_unwait(gp_mconn_t *mc)
{
	if (mc->poll) {
		uv_close((uv_handle_t *)&mc->poll->handle, mpoll_closed); /* stops it now */
		mc->poll = NULL;
	}
	uv_timer_stop(&mc->timer);
	mc->idle_watch = false;
	mc->wait = 0;
}

static int mc_cont(gp_mconn_t *mc, int ready)
{
	switch (mc->op) {
	case GP_MC_CONNECT:
		return mysql_real_connect_cont(&mc->ret_mysql, &mc->mysql, ready);
	case GP_MC_QUERY:
		return mysql_real_query_cont(&mc->ret_int, &mc->mysql, ready);
	case GP_MC_STORE:
		return mysql_store_result_cont(&mc->res, &mc->mysql, ready);
	case GP_MC_CLOSE:
		return mysql_close_cont(&mc->mysql, ready);
	case GP_MC_NONE:
		break;
	}
	return 0;
}

static void mc_wait(gp_mconn_t *mc, int status);

/* An operation returned: wait again, or it is finished. */
static void mc_step(gp_mconn_t *mc, int status)
{
	if (status) {
		mc_wait(mc, status);
		return;
	}
	if (mc->op == GP_MC_CLOSE) {
		mc->inited = false;
		mc->connected = false;
	}
	if (mc->op == GP_MC_CONNECT && mc->ret_mysql && mc->env->tls.mode > 0 &&
	    !mysql_get_ssl_cipher(&mc->mysql)) {
		/* libmariadb 3.3 falls back to clear text when a node offers no TLS unless it
		 * verifies the certificate (mode on does not): refuse the connection here. */
		mc->ret_mysql = NULL;
		mc->no_tls = true;
	}
	mc->op = GP_MC_NONE;
	mc->done(mc);
}

static void mc_resume(gp_mconn_t *mc, int ready)
{
	mc_unwait(mc);
	mc_step(mc, mc_cont(mc, ready));
}

static void mc_on_poll(uv_poll_t *h, int status, int events)
{
	gp_mconn_t *mc = h->data;
	int ready = 0;

	if (mc->idle_watch) {
		mc_unwait(mc);
		mc->lost(mc);
		return;
	}
	for (size_t i = 0; i < sizeof(wait_uv) / sizeof(wait_uv[0]); i++)
		if (events & wait_uv[i].uv)
			ready |= wait_uv[i].wait;
	/* An error or a hang-up: let libmariadb find out on the socket itself. */
	if (status < 0 || (events & UV_DISCONNECT))
		ready |= mc->wait & (MYSQL_WAIT_READ | MYSQL_WAIT_WRITE | MYSQL_WAIT_EXCEPT);
	mc_resume(mc, ready);
}

static void mc_on_timer(uv_timer_t *t)
{
	gp_mconn_t *mc = t->data;
	/* Also used, with no wait pending, to fail an operation whose socket cannot be watched. */
	mc_resume(mc, mc->wait ? MYSQL_WAIT_TIMEOUT
	                       : MYSQL_WAIT_READ | MYSQL_WAIT_WRITE | MYSQL_WAIT_TIMEOUT);
}

static bool mc_poll_open(gp_mconn_t *mc, int fd, int events)
{
	gp_mconn_poll_t *p = malloc(sizeof(*p));

	if (!p)
		return false;
	if (uv_poll_init(mc->env->loop, &p->handle, fd) != 0) {
		free(p); /* never registered: nothing to close */
		return false;
	}
	p->env = mc->env;
	p->handle.data = mc;
	mc->env->handles++;
	mc->poll = p;
	if (uv_poll_start(&p->handle, events, mc_on_poll) != 0) {
		mc_unwait(mc);
		return false;
	}
	return true;
}

static void mc_wait(gp_mconn_t *mc, int status)
{
	int fd = (int)mysql_get_socket(&mc->mysql);
	int ev = 0;

	for (size_t i = 0; i < sizeof(wait_uv) / sizeof(wait_uv[0]); i++)
		if (status & wait_uv[i].wait)
			ev |= wait_uv[i].uv;
	mc->wait = status;
	if (ev && (fd < 0 || !mc_poll_open(mc, fd, ev))) {
		/* Cannot watch it (out of memory, libuv refused): make the operation fail fast
		 * on the next loop turn rather than hang. The wait mask is dropped so the timer
		 * callback knows. */
		gp_log(GP_LOG_ERROR, "monitor_poll_failed", "fd=%d", fd);
		if (fd >= 0)
			shutdown(fd, SHUT_RDWR);
		mc->wait = 0;
		uv_timer_start(&mc->timer, mc_on_timer, 0, 0);
		return;
	}
	if (status & MYSQL_WAIT_TIMEOUT)
		uv_timer_start(&mc->timer, mc_on_timer, mysql_get_timeout_value_ms(&mc->mysql), 0);
}

void gp_mconn_init(gp_mconn_t *mc, gp_mconn_env_t *env, void *owner, void (*done)(gp_mconn_t *))
{
	memset(mc, 0, sizeof(*mc));
	mc->env = env;
	mc->owner = owner;
	mc->done = done;
	uv_timer_init(env->loop, &mc->timer);
	mc->timer.data = mc;
	env->handles++;
}

void gp_mconn_connect(gp_mconn_t *mc, const gp_backend_conf_t *b, const char *user,
                      const char *pass, unsigned timeout_s)
{
	unsigned proto = MYSQL_PROTOCOL_TCP;

	mc_unwait(mc);
	mc->op = GP_MC_CONNECT;
	mc->ret_mysql = NULL;
	mc->oom = false;
	mc->no_tls = false;
	if (!mysql_init(&mc->mysql)) {
		mc->oom = true;
		mc_step(mc, 0);
		return;
	}
	mc->inited = true;
	if (mysql_options(&mc->mysql, MYSQL_OPT_NONBLOCK, 0) != 0) {
		mc->oom = true;
		mc_step(mc, 0);
		return;
	}
	/* TCP even for "localhost"; the library's own timeouts are a backstop behind ours. */
	mysql_options(&mc->mysql, MYSQL_OPT_PROTOCOL, &proto);
	mysql_options(&mc->mysql, MYSQL_OPT_CONNECT_TIMEOUT, &timeout_s);
	mysql_options(&mc->mysql, MYSQL_OPT_READ_TIMEOUT, &timeout_s);
	mysql_options(&mc->mysql, MYSQL_OPT_WRITE_TIMEOUT, &timeout_s);
	const gp_mconn_tls_t *t = &mc->env->tls;
	const char *host = b->ip[0] ? b->ip : b->host;
	if (t->mode > 0) {
		my_bool on = 1, verify = t->mode == 2;
		mysql_options(&mc->mysql, MYSQL_OPT_SSL_ENFORCE, &on);
		mysql_options(&mc->mysql, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
		if (t->ca)
			mysql_options(&mc->mysql, MYSQL_OPT_SSL_CA, t->ca);
		if (t->cert && t->key) {
			mysql_options(&mc->mysql, MYSQL_OPT_SSL_CERT, t->cert);
			mysql_options(&mc->mysql, MYSQL_OPT_SSL_KEY, t->key);
		}
		/* libmariadb checks the certificate against the host it is given: the configured
		 * one (a name is then resolved by the library, on this thread) */
		if (verify)
			host = b->host;
	}
	mc_step(mc, mysql_real_connect_start(&mc->ret_mysql, &mc->mysql, host, user, pass, NULL,
	                                     b->port, NULL, 0));
}

const char *gp_mconn_error(gp_mconn_t *mc)
{
	if (mc->oom)
		return "out of memory";
	if (mc->no_tls)
		return "the node offers no TLS (tls.backend is on): not used in clear";
	return mysql_error(&mc->mysql);
}

void gp_mconn_query(gp_mconn_t *mc, const char *sql)
{
	mc_unwait(mc);
	mc->op = GP_MC_QUERY;
	mc->ret_int = 1;
	mc_step(mc, mysql_real_query_start(&mc->ret_int, &mc->mysql, sql, strlen(sql)));
}

void gp_mconn_store(gp_mconn_t *mc)
{
	mc_unwait(mc);
	mc->op = GP_MC_STORE;
	mc->res = NULL;
	mc_step(mc, mysql_store_result_start(&mc->res, &mc->mysql));
}

/* Sends COM_QUIT if connected and frees the library's state; done() follows. */
void gp_mconn_free_result(gp_mconn_t *mc)
{
	if (mc->res)
		mysql_free_result(mc->res);
	mc->res = NULL;
}

void gp_mconn_close(gp_mconn_t *mc)
{
	mc_unwait(mc);
	mc->op = GP_MC_CLOSE;
	mc->connected = false;
	if (!mc->inited) {
		mc_step(mc, 0);
		return;
	}
	mc_step(mc, mysql_close_start(&mc->mysql));
}

/*
 * Abandon the operation in flight without calling done(): shut the socket down (the
 * descriptor stays open, so no watcher is harmed) and resume the suspended call until it
 * fails, which it does at once on a dead socket. Afterwards only gp_mconn_close() is valid.
 */
void gp_mconn_abort(gp_mconn_t *mc)
{
	int fd;

	mc_unwait(mc);
	if (mc->op == GP_MC_NONE)
		return;
	fd = (int)mysql_get_socket(&mc->mysql);
	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
	for (int i = 0; i < 64 && mc->op != GP_MC_NONE; i++) {
		int ready =
		        MYSQL_WAIT_READ | MYSQL_WAIT_WRITE | MYSQL_WAIT_EXCEPT | MYSQL_WAIT_TIMEOUT;
		if (mc_cont(mc, ready) == 0) {
			if (mc->op == GP_MC_STORE && mc->res)
				mysql_free_result(mc->res);
			if (mc->op == GP_MC_CLOSE)
				mc->inited = false;
			mc->op = GP_MC_NONE;
		}
	}
	if (mc->op != GP_MC_NONE)
		gp_log(GP_LOG_ERROR, "monitor_abort_stuck", "op=%d", (int)mc->op);
	mc->res = NULL;
	mc->connected = false;
}

static void mc_timer_closed(uv_handle_t *h)
{
	gp_mconn_t *mc = h->data;
	gp_mconn_env_t *env = mc->env;
	if (mc->disposed)
		mc->disposed(mc); /* may free mc */
	gp_mconn_env_release(env);
}

/* The connection is closed (inited == false): release its timer. */
void gp_mconn_dispose(gp_mconn_t *mc, void (*disposed)(gp_mconn_t *))
{
	mc_unwait(mc);
	mc->disposed = disposed;
	uv_close((uv_handle_t *)&mc->timer, mc_timer_closed);
}

void gp_mconn_watch_idle(gp_mconn_t *mc, void (*lost)(gp_mconn_t *))
{
	int fd = (int)mysql_get_socket(&mc->mysql);

	mc_unwait(mc);
	mc->lost = lost;
	if (fd >= 0 && mc_poll_open(mc, fd, UV_READABLE | UV_DISCONNECT))
		mc->idle_watch = true;
}
