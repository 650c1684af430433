/* myp_wire.h - wire-level helpers the codec's .c files share (not API). */
#ifndef MYP_WIRE_H
#define MYP_WIRE_H

#include <string.h>

#include "myp.h"

static inline uint16_t myp_get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t myp_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void myp_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void myp_put_u32(uint8_t *p, uint32_t v)
{
	myp_put_u16(p, (uint16_t)v);
	myp_put_u16(p + 2, (uint16_t)(v >> 16));
}

/* A NUL-terminated string at p[*off]: slice without the NUL, *off moves past it. */
static inline myp_status_t myp_get_strnul(const uint8_t *p, size_t n, size_t *off,
                                          const uint8_t **s, size_t *slen)
{
	const uint8_t *nul = *off < n ? memchr(p + *off, 0, n - *off) : NULL;

	if (!nul)
		return MYP_NEED_MORE;
	*s = p + *off;
	*slen = (size_t)(nul - *s);
	*off += *slen + 1;
	return MYP_OK;
}

/* A string after its one length byte at p[*off] (auth data under CLIENT_SECURE_CONNECTION). */
static inline myp_status_t myp_get_str1(const uint8_t *p, size_t n, size_t *off, const uint8_t **s,
                                        size_t *slen)
{
	if (*off >= n)
		return MYP_NEED_MORE;
	*slen = p[(*off)++];
	if (n - *off < *slen)
		return MYP_NEED_MORE;
	*s = p + *off;
	*off += *slen;
	return MYP_OK;
}

/* A command packet's head: its first byte must be cmd and it must hold at least len bytes. */
static inline myp_status_t myp_cmd_head(const uint8_t *p, size_t n, uint8_t cmd, size_t len)
{
	if (n < 1)
		return MYP_NEED_MORE;
	if (p[0] != cmd)
		return MYP_EPROTO;
	return n < len ? MYP_NEED_MORE : MYP_OK;
}

#endif
