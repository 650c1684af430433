/* resolve.h - host names to addresses on libuv's thread pool, never on the loop thread. */
#ifndef GP_RESOLVE_H
#define GP_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "base/status.h"

/*
 * getaddrinfo blocks for as long as DNS takes (seconds when a server is slow or gone), so
 * names are looked up with uv_getaddrinfo: the loop keeps relaying meanwhile and a batch
 * of names comes back in one callback. An address is the first getaddrinfo answers for a
 * TCP socket (the system's preference order, /etc/gai.conf).
 */
typedef struct gp_resolve gp_resolve_t;
typedef void (*gp_resolve_cb)(gp_resolve_t *r, void *arg);

/* A numeric HOST (IPv4, or IPv6 without brackets) as an address, without any resolver;
 * false if HOST is a name. */
bool gp_resolve_numeric(const char *host, uint16_t port, struct sockaddr_storage *out);

/* Look up n HOST:PORT pairs (hosts are copied). cb runs on the loop once every one has an
 * answer, never from inside this call; it then owns r (gp_resolve_free). */
GP_WUR gp_status_t gp_resolve_start(uv_loop_t *loop, size_t n, const char *const *hosts,
                                    const uint16_t *ports, gp_resolve_cb cb, void *arg,
                                    gp_resolve_t **out);
size_t gp_resolve_count(const gp_resolve_t *r);
/* Entry i once cb ran: 0 or a libuv error (uv_strerror names it), and the address. */
int gp_resolve_status(const gp_resolve_t *r, size_t i);
const struct sockaddr_storage *gp_resolve_addr(const gp_resolve_t *r, size_t i);
const char *gp_resolve_host(const gp_resolve_t *r, size_t i);
/* Lookups not answered yet (before cb), e.g. for a "still waiting for" message. */
size_t gp_resolve_waiting(const gp_resolve_t *r);
/* Free r (in or after cb). */
void gp_resolve_free(gp_resolve_t *r);
/* Give up before cb: cb never runs, and r frees itself once the thread pool has handed
 * back every lookup (one already running in a thread cannot be stopped, only forgotten). */
void gp_resolve_cancel(gp_resolve_t *r);

/* The blocking form, for start-up before the loop runs: numeric or getaddrinfo. */
GP_WUR gp_status_t gp_resolve_now(const char *host, uint16_t port, struct sockaddr_storage *out);

#endif
