/* resolve.c - host names to addresses on libuv's thread pool, never on the loop thread. */
#include "net/resolve.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct gp_lookup {
	uv_getaddrinfo_t req;         /* in the thread pool while busy */
	gp_resolve_t *r;              /* owner */
	char *host;                   /* the name (copy) */
	uint16_t port;                /* the port */
	bool busy;                    /* req not handed back yet */
	int status;                   /* 0, or a libuv error */
	struct sockaddr_storage addr; /* the first answer */
} gp_lookup_t;

struct gp_resolve {
	gp_resolve_cb cb;      /* called once every lookup answered */
	void *arg;             /* for cb */
	bool cancelled;        /* cb must not run; free once nothing is busy */
	size_t busy;           /* lookups in the thread pool */
	size_t n;              /* entries */
	gp_lookup_t lookups[]; /* one per HOST:PORT */
};

bool gp_resolve_numeric(const char *host, uint16_t port, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	return uv_ip4_addr(host, port, (struct sockaddr_in *)out) == 0 ||
	       uv_ip6_addr(host, port, (struct sockaddr_in6 *)out) == 0;
}

static void resolve_release(gp_resolve_t *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->lookups[i].host);
	free(r);
}

static void on_lookup(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	gp_lookup_t *l = req->data;
	gp_resolve_t *r = l->r;
	l->busy = false;
	r->busy--;
	l->status = status;
	if (status == 0 && (!res || res->ai_addrlen > sizeof(l->addr)))
		l->status = UV_EAI_NONAME;
	if (l->status == 0) {
		memcpy(&l->addr, res->ai_addr, res->ai_addrlen);
		if (l->addr.ss_family == AF_INET)
			((struct sockaddr_in *)&l->addr)->sin_port = htons(l->port);
		else if (l->addr.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&l->addr)->sin6_port = htons(l->port);
	}
	uv_freeaddrinfo(res);
	if (r->busy > 0)
		return;
	if (r->cancelled)
		resolve_release(r);
	else
		r->cb(r, r->arg);
}

gp_status_t gp_resolve_start(uv_loop_t *loop, size_t n, const char *const *hosts,
                             const uint16_t *ports, gp_resolve_cb cb, void *arg, gp_resolve_t **out)
{
	static const struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
	*out = NULL;
	if (n == 0)
		return GP_EINVAL;
	gp_resolve_t *r = calloc(1, sizeof(*r) + n * sizeof(r->lookups[0]));
	if (!r)
		return GP_ENOMEM;
	r->cb = cb;
	r->arg = arg;
	r->n = n;
	for (size_t i = 0; i < n; i++) {
		r->lookups[i].host = strdup(hosts[i]);
		if (!r->lookups[i].host) {
			resolve_release(r);
			return GP_ENOMEM;
		}
	}
	for (size_t i = 0; i < n; i++) {
		gp_lookup_t *l = &r->lookups[i];
		l->r = r;
		l->port = ports[i];
		l->req.data = l;
		/* The thread pool answers numeric ones too, so cb is never called from here. */
		int rc = uv_getaddrinfo(loop, &l->req, on_lookup, l->host, NULL, &hints);
		if (rc < 0) {
			if (r->busy == 0) {
				resolve_release(r);
				return gp_status_from_uv(rc);
			}
			/* The ones already asked come back later: forget them. */
			gp_resolve_cancel(r);
			return gp_status_from_uv(rc);
		}
		l->busy = true;
		r->busy++;
	}
	*out = r;
	return GP_OK;
}

size_t gp_resolve_count(const gp_resolve_t *r)
{
	return r->n;
}

int gp_resolve_status(const gp_resolve_t *r, size_t i)
{
	return r->lookups[i].status;
}

const struct sockaddr_storage *gp_resolve_addr(const gp_resolve_t *r, size_t i)
{
	return &r->lookups[i].addr;
}

const char *gp_resolve_host(const gp_resolve_t *r, size_t i)
{
	return r->lookups[i].host;
}

size_t gp_resolve_waiting(const gp_resolve_t *r)
{
	return r->busy;
}

void gp_resolve_free(gp_resolve_t *r)
{
	if (r)
		resolve_release(r);
}

void gp_resolve_cancel(gp_resolve_t *r)
{
	if (!r)
		return;
	r->cancelled = true;
	if (r->busy == 0) {
		resolve_release(r);
		return;
	}
	/* Lookups still queued come back at once with UV_ECANCELED; running ones when done. */
	for (size_t i = 0; i < r->n; i++)
		if (r->lookups[i].busy)
			uv_cancel((uv_req_t *)&r->lookups[i].req);
}

gp_status_t gp_resolve_now(const char *host, uint16_t port, struct sockaddr_storage *out)
{
	if (gp_resolve_numeric(host, port, out))
		return GP_OK;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	char svc[8];
	snprintf(svc, sizeof(svc), "%u", port);
	if (getaddrinfo(host, svc, &hints, &res) != 0 || !res)
		return GP_EINVAL;
	if (res->ai_addrlen <= sizeof(*out))
		memcpy(out, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return out->ss_family != 0 ? GP_OK : GP_EINVAL;
}
