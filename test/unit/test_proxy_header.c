/* test_proxy_header.c - Check unit tests for the PROXY protocol header encoder (myp_proxy.c). */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "gp_check.h"
#include "codec/myp_proxy.h"

static struct sockaddr_storage ss_in4(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;
	memset(&ss, 0, sizeof(ss));
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET, ip, &a->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage ss_in6(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
	memset(&ss, 0, sizeof(ss));
	a->sin6_family = AF_INET6;
	a->sin6_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
	return ss;
}

static struct sockaddr_storage ss_unix(const char *path)
{
	struct sockaddr_storage ss;
	struct sockaddr_un *a = (struct sockaddr_un *)&ss;
	memset(&ss, 0, sizeof(ss));
	a->sun_family = AF_UNIX;
	strcpy(a->sun_path, path);
	return ss;
}

/* Encode into an exactly sized check: returns the length; buf gets the bytes. */
static size_t build(myp_proxy_version_t v, const struct sockaddr_storage *s,
                    const struct sockaddr_storage *d, uint8_t *buf, size_t cap)
{
	myp_wbuf_t w;
	myp_wbuf_init(&w, buf, cap);
	myp_proxy_header_build(&w, v, (const struct sockaddr *)s, (const struct sockaddr *)d);
	ck_assert(!w.failed);
	return w.len;
}

static const uint8_t sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

START_TEST(v1_tcp4)
{
	struct sockaddr_storage s = ss_in4("10.214.0.3", 56324), d = ss_in4("10.214.0.2", 16401);
	uint8_t buf[MYP_PROXY_MAX];
	size_t n = build(MYP_PROXY_V1, &s, &d, buf, sizeof(buf));
	const char *want = "PROXY TCP4 10.214.0.3 10.214.0.2 56324 16401\r\n";
	ck_assert_uint_eq(n, strlen(want));
	ck_assert(memcmp(buf, want, n) == 0);
}
END_TEST

START_TEST(v1_tcp6_and_mixed)
{
	struct sockaddr_storage s = ss_in6("2001:db8::1", 1), d = ss_in6("::1", 3306);
	uint8_t buf[MYP_PROXY_MAX];
	size_t n = build(MYP_PROXY_V1, &s, &d, buf, sizeof(buf));
	const char *want = "PROXY TCP6 2001:db8::1 ::1 1 3306\r\n";
	ck_assert_uint_eq(n, strlen(want));
	ck_assert(memcmp(buf, want, n) == 0);
	/* An IPv4 client on an IPv6 listener address: the IPv4 side is written v4-mapped. */
	s = ss_in4("192.0.2.7", 40000);
	n = build(MYP_PROXY_V1, &s, &d, buf, sizeof(buf));
	want = "PROXY TCP6 ::ffff:192.0.2.7 ::1 40000 3306\r\n";
	ck_assert_uint_eq(n, strlen(want));
	ck_assert(memcmp(buf, want, n) == 0);
}
END_TEST

START_TEST(v1_longest_fits)
{
	struct sockaddr_storage s = ss_in6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
	uint8_t buf[MYP_PROXY_V1_MAX];
	size_t n = build(MYP_PROXY_V1, &s, &s, buf, sizeof(buf));
	ck_assert_uint_eq(n, 104); /* the spec's worst case */
}
END_TEST

START_TEST(v1_unknown)
{
	struct sockaddr_storage u = ss_unix("/run/mysqld/mysqld.sock");
	uint8_t buf[MYP_PROXY_MAX];
	size_t n = build(MYP_PROXY_V1, &u, &u, buf, sizeof(buf));
	ck_assert_uint_eq(n, 15);
	ck_assert(memcmp(buf, "PROXY UNKNOWN\r\n", 15) == 0);
	myp_wbuf_t w;
	myp_wbuf_init(&w, buf, sizeof(buf));
	myp_proxy_header_build(&w, MYP_PROXY_V1, NULL, NULL);
	ck_assert(!w.failed && w.len == 15);
}
END_TEST

START_TEST(v2_tcp4)
{
	struct sockaddr_storage s = ss_in4("10.214.0.3", 0x1234), d = ss_in4("10.214.0.2", 3306);
	uint8_t buf[MYP_PROXY_MAX];
	size_t n = build(MYP_PROXY_V2, &s, &d, buf, sizeof(buf));
	static const uint8_t want[] = {0x21, 0x11, 0x00, 0x0C, 10,   214,  0,    3,
	                               10,   214,  0,    2,    0x12, 0x34, 0x0C, 0xEA};
	ck_assert_uint_eq(n, 12 + sizeof(want));
	ck_assert(memcmp(buf, sig, 12) == 0);
	ck_assert(memcmp(buf + 12, want, sizeof(want)) == 0);
}
END_TEST

START_TEST(v2_tcp6)
{
	struct sockaddr_storage s = ss_in6("2001:db8::5", 1000), d = ss_in4("127.0.0.1", 80);
	uint8_t buf[MYP_PROXY_MAX];
	size_t n = build(MYP_PROXY_V2, &s, &d, buf, sizeof(buf));
	ck_assert_uint_eq(n, 16 + 36);
	ck_assert(memcmp(buf, sig, 12) == 0);
	ck_assert_uint_eq(buf[12], 0x21);
	ck_assert_uint_eq(buf[13], 0x21);
	ck_assert_uint_eq(buf[14] << 8 | buf[15], 36);
	ck_assert_uint_eq(buf[16], 0x20);
	ck_assert_uint_eq(buf[17], 0x01);
	ck_assert_uint_eq(buf[31], 5);
	/* the IPv4 destination, v4-mapped */
	static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 127, 0, 0, 1};
	ck_assert(memcmp(buf + 32, mapped, 16) == 0);
	ck_assert_uint_eq(buf[48] << 8 | buf[49], 1000);
	ck_assert_uint_eq(buf[50] << 8 | buf[51], 80);
}
END_TEST

START_TEST(v2_unix)
{
	struct sockaddr_storage s = ss_unix("/tmp/a.sock"), d = ss_unix("/tmp/b.sock");
	uint8_t buf[MYP_PROXY_MAX];
	size_t n = build(MYP_PROXY_V2, &s, &d, buf, sizeof(buf));
	ck_assert_uint_eq(n, MYP_PROXY_V2_MAX);
	ck_assert_uint_eq(buf[12], 0x21);
	ck_assert_uint_eq(buf[13], 0x31);
	ck_assert_uint_eq(buf[14] << 8 | buf[15], 216);
	ck_assert_str_eq((const char *)buf + 16, "/tmp/a.sock");
	ck_assert_str_eq((const char *)buf + 16 + 108, "/tmp/b.sock");
	ck_assert_uint_eq(buf[16 + 107], 0);
}
END_TEST

START_TEST(v2_local)
{
	uint8_t buf[MYP_PROXY_MAX];
	struct sockaddr_storage u = ss_unix("/x"), i4 = ss_in4("1.2.3.4", 5);
	size_t n = build(MYP_PROXY_V2, &u, &i4, buf, sizeof(buf)); /* mixed: no sensible form */
	ck_assert_uint_eq(n, 16);
	ck_assert(memcmp(buf, sig, 12) == 0);
	ck_assert_uint_eq(buf[12], 0x20);
	ck_assert_uint_eq(buf[13], 0x00);
	ck_assert_uint_eq(buf[14] | buf[15], 0);
}
END_TEST

START_TEST(overflow_is_sticky)
{
	struct sockaddr_storage s = ss_in4("10.0.0.1", 1), d = ss_in4("10.0.0.2", 2);
	for (myp_proxy_version_t v = MYP_PROXY_V1; v <= MYP_PROXY_V2; v++) {
		uint8_t full[MYP_PROXY_MAX];
		size_t need = build(v, &s, &d, full, sizeof(full));
		for (size_t cap = 0; cap < need; cap++) {
			uint8_t buf[MYP_PROXY_MAX];
			myp_wbuf_t w;
			myp_wbuf_init(&w, buf, cap);
			myp_proxy_header_build(&w, v, (struct sockaddr *)&s, (struct sockaddr *)&d);
			ck_assert_msg(w.failed, "v%d cap %zu of %zu", v, cap, need);
		}
	}
}
END_TEST

static Suite *proxy_header_suite(void)
{
	Suite *s = suite_create("proxy_header");
	TCase *tc = tcase_create("encode");
	tcase_add_test(tc, v1_tcp4);
	tcase_add_test(tc, v1_tcp6_and_mixed);
	tcase_add_test(tc, v1_longest_fits);
	tcase_add_test(tc, v1_unknown);
	tcase_add_test(tc, v2_tcp4);
	tcase_add_test(tc, v2_tcp6);
	tcase_add_test(tc, v2_unix);
	tcase_add_test(tc, v2_local);
	tcase_add_test(tc, overflow_is_sticky);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return gp_check_run(proxy_header_suite(), CK_NORMAL);
}
