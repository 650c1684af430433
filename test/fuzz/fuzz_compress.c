/* fuzz_compress.c - libFuzzer target: compressed-protocol frames, read and built (myp_compress). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/myp_compress.h"

/*
 * Input: input chunk (1 byte), output chunk (1 byte), flags (1 byte), then wire bytes. The
 * wire bytes are read as a stream of frames the way the engine will: each header parsed,
 * the payload fed a chunk at a time into output chunks, each an exactly-sized heap block
 * so ASan sees any write past the room given. A frame that completes must have produced
 * exactly what its header claimed. Then the same bytes, taken as plain data, are built
 * into frames (at most `per` bytes each, from the flags) and read back: they must come
 * back unchanged, with the sequence ids given. The unit tests write seeds in this form
 * (test_compress --write-corpus DIR).
 */

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

#define OUT_LIMIT (1u << 20) /* stop reading after this much output (zlib bombs) */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static myp_zin_t zin;
static myp_zout_t zout;
static bool ready;

/* Read frames from p; returns bytes of output and whether the stream ended cleanly. */
static size_t read_frames(const uint8_t *p, size_t n, size_t ic, size_t oc, uint32_t max_len,
                          uint8_t *copy, size_t copy_cap, myp_status_t *end, int *frames,
                          uint8_t *seqs)
{
	size_t off = 0, total = 0;

	*end = MYP_OK;
	*frames = 0;
	CHECK(myp_zin_init(&zin) == MYP_OK);
	while (off < n && total < OUT_LIMIT) {
		myp_zframe_t f;
		size_t need, produced = 0;
		myp_status_t st = myp_zframe_header(p + off, n - off, &f, &need);

		if (st == MYP_NEED_MORE) {
			CHECK(need == MYP_ZHEADER_LEN - (n - off));
			*end = st;
			break;
		}
		CHECK(st == MYP_OK && need == 0);
		if (seqs && *frames < 256)
			seqs[*frames] = f.seq;
		off += MYP_ZHEADER_LEN;
		st = myp_zin_begin(&zin, &f, max_len);
		if (st != MYP_OK) {
			CHECK(st == MYP_EPROTO && zin.err);
			CHECK(myp_zframe_plain_len(&f) > max_len || f.clen == 0);
			*end = st;
			break;
		}
		for (;;) {
			size_t avail = n - off < ic ? n - off : ic, used, made;
			uint8_t *room = malloc(oc);

			CHECK(room);
			st = myp_zin_feed(&zin, p + off, avail, &used, room, oc, &made);
			CHECK(used <= avail && made <= oc);
			if (copy && made && total + made <= copy_cap)
				memcpy(copy + total, room, made);
			free(room);
			off += used;
			produced += made;
			total += made;
			CHECK(produced <= myp_zframe_plain_len(&f));
			if (st != MYP_NEED_MORE || (used == 0 && made == 0 && off == n) ||
			    total >= OUT_LIMIT)
				break;
		}
		*end = st;
		if (st == MYP_OK) {
			CHECK(produced == myp_zframe_plain_len(&f));
			(*frames)++;
			continue;
		}
		CHECK(st == MYP_NEED_MORE || (st == MYP_EPROTO && zin.err));
		break;
	}
	myp_zin_end(&zin);
	return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t ic, oc, per, w = 0, off = 0, got;
	uint32_t max_len;
	uint8_t *wire, *back, seq0, seqs[256];
	myp_status_t end;
	int frames, built = 0;

	if (size < 3)
		return 0;
	if (!ready) {
		CHECK(myp_zout_init(&zout, Z_DEFAULT_COMPRESSION) == MYP_OK);
		ready = true;
	}
	ic = 1 + data[0] * 31u;
	oc = 1 + data[1] * 16u;
	max_len = data[2] & 1 ? 1u << 16 : MYP_ZMAX_LEN;
	per = 1 + (data[2] >> 1) * 97u;
	seq0 = data[0] ^ data[1];
	data += 3;
	size -= 3;

	(void)read_frames(data, size, ic, oc, max_len, NULL, 0, &end, &frames, NULL);

	/* round trip: the bytes as plain data, framed and read back */
	wire = malloc(size + (size / per + 1) * MYP_ZHEADER_LEN);
	back = malloc(size + 1);
	CHECK(wire && back);
	do {
		size_t take = size - off < per ? size - off : per, used, len;

		CHECK(myp_zout_frame(&zout, data + off, take, (uint8_t)(seq0 + built), wire + w,
		                     myp_zframe_bound(take), &used, &len) == MYP_OK);
		CHECK(used == take && len <= myp_zframe_bound(take));
		off += used;
		w += len;
		built++;
	} while (off < size);
	got = read_frames(wire, w, ic, oc, MYP_ZMAX_LEN, back, size, &end, &frames, seqs);
	CHECK(end == MYP_OK && frames == built && got == size);
	CHECK(size == 0 || memcmp(back, data, size) == 0);
	for (int i = 0; i < frames && i < 256; i++)
		CHECK(seqs[i] == (uint8_t)(seq0 + i));
	free(wire);
	free(back);
	return 0;
}
