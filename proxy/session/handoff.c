/* handoff.c - the backend front door: handshake slots, deferred greetings, the slot queue. */
#include "session/handoff.h"

#include "codec/myp_login.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/log.h"
#include "codec/myp_proxy.h"
#include "session/router.h"
#include "session/session.h"

static void handoff_tick(uv_timer_t *t);
static bool handoff_defer_greet(gp_session_t *s, int b);
static bool handoff_defer_ready(const gp_proxy_t *p, int b);
static void handoff_defer_remember(gp_proxy_t *p, int b, const uint8_t *pkt, uint32_t n);

bool gp_handoff_init(gp_session_t *s)
{
	s->hs = calloc(1, sizeof(*s->hs));
	if (!s->hs)
		return false;
	s->hs->session = s;
	gp_list_init(&s->hs->slot_link);
	return true;
}

/* The client's handshake response goes: it holds its proof of the password. */
static void handoff_drop_response(gp_handshake_t *hs)
{
	if (hs->defer_resp)
		explicit_bzero(hs->defer_resp, hs->defer_resp_len);
	free(hs->defer_resp);
	hs->defer_resp = NULL;
	hs->defer_resp_len = 0;
}

void gp_handoff_forget(gp_session_t *s)
{
	if (!s->hs)
		return;
	gp_handoff_unqueue(s);
	handoff_drop_response(s->hs);
	free(s->hs->greeting);
	free(s->hs);
	s->hs = NULL;
}

void gp_handoff_done(gp_session_t *s)
{
	gp_handoff_release(s);
	gp_handoff_forget(s);
}

bool gp_handoff_holds_response(const gp_session_t *s)
{
	return s->hs && s->hs->defer_resp != NULL;
}

void gp_handoff_retry(gp_session_t *s)
{
	if (!s->hs)
		return;
	gp_handoff_release(s);
	s->hs->greeted_at = 0;
}

void gp_handoff_adopting(gp_session_t *s, uint64_t greeted_at)
{
	if (s->hs)
		s->hs->greeted_at = greeted_at;
}

static void handoff_closed(uv_handle_t *h)
{
	free(h->data);
}

static gp_handoff_t *handoff_get(gp_proxy_t *p)
{
	if (p->ho)
		return p->ho;
	gp_handoff_t *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->proxy = p;
	gp_park_init(&h->park, p);
	gp_list_init(&h->queue);
	uv_timer_init(p->loop, &h->timer);
	h->timer.data = h;
	uv_timer_start(&h->timer, handoff_tick, GP_HANDOFF_TICK, GP_HANDOFF_TICK);
	p->ho = h;
	return h;
}

static void handoff_kick(gp_proxy_t *p, uint64_t ms)
{
	gp_handoff_t *h = handoff_get(p);
	if (h && uv_timer_get_due_in(&h->timer) > ms)
		uv_timer_start(&h->timer, handoff_tick, ms, GP_HANDOFF_TICK);
}

bool gp_handoff_usable(const gp_proxy_t *p, int b)
{
	return b >= 0 && (size_t)b < p->nbackends && !p->shutting_down &&
	       (gp_router_still_valid(p, GP_EP_RW, b) || gp_router_still_valid(p, GP_EP_RO, b));
}

void gp_handoff_client_arrived(gp_proxy_t *p)
{
	p->last_accept_ms = uv_now(p->loop);
	if (p->cfg->handshake_warm > 0 && !p->ho && !p->shutting_down)
		handoff_kick(p, 0); /* the tick fetches greetings for the clients to come */
}

void gp_handoff_slot_freed(gp_proxy_t *p, int b)
{
	if (b >= 0 && (size_t)b < p->nbackends && p->backends[b].hs_queued)
		handoff_kick(p, 0); /* on the next loop turn: never inside someone's close */
}

static uint64_t handoff_slots(const gp_proxy_t *p)
{
	return (uint64_t)p->cfg->handshake_slots;
}

static bool handoff_may_hand_on(const gp_proxy_t *p)
{
	return p->cfg->handshake_park && gp_config_proxy_protocol(p->cfg) == 0;
}

/* The backend connection of s can go to another client: greeted, untouched, intact (and in
 * clear: a TLS leg's state lives in this session's io, which park cannot take over). */
static bool handoff_intact(const gp_session_t *s)
{
	return s->state == GP_SS_HANDSHAKE && !s->hs->no_park && s->hs->greeting &&
	       !gp_io_tls(&s->server) && s->server.connected && !s->server.ended &&
	       !s->server.closing && gp_io_buffered(&s->server) == 0 && s->server.own_pending == 0;
}

/* Hand s a parked connection of backend b (its slot goes along); false if none. */
static bool handoff_adopt(gp_handoff_t *h, gp_session_t *s, int b)
{
	gp_park_handout_t out;
	if (!gp_park_take(&h->park, b, &out))
		return false;
	s->hs->slot = true;
	gp_log(GP_LOG_DEBUG, "greeting_reused",
	       "backend=%s conn=%u client=" GP_CLIENT_FMT " age_ms=%llu",
	       h->proxy->backends[b].conf->name, s->id, GP_CLIENT_ARGS(s),
	       (unsigned long long)(uv_now(h->proxy->loop) - out.greeted_at));
	if (gp_session_adopt(s, b, out.fd, out.greeting, out.greeting_len, out.greeted_at)) {
		gp_park_warm(&h->park); /* one more greeting ahead, for the next client */
		return true;
	}
	/* Lost on the way (cannot happen short of running out of descriptors). */
	s->hs->slot = false;
	if (h->proxy->backends[b].hs_slots)
		h->proxy->backends[b].hs_slots--;
	return false;
}

gp_handoff_result_t gp_handoff_acquire(gp_session_t *s, int b)
{
	if (!s->hs)
		return GP_HO_FULL; /* logged in: no handshake to give a slot to */
	gp_proxy_t *p = s->proxy;
	gp_backend_t *be = &p->backends[b];
	gp_handoff_t *h = p->ho;
	uint64_t now = uv_now(p->loop);
	if (s->hs->queued && s->backend != b)
		gp_handoff_unqueue(s);
	if (now >= s->handshake_deadline) {
		gp_handoff_unqueue(s);
		return GP_HO_FULL;
	}
	/* While others wait for b, only the tick hands out b's capacity, in its order. */
	bool wait = h && !h->serving && !s->hs->deferred && (s->hs->queued || be->hs_queued);
	if (!wait) {
		gp_handoff_result_t r = GP_HO_QUEUED;
		uint64_t slots = handoff_slots(p);
		gp_handoff_unqueue(s);
		if (h && handoff_may_hand_on(p) && handoff_adopt(h, s, b)) {
			r = GP_HO_ADOPTED;
		} else if (slots == 0 || be->hs_slots < slots) {
			s->hs->slot = true;
			be->hs_slots++;
			r = GP_HO_CONNECT;
		} else if (s->hs->deferred) {
			r = GP_HO_CONNECT; /* it answered: proven, it may exceed the slots */
		} else if (handoff_defer_greet(s, b)) {
			r = GP_HO_DEFERRED;
		}
		if (r != GP_HO_QUEUED)
			return r;
	}
	if (s->hs->queued)
		return GP_HO_QUEUED;
	if (!(h = handoff_get(p)))
		return GP_HO_FULL;
	if (!be->hs_queued)
		gp_log(GP_LOG_WARN, "handshake_slots_full", "backend=%s slots=%lld", be->conf->name,
		       (long long)p->cfg->handshake_slots);
	s->backend = b;
	s->hs->queued = true;
	s->hs->queued_at = now;
	be->hs_queued++;
	gp_list_append(&h->queue, &s->hs->slot_link);
	return GP_HO_QUEUED;
}

void gp_handoff_unqueue(gp_session_t *s)
{
	if (!s->hs || !s->hs->queued)
		return;
	gp_proxy_t *p = s->proxy;
	gp_list_del(&s->hs->slot_link);
	s->hs->queued = false;
	if (s->backend >= 0 && (size_t)s->backend < p->nbackends &&
	    p->backends[s->backend].hs_queued)
		p->backends[s->backend].hs_queued--;
}

void gp_handoff_release(gp_session_t *s)
{
	if (!s->hs || !s->hs->slot)
		return;
	gp_proxy_t *p = s->proxy;
	s->hs->slot = false;
	if (s->backend >= 0 && (size_t)s->backend < p->nbackends) {
		if (p->backends[s->backend].hs_slots)
			p->backends[s->backend].hs_slots--;
		gp_handoff_slot_freed(p, s->backend);
	}
}

void gp_handoff_greeted(gp_session_t *s, const uint8_t *pkt, uint32_t n)
{
	if (!s->hs)
		return;
	uint64_t now = uv_now(s->proxy->loop);
	handoff_defer_remember(s->proxy, s->backend, pkt, n);
	if (!s->hs->greeted_at)
		s->hs->greeted_at = now; /* a handed-over connection keeps the time it greeted */
	s->hs->client_greeted_at = now;
	if (s->hs->greeting || n > GP_GREETING_MAX || !handoff_may_hand_on(s->proxy))
		return;
	s->hs->greeting = malloc(n);
	if (!s->hs->greeting)
		return; /* not parkable then: nothing else changes */
	memcpy(s->hs->greeting, pkt, n);
	s->hs->greeting_len = n;
}

uint64_t gp_handoff_answer_ms(const gp_session_t *s)
{
	uint64_t now = uv_now(s->proxy->loop);
	uint64_t end = s->handshake_deadline;
	/* The server waits connect_timeout for the answer: the client must answer well within
	 * it, so that a connection it leaves can still be parked or finished cleanly. */
	uint64_t greeted = s->hs ? s->hs->greeted_at : 0;
	uint64_t answer = greeted + (uint64_t)s->proxy->cfg->handshake_greeting_timeout_ms;
	if (greeted && answer < end)
		end = answer;
	return end > now ? end - now : 0;
}

/* What park needs of closing s's backend connection. */
static gp_park_from_t handoff_from(gp_session_t *s)
{
	return (gp_park_from_t){
	        .io = &s->server,
	        .backend = s->backend,
	        .conn = s->id,
	        .client = gp_core_host(&s->core),
	        .client_port = s->client_port,
	        .reason = gp_close_name(s->close_reason),
	        .greeting = s->hs->greeting,
	        .greeting_len = s->hs->greeting_len,
	        .greeted_at = s->hs->greeted_at,
	        .answer_len = s->hs->defer_answer_len,
	        .switched = gp_core_client_turn(&s->core),
	        .server_seq = gp_core_server_seq(&s->core),
	};
}

/* A deferred login's client left at the server's auth switch: park refuses it. */
static void handoff_refuse(gp_handoff_t *h, gp_session_t *s)
{
	gp_park_from_t from = handoff_from(s);
	if (!gp_park_refuse(&h->park, &from))
		return;
	/* Until its ERR it is an unauthenticated connection of the backend: it holds a slot. */
	if (s->hs->slot)
		s->hs->slot = false;
	else
		h->proxy->backends[s->backend].hs_slots++;
}

void gp_handoff_closing(gp_session_t *s)
{
	if (!s->hs)
		return; /* logged in: nothing of the handshake is left */
	gp_proxy_t *p = s->proxy;
	gp_handoff_unqueue(s);
	if (s->hs->defer_resp && s->state == GP_SS_AUTH && gp_core_in_flight(&s->core) &&
	    !gp_io_tls(&s->server) && s->server.connected && !s->server.ended &&
	    !s->server.closing && gp_io_flushed(&s->server)) {
		/* The server has the rewritten response (all of it in the socket) and waits for
		 * its plugin's round trip: a vanished client would be an aborted connect. Refuse
		 * it instead. */
		gp_handoff_t *h = handoff_get(p);
		if (h)
			handoff_refuse(h, s);
	}
	handoff_drop_response(s->hs);
	if (s->hs->slot && handoff_may_hand_on(p) && handoff_intact(s)) {
		gp_park_from_t from = handoff_from(s);
		gp_handoff_t *h = handoff_get(p);
		if (h && gp_park_put(&h->park, &from)) /* takes the slot along with it */
			s->hs->slot = false;
	}
	gp_handoff_release(s);
	free(s->hs->greeting);
	s->hs->greeting = NULL;
}

void gp_handoff_connected(gp_session_t *s)
{
	int v = gp_config_proxy_protocol(s->proxy->cfg);
	if (v == 0)
		return;
	struct sockaddr_storage src, dst;
	/* On failure the family stays AF_UNSPEC: v1 says UNKNOWN, v2 LOCAL. */
	if (gp_io_addr(&s->client, false, &src) != GP_OK ||
	    gp_io_addr(&s->client, true, &dst) != GP_OK)
		src.ss_family = dst.ss_family = AF_UNSPEC;
	uint8_t buf[MYP_PROXY_MAX];
	myp_wbuf_t w;
	myp_wbuf_init(&w, buf, sizeof(buf));
	myp_proxy_header_build(&w, v == 1 ? MYP_PROXY_V1 : MYP_PROXY_V2, (struct sockaddr *)&src,
	                       (struct sockaddr *)&dst);
	if (w.failed || gp_io_send(&s->server, buf, w.len) != GP_OK)
		gp_log(GP_LOG_WARN, "proxy_header_failed", "conn=%u client=" GP_CLIENT_FMT, s->id,
		       GP_CLIENT_ARGS(s));
}

/* ---- the tick ------------------------------------------------------------------------- */

/* Queued sessions of backends that can serve one now go routing again, oldest first. */
static void handoff_serve_queue(gp_handoff_t *h, uint64_t now)
{
	gp_proxy_t *p = h->proxy;
	if (gp_list_empty(&h->queue))
		return;
	uint64_t slots = handoff_slots(p);
	bool tried[GP_MAX_BACKENDS] = {false}; /* backends found with nothing to give */
	size_t n = 0, max = 0;
	gp_list_t *pos;
	for (pos = h->queue.next; pos != &h->queue; pos = pos->next)
		max++;
	/* Waking a session unqueues it if it gets something (routed to another backend it may
	 * queue again at the tail: max bounds the walk); nothing else in the queue changes. */
	pos = h->queue.next;
	while (n++ < max && pos != &h->queue) {
		gp_list_t *next = pos->next;
		gp_session_t *s = gp_container_of(pos, gp_handshake_t, slot_link)->session;
		int b = s->backend;
		bool can = b < 0 || (size_t)b >= p->nbackends || now >= s->handshake_deadline;
		if (!can && !tried[b])
			can = slots == 0 || p->backends[b].hs_slots < slots ||
			      gp_park_available(&h->park, b) || handoff_defer_ready(p, b);
		if (!can) {
			tried[b] = true;
			pos = next;
			continue;
		}
		h->serving = true;
		gp_session_wake(s); /* routes again: a slot, a parked greeting or a deferred one */
		h->serving = false;
		pos = next;
	}
}

static void handoff_tick(uv_timer_t *t)
{
	gp_handoff_t *h = t->data;
	gp_proxy_t *p = h->proxy;
	uint64_t now = uv_now(p->loop);
	gp_park_tick(&h->park, now);
	handoff_serve_queue(h, now);
	if (gp_park_empty(&h->park) && gp_list_empty(&h->queue)) {
		/* Nothing to look after: the struct goes with its timer, made again on demand. */
		p->ho = NULL;
		uv_timer_stop(&h->timer);
		uv_close((uv_handle_t *)&h->timer, handoff_closed);
	}
}

/* ---- deferred greetings ------------------------------------------------------------------ */

#define GP_DEFER_PLUGIN               "galera_proxy_deferred" /* no server has it: it must switch */
#define GP_ER_NOT_SUPPORTED_AUTH_MODE 1251
#define GP_NONCE_LEN                  20

static const char defer_native[] = "mysql_native_password";

/* What a deferred login relays of a server's capabilities: the relayable ones, and always
 * plugin auth with a 20-byte scramble (the deferred greeting and its auth switch need them). */
static uint64_t defer_caps(uint64_t server_caps)
{
	return (server_caps & ~(uint64_t)GP_CAPS_UNRELAYABLE) | MYP_CLIENT_PLUGIN_AUTH |
	       MYP_CLIENT_SECURE_CONNECTION;
}

/* Remember b's greeting (pkt: header + payload): clients are greeted from the last one while
 * b's slots are full. It lives in gp_backend_t, so a reload carries it with the backend. */
static void handoff_defer_remember(gp_proxy_t *p, int b, const uint8_t *pkt, uint32_t n)
{
	if (b < 0 || (size_t)b >= p->nbackends || n <= MYP_HEADER_LEN ||
	    n - MYP_HEADER_LEN > GP_GREETING_MAX)
		return;
	gp_backend_t *be = &p->backends[b];
	be->greeting_len = n - MYP_HEADER_LEN;
	memcpy(be->greeting, pkt + MYP_HEADER_LEN, be->greeting_len);
}

/* Clients of b can be greeted from a cached greeting. */
static bool handoff_defer_ready(const gp_proxy_t *p, int b)
{
	return p->cfg->handshake_defer && b >= 0 && (size_t)b < p->nbackends &&
	       p->backends[b].greeting_len;
}

/* Greet s from b's last greeting, without a backend connection; false if none is known. */
static bool handoff_defer_greet(gp_session_t *s, int b)
{
	gp_proxy_t *p = s->proxy;
	myp_greeting_t g;
	uint8_t nonce[GP_NONCE_LEN], buf[GP_GREETING_MAX + 64];
	if (!handoff_defer_ready(p, b) ||
	    myp_greeting_parse(p->backends[b].greeting, p->backends[b].greeting_len, &g) != MYP_OK)
		return false;
	if (getrandom(nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce))
		return false;
	for (size_t i = 0; i < sizeof(nonce); i++)
		nonce[i] =
		        (uint8_t)(nonce[i] % 94 + 33); /* printable and NUL-free, as servers do */
	myp_wbuf_t w;
	myp_wbuf_init(&w, buf, sizeof(buf));
	/* Compression is the proxy's own to offer, as in a relayed greeting (core.c). */
	bool z = p->cfg->handshake_client_compression && (g.caps & MYP_CLIENT_COMPRESS);
	/* So is TLS (client_tls.c): the client's leg ends in the proxy's I/O engine. */
	uint64_t keep = (z ? (uint64_t)MYP_CLIENT_COMPRESS : 0) | (p->tls ? MYP_CLIENT_SSL : 0);
	if (p->tls)
		g.caps |= MYP_CLIENT_SSL;
	myp_greeting_reissue(&w, &g, gp_session_conn_id(s), nonce, sizeof(nonce), defer_native,
	                     GP_CAPS_UNRELAYABLE & ~keep);
	if (w.failed || gp_io_send(&s->client, buf, w.len) != GP_OK)
		return false;
	p->backends[b].deferred++;
	s->hs->deferred = true;
	gp_core_defer(&s->core);
	gp_core_compress_offered(&s->core, z);
	s->backend = b; /* where it will most likely go (logs); it has not joined it */
	s->hs->defer_caps = defer_caps(g.caps);
	s->hs->client_greeted_at = uv_now(p->loop);
	gp_log(GP_LOG_DEBUG, "greeting_deferred", "backend=%s conn=%u client=" GP_CLIENT_FMT,
	       p->backends[b].conf->name, s->id, GP_CLIENT_ARGS(s));
	return true;
}

bool gp_handoff_defer_answered(gp_session_t *s, const gp_pkt_t *pkt, const myp_hsresp_t *r)
{
	const uint64_t need =
	        MYP_CLIENT_PROTOCOL_41 | MYP_CLIENT_SECURE_CONNECTION | MYP_CLIENT_PLUGIN_AUTH;
	if ((r->caps & need) != need) {
		/* It could not follow the auth switch that brings the server's real nonce. */
		gp_log(GP_LOG_INFO, "defer_refused", "conn=%u client=" GP_CLIENT_FMT " caps=0x%llx",
		       s->id, GP_CLIENT_ARGS(s), (unsigned long long)r->caps);
		gp_session_fail(s, (uint8_t)(pkt->seq + 1), GP_ER_NOT_SUPPORTED_AUTH_MODE, "08004",
		                "Client does not support authentication protocol requested by "
		                "server; consider upgrading MariaDB client",
		                GP_CLOSE_AUTH_UNSUPPORTED);
		return false;
	}
	if (!s->hs) {
		gp_session_close(s, GP_CLOSE_PROTOCOL_ERROR);
		return false;
	}
	handoff_drop_response(s->hs);
	s->hs->defer_resp = malloc(pkt->n);
	if (!s->hs->defer_resp) {
		gp_session_close(s, GP_CLOSE_OUT_OF_MEMORY);
		return false;
	}
	memcpy(s->hs->defer_resp, pkt->p, pkt->n);
	s->hs->defer_resp_len = pkt->n;
	return true;
}

gp_status_t gp_handoff_defer_respond(gp_session_t *s, uint8_t seq, const myp_greeting_t *g,
                                     uint64_t *caps)
{
	myp_hsresp_t r;
	if (!s->hs || !s->hs->defer_resp ||
	    myp_hsresp_parse(s->hs->defer_resp, s->hs->defer_resp_len, &r) != MYP_OK)
		return GP_EPROTO;
	uint64_t real = defer_caps(g->caps);
	uint64_t agreed = r.caps & s->hs->defer_caps & ~(uint64_t)GP_CAPS_UNRELAYABLE;
	if (agreed & ~real) {
		/* The client took up something this server does not offer (an upgrade between
		 * the cached greeting and now): relaying on would garble the stream. */
		gp_log(GP_LOG_WARN, "defer_caps_changed",
		       "conn=%u client=" GP_CLIENT_FMT " missing=0x%llx", s->id, GP_CLIENT_ARGS(s),
		       (unsigned long long)(agreed & ~real));
		return GP_EPROTO;
	}
	uint64_t server_caps = g->caps & ~(uint64_t)GP_CAPS_UNRELAYABLE;
	*caps = ((r.caps & ~(uint64_t)GP_CAPS_UNRELAYABLE) & server_caps) |
	        (r.caps & MYP_CLIENT_PROTOCOL_41);
	/* The server tracks the session's state for the proxy (session/state.h); the core
	 * takes it back out of what the client reads. The stored response asks for it, so
	 * the SSL request and the response sent later agree. */
	if ((server_caps & MYP_CLIENT_SESSION_TRACK) && !(*caps & MYP_CLIENT_SESSION_TRACK) &&
	    myp_hsresp_add_caps(s->hs->defer_resp, s->hs->defer_resp_len,
	                        MYP_CLIENT_SESSION_TRACK) == MYP_OK) {
		*caps |= MYP_CLIENT_SESSION_TRACK;
		r.caps |= MYP_CLIENT_SESSION_TRACK;
	}
	if (s->core.backend_tls) {
		/* TLS first (backend_tls.c): the response follows from gp_session_btls_ready. */
		uint8_t req[MYP_HEADER_LEN + 32];
		myp_wbuf_t w;
		myp_wbuf_init(&w, req, sizeof(req));
		myp_ssl_request_build(
		        &w, seq, (r.caps & ~(uint64_t)GP_CAPS_UNRELAYABLE) | MYP_CLIENT_PLUGIN_AUTH,
		        r.max_packet, r.charset);
		return w.failed ? GP_ETOOBIG : gp_session_btls_connect(s, req, w.len);
	}
	return gp_handoff_defer_send(s, seq);
}

gp_status_t gp_handoff_defer_send(gp_session_t *s, uint8_t seq)
{
	myp_hsresp_t r;
	if (!s->hs || !s->hs->defer_resp ||
	    myp_hsresp_parse(s->hs->defer_resp, s->hs->defer_resp_len, &r) != MYP_OK)
		return GP_EPROTO;
	uint64_t clear = GP_CAPS_UNRELAYABLE;
	if (gp_io_tls(&s->server)) { /* as in the SSL request the server saw */
		clear &= ~(uint64_t)MYP_CLIENT_SSL;
		r.caps |= MYP_CLIENT_SSL;
	}
	uint8_t buf[1024];
	myp_wbuf_t w;
	myp_wbuf_init(&w, buf, sizeof(buf));
	myp_hsresp_defer_build(&w, seq, &r, GP_DEFER_PLUGIN, clear);
	gp_status_t st = w.failed ? GP_ETOOBIG : gp_io_send(&s->server, buf, w.len);
	explicit_bzero(buf, sizeof(buf)); /* the client's proof of the password */
	return st;
}

void gp_handoff_defer_server(gp_session_t *s, const gp_pkt_t *pkt)
{
	myp_authswitch_t sw;
	if (!s->hs || !s->hs->defer_resp || pkt->n == 0 || pkt->p[0] != 0xFE)
		return;
	if (myp_authswitch_parse(pkt->p, pkt->n, &sw) != MYP_OK)
		return;
	s->hs->defer_answer_len = gp_park_wrong_len(&sw);
}
