/* test_io_zlib.c - the I/O engine's compressed layer: frames out, raw bytes in at any split. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "gp_check.h"
#include "net/io_zlib.h"

#define STREAM_LEN (200u * 1024u)

/* A packet stream half compressible, half not (xorshift noise). */
static uint8_t *make_stream(void)
{
	uint8_t *p = malloc(STREAM_LEN);
	uint32_t x = 2463534242u;
	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < STREAM_LEN; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = i < STREAM_LEN / 2 ? (uint8_t)("SELECT 1;"[i % 9]) : (uint8_t)x;
	}
	return p;
}

/* Frame src with gp_zio_deflate into wire; returns its length. */
static size_t frame_all(gp_zio_t *out, const uint8_t *src, size_t n, uint8_t *wire, size_t cap)
{
	size_t w = 0;
	while (n > 0) {
		size_t used, len;
		ck_assert_uint_le(w + gp_zio_bound(n), cap);
		ck_assert_int_eq(gp_zio_deflate(out, src, n, wire + w, &used, &len), GP_OK);
		ck_assert_uint_le(used, GP_ZFRAME_MAX);
		ck_assert_uint_le(len, gp_zio_bound(used));
		src += used;
		n -= used;
		w += len;
	}
	return w;
}

/* Feed wire to in `step` bytes at a time, inflating into room of `cap` bytes. */
static size_t unframe_all(gp_zio_t *in, const uint8_t *wire, size_t n, size_t step, size_t cap,
                          uint8_t *dst, size_t dcap)
{
	size_t fed = 0, got = 0;
	uint8_t *room = malloc(cap);
	ck_assert_ptr_nonnull(room);
	for (int idle = 0; idle < 3;) {
		size_t rcap;
		uint8_t *r = gp_zio_raw_room(in, &rcap);
		size_t k = n - fed < step ? n - fed : step;
		if (k > rcap)
			k = rcap;
		memcpy(r, wire + fed, k);
		gp_zio_raw_add(in, k);
		fed += k;
		size_t made;
		bool moved;
		const char *err;
		ck_assert_int_eq(gp_zio_inflate(in, room, cap, &made, &moved, &err), GP_OK);
		ck_assert_uint_le(got + made, dcap);
		memcpy(dst + got, room, made);
		got += made;
		idle = (fed == n && !moved) ? idle + 1 : 0;
	}
	ck_assert_uint_eq(gp_zio_raw_len(in), 0);
	free(room);
	return got;
}

START_TEST(test_roundtrip_any_split)
{
	static const size_t steps[] = {1, 7, 8, 1000, 4096, 16384, 70000};
	static const size_t caps[] = {1, 100, 16384};
	uint8_t *src = make_stream(), *back = malloc(STREAM_LEN);
	size_t wcap = STREAM_LEN + 64 * 7;
	uint8_t *wire = malloc(wcap);
	gp_zio_t *out = gp_zio_new(), *in = gp_zio_new();
	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(in);
	size_t w = frame_all(out, src, STREAM_LEN, wire, wcap);
	ck_assert_uint_lt(w, STREAM_LEN); /* the compressible half shrank */
	ck_assert_uint_ge(gp_zio_stats()->plain_out, STREAM_LEN);
	for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
		for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
			if (steps[s] == 1 && caps[c] == 1)
				continue; /* too slow to be worth it */
			memset(back, 0, STREAM_LEN);
			ck_assert_uint_eq(
			        unframe_all(in, wire, w, steps[s], caps[c], back, STREAM_LEN),
			        STREAM_LEN);
			ck_assert_mem_eq(back, src, STREAM_LEN);
		}
	}
	gp_zio_free(out);
	gp_zio_free(in);
	free(src);
	free(back);
	free(wire);
}
END_TEST

/* Our frames continue the client's compressed sequence: its last frame's id + 1. */
START_TEST(test_sequence_follows_client)
{
	gp_zio_t *client = gp_zio_new(), *proxy = gp_zio_new();
	uint8_t wire[256], out[64];
	size_t used, len, made;
	bool moved;
	const char *err;
	for (int i = 0; i < 5; i++) /* the client's frames 0..4 (a long command) */
		ck_assert_int_eq(
		        gp_zio_deflate(client, (const uint8_t *)"abc", 3, wire, &used, &len),
		        GP_OK);
	ck_assert_uint_eq(wire[3], 4);
	size_t cap;
	memcpy(gp_zio_raw_room(proxy, &cap), wire, len);
	gp_zio_raw_add(proxy, len);
	ck_assert_int_eq(gp_zio_inflate(proxy, out, sizeof(out), &made, &moved, &err), GP_OK);
	ck_assert_uint_eq(made, 3);
	ck_assert_int_eq(gp_zio_deflate(proxy, (const uint8_t *)"ok", 2, wire, &used, &len), GP_OK);
	ck_assert_uint_eq(wire[3], 5);
	ck_assert_int_eq(gp_zio_deflate(proxy, (const uint8_t *)"ok", 2, wire, &used, &len), GP_OK);
	ck_assert_uint_eq(wire[3], 6);
	gp_zio_free(client);
	gp_zio_free(proxy);
}
END_TEST

/* Frames that lie fail with a reason; a full raw buffer says so. */
START_TEST(test_garbage_and_bounds)
{
	static const uint8_t corrupt[] = {10,   0,    0,    0,    100,  0,    0,    0x78, 0x9c,
	                                  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t short_stored[] = {5, 0, 0, 0, 0, 0, 0, 'a', 'b'};
	uint8_t out[256];
	size_t made, cap;
	bool moved;
	const char *err;
	gp_zio_t *z = gp_zio_new();
	memcpy(gp_zio_raw_room(z, &cap), corrupt, sizeof(corrupt));
	gp_zio_raw_add(z, sizeof(corrupt));
	ck_assert_int_eq(gp_zio_inflate(z, out, sizeof(out), &made, &moved, &err), GP_EPROTO);
	ck_assert_ptr_nonnull(err);
	ck_assert_uint_ge(gp_zio_stats()->failed, 1);
	gp_zio_free(z);

	/* a stored frame cut short waits for the rest: no output beyond what came */
	z = gp_zio_new();
	memcpy(gp_zio_raw_room(z, &cap), short_stored, sizeof(short_stored));
	gp_zio_raw_add(z, sizeof(short_stored));
	ck_assert_int_eq(gp_zio_inflate(z, out, sizeof(out), &made, &moved, &err), GP_OK);
	ck_assert_uint_eq(made, 2);
	ck_assert(!gp_zio_raw_full(z));
	/* fill the raw buffer with a frame's payload while the output has no room */
	uint8_t *r = gp_zio_raw_room(z, &cap);
	ck_assert_uint_eq(cap, GP_ZRAW_SIZE);
	memset(r, 'x', cap);
	gp_zio_raw_add(z, cap);
	ck_assert(gp_zio_raw_full(z));
	ck_assert_int_eq(gp_zio_inflate(z, out, 0, &made, &moved, &err), GP_OK);
	ck_assert(gp_zio_raw_full(z)); /* nothing taken without output room */
	gp_zio_free(z);
	ck_assert_uint_eq(gp_zio_stats()->active, 0);
}
END_TEST

static Suite *io_zlib_suite(void)
{
	Suite *s = suite_create("io_zlib");
	TCase *tc = tcase_create("layer");
	tcase_add_test(tc, test_sequence_follows_client);
	tcase_add_test(tc, test_garbage_and_bounds);
	suite_add_tcase(s, tc);
	/* Frames at every split and room size: minutes under valgrind (run-all leaves the
	 * "heavy" tag out there; the plain and ASan runs cover it). */
	TCase *heavy = tcase_create("layer_heavy");
	tcase_set_tags(heavy, "heavy");
	tcase_set_timeout(heavy, 120);
	tcase_add_test(heavy, test_roundtrip_any_split);
	suite_add_tcase(s, heavy);
	return s;
}

int main(void)
{
	return gp_check_run(io_zlib_suite(), CK_ENV);
}
