/* test_compress.c - Check unit tests for the compressed protocol's framing (myp_compress). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gp_check.h"
#include "codec/myp_compress.h"

/*
 * Frames are checked against zlib's own compress()/uncompress(), which is what MariaDB's
 * net_serv and libmariadb call for each frame: what we build a server would read, what a
 * client builds we read. Every truncation of a stream of frames must ask for more and never
 * fail; every lie of a header, either way, must fail with its reason.
 */

static myp_zout_t *zout;
static myp_zin_t *zin;

static void setup(void)
{
	zout = malloc(sizeof *zout);
	zin = malloc(sizeof *zin);
	ck_assert_ptr_nonnull(zout);
	ck_assert_ptr_nonnull(zin);
	ck_assert_int_eq(myp_zout_init(zout, Z_DEFAULT_COMPRESSION), MYP_OK);
	ck_assert_int_eq(myp_zin_init(zin), MYP_OK);
}

static void teardown(void)
{
	myp_zout_end(zout);
	myp_zin_end(zin);
	free(zout);
	free(zin);
}

static uint8_t *xmalloc(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(p);
	return p;
}

/* Deterministic bytes: random ones do not deflate, text-like ones do. */
static uint64_t rng = 88172645463325252ull;
static uint8_t rnd8(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint8_t)(rng >> 24);
}

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = rnd8();
}

static void fill_text(uint8_t *p, size_t n)
{
	static const char words[] = "SELECT id, name FROM wp_posts WHERE post_status = 'publish' ";

	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)words[(i + i / 997) % (sizeof words - 1)];
}

/* Build frames for all of src (frames of at most `per` input bytes), seq counting up. */
static size_t build_stream(const uint8_t *src, size_t n, size_t per, uint8_t seq, uint8_t *dst,
                           size_t cap, int *frames)
{
	size_t off = 0, w = 0;

	*frames = 0;
	do {
		size_t take = n - off < per ? n - off : per, used, len;

		ck_assert_int_eq(
		        myp_zout_frame(zout, src + off, take, seq++, dst + w, cap - w, &used, &len),
		        MYP_OK);
		ck_assert_uint_eq(used, take > MYP_ZMAX_LEN ? MYP_ZMAX_LEN : take);
		ck_assert_uint_le(len, myp_zframe_bound(take));
		off += used;
		w += len;
		(*frames)++;
	} while (off < n);
	return w;
}

/*
 * Read a stream of frames the way an engine would: headers, then payload fed in_chunk bytes
 * at a time into out_chunk bytes of room. OK when the wire ended on a frame boundary,
 * NEED_MORE when it ended inside one, EPROTO (with zin->err) when a frame lied.
 */
static myp_status_t read_stream(const uint8_t *wire, size_t n, size_t in_chunk, size_t out_chunk,
                                uint8_t *out, size_t cap, size_t *outlen, int *frames,
                                uint8_t *first_seq)
{
	size_t off = 0;

	*outlen = 0;
	*frames = 0;
	while (off < n) {
		myp_zframe_t f;
		size_t need;
		myp_status_t st = myp_zframe_header(wire + off, n - off, &f, &need);

		if (st == MYP_NEED_MORE) {
			ck_assert_uint_eq(need, MYP_ZHEADER_LEN - (n - off));
			return st;
		}
		ck_assert_int_eq(st, MYP_OK);
		if (*frames == 0 && first_seq)
			*first_seq = f.seq;
		off += MYP_ZHEADER_LEN;
		st = myp_zin_begin(zin, &f, MYP_ZMAX_LEN);
		if (st != MYP_OK)
			return st;
		for (;;) {
			size_t avail = n - off < in_chunk ? n - off : in_chunk, used, made;
			size_t room = cap - *outlen < out_chunk ? cap - *outlen : out_chunk;

			st = myp_zin_feed(zin, wire + off, avail, &used, out + *outlen, room,
			                  &made);
			ck_assert_uint_le(used, avail);
			ck_assert_uint_le(made, room);
			off += used;
			*outlen += made;
			if (st != MYP_NEED_MORE)
				break;
			if (used == 0 && made == 0 && off == n)
				return MYP_NEED_MORE; /* the wire ended inside this frame */
		}
		if (st != MYP_OK)
			return st;
		(*frames)++;
	}
	return MYP_OK;
}

/* ---- header ---------------------------------------------------------------------- */

START_TEST(test_header)
{
	const uint8_t h[] = {0x2a, 0x01, 0x00, 0x05, 0x10, 0x20, 0x00};
	uint8_t b[MYP_ZHEADER_LEN];
	myp_zframe_t f;
	size_t need;

	for (size_t n = 0; n < sizeof h; n++) {
		uint8_t *cut = xmalloc(n); /* exactly sized: an overread is caught */

		memcpy(cut, h, n);
		ck_assert_int_eq(myp_zframe_header(cut, n, &f, &need), MYP_NEED_MORE);
		ck_assert_uint_eq(need, sizeof h - n);
		ck_assert_int_eq(myp_zframe_header(cut, n, &f, NULL), MYP_NEED_MORE);
		free(cut);
	}
	ck_assert_int_eq(myp_zframe_header(h, sizeof h, &f, &need), MYP_OK);
	ck_assert_uint_eq(need, 0);
	ck_assert_uint_eq(f.clen, 0x12a);
	ck_assert_uint_eq(f.seq, 5);
	ck_assert_uint_eq(f.ulen, 0x2010);
	ck_assert_uint_eq(myp_zframe_plain_len(&f), 0x2010);
	myp_zframe_put_header(b, 0x12a, 5, 0x2010);
	ck_assert_mem_eq(b, h, sizeof h);
	myp_zframe_put_header(b, MYP_ZMAX_LEN, 255, 0);
	ck_assert_int_eq(myp_zframe_header(b, sizeof b, &f, NULL), MYP_OK);
	ck_assert_uint_eq(f.clen, MYP_ZMAX_LEN);
	ck_assert_uint_eq(f.ulen, 0);
	ck_assert_uint_eq(f.seq, 255);
	ck_assert_uint_eq(myp_zframe_plain_len(&f), MYP_ZMAX_LEN); /* stored */
}
END_TEST

/* ---- round trips: stored vs deflated ------------------------------------------------- */

static const struct {
	const char *name;
	size_t n;
	int kind;      /* 0: random, 1: text, 2: one byte repeated */
	bool deflated; /* the frame we expect */
} rt_cases[] = {
        {"empty", 0, 1, false},
        {"one byte", 1, 1, false},
        {"49 equal bytes", MYP_ZMIN_DEFLATE - 1, 2, false}, /* would deflate: too short */
        {"50 equal bytes", MYP_ZMIN_DEFLATE, 2, true},
        {"4 KiB of text", 4096, 1, true},
        {"50 random bytes", MYP_ZMIN_DEFLATE, 0, false},
        {"64 KiB random", 65536, 0, false},
        {"1 MiB of text", 1u << 20, 1, true},
};

START_TEST(test_roundtrip)
{
	size_t n = rt_cases[_i].n, used, len, outlen;
	uint8_t *src = xmalloc(n), *wire = xmalloc(myp_zframe_bound(n)), *out = xmalloc(n);
	myp_zframe_t f;
	uLongf dlen = n;
	int frames;
	uint8_t seq = 0;

	if (rt_cases[_i].kind == 1)
		fill_text(src, n);
	else if (rt_cases[_i].kind == 2)
		memset(src, 'a', n);
	else
		fill_random(src, n);
	ck_assert_int_eq(myp_zout_frame(zout, src, n, 7, wire, myp_zframe_bound(n), &used, &len),
	                 MYP_OK);
	ck_assert_uint_eq(used, n);
	ck_assert_int_eq(myp_zframe_header(wire, len, &f, NULL), MYP_OK);
	ck_assert_uint_eq(f.seq, 7);
	ck_assert_uint_eq(MYP_ZHEADER_LEN + f.clen, len);
	if (rt_cases[_i].deflated) {
		ck_assert_msg(f.ulen == n, "%s: deflated frame expected", rt_cases[_i].name);
		ck_assert_uint_lt(f.clen, n);
		/* zlib's uncompress, as MariaDB's my_uncompress calls it, reads our frame */
		ck_assert_int_eq(uncompress(out, &dlen, wire + MYP_ZHEADER_LEN, f.clen), Z_OK);
		ck_assert_uint_eq(dlen, n);
		ck_assert(n == 0 || memcmp(out, src, n) == 0);
	} else {
		ck_assert_msg(f.ulen == 0, "%s: stored frame expected", rt_cases[_i].name);
		ck_assert_uint_eq(f.clen, n);
		ck_assert(n == 0 || memcmp(wire + MYP_ZHEADER_LEN, src, n) == 0);
	}
	memset(out, 0, n);
	ck_assert_int_eq(read_stream(wire, len, 65536, 65536, out, n, &outlen, &frames, &seq),
	                 MYP_OK);
	ck_assert_int_eq(frames, 1);
	ck_assert_uint_eq(seq, 7);
	ck_assert_uint_eq(outlen, n);
	ck_assert(n == 0 || memcmp(out, src, n) == 0);
	free(src);
	free(wire);
	free(out);
}
END_TEST

/* What a client's compress() makes (any level) we inflate, in chunks down to one byte. */
START_TEST(test_client_frames)
{
	const size_t n = 20000,
	             chunks[][2] = {{1, 1}, {1, 4096}, {4096, 1}, {7, 13}, {1u << 20, 1u << 20}};
	uint8_t *src = xmalloc(n), *out = xmalloc(n);
	uLongf clen = compressBound(n);
	uint8_t *wire = xmalloc(MYP_ZHEADER_LEN + clen);
	size_t outlen;
	int frames;

	fill_text(src, n);
	for (int level = 1; level <= 9; level += 4) {
		clen = compressBound(n);
		ck_assert_int_eq(compress2(wire + MYP_ZHEADER_LEN, &clen, src, n, level), Z_OK);
		myp_zframe_put_header(wire, (uint32_t)clen, 0, (uint32_t)n);
		for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
			memset(out, 0, n);
			ck_assert_int_eq(read_stream(wire, MYP_ZHEADER_LEN + clen, chunks[c][0],
			                             chunks[c][1], out, n, &outlen, &frames, NULL),
			                 MYP_OK);
			ck_assert_uint_eq(outlen, n);
			ck_assert_mem_eq(out, src, n);
		}
	}
	free(src);
	free(out);
	free(wire);
}
END_TEST

/* ---- 16 MB boundaries and sequence ids ------------------------------------------------ */

/* A MySQL packet of exactly 0xFFFFFF bytes, its empty continuation, then a small packet:
 * 16 MB + 12 bytes of input, so two frames, the first exactly at the maximum. */
START_TEST(test_16mb_boundary)
{
	const size_t big = MYP_MAX_PAYLOAD;
	const size_t n = (MYP_HEADER_LEN + big) + MYP_HEADER_LEN + (MYP_HEADER_LEN + 5);
	uint8_t *src = xmalloc(n), *wire = xmalloc(n + 2 * MYP_ZHEADER_LEN), *out = xmalloc(n);
	size_t w, outlen, off = 0;
	int frames;
	myp_zframe_t f;
	uint8_t seq = 0;

	myp_frame_put_header(src, (uint32_t)big, 3);
	fill_text(src + MYP_HEADER_LEN, big);
	myp_frame_put_header(src + MYP_HEADER_LEN + big, 0, 4);
	myp_frame_put_header(src + 2 * MYP_HEADER_LEN + big, 5, 0);
	memcpy(src + 3 * MYP_HEADER_LEN + big, "hello", 5);

	w = build_stream(src, n, SIZE_MAX, 254, wire, n + 2 * MYP_ZHEADER_LEN, &frames);
	ck_assert_int_eq(frames, 2);
	ck_assert_int_eq(myp_zframe_header(wire, w, &f, NULL), MYP_OK);
	ck_assert_uint_eq(f.ulen, MYP_ZMAX_LEN); /* the first frame is full */
	ck_assert_uint_eq(f.seq, 254);
	ck_assert_int_eq(myp_zframe_header(wire + MYP_ZHEADER_LEN + f.clen, w, &f, NULL), MYP_OK);
	ck_assert_uint_eq(myp_zframe_plain_len(&f), n - MYP_ZMAX_LEN); /* 13 bytes */
	ck_assert_uint_eq(f.ulen, 0);                                  /* small: stored */
	ck_assert_uint_eq(f.seq, 255);

	ck_assert_int_eq(read_stream(wire, w, 1u << 16, 1u << 16, out, n, &outlen, &frames, &seq),
	                 MYP_OK);
	ck_assert_int_eq(frames, 2);
	ck_assert_uint_eq(seq, 254);
	ck_assert_uint_eq(outlen, n);
	ck_assert(memcmp(out, src, n) == 0);
	/* the packets come back framed as they went in */
	for (int i = 0; i < 3; i++) {
		myp_frame_t p;

		ck_assert_int_eq(myp_frame_packet(out + off, n - off, &p), MYP_OK);
		ck_assert_uint_eq(p.len, i == 0 ? big : i == 1 ? 0 : 5);
		ck_assert_uint_eq(p.seq, i == 0 ? 3 : i == 1 ? 4 : 0);
		off += MYP_HEADER_LEN + p.len;
	}
	ck_assert_uint_eq(off, n);
	free(src);
	free(wire);
	free(out);
}
END_TEST

/* 16 MB - 1 random bytes: one stored frame at the maximum, one more byte: a second frame. */
START_TEST(test_16mb_stored)
{
	const size_t n = MYP_ZMAX_LEN + 1;
	uint8_t *src = xmalloc(n), *wire = xmalloc(n + 2 * MYP_ZHEADER_LEN), *out = xmalloc(n);
	size_t w, outlen;
	int frames;
	myp_zframe_t f;

	fill_random(src, n);
	w = build_stream(src, n, SIZE_MAX, 0, wire, n + 2 * MYP_ZHEADER_LEN, &frames);
	ck_assert_int_eq(frames, 2);
	ck_assert_uint_eq(w, n + 2 * MYP_ZHEADER_LEN);
	ck_assert_int_eq(myp_zframe_header(wire, w, &f, NULL), MYP_OK);
	ck_assert_uint_eq(f.clen, MYP_ZMAX_LEN);
	ck_assert_uint_eq(f.ulen, 0);
	ck_assert_int_eq(read_stream(wire, w, 1u << 20, 1u << 20, out, n, &outlen, &frames, NULL),
	                 MYP_OK);
	ck_assert_uint_eq(outlen, n);
	ck_assert(memcmp(out, src, n) == 0);
	free(src);
	free(wire);
	free(out);
}
END_TEST

START_TEST(test_seq_and_bounds)
{
	uint8_t src[300], wire[400];
	size_t used, len, w;
	int frames;
	myp_zframe_t f;

	fill_text(src, sizeof src);
	/* 300 bytes in frames of at most 60: five frames, ids 250..254 */
	w = build_stream(src, sizeof src, 60, 250, wire, sizeof wire, &frames);
	ck_assert_int_eq(frames, 5);
	for (size_t off = 0, i = 0; off < w; off += MYP_ZHEADER_LEN + f.clen, i++) {
		ck_assert_int_eq(myp_zframe_header(wire + off, w - off, &f, NULL), MYP_OK);
		ck_assert_uint_eq(f.seq, 250 + i);
		ck_assert_uint_eq(myp_zframe_plain_len(&f), 60);
	}
	/* the counter wraps like the packets' one */
	ck_assert_int_eq(myp_zout_frame(zout, src, 10, 255, wire, sizeof wire, &used, &len),
	                 MYP_OK);
	ck_assert_uint_eq(wire[3], 255);
	/* room for the bound, or nothing is written */
	ck_assert_int_eq(
	        myp_zout_frame(zout, src, 100, 0, wire, myp_zframe_bound(100) - 1, &used, &len),
	        MYP_EOVERFLOW);
	ck_assert_uint_eq(used, 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_uint_eq(myp_zframe_bound(SIZE_MAX), MYP_ZHEADER_LEN + MYP_ZMAX_LEN);
}
END_TEST

/* ---- truncation at every offset --------------------------------------------------------- */

/* A stream of a stored frame, a deflated one and an incompressible one, cut everywhere:
 * every prefix asks for more (or is complete at a frame boundary), none is an error, and
 * what came out is a prefix of the input. */
START_TEST(test_truncation)
{
	const size_t n = 40 + 3000 + 500;
	uint8_t src[40 + 3000 + 500], wire[sizeof src + 3 * MYP_ZHEADER_LEN], out[sizeof src];
	size_t w = 0, bounds[4] = {0}, outlen, used, len;
	int frames, nb = 1;

	fill_text(src, 40 + 3000);
	fill_random(src + 40 + 3000, 500);
	for (size_t off = 0, per[] = {40, 3000, 500}, i = 0; i < 3; off += per[i], i++) {
		ck_assert_int_eq(myp_zout_frame(zout, src + off, per[i], (uint8_t)i, wire + w,
		                                sizeof wire - w, &used, &len),
		                 MYP_OK);
		w += len;
		bounds[nb++] = w;
	}
	ck_assert_uint_lt(w, n); /* the middle one deflated */
	for (size_t cut = 0; cut <= w; cut++) {
		uint8_t *p = xmalloc(cut);
		bool at_bound = false;
		myp_status_t st;

		memcpy(p, wire, cut);
		for (int b = 0; b < nb; b++)
			at_bound |= bounds[b] == cut;
		myp_zin_end(zin);
		ck_assert_int_eq(myp_zin_init(zin), MYP_OK);
		st = read_stream(p, cut, cut % 61 ? 4096 : 1, cut % 67 ? 4096 : 1, out, n, &outlen,
		                 &frames, NULL);
		ck_assert_msg(st == (at_bound ? MYP_OK : MYP_NEED_MORE), "cut %zu: %s (%s)", cut,
		              myp_strstatus(st), zin->err ? zin->err : "");
		ck_assert(outlen <= n && memcmp(out, src, outlen) == 0);
		free(p);
	}
}
END_TEST

/* ---- garbage and lies ---------------------------------------------------------------- */

static uint8_t one_out[1u << 16]; /* what read_one inflated */
static size_t one_len;

static myp_status_t read_one(const uint8_t *wire, size_t n, uint32_t max_len)
{
	myp_zframe_t f;
	size_t used, made, off = MYP_ZHEADER_LEN;
	myp_status_t st;

	one_len = 0;
	ck_assert_int_eq(myp_zframe_header(wire, n, &f, NULL), MYP_OK);
	st = myp_zin_begin(zin, &f, max_len);
	while (st == MYP_OK) {
		st = myp_zin_feed(zin, wire + off, n - off, &used, one_out + one_len,
		                  sizeof one_out - one_len, &made);
		off += used;
		one_len += made;
		if (st != MYP_NEED_MORE)
			break;
		ck_assert_msg(used || made, "no progress");
		st = MYP_OK;
	}
	return st;
}

static size_t deflated_frame(uint8_t *wire, size_t cap, const uint8_t *src, size_t n)
{
	uLongf clen = cap - MYP_ZHEADER_LEN;

	ck_assert_int_eq(compress(wire + MYP_ZHEADER_LEN, &clen, src, n), Z_OK);
	myp_zframe_put_header(wire, (uint32_t)clen, 0, (uint32_t)n);
	return MYP_ZHEADER_LEN + clen;
}

static void assert_fails(const uint8_t *wire, size_t n, uint32_t max_len, const char *why)
{
	size_t used, made;
	uint8_t b[4];

	myp_zin_end(zin);
	ck_assert_int_eq(myp_zin_init(zin), MYP_OK);
	ck_assert_int_eq(read_one(wire, n, max_len), MYP_EPROTO);
	ck_assert_ptr_nonnull(zin->err);
	ck_assert_msg(strstr(zin->err, why), "expected \"%s\", got \"%s\"", why, zin->err);
	/* sticky: nothing more is read from a connection that lied */
	ck_assert_int_eq(myp_zin_feed(zin, b, sizeof b, &used, b, sizeof b, &made), MYP_EPROTO);
	ck_assert_uint_eq(used + made, 0);
}

START_TEST(test_size_lies)
{
	uint8_t src[2000], wire[2200], bad[2200];
	size_t w;
	myp_zframe_t f;

	fill_text(src, sizeof src);
	w = deflated_frame(wire, sizeof wire, src, sizeof src);
	ck_assert_int_eq(myp_zframe_header(wire, w, &f, NULL), MYP_OK);
	ck_assert_int_eq(read_one(wire, w, MYP_ZMAX_LEN), MYP_OK);

	/* uncompressed length claims one byte more, one byte less */
	memcpy(bad, wire, w);
	myp_zframe_put_header(bad, f.clen, 0, f.ulen + 1);
	assert_fails(bad, w, MYP_ZMAX_LEN, "less than its header claims");
	myp_zframe_put_header(bad, f.clen, 0, f.ulen - 1);
	assert_fails(bad, w, MYP_ZMAX_LEN, "more than its header claims");
	myp_zframe_put_header(bad, f.clen, 0, 1);
	assert_fails(bad, w, MYP_ZMAX_LEN, "more than its header claims");
	/* compressed length claims a byte more (a stray byte follows), a byte less */
	bad[w] = 0x00;
	myp_zframe_put_header(bad, f.clen + 1, 0, f.ulen);
	assert_fails(bad, w + 1, MYP_ZMAX_LEN, "bytes after its zlib stream");
	myp_zframe_put_header(bad, f.clen - 1, 0, f.ulen);
	assert_fails(bad, w - 1, MYP_ZMAX_LEN, "ends inside its zlib stream");
	/* claims over the limit: deflated and stored */
	assert_fails(wire, w, (uint32_t)sizeof src - 1, "more than the maximum");
	myp_zframe_put_header(bad, 100, 0, 0);
	assert_fails(bad, MYP_ZHEADER_LEN + 100, 99, "more than the maximum");
	/* data claimed, no payload */
	myp_zframe_put_header(bad, 0, 0, 10);
	assert_fails(bad, MYP_ZHEADER_LEN, MYP_ZMAX_LEN, "no payload");
	/* the claim is never an allocation: 16 MB claimed over 10 bytes fails on the data */
	myp_zframe_put_header(bad, 10, 0, MYP_ZMAX_LEN);
	memset(bad + MYP_ZHEADER_LEN, 0, 10);
	assert_fails(bad, MYP_ZHEADER_LEN + 10, MYP_ZMAX_LEN, "corrupt");
}
END_TEST

START_TEST(test_garbage)
{
	uint8_t src[1000], wire[1200], bad[1200];
	size_t w;
	int failed = 0, padding = 0;

	/* random bytes claiming to be deflated */
	for (int i = 0; i < 200; i++) {
		size_t n = 1 + rnd8() % 200;

		fill_random(bad + MYP_ZHEADER_LEN, n);
		myp_zframe_put_header(bad, (uint32_t)n, 0, 1 + rnd8() * 4u);
		myp_zin_end(zin);
		ck_assert_int_eq(myp_zin_init(zin), MYP_OK);
		ck_assert_int_eq(read_one(bad, MYP_ZHEADER_LEN + n, MYP_ZMAX_LEN), MYP_EPROTO);
	}
	/* every single bit flipped in a deflated payload is caught (zlib header check,
	 * corrupt codes or the Adler-32 at the end), but for the padding bits after the
	 * last block's end code, which inflate ignores: those give back the same data */
	fill_text(src, sizeof src);
	w = deflated_frame(wire, sizeof wire, src, sizeof src);
	for (size_t bit = MYP_ZHEADER_LEN * 8; bit < w * 8; bit++) {
		memcpy(bad, wire, w);
		bad[bit / 8] ^= (uint8_t)(1u << bit % 8);
		myp_zin_end(zin);
		ck_assert_int_eq(myp_zin_init(zin), MYP_OK);
		if (read_one(bad, w, MYP_ZMAX_LEN) == MYP_EPROTO) {
			failed++;
			continue;
		}
		ck_assert_msg(one_len == sizeof src && memcmp(one_out, src, one_len) == 0,
		              "bit %zu changed the data unnoticed", bit);
		ck_assert_msg(bit / 8 == w - 5, "bit %zu is not padding", bit);
		padding++;
	}
	ck_assert_int_le(padding, 7);
	ck_assert_int_eq(failed + padding, (int)(w - MYP_ZHEADER_LEN) * 8);
	/* feeding without a frame, beginning twice */
	{
		myp_zframe_t f = {.clen = 5, .ulen = 0, .seq = 0};
		size_t used, made;

		myp_zin_end(zin);
		ck_assert_int_eq(myp_zin_init(zin), MYP_OK);
		ck_assert_int_eq(myp_zin_feed(zin, src, 5, &used, bad, 5, &made), MYP_EPROTO);
		myp_zin_end(zin);
		ck_assert_int_eq(myp_zin_init(zin), MYP_OK);
		ck_assert_int_eq(myp_zin_begin(zin, &f, 100), MYP_OK);
		ck_assert_int_eq(myp_zin_begin(zin, &f, 100), MYP_EPROTO);
	}
}
END_TEST

/* ---- memory ------------------------------------------------------------------------- */

/* zlib's real needs fit the documented arenas, and the arenas are what init used. */
START_TEST(test_arena)
{
	uint8_t src[70000], wire[sizeof src + MYP_ZHEADER_LEN], out[sizeof src];
	size_t w, outlen;
	int frames;

	fill_text(src, sizeof src);
	w = build_stream(src, sizeof src, SIZE_MAX, 0, wire, sizeof wire, &frames);
	ck_assert_int_eq(read_stream(wire, w, 1000, 1000, out, sizeof out, &outlen, &frames, NULL),
	                 MYP_OK);
	ck_assert_uint_gt(zin->arena_used, 32768); /* the window came from the arena */
	ck_assert_uint_le(zin->arena_used, MYP_ZIN_ARENA);
	ck_assert_uint_gt(zout->arena_used, 4 * 65536);
	ck_assert_uint_le(zout->arena_used, MYP_ZOUT_ARENA);
	fprintf(stderr, "zlib arena use: inflate %zu of %u bytes, deflate %zu of %u bytes\n",
	        zin->arena_used, MYP_ZIN_ARENA, zout->arena_used, MYP_ZOUT_ARENA);
	/* frames after the first reuse the same memory */
	{
		size_t in_used = zin->arena_used, out_used = zout->arena_used;

		w = build_stream(src, sizeof src, 5000, 0, wire, sizeof wire, &frames);
		ck_assert_int_eq(
		        read_stream(wire, w, 333, 777, out, sizeof out, &outlen, &frames, NULL),
		        MYP_OK);
		ck_assert_uint_eq(zin->arena_used, in_used);
		ck_assert_uint_eq(zout->arena_used, out_used);
	}
	/* an impossible level fails cleanly */
	{
		myp_zout_t *bad = malloc(sizeof *bad);

		ck_assert_ptr_nonnull(bad);
		ck_assert_int_eq(myp_zout_init(bad, 42), MYP_EPROTO);
		ck_assert_ptr_nonnull(bad->err);
		myp_zout_end(bad);
		free(bad);
	}
}
END_TEST

/* ---- seeds for fuzz_compress -------------------------------------------------------- */

/* Seed format (fuzz_compress.c): input chunk, output chunk, flags, then wire bytes. */
static bool write_seed(const char *dir, const char *name, uint8_t ic, uint8_t oc, const uint8_t *p,
                       size_t n)
{
	char path[4096];
	FILE *f;
	bool ok;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return false;
	ok = fputc(ic, f) != EOF && fputc(oc, f) != EOF && fputc(0, f) != EOF &&
	     fwrite(p, 1, n, f) == n;
	return fclose(f) == 0 && ok;
}

static bool write_corpus(const char *dir)
{
	static myp_zout_t z;
	uint8_t src[3000], wire[3200];
	size_t used, len, w = 0;
	bool ok;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return false;
	if (myp_zout_init(&z, Z_DEFAULT_COMPRESSION) != MYP_OK)
		return false;
	fill_text(src, sizeof src);
	/* a COM_QUERY packet, stored (short) */
	myp_frame_put_header(src, 9, 0);
	memcpy(src + 4, "\x03SELECT 1", 9);
	ok = myp_zout_frame(&z, src, 13, 0, wire, sizeof wire, &used, &len) == MYP_OK &&
	     write_seed(dir, "stored_query", 16, 16, wire, len);
	fill_text(src, sizeof src);
	ok = ok && myp_zout_frame(&z, src, 2000, 1, wire, sizeof wire, &used, &len) == MYP_OK &&
	     write_seed(dir, "deflated_text", 64, 200, wire, len);
	for (int i = 0; ok && i < 3; i++) {
		ok = myp_zout_frame(&z, src + i * 100, 600, (uint8_t)i, wire + w, sizeof wire - w,
		                    &used, &len) == MYP_OK;
		w += len;
	}
	ok = ok && write_seed(dir, "three_frames", 7, 3, wire, w);
	fill_random(src, 300);
	ok = ok && myp_zout_frame(&z, src, 300, 0, wire, sizeof wire, &used, &len) == MYP_OK &&
	     write_seed(dir, "stored_random", 255, 255, wire, len);
	fill_text(src, 400);
	ok = ok && myp_zout_frame(&z, src, 400, 0, wire, sizeof wire, &used, &len) == MYP_OK;
	if (ok) {
		wire[4]++; /* claims a byte more than it inflates to */
		ok = write_seed(dir, "lie_ulen", 1, 1, wire, len);
	}
	myp_zout_end(&z);
	return ok;
}

static Suite *compress_suite(void)
{
	Suite *s = suite_create("compress");
	TCase *tc = tcase_create("frames");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_header);
	tcase_add_loop_test(tc, test_roundtrip, 0, sizeof rt_cases / sizeof rt_cases[0]);
	tcase_add_test(tc, test_client_frames);
	tcase_add_test(tc, test_seq_and_bounds);
	tcase_add_test(tc, test_size_lies);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_arena);
	suite_add_tcase(s, tc);
	/* 16 MB frames and every truncation offset: minutes under valgrind (run-all leaves the
	 * "heavy" tag out there; the plain and ASan runs cover it). */
	TCase *heavy = tcase_create("frames_heavy");
	tcase_set_tags(heavy, "heavy");
	tcase_add_checked_fixture(heavy, setup, teardown);
	tcase_add_test(heavy, test_16mb_boundary);
	tcase_add_test(heavy, test_16mb_stored);
	tcase_add_test(heavy, test_truncation);
	suite_add_tcase(s, heavy);
	return s;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
		return write_corpus(argv[2]) ? 0 : 1;
	if (argc != 1) {
		fprintf(stderr, "usage: %s [--write-corpus DIR]\n", argv[0]);
		return 2;
	}
	return gp_check_run(compress_suite(), CK_ENV);
}
