/* refuse.c - closing a listener's pending connection without allocating. */
#include "net/refuse.h"

#include "net/io.h"

static void refuse_take(gp_refuser_t *r, uv_stream_t *listener);

static void on_refused_closed(uv_handle_t *h)
{
	gp_refuser_t *r = h->data;
	uv_stream_t *l = r->waiting;
	r->busy = false;
	r->waiting = NULL;
	/* A closed listener has closed its pending descriptor itself. */
	if (l && !uv_is_closing((uv_handle_t *)l)) {
		refuse_take(r, l);
		return;
	}
	if (r->on_idle)
		r->on_idle(r);
}

static void refuse_take(gp_refuser_t *r, uv_stream_t *listener)
{
	r->busy = true;
	uv_tcp_init(listener->loop, &r->tcp);
	r->tcp.data = r;
	if (gp_io_accept_tcp(&r->tcp, listener) == GP_OK)
		r->refused++;
	uv_close((uv_handle_t *)&r->tcp, on_refused_closed);
}

void gp_refuse(gp_refuser_t *r, uv_stream_t *listener)
{
	if (!r->busy) {
		refuse_take(r, listener);
		return;
	}
	/* Left pending in the listener, which libuv stops polling until on_refused_closed
	 * takes it; at most one connection per listener can be pending. */
	r->waiting = listener;
}

bool gp_refuse_idle(const gp_refuser_t *r)
{
	return !r->busy;
}
