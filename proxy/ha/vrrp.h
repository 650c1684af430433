/* vrrp.h - the proxy's VRRP role: keepalived's word, the VIP, fencing, the peer's writer. */
#ifndef GP_VRRP_H
#define GP_VRRP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "base/status.h"

struct gp_proxy;
struct gp_resolve;

/* X(enum, name): the roles keepalived reports; UNKNOWN until POST /vrrp says otherwise. */
#define GP_VRRP_STATE_TABLE(X)      \
	X(GP_VRRP_MASTER, "MASTER") \
	X(GP_VRRP_BACKUP, "BACKUP") \
	X(GP_VRRP_FAULT, "FAULT")   \
	X(GP_VRRP_STOP, "STOP")     \
	X(GP_VRRP_UNKNOWN, "UNKNOWN")

typedef enum gp_vrrp_state {
#define GP_VRRP_ENUM(e, name) e,
	GP_VRRP_STATE_TABLE(GP_VRRP_ENUM)
#undef GP_VRRP_ENUM
	        GP_VRRP__COUNT
} gp_vrrp_state_t;

const char *gp_vrrp_state_name(gp_vrrp_state_t s);
/* Parse a state name (any case); -1 if unknown. */
int gp_vrrp_state_parse(const char *s);

#define GP_PEER_BODY_MAX (64 * 1024) /* a peer /status larger than this is refused */

/* What the peer proxy said last. */
typedef struct gp_peer_view {
	bool valid;            /* seen recently (fresh within 4 polls) */
	uint64_t at;           /* loop ms of the last good answer */
	gp_vrrp_state_t state; /* its effective role */
	char name[64];         /* its name (tie-break) */
	char writer[64];       /* its writer ("" for none) */
	uint64_t failures;     /* polls that failed */
} gp_peer_view_t;

typedef struct gp_vrrp {
	gp_vrrp_state_t notified;     /* last role keepalived's notify reported */
	gp_vrrp_state_t effective;    /* role acted on (VIP presence wins when vip is set) */
	int vip_present;              /* 1/0 when vip is configured, -1 otherwise */
	struct sockaddr_storage vip;  /* parsed vip */
	bool fenced;                  /* not serving: sessions drained, new ones held */
	uv_timer_t timer;             /* VIP check and peer poll, every monitor interval */
	bool timer_open;              /* timer initialised */
	struct gp_http_get *req;      /* peer request in flight, or NULL */
	struct sockaddr_storage peer; /* resolved peer http address */
	bool have_peer;               /* peer configured (its name may not have resolved yet) */
	bool peer_resolved;           /* peer holds an address */
	bool peer_is_name;            /* the peer is a host name: looked up off the loop thread */
	bool peer_lookup_failed;      /* the last lookup failed (logged once per change) */
	bool peer_poll_failed;        /* the last poll failed: look the name up again */
	struct gp_resolve *resolving; /* the peer's name being looked up, or NULL */
	uint64_t resolved_at;         /* loop ms of the last lookup's answer */
	char peer_host[256];          /* host part of peer */
	uint16_t peer_port;           /* its port */
	gp_peer_view_t view;          /* the peer's last answer */
	uint64_t leave_deadline;      /* planned shutdown: loop ms to stop waiting for the VIP */
	uint64_t started_at;          /* loop ms gp_vrrp_start ran */
	bool leaving;                 /* SIGTERM while MASTER: waiting for the VIP to move */
	char name[64];                /* this proxy's name */
	struct gp_tls_ctx *peer_tls;  /* http_tls: the peer is polled over HTTPS with this */
	const void *peer_tls_cfg;     /* the configuration it was built from */
} gp_vrrp_t;

/* Set up from the configuration: name, vip, peer; starts the timer. */
GP_WUR gp_status_t gp_vrrp_start(struct gp_proxy *p);
void gp_vrrp_stop(struct gp_proxy *p);
/* keepalived's notify hook reported a state (POST /vrrp). */
void gp_vrrp_notify(struct gp_proxy *p, gp_vrrp_state_t st, const char *source);
/* The writer the peer proxy suggests (backend index), or -1: a fenced proxy follows the
 * MASTER's writer; of two MASTERs (split brain) the one with the higher name follows. */
int gp_vrrp_peer_writer(const struct gp_proxy *p);
/* No peer is configured, or it has answered or failed at least once. */
bool gp_vrrp_peer_settled(const struct gp_proxy *p);
/* SIGTERM: true if the proxy must first let the VIP move away (it then calls
 * gp_proxy_stop_now itself when the VIP has left or fence_timeout_ms passed). */
bool gp_vrrp_begin_leave(struct gp_proxy *p);

#endif
