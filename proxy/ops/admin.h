/* admin.h - the operator's interface: actions (admin.c), reloads (reload.c), status (status.c). */
#ifndef GP_ADMIN_H
#define GP_ADMIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/proxy.h"

#define GP_ADMIN_GRACE_MS 10000 /* beyond drain_timeout_ms: closing sessions need time too */

typedef enum gp_reload_result {
	GP_RELOAD_APPLIED,   /* the new configuration runs */
	GP_RELOAD_PENDING,   /* valid; applied once the sessions of removed backends are gone */
	GP_RELOAD_INVALID,   /* refused: the running configuration is untouched */
	GP_RELOAD_BUSY,      /* refused: an earlier reload is still pending or resolving */
	GP_RELOAD_RESOLVING, /* valid; host names are being looked up, then applied or refused */
} gp_reload_result_t;

struct gp_http;
struct gp_resolve;

typedef struct gp_admin {
	gp_proxy_t *proxy;                        /* owner */
	struct gp_http *http;                     /* HTTP server; NULL when http_listen is "" */
	uint64_t config_version;                  /* 1 at start, +1 per applied reload */
	uint64_t reloads_ok;                      /* reloads applied */
	uint64_t reloads_failed;                  /* reloads refused or abandoned */
	bool last_reload_ok;                      /* the last finished reload was applied */
	int64_t last_reload_unix_ms;              /* when it finished (0: never) */
	char last_reload_error[512];              /* why it failed ("" if it did not) */
	gp_config_t *pending;                     /* valid config waiting for removed backends */
	bool pending_maint[GP_MAX_BACKENDS];      /* maintenance flags the pending reload set */
	uint64_t pending_deadline;                /* loop ms the pending reload gives up at */
	struct gp_resolve *resolving;             /* a reload's host names being looked up */
	gp_config_t *resolving_cfg;               /* the configuration they belong to */
	uint64_t resolve_deadline;                /* loop ms that lookup gives up at */
	char resolving_source[64];                /* who asked for that reload (logs) */
	uint64_t drain_deadline[GP_MAX_BACKENDS]; /* admin drain watched until (0: none) */
	uint64_t drain_started[GP_MAX_BACKENDS];  /* loop ms that drain began */
	uv_timer_t tick;                          /* watches pending reloads and drains */
	bool tick_open;                           /* tick was initialised (close it at stop) */
} gp_admin_t;

/* After the listeners and the cluster: admin state, and the HTTP server if configured. */
GP_WUR gp_status_t gp_admin_start(gp_proxy_t *p);
/* Teardown: close the HTTP server and timers; a pending reload is dropped. */
void gp_admin_stop(gp_proxy_t *p);

/* Re-read p->cfg->path, validate, resolve, apply (SIGHUP, POST /reload): all or nothing.
 * msg says what happened. Host names are looked up off the loop thread first
 * (GP_RELOAD_RESOLVING); the outcome is then logged and shown in /status. (reload.c) */
gp_reload_result_t gp_admin_reload(gp_proxy_t *p, const char *source, char *msg, size_t cap);

/*
 * Actions for the HTTP layer. Each returns the HTTP status to answer with (200, 202,
 * 400, 404, 409) and sets *body to a new JSON object describing the outcome.
 * source is the client's address, for the log.
 */
int gp_admin_maintenance(gp_proxy_t *p, const char *backend, const char *on, const char *source,
                         json_t **body);
int gp_admin_drain(gp_proxy_t *p, const char *backend, const char *source, json_t **body);
int gp_admin_vrrp(gp_proxy_t *p, const char *state, const char *source, json_t **body);
int gp_admin_reload_http(gp_proxy_t *p, const char *source, json_t **body);

/* ---- shared by admin.c, reload.c and status.c ---- */

/* The writer's name, NULL if none. */
const char *gp_admin_writer_name(const gp_proxy_t *p);
/* Start the tick that watches pending reloads and drains. */
void gp_admin_tick_on(gp_admin_t *a);
/* Drain every session on backend b (any endpoint); returns how many were asked. */
unsigned gp_admin_drain_sessions(gp_proxy_t *p, int b, gp_close_t why);
/* Watch the drain of backend b until its sessions are gone or overdue (logs drain_end). */
void gp_admin_watch_drain(gp_proxy_t *p, int b, const char *reason, unsigned asked);

#endif
