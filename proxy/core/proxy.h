/* proxy.h - the proxy as data: listeners, session lists, backends at run time, modules. */
#ifndef GP_PROXY_H
#define GP_PROXY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "base/config.h"
#include "base/deadline.h"
#include "base/list.h"
#include "base/status.h"
#include "cluster/cluster.h"
#include "net/refuse.h"

typedef enum gp_endpoint {
	GP_EP_RW = 0, /* listen: sessions go to the writer */
	GP_EP_RO = 1, /* listen_ro: sessions go to readers */
	GP_EP__COUNT
} gp_endpoint_t;

const char *gp_endpoint_name(gp_endpoint_t ep);

#define GP_GREETING_MAX 512 /* greetings kept for a hand-over (MariaDB's are ~110 bytes) */

/* A backend as the daemon sees it at run time. */
typedef struct gp_backend {
	const gp_backend_conf_t *conf;      /* name, address, priority */
	struct sockaddr_storage addr;       /* conf->addr: resolved at start and at each reload */
	uint32_t sessions;                  /* sessions currently on it */
	uint32_t sessions_rw;               /* of which came through the read-write endpoint */
	uint32_t txn_open[GP_EP__COUNT];    /* ready sessions in a transaction, by endpoint */
	uint32_t txn_unknown[GP_EP__COUNT]; /* ready sessions an ERR left unsure about */
	uint64_t connect_failures;          /* backend connects that failed */
	gp_status_t last_error;             /* why the last connect failed */
	uint32_t hs_slots;                  /* unauthenticated clients' + parked connections */
	uint32_t hs_queued;                 /* sessions waiting for one of those slots */
	uint32_t parked;                    /* greeted connections waiting for a client */
	uint64_t park_events[5];            /* parked, reused, finished, dropped, warmed (park.c) */
	uint64_t warm_retry_at; /* loop ms: no warm connection before (after a failure) */
	uint64_t deferred;      /* clients greeted from greeting while the slots were full */
	uint32_t greeting_len;  /* payload bytes of the last real greeting (0: none yet) */
	uint8_t greeting[GP_GREETING_MAX]; /* that payload, unpatched (handoff.c greets from it) */
} gp_backend_t;

/* Where a session sits; gp_session_set_state moves it between the proxy's lists. */
typedef enum gp_session_state {
	GP_SS_WAITING = 0, /* waiting for a backend to route to (no writer yet, barrier) */
	GP_SS_CONNECTING,  /* backend TCP connect under way */
	GP_SS_GREETING,    /* waiting for the backend's greeting */
	GP_SS_HANDSHAKE,   /* greeting relayed, waiting for the client's response */
	GP_SS_AUTH,        /* relaying the authentication exchange */
	GP_SS_READY,       /* authenticated: relaying commands */
	GP_SS_CLOSING,     /* closing both sides */
	GP_SS__COUNT
} gp_session_state_t;

const char *gp_session_state_name(gp_session_state_t st);

typedef struct gp_stats {
	uint64_t accepted;          /* client connections accepted */
	uint64_t rejected_limit;    /* refused: max_client_connections */
	uint64_t rejected_other;    /* refused: no backend */
	uint64_t rejected_shutdown; /* refused: shutting down */
	uint64_t closed;            /* sessions ended */
	uint64_t commands;          /* commands relayed */
	uint64_t err_packets;       /* ERR packets relayed from backends */
	uint64_t bytes_in;          /* bytes read from clients */
	uint64_t bytes_out;         /* bytes written to clients */
	uint64_t tls_started;       /* clients that sent an SSL request */
	uint64_t tls_handshakes;    /* ...whose TLS handshake completed */
	uint64_t tls_resumed;       /* ...of which resumed an earlier session */
	uint64_t tls_failed;        /* ...whose handshake failed (garbage, version, certificate) */
	uint64_t tls_refused_plain; /* plain clients refused under tls.require */
	uint64_t btls_started;      /* backend legs that sent an SSL request (tls.backend) */
	uint64_t btls_handshakes;   /* ...whose TLS handshake completed */
	uint64_t btls_resumed;      /* ...of which resumed an earlier session */
	uint64_t btls_failed;       /* ...whose handshake failed (certificate, version, EOF) */
	uint64_t btls_unsupported;  /* backends whose greeting did not offer TLS */
} gp_stats_t;

/* Modules above core: the proxy holds them by pointer only. */
struct gp_accounts;
struct gp_admin;
struct gp_handoff;
struct gp_metrics;
struct gp_session;
struct gp_vrrp;
struct gp_proxy;

/* What the layers below the daemon ask of it (the daemon wires them). */
typedef struct gp_proxy_hooks {
	void (*shutdown_now)(struct gp_proxy *p); /* stop accepting and drain now */
	void (*all_gone)(struct gp_proxy *p);     /* shutting down, and the last session left */
} gp_proxy_hooks_t;

typedef struct gp_proxy {
	uv_loop_t *loop;                        /* the one loop */
	gp_config_t *cfg;                       /* running configuration */
	uv_tcp_t listeners[GP_EP__COUNT];       /* rw and ro listeners */
	bool listening[GP_EP__COUNT];           /* which are open */
	gp_refuser_t refusers[GP_EP__COUNT];    /* close what a listener cannot serve */
	gp_backend_t backends[GP_MAX_BACKENDS]; /* runtime state, config order */
	size_t nbackends;                       /* how many */
	gp_list_t sessions[GP_SS__COUNT];       /* sessions by state */
	uint32_t nstate[GP_SS__COUNT];          /* how many on each of those lists */
	gp_list_t draining;                     /* sessions being drained (drain_link) */
	uv_timer_t drain_timer;                 /* closes them when quiet or overdue */
	gp_deadlines_t deadlines;               /* the sessions' deadlines, earliest first */
	uv_timer_t deadline_timer;              /* runs at the earliest of them */
	uint32_t nsessions;                     /* all sessions, any state */
	uint32_t nclients;                      /* sessions counted against the limit */
	uint32_t next_conn_id;                  /* proxy connection ids */
	uint32_t kill_jobs;                     /* cross-node KILLs in flight (kill.h) */
	uint32_t moves_waiting;                 /* moves waiting for a target, a barrier */
	uint64_t last_accept_ms;                /* loop ms of the last client accepted */
	bool shutting_down;                     /* SIGTERM/SIGINT received */
	bool fenced;                            /* not serving (VRRP): nothing is routed (vrrp.c) */
	const char *vrrp_state;                 /* the VRRP role acted on, by name (vrrp.c) */
	gp_stats_t stats;                       /* counters */
	uint32_t sessions_movable;              /* ready sessions with no not-movable reason */
	uint32_t sessions_not_movable[32];      /* ready sessions by reason bit (session/state.h) */
	gp_cluster_t cluster;                   /* writer, barrier, policy, monitor (cluster.h) */
	struct gp_vrrp *vrrp;                   /* VRRP role, VIP, fencing, peer (vrrp.h) */
	struct gp_metrics *metrics; /* what /metrics shows beyond stats (core/counters.h) */
	struct gp_admin *admin;     /* HTTP server, reloads, VRRP role (admin.c) */
	struct gp_handoff *ho;      /* parked greetings, slot queue (handoff.c) */
	struct gp_tls_ctx *tls;     /* the client leg's TLS (NULL: tls not configured) */
	struct gp_tls_ctx *btls;    /* the backend leg's TLS (NULL: tls.backend = off) */
	struct gp_accounts *acct;   /* mysql.global_priv as read (session/accounts.h) */
	gp_proxy_hooks_t hooks;     /* calls up into the daemon */
} gp_proxy_t;

/* A session's link leaves the list of state from and joins that of state to (from < 0: it
 * was on none; to < 0: it leaves the lists); the per-state counts follow. */
void gp_proxy_move_session(gp_proxy_t *p, gp_list_t *link, int from, int to);
/* Run cb once ms (loop time) from now, for d inside a session (re-arming moves it). One libuv
 * timer serves every session (a session keeps 24 bytes, not a 152-byte uv_timer_t). Never
 * fails once gp_proxy_deadline_room was given room for every session. */
void gp_proxy_deadline(gp_proxy_t *p, gp_deadline_t *d, uint64_t ms, gp_deadline_cb cb);
void gp_proxy_deadline_stop(gp_proxy_t *p, gp_deadline_t *d);
/* Room for n sessions' deadlines (each session one); false when memory is short. */
bool gp_proxy_deadline_room(gp_proxy_t *p, uint32_t n);
/* The daemon's start and end of the deadline timer (on p->loop). */
void gp_proxy_deadlines_init(gp_proxy_t *p);
void gp_proxy_deadlines_close(gp_proxy_t *p);
/* A session left the proxy: maybe the shutdown is complete. */
void gp_proxy_session_gone(gp_proxy_t *p);
/* Stop accepting and drain now (the daemon's shutdown, through its hook). */
void gp_proxy_stop_now(gp_proxy_t *p);
/* One session of a walk: link is its list link (gp_session_of in session.h turns it into the
 * session). It may close or move that session. False stops the walk. */
typedef bool (*gp_proxy_session_fn)(gp_list_t *link, void *arg);
/* Call fn on every session in a state of mask (bit 1u << gp_session_state_t), state by state
 * in list order. Returns the link fn stopped at, or NULL. */
gp_list_t *gp_proxy_each_session(const gp_proxy_t *p, uint32_t mask, gp_proxy_session_fn fn,
                                 void *arg);

#define GP_SS_BIT(st) (1u << (st))               /* a state in a walk's mask */
#define GP_SS_ALL     ((1u << GP_SS__COUNT) - 1) /* every state */
/* Every state before closing, from st on (the walks' usual "live sessions"). */
#define GP_SS_FROM(st) (GP_SS_ALL & ~(GP_SS_BIT(st) - 1) & ~GP_SS_BIT(GP_SS_CLOSING))
/* In a listener's connection callback: take its pending connection and close it unserved
 * (the proxy could not allocate a session for it). */
void gp_proxy_refuse(gp_proxy_t *p, uv_stream_t *listener);
/* Backends in priority order (ties by name): fills idx, returns the count. */
size_t gp_proxy_backends_by_priority(const gp_proxy_t *p, int *idx);

#endif
