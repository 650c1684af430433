/* core_pkt.h - the session-core tests' packets: as io.c hands them over, and a greeting. */
#ifndef GP_TEST_CORE_PKT_H
#define GP_TEST_CORE_PKT_H

#include <check.h>
#include <stdint.h>
#include <string.h>

#include "codec/myp.h"
#include "session/core.h"

#define CORE_PKT_THREAD 77u /* the backend's thread id the greeting names */

/* One packet as io.c hands it over: payload in a buffer of its own (patchable). */
typedef struct pkt_buf {
	uint8_t b[1024];
	gp_pkt_t pkt;
} pkt_buf_t;

static inline gp_pkt_t *pkt_of(pkt_buf_t *pb, const uint8_t *whole, size_t n)
{
	ck_assert_uint_ge(n, MYP_HEADER_LEN);
	ck_assert_uint_le(n, sizeof(pb->b));
	memcpy(pb->b, whole, n);
	uint32_t len = (uint32_t)whole[0] | (uint32_t)whole[1] << 8 | (uint32_t)whole[2] << 16;
	pb->pkt = (gp_pkt_t){.len = len,
	                     .seq = whole[3],
	                     .p = pb->b + MYP_HEADER_LEN,
	                     .n = (uint32_t)(n - MYP_HEADER_LEN)};
	return &pb->pkt;
}

/* A payload given as bytes (seq given). */
static inline gp_pkt_t *pkt_raw(pkt_buf_t *pb, uint8_t seq, const void *payload, size_t n)
{
	uint8_t whole[1024];
	myp_frame_put_header(whole, (uint32_t)n, seq);
	memcpy(whole + MYP_HEADER_LEN, payload, n);
	return pkt_of(pb, whole, n + MYP_HEADER_LEN);
}

static inline gp_pkt_t *pkt_greeting(pkt_buf_t *pb, uint64_t caps)
{
	uint8_t whole[256];
	myp_wbuf_t w;
	static const char ver[] = "10.11.6-MariaDB";
	static const char plugin[] = "mysql_native_password";
	myp_greeting_t g = {.protocol = 10,
	                    .version = (const uint8_t *)ver,
	                    .version_len = sizeof(ver) - 1,
	                    .conn_id = CORE_PKT_THREAD,
	                    .scramble_len = 20,
	                    .caps = caps,
	                    .charset = 45,
	                    .auth_plugin = (const uint8_t *)plugin,
	                    .auth_plugin_len = sizeof(plugin) - 1};
	for (int i = 0; i < 20; i++)
		g.scramble[i] = (uint8_t)('a' + i);
	myp_wbuf_init(&w, whole, sizeof(whole));
	myp_greeting_build(&w, 0, &g);
	ck_assert(!w.failed);
	return pkt_of(pb, whole, w.len);
}

#endif
