/* handoff.c - the backend front door: handshake slots, the slot queue and takeovers. */
#include "handoff.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "myp_proxy.h"
#include "router.h"

static void handoff_tick(uv_timer_t *t);

static void handoff_closed(uv_handle_t *h)
{
	free(h->data);
}

gp_handoff_t *gp_handoff_get(gp_proxy_t *p)
{
	if (p->ho)
		return p->ho;
	gp_handoff_t *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->proxy = p;
	h->cfg = p->cfg;
	gp_list_init(&h->parked);
	gp_list_init(&h->queue);
	uv_timer_init(p->loop, &h->timer);
	h->timer.data = h;
	uv_timer_start(&h->timer, handoff_tick, GP_HANDOFF_TICK, GP_HANDOFF_TICK);
	p->ho = h;
	return h;
}

void gp_handoff_kick(gp_proxy_t *p, uint64_t ms)
{
	gp_handoff_t *h = gp_handoff_get(p);
	if (h && uv_timer_get_due_in(&h->timer) > ms)
		uv_timer_start(&h->timer, handoff_tick, ms, GP_HANDOFF_TICK);
}

bool gp_handoff_usable(const gp_proxy_t *p, int b)
{
	return b >= 0 && (size_t)b < p->nbackends && !p->shutting_down &&
	       (gp_router_still_valid(p, GP_EP_RW, b) || gp_router_still_valid(p, GP_EP_RO, b));
}

void gp_handoff_slot_freed(gp_proxy_t *p, int b)
{
	if (b >= 0 && (size_t)b < p->nbackends && p->backends[b].hs_queued)
		gp_handoff_kick(p, 0); /* on the next loop turn: never inside someone's close */
}

static uint64_t handoff_slots(const gp_proxy_t *p)
{
	return (uint64_t)p->cfg->handshake_slots;
}

static bool handoff_may_hand_on(const gp_proxy_t *p)
{
	return p->cfg->handshake_park && gp_config_proxy_protocol(p->cfg) == 0;
}

/* The client of backend b silent longest after its greeting, if long enough to be a victim. */
static gp_session_t *handoff_victim(gp_proxy_t *p, int b, uint64_t now)
{
	gp_list_t *pos;
	uint64_t after = (uint64_t)p->cfg->handshake_takeover_after_ms;
	for (pos = p->sessions[GP_SS_HANDSHAKE].next; pos != &p->sessions[GP_SS_HANDSHAKE];
	     pos = pos->next) {
		gp_session_t *v = gp_container_of(pos, gp_session_t, link);
		if (v->backend != b || !v->slot)
			continue;
		/* The list is in the order clients were greeted: the first is the oldest. */
		return now - v->client_greeted_at >= after ? v : NULL;
	}
	return NULL;
}

/* The backend connection of s can go to another client: greeted, untouched, intact. */
static bool handoff_intact(const gp_session_t *s)
{
	return s->state == GP_SS_HANDSHAKE && !s->no_park && s->greeting && s->server.connected &&
	       !s->server.ended && !s->server.closing && gp_io_buffered(&s->server) == 0 &&
	       s->server.own_pending == 0;
}

/* All slots of b are busy: s takes the slot of victim v (closed as a slowloris). */
static gp_handoff_result_t handoff_takeover(gp_session_t *s, gp_session_t *v, int b, uint64_t now)
{
	gp_proxy_t *p = s->proxy;
	p->backends[b].takeovers++;
	gp_log(GP_LOG_WARN, "handshake_takeover",
	       "backend=%s victim=%u victim_client=%s silent_ms=%llu conn=%u client=%s",
	       p->backends[b].conf->name, v->id, v->client_addr,
	       (unsigned long long)(now - v->client_greeted_at), s->id, s->client_addr);
	int fd = -1;
	uv_os_fd_t ofd;
	if (handoff_may_hand_on(p) && handoff_intact(v) &&
	    uv_fileno((const uv_handle_t *)&v->server.tcp, &ofd) == 0)
		fd = dup(ofd);
	if (fd < 0) {
		/* The victim's connection ends with it (with PROXY protocol: an abort counted
		 * against its own client's address); its slot is s's now. */
		gp_session_close(v, "handshake_takeover");
		s->slot = true;
		p->backends[b].hs_slots++;
		return GP_HO_CONNECT;
	}
	uint8_t greeting[GP_GREETING_MAX];
	uint32_t n = v->greeting_len;
	uint64_t greeted_at = v->greeted_at;
	memcpy(greeting, v->greeting, n);
	v->slot = false; /* the slot moves with the connection */
	v->no_park = true;
	gp_session_close(v, "handshake_takeover");
	s->slot = true;
	if (gp_session_adopt(s, b, fd, greeting, n, greeted_at))
		return GP_HO_ADOPTED;
	return GP_HO_CONNECT; /* the socket could not be taken over: connect afresh */
}

/* Serve b's queue newest first: its oldest has waited past takeover_after_ms. Under a
 * flood of half-open connections the old ones are mostly dead weight, and a fresh client
 * is the likeliest to still be there (an "adaptive LIFO" queue). */
static bool handoff_lifo(const gp_handoff_t *h, uint64_t now)
{
	if (!h || gp_list_empty(&h->queue))
		return false;
	const gp_session_t *head = gp_container_of(h->queue.next, gp_session_t, slot_link);
	return now - head->queued_at >= (uint64_t)h->proxy->cfg->handshake_takeover_after_ms;
}

gp_handoff_result_t gp_handoff_acquire(gp_session_t *s, int b)
{
	gp_proxy_t *p = s->proxy;
	gp_backend_t *be = &p->backends[b];
	gp_handoff_t *h = p->ho;
	uint64_t now = uv_now(p->loop);
	if (s->queued && s->backend != b)
		gp_handoff_unqueue(s);
	if (now >= s->handshake_deadline) {
		gp_handoff_unqueue(s);
		return GP_HO_FULL;
	}
	/* While others wait for b, only the tick hands out b's capacity, in its order; a new
	 * client goes straight for it only when the queue is served newest first anyway. */
	bool wait = h && !h->serving && (s->queued || (be->hs_queued && !handoff_lifo(h, now)));
	if (!wait) {
		gp_handoff_result_t r = GP_HO_QUEUED;
		gp_session_t *v;
		uint64_t slots = handoff_slots(p);
		gp_handoff_unqueue(s);
		if (h && handoff_may_hand_on(p) && gp_park_take(h, s, b)) {
			r = GP_HO_ADOPTED;
		} else if (slots == 0 || be->hs_slots < slots) {
			s->slot = true;
			be->hs_slots++;
			r = GP_HO_CONNECT;
		} else if ((v = handoff_victim(p, b, now)) != NULL) {
			r = handoff_takeover(s, v, b, now);
		}
		if (r != GP_HO_QUEUED)
			return r;
	}
	if (s->queued)
		return GP_HO_QUEUED;
	if (!(h = gp_handoff_get(p)))
		return GP_HO_FULL;
	if (!be->hs_queued)
		gp_log(GP_LOG_WARN, "handshake_slots_full", "backend=%s slots=%lld", be->conf->name,
		       (long long)p->cfg->handshake_slots);
	s->backend = b;
	s->queued = true;
	s->queued_at = now;
	be->hs_queued++;
	gp_list_append(&h->queue, &s->slot_link);
	return GP_HO_QUEUED;
}

void gp_handoff_unqueue(gp_session_t *s)
{
	if (!s->queued)
		return;
	gp_proxy_t *p = s->proxy;
	gp_list_del(&s->slot_link);
	s->queued = false;
	if (s->backend >= 0 && (size_t)s->backend < p->nbackends &&
	    p->backends[s->backend].hs_queued)
		p->backends[s->backend].hs_queued--;
}

void gp_handoff_release(gp_session_t *s)
{
	if (!s->slot)
		return;
	gp_proxy_t *p = s->proxy;
	s->slot = false;
	if (s->backend >= 0 && (size_t)s->backend < p->nbackends) {
		if (p->backends[s->backend].hs_slots)
			p->backends[s->backend].hs_slots--;
		gp_handoff_slot_freed(p, s->backend);
	}
}

void gp_handoff_greeted(gp_session_t *s, const uint8_t *pkt, uint32_t n)
{
	uint64_t now = uv_now(s->proxy->loop);
	if (!s->greeted_at)
		s->greeted_at = now; /* a handed-over connection keeps the time it greeted */
	s->client_greeted_at = now;
	if (s->greeting || n > GP_GREETING_MAX || !handoff_may_hand_on(s->proxy))
		return;
	s->greeting = malloc(n);
	if (!s->greeting)
		return; /* not parkable then: nothing else changes */
	memcpy(s->greeting, pkt, n);
	s->greeting_len = n;
}

uint64_t gp_handoff_answer_ms(const gp_session_t *s)
{
	uint64_t now = uv_now(s->proxy->loop);
	uint64_t end = s->handshake_deadline;
	/* The server waits connect_timeout for the answer: the client must answer well within
	 * it, so that a connection it leaves can still be parked or finished cleanly. */
	uint64_t answer = s->greeted_at + (uint64_t)s->proxy->cfg->handshake_greeting_timeout_ms;
	if (s->greeted_at && answer < end)
		end = answer;
	return end > now ? end - now : 0;
}

void gp_handoff_closing(gp_session_t *s)
{
	gp_proxy_t *p = s->proxy;
	gp_handoff_unqueue(s);
	if (s->slot && handoff_may_hand_on(p) && handoff_intact(s)) {
		gp_handoff_t *h = gp_handoff_get(p);
		if (h)
			gp_park_put(h, s); /* takes the slot along when it takes the connection */
	}
	gp_handoff_release(s);
	free(s->greeting);
	s->greeting = NULL;
}

void gp_handoff_connected(gp_session_t *s)
{
	int v = gp_config_proxy_protocol(s->proxy->cfg);
	if (v == 0)
		return;
	struct sockaddr_storage src, dst;
	int slen = sizeof(src), dlen = sizeof(dst);
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	/* On failure the family stays AF_UNSPEC: v1 says UNKNOWN, v2 LOCAL. */
	if (uv_tcp_getpeername(&s->client.tcp, (struct sockaddr *)&src, &slen) != 0 ||
	    uv_tcp_getsockname(&s->client.tcp, (struct sockaddr *)&dst, &dlen) != 0)
		src.ss_family = dst.ss_family = AF_UNSPEC;
	uint8_t buf[MYP_PROXY_MAX];
	myp_wbuf_t w;
	myp_wbuf_init(&w, buf, sizeof(buf));
	myp_proxy_header_build(&w, v == 1 ? MYP_PROXY_V1 : MYP_PROXY_V2, (struct sockaddr *)&src,
	                       (struct sockaddr *)&dst);
	if (w.failed || gp_io_send(&s->server, buf, w.len) != GP_OK)
		gp_log(GP_LOG_WARN, "proxy_header_failed", "conn=%u client=%s", s->id,
		       s->client_addr);
}

/* ---- the tick ------------------------------------------------------------------------- */

/* Queued sessions of backends that can serve one now go routing again (handoff_lifo says
 * in which order). */
static void handoff_serve_queue(gp_handoff_t *h, uint64_t now)
{
	gp_proxy_t *p = h->proxy;
	if (gp_list_empty(&h->queue))
		return;
	bool lifo = handoff_lifo(h, now);
	uint64_t slots = handoff_slots(p);
	bool tried[GP_MAX_BACKENDS] = {false}; /* backends found with nothing to give */
	size_t n = 0, max = 0;
	gp_list_t *pos;
	for (pos = h->queue.next; pos != &h->queue; pos = pos->next)
		max++;
	/* Waking a session unqueues it if it gets something (routed to another backend it may
	 * queue again at the tail: max bounds the walk); nothing else in the queue changes. */
	pos = lifo ? h->queue.prev : h->queue.next;
	while (n++ < max && pos != &h->queue) {
		gp_list_t *next = lifo ? pos->prev : pos->next;
		gp_session_t *s = gp_container_of(pos, gp_session_t, slot_link);
		int b = s->backend;
		bool can = b < 0 || (size_t)b >= p->nbackends || now >= s->handshake_deadline;
		if (!can && !tried[b])
			can = slots == 0 || p->backends[b].hs_slots < slots ||
			      gp_park_available(h, b) || handoff_victim(p, b, now);
		if (!can) {
			tried[b] = true;
			pos = next;
			continue;
		}
		h->serving = true;
		gp_session_wake(s); /* routes again: a slot, a parked greeting or a takeover */
		h->serving = false;
		pos = next;
	}
}

static void handoff_tick(uv_timer_t *t)
{
	gp_handoff_t *h = t->data;
	gp_proxy_t *p = h->proxy;
	uint64_t now = uv_now(p->loop);
	gp_park_tick(h, now);
	handoff_serve_queue(h, now);
	if (gp_list_empty(&h->parked) && gp_list_empty(&h->queue)) {
		/* Nothing to look after: the struct goes with its timer, made again on demand. */
		p->ho = NULL;
		uv_timer_stop(&h->timer);
		uv_close((uv_handle_t *)&h->timer, handoff_closed);
	}
}
