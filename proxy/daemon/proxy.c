/* proxy.c - the daemon's life cycle: start, signals, shutdown; it wires the hooks. */
#include "daemon/proxy.h"

#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/admin.h"
#include "net/bufpool.h"
#include "cluster/cluster.h"
#include "base/log.h"
#include "net/resolve.h"
#include "net/tls.h"
#include "session/move.h"
#include "session/session.h"

#define GP_LISTEN_BACKLOG 1024
#define GP_SWEEP_MS       250 /* resolution of idle timeouts */

static gp_daemon_t *proxy_daemon(gp_proxy_t *p)
{
	return gp_container_of(p, gp_daemon_t, proxy);
}

/* ---- what the cluster asks of the sessions (gp_cluster_hooks_t) ---- */

_Static_assert(GP_CLUSTER_RW == (int)GP_EP_RW && GP_CLUSTER_RO == (int)GP_EP_RO,
               "cluster.h numbers endpoints like gp_endpoint_t");

/* Sessions of one backend and endpoint (-1: any) that a cluster hook acts on. */
typedef struct proxy_on_backend {
	int b, ep;         /* which */
	bool drain;        /* drain them (else close) */
	uint64_t deadline; /* the drain's */
	gp_close_t reason; /* why */
} proxy_on_backend_t;

static bool proxy_on_backend_fn(gp_list_t *link, void *arg)
{
	const proxy_on_backend_t *w = arg;
	gp_session_t *s = gp_session_of(link);
	if (s->backend != w->b || !s->on_backend || (w->ep >= 0 && (int)s->endpoint != w->ep))
		return true;
	if (w->drain)
		gp_session_drain(s, w->deadline, w->reason);
	else if (!gp_move_instead(s, w->reason))
		gp_session_close(s, w->reason);
	return true;
}

static void hook_close(void *arg, int b, int ep, gp_close_t reason)
{
	proxy_on_backend_t w = {.b = b, .ep = ep, .reason = reason};
	gp_proxy_each_session(arg, GP_SS_FROM(GP_SS_CONNECTING), proxy_on_backend_fn, &w);
}

static void hook_drain(void *arg, int b, int ep, uint64_t deadline, gp_close_t reason)
{
	proxy_on_backend_t w = {
	        .b = b, .ep = ep, .drain = true, .deadline = deadline, .reason = reason};
	gp_proxy_each_session(arg, GP_SS_FROM(GP_SS_CONNECTING), proxy_on_backend_fn, &w);
}

static void hook_drain_due(void *arg)
{
	gp_proxy_t *p = arg;
	gp_session_drain_tick(&p->drain_timer);
}

static bool proxy_wake_fn(gp_list_t *link, void *arg)
{
	(void)arg;
	gp_session_wake(gp_session_of(link));
	return true;
}

static void hook_wake(void *arg)
{
	gp_proxy_each_session(arg, GP_SS_BIT(GP_SS_WAITING), proxy_wake_fn, NULL);
	gp_move_wake(arg);
}

static bool hook_waiting(void *arg)
{
	gp_proxy_t *p = arg;
	return !gp_list_empty(&p->sessions[GP_SS_WAITING]) || gp_move_waiting(p);
}

static uint32_t hook_sessions(void *arg, int b, int ep)
{
	gp_proxy_t *p = arg;
	if (b < 0 || (size_t)b >= p->nbackends)
		return 0;
	if (ep == GP_CLUSTER_RW)
		return p->backends[b].sessions_rw;
	if (ep == GP_CLUSTER_RO)
		return p->backends[b].sessions - p->backends[b].sessions_rw;
	return p->backends[b].sessions;
}

static void hook_txn_count(void *arg, int b, int ep, uint32_t *open, uint32_t *unknown)
{
	gp_session_txn_count(arg, b, ep, open, unknown);
}

static bool hook_peer_settled(void *arg)
{
	return gp_vrrp_peer_settled(arg);
}

static void proxy_cluster_init(gp_proxy_t *p)
{
	gp_cluster_hooks_t h = {
	        .arg = p,
	        .close = hook_close,
	        .drain = hook_drain,
	        .drain_due = hook_drain_due,
	        .wake = hook_wake,
	        .waiting = hook_waiting,
	        .sessions = hook_sessions,
	        .txn_count = hook_txn_count,
	        .peer_settled = hook_peer_settled,
	};
	gp_cluster_init(&p->cluster, p->loop, p->cfg, &h);
}

static void on_connection(uv_stream_t *listener, int status)
{
	gp_proxy_t *p = listener->data;
	if (status < 0) {
		gp_log(GP_LOG_WARN, "accept_failed", "error=\"%s\"", uv_strerror(status));
		return;
	}
	gp_endpoint_t ep = listener == (uv_stream_t *)&p->listeners[GP_EP_RO] ? GP_EP_RO : GP_EP_RW;
	gp_session_accept(p, ep, listener);
}

static gp_status_t proxy_listen(gp_proxy_t *p, gp_endpoint_t ep, const char *addr)
{
	char host[GP_ADDR_MAX];
	uint16_t port;
	struct sockaddr_storage ss;
	if (gp_config_split_addr(addr, host, sizeof(host), &port) != GP_OK ||
	    gp_resolve_now(host, port, &ss) != GP_OK) { /* at start, before the loop runs */
		gp_log(GP_LOG_ERROR, "listen_failed", "endpoint=%s address=%s error=bad_address",
		       gp_endpoint_name(ep), addr);
		return GP_EINVAL;
	}
	uv_tcp_t *l = &p->listeners[ep];
	uv_tcp_init(p->loop, l);
	l->data = p;
	p->listening[ep] = true;
	int r = uv_tcp_bind(l, (const struct sockaddr *)&ss, 0);
	if (r == 0)
		r = uv_listen((uv_stream_t *)l, GP_LISTEN_BACKLOG, on_connection);
	if (r < 0) {
		gp_log(GP_LOG_ERROR, "listen_failed", "endpoint=%s address=%s error=\"%s\"",
		       gp_endpoint_name(ep), addr, uv_strerror(r));
		return gp_status_from_uv(r);
	}
	gp_log(GP_LOG_INFO, "listen", "endpoint=%s address=%s", gp_endpoint_name(ep), addr);
	return GP_OK;
}

static void proxy_close_listeners(gp_proxy_t *p)
{
	for (int ep = 0; ep < GP_EP__COUNT; ep++) {
		if (p->listening[ep]) {
			p->listening[ep] = false;
			uv_close((uv_handle_t *)&p->listeners[ep], NULL);
		}
	}
}

/* Close every handle of the proxy itself; the loop then runs dry and main returns. */
static void proxy_teardown(gp_proxy_t *p)
{
	gp_daemon_t *d = proxy_daemon(p);
	if (d->handles_closed)
		return;
	d->handles_closed = true;
	proxy_close_listeners(p);
	uv_close((uv_handle_t *)&d->sig_term, NULL);
	uv_close((uv_handle_t *)&d->sig_int, NULL);
	uv_close((uv_handle_t *)&d->sig_hup, NULL);
	uv_close((uv_handle_t *)&d->sweep, NULL);
	uv_close((uv_handle_t *)&p->drain_timer, NULL);
	gp_proxy_deadlines_close(p);
	uv_close((uv_handle_t *)&d->shutdown_timer, NULL);
	gp_accounts_stop(p->acct);
	gp_cluster_stop(&p->cluster);
	gp_vrrp_stop(p);
	gp_admin_stop(p);
	gp_tls_ctx_unref(p->tls); /* sessions still open hold references of their own */
	p->tls = NULL;
	gp_tls_ctx_unref(p->btls);
	p->btls = NULL;
	gp_bufpool_drain();
	gp_log(GP_LOG_INFO, "shutdown_complete", "closed=%llu",
	       (unsigned long long)p->stats.closed);
}

static bool proxy_close_fn(gp_list_t *link, void *arg)
{
	gp_session_close(gp_session_of(link), *(const gp_close_t *)arg);
	return true;
}

static void on_shutdown_deadline(uv_timer_t *t)
{
	gp_proxy_t *p = t->data;
	gp_log(GP_LOG_WARN, "shutdown_timeout", "sessions=%u", p->nsessions);
	gp_proxy_each_session(p, GP_SS_FROM(GP_SS_WAITING), proxy_close_fn,
	                      &(gp_close_t){GP_CLOSE_SHUTDOWN_TIMEOUT});
}

/*
 * Classic BPF for a listening socket: drop every packet addressed to vip (all packets if vip
 * is NULL), accept the rest. On a listener, Linux runs the filter on SYNs and on the ACKs that
 * complete handshakes, so no new connection to the VIP is established here; the client's
 * kernel sends its SYN again (Linux 6.5+: every second four times; before: 1 s, 3 s, 7 s) and
 * once keepalived has moved the VIP that SYN reaches the peer: a delay, instead of a session
 * accepted here being cut in mid-request by the move. Connections accepted before keep no
 * filter (a child copies its listener's filter only when it is created). The network header
 * sits at SKF_NET_OFF for a TCP socket. Returns the instructions written (at most 13).
 */
static unsigned hold_syns_prog(struct sock_filter *prog, const struct sockaddr *vip)
{
	unsigned n = 0;
	const uint32_t all = 0xffffffffu;

	if (!vip) {
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
		return n;
	}
	if (vip->sa_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)vip)->sin_addr.s_addr);
		/* IPv4 header (a dual-stack listener sees IPv6 too), destination == vip: drop */
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_NET_OFF);
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xf0);
		prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x40, 0, 3);
		prog[n++] =
		        (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_NET_OFF + 16);
		prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, a, 0, 1);
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, all);
		return n;
	}
	/* IPv6: version 6, and the four words of the destination (offset 24) equal */
	const uint8_t *b = ((const struct sockaddr_in6 *)vip)->sin6_addr.s6_addr;
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_NET_OFF);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xf0);
	prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x60, 0, 9);
	for (int w = 0; w < 4; w++) {
		uint32_t k = (uint32_t)b[4 * w] << 24 | (uint32_t)b[4 * w + 1] << 16 |
		             (uint32_t)b[4 * w + 2] << 8 | b[4 * w + 3];
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		                                         SKF_NET_OFF + 24 + 4 * w);
		prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, 0,
		                                         (uint8_t)(7 - 2 * w));
	}
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, all);
	return n;
}

/* Planned shutdown under keepalived: no new connection to the VIP until it has moved. */
static void proxy_hold_syns(gp_proxy_t *p)
{
	const struct sockaddr *vip =
	        p->vrrp->vip_present >= 0 ? (const struct sockaddr *)&p->vrrp->vip : NULL;
	struct sock_filter prog[16];
	struct sock_fprog fp = {.len = (unsigned short)hold_syns_prog(prog, vip), .filter = prog};
	int held = 0;

	for (int ep = 0; ep < GP_EP__COUNT; ep++) {
		uv_os_fd_t fd;
		if (!p->listening[ep] || uv_fileno((uv_handle_t *)&p->listeners[ep], &fd) != 0)
			continue;
		if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) != 0) {
			gp_log(GP_LOG_WARN, "shutdown_hold_syns_failed", "endpoint=%s errno=%d",
			       gp_endpoint_name((gp_endpoint_t)ep), errno);
			continue;
		}
		held++;
	}
	gp_log(GP_LOG_INFO, "shutdown_hold_syns", "listeners=%d to=%s", held,
	       vip ? p->cfg->top_vip : "any");
}

void gp_proxy_shutdown(gp_proxy_t *p)
{
	if (p->shutting_down)
		return;
	if (gp_vrrp_begin_leave(p)) {
		proxy_hold_syns(p);
		return; /* vrrp.c calls gp_proxy_shutdown_now once the VIP has moved */
	}
	gp_proxy_shutdown_now(p);
}

static bool proxy_shutdown_fn(gp_list_t *link, void *arg)
{
	(void)arg;
	gp_session_shutdown(gp_session_of(link));
	return true;
}

void gp_proxy_shutdown_now(gp_proxy_t *p)
{
	if (p->shutting_down)
		return;
	p->shutting_down = true;
	p->vrrp->leaving = false;
	gp_log(GP_LOG_INFO, "shutdown_start", "sessions=%u timeout_ms=%lld", p->nsessions,
	       (long long)p->cfg->limits_shutdown_timeout_ms);
	proxy_close_listeners(p);
	gp_proxy_each_session(p, GP_SS_FROM(GP_SS_WAITING), proxy_shutdown_fn, NULL);
	if (p->nsessions == 0) {
		proxy_teardown(p);
		return;
	}
	uv_timer_start(&proxy_daemon(p)->shutdown_timer, on_shutdown_deadline,
	               (uint64_t)p->cfg->limits_shutdown_timeout_ms, 0);
}

static void on_signal(uv_signal_t *h, int signum)
{
	gp_proxy_t *p = h->data;
	if (signum == SIGHUP) {
		char msg[512];
		gp_admin_reload(p, "sighup", msg, sizeof(msg));
		return;
	}
	gp_log(GP_LOG_INFO, "signal", "signal=%s", signum == SIGTERM ? "SIGTERM" : "SIGINT");
	gp_proxy_shutdown(p);
}

typedef struct proxy_idle {
	uint64_t now, idle_ms; /* loop ms; how long a ready session may stay silent */
} proxy_idle_t;

static bool proxy_idle_fn(gp_list_t *link, void *arg)
{
	const proxy_idle_t *w = arg;
	gp_session_t *s = gp_session_of(link);
	if (!gp_core_in_flight(&s->core) && w->now - s->last_active >= w->idle_ms)
		gp_session_close(s, GP_CLOSE_IDLE_TIMEOUT);
	return true;
}

static void on_sweep(uv_timer_t *t)
{
	gp_proxy_t *p = t->data;
	int64_t idle_ms = p->cfg->limits_client_idle_timeout_ms;
	if (idle_ms <= 0)
		return; /* off (the default); drains have their own list and timer */
	proxy_idle_t w = {uv_now(p->loop), (uint64_t)idle_ms};
	gp_proxy_each_session(p, GP_SS_BIT(GP_SS_READY), proxy_idle_fn, &w);
}

gp_status_t gp_proxy_start(gp_daemon_t *d, uv_loop_t *loop, gp_config_t *cfg)
{
	memset(d, 0, sizeof(*d));
	gp_proxy_t *p = &d->proxy;
	p->loop = loop;
	p->cfg = cfg;
	p->vrrp = &d->vrrp;
	p->metrics = &d->metrics;
	p->acct = &d->accounts;
	p->hooks.shutdown_now = gp_proxy_shutdown_now;
	p->hooks.all_gone = proxy_teardown;
	proxy_cluster_init(p);
	for (int i = 0; i < GP_SS__COUNT; i++)
		gp_list_init(&p->sessions[i]);
	gp_list_init(&p->draining);
	p->nbackends = cfg->nbackends;
	for (size_t i = 0; i < cfg->nbackends; i++) {
		gp_backend_t *b = &p->backends[i];
		b->conf = &cfg->backends[i];
		b->last_error = GP_OK;
		/* Blocking, but nothing relays yet; reloads look names up off the loop thread. */
		if (gp_resolve_now(cfg->backends[i].host, cfg->backends[i].port, &b->addr) !=
		    GP_OK) {
			gp_log(GP_LOG_ERROR, "backend_unresolvable", "backend=%s address=%s",
			       b->conf->name, b->conf->address);
			return GP_ECONFIG;
		}
		gp_config_backend_resolved(&cfg->backends[i], &b->addr);
	}
	uv_signal_init(loop, &d->sig_term);
	uv_signal_init(loop, &d->sig_int);
	uv_signal_init(loop, &d->sig_hup);
	d->sig_term.data = d->sig_int.data = d->sig_hup.data = p;
	uv_signal_start(&d->sig_term, on_signal, SIGTERM);
	uv_signal_start(&d->sig_int, on_signal, SIGINT);
	uv_signal_start(&d->sig_hup, on_signal, SIGHUP);
	uv_timer_init(loop, &p->drain_timer);
	p->drain_timer.data = p;
	gp_proxy_deadlines_init(p);
	uv_timer_init(loop, &d->sweep);
	uv_timer_init(loop, &d->shutdown_timer);
	d->sweep.data = d->shutdown_timer.data = p;
	uv_timer_start(&d->sweep, on_sweep, GP_SWEEP_MS, GP_SWEEP_MS);
	uv_unref((uv_handle_t *)&d->sweep);
	p->next_conn_id = 0;

	char terr[400];
	gp_status_t st = gp_session_tls_build(cfg, &p->tls, terr, sizeof(terr));
	if (st == GP_OK)
		st = gp_session_btls_build(cfg, &p->btls, terr, sizeof(terr));
	if (st != GP_OK)
		gp_log(GP_LOG_ERROR, "tls_config_failed", "error=\"%s\"", terr);
	if (st == GP_OK)
		st = proxy_listen(p, GP_EP_RW, cfg->top_listen);
	if (st == GP_OK && cfg->top_listen_ro[0])
		st = proxy_listen(p, GP_EP_RO, cfg->top_listen_ro);
	if (st == GP_OK)
		st = gp_vrrp_start(p);
	if (st == GP_OK)
		st = gp_cluster_start(&p->cluster);
	if (st == GP_OK)
		st = gp_accounts_init(p->acct, loop, &p->cluster, cfg);
	if (st == GP_OK)
		gp_accounts_start(p->acct);
	if (st == GP_OK)
		st = gp_admin_start(p);
	if (st != GP_OK) {
		p->shutting_down = true;
		proxy_teardown(p);
		return st;
	}
	return GP_OK;
}
