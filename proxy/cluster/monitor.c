/* monitor.c - backend health probes on libmariadb's non-blocking API. */
#include "cluster/monitor.h"

#include <errno.h>
#include <errmsg.h>
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cluster/mconn.h"
#include "cluster/monitor_int.h"

#define EVICT_TIMEOUT_S 5 /* SET GLOBAL evs.evict waits for the new view: give it time */

/* The last uv handle closed (gp_mconn_env_release). */
static void mon_on_last_closed(gp_mconn_env_t *env)
{
	gp_monitor_t *m = env->arg;

	if (m->closing && m->close_cb) {
		gp_monitor_close_cb cb = m->close_cb;
		m->close_cb = NULL;
		cb(m, m->close_arg);
	}
}

/* "Can't connect to server on '127.0.0.1' (111)": the system errno is the last "(N)". */
static gp_probe_err_t classify_connect(MYSQL *my)
{
	unsigned e = mysql_errno(my);
	const char *lp;

	if (e == CR_CONNECTION_ERROR || e == CR_CONN_HOST_ERROR) {
		lp = strrchr(mysql_error(my), '(');
		if (lp && atoi(lp + 1) == ECONNREFUSED)
			return GP_PROBE_REFUSED;
		if (lp && atoi(lp + 1) == ETIMEDOUT)
			return GP_PROBE_TIMEOUT;
	}
	return GP_PROBE_CONNECT;
}

/*
 * A kill -9 closes the server's descriptors one by one: the monitor connection may report
 * EOF while the listener still exists, so the immediate reconnect is accepted by the kernel
 * and then reset when the listener goes ("Lost connection ... reading initial communication
 * packet"). Not the evidence itself, but worth a second look a few ms later: that connect
 * is refused.
 */
static bool handshake_reset(MYSQL *my)
{
	unsigned e = mysql_errno(my);
	return (e == CR_SERVER_LOST || e == CR_SERVER_LOST_EXTENDED) &&
	       strstr(mysql_error(my), "handshake");
}

#define RESET_RETRIES  3  /* per probe, within its deadline */
#define RESET_RETRY_MS 20 /* long enough for the kernel to finish closing the process */

static unsigned timeout_s(int64_t ms)
{
	return (unsigned)(ms / 1000 + 2); /* the library's backstop fires after our deadline */
}

/* ---- jobs: eviction and exec ------------------------------------------------------- */

static void job_disposed(gp_mconn_t *mc)
{
	gp_mon_job_t *j = mc->owner;
	free(j->sql);
	gp_config_secret_free(j->pass);
	free(j->user);
	free(j);
}

void gp_mon_job_connect(gp_mon_job_t *j)
{
	gp_monitor_t *m = j->m;
	j->tried |= 1ull << j->via;
	j->phase = EJ_CONNECT;
	j->ok = false;
	j->code = 0;
	j->err[0] = '\0';
	m->stats.connects++;
	gp_mconn_connect(&j->mc, &m->backends[j->via], j->user ? j->user : m->evict_user,
	                 j->user ? j->pass : m->evict_pass, EVICT_TIMEOUT_S);
}

static void node_probe_start(gp_mon_node_t *n);

/* The statement ran (or not) and the connection is closed. */
static void job_finish(gp_mon_job_t *j)
{
	gp_monitor_t *m = j->m;
	const char *via = m->backends[j->via].name;
	char q[200];

	if (j->evict && j->ok) {
		m->stats.evictions++;
		m->nodes[j->victim].evictions++;
		m->nodes[j->victim].evicted_ns = j->done_ns;
		snprintf(m->dead[m->dead_next], GP_UUID_MAX, "%s", j->uuid);
		m->dead_next = (m->dead_next + 1) % EVICT_DEAD_MAX;
		if (m->n_dead < EVICT_DEAD_MAX)
			m->n_dead++;
		m->evict_done_ms = (int64_t)uv_now(m->loop);
		gp_log(GP_LOG_WARN, "evict_done", "node=%s uuid=%s via=%s ms=%.1f",
		       m->backends[j->victim].name, j->uuid, via,
		       (double)(j->done_ns - j->t0) / 1e6);
		/* The survivors have just installed a view without the victim: let the policy
		 * see it now rather than at the next interval. */
		for (size_t i = 0; i < m->n && !m->closing; i++)
			if (i != j->victim)
				node_probe_start(&m->nodes[i]);
	} else if (j->evict) {
		m->stats.eviction_failures++;
		gp_log(GP_LOG_ERROR, "evict_failed", "node=%s uuid=%s via=%s error=%s",
		       m->backends[j->victim].name, j->uuid, via,
		       gp_log_quote(q, sizeof(q), j->err, (unsigned)strlen(j->err)));
		int next = m->closing ? -1 : gp_mon_pick_survivor(m, j->victim, j->tried);
		if (next >= 0) {
			j->via = next;
			gp_log(GP_LOG_WARN, "evict",
			       "node=%s uuid=%s via=%s evidence=refused retry=1",
			       m->backends[j->victim].name, j->uuid, m->backends[next].name);
			gp_mon_job_connect(j);
			return;
		}
	} else if (j->cb) {
		j->cb(j->arg, j->ok, j->code, j->ok ? "" : j->err);
	}
	for (gp_mon_job_t **pp = &m->jobs; *pp; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	}
	gp_mconn_dispose(&j->mc, job_disposed);
}

static void job_failed(gp_mon_job_t *j, unsigned code, const char *msg)
{
	j->ok = false;
	j->code = code;
	snprintf(j->err, sizeof(j->err), "%s", msg);
	j->phase = EJ_CLOSE;
	gp_mconn_close(&j->mc);
}

static void job_on_done(gp_mconn_t *mc)
{
	gp_mon_job_t *j = mc->owner;

	switch (j->phase) {
	case EJ_CONNECT:
		if (!mc->ret_mysql) {
			job_failed(j, mc->oom ? 0 : mysql_errno(&mc->mysql), gp_mconn_error(mc));
			return;
		}
		mc->connected = true;
		j->phase = EJ_QUERY;
		gp_mconn_query(mc, j->sql);
		return;
	case EJ_QUERY:
		if (mc->ret_int != 0) {
			job_failed(j, mysql_errno(&mc->mysql), mysql_error(&mc->mysql));
			return;
		}
		j->ok = true;
		j->done_ns = uv_hrtime();
		if (mysql_field_count(&mc->mysql)) { /* a result set nobody wants: read it off */
			j->phase = EJ_STORE;
			gp_mconn_store(mc);
			return;
		}
		j->phase = EJ_CLOSE;
		gp_mconn_close(mc);
		return;
	case EJ_STORE:
		if (j->row && !mc->res) {
			job_failed(j, mysql_errno(&mc->mysql), mysql_error(&mc->mysql));
			return;
		}
		for (MYSQL_ROW r; j->row && (r = mysql_fetch_row(mc->res));)
			j->row(j->arg, r, mysql_fetch_lengths(mc->res), mysql_num_fields(mc->res));
		gp_mconn_free_result(mc);
		j->phase = EJ_CLOSE;
		gp_mconn_close(mc);
		return;
	case EJ_CLOSE:
		job_finish(j);
		return;
	}
}

gp_mon_job_t *gp_mon_job_new(gp_monitor_t *m, int via, const char *sql)
{
	gp_mon_job_t *j = calloc(1, sizeof(*j));

	if (!j || !(j->sql = strdup(sql))) {
		free(j);
		return NULL;
	}
	j->m = m;
	j->via = via;
	j->t0 = uv_hrtime();
	j->next = m->jobs;
	m->jobs = j;
	gp_mconn_init(&j->mc, &m->env, j, job_on_done);
	return j;
}

static void job_kick(uv_timer_t *t)
{
	gp_mconn_t *mc = t->data;
	gp_mon_job_connect(mc->owner);
}

gp_status_t gp_monitor_exec(gp_monitor_t *m, size_t idx, const char *sql, gp_monitor_exec_cb cb,
                            void *arg)
{
	gp_mon_job_t *j;

	if (!m || !m->started || m->closing || idx >= m->n || !sql)
		return GP_EINVAL;
	j = gp_mon_job_new(m, (int)idx, sql);
	if (!j)
		return GP_ENOMEM;
	j->cb = cb;
	j->arg = arg;
	/* Start on the next loop turn: a connect that fails at once must not call back into
	 * the caller before gp_monitor_exec has even returned. */
	uv_timer_start(&j->mc.timer, job_kick, 0, 0);
	return GP_OK;
}

gp_status_t gp_monitor_read(gp_monitor_t *m, size_t idx, const char *sql, const char *user,
                            const char *pass, gp_monitor_row_cb row, gp_monitor_exec_cb cb,
                            void *arg)
{
	if (!m || !m->started || m->closing || idx >= m->n || !sql || !user || !pass || !row)
		return GP_EINVAL;
	char *u = strdup(user), *pw = strdup(pass);
	gp_mon_job_t *j = u && pw ? gp_mon_job_new(m, (int)idx, sql) : NULL;
	if (!j) {
		free(u);
		gp_config_secret_free(pw);
		return GP_ENOMEM;
	}
	j->user = u;
	j->pass = pw;
	j->row = row;
	j->cb = cb;
	j->arg = arg;
	uv_timer_start(&j->mc.timer, job_kick, 0, 0);
	return GP_OK;
}

/* ---- probes -------------------------------------------------------------------------- */

static void node_on_done(gp_mconn_t *mc);

static void node_emit(gp_mon_node_t *n, bool up_changed)
{
	gp_monitor_t *m = n->m;
	gp_monitor_event_t ev = {
	        .idx = n->idx, .probe = &n->probe, .up = n->up, .up_changed = up_changed};
	if (m->cb && !m->closing)
		m->cb(m, &ev, m->arg);
}

static void node_connect(gp_mon_node_t *n)
{
	gp_monitor_t *m = n->m;
	m->stats.connects++;
	n->fresh = true;
	n->phase = NP_CONNECT;
	n->t_conn = uv_hrtime();
	gp_mconn_connect(&n->mc, &m->backends[n->idx], m->user, m->password,
	                 timeout_s(m->timeout_ms));
}

static void node_probe_fail(gp_mon_node_t *n, gp_probe_err_t err, const char *msg)
{
	gp_monitor_t *m = n->m;
	bool was_ok = n->last_ok, up_changed = false;
	char q[200];

	uv_timer_stop(&n->deadline);
	n->in_probe = false;
	n->phase = NP_IDLE;
	n->probe.ok = false;
	n->probe.err = err;
	snprintf(n->probe.errmsg, sizeof(n->probe.errmsg), "%s", msg);
	n->probe.at_ms = (int64_t)uv_now(m->loop);
	m->stats.probes++;
	m->stats.probe_failures++;
	n->last_ok = false;
	n->oks = 0;
	n->fails++;
	/* A refused or failed connect is an answer, not a delay: down at once. */
	if ((err == GP_PROBE_REFUSED || err == GP_PROBE_CONNECT) && n->fails < m->fall)
		n->fails = m->fall;
	if (n->up && n->fails >= m->fall) {
		n->up = false;
		up_changed = true;
		gp_log(GP_LOG_WARN, "backend_down", "node=%s error=%s fails=%d msg=%s",
		       gp_mon_node_name(n), gp_probe_err_name(err), n->fails,
		       gp_log_quote(q, sizeof(q), msg, (unsigned)strlen(msg)));
	} else {
		gp_log(GP_LOG_DEBUG, "probe_failed", "node=%s error=%s fails=%d msg=%s",
		       gp_mon_node_name(n), gp_probe_err_name(err), n->fails,
		       gp_log_quote(q, sizeof(q), msg, (unsigned)strlen(msg)));
	}
	if (err == GP_PROBE_REFUSED && was_ok)
		gp_mon_node_evict(n);
	node_emit(n, up_changed);
}

static void node_on_lost(gp_mconn_t *mc);
static void node_on_deadline(uv_timer_t *t);
static void node_on_retry(uv_timer_t *t);

static void node_probe_ok(gp_mon_node_t *n)
{
	gp_monitor_t *m = n->m;
	gp_mconn_t *mc = &n->mc;
	gp_probe_t p = n->probe; /* keeps the last values should the rows be unusable */
	uint64_t now = uv_hrtime();
	bool up_changed = false;
	MYSQL_ROW row;

	gp_probe_begin(&p);
	while ((row = mysql_fetch_row(mc->res))) {
		const char *v = row[1] ? row[1] : "";
		char q[80];
		if (row[0] && !gp_probe_set_var(&p, row[0], v))
			gp_log(GP_LOG_WARN, "probe_bad_value", "node=%s var=%s value=%s",
			       gp_mon_node_name(n), row[0],
			       gp_log_quote(q, sizeof(q), v, (unsigned)strlen(v)));
	}
	gp_probe_end(&p);
	gp_mconn_free_result(mc);
	p.ok = true;
	p.err = GP_PROBE_OK;
	p.errmsg[0] = '\0';
	p.at_ms = (int64_t)uv_now(m->loop);
	p.latency_us = (int64_t)(now - n->t_qry) / 1000;
	p.connect_us = n->fresh ? (int64_t)(n->t_qry - n->t_conn) / 1000 : 0;
	n->probe = p;

	uv_timer_stop(&n->deadline);
	n->in_probe = false;
	n->phase = NP_IDLE;
	m->stats.probes++;
	n->fails = 0;
	n->oks++;
	n->last_ok = true;
	n->ok_at_ms = p.at_ms;
	n->fast_retry_used = false;
	n->evict_until = 0;
	/* The first success marks a node up at once; after a down, rise successes do. */
	if (!n->up && (n->oks >= m->rise || !n->ever_up)) {
		n->up = true;
		n->ever_up = true;
		up_changed = true;
		gp_log(GP_LOG_INFO, "backend_up",
		       "node=%s state=%d comment=%s cluster_size=%d gcomm_uuid=%s latency_us=%lld",
		       gp_mon_node_name(n), p.local_state,
		       p.local_state_comment[0] ? p.local_state_comment : "-", p.cluster_size,
		       p.gcomm_uuid[0] ? p.gcomm_uuid : "-", (long long)p.latency_us);
	}
	gp_mconn_watch_idle(mc, node_on_lost);
	gp_mon_node_clear_evict_list(n);
	node_emit(n, up_changed);
}

static void node_probe_start(gp_mon_node_t *n)
{
	gp_monitor_t *m = n->m;

	if (m->closing || n->phase != NP_IDLE)
		return;
	n->in_probe = true;
	n->retried = false;
	n->resets = 0;
	uv_timer_start(&n->deadline, node_on_deadline, (uint64_t)m->timeout_ms, 0);
	if (n->mc.connected) {
		n->fresh = false;
		n->phase = NP_QUERY;
		n->t_qry = uv_hrtime();
		gp_mconn_query(&n->mc, GP_PROBE_SQL);
		return;
	}
	node_connect(n);
}

/* The idle connection turned readable: the server closed it or died. Find out which now. */
static void node_on_lost(gp_mconn_t *mc)
{
	gp_mon_node_t *n = mc->owner;

	n->m->stats.conn_lost++;
	gp_log(GP_LOG_INFO, "monitor_conn_lost", "node=%s while=idle", gp_mon_node_name(n));
	n->phase = NP_CLOSE;
	n->after_close = AC_LOST;
	gp_mconn_close(mc);
}

static void node_close_then(gp_mon_node_t *n, after_close_t ac, gp_probe_err_t err, const char *msg)
{
	n->phase = NP_CLOSE;
	n->after_close = ac;
	n->fail_err = err;
	snprintf(n->fail_msg, sizeof(n->fail_msg), "%s", msg);
	gp_mconn_close(&n->mc);
}

static void node_query_failed(gp_mon_node_t *n)
{
	gp_mconn_t *mc = &n->mc;
	unsigned e = mysql_errno(&mc->mysql);
	char msg[160];

	snprintf(msg, sizeof(msg), "%u %s", e, mysql_error(&mc->mysql));
	if (e && e < CR_MIN_ERROR) {
		/* The server answered with an error: it is alive, the connection is fine. */
		node_probe_fail(n, GP_PROBE_QUERY, msg);
		return;
	}
	/* A client error: the connection is broken. A kept one gets one reconnect. */
	n->m->stats.conn_lost++;
	if (!n->fresh && !n->retried) {
		n->retried = true;
		gp_log(GP_LOG_INFO, "monitor_conn_lost", "node=%s while=probe",
		       gp_mon_node_name(n));
		node_close_then(n, AC_RECONNECT, GP_PROBE_OK, "");
		return;
	}
	node_close_then(n, AC_FAIL, GP_PROBE_CLOSED, msg);
}

static void node_on_done(gp_mconn_t *mc)
{
	gp_mon_node_t *n = mc->owner;

	switch (n->phase) {
	case NP_CONNECT:
		if (!mc->ret_mysql && !mc->oom && n->last_ok && n->resets < RESET_RETRIES &&
		    handshake_reset(&mc->mysql)) {
			n->resets++;
			gp_log(GP_LOG_INFO, "monitor_connect_reset", "node=%s retry=%d",
			       gp_mon_node_name(n), n->resets);
			node_close_then(n, AC_RETRY, GP_PROBE_OK, "");
			return;
		}
		if (!mc->ret_mysql) {
			node_close_then(n, AC_FAIL,
			                mc->oom ? GP_PROBE_CONNECT : classify_connect(&mc->mysql),
			                gp_mconn_error(mc));
			return;
		}
		mc->connected = true;
		n->phase = NP_QUERY;
		n->t_qry = uv_hrtime();
		gp_mconn_query(mc, GP_PROBE_SQL);
		return;
	case NP_QUERY:
		if (mc->ret_int != 0) {
			node_query_failed(n);
			return;
		}
		n->phase = NP_STORE;
		gp_mconn_store(mc);
		return;
	case NP_STORE:
		if (!mc->res || mysql_num_fields(mc->res) < 2) {
			gp_mconn_free_result(mc);
			node_query_failed(n);
			return;
		}
		node_probe_ok(n);
		return;
	case NP_CLOSE:
		switch (n->after_close) {
		case AC_FAIL:
			node_probe_fail(n, n->fail_err, n->fail_msg);
			return;
		case AC_RECONNECT:
			node_connect(n);
			return;
		case AC_RETRY: /* the probe's deadline still runs; the connect stops this timer */
			n->phase = NP_CONNECT;
			uv_timer_start(&mc->timer, node_on_retry, RESET_RETRY_MS, 0);
			return;
		case AC_LOST:
			n->phase = NP_IDLE;
			if (!n->fast_retry_used) {
				n->fast_retry_used = true;
				node_probe_start(n);
			}
			return;
		case AC_DISPOSE:
			n->phase = NP_IDLE;
			gp_mconn_dispose(mc, NULL);
			return;
		}
		return;
	case NP_IDLE:
		return;
	}
}

static void node_on_retry(uv_timer_t *t)
{
	gp_mconn_t *mc = t->data;
	node_connect(mc->owner);
}

static void node_on_deadline(uv_timer_t *t)
{
	gp_mon_node_t *n = t->data;
	char msg[80];

	if (!n->in_probe)
		return;
	gp_mconn_abort(&n->mc);
	snprintf(msg, sizeof(msg), "no answer within %lld ms", (long long)n->m->timeout_ms);
	node_close_then(n, AC_FAIL, GP_PROBE_TIMEOUT, msg);
}

static void mon_on_tick(uv_timer_t *t)
{
	gp_monitor_t *m = t->data;
	for (size_t i = 0; i < m->n && !m->closing; i++) {
		gp_mon_node_t *n = &m->nodes[i];
		if (n->evict_until && (n->up || (int64_t)uv_now(m->loop) > n->evict_until))
			n->evict_until = 0;
		else if (n->evict_until)
			gp_mon_node_evict(n); /* evidence still waits for a survivor */
		node_probe_start(n);
	}
}

/* ---- lifecycle ----------------------------------------------------------------------- */

static char *dup_or(const char *s, const char *dflt)
{
	return strdup(s && *s ? s : dflt ? dflt : "");
}

/* tls.backend* for every connection of the monitor (probes, eviction, reads); false: no
 * memory. libmariadb reads the files at each connect: a renewed certificate is picked up. */
static bool mon_tls_copy(gp_mconn_tls_t *t, const gp_config_t *cfg)
{
	const char *src[3] = {cfg->tls_backend_ca, cfg->tls_backend_cert, cfg->tls_backend_key};
	char **dst[3] = {&t->ca, &t->cert, &t->key};
	t->mode = gp_config_backend_tls(cfg);
	for (int i = 0; i < 3 && t->mode > 0; i++)
		if (src[i][0] && !(*dst[i] = strdup(src[i])))
			return false;
	return true;
}

gp_status_t gp_monitor_new(uv_loop_t *loop, const gp_config_t *cfg, gp_monitor_cb cb, void *arg,
                           gp_monitor_t **out)
{
	gp_monitor_t *m;

	*out = NULL;
	if (!loop || !cfg || cfg->nbackends == 0 || cfg->nbackends > GP_MAX_BACKENDS ||
	    cfg->monitor_interval_ms <= 0 || cfg->monitor_timeout_ms <= 0)
		return GP_EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return GP_ENOMEM;
	m->loop = loop;
	m->env.loop = loop;
	m->env.arg = m;
	m->env.last_closed = mon_on_last_closed;
	m->cb = cb;
	m->arg = arg;
	m->n = cfg->nbackends;
	m->backends = calloc(m->n, sizeof(*m->backends));
	m->nodes = calloc(m->n, sizeof(*m->nodes));
	m->user = dup_or(cfg->monitor_user, "");
	m->password = dup_or(cfg->monitor_password, "");
	m->evict_user = dup_or(cfg->eviction_user, m->user);
	m->evict_pass = dup_or(cfg->eviction_password, m->password);
	if (!m->backends || !m->nodes || !m->user || !m->password || !m->evict_user ||
	    !m->evict_pass || !mon_tls_copy(&m->env.tls, cfg)) {
		gp_monitor_free(m);
		return GP_ENOMEM;
	}
	memcpy(m->backends, cfg->backends, m->n * sizeof(*m->backends));
	m->evict_enabled = cfg->eviction_enabled;
	m->interval_ms = cfg->monitor_interval_ms;
	m->timeout_ms = cfg->monitor_timeout_ms;
	m->fall = cfg->monitor_fall > 0 ? (int)cfg->monitor_fall : 1;
	m->rise = cfg->monitor_rise > 0 ? (int)cfg->monitor_rise : 1;
	for (size_t i = 0; i < m->n; i++) {
		m->nodes[i].m = m;
		m->nodes[i].idx = i;
		m->nodes[i].probe.err = GP_PROBE_OK;
		m->nodes[i].probe.local_state = -1;
		m->nodes[i].probe.local_index = -1;
	}
	*out = m;
	return GP_OK;
}

gp_status_t gp_monitor_start(gp_monitor_t *m)
{
	int rc;

	if (m->started || m->closing)
		return GP_EINVAL;
	m->started = true;
	uv_timer_init(m->loop, &m->tick);
	m->tick.data = m;
	m->env.handles++;
	for (size_t i = 0; i < m->n; i++) {
		gp_mon_node_t *n = &m->nodes[i];
		gp_mconn_init(&n->mc, &m->env, n, node_on_done);
		uv_timer_init(m->loop, &n->deadline);
		n->deadline.data = n;
		m->env.handles++;
	}
	rc = uv_timer_start(&m->tick, mon_on_tick, 0, (uint64_t)m->interval_ms);
	if (rc)
		return gp_status_from_uv(rc);
	gp_log(GP_LOG_INFO, "monitor_start",
	       "backends=%zu interval_ms=%lld timeout_ms=%lld fall=%d "
	       "rise=%d eviction=%d",
	       m->n, (long long)m->interval_ms, (long long)m->timeout_ms, m->fall, m->rise,
	       m->evict_enabled ? 1 : 0);
	return GP_OK;
}

void gp_monitor_probe_now(gp_monitor_t *m)
{
	if (!m->started)
		return;
	for (size_t i = 0; i < m->n && !m->closing; i++)
		node_probe_start(&m->nodes[i]);
}

static void tick_closed(uv_handle_t *h)
{
	gp_mconn_env_release(&((gp_monitor_t *)h->data)->env);
}

static void deadline_closed(uv_handle_t *h)
{
	gp_mon_node_t *n = h->data;
	gp_mconn_env_release(&n->m->env);
}

void gp_monitor_close(gp_monitor_t *m, gp_monitor_close_cb done, void *arg)
{
	gp_mon_job_t *j, *next;

	if (m->closing)
		return;
	m->closing = true;
	m->close_cb = done;
	m->close_arg = arg;
	if (!m->started) {
		m->close_cb = NULL;
		if (done)
			done(m, arg);
		return;
	}
	m->env.handles++; /* hold the count up while closing synchronously */
	uv_close((uv_handle_t *)&m->tick, tick_closed);
	for (size_t i = 0; i < m->n; i++) {
		gp_mon_node_t *n = &m->nodes[i];
		uv_timer_stop(&n->deadline);
		uv_close((uv_handle_t *)&n->deadline, deadline_closed);
		n->in_probe = false;
		gp_mconn_abort(&n->mc); /* a probe in flight, or the idle watch */
		n->phase = NP_CLOSE;
		n->after_close = AC_DISPOSE;
		gp_mconn_close(&n->mc); /* COM_QUIT on a healthy connection; dispose follows */
	}
	for (j = m->jobs; j; j = next) {
		next = j->next;
		gp_mconn_abort(&j->mc);
		job_failed(j, 0, "monitor closing"); /* exec callers hear of it now */
	}
	gp_mconn_env_release(&m->env);
}

void gp_monitor_free(gp_monitor_t *m)
{
	if (!m)
		return;
	free(m->backends);
	free(m->nodes);
	free(m->user);
	gp_config_secret_free(m->password);
	free(m->evict_user);
	gp_config_secret_free(m->evict_pass);
	free(m->env.tls.ca);
	free(m->env.tls.cert);
	free(m->env.tls.key);
	free(m);
}

size_t gp_monitor_count(const gp_monitor_t *m)
{
	return m->n;
}

const gp_probe_t *gp_monitor_probe(const gp_monitor_t *m, size_t idx)
{
	return idx < m->n ? &m->nodes[idx].probe : NULL;
}

bool gp_monitor_node_up(const gp_monitor_t *m, size_t idx)
{
	return idx < m->n && m->nodes[idx].up;
}

uint64_t gp_monitor_node_evictions(const gp_monitor_t *m, size_t idx)
{
	return idx < m->n ? m->nodes[idx].evictions : 0;
}

uint64_t gp_monitor_node_evicted_ns(const gp_monitor_t *m, size_t idx)
{
	return idx < m->n ? m->nodes[idx].evicted_ns : 0;
}

const gp_monitor_stats_t *gp_monitor_stats(const gp_monitor_t *m)
{
	return &m->stats;
}
