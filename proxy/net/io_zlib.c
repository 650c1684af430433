/* io_zlib.c - the compressed protocol's state per connection, a layer inside the I/O engine. */
#include <stdlib.h>
#include <string.h>

#include "net/io_zlib.h"
#include "codec/myp_compress.h"

struct gp_zio {
	uint32_t raw_start;        /* first raw byte not yet inflated */
	uint32_t raw_end;          /* end of raw bytes read */
	uint8_t seq;               /* the compressed sequence id our next frame carries */
	uint8_t raw[GP_ZRAW_SIZE]; /* compressed bytes from the socket */
	myp_zin_t zin;             /* the inflater (its arena inside) */
};

/* One deflater for the loop (frames are streams of their own: nothing is kept between
 * them), created with the first compressed io and ended with the last. */
static myp_zout_t *zout;
static gp_zstats_t zstats;

gp_zio_t *gp_zio_new(void)
{
	if (!zout) {
		zout = malloc(sizeof(*zout));
		if (!zout)
			return NULL;
		if (myp_zout_init(zout, Z_DEFAULT_COMPRESSION) != MYP_OK) {
			free(zout);
			zout = NULL;
			return NULL;
		}
	}
	gp_zio_t *z = malloc(sizeof(*z));
	if (!z)
		return NULL;
	z->raw_start = z->raw_end = 0;
	z->seq = 0;
	if (myp_zin_init(&z->zin) != MYP_OK) {
		free(z);
		return NULL;
	}
	zstats.started++;
	zstats.active++;
	return z;
}

void gp_zio_free(gp_zio_t *z)
{
	if (!z)
		return;
	myp_zin_end(&z->zin);
	free(z);
	if (--zstats.active == 0 && zout) {
		myp_zout_end(zout);
		free(zout);
		zout = NULL;
	}
}

uint8_t *gp_zio_raw_room(gp_zio_t *z, size_t *cap)
{
	if (z->raw_start > 0) {
		memmove(z->raw, z->raw + z->raw_start, z->raw_end - z->raw_start);
		z->raw_end -= z->raw_start;
		z->raw_start = 0;
	}
	*cap = GP_ZRAW_SIZE - z->raw_end;
	return z->raw + z->raw_end;
}

void gp_zio_raw_add(gp_zio_t *z, size_t n)
{
	z->raw_end += (uint32_t)n;
	zstats.wire_in += n;
}

size_t gp_zio_raw_len(const gp_zio_t *z)
{
	return z->raw_end - z->raw_start;
}

bool gp_zio_raw_full(const gp_zio_t *z)
{
	return z->raw_start == 0 && z->raw_end == GP_ZRAW_SIZE;
}

gp_status_t gp_zio_inflate(gp_zio_t *z, uint8_t *out, size_t cap, size_t *made, bool *moved,
                           const char **err)
{
	*made = 0;
	*moved = false;
	*err = NULL;
	for (;;) {
		size_t n = z->raw_end - z->raw_start;
		const uint8_t *in = z->raw + z->raw_start;
		if (!z->zin.active) {
			myp_zframe_t f;
			if (myp_zframe_header(in, n, &f, NULL) != MYP_OK)
				break;
			if (myp_zin_begin(&z->zin, &f, MYP_ZMAX_LEN) != MYP_OK) {
				*err = z->zin.err;
				return GP_EPROTO;
			}
			z->seq = (uint8_t)(f.seq + 1); /* our answer continues the client's count */
			z->raw_start += MYP_ZHEADER_LEN;
			*moved = true;
			n -= MYP_ZHEADER_LEN;
			in += MYP_ZHEADER_LEN;
		}
		size_t used = 0, mk = 0;
		myp_status_t st =
		        myp_zin_feed(&z->zin, in, n, &used, out + *made, cap - *made, &mk);
		z->raw_start += (uint32_t)used;
		*made += mk;
		zstats.plain_in += mk;
		if (used || mk)
			*moved = true;
		if (st == MYP_EPROTO) {
			*err = z->zin.err;
			zstats.failed++;
			return GP_EPROTO;
		}
		if (st == MYP_NEED_MORE)
			break; /* more input, or room in out */
	}
	if (z->raw_start == z->raw_end)
		z->raw_start = z->raw_end = 0;
	return GP_OK;
}

size_t gp_zio_bound(size_t n)
{
	return myp_zframe_bound(n < GP_ZFRAME_MAX ? n : GP_ZFRAME_MAX);
}

gp_status_t gp_zio_deflate(gp_zio_t *z, const uint8_t *src, size_t n, uint8_t *dst, size_t *used,
                           size_t *len)
{
	size_t take = n < GP_ZFRAME_MAX ? n : GP_ZFRAME_MAX;
	if (!zout ||
	    myp_zout_frame(zout, src, take, z->seq, dst, gp_zio_bound(take), used, len) != MYP_OK)
		return GP_EPROTO;
	z->seq++;
	zstats.plain_out += *used;
	zstats.wire_out += *len;
	return GP_OK;
}

const gp_zstats_t *gp_zio_stats(void)
{
	return &zstats;
}
