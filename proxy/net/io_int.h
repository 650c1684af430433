/* io_int.h - the I/O engine's insides, shared by io.c and its layers' files (io_tls.c). */
#ifndef GP_IO_INT_H
#define GP_IO_INT_H

#include "net/io.h"

#define GP_TLS_CHUNK (16u * 1024u) /* plaintext per TLS write: one record's worth */

/* One write of bytes of our own (or encrypted for a peer): a libuv request and its copy. */
typedef struct gp_send_req {
	uv_write_t req; /* libuv request (req.data = io) */
	size_t len;     /* bytes on_sent reports (plaintext) */
	uint8_t data[]; /* copy of what is sent */
} gp_send_req_t;

/* io.c: write s->data[0, len) to dst (try-send, then queued; s is taken). src: the io
 * whose pending count holds its reading back until the bytes are out; NULL for our own. */
GP_WUR gp_status_t gp_io_write_req(gp_io_t *dst, gp_send_req_t *s, size_t len, gp_io_t *src);
/* n bytes were read (or inflated, or decrypted) into buf at io->end: under gp_io_set_wipe,
 * all of the buffer up to there is wiped before it goes. */
static inline void gp_io_grew(gp_io_t *io, uint32_t n)
{
	io->end += n;
	if (io->wipe && io->end > io->dirty)
		io->dirty = io->end;
}
/* io.c: scan the read buffer's packets now. */
void gp_io_scan_now(gp_io_t *io);
/* io.c: compact the buffer and bring reading in line with what is wanted. */
void gp_io_settle(gp_io_t *io);
/* io.c: the socket ended or failed (ended() is called once). */
void gp_io_fail(gp_io_t *io, gp_status_t st);
/* io.c: the read buffer's room after its unread bytes (*cap bytes; taken from the pool if
 * the io has none, the unread bytes moved to the front when nothing is pending); NULL: out
 * of memory, and the io failed. */
uint8_t *gp_io_room(gp_io_t *io, size_t *cap);
/* io.c: inflate the compressed layer's raw frames and scan them. */
void gp_io_zpump(gp_io_t *io);

/* io_defer.c: one more io on loop (the first starts the check handle that scans after
 * each poll phase), one fewer (the last closes it), and io's new bytes to be scanned after
 * the poll phase (or now: no check handle, or GP_DEFER_MAX ios wait already). Reading
 * every ready socket before relaying any keeps a woken peer from competing with the rest
 * of the turn (bench/CHANGES.md, change 2). */
void gp_io_defer_join(uv_loop_t *loop);
void gp_io_defer_leave(void);
void gp_io_defer_scan(gp_io_t *io);

/* io_tls.c: encrypt n bytes for dst and send them (src as for gp_io_write_req). */
GP_WUR gp_status_t gp_io_tsend(gp_io_t *dst, const uint8_t *p, size_t n, gp_io_t *src);
/* io_tls.c: drive the handshake, decrypt and scan while there is room and input. */
void gp_io_tpump(gp_io_t *io);
/* io_tls.c: ciphertext read from the socket: count, feed and pump it. */
void gp_io_tread(gp_io_t *io, const char *p, size_t n);
/* io_tls.c: the scan that switched TLS on ended: feed the bytes after the SSL request. */
void gp_io_tls_carry(gp_io_t *io);

#endif
