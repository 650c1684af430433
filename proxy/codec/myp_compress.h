/* myp_compress.h - the MySQL compressed protocol's framing (zlib): pure, no I/O, no malloc. */
#ifndef MYP_COMPRESS_H
#define MYP_COMPRESS_H

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "myp.h"

/*
 * With CLIENT_COMPRESS agreed, everything after the handshake response travels in
 * compressed frames that carry a byte stream of ordinary MySQL packets:
 *
 *   3 bytes  compressed length: payload bytes after this 7-byte header
 *   1 byte   compressed sequence id
 *   3 bytes  uncompressed length; 0 = the payload is stored (not deflated)
 *
 * A deflated payload is one whole zlib stream (compress()/uncompress() of the server).
 * Frames may cut packets anywhere: a packet over 16 MB spans frames, and the packets
 * inside keep their own sequence ids. The compressed sequence id is a counter of its
 * own, shared by both directions like the packets' one: it restarts at 0 with each
 * command the client sends and goes up by one per frame, whoever sends it. The caller
 * keeps that counter; these functions only carry it.
 *
 * zlib allocates from an arena inside the caller's struct (bump allocation, freed all at
 * once): nothing here calls malloc, and zlib keeps pointers into the struct, so it must not
 * move between init and end.
 */

#define MYP_ZHEADER_LEN  7
#define MYP_ZMAX_LEN     0xFFFFFFu /* largest length either field of the header can hold */
#define MYP_ZMIN_DEFLATE 50        /* shorter payloads go stored (MariaDB's MIN_COMPRESS_LENGTH) */

/* Arena sizes: zlib 1.2.13 needs about 39 KiB to inflate (7 KiB of state and the 32 KiB
 * window every client's default windowBits asks for) and about 262 KiB to deflate (window,
 * hash chains and pending buffer at windowBits 15, memLevel 8). test_compress checks the
 * real peaks fit; an arena too small makes init fail cleanly (Z_MEM_ERROR). */
#define MYP_ZIN_ARENA  (48u * 1024u)
#define MYP_ZOUT_ARENA (272u * 1024u)

typedef struct myp_zframe {
	uint32_t clen; /* payload bytes on the wire after the header */
	uint32_t ulen; /* uncompressed length; 0: stored, the payload is clen plain bytes */
	uint8_t seq;   /* compressed sequence id */
} myp_zframe_t;

/* Parse a 7-byte frame header at p. MYP_NEED_MORE when n < 7, *need then says how many
 * more bytes (need may be NULL). Any header parses: whether its claims hold is checked
 * by myp_zin_begin (limits) and myp_zin_feed (the payload itself). */
MYP_WUR myp_status_t myp_zframe_header(const uint8_t *p, size_t n, myp_zframe_t *out, size_t *need);
/* Write a 7-byte frame header. */
void myp_zframe_put_header(uint8_t *dst, uint32_t clen, uint8_t seq, uint32_t ulen);
/* Bytes the frame's payload inflates to (ulen, or clen when stored). */
uint32_t myp_zframe_plain_len(const myp_zframe_t *f);

/* ---- inbound: one frame's payload inflated chunk by chunk ---------------- */

typedef struct myp_zin {
	z_stream zs;        /* zlib's inflate stream (allocates from arena) */
	myp_zframe_t frame; /* the frame in progress */
	uint32_t in_left;   /* payload bytes of the frame not yet fed */
	uint32_t out_left;  /* bytes the frame must still produce */
	bool zinit;         /* inflateInit succeeded */
	bool active;        /* a frame is begun and not finished */
	bool failed;        /* sticky: a frame failed; only myp_zin_end remains */
	bool zdone;         /* the zlib stream of the frame ended */
	const char *err;    /* why the last call failed (static text, no data) */
	size_t arena_used;  /* arena bytes handed to zlib */
	alignas(16) uint8_t arena[MYP_ZIN_ARENA]; /* zlib's memory */
} myp_zin_t;

/* Initialise (inflateInit). MYP_EPROTO with z->err if zlib refuses (arena too small). */
MYP_WUR myp_status_t myp_zin_init(myp_zin_t *z);
/* Release zlib's state (inflateEnd); the struct may then be freed. Idempotent. */
void myp_zin_end(myp_zin_t *z);
/* Start a frame whose header was parsed. max_len (<= MYP_ZMAX_LEN) bounds what the
 * frame may claim to inflate to, e.g. the caller's max packet size; over it, or an
 * impossible header (a deflated frame of 0 bytes), is MYP_EPROTO with z->err. The claim
 * is never used to size anything: it is what the output must add up to exactly. */
MYP_WUR myp_status_t myp_zin_begin(myp_zin_t *z, const myp_zframe_t *f, uint32_t max_len);
/*
 * Feed payload bytes of the current frame (n may be more than the frame holds: only its
 * bytes are taken) and inflate into out (cap bytes). *used = input bytes taken, *made =
 * bytes written to out. Returns:
 *  MYP_OK        the frame is complete: its whole payload was taken and exactly its
 *                claimed length produced; the next bytes start a new frame header;
 *  MYP_NEED_MORE call again: with more input (*used == n) or with room in out;
 *  MYP_EPROTO    the payload is not what the header said (z->err says how): corrupt
 *                zlib data, inflating to more or less than claimed, a zlib stream that
 *                ends before or after the payload. The connection cannot continue.
 */
MYP_WUR myp_status_t myp_zin_feed(myp_zin_t *z, const uint8_t *in, size_t n, size_t *used,
                                  uint8_t *out, size_t cap, size_t *made);

/* ---- outbound: whole frames built from a run of packets ------------------ */

typedef struct myp_zout {
	z_stream zs;       /* zlib's deflate stream (allocates from arena) */
	bool zinit;        /* deflateInit succeeded */
	const char *err;   /* why the last call failed (static text) */
	size_t arena_used; /* arena bytes handed to zlib */
	alignas(16) uint8_t arena[MYP_ZOUT_ARENA]; /* zlib's memory */
} myp_zout_t;

/* Initialise with a zlib level (0..9, or Z_DEFAULT_COMPRESSION as MariaDB uses). Each
 * frame is a stream of its own, so a myp_zout_t keeps nothing between frames: one per
 * loop thread serves every connection. */
MYP_WUR myp_status_t myp_zout_init(myp_zout_t *z, int level);
void myp_zout_end(myp_zout_t *z);
/* dst room that always suffices for a frame of n input bytes (n is capped at
 * MYP_ZMAX_LEN per frame): what does not deflate smaller goes stored, so a frame is
 * never longer than its input plus the header. */
size_t myp_zframe_bound(size_t n);
/*
 * Build one whole frame (header, then payload) into dst from the first bytes of src, a run
 * of already-framed packets: takes min(n, MYP_ZMAX_LEN) bytes (*used), writes *len bytes.
 * Payloads under MYP_ZMIN_DEFLATE bytes, or that do not deflate smaller, are stored.
 * Call again with src + *used for the rest (with seq + 1). n == 0 builds an empty stored
 * frame. MYP_EOVERFLOW when cap < myp_zframe_bound(taken); MYP_EPROTO (z->err) if zlib fails.
 */
MYP_WUR myp_status_t myp_zout_frame(myp_zout_t *z, const uint8_t *src, size_t n, uint8_t seq,
                                    uint8_t *dst, size_t cap, size_t *used, size_t *len);

#endif
