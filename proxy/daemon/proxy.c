/* proxy.c - the daemon's state: listeners, backends, session lists, shutdown. */
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
#include "session/session.h"

#define GP_LISTEN_BACKLOG 1024
#define GP_SWEEP_MS       250 /* resolution of idle timeouts */

static const char *const endpoint_names[GP_EP__COUNT] = {"rw", "ro"};
static const char *const state_names[GP_SS__COUNT] = {
        "waiting", "connecting", "greeting", "handshake", "auth", "ready", "closing",
};

const char *gp_endpoint_name(gp_endpoint_t ep)
{
	return ep < GP_EP__COUNT ? endpoint_names[ep] : "?";
}

const char *gp_session_state_name(gp_session_state_t st)
{
	return st < GP_SS__COUNT ? state_names[st] : "?";
}

size_t gp_proxy_backends_by_priority(const gp_proxy_t *p, int *idx)
{
	size_t n = p->nbackends;
	for (size_t i = 0; i < n; i++)
		idx[i] = (int)i;
	/* insertion sort: a handful of backends */
	for (size_t i = 1; i < n; i++) {
		int v = idx[i];
		const gp_backend_conf_t *cv = p->backends[v].conf;
		size_t j = i;
		while (j > 0) {
			const gp_backend_conf_t *cj = p->backends[idx[j - 1]].conf;
			if (cj->priority < cv->priority ||
			    (cj->priority == cv->priority && strcmp(cj->name, cv->name) <= 0))
				break;
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = v;
	}
	return n;
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

void gp_proxy_refuse(gp_proxy_t *p, uv_stream_t *listener)
{
	gp_endpoint_t ep = listener == (uv_stream_t *)&p->listeners[GP_EP_RO] ? GP_EP_RO : GP_EP_RW;
	gp_log(GP_LOG_ERROR, "client_refused", "endpoint=%s reason=out_of_memory",
	       gp_endpoint_name(ep));
	gp_refuse(&p->refusers[ep], listener);
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
	if (p->handles_closed)
		return;
	p->handles_closed = true;
	proxy_close_listeners(p);
	uv_close((uv_handle_t *)&p->sig_term, NULL);
	uv_close((uv_handle_t *)&p->sig_int, NULL);
	uv_close((uv_handle_t *)&p->sig_hup, NULL);
	uv_close((uv_handle_t *)&p->sweep, NULL);
	uv_close((uv_handle_t *)&p->drain_timer, NULL);
	uv_close((uv_handle_t *)&p->shutdown_timer, NULL);
	gp_cluster_stop(p);
	gp_vrrp_stop(p);
	gp_admin_stop(p);
	gp_bufpool_drain();
	gp_log(GP_LOG_INFO, "shutdown_complete", "closed=%llu",
	       (unsigned long long)p->stats.closed);
}

void gp_proxy_session_gone(gp_proxy_t *p)
{
	if (p->shutting_down && p->nsessions == 0)
		proxy_teardown(p);
}

static void on_shutdown_deadline(uv_timer_t *t)
{
	gp_proxy_t *p = t->data;
	gp_list_t *pos, *tmp;
	gp_log(GP_LOG_WARN, "shutdown_timeout", "sessions=%u", p->nsessions);
	for (int st = 0; st < GP_SS_CLOSING; st++) {
		gp_list_each_safe(pos, tmp, &p->sessions[st])
		{
			gp_session_close(gp_container_of(pos, gp_session_t, link),
			                 GP_CLOSE_SHUTDOWN_TIMEOUT);
		}
	}
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
	        p->vrrp.vip_present >= 0 ? (const struct sockaddr *)&p->vrrp.vip : NULL;
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

void gp_proxy_shutdown_now(gp_proxy_t *p)
{
	if (p->shutting_down)
		return;
	p->shutting_down = true;
	p->vrrp.leaving = false;
	gp_log(GP_LOG_INFO, "shutdown_start", "sessions=%u timeout_ms=%lld", p->nsessions,
	       (long long)p->cfg->limits_shutdown_timeout_ms);
	proxy_close_listeners(p);
	gp_list_t *pos, *tmp;
	for (int st = 0; st < GP_SS_CLOSING; st++) {
		gp_list_each_safe(pos, tmp, &p->sessions[st])
		{
			gp_session_shutdown(gp_container_of(pos, gp_session_t, link));
		}
	}
	if (p->nsessions == 0) {
		proxy_teardown(p);
		return;
	}
	uv_timer_start(&p->shutdown_timer, on_shutdown_deadline,
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

static void on_sweep(uv_timer_t *t)
{
	gp_proxy_t *p = t->data;
	int64_t idle_ms = p->cfg->limits_client_idle_timeout_ms;
	if (idle_ms <= 0)
		return; /* off (the default); drains have their own list and timer */
	uint64_t now = uv_now(p->loop);
	gp_list_t *pos, *tmp;
	gp_list_each_safe(pos, tmp, &p->sessions[GP_SS_READY])
	{
		gp_session_t *s = gp_container_of(pos, gp_session_t, link);
		if (!s->core.in_flight && now - s->last_active >= (uint64_t)idle_ms)
			gp_session_close(s, GP_CLOSE_IDLE_TIMEOUT);
	}
}

gp_status_t gp_proxy_start(gp_proxy_t *p, uv_loop_t *loop, gp_config_t *cfg)
{
	memset(p, 0, sizeof(*p));
	p->loop = loop;
	p->cfg = cfg;
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
	uv_signal_init(loop, &p->sig_term);
	uv_signal_init(loop, &p->sig_int);
	uv_signal_init(loop, &p->sig_hup);
	p->sig_term.data = p->sig_int.data = p->sig_hup.data = p;
	uv_signal_start(&p->sig_term, on_signal, SIGTERM);
	uv_signal_start(&p->sig_int, on_signal, SIGINT);
	uv_signal_start(&p->sig_hup, on_signal, SIGHUP);
	uv_timer_init(loop, &p->drain_timer);
	p->drain_timer.data = p;
	uv_timer_init(loop, &p->sweep);
	uv_timer_init(loop, &p->shutdown_timer);
	p->sweep.data = p->shutdown_timer.data = p;
	uv_timer_start(&p->sweep, on_sweep, GP_SWEEP_MS, GP_SWEEP_MS);
	uv_unref((uv_handle_t *)&p->sweep);
	p->next_conn_id = 0;

	gp_status_t st = proxy_listen(p, GP_EP_RW, cfg->top_listen);
	if (st == GP_OK && cfg->top_listen_ro[0])
		st = proxy_listen(p, GP_EP_RO, cfg->top_listen_ro);
	if (st == GP_OK)
		st = gp_vrrp_start(p);
	if (st == GP_OK)
		st = gp_cluster_start(p);
	if (st == GP_OK)
		st = gp_admin_start(p);
	if (st != GP_OK) {
		p->shutting_down = true;
		proxy_teardown(p);
		return st;
	}
	return GP_OK;
}
