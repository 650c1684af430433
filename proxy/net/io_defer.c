/* io_defer.c - the I/O engine's deferred scan: short reads relayed after the poll phase. */
#include <stdlib.h>

#include "net/io_int.h"

#define GP_DEFER_MAX 32 /* ios whose scan waits at once: each holds a read buffer until then */

/* The deferred-scan queue of the loop the ios live on (the daemon runs one loop). The check
 * handle exists while any io does, so that an idle loop still runs dry and closes. */
static struct {
	uv_check_t *check; /* runs after each poll phase; NULL while no io exists */
	gp_io_t *head;     /* ios with unscanned reads, in arrival order */
	gp_io_t **tail;    /* where the next one is linked */
	size_t queued;     /* ios linked since the last check (bounded by GP_DEFER_MAX) */
	size_t live;       /* ios between gp_io_init and their close callback */
} io_defer;

static void on_check(uv_check_t *c)
{
	(void)c;
	io_defer.queued = 0;
	while (io_defer.head) {
		gp_io_t *io = io_defer.head;
		io_defer.head = io->scan_next;
		if (!io_defer.head)
			io_defer.tail = &io_defer.head;
		io->scan_next = NULL;
		if (!io->scan_queued)
			continue; /* scanned early (an error came after the data) */
		io->scan_queued = false;
		if (!io->closing && io->buf && io->end > io->start)
			gp_io_scan_now(io);
	}
}

static void on_check_closed(uv_handle_t *h)
{
	free(h);
}

/* One more io on loop: the first one starts the check handle (without one, ios scan at once). */
void gp_io_defer_join(uv_loop_t *loop)
{
	io_defer.live++;
	if (io_defer.check)
		return;
	uv_check_t *c = malloc(sizeof(*c));
	if (!c)
		return;
	if (uv_check_init(loop, c) != 0 || uv_check_start(c, on_check) != 0) {
		free(c); /* uv_check_init cannot fail on unix; start only with a NULL callback */
		return;
	}
	uv_unref((uv_handle_t *)c); /* it must not keep the loop alive on its own */
	io_defer.check = c;
	io_defer.head = NULL;
	io_defer.tail = &io_defer.head;
}

void gp_io_defer_leave(void)
{
	if (--io_defer.live > 0 || !io_defer.check)
		return;
	uv_close((uv_handle_t *)io_defer.check, on_check_closed);
	io_defer.check = NULL;
	io_defer.head = NULL;
	io_defer.tail = &io_defer.head;
	io_defer.queued = 0;
}

/* Scan io's new bytes after the poll phase, or now when there is no check handle for it or
 * enough ios wait already (a burst of thousands, e.g. clients all leaving at once, would
 * otherwise hold a read buffer each and leave the heap that much larger). */
void gp_io_defer_scan(gp_io_t *io)
{
	if (io->scan_queued)
		return;
	if (!io_defer.check || io_defer.check->loop != io->tcp.loop ||
	    io_defer.queued >= GP_DEFER_MAX) {
		gp_io_scan_now(io);
		return;
	}
	io_defer.queued++;
	io->scan_queued = true;
	io->scan_next = NULL;
	*io_defer.tail = io;
	io_defer.tail = &io->scan_next;
}
