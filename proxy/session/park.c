/* park.c - parked backend connections: greeted, unanswered, kept for the next client. */
#include "session/park.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/tls.h"
#include "session/auth.h"
#include "session/handoff.h"
#include "base/log.h"

typedef enum gp_park_state {
	GP_PARK_IDLE,   /* waiting for a client */
	GP_PARK_LOGIN,  /* finishing: the monitor's handshake response sent */
	GP_PARK_QUIT,   /* logged in, COM_QUIT on its way, closing */
	GP_PARK_GONE,   /* closing without a word (the server already spoke or left) */
	GP_PARK_REFUSE, /* a deferred login its client left: answered wrongly, awaiting the ERR */
	GP_PARK_WARMING /* handshake.warm: connecting, or waiting for the server's greeting */
} gp_park_state_t;

typedef struct gp_parked {
	gp_list_t link;            /* in handoff->parked, oldest first */
	gp_io_t io;                /* the backend connection */
	gp_park_t *h;              /* owner */
	int backend;               /* index in proxy->backends, -1: a reload removed it */
	char name[GP_NAME_MAX];    /* backend name (logs; reloads find it again by it) */
	char address[GP_ADDR_MAX]; /* and by its address */
	gp_park_state_t state;     /* where it is */
	uint64_t greeted_at;       /* loop ms the server greeted (its connect_timeout runs) */
	uint64_t deadline;         /* LOGIN/QUIT: give up at this loop ms */
	uint32_t greeting_len;     /* bytes in greeting */
	uint8_t answer_len;        /* REFUSE: bytes of a wrong answer to an auth switch */
	uint8_t greeting[GP_GREETING_MAX]; /* the greeting as the server sent it, header included */
} gp_parked_t;

static const gp_io_proto_t park_proto;
static void park_warm_failed(gp_parked_t *e);

static const char *const park_state_names[] = {"idle", "login",  "quit",
                                               "gone", "refuse", "warming"};

/* A reload replaced the configuration since the entries' backend indexes were taken. */
static bool park_reloaded(const gp_park_t *h)
{
	return h->cfg_gen != gp_config_generation(h->proxy->cfg);
}

static gp_backend_t *park_backend(const gp_parked_t *e)
{
	gp_proxy_t *p = e->h->proxy;
	return e->backend >= 0 && (size_t)e->backend < p->nbackends ? &p->backends[e->backend]
	                                                            : NULL;
}

static void park_event(gp_parked_t *e, gp_park_event_t ev)
{
	gp_backend_t *b = park_backend(e);
	if (b)
		b->park_events[ev]++;
}

/* The one place an entry changes state; keeps the backend's parked gauge in step. */
static void park_set_state(gp_parked_t *e, gp_park_state_t to)
{
	gp_backend_t *b = park_backend(e);
	if (b && e->state == GP_PARK_IDLE && to != GP_PARK_IDLE && b->parked)
		b->parked--;
	else if (b && e->state != GP_PARK_IDLE && to == GP_PARK_IDLE)
		b->parked++;
	gp_log(GP_LOG_DEBUG, "park_state", "backend=%s from=%s to=%s", e->name,
	       park_state_names[e->state], park_state_names[to]);
	e->state = to;
}

/* Close without another word; what the server counts is past helping. */
static void park_drop(gp_parked_t *e, const char *why)
{
	if (e->io.closing)
		return;
	gp_log(GP_LOG_INFO, "park_dropped", "backend=%s state=%s reason=%s", e->name,
	       park_state_names[e->state], why);
	park_event(e, GP_PARK_EV_DROPPED);
	park_set_state(e, GP_PARK_GONE);
	gp_io_close(&e->io, false);
}

/* Logged in after all: say goodbye with COM_QUIT, so the server counts no abort, and close. */
static void park_quit(gp_parked_t *e)
{
	uint8_t buf[MYP_HEADER_LEN + 1];
	myp_wbuf_t w;
	myp_wbuf_init(&w, buf, sizeof(buf));
	myp_cmd_build(&w, MYP_COM_QUIT);
	park_set_state(e, GP_PARK_QUIT);
	gp_io_close(&e->io, !w.failed && gp_io_send(&e->io, buf, w.len) == GP_OK);
}

/* Send the monitor's native-password answer to scramble (seq given): the whole login when
 * answering greeting g, else the bare answer to an auth switch. */
static gp_status_t park_send_auth(gp_parked_t *e, uint8_t seq, const uint8_t *scramble, size_t slen,
                                  const myp_greeting_t *g)
{
	const gp_config_t *c = e->h->proxy->cfg;
	uint8_t auth[MYP_NATIVE_AUTH_LEN], buf[512];
	size_t alen = c->monitor_password[0] ? sizeof(auth) : 0;
	if (alen)
		gp_auth_native_scramble(c->monitor_password, scramble, slen, auth);
	myp_wbuf_t w;
	myp_wbuf_init(&w, buf, sizeof(buf));
	if (g)
		myp_native_login_build(&w, seq, g, c->monitor_user, strlen(c->monitor_user), auth,
		                       alen);
	else
		myp_auth_data_build(&w, seq, auth, alen);
	explicit_bzero(auth, sizeof(auth));
	if (g && gp_io_tls(&e->io) && !w.failed) /* as in the SSL request the server saw */
		myp_hsresp_set_caps(buf + MYP_HEADER_LEN, w.len - MYP_HEADER_LEN, MYP_CLIENT_SSL);
	gp_status_t st = w.failed ? GP_ETOOBIG : gp_io_send(&e->io, buf, w.len);
	explicit_bzero(buf, sizeof(buf));
	return st;
}

/* Finish cleanly: log in with the monitor account, then COM_QUIT. A login that ends well
 * is no aborted connect, and it resets the host's error count on the server. */
/* e's greeting is one the monitor can log in from (parsed into g). */
static bool park_greeting(const gp_parked_t *e, myp_greeting_t *g)
{
	return e->greeting_len > MYP_HEADER_LEN &&
	       myp_greeting_parse(e->greeting + MYP_HEADER_LEN, e->greeting_len - MYP_HEADER_LEN,
	                          g) == MYP_OK &&
	       (g->caps & MYP_CLIENT_PROTOCOL_41);
}

/* tls.backend: the monitor's login goes inside TLS, as the monitor's own connections do.
 * An SSL request (seq 1) with the caps of that login, then the handshake; park_tls_ready
 * sends the login (seq 2). */
static gp_status_t park_start_tls(gp_parked_t *e, const myp_greeting_t *g)
{
	gp_backend_t *b = park_backend(e);
	uint8_t req[MYP_HEADER_LEN + 32];
	myp_wbuf_t w;
	if (!b)
		return GP_EINVAL; /* a reload removed its backend: no name to check */
	myp_wbuf_init(&w, req, sizeof(req));
	myp_ssl_request_build(&w, 1,
	                      g->caps & (MYP_CLIENT_LONG_PASSWORD | MYP_CLIENT_PROTOCOL_41 |
	                                 MYP_CLIENT_SECURE_CONNECTION | MYP_CLIENT_PLUGIN_AUTH |
	                                 MYP_CLIENT_TRANSACTIONS),
	                      1u << 24, g->charset);
	gp_status_t st = w.failed ? GP_ETOOBIG : gp_io_send(&e->io, req, w.len);
	if (st == GP_OK)
		st = gp_io_connect_tls(&e->io, e->h->proxy->btls, b->conf->host);
	return st;
}

static void park_tls_ready(gp_io_t *io, gp_status_t st)
{
	gp_parked_t *e = io->owner;
	myp_greeting_t g;
	if (e->state != GP_PARK_LOGIN)
		return;
	if (st != GP_OK || !park_greeting(e, &g)) {
		const gp_tls_conn_t *t = gp_io_tls_conn(io);
		gp_log(GP_LOG_WARN, "park_login_failed", "backend=%s reason=tls error=\"%s\"",
		       e->name, st == GP_EPROTO && t ? gp_tls_reason(t) : gp_strerror(st));
		park_drop(e, "tls_failed");
		return;
	}
	if (park_send_auth(e, 2, g.scramble, g.scramble_len, &g) != GP_OK)
		park_drop(e, "send_failed");
}

static void park_finish(gp_parked_t *e, const char *why)
{
	myp_greeting_t g;
	if (e->io.closing || e->state != GP_PARK_IDLE)
		return;
	if (!park_greeting(e, &g)) {
		park_drop(e, "bad_greeting");
		return;
	}
	gp_log(GP_LOG_DEBUG, "park_finish", "backend=%s reason=%s age_ms=%llu", e->name, why,
	       (unsigned long long)(uv_now(e->h->proxy->loop) - e->greeted_at));
	park_set_state(e, GP_PARK_LOGIN);
	e->deadline = uv_now(e->h->proxy->loop) + GP_PARK_LOGIN_MS;
	gp_status_t st = e->h->proxy->btls ? park_start_tls(e, &g)
	                                   : park_send_auth(e, 1, g.scramble, g.scramble_len, &g);
	if (st != GP_OK)
		park_drop(e, "send_failed");
}

static void park_on_reply(gp_parked_t *e, gp_pkt_t *pkt)
{
	uint8_t kind = pkt->n ? pkt->p[0] : 0xFF;
	if (kind == 0x00) {
		park_event(e, GP_PARK_EV_FINISHED);
		park_quit(e);
		return;
	}
	if (kind == 0xFE) {
		myp_authswitch_t sw;
		if (myp_authswitch_parse(pkt->p, pkt->n, &sw) == MYP_OK &&
		    sw.plugin_len == sizeof(MYP_NATIVE_PLUGIN) - 1 &&
		    !memcmp(sw.plugin, MYP_NATIVE_PLUGIN, sw.plugin_len) &&
		    sw.data_len >= MYP_NATIVE_AUTH_LEN) {
			if (park_send_auth(e, (uint8_t)(pkt->seq + 1), sw.data, MYP_NATIVE_AUTH_LEN,
			                   NULL) != GP_OK)
				park_drop(e, "send_failed");
			return;
		}
		char q[80];
		gp_log(GP_LOG_WARN, "park_login_failed",
		       "backend=%s user=%s reason=auth_plugin plugin=%s detail=\"the monitor "
		       "account must use mysql_native_password to finish parked connections\"",
		       e->name, e->h->proxy->cfg->monitor_user,
		       gp_log_quote(q, sizeof(q), (const char *)sw.plugin,
		                    (unsigned)(sw.plugin_len < 64 ? sw.plugin_len : 64)));
		park_drop(e, "auth_plugin");
		return;
	}
	myp_err_t er;
	char q[300];
	if (kind == 0xFF && myp_err_parse(pkt->p, pkt->n, MYP_CLIENT_PROTOCOL_41, &er) == MYP_OK)
		gp_log(GP_LOG_WARN, "park_login_failed", "backend=%s user=%s code=%u message=%s",
		       e->name, e->h->proxy->cfg->monitor_user, er.code,
		       gp_log_quote(q, sizeof(q), (const char *)er.message,
		                    (unsigned)(er.message_len < 200 ? er.message_len : 200)));
	park_drop(e, "login_refused");
}

uint8_t gp_park_wrong_len(const myp_authswitch_t *sw)
{
	static const char ed[] = "client_ed25519";
	return sw->plugin_len == sizeof(ed) - 1 && !memcmp(sw->plugin, ed, sw->plugin_len) ? 64
	                                                                                   : 20;
}

/* Answer an auth round with random bytes of the size the plugin expects: the server ends
 * with access denied, a credentials error that does not count toward max_connect_errors. */
static void park_send_wrong(gp_parked_t *e, uint8_t seq)
{
	uint8_t wrong[64], buf[MYP_HEADER_LEN + sizeof(wrong)];
	size_t n = e->answer_len ? e->answer_len : 20;
	if (n > sizeof(wrong))
		n = sizeof(wrong);
	if (getrandom(wrong, n, 0) != (ssize_t)n)
		memset(wrong, 0x5a, n);
	myp_wbuf_t w;
	myp_wbuf_init(&w, buf, sizeof(buf));
	myp_auth_data_build(&w, seq, wrong, n);
	if (w.failed || gp_io_send(&e->io, buf, w.len) != GP_OK)
		park_drop(e, "send_failed");
}

static void park_on_refused(gp_parked_t *e, gp_pkt_t *pkt)
{
	uint8_t kind = pkt->n ? pkt->p[0] : 0xFF;
	if (kind == 0xFE || kind == 0x01) {
		myp_authswitch_t sw;
		if (kind == 0xFE && myp_authswitch_parse(pkt->p, pkt->n, &sw) == MYP_OK)
			e->answer_len = gp_park_wrong_len(&sw);
		park_send_wrong(e, (uint8_t)(pkt->seq + 1));
		return;
	}
	gp_log(GP_LOG_INFO, "defer_abandoned", "backend=%s outcome=%s", e->name,
	       kind == 0x00 ? "ok" : "refused");
	if (kind == 0x00) {
		park_quit(e); /* it got in after all (an account without a password) */
		return;
	}
	park_set_state(e, GP_PARK_GONE);
	gp_io_close(&e->io, false);
}

static void park_on_warm_greeting(gp_parked_t *e, gp_pkt_t *pkt);

static gp_pkt_action_t park_packet(gp_io_t *io, gp_pkt_t *pkt)
{
	gp_parked_t *e = io->owner;
	switch (e->state) {
	case GP_PARK_WARMING:
		park_on_warm_greeting(e, pkt);
		return GP_PKT_STOP;
	case GP_PARK_REFUSE:
		park_on_refused(e, pkt);
		return GP_PKT_STOP;
	case GP_PARK_IDLE:
		/* Unprompted: a timeout or shutdown notice. Nothing to hand out any more. */
		park_drop(e, "server_spoke");
		return GP_PKT_STOP;
	case GP_PARK_LOGIN:
		park_on_reply(e, pkt);
		return GP_PKT_STOP;
	default:
		return GP_PKT_DROP;
	}
}

static void park_ended(gp_io_t *io, gp_status_t st)
{
	gp_parked_t *e = io->owner;
	if (e->state == GP_PARK_QUIT)
		return;
	if (e->state == GP_PARK_WARMING)
		park_warm_failed(e);
	park_drop(e, st == GP_ECLOSED ? "server_closed" : "server_error");
}

static void park_closed(gp_io_t *io)
{
	gp_parked_t *e = io->owner;
	gp_proxy_t *p = e->h->proxy;
	gp_backend_t *b = park_backend(e);
	if (e->state == GP_PARK_IDLE)
		park_set_state(e, GP_PARK_GONE);
	gp_list_del(&e->link);
	if (b && b->hs_slots)
		b->hs_slots--;
	gp_handoff_slot_freed(p, e->backend);
	free(e);
}

static void park_warm_connected(gp_io_t *io, gp_status_t st);

static const gp_io_proto_t park_proto = {
        .packet = park_packet,
        .ended = park_ended,
        .closed = park_closed,
        .connected = park_warm_connected,
        .tls_ready = park_tls_ready,
};

/* A new entry with its io ready for a socket, of no backend yet; NULL if out of memory. */
static gp_parked_t *park_new(gp_park_t *h)
{
	gp_parked_t *e = calloc(1, sizeof(*e));
	if (!e || gp_io_init(&e->io, h->proxy->loop, &park_proto, e) != GP_OK) {
		free(e);
		return NULL;
	}
	e->h = h;
	e->backend = -1;
	e->state = GP_PARK_GONE;
	gp_list_init(&e->link);
	return e;
}

/* e now belongs to backend b, in state, listed in h->parked (the parked gauge follows). */
static void park_attach(gp_parked_t *e, int b, gp_park_state_t state)
{
	const gp_backend_t *be = &e->h->proxy->backends[b];
	e->backend = b;
	snprintf(e->name, sizeof(e->name), "%s", be->conf->name);
	snprintf(e->address, sizeof(e->address), "%s", be->conf->address);
	park_set_state(e, state);
	gp_list_append(&e->h->parked, &e->link);
}

/* Why an entry that has just become idle cannot be handed out (to be finished), or NULL. */
static const char *park_unfit(const gp_parked_t *e)
{
	gp_proxy_t *p = e->h->proxy;
	uint64_t half = (uint64_t)p->cfg->handshake_greeting_timeout_ms / 2;
	return p->shutting_down                          ? "shutdown"
	       : !gp_handoff_usable(p, e->backend)       ? "backend_unusable"
	       : uv_now(p->loop) >= e->greeted_at + half ? "too_old"
	                                                 : NULL;
}

/* An entry has just become idle: finish it (why), or let a queued client take it now. */
static void park_offer(gp_parked_t *e, const char *why)
{
	if (why)
		park_finish(e, why);
	else
		gp_handoff_slot_freed(e->h->proxy, e->backend);
}

/* Take a session's backend socket over (the session closes its handle and descriptor; the
 * socket lives on in ours) into a new entry for its backend, listed in h->parked and
 * reading; NULL if that failed (then the session's close is an ordinary close). */
static gp_parked_t *park_take_socket(gp_park_t *h, const gp_park_from_t *from,
                                     gp_park_state_t state)
{
	gp_parked_t *e = park_new(h);
	if (!e)
		return NULL;
	if (gp_io_take(&e->io, from->io) != GP_OK) {
		gp_io_close(&e->io, false); /* frees e in park_closed; counts nothing */
		return NULL;
	}
	e->greeted_at = from->greeted_at;
	park_attach(e, from->backend, state);
	gp_io_tune(&e->io);
	gp_io_set_whole(&e->io, true);
	gp_io_read(&e->io, true);
	return e;
}

bool gp_park_put(gp_park_t *h, const gp_park_from_t *from)
{
	if (from->greeting_len > GP_GREETING_MAX)
		return false;
	gp_parked_t *e = park_take_socket(h, from, GP_PARK_IDLE);
	if (!e)
		return false;
	e->greeting_len = from->greeting_len;
	memcpy(e->greeting, from->greeting, from->greeting_len);
	const char *finish = park_unfit(e);
	gp_log(GP_LOG_INFO, "greeting_parked", "backend=%s conn=%u client=%s:%u reason=%s%s%s",
	       e->name, from->conn, from->client, (unsigned)from->client_port, from->reason,
	       finish ? " finish=" : "", finish ? finish : "");
	park_event(e, GP_PARK_EV_PARKED);
	park_offer(e, finish);
	return true;
}

bool gp_park_refuse(gp_park_t *h, const gp_park_from_t *from)
{
	gp_proxy_t *p = h->proxy;
	gp_parked_t *e = park_take_socket(h, from, GP_PARK_REFUSE);
	if (!e)
		return false;
	e->answer_len = from->answer_len;
	e->deadline = uv_now(p->loop) + GP_PARK_LOGIN_MS;
	gp_log(GP_LOG_INFO, "defer_abandoning", "backend=%s conn=%u client=%s:%u switched=%d",
	       e->name, from->conn, from->client, (unsigned)from->client_port, from->switched);
	/* The server asked already: its switch went to the client (answer now), or it was read
	 * and not yet looked at (the session's buffer holds it: act on it here). */
	uint32_t n;
	const uint8_t *unread = gp_io_unscanned(from->io, &n);
	myp_frame_t f;
	if (n && myp_frame_packet(unread, n, &f) == MYP_OK) {
		gp_pkt_t pkt = {.len = f.len, .seq = f.seq, .p = (uint8_t *)f.payload, .n = f.len};
		park_on_refused(e, &pkt);
	} else if (n) {
		park_set_state(e, GP_PARK_GONE); /* half a packet: cannot tell what it asked */
		gp_io_close(&e->io, false);
	} else if (from->switched) {
		park_send_wrong(e, (uint8_t)(from->server_seq + 1));
	}
	return true;
}

typedef enum gp_park_fit {
	GP_PARK_FIT,    /* hand it out */
	GP_PARK_OLD,    /* too close to the server's connect_timeout: finish it */
	GP_PARK_BROKEN, /* the server spoke or left: drop it */
	GP_PARK_BUSY    /* not idle (finishing, closing) */
} gp_park_fit_t;

/* Fit to hand out: idle, young enough, and quiet. */
static gp_park_fit_t park_check(gp_parked_t *e, uint64_t now)
{
	gp_proxy_t *p = e->h->proxy;
	uint64_t half = (uint64_t)p->cfg->handshake_greeting_timeout_ms / 2;
	if (e->state != GP_PARK_IDLE || e->io.closing)
		return GP_PARK_BUSY;
	/* A FIN or a packet the loop has not read yet: not for a client. */
	if (!gp_io_quiet(&e->io))
		return GP_PARK_BROKEN;
	return now >= e->greeted_at + half ? GP_PARK_OLD : GP_PARK_FIT;
}

bool gp_park_available(gp_park_t *h, int b)
{
	gp_list_t *pos;
	uint64_t now = uv_now(h->proxy->loop);
	for (pos = h->parked.next; pos != &h->parked; pos = pos->next) {
		gp_parked_t *e = gp_container_of(pos, gp_parked_t, link);
		if (e->backend == b && !park_reloaded(h) && park_check(e, now) == GP_PARK_FIT)
			return true;
	}
	return false;
}

bool gp_park_take(gp_park_t *h, int b, gp_park_handout_t *out)
{
	gp_list_t *pos, *tmp;
	uint64_t now = uv_now(h->proxy->loop);
	if (park_reloaded(h))
		return false; /* indexes from another configuration: the tick sorts them out */
	gp_list_each_safe(pos, tmp, &h->parked)
	{
		gp_parked_t *e = gp_container_of(pos, gp_parked_t, link);
		if (e->backend != b || e->state != GP_PARK_IDLE)
			continue;
		gp_park_fit_t fit = park_check(e, now);
		if (fit == GP_PARK_OLD)
			park_finish(e, "unused");
		else if (fit == GP_PARK_BROKEN)
			park_drop(e, "server_spoke");
		if (fit != GP_PARK_FIT)
			continue;
		int fd = gp_io_dup(&e->io);
		if (fd < 0)
			return false;
		/* The slot goes with the connection: e leaves without freeing it. e is freed once
		 * its io has closed, on a later loop turn: the greeting stays readable till then.
		 */
		park_event(e, GP_PARK_EV_REUSED);
		park_set_state(e, GP_PARK_GONE);
		e->backend = -1;
		gp_io_close(&e->io, false);
		*out = (gp_park_handout_t){.fd = fd,
		                           .greeting = e->greeting,
		                           .greeting_len = e->greeting_len,
		                           .greeted_at = e->greeted_at};
		return true;
	}
	return false;
}

void gp_park_init(gp_park_t *h, gp_proxy_t *p)
{
	h->proxy = p;
	h->cfg_gen = gp_config_generation(p->cfg);
	gp_list_init(&h->parked);
}

bool gp_park_empty(const gp_park_t *h)
{
	return gp_list_empty(&h->parked);
}

/* A reload swapped the configuration: find each entry's backend again by name and address. */
static void park_follow_reload(gp_park_t *h)
{
	gp_proxy_t *p = h->proxy;
	gp_list_t *pos;
	for (pos = h->parked.next; pos != &h->parked; pos = pos->next) {
		gp_parked_t *e = gp_container_of(pos, gp_parked_t, link);
		int found = -1;
		for (size_t i = 0; i < p->nbackends; i++)
			if (!strcmp(p->backends[i].conf->name, e->name) &&
			    !strcmp(p->backends[i].conf->address, e->address))
				found = (int)i;
		/* A backend that stayed carried its counters to its new index; a removed one
		 * took them along, so its entries count nowhere. */
		e->backend = found;
	}
	h->cfg_gen = gp_config_generation(p->cfg);
}

void gp_park_tick(gp_park_t *h, uint64_t now)
{
	gp_proxy_t *p = h->proxy;
	gp_list_t *pos, *tmp;
	if (park_reloaded(h))
		park_follow_reload(h);
	uint64_t half = (uint64_t)p->cfg->handshake_greeting_timeout_ms / 2;
	gp_list_each_safe(pos, tmp, &h->parked)
	{
		gp_parked_t *e = gp_container_of(pos, gp_parked_t, link);
		if (e->io.closing)
			continue;
		if (e->state != GP_PARK_IDLE) {
			if (now >= e->deadline)
				park_drop(e, e->state == GP_PARK_WARMING ? "greeting_timeout"
				                                         : "login_timeout");
			continue;
		}
		if (p->shutting_down)
			park_finish(e, "shutdown");
		else if (e->backend < 0)
			park_finish(e, "backend_removed");
		else if (!gp_handoff_usable(p, e->backend))
			park_finish(e, "backend_unusable");
		else if (now >= e->greeted_at + half)
			park_finish(e, "unused");
	}
	gp_park_warm(h);
}

/* ---- warm greetings (handshake.warm) -------------------------------------------------- */

/* A warm connection failed: no new one to that backend for a while, so a node that refuses
 * (down, max_connections) is not hammered; the monitor judges its health, not this. */
static void park_warm_failed(gp_parked_t *e)
{
	gp_backend_t *b = park_backend(e);
	if (b)
		b->warm_retry_at = uv_now(e->h->proxy->loop) + GP_WARM_RETRY_MS;
}

/* The first packet on a warm connection: the greeting to keep, or a refusal. */
static void park_on_warm_greeting(gp_parked_t *e, gp_pkt_t *pkt)
{
	myp_greeting_t g;
	bool refused = pkt->n && pkt->p[0] == 0xFF;
	if (!refused && MYP_HEADER_LEN + pkt->n <= GP_GREETING_MAX) {
		myp_frame_put_header(e->greeting, pkt->len, pkt->seq);
		memcpy(e->greeting + MYP_HEADER_LEN, pkt->p, pkt->n);
		e->greeting_len = MYP_HEADER_LEN + pkt->n;
	}
	if (refused || !park_greeting(e, &g)) {
		myp_err_t er;
		if (refused && myp_err_parse(pkt->p, pkt->n, MYP_CLIENT_PROTOCOL_41, &er) == MYP_OK)
			gp_log(GP_LOG_WARN, "warm_refused", "backend=%s code=%u", e->name, er.code);
		park_warm_failed(e);
		park_drop(e, refused ? "refused" : "bad_greeting");
		return;
	}
	e->greeted_at = uv_now(e->h->proxy->loop);
	park_set_state(e, GP_PARK_IDLE);
	park_event(e, GP_PARK_EV_WARMED);
	park_offer(e, park_unfit(e));
}

static void park_warm_connected(gp_io_t *io, gp_status_t st)
{
	gp_parked_t *e = io->owner; /* not called once e->io is closing */
	if (st != GP_OK) {
		park_warm_failed(e);
		gp_log(GP_LOG_INFO, "warm_connect_failed", "backend=%s error=\"%s\"", e->name,
		       gp_strerror(st));
		park_drop(e, "connect_failed");
		return;
	}
	gp_io_tune(&e->io);
	gp_io_set_whole(&e->io, true);
	gp_io_read(&e->io, true);
}

/* Open one warm connection to backend b; it holds a handshake slot like a parked one. */
static bool park_warm_one(gp_park_t *h, int b)
{
	gp_proxy_t *p = h->proxy;
	gp_backend_t *be = &p->backends[b];
	gp_parked_t *e = park_new(h);
	if (!e)
		return false;
	park_attach(e, b, GP_PARK_WARMING);
	e->deadline = uv_now(p->loop) + (uint64_t)p->cfg->limits_backend_connect_timeout_ms;
	be->hs_slots++;
	if (gp_io_connect(&e->io, (const struct sockaddr *)&be->addr) != GP_OK) {
		park_warm_failed(e);
		park_drop(e, "connect_failed");
		return false;
	}
	return true;
}

void gp_park_warm(gp_park_t *h)
{
	gp_proxy_t *p = h->proxy;
	const gp_config_t *c = p->cfg;
	uint64_t now = uv_now(p->loop);
	if (c->handshake_warm <= 0 || park_reloaded(h) || p->shutting_down ||
	    now >= p->last_accept_ms + GP_WARM_IDLE_MS)
		return;
	uint64_t have[GP_MAX_BACKENDS] = {0};
	gp_list_t *pos;
	for (pos = h->parked.next; pos != &h->parked; pos = pos->next) {
		gp_parked_t *e = gp_container_of(pos, gp_parked_t, link);
		if (e->backend >= 0 && !e->io.closing &&
		    (e->state == GP_PARK_WARMING || e->state == GP_PARK_IDLE))
			have[e->backend]++;
	}
	uint64_t slots = (uint64_t)c->handshake_slots;
	for (size_t i = 0; i < p->nbackends; i++) {
		gp_backend_t *be = &p->backends[i];
		/* Queued clients come first: the slots they wait for are theirs. */
		if (!gp_handoff_usable(p, (int)i) || be->hs_queued || now < be->warm_retry_at)
			continue;
		while (have[i] < (uint64_t)c->handshake_warm &&
		       (slots == 0 || be->hs_slots < slots) && park_warm_one(h, (int)i))
			have[i]++;
	}
}
