/* myp_compress.c - the compressed protocol's frames: header, incremental inflate, frame builder. */
#include <string.h>

#include "myp_compress.h"

/* ---- zlib's memory: bump allocation from the caller's arena ---------------- */

/* zlib wants malloc's alignment; everything is freed at once by resetting `used`. */
static void *arena_take(uint8_t *mem, size_t cap, size_t *used, size_t items, size_t size)
{
	size_t want, at = (*used + 15u) & ~(size_t)15u;

	if (size != 0 && items > SIZE_MAX / size)
		return Z_NULL;
	want = items * size;
	if (at > cap || want > cap - at)
		return Z_NULL; /* zlib reports Z_MEM_ERROR */
	*used = at + want;
	return mem + at;
}

static voidpf zin_alloc(voidpf opaque, uInt items, uInt size)
{
	myp_zin_t *z = opaque;

	return arena_take(z->arena, sizeof z->arena, &z->arena_used, items, size);
}

static voidpf zout_alloc(voidpf opaque, uInt items, uInt size)
{
	myp_zout_t *z = opaque;

	return arena_take(z->arena, sizeof z->arena, &z->arena_used, items, size);
}

/* Blocks are released together when the stream ends. */
static void arena_free(voidpf opaque, voidpf address)
{
	(void)opaque;
	(void)address;
}

/* ---- frame header ------------------------------------------------------------ */

static uint32_t get_u24(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

static void put_u24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
}

myp_status_t myp_zframe_header(const uint8_t *p, size_t n, myp_zframe_t *out, size_t *need)
{
	if (n < MYP_ZHEADER_LEN) {
		if (need)
			*need = MYP_ZHEADER_LEN - n;
		return MYP_NEED_MORE;
	}
	if (need)
		*need = 0;
	out->clen = get_u24(p);
	out->seq = p[3];
	out->ulen = get_u24(p + 4);
	return MYP_OK;
}

void myp_zframe_put_header(uint8_t *dst, uint32_t clen, uint8_t seq, uint32_t ulen)
{
	put_u24(dst, clen);
	dst[3] = seq;
	put_u24(dst + 4, ulen);
}

uint32_t myp_zframe_plain_len(const myp_zframe_t *f)
{
	return f->ulen ? f->ulen : f->clen;
}

/* ---- inbound ------------------------------------------------------------------ */

static myp_status_t zin_fail(myp_zin_t *z, const char *why)
{
	z->err = why;
	z->failed = true;
	z->active = false;
	return MYP_EPROTO;
}

myp_status_t myp_zin_init(myp_zin_t *z)
{
	memset(z, 0, offsetof(myp_zin_t, arena)); /* the arena itself needs no clearing */
	z->zs.zalloc = zin_alloc;
	z->zs.zfree = arena_free;
	z->zs.opaque = z;
	/* windowBits 15: the window every zlib sender may use (clients use the default). */
	if (inflateInit2(&z->zs, 15) != Z_OK) {
		z->err = "zlib could not start inflating (arena too small?)";
		z->failed = true;
		return MYP_EPROTO;
	}
	z->zinit = true;
	return MYP_OK;
}

void myp_zin_end(myp_zin_t *z)
{
	if (z->zinit)
		(void)inflateEnd(&z->zs);
	z->zinit = false;
	z->active = false;
	z->arena_used = 0;
}

myp_status_t myp_zin_begin(myp_zin_t *z, const myp_zframe_t *f, uint32_t max_len)
{
	if (!z->zinit || z->failed)
		return zin_fail(z, z->err ? z->err : "inflater not initialised");
	if (z->active)
		return zin_fail(z, "a compressed frame began before the previous one ended");
	if (max_len > MYP_ZMAX_LEN)
		max_len = MYP_ZMAX_LEN;
	if (myp_zframe_plain_len(f) > max_len)
		return zin_fail(z, "compressed frame claims more than the maximum packet size");
	if (f->ulen != 0 && f->clen == 0)
		return zin_fail(z, "compressed frame claims data but carries no payload");
	if (f->ulen != 0 && inflateReset(&z->zs) != Z_OK)
		return zin_fail(z, "zlib could not reset");
	z->frame = *f;
	z->in_left = f->clen;
	z->out_left = myp_zframe_plain_len(f);
	z->zdone = false;
	z->active = true;
	z->err = NULL;
	return MYP_OK;
}

static myp_status_t zin_feed_stored(myp_zin_t *z, const uint8_t *in, size_t n, size_t *used,
                                    uint8_t *out, size_t cap, size_t *made)
{
	size_t k = n < z->in_left ? n : z->in_left;

	if (k > cap)
		k = cap;
	if (k)
		memcpy(out, in, k);
	z->in_left -= (uint32_t)k;
	z->out_left -= (uint32_t)k;
	*used = *made = k;
	if (z->in_left == 0) {
		z->active = false;
		return MYP_OK;
	}
	return MYP_NEED_MORE;
}

myp_status_t myp_zin_feed(myp_zin_t *z, const uint8_t *in, size_t n, size_t *used, uint8_t *out,
                          size_t cap, size_t *made)
{
	uint8_t probe; /* output room past the claim: anything written there is a lie */
	size_t take, room;
	bool probing;
	int rc;

	*used = *made = 0;
	if (z->failed)
		return MYP_EPROTO;
	if (!z->active)
		return zin_fail(z, "compressed payload fed without a frame");
	if (z->frame.ulen == 0)
		return zin_feed_stored(z, in, n, used, out, cap, made);

	take = n < z->in_left ? n : z->in_left;
	room = cap < z->out_left ? cap : z->out_left;
	probing = z->out_left == 0;
	z->zs.next_in = (Bytef *)(uintptr_t)in; /* zlib's API is not const; it only reads */
	z->zs.avail_in = (uInt)take;
	z->zs.next_out = probing ? &probe : out;
	z->zs.avail_out = probing ? 1u : (uInt)room;
	rc = inflate(&z->zs, Z_NO_FLUSH);
	*used = take - z->zs.avail_in;
	z->in_left -= (uint32_t)*used;
	switch (rc) {
	case Z_STREAM_END:
		z->zdone = true;
		break;
	case Z_OK:
	case Z_BUF_ERROR: /* no progress possible with this input and room: not an error */
		break;
	case Z_NEED_DICT:
		return zin_fail(z, "compressed frame asks for a zlib dictionary");
	case Z_DATA_ERROR:
		return zin_fail(z, "compressed frame holds corrupt zlib data");
	default:
		return zin_fail(z, "zlib failed while inflating");
	}
	if (probing) {
		if (z->zs.avail_out == 0)
			return zin_fail(z,
			                "compressed frame inflates to more than its header claims");
	} else {
		*made = room - z->zs.avail_out;
		z->out_left -= (uint32_t)*made;
	}
	if (z->zdone) {
		if (z->out_left != 0)
			return zin_fail(z,
			                "compressed frame inflates to less than its header claims");
		if (z->in_left != 0)
			return zin_fail(z, "compressed frame has bytes after its zlib stream");
		z->active = false;
		return MYP_OK;
	}
	/* All the payload is in and zlib still had output room, yet no end: truncated. */
	if (z->in_left == 0 && z->zs.avail_out != 0)
		return zin_fail(z, "compressed frame ends inside its zlib stream");
	return MYP_NEED_MORE;
}

/* ---- outbound ----------------------------------------------------------------- */

myp_status_t myp_zout_init(myp_zout_t *z, int level)
{
	memset(z, 0, offsetof(myp_zout_t, arena));
	z->zs.zalloc = zout_alloc;
	z->zs.zfree = arena_free;
	z->zs.opaque = z;
	if (deflateInit2(&z->zs, level, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		z->err = "zlib could not start deflating (bad level or arena too small)";
		return MYP_EPROTO;
	}
	z->zinit = true;
	return MYP_OK;
}

void myp_zout_end(myp_zout_t *z)
{
	if (z->zinit)
		(void)deflateEnd(&z->zs);
	z->zinit = false;
	z->arena_used = 0;
}

size_t myp_zframe_bound(size_t n)
{
	return MYP_ZHEADER_LEN + (n < MYP_ZMAX_LEN ? n : MYP_ZMAX_LEN);
}

/* Deflate src into dst if that comes out smaller; else 0 (store it). */
static myp_status_t zout_deflate(myp_zout_t *z, const uint8_t *src, size_t n, uint8_t *dst,
                                 size_t *clen)
{
	int rc;

	*clen = 0;
	if (deflateReset(&z->zs) != Z_OK) {
		z->err = "zlib could not reset";
		return MYP_EPROTO;
	}
	z->zs.next_in = (Bytef *)(uintptr_t)src;
	z->zs.avail_in = (uInt)n;
	z->zs.next_out = dst;
	z->zs.avail_out = (uInt)(n - 1); /* not smaller: stored (MariaDB's rule too) */
	rc = deflate(&z->zs, Z_FINISH);
	if (rc == Z_STREAM_END) {
		*clen = z->zs.total_out;
		return MYP_OK;
	}
	if (rc == Z_OK || rc == Z_BUF_ERROR)
		return MYP_OK; /* ran out of room: does not compress */
	z->err = "zlib failed while deflating";
	return MYP_EPROTO;
}

myp_status_t myp_zout_frame(myp_zout_t *z, const uint8_t *src, size_t n, uint8_t seq, uint8_t *dst,
                            size_t cap, size_t *used, size_t *len)
{
	size_t take = n < MYP_ZMAX_LEN ? n : MYP_ZMAX_LEN, clen = 0;

	*used = *len = 0;
	if (!z->zinit) {
		z->err = "deflater not initialised";
		return MYP_EPROTO;
	}
	if (cap < myp_zframe_bound(take))
		return MYP_EOVERFLOW;
	if (take >= MYP_ZMIN_DEFLATE) {
		myp_status_t st = zout_deflate(z, src, take, dst + MYP_ZHEADER_LEN, &clen);

		if (st != MYP_OK)
			return st;
	}
	if (clen != 0) {
		myp_zframe_put_header(dst, (uint32_t)clen, seq, (uint32_t)take);
	} else {
		if (take)
			memcpy(dst + MYP_ZHEADER_LEN, src, take);
		clen = take;
		myp_zframe_put_header(dst, (uint32_t)clen, seq, 0);
	}
	*used = take;
	*len = MYP_ZHEADER_LEN + clen;
	return MYP_OK;
}
