/* myp_proxy.h - PROXY protocol header encoder (v1 text, v2 binary): bytes out, no I/O. */
#ifndef MYP_PROXY_H
#define MYP_PROXY_H

#include <sys/socket.h>

#include "myp.h"

/*
 * The header a proxy sends as the very first bytes of a backend connection so that the
 * server sees the real client (HAProxy's proxy-protocol.txt; MariaDB's
 * proxy_protocol_networks accepts both versions). src is the client's address, dst the
 * address the client connected to. TCP over IPv4 and IPv6 is encoded as such (one side
 * IPv4 and the other IPv6: the IPv4 one as ::ffff:a.b.c.d). AF_UNIX is a v2 UNIX
 * stream block; v1 has no form for it and says "UNKNOWN", as it does for anything
 * else (NULL, other families); v2 then sends the LOCAL command ("no client: the
 * connection's own addresses apply").
 */

typedef enum myp_proxy_version {
	MYP_PROXY_V1 = 1, /* "PROXY TCP4 src dst sport dport\r\n" */
	MYP_PROXY_V2 = 2  /* 16-byte binary header + address block */
} myp_proxy_version_t;

#define MYP_PROXY_V1_MAX 107        /* longest v1 line, CRLF included (the spec's bound) */
#define MYP_PROXY_V2_MAX (16 + 216) /* v2 header + the largest (UNIX) address block */
#define MYP_PROXY_MAX    MYP_PROXY_V2_MAX

/* Append the header to w (check w->failed once afterwards). */
void myp_proxy_header_build(myp_wbuf_t *w, myp_proxy_version_t v, const struct sockaddr *src,
                            const struct sockaddr *dst);

#endif
