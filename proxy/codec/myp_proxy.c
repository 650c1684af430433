/* myp_proxy.c - PROXY protocol header encoder (v1 text, v2 binary): bytes out, no I/O. */
#include "myp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#define V2_SIG_LEN    12
#define V2_CMD_LOCAL  0x20 /* version 2, LOCAL */
#define V2_CMD_PROXY  0x21 /* version 2, PROXY */
#define V2_FAM_UNSPEC 0x00
#define V2_FAM_TCP4   0x11
#define V2_FAM_TCP6   0x21
#define V2_FAM_UNIX   0x31
#define V2_UNIX_PATH  108 /* bytes per path in the UNIX block, whatever sun_path's size */

static const uint8_t v2_sig[V2_SIG_LEN] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                           0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

/* One side of a TCP connection, widened to IPv6 when the other side needs it. */
typedef struct pp_addr {
	uint8_t ip[16]; /* network order; IPv4 uses the first 4 bytes unless widened */
	uint16_t port;  /* host order */
} pp_addr_t;

static int pp_family(const struct sockaddr *sa)
{
	return sa ? sa->sa_family : AF_UNSPEC;
}

/* Fill a from sa (AF_INET or AF_INET6); as6 writes IPv4 as ::ffff:a.b.c.d. */
static void pp_get(const struct sockaddr *sa, bool as6, pp_addr_t *a)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		memcpy(a->ip, &s6->sin6_addr, 16);
		a->port = ntohs(s6->sin6_port);
		return;
	}
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
	if (as6) {
		a->ip[10] = a->ip[11] = 0xFF;
		memcpy(a->ip + 12, &s4->sin_addr, 4);
	} else {
		memcpy(a->ip, &s4->sin_addr, 4);
	}
	a->port = ntohs(s4->sin_port);
}

static void pp_u16be(myp_wbuf_t *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	myp_wbuf_bytes(w, b, 2);
}

static void pp_unix_path(myp_wbuf_t *w, const struct sockaddr *sa)
{
	uint8_t path[V2_UNIX_PATH] = {0};
	const struct sockaddr_un *su = (const struct sockaddr_un *)sa;
	size_t n = strnlen(su->sun_path, sizeof(su->sun_path));
	memcpy(path, su->sun_path, n < V2_UNIX_PATH ? n : V2_UNIX_PATH);
	myp_wbuf_bytes(w, path, V2_UNIX_PATH);
}

static void pp_build_v2(myp_wbuf_t *w, const struct sockaddr *src, const struct sockaddr *dst)
{
	int fs = pp_family(src), fd = pp_family(dst);
	bool inet = (fs == AF_INET || fs == AF_INET6) && (fd == AF_INET || fd == AF_INET6);
	bool as6 = inet && (fs == AF_INET6 || fd == AF_INET6);
	bool unx = fs == AF_UNIX && fd == AF_UNIX;

	myp_wbuf_bytes(w, v2_sig, V2_SIG_LEN);
	if (!inet && !unx) {
		myp_wbuf_u8(w, V2_CMD_LOCAL);
		myp_wbuf_u8(w, V2_FAM_UNSPEC);
		pp_u16be(w, 0);
		return;
	}
	myp_wbuf_u8(w, V2_CMD_PROXY);
	if (unx) {
		myp_wbuf_u8(w, V2_FAM_UNIX);
		pp_u16be(w, 2 * V2_UNIX_PATH);
		pp_unix_path(w, src);
		pp_unix_path(w, dst);
		return;
	}
	pp_addr_t a, b;
	pp_get(src, as6, &a);
	pp_get(dst, as6, &b);
	size_t alen = as6 ? 16 : 4;
	myp_wbuf_u8(w, as6 ? V2_FAM_TCP6 : V2_FAM_TCP4);
	pp_u16be(w, (uint16_t)(2 * alen + 4));
	myp_wbuf_bytes(w, a.ip, alen);
	myp_wbuf_bytes(w, b.ip, alen);
	pp_u16be(w, a.port);
	pp_u16be(w, b.port);
}

static void pp_build_v1(myp_wbuf_t *w, const struct sockaddr *src, const struct sockaddr *dst)
{
	int fs = pp_family(src), fd = pp_family(dst);
	if (!((fs == AF_INET || fs == AF_INET6) && (fd == AF_INET || fd == AF_INET6))) {
		static const char unknown[] = "PROXY UNKNOWN\r\n";
		myp_wbuf_bytes(w, unknown, sizeof(unknown) - 1);
		return;
	}
	bool as6 = fs == AF_INET6 || fd == AF_INET6;
	pp_addr_t a, b;
	char sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN], line[MYP_PROXY_V1_MAX + 1];
	pp_get(src, as6, &a);
	pp_get(dst, as6, &b);
	inet_ntop(as6 ? AF_INET6 : AF_INET, a.ip, sa, sizeof(sa));
	inet_ntop(as6 ? AF_INET6 : AF_INET, b.ip, da, sizeof(da));
	int n = snprintf(line, sizeof(line), "PROXY %s %s %s %u %u\r\n", as6 ? "TCP6" : "TCP4", sa,
	                 da, a.port, b.port);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		w->failed = true; /* cannot happen with real addresses: 104 bytes at most */
		return;
	}
	myp_wbuf_bytes(w, line, (size_t)n);
}

void myp_proxy_header_build(myp_wbuf_t *w, myp_proxy_version_t v, const struct sockaddr *src,
                            const struct sockaddr *dst)
{
	if (v == MYP_PROXY_V1)
		pp_build_v1(w, src, dst);
	else
		pp_build_v2(w, src, dst);
}
