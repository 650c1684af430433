/* proxy.h - the daemon's life cycle: start, signals, shutdown. */
#ifndef GP_DAEMON_PROXY_H
#define GP_DAEMON_PROXY_H

#include <stdbool.h>
#include <uv.h>

#include "base/config.h"
#include "base/status.h"
#include "core/proxy.h"
#include "ha/vrrp.h"
#include "ops/metrics.h"
#include "session/accounts.h"

/* The one proxy of the process, with what only the daemon touches. */
typedef struct gp_daemon {
	gp_proxy_t proxy;                       /* what the layers below see */
	gp_vrrp_t vrrp;                         /* proxy.vrrp points here */
	gp_metrics_t metrics;                   /* proxy.metrics points here */
	gp_accounts_t accounts;                 /* proxy.acct points here */
	uv_signal_t sig_term, sig_int, sig_hup; /* signal watchers */
	uv_timer_t sweep;                       /* idle-timeout sweep */
	uv_timer_t shutdown_timer;              /* shutdown deadline */
	bool handles_closed;                    /* teardown started */
} gp_daemon_t;

/* Set up listeners, signals, timers and every module on loop. */
GP_WUR gp_status_t gp_proxy_start(gp_daemon_t *d, uv_loop_t *loop, gp_config_t *cfg);
/* Begin a graceful shutdown (also what SIGTERM does): a MASTER first lets the VIP move. */
void gp_proxy_shutdown(gp_proxy_t *p);
/* Stop accepting and drain now. */
void gp_proxy_shutdown_now(gp_proxy_t *p);

#endif
