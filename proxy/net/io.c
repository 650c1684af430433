/* io.c - the one I/O engine: every socket, its read buffer, packet framing, relaying to a peer. */
#include "net/io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "net/bufpool.h"
#include "net/io_int.h"
#include "net/io_zlib.h"
#include "net/tls.h"
#include "codec/myp.h"

#define GP_KEEPALIVE_S 60 /* TCP keepalive idle time: a crashed peer is noticed, not held */

void gp_io_fail(gp_io_t *io, gp_status_t st)
{
	if (!io || io->ended || io->closing)
		return;
	io->ended = true;
	gp_io_settle(io);
	io->proto->ended(io, st);
}

static void io_release_buf(gp_io_t *io)
{
	if (io->buf && io->pending == 0) {
		if (io->dirty)
			explicit_bzero(io->buf, io->dirty);
		io->dirty = 0;
		gp_bufpool_put(io->buf);
		io->buf = NULL;
		io->start = io->end = 0;
	}
}

static void on_closed(uv_handle_t *h)
{
	gp_io_t *io = h->data;
	io->connected = false;
	io->scan_queued = false;
	io_release_buf(io);
	if (io->z) {
		gp_zio_free(io->z);
		io->z = NULL;
	}
	if (io->t) {
		gp_tls_conn_free(io->t);
		io->t = NULL;
	}
	gp_io_defer_leave();
	io->proto->closed(io);
}

static void io_do_close(gp_io_t *io)
{
	if (uv_is_closing((uv_handle_t *)&io->tcp))
		return;
	io->closing = true;
	if (io->reading) {
		uv_read_stop((uv_stream_t *)&io->tcp);
		io->reading = false;
	}
	uv_close((uv_handle_t *)&io->tcp, on_closed);
}

static bool io_write_idle(const gp_io_t *io)
{
	return io->own_pending == 0 && uv_stream_get_write_queue_size((uv_stream_t *)&io->tcp) == 0;
}

/* A queued write on io's socket finished: maybe a deferred close is due now. */
static void io_after_write(gp_io_t *io)
{
	if (io->close_after_write && !io->closing && io_write_idle(io))
		io_do_close(io);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	gp_io_t *io = h->data;
	(void)suggested;
	if (io->t) {
		/* TLS: ciphertext is fed to OpenSSL at once (it copies), so one slab serves all. */
		static char slab[GP_TLS_CHUNK]; /* consumed within on_read, on the loop thread */
		*b = uv_buf_init(slab, sizeof(slab));
		return;
	}
	if (io->z) {
		/* Compressed: the socket's bytes are frames, inflated into buf by io_zpump. */
		size_t cap;
		uint8_t *room = gp_zio_raw_room(io->z, &cap);
		*b = uv_buf_init((char *)room, (unsigned)cap);
		return;
	}
	if (!io->buf) {
		io->buf = gp_bufpool_get();
		io->start = io->end = 0;
		if (!io->buf) {
			*b = uv_buf_init(NULL, 0);
			return;
		}
	}
	*b = uv_buf_init((char *)io->buf + io->end, GP_BUF_SIZE - io->end);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	gp_io_t *io = s->data;
	if (nread > 0 && io->t) {
		gp_io_tread(io, b->base, (size_t)nread);
		return;
	}
	if (nread > 0 && io->z) {
		gp_zio_raw_add(io->z, (size_t)nread);
		if (io->total_in)
			*io->total_in += (uint64_t)nread;
		gp_io_zpump(io);
		return;
	}
	if (nread > 0) {
		gp_io_grew(io, (uint32_t)nread);
		if (io->total_in)
			*io->total_in += (uint64_t)nread;
		/* A read that filled the buffer is scanned now: libuv reads again at once and
		 * needs the room. A short one ends libuv's reading of this socket for this poll
		 * phase, so its scan can wait for the others' reads. */
		if ((size_t)nread < b->len)
			gp_io_defer_scan(io);
		else
			gp_io_scan_now(io);
		return;
	}
	if (nread == 0)
		return;
	if (io->scan_queued) {
		/* Data came before the EOF or error: its packets are relayed first. */
		io->scan_queued = false;
		gp_io_scan_now(io);
		if (io->closing)
			return;
	}
	if (nread == UV_ENOBUFS) {
		gp_io_fail(io, GP_ENOMEM);
		return;
	}
	gp_io_fail(io, gp_status_from_uv((int)nread));
}

/* Byte-stream mode: the bytes are handed over at once, so one buffer serves every io. */
static void on_alloc_raw(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	static char slab[16384]; /* consumed within on_read_raw, on the one loop thread */
	(void)h;
	(void)suggested;
	*b = uv_buf_init(slab, sizeof(slab));
}

static void on_read_raw(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	gp_io_t *io = s->data;
	if (nread > 0 && io->t) {
		gp_io_tread(io, b->base, (size_t)nread); /* HTTPS */
		return;
	}
	if (nread > 0) {
		io->proto->data(io, b->base, (size_t)nread);
		return;
	}
	if (nread < 0)
		gp_io_fail(io, nread == UV_ENOBUFS ? GP_ENOMEM : gp_status_from_uv((int)nread));
}

static void on_fwd_written(uv_write_t *req, int status)
{
	gp_io_t *io = req->data; /* the source side, whose buffer held the bytes */
	gp_io_t *peer = io->peer;
	free(req);
	io->pending--;
	if (status < 0 && status != UV_ECANCELED && peer)
		gp_io_fail(peer, gp_status_from_uv(status));
	if (peer)
		io_after_write(peer);
	if (io->closing || !io->connected) {
		io_release_buf(io);
		return;
	}
	gp_io_settle(io);
	if (io->z && gp_zio_raw_len(io->z))
		gp_io_zpump(io); /* frames read ahead wait for the room the write just freed */
	if (io->t && gp_tls_readable(io->t) && !io->closing)
		gp_io_tpump(io); /* so do records OpenSSL holds: no socket event will say so */
}

/* Write what fits now, as libuv's uv_try_write would, but with send(), which skips the VFS
 * layer write() goes through (~2 % of the proxy's profile; bench/CHANGES.md). Returns the
 * bytes written, 0 when none fit (or libuv still has bytes queued), or a libuv error. */
static int io_try_send(gp_io_t *io, const uv_buf_t *ub)
{
	uv_os_fd_t fd;
	if (uv_fileno((const uv_handle_t *)&io->tcp, &fd) != 0)
		return uv_try_write((uv_stream_t *)&io->tcp, ub, 1);
	if (uv_stream_get_write_queue_size((uv_stream_t *)&io->tcp) != 0)
		return 0; /* keep the byte order: libuv's queue goes first */
	for (;;) {
		ssize_t r = send(fd, ub->base, ub->len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r >= 0)
			return (int)r;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	}
}

static void io_count_out(gp_io_t *io, uint64_t n)
{
	if (io->total_out)
		*io->total_out += n;
}

static void on_sent(uv_write_t *req, int status);

/*
 * Write s->data[0, len) to dst: try-sent first, a queued write for what is left (s then
 * belongs to it; else it is freed here). src as in io_zsend: the io whose pending count
 * holds its reading back until the bytes are out; NULL for our own (on_sent reports s->len).
 */
gp_status_t gp_io_write_req(gp_io_t *dst, gp_send_req_t *s, size_t len, gp_io_t *src)
{
	uv_buf_t ub = uv_buf_init((char *)s->data, (unsigned)len);
	int r = io_try_send(dst, &ub);
	if (r == (int)len) {
		io_count_out(dst, len);
		free(s);
		return GP_OK;
	}
	if (r < 0 && r != UV_EAGAIN) {
		free(s);
		return gp_status_from_uv(r);
	}
	if (r > 0) {
		io_count_out(dst, (uint64_t)r);
		ub.base += r;
		ub.len -= (size_t)r;
	}
	s->req.data = src ? src : dst;
	r = uv_write(&s->req, (uv_stream_t *)&dst->tcp, &ub, 1, src ? on_fwd_written : on_sent);
	if (r < 0) {
		free(s);
		return gp_status_from_uv(r);
	}
	io_count_out(dst, ub.len);
	if (src)
		src->pending++;
	else
		dst->own_pending++;
	return GP_OK;
}

/*
 * Write n bytes to a compressed io in frames of at most GP_ZFRAME_MAX plaintext bytes, each
 * built whole into a request of its own: try-sent first, queued for what is left. src is
 * the io whose buffer the bytes were forwarded from: its pending count holds it back until
 * the frames are out (the layer copies, so that count is what bounds the bytes it holds);
 * NULL for our own sends.
 */
static gp_status_t io_zsend(gp_io_t *dst, const uint8_t *p, size_t n, gp_io_t *src)
{
	while (n > 0) {
		gp_send_req_t *s = malloc(sizeof(*s) + gp_zio_bound(n));
		size_t used, len;
		if (!s)
			return GP_ENOMEM;
		if (gp_zio_deflate(dst->z, p, n, s->data, &used, &len) != GP_OK) {
			free(s);
			return GP_EPROTO;
		}
		p += used;
		n -= used;
		gp_status_t st;
		if (dst->t) {
			/* Compression inside TLS: the frame is encrypted (copied) on its way. */
			st = gp_io_tsend(dst, s->data, len, src);
			free(s);
		} else {
			s->len = used;
			st = gp_io_write_req(dst, s, len, src);
		}
		if (st != GP_OK)
			return st;
	}
	return GP_OK;
}

/* Relay buf[a, b) to the peer: one try-send, and a queued write for what is left. */
static void io_flush(gp_io_t *io, uint32_t a, uint32_t b)
{
	gp_io_t *peer = io->peer;
	if (b <= a || !peer || peer->closing || peer->close_after_write)
		return;
	if (peer->z || peer->t) {
		gp_status_t st = peer->z ? io_zsend(peer, io->buf + a, b - a, io)
		                         : gp_io_tsend(peer, io->buf + a, b - a, io);
		if (st != GP_OK)
			gp_io_fail(peer, st);
		return;
	}
	uv_buf_t ub = uv_buf_init((char *)io->buf + a, b - a);
	int r = io_try_send(peer, &ub);
	if (r == (int)ub.len) {
		io_count_out(peer, ub.len);
		return;
	}
	if (r < 0 && r != UV_EAGAIN) {
		gp_io_fail(peer, gp_status_from_uv(r));
		return;
	}
	if (r > 0) {
		io_count_out(peer, (uint64_t)r);
		ub.base += r;
		ub.len -= (size_t)r;
	}
	uv_write_t *req = malloc(sizeof(*req));
	if (!req) {
		gp_io_fail(peer, GP_ENOMEM);
		return;
	}
	req->data = io;
	r = uv_write(req, (uv_stream_t *)&peer->tcp, &ub, 1, on_fwd_written);
	if (r < 0) {
		free(req);
		gp_io_fail(peer, gp_status_from_uv(r));
		return;
	}
	io_count_out(peer, ub.len);
	io->pending++;
}

void gp_io_scan_now(gp_io_t *io)
{
	uint32_t pos = io->start, from = io->start;
	while (!io->closing && !io->held && io->buf) {
		if (io->skip) {
			uint32_t take = io->end - pos;
			if (take == 0)
				break;
			if (take > io->skip)
				take = io->skip;
			pos += take;
			io->skip -= take;
			if (io->skip_drop)
				from = pos;
			continue;
		}
		uint32_t avail = io->end - pos;
		if (avail < MYP_HEADER_LEN)
			break;
		const uint8_t *h = io->buf + pos;
		uint32_t len = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16;
		uint32_t need = io->whole || len < io->peek ? len : io->peek;
		if (MYP_HEADER_LEN + need > GP_BUF_SIZE) {
			io_flush(io, from, pos);
			io->start = pos;
			gp_io_fail(io, GP_ETOOBIG);
			return;
		}
		if (avail < MYP_HEADER_LEN + need)
			break;
		gp_pkt_t pkt = {
		        .len = len, .seq = h[3], .p = io->buf + pos + MYP_HEADER_LEN, .n = need};
		gp_pkt_action_t act = io->proto->packet(io, &pkt);
		if (act == GP_PKT_HOLD) {
			io->held = true;
			break;
		}
		io->buf[pos + 3] = pkt.seq; /* the callback may renumber what it relays */
		if (act == GP_PKT_FORWARD && pkt.len < len && need == len) {
			io_flush(io, from, pos + MYP_HEADER_LEN + pkt.len); /* shortened in place */
			from = pos + MYP_HEADER_LEN + len;
		}
		if (act != GP_PKT_FORWARD)
			io_flush(io, from, pos);
		pos += MYP_HEADER_LEN + need;
		io->skip = len - need;
		io->skip_drop = act != GP_PKT_FORWARD;
		if (act != GP_PKT_FORWARD)
			from = pos;
		if (act == GP_PKT_STOP)
			break;
	}
	if (!io->closing && io->buf)
		io_flush(io, from, pos);
	io->start = pos;
	if (io->tls_carry && !io->closing)
		gp_io_tls_carry(io);
	gp_io_settle(io);
	if (io->proto->scanned && !io->closing)
		io->proto->scanned(io);
}

/* Compact or release the buffer and bring reading in line with what is wanted. */
void gp_io_settle(gp_io_t *io)
{
	if (io->buf && io->pending == 0) {
		if (io->start == io->end) {
			io_release_buf(io);
		} else if (io->start > 0) {
			memmove(io->buf, io->buf + io->start, io->end - io->start);
			io->end -= io->start;
			io->start = 0;
		}
	}
	/* A held side keeps reading while its buffer has room: the held bytes stay put, but an
	 * EOF or reset behind them is seen (a client that pipelined COM_QUIT and left while a
	 * backend stalls must not keep the session and its backend connection forever). */
	bool room = !io->held || !io->buf || io->end < GP_BUF_SIZE;
	if (io->z && gp_zio_raw_full(io->z))
		room = false; /* frames wait to be inflated: read again once they are */
	if (io->t && gp_tls_readable(io->t))
		room = false; /* OpenSSL holds records: its memory BIO must not grow unbounded */
	bool want = io->want_read && room && io->pending == 0 && !io->ended && !io->closing &&
	            !io->close_after_write && io->connected;
	if (want && !io->reading) {
		if (uv_read_start((uv_stream_t *)&io->tcp,
		                  io->proto->data ? on_alloc_raw : on_alloc,
		                  io->proto->data ? on_read_raw : on_read) == 0)
			io->reading = true;
	} else if (!want && io->reading) {
		uv_read_stop((uv_stream_t *)&io->tcp);
		io->reading = false;
	}
}

gp_status_t gp_io_init(gp_io_t *io, uv_loop_t *loop, const gp_io_proto_t *proto, void *owner)
{
	memset(io, 0, sizeof(*io));
	io->proto = proto;
	io->owner = owner;
	io->peek = MYP_RESP_PEEK;
	int r = uv_tcp_init(loop, &io->tcp);
	if (r < 0)
		return gp_status_from_uv(r);
	io->tcp.data = io;
	gp_io_defer_join(loop);
	return GP_OK;
}

gp_status_t gp_io_accept_tcp(uv_tcp_t *tcp, uv_stream_t *listener)
{
	return gp_status_from_uv(uv_accept(listener, (uv_stream_t *)tcp));
}

gp_status_t gp_io_accept(gp_io_t *io, uv_stream_t *listener)
{
	return gp_io_accept_tcp(&io->tcp, listener);
}

/* The connect request lives only while it runs (an io in the struct would cost every idle
 * session its size twice). libuv calls back before the io's close callback, even when a
 * close cancelled it, so io is still there. */
static void on_connect(uv_connect_t *req, int status)
{
	gp_io_t *io = req->data;
	free(req);
	if (io->closing)
		return; /* cancelled by gp_io_close */
	io->proto->connected(io, gp_status_from_uv(status));
}

gp_status_t gp_io_connect(gp_io_t *io, const struct sockaddr *addr)
{
	uv_connect_t *req = malloc(sizeof(*req));
	if (!req)
		return GP_ENOMEM;
	req->data = io;
	int r = uv_tcp_connect(req, &io->tcp, addr, on_connect);
	if (r < 0)
		free(req);
	return gp_status_from_uv(r);
}

gp_status_t gp_io_adopt(gp_io_t *io, int fd)
{
	if (fd < 0)
		return GP_EINVAL;
	int r = uv_tcp_open(&io->tcp, fd);
	if (r != 0) {
		close(fd);
		return gp_status_from_uv(r);
	}
	return GP_OK;
}

int gp_io_dup(const gp_io_t *from)
{
	uv_os_fd_t fd;
	if (uv_fileno((const uv_handle_t *)&from->tcp, &fd) != 0)
		return -1;
	return dup(fd);
}

gp_status_t gp_io_take(gp_io_t *io, const gp_io_t *from)
{
	return gp_io_adopt(io, gp_io_dup(from));
}

bool gp_io_quiet(const gp_io_t *io)
{
	uv_os_fd_t fd;
	uint8_t c;
	if (io->ended || gp_io_buffered(io) != 0 || (io->z && gp_zio_raw_len(io->z)) ||
	    (io->t && gp_tls_readable(io->t)) || uv_fileno((const uv_handle_t *)&io->tcp, &fd) != 0)
		return false;
	ssize_t r = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

const uint8_t *gp_io_unscanned(const gp_io_t *io, uint32_t *n)
{
	*n = gp_io_buffered(io);
	return *n ? io->buf + io->start : NULL;
}

bool gp_io_flushed(const gp_io_t *io)
{
	return uv_stream_get_write_queue_size((const uv_stream_t *)&io->tcp) == 0;
}

gp_status_t gp_io_addr(const gp_io_t *io, bool local, struct sockaddr_storage *ss)
{
	int len = sizeof(*ss);
	memset(ss, 0, sizeof(*ss));
	int r = local ? uv_tcp_getsockname(&io->tcp, (struct sockaddr *)ss, &len)
	              : uv_tcp_getpeername(&io->tcp, (struct sockaddr *)ss, &len);
	return gp_status_from_uv(r);
}

void gp_io_tune(gp_io_t *io)
{
	io->connected = true;
	uv_tcp_nodelay(&io->tcp, 1);
	uv_tcp_keepalive(&io->tcp, 1, GP_KEEPALIVE_S);
}

void gp_io_read(gp_io_t *io, bool on)
{
	io->want_read = on;
	gp_io_settle(io);
	if (on && io->t && io->proto->data && gp_tls_readable(io->t) && !io->closing)
		gp_io_tpump(io); /* byte-stream: records held while reading was off */
}

void gp_io_set_whole(gp_io_t *io, bool whole)
{
	io->whole = whole;
}

void gp_io_set_wipe(gp_io_t *io)
{
	io->wipe = true;
}

void gp_io_resume(gp_io_t *io)
{
	if (!io->held)
		return;
	io->held = false;
	if (io->buf && io->start < io->end)
		gp_io_scan_now(io);
	else
		gp_io_settle(io);
	if (io->z && gp_zio_raw_len(io->z))
		gp_io_zpump(io);
	if (io->t && gp_tls_readable(io->t) && !io->closing)
		gp_io_tpump(io);
}

static void on_sent(uv_write_t *req, int status)
{
	gp_io_t *io = req->data;
	size_t len = ((gp_send_req_t *)req)->len;
	free(req);
	io->own_pending--;
	if (status < 0 && status != UV_ECANCELED)
		gp_io_fail(io, gp_status_from_uv(status));
	if (len && io->proto->sent && !io->closing) /* 0: TLS records of no send of ours */
		io->proto->sent(io, len);
	io_after_write(io);
}

gp_status_t gp_io_send(gp_io_t *io, const void *data, size_t len)
{
	struct iovec v = {.iov_base = (void *)data, .iov_len = len};
	return gp_io_sendv(io, &v, 1);
}

gp_status_t gp_io_sendv(gp_io_t *io, const struct iovec *v, size_t n)
{
	if (io->closing || !io->connected)
		return GP_ECLOSED;
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += v[i].iov_len;
	if (io->z || io->t) {
		gp_status_t st = GP_OK;
		for (size_t i = 0; i < n && st == GP_OK; i++)
			st = io->z ? io_zsend(io, v[i].iov_base, v[i].iov_len, NULL)
			           : gp_io_tsend(io, v[i].iov_base, v[i].iov_len, NULL);
		return st;
	}
	gp_send_req_t *s = malloc(sizeof(*s) + len);
	if (!s)
		return GP_ENOMEM;
	s->len = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i].iov_len)
			memcpy(s->data + s->len, v[i].iov_base, v[i].iov_len);
		s->len += v[i].iov_len;
	}
	s->req.data = io;
	uv_buf_t ub = uv_buf_init((char *)s->data, (unsigned)len);
	int r = uv_write(&s->req, (uv_stream_t *)&io->tcp, &ub, 1, on_sent);
	if (r < 0) {
		free(s);
		return gp_status_from_uv(r);
	}
	io->own_pending++;
	io_count_out(io, len);
	return GP_OK;
}

void gp_io_close(gp_io_t *io, bool after_write)
{
	if (io->closing)
		return;
	if (after_write && io->connected && !io_write_idle(io)) {
		io->close_after_write = true;
		gp_io_settle(io);
		return;
	}
	io_do_close(io);
}

uint32_t gp_io_buffered(const gp_io_t *io)
{
	return io->buf ? io->end - io->start : 0;
}

uint8_t *gp_io_room(gp_io_t *io, size_t *cap)
{
	if (!io->buf) {
		io->buf = gp_bufpool_get();
		io->start = io->end = 0;
		if (!io->buf) {
			gp_io_fail(io, GP_ENOMEM);
			return NULL;
		}
	}
	if (io->pending == 0 && io->start > 0) {
		memmove(io->buf, io->buf + io->start, io->end - io->start);
		io->end -= io->start;
		io->start = 0;
	}
	*cap = GP_BUF_SIZE - io->end;
	return io->buf + io->end;
}

/* Inflate the raw frames into the read buffer and scan the packets they carry, for as long
 * as there is room and input. */
void gp_io_zpump(gp_io_t *io)
{
	while (!io->closing && !io->ended) {
		size_t made, cap;
		bool moved;
		const char *err;
		uint8_t *dst = gp_io_room(io, &cap);
		if (!dst)
			return;
		if (gp_zio_inflate(io->z, dst, cap, &made, &moved, &err) != GP_OK) {
			struct sockaddr_storage ss;
			char ip[64] = "?";
			if (gp_io_addr(io, false, &ss) == GP_OK)
				(void)uv_ip_name((const struct sockaddr *)&ss, ip, sizeof(ip));
			gp_log(GP_LOG_WARN, "client_bad_compressed_frame", "client=%s error=\"%s\"",
			       ip, err ? err : "?");
			gp_io_fail(io, GP_EPROTO);
			return;
		}
		gp_io_grew(io, (uint32_t)made);
		if (made)
			gp_io_scan_now(io);
		else if (!moved)
			break;
	}
	if (!io->closing)
		gp_io_settle(io);
}

gp_status_t gp_io_start_compress(gp_io_t *io)
{
	if (io->z)
		return GP_OK;
	gp_zio_t *z = gp_zio_new();
	if (!z)
		return GP_ENOMEM;
	/* Whatever the client sent after its login is frames already. */
	uint32_t n = gp_io_buffered(io);
	if (n) {
		size_t cap;
		uint8_t *room = gp_zio_raw_room(z, &cap);
		if (n > cap) {
			gp_zio_free(z);
			return GP_ETOOBIG;
		}
		memcpy(room, io->buf + io->start, n);
		gp_zio_raw_add(z, n);
		io->start = io->end;
	}
	io->z = z;
	if (n)
		gp_io_zpump(io);
	return GP_OK;
}

bool gp_io_compressed(const gp_io_t *io)
{
	return io->z != NULL;
}
