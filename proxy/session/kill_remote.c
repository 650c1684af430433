/* kill_remote.c - a KILL of a session on another node: grant check, run, the proxy's answer. */
#include "session/kill_remote.h"

#include <string.h>

#include "cluster/cluster.h"
#include "cluster/monitor.h"

/* The translated KILL is over: its cross-node slot goes back. */
static void session_kill_end(gp_session_t *s)
{
	if (s->core.kill.slot)
		gp_kill_slot_give(&s->proxy->kill_jobs);
	s->core.kill = (gp_kill_req_t){.phase = GP_KILL_IDLE};
}

/* Answer the cross-node KILL the client waits for (code 0: OK) and let its next command in. */
static void session_kill_answer(gp_session_t *s, uint16_t code, const char *msg)
{
	gp_core_out_t o;
	gp_core_out_init(&o);
	session_kill_end(s);
	gp_core_kill_answer(&s->core, code, msg, &o);
	gp_session_apply(s, &o);
	gp_io_resume(&s->client);
}

/* The server's own refusal, for a target on another node. One line names both sides. */
static void session_kill_refuse(gp_session_t *s, const gp_session_t *t, const char *reason)
{
	char msg[96], user[80], tuser[80];
	const gp_core_t *c = &s->core;
	const gp_kill_login_t *tl = t ? &t->core.login : NULL;
	gp_slog(s, GP_LOG_WARN, "kill_refused",
	        "target=%u target_backend=%s user=%s target_user=%s query=%d reason=%s code=%u",
	        c->kill.target, t ? gp_session_backend_name(t) : "-",
	        gp_kill_login_log(user, sizeof(user), &c->login),
	        tl ? gp_kill_login_log(tuser, sizeof(tuser), tl) : "-", c->kill.k.query, reason,
	        c->resp.failed ? c->resp.err_code : 0);
	session_kill_answer(s, GP_ER_KILL_DENIED,
	                    gp_kill_message(msg, sizeof(msg), GP_ER_KILL_DENIED, c->kill.k.id));
}

static void session_kill_done(void *arg, bool ok, unsigned code, const char *msg)
{
	gp_session_t *s = arg;
	char buf[96], q[200];
	if (s->state == GP_SS_CLOSING) {
		session_kill_end(s);
		gp_session_op_done(s); /* may free s */
		return;
	}
	s->pending_ops--;
	if (ok) {
		session_kill_answer(s, 0, NULL);
		return;
	}
	/* 1094: the target's thread ended meanwhile. Anything else is the proxy's trouble (the
	 * eviction account without SUPER answers 1095): logged, and not the server's words. */
	const char *own = code == GP_ER_NO_SUCH_THREAD
	                          ? gp_kill_message(buf, sizeof(buf), code, s->core.kill.k.id)
	                          : NULL;
	if (!own)
		gp_slog(s, GP_LOG_WARN, "kill_failed", "target=%u code=%u error=%s",
		        s->core.kill.target, code,
		        gp_log_quote(q, sizeof(q), msg, (unsigned)strlen(msg)));
	session_kill_answer(s, own ? GP_ER_NO_SUCH_THREAD : GP_ER_UNKNOWN,
	                    own ? own
	                        : "galera-proxy: the KILL failed on the target's node (see the "
	                          "proxy's log)");
}

/* Run the KILL on the target's node with the eviction account: the issuer may (decided). */
static void session_kill_run(gp_session_t *s)
{
	char sql[64], msg[96];
	gp_core_t *c = &s->core;
	gp_session_t *t = gp_session_find(s->proxy, c->kill.target);
	if (!t || !t->on_backend) {
		session_kill_answer(
		        s, GP_ER_NO_SUCH_THREAD,
		        gp_kill_message(msg, sizeof(msg), GP_ER_NO_SUCH_THREAD, c->kill.k.id));
		return;
	}
	if (!gp_kill_sql(sql, sizeof(sql), &c->kill.k, t->core.server_thread) ||
	    gp_monitor_exec(gp_cluster_monitor(&s->proxy->cluster), (size_t)t->backend, sql,
	                    session_kill_done, s) != GP_OK) {
		gp_slog(s, GP_LOG_WARN, "kill_failed", "target=%u error=\"could not start\"",
		        c->kill.target);
		session_kill_answer(s, GP_ER_UNKNOWN,
		                    "galera-proxy: could not reach the target's node");
		return;
	}
	gp_core_kill_running(c);
	s->pending_ops++;
}

/* The users differ: ask the issuer's own server what its session may do (kill.h). */
static void session_kill_check(gp_session_t *s)
{
	gp_core_out_t o;
	gp_core_out_init(&o);
	s->server.peek = GP_KILL_GRANT_PEEK; /* rows are read, not relayed */
	gp_core_kill_check(&s->core, &o);
	gp_session_apply(s, &o);
}

/* The grants are read (server_scanned, after the check's response): go on or refuse. */
void gp_kill_remote_checked(gp_session_t *s)
{
	s->server.peek = gp_core_peek(&s->core, false);
	gp_session_t *t = gp_session_find(s->proxy, s->core.kill.target);
	if (s->core.kill.privileged ||
	    (t && t->state == GP_SS_READY && gp_kill_login_same(&s->core.login, &t->core.login))) {
		session_kill_run(s);
		return;
	}
	session_kill_refuse(s, t, s->core.resp.failed ? "check_failed" : "not_owner");
}

/* The core found a KILL of a session on another node (o->t): decide and run it. */
gp_pkt_action_t gp_kill_remote_start(gp_session_t *s, const gp_core_out_t *o)
{
	gp_core_t *c = &s->core;
	if (!gp_kill_slot_take(&s->proxy->kill_jobs)) {
		gp_slog(s, GP_LOG_WARN, "kill_refused",
		        "target=%u target_backend=%s reason=busy jobs=%u", c->kill.target,
		        o->t.backend, s->proxy->kill_jobs);
		gp_core_out_t a;
		gp_core_out_init(&a);
		session_kill_end(s);
		gp_core_answer(c, (uint8_t)(c->cmd_seq + 1), GP_ER_UNKNOWN, "HY000",
		               "galera-proxy: too many KILLs of sessions on other nodes in flight; "
		               "try again",
		               &a);
		gp_session_apply(s, &a);
		return GP_PKT_DROP;
	}
	c->kill.slot = true;
	gp_session_t *t = gp_session_find(s->proxy, c->kill.target);
	if (t && t->state == GP_SS_READY && gp_kill_login_same(&c->login, &t->core.login))
		session_kill_run(s);
	else
		session_kill_check(s);
	return s->state == GP_SS_CLOSING ? GP_PKT_STOP : GP_PKT_DROP;
}
