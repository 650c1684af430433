/* vrrp.c - the proxy's VRRP role: keepalived's word, the VIP, fencing, the peer's writer. */
#include "ha/vrrp.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "base/log.h"
#include "net/http.h"
#include "core/proxy.h"
#include "net/resolve.h"
#include "net/tls.h"
#include "session/session.h"

#define GP_PEER_STALE_POLLS   4    /* a peer answer older than this many polls is not trusted */
#define GP_PEER_FIRST_WAIT_MS 5000 /* a fenced proxy's first decision waits this for the peer */
#define GP_PEER_RESOLVE_MS    5000 /* a peer name is looked up again at most this often */

static const char *const vrrp_names[] = {
#define GP_VRRP_NAME(e, name) name,
        GP_VRRP_STATE_TABLE(GP_VRRP_NAME)
#undef GP_VRRP_NAME
};

const char *gp_vrrp_state_name(gp_vrrp_state_t s)
{
	return (unsigned)s < GP_VRRP__COUNT ? vrrp_names[s] : "?";
}

int gp_vrrp_state_parse(const char *s)
{
	for (int i = 0; i < GP_VRRP__COUNT; i++) {
		if (!strcasecmp(s, vrrp_names[i]))
			return i;
	}
	return -1;
}

static uint64_t vrrp_interval(const gp_proxy_t *p)
{
	int64_t ms = p->cfg->monitor_interval_ms;
	return (uint64_t)(ms < 100 ? 100 : ms);
}

/* ---- role and fencing ------------------------------------------------------ */

static bool vrrp_serving(gp_vrrp_state_t st)
{
	return st == GP_VRRP_MASTER || st == GP_VRRP_UNKNOWN;
}

/* With a vip configured, holding it makes a MASTER whatever the notify said (a proxy
 * restarted under a MASTER keepalived hears no new notify); not holding it makes a
 * BACKUP unless keepalived said FAULT or STOP. Without a vip, keepalived's word. */
static gp_vrrp_state_t vrrp_derive(const gp_vrrp_t *v)
{
	if (v->vip_present < 0)
		return v->notified;
	if (v->vip_present)
		return GP_VRRP_MASTER;
	if (v->notified == GP_VRRP_FAULT || v->notified == GP_VRRP_STOP)
		return v->notified;
	return GP_VRRP_BACKUP;
}

static bool vrrp_fence_one(gp_list_t *link, void *arg)
{
	gp_session_drain(gp_session_of(link), *(const uint64_t *)arg, GP_CLOSE_FENCED);
	return true;
}

static void vrrp_fence_fn(gp_proxy_t *p, uint64_t deadline)
{
	gp_proxy_each_session(p, GP_SS_FROM(GP_SS_CONNECTING), vrrp_fence_one, &deadline);
}

/* The writer a fenced proxy (or the lower-named of two MASTERs) follows: the peer's, by
 * name; NULL when this proxy decides on its own. */
static const char *vrrp_follow_name(const gp_vrrp_t *v)
{
	if (!v->view.valid || !v->view.writer[0])
		return NULL;
	bool me = vrrp_serving(v->effective), peer = vrrp_serving(v->view.state);
	bool follow = (!me && v->view.state == GP_VRRP_MASTER) ||
	              (me && peer && strcmp(v->name, v->view.name) > 0);
	return follow ? v->view.writer : NULL;
}

/* The cluster's next decision sees the peer's writer as it now stands. */
static void vrrp_tell_cluster(gp_proxy_t *p)
{
	gp_cluster_set_peer_writer(&p->cluster, vrrp_follow_name(p->vrrp));
}

static void vrrp_apply(gp_proxy_t *p, const char *source)
{
	gp_vrrp_t *v = p->vrrp;
	gp_vrrp_state_t to = vrrp_derive(v);
	if (to == v->effective)
		return;
	gp_log(GP_LOG_INFO, "vrrp_state", "from=%s to=%s source=%s notified=%s vip_present=%d",
	       gp_vrrp_state_name(v->effective), gp_vrrp_state_name(to), source,
	       gp_vrrp_state_name(v->notified), v->vip_present);
	v->effective = to;
	p->vrrp_state = gp_vrrp_state_name(to);
	vrrp_tell_cluster(p);
	bool fence = !vrrp_serving(to);
	if (fence != v->fenced) {
		v->fenced = p->fenced = fence;
		if (fence) {
			uint64_t deadline =
			        uv_now(p->loop) + (uint64_t)p->cfg->routing_fence_timeout_ms;
			gp_log(GP_LOG_WARN, "fence_start", "state=%s sessions=%u timeout_ms=%lld",
			       gp_vrrp_state_name(to), p->nsessions,
			       (long long)p->cfg->routing_fence_timeout_ms);
			vrrp_fence_fn(p, deadline);
		} else {
			gp_log(GP_LOG_INFO, "fence_end", "state=%s", gp_vrrp_state_name(to));
		}
	}
	if (gp_cluster_decided(&p->cluster))
		gp_cluster_decide(
		        &p->cluster); /* peer rules depend on the role; waiting sessions may go */
}

void gp_vrrp_notify(gp_proxy_t *p, gp_vrrp_state_t st, const char *source)
{
	if (st != p->vrrp->notified)
		gp_log(GP_LOG_INFO, "vrrp_notify", "from=%s to=%s source=%s",
		       gp_vrrp_state_name(p->vrrp->notified), gp_vrrp_state_name(st), source);
	p->vrrp->notified = st;
	vrrp_apply(p, "notify");
}

static int vrrp_check_vip(const gp_vrrp_t *v)
{
	struct ifaddrs *ifa = NULL;
	if (getifaddrs(&ifa) != 0)
		return v->vip_present; /* keep what we knew */
	int found = 0;
	for (struct ifaddrs *i = ifa; i && !found; i = i->ifa_next) {
		const struct sockaddr *a = i->ifa_addr;
		if (!a || a->sa_family != v->vip.ss_family)
			continue;
		if (a->sa_family == AF_INET)
			found = !memcmp(&((const struct sockaddr_in *)(const void *)a)->sin_addr,
			                &((const struct sockaddr_in *)&v->vip)->sin_addr,
			                sizeof(struct in_addr));
		else
			found = !memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
			                &((const struct sockaddr_in6 *)&v->vip)->sin6_addr,
			                sizeof(struct in6_addr));
	}
	freeifaddrs(ifa);
	return found;
}

/* ---- the peer's /status ------------------------------------------------------ */

int gp_vrrp_peer_writer(const gp_proxy_t *p)
{
	const char *w = vrrp_follow_name(p->vrrp);
	if (!w)
		return -1;
	for (size_t i = 0; i < p->nbackends; i++) {
		if (!strcmp(p->backends[i].conf->name, w))
			return (int)i;
	}
	return -1;
}

bool gp_vrrp_peer_settled(const gp_proxy_t *p)
{
	const gp_vrrp_t *v = p->vrrp;
	if (!v->have_peer || v->view.valid)
		return true;
	/* A serving proxy does not wait past a failed poll; a fenced one serves nobody, so it
	 * waits a little for an answer (a host coming back up may fail its first connects). */
	return v->view.failures > 0 &&
	       (!v->fenced || uv_now(p->loop) - v->started_at >= GP_PEER_FIRST_WAIT_MS);
}

/* The peer's answer to a poll, or its failure: the peer's view, and the first decision if it
 * waited for this. */
static void peer_answered(gp_proxy_t *p, bool ok, int code, const char *body, size_t len)
{
	gp_vrrp_t *v = p->vrrp;
	v->peer_poll_failed = !ok;
	if (!ok)
		v->view.failures++;
	if (ok && code == 200) {
		json_error_t err;
		json_t *doc = json_loadb(body, len, 0, &err);
		const char *state = NULL, *writer = NULL, *name = NULL;
		if (doc && json_unpack(doc, "{s:s, s?s, s?s}", "vrrp_state", &state, "writer",
		                       &writer, "proxy", &name) == 0) {
			gp_peer_view_t old = v->view;
			int st = gp_vrrp_state_parse(state);
			v->view.state = st < 0 ? GP_VRRP_UNKNOWN : (gp_vrrp_state_t)st;
			snprintf(v->view.writer, sizeof(v->view.writer), "%s",
			         writer ? writer : "");
			snprintf(v->view.name, sizeof(v->view.name), "%s", name ? name : "");
			v->view.at = uv_now(p->loop);
			v->view.valid = true;
			vrrp_tell_cluster(p);
			if (!old.valid || old.state != v->view.state ||
			    strcmp(old.writer, v->view.writer)) {
				gp_log(GP_LOG_INFO, "peer_view", "peer=%s state=%s writer=%s",
				       v->view.name[0] ? v->view.name : "-",
				       gp_vrrp_state_name(v->view.state),
				       v->view.writer[0] ? v->view.writer : "none");
				if (gp_cluster_decided(&p->cluster))
					gp_cluster_decide(&p->cluster);
			}
		} else {
			v->view.failures++;
			v->peer_poll_failed = true;
		}
		json_decref(doc);
	}
	gp_cluster_decide_first(&p->cluster); /* it may have waited for this answer */
}

static void peer_on_answer(void *arg, bool ok, int code, const char *body, size_t len)
{
	gp_proxy_t *p = arg;
	p->vrrp->req = NULL;
	peer_answered(p, ok, code, body, len);
}

/* Abandon the poll in flight, if any: a failed poll. */
static void peer_req_end(gp_proxy_t *p)
{
	gp_vrrp_t *v = p->vrrp;
	if (!v->req)
		return;
	gp_http_get_cancel(v->req);
	v->req = NULL;
	peer_answered(p, false, 0, NULL, 0);
}

static void peer_request(gp_proxy_t *p);

static void on_peer_resolved(gp_resolve_t *res, void *arg)
{
	gp_proxy_t *p = arg;
	gp_vrrp_t *v = p->vrrp;
	int st = gp_resolve_status(res, 0);
	v->resolving = NULL;
	v->resolved_at = uv_now(p->loop);
	if (st == 0) {
		const struct sockaddr_storage *a = gp_resolve_addr(res, 0);
		if (!v->peer_resolved || v->peer_lookup_failed ||
		    memcmp(a, &v->peer, sizeof(*a)) != 0) {
			char ip[64] = "?";
			if (a->ss_family == AF_INET)
				uv_ip4_name((const struct sockaddr_in *)a, ip, sizeof(ip));
			else if (a->ss_family == AF_INET6)
				uv_ip6_name((const struct sockaddr_in6 *)a, ip, sizeof(ip));
			gp_log(GP_LOG_INFO, "peer_resolved", "peer=%s ip=%s", p->cfg->top_peer, ip);
		}
		v->peer = *a;
		v->peer_resolved = true;
		v->peer_lookup_failed = false;
		gp_resolve_free(res);
		if (!p->shutting_down)
			peer_request(p);
		return;
	}
	gp_resolve_free(res);
	/* A failed lookup is a failed poll; an address found before stays in use. */
	v->view.failures++;
	if (!v->peer_lookup_failed)
		gp_log(GP_LOG_WARN, "peer_unresolvable", "peer=%s error=\"%s\" retry_ms=%d",
		       p->cfg->top_peer, uv_strerror(st), GP_PEER_RESOLVE_MS);
	v->peer_lookup_failed = true;
	if (v->peer_resolved && !p->shutting_down)
		peer_request(p);
	else
		gp_cluster_decide_first(&p->cluster); /* it may have waited for the peer */
}

/* A peer named by host: look it up first, again after a failed poll (it may have moved),
 * at most every GP_PEER_RESOLVE_MS. True while a lookup is under way. */
static bool peer_lookup(gp_proxy_t *p)
{
	gp_vrrp_t *v = p->vrrp;
	uint64_t now = uv_now(p->loop);
	if (v->resolving)
		return true;
	if (!v->peer_is_name ||
	    (v->peer_resolved && !v->peer_poll_failed && !v->peer_lookup_failed) ||
	    (v->resolved_at && now - v->resolved_at < GP_PEER_RESOLVE_MS))
		return false;
	const char *host = v->peer_host;
	if (gp_resolve_start(p->loop, 1, &host, &v->peer_port, on_peer_resolved, p,
	                     &v->resolving) != GP_OK) {
		v->view.failures++;
		return false;
	}
	return true;
}

static void peer_poll(gp_proxy_t *p)
{
	gp_vrrp_t *v = p->vrrp;
	if (v->req)
		peer_req_end(p); /* the last poll took a whole interval: a failure */
	if (v->view.valid &&
	    uv_now(p->loop) - v->view.at > GP_PEER_STALE_POLLS * vrrp_interval(p)) {
		v->view.valid = false;
		vrrp_tell_cluster(p);
		gp_log(GP_LOG_WARN, "peer_lost", "peer=%s failures=%llu", p->cfg->top_peer,
		       (unsigned long long)v->view.failures);
		if (gp_cluster_decided(&p->cluster))
			gp_cluster_decide(&p->cluster);
	}
	if (peer_lookup(p))
		return; /* on_peer_resolved asks */
	if (v->peer_resolved)
		peer_request(p);
}

/* With http_tls the peer (configured alike) serves HTTPS: the client context, built again
 * after a reload. peer_ca verifies its chain (not its name: peer is often an address);
 * without it the traffic is encrypted but the peer unverified (/status holds no secret, but
 * a man in the middle could feed a false writer). NULL: plain HTTP, or *failed. */
static struct gp_tls_ctx *peer_tls(gp_proxy_t *p, bool *failed)
{
	gp_vrrp_t *v = p->vrrp;
	*failed = false;
	if (!p->cfg->top_http_tls)
		return NULL;
	if (v->peer_tls && v->peer_tls_cfg == p->cfg)
		return v->peer_tls;
	gp_tls_ctx_unref(v->peer_tls);
	v->peer_tls = NULL;
	v->peer_tls_cfg = p->cfg;
	const char *ca = p->cfg->top_peer_ca;
	gp_tls_opts_t o = {
	        .role = GP_TLS_CLIENT,
	        .ca = ca[0] ? ca : NULL,
	        .verify = ca[0] ? GP_TLS_VERIFY_ON : GP_TLS_VERIFY_OFF,
	};
	char err[256];
	if (gp_tls_ctx_new(&o, &v->peer_tls, err, sizeof(err)) != GP_OK) {
		gp_log(GP_LOG_WARN, "peer_tls_failed", "peer=%s error=\"%s\"", p->cfg->top_peer,
		       err);
		v->peer_tls = NULL;
		*failed = true;
		return NULL;
	}
	gp_log(ca[0] ? GP_LOG_INFO : GP_LOG_WARN, "peer_tls", "peer=%s verified=%d%s",
	       p->cfg->top_peer, ca[0] != '\0',
	       ca[0] ? "" : " detail=\"no peer_ca: the peer's certificate is not checked\"");
	return v->peer_tls;
}

static void peer_request(gp_proxy_t *p)
{
	gp_vrrp_t *v = p->vrrp;
	bool failed;
	struct gp_tls_ctx *tls = peer_tls(p, &failed);
	if (failed || gp_http_get_tls(p->loop, (const struct sockaddr *)&v->peer, "/status",
	                              GP_PEER_BODY_MAX, tls, peer_on_answer, p, &v->req) != GP_OK)
		peer_answered(p, false, 0, NULL, 0);
}

/* ---- timer, start, stop -------------------------------------------------------- */

static void vrrp_tick(uv_timer_t *t)
{
	gp_proxy_t *p = t->data;
	gp_vrrp_t *v = p->vrrp;
	if (v->vip_present >= 0) {
		int now_present = vrrp_check_vip(v);
		if (now_present != v->vip_present) {
			gp_log(GP_LOG_INFO, "vip_change", "vip=%s present=%d", p->cfg->top_vip,
			       now_present);
			v->vip_present = now_present;
			vrrp_apply(p, "vip");
		}
	}
	if (v->leaving &&
	    (v->effective != GP_VRRP_MASTER || uv_now(p->loop) >= v->leave_deadline)) {
		gp_log(GP_LOG_INFO, "shutdown_vip_left", "state=%s timed_out=%d",
		       gp_vrrp_state_name(v->effective), v->effective == GP_VRRP_MASTER);
		v->leaving = false;
		gp_proxy_stop_now(p);
		return;
	}
	if (v->have_peer && !p->shutting_down)
		peer_poll(p);
}

gp_status_t gp_vrrp_start(gp_proxy_t *p)
{
	gp_vrrp_t *v = p->vrrp;
	const gp_config_t *c = p->cfg;
	v->notified = v->effective = GP_VRRP_UNKNOWN;
	p->vrrp_state = gp_vrrp_state_name(v->effective);
	v->vip_present = -1;
	v->started_at = uv_now(p->loop);
	if (c->top_name[0])
		snprintf(v->name, sizeof(v->name), "%s", c->top_name);
	else if (gethostname(v->name, sizeof(v->name) - 1) != 0)
		snprintf(v->name, sizeof(v->name), "galera-proxy");
	if (c->top_vip[0]) {
		if (uv_ip4_addr(c->top_vip, 0, (struct sockaddr_in *)&v->vip) != 0 &&
		    uv_ip6_addr(c->top_vip, 0, (struct sockaddr_in6 *)&v->vip) != 0)
			return GP_ECONFIG;
		v->vip_present = vrrp_check_vip(v);
		v->effective = vrrp_derive(v);
		p->vrrp_state = gp_vrrp_state_name(v->effective);
		v->fenced = p->fenced = !vrrp_serving(v->effective);
		gp_log(GP_LOG_INFO, "vrrp_state",
		       "from=UNKNOWN to=%s source=start vip=%s present=%d",
		       gp_vrrp_state_name(v->effective), c->top_vip, v->vip_present);
	}
	if (c->top_peer[0]) {
		if (gp_config_split_addr(c->top_peer, v->peer_host, sizeof(v->peer_host),
		                         &v->peer_port) == GP_OK) {
			v->have_peer = true;
			v->peer_resolved = gp_resolve_numeric(v->peer_host, v->peer_port, &v->peer);
			v->peer_is_name = !v->peer_resolved;
		} else {
			gp_log(GP_LOG_WARN, "peer_unusable", "peer=%s detail=\"not HOST:PORT\"",
			       c->top_peer);
		}
	}
	uv_timer_init(p->loop, &v->timer);
	v->timer.data = p;
	v->timer_open = true;
	if (v->vip_present >= 0 || v->have_peer)
		uv_timer_start(&v->timer, vrrp_tick, vrrp_interval(p), vrrp_interval(p));
	if (v->have_peer)
		peer_poll(p); /* the first decision waits for this answer: ask now */
	return GP_OK;
}

void gp_vrrp_stop(gp_proxy_t *p)
{
	gp_vrrp_t *v = p->vrrp;
	if (v->req)
		peer_req_end(p);
	gp_resolve_cancel(v->resolving); /* its answer is dropped when it comes */
	v->resolving = NULL;
	gp_tls_ctx_unref(v->peer_tls);
	v->peer_tls = NULL;
	if (v->timer_open) {
		v->timer_open = false;
		uv_close((uv_handle_t *)&v->timer, NULL);
	}
}

bool gp_vrrp_begin_leave(gp_proxy_t *p)
{
	gp_vrrp_t *v = p->vrrp;
	if (v->leaving)
		return false; /* a second SIGTERM: stop waiting */
	/* Only a proxy that holds the VIP under keepalived has anything to hand over. */
	if (v->effective != GP_VRRP_MASTER || (v->vip_present < 0 && v->notified != GP_VRRP_MASTER))
		return false;
	v->leaving = true;
	v->leave_deadline = uv_now(p->loop) + (uint64_t)p->cfg->routing_fence_timeout_ms;
	if (!uv_is_active((uv_handle_t *)&v->timer))
		uv_timer_start(&v->timer, vrrp_tick, vrrp_interval(p), vrrp_interval(p));
	gp_log(GP_LOG_INFO, "shutdown_wait_vip",
	       "timeout_ms=%lld detail=\"/health reports 503 "
	       "until keepalived moves the VIP\"",
	       (long long)p->cfg->routing_fence_timeout_ms);
	return true;
}
