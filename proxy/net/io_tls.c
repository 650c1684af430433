/* io_tls.c - TLS as a layer inside the I/O engine: ciphertext on the socket, packets above. */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "net/bufpool.h"
#include "net/io_int.h"
#include "net/io_zlib.h"
#include "net/tls.h"

/*
 * io.c owns the socket and reads into a slab when TLS is on; what it read is fed to OpenSSL
 * (gp_tls_feed) and gp_io_tpump decrypts into the io's read buffer, where the packet scan
 * sees ordinary packets (or, compressed inside TLS, into the frames' raw buffer). Writes,
 * forwarded or our own, are encrypted in records of GP_TLS_CHUNK bytes and sent at once.
 * OpenSSL writes while reading too (TLS 1.3 tickets, alerts): its output is sent after every
 * call. Records OpenSSL still holds when reading paused are drained by on_fwd_written and
 * gp_io_resume, since no socket event will announce them.
 */

/* Send the ciphertext OpenSSL has for dst (records, handshake messages, tickets, alerts);
 * plain: the plaintext bytes it carries (what on_sent reports). */
static gp_status_t io_tflush(gp_io_t *dst, gp_io_t *src, size_t plain)
{
	size_t n = gp_tls_out_pending(dst->t);
	if (n == 0)
		return GP_OK;
	gp_send_req_t *s = malloc(sizeof(*s) + n);
	if (!s)
		return GP_ENOMEM;
	n = gp_tls_out(dst->t, s->data, n);
	s->len = plain;
	return gp_io_write_req(dst, s, n, src);
}

/* Encrypt n bytes for dst in records of GP_TLS_CHUNK and send them (src as in io_zsend:
 * the ciphertext is a copy, but its count still bounds what one side has in flight). */
gp_status_t gp_io_tsend(gp_io_t *dst, const uint8_t *p, size_t n, gp_io_t *src)
{
	while (n > 0) {
		size_t take = n < GP_TLS_CHUNK ? n : GP_TLS_CHUNK, took = 0;
		/* took == 0: the handshake is not done, and we have nothing to say before it */
		if (gp_tls_write(dst->t, p, take, &took) != GP_OK || took == 0)
			return GP_EPROTO;
		p += took;
		n -= took;
		gp_status_t st = io_tflush(dst, src, took);
		if (st != GP_OK)
			return st;
	}
	return GP_OK;
}

/* The handshake failed (or the peer left during it): tell the owner, which closes. */
static void io_tls_failed(gp_io_t *io, gp_status_t st)
{
	if (io->proto->tls_ready) {
		gp_io_settle(io);
		io->proto->tls_ready(io, st);
	} else {
		gp_io_fail(io, st);
	}
}

/* Byte-stream mode (HTTPS): plaintext goes to proto->data as it comes, while the owner
 * wants reads (it stops them to push back; gp_io_read pumps again). Returns false when the
 * loop is to stop. */
static bool io_tpump_stream(gp_io_t *io)
{
	/* Handed over within the call, on the loop thread (as on_alloc_raw's slab): data must
	 * not pump another HTTPS io before it is done with these bytes (http.c's never does). */
	static char slab[GP_TLS_CHUNK];
	if (!io->want_read || io->close_after_write)
		return false;
	size_t got = 0;
	gp_status_t st = gp_tls_read(io->t, slab, sizeof(slab), &got);
	gp_status_t fst = io_tflush(io, NULL, 0);
	if (st == GP_OK)
		st = fst;
	if (st != GP_OK) {
		gp_io_fail(io, st);
		return false;
	}
	if (got == 0)
		return false;
	io->proto->data(io, slab, got);
	return true;
}

/* Decrypt what OpenSSL holds into the read buffer (or, compressed inside TLS, into the
 * frames' raw buffer) and scan it, for as long as there is room and input; drive the
 * handshake first. Whatever OpenSSL writes meanwhile is sent after each call. */
void gp_io_tpump(gp_io_t *io)
{
	static gp_io_t *pumping; /* byte-stream: no nested pump from inside proto->data */
	if (pumping == io)
		return;
	while (!io->closing && !io->ended) {
		if (!gp_tls_handshake_done(io->t)) {
			bool done = false;
			gp_status_t st = gp_tls_handshake(io->t, &done);
			gp_status_t fst = io_tflush(io, NULL, 0);
			if (st == GP_OK)
				st = fst;
			if (st != GP_OK) {
				io_tls_failed(io, st);
				return;
			}
			if (!done)
				break;
			if (io->proto->tls_ready) {
				io->proto->tls_ready(io, GP_OK);
				if (io->closing)
					return;
			}
			continue;
		}
		if (io->proto->data) {
			gp_io_t *outer = pumping;
			pumping = io;
			bool more = io_tpump_stream(io);
			pumping = outer;
			if (!more)
				break;
			continue;
		}
		uint8_t *dst;
		size_t cap;
		if (io->z) {
			dst = gp_zio_raw_room(io->z, &cap);
		} else if (!(dst = gp_io_room(io, &cap))) {
			return;
		}
		if (cap == 0)
			break; /* on_fwd_written or gp_io_resume pump again */
		size_t got = 0;
		gp_status_t st = gp_tls_read(io->t, dst, cap, &got);
		gp_status_t fst = io_tflush(io, NULL, 0);
		if (st == GP_OK)
			st = fst;
		if (st != GP_OK) {
			if (st == GP_EPROTO) {
				struct sockaddr_storage ss;
				char ip[64] = "?";
				if (gp_io_addr(io, false, &ss) == GP_OK)
					(void)uv_ip_name((const struct sockaddr *)&ss, ip,
					                 sizeof(ip));
				gp_log(GP_LOG_WARN, "client_tls_error", "client=%s error=\"%s\"",
				       ip, gp_tls_reason(io->t));
			}
			gp_io_fail(io, st);
			return;
		}
		if (got == 0)
			break;
		if (io->z) {
			gp_zio_raw_add(io->z, got);
			gp_io_zpump(io);
		} else {
			gp_io_grew(io, (uint32_t)got);
			gp_io_scan_now(io);
		}
	}
	if (!io->closing)
		gp_io_settle(io);
}

/* Ciphertext read from the socket (either mode): count it, feed it, pump. */
void gp_io_tread(gp_io_t *io, const char *p, size_t n)
{
	if (io->total_in)
		*io->total_in += (uint64_t)n;
	if (gp_tls_feed(io->t, p, n) != GP_OK) {
		gp_io_fail(io, GP_ENOMEM);
		return;
	}
	gp_io_tpump(io);
}

/* The scan that switched TLS on has ended: the bytes after the SSL request are the
 * client's first TLS records (it sends them without waiting). */
void gp_io_tls_carry(gp_io_t *io)
{
	io->tls_carry = false;
	uint32_t n = gp_io_buffered(io);
	if (n) {
		if (gp_tls_feed(io->t, io->buf + io->start, n) != GP_OK) {
			gp_io_fail(io, GP_ENOMEM);
			return;
		}
		io->start = io->end;
	}
	gp_io_tpump(io);
}

gp_status_t gp_io_start_tls(gp_io_t *io, struct gp_tls_ctx *ctx)
{
	if (io->t || io->z)
		return GP_EINVAL; /* TLS comes first, once */
	gp_status_t st = gp_tls_conn_new(ctx, NULL, &io->t);
	if (st != GP_OK)
		return st;
	io->tls_carry = true; /* the scan under way hands over what follows (io_tls_carry) */
	return GP_OK;
}

gp_status_t gp_io_connect_tls(gp_io_t *io, struct gp_tls_ctx *ctx, const char *peer)
{
	if (io->t || io->z)
		return GP_EINVAL;
	gp_status_t st = gp_tls_conn_new(ctx, peer, &io->t);
	if (st != GP_OK)
		return st;
	/* The server says nothing until our ClientHello, which the first step writes; the
	 * rest runs from on_read (gp_io_tpump). No settle here: a scan may be under way. */
	bool done = false;
	st = gp_tls_handshake(io->t, &done);
	gp_status_t fst = io_tflush(io, NULL, 0);
	return st != GP_OK ? st : fst;
}

gp_status_t gp_io_start_tls_stream(gp_io_t *io, struct gp_tls_ctx *ctx, const char *peer)
{
	if (io->t || io->z || !io->proto->data)
		return GP_EINVAL;
	gp_status_t st = gp_tls_conn_new(ctx, peer, &io->t);
	if (st != GP_OK)
		return st;
	gp_io_tpump(io); /* the client role speaks first: its ClientHello goes out now */
	return io->closing || io->ended ? GP_ECLOSED : GP_OK;
}

bool gp_io_tls(const gp_io_t *io)
{
	return io->t != NULL;
}

const struct gp_tls_conn *gp_io_tls_conn(const gp_io_t *io)
{
	return io->t;
}
