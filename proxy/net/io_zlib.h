/* io_zlib.h - the compressed protocol's state per connection, a layer inside the I/O engine. */
#ifndef GP_IO_ZLIB_H
#define GP_IO_ZLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

/*
 * io.c owns the socket; this file owns the frames. Reads land in a small raw buffer here
 * and are inflated, frame by frame and incrementally, into the io's plaintext read buffer,
 * where the packet scan sees ordinary packets. Writes are cut into bounded frames with the
 * loop's one deflater. The compressed sequence id: a client's frames carry their own (0 for
 * a command's first); ours continue from its last one + 1, as a server's do.
 */

#define GP_ZRAW_SIZE  (16u * 1024u) /* raw (compressed) input held per io */
#define GP_ZFRAME_MAX (64u * 1024u) /* plaintext bytes per frame we send */

typedef struct gp_zio gp_zio_t;

/* Bytes through every compressed io (for /metrics). */
typedef struct gp_zstats {
	uint64_t wire_in;   /* compressed bytes read (headers included) */
	uint64_t plain_in;  /* what they inflated to */
	uint64_t wire_out;  /* frames written (headers included) */
	uint64_t plain_out; /* the packets' bytes inside them */
	uint64_t started;   /* ios that switched compression on */
	uint64_t active;    /* ...and are still open */
	uint64_t failed;    /* closed for a frame that did not hold what it claimed */
} gp_zstats_t;

/* A new layer (its 48 KiB inflater included); NULL when out of memory. */
gp_zio_t *gp_zio_new(void);
void gp_zio_free(gp_zio_t *z);
/* Where the next socket read may go (*cap bytes; 0 when the raw buffer is full). */
uint8_t *gp_zio_raw_room(gp_zio_t *z, size_t *cap);
/* n bytes were read into the room. */
void gp_zio_raw_add(gp_zio_t *z, size_t n);
/* Raw bytes waiting to be inflated. */
size_t gp_zio_raw_len(const gp_zio_t *z);
/* The raw buffer has no room left (stop reading until it is inflated). */
bool gp_zio_raw_full(const gp_zio_t *z);
/* Inflate what the raw buffer holds into out (cap bytes): *made bytes written, *moved when
 * anything happened (input taken or output made). GP_EPROTO when a frame lies: *err says
 * how (static text); the connection cannot go on. */
GP_WUR gp_status_t gp_zio_inflate(gp_zio_t *z, uint8_t *out, size_t cap, size_t *made, bool *moved,
                                  const char **err);
/* Room a frame of n plaintext bytes needs (n is capped at GP_ZFRAME_MAX). */
size_t gp_zio_bound(size_t n);
/* Build one frame from up to GP_ZFRAME_MAX bytes of src into dst (gp_zio_bound(n) bytes):
 * *used plaintext bytes taken, *len bytes written. It takes the next sequence id. */
GP_WUR gp_status_t gp_zio_deflate(gp_zio_t *z, const uint8_t *src, size_t n, uint8_t *dst,
                                  size_t *used, size_t *len);
/* The counters. */
const gp_zstats_t *gp_zio_stats(void);

#endif
