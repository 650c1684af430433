/* test_net.c - refusing connections without leaks (refuse.c) and lookups off the loop (resolve.c).
 */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "gp_check.h"
#include "net/refuse.h"
#include "net/resolve.h"

/* ---- helpers ---------------------------------------------------------- */

/* Open descriptors; libuv's process-wide signal pipe is opened by the first loop, first. */
static int fd_count(void)
{
	static bool warm;
	if (!warm) {
		uv_loop_t l;
		ck_assert_int_eq(uv_loop_init(&l), 0);
		ck_assert_int_eq(uv_loop_close(&l), 0);
		warm = true;
	}
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	ck_assert_ptr_nonnull(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

/* A listener on 127.0.0.1 with a kernel-chosen port, and what its callback did. */
typedef struct bench {
	uv_loop_t loop;
	uv_tcp_t listener;
	gp_refuser_t refuser;
	uint16_t port;
	bool serve;         /* accept and close with a handle of our own instead of refusing */
	bool close_on_wait; /* close the listener once a connection waits for the refuser */
	int served;         /* connections accepted by the serve path */
	int waited;         /* refusals that found the refuser busy */
	int idle_calls;     /* on_idle calls */
} bench_t;

static bench_t B;

static void on_served_closed(uv_handle_t *h)
{
	free(h);
}

static void on_conn(uv_stream_t *l, int status)
{
	ck_assert_int_eq(status, 0);
	if (B.serve) {
		uv_tcp_t *t = malloc(sizeof(*t));
		ck_assert_ptr_nonnull(t);
		uv_tcp_init(l->loop, t);
		ck_assert_int_eq(uv_accept(l, (uv_stream_t *)t), 0);
		B.served++;
		uv_close((uv_handle_t *)t, on_served_closed);
		return;
	}
	gp_refuse(&B.refuser, l);
	if (B.refuser.waiting) {
		B.waited++;
		if (B.close_on_wait && !uv_is_closing((uv_handle_t *)l))
			uv_close((uv_handle_t *)l, NULL);
	}
}

static void on_idle(gp_refuser_t *r)
{
	(void)r;
	B.idle_calls++;
}

static void bench_open(void)
{
	struct sockaddr_in sa;
	struct sockaddr_storage got;
	int len = sizeof(got);
	memset(&B, 0, sizeof(B));
	ck_assert_int_eq(uv_loop_init(&B.loop), 0);
	uv_tcp_init(&B.loop, &B.listener);
	uv_ip4_addr("127.0.0.1", 0, &sa);
	ck_assert_int_eq(uv_tcp_bind(&B.listener, (const struct sockaddr *)&sa, 0), 0);
	ck_assert_int_eq(uv_listen((uv_stream_t *)&B.listener, 64, on_conn), 0);
	ck_assert_int_eq(uv_tcp_getsockname(&B.listener, (struct sockaddr *)&got, &len), 0);
	B.port = ntohs(((struct sockaddr_in *)&got)->sin_port);
	B.refuser.on_idle = on_idle;
}

static void bench_close(void)
{
	if (!uv_is_closing((uv_handle_t *)&B.listener))
		uv_close((uv_handle_t *)&B.listener, NULL);
	uv_run(&B.loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&B.loop), 0);
}

/* A blocking client, connected (loopback completes the handshake before accept). */
static int client(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(B.port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* The server closed the connection: EOF or a reset within 2 s. */
static bool closed_by_server(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char c;
	if (poll(&pfd, 1, 2000) != 1)
		return false;
	ssize_t n = recv(fd, &c, 1, 0);
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* Run the loop until cond holds (2 s at most). */
#define RUN_UNTIL(cond)                                                 \
	do {                                                            \
		for (int spin_ = 0; spin_ < 2000 && !(cond); spin_++) { \
			uv_run(&B.loop, UV_RUN_NOWAIT);                 \
			if (!(cond))                                    \
				usleep(1000);                           \
		}                                                       \
		ck_assert_msg(cond, "not reached: %s", #cond);          \
	} while (0)

/* ---- refuse ----------------------------------------------------------- */

START_TEST(test_refuse_burst_then_serve)
{
	int base = fd_count();
	bench_open();
	int fds[6];
	/* Six at once: the first takes the refuser, the second waits in the listener (which
	 * libuv stops polling), and each is taken as the one before has closed. */
	for (int i = 0; i < 6; i++)
		fds[i] = client();
	RUN_UNTIL(B.refuser.refused == 6 && gp_refuse_idle(&B.refuser));
	ck_assert_int_ge(B.waited, 1);
	for (int i = 0; i < 6; i++) {
		ck_assert_msg(closed_by_server(fds[i]), "client %d was not closed", i);
		close(fds[i]);
	}
	ck_assert_int_eq(B.idle_calls, 1);
	/* The listener still serves. */
	B.serve = true;
	int fd = client();
	RUN_UNTIL(B.served == 1);
	ck_assert(closed_by_server(fd));
	close(fd);
	bench_close();
	ck_assert_int_eq(fd_count(), base);
}
END_TEST

START_TEST(test_refuse_listener_closed_while_waiting)
{
	int base = fd_count();
	bench_open();
	B.close_on_wait = true;
	int fds[3];
	for (int i = 0; i < 3; i++)
		fds[i] = client();
	RUN_UNTIL(B.waited == 1 && gp_refuse_idle(&B.refuser));
	/* The connection that waited went with the listener; nothing is left open. */
	ck_assert_int_eq(B.refuser.refused, 1);
	ck_assert_ptr_null(B.refuser.waiting);
	ck_assert_int_eq(B.idle_calls, 1);
	bench_close();
	for (int i = 0; i < 3; i++) {
		ck_assert_msg(closed_by_server(fds[i]), "client %d was not closed", i);
		close(fds[i]);
	}
	ck_assert_int_eq(fd_count(), base);
}
END_TEST

/* ---- resolve ---------------------------------------------------------- */

static int resolved_calls;

static void on_resolved(gp_resolve_t *r, void *arg)
{
	(void)r;
	*(gp_resolve_t **)arg = r;
	resolved_calls++;
}

static uint16_t port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

START_TEST(test_resolve_numeric)
{
	struct sockaddr_storage ss;
	ck_assert(gp_resolve_numeric("10.1.2.3", 3306, &ss));
	ck_assert_int_eq(ss.ss_family, AF_INET);
	ck_assert_uint_eq(port_of(&ss), 3306);
	ck_assert(gp_resolve_numeric("::1", 9480, &ss));
	ck_assert_int_eq(ss.ss_family, AF_INET6);
	ck_assert_uint_eq(port_of(&ss), 9480);
	ck_assert(!gp_resolve_numeric("localhost", 1, &ss));
	ck_assert(!gp_resolve_numeric("db1.example", 1, &ss));
	ck_assert(!gp_resolve_numeric("300.1.1.1", 1, &ss));
}
END_TEST

START_TEST(test_resolve_batch)
{
	uv_loop_t loop;
	gp_resolve_t *r = NULL, *got = NULL;
	/* localhost is in every /etc/hosts; .invalid never resolves (RFC 6761). */
	const char *hosts[] = {"127.0.0.1", "localhost", "::1", "gp-test.invalid"};
	const uint16_t ports[] = {1, 2, 3, 4};
	resolved_calls = 0;
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(gp_resolve_start(&loop, 4, hosts, ports, on_resolved, &got, &r), GP_OK);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(resolved_calls, 0); /* never from inside the call */
	ck_assert_uint_eq(gp_resolve_waiting(r), 4);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(resolved_calls, 1);
	ck_assert_ptr_eq(got, r);
	ck_assert_uint_eq(gp_resolve_count(r), 4);
	ck_assert_uint_eq(gp_resolve_waiting(r), 0);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_msg(gp_resolve_status(r, i) == 0, "%s: %s", gp_resolve_host(r, i),
		              uv_strerror(gp_resolve_status(r, i)));
		ck_assert_uint_eq(port_of(gp_resolve_addr(r, i)), ports[i]);
	}
	ck_assert_int_eq(gp_resolve_addr(r, 0)->ss_family, AF_INET);
	ck_assert_int_eq(gp_resolve_addr(r, 2)->ss_family, AF_INET6);
	ck_assert_int_ne(gp_resolve_status(r, 3), 0);
	ck_assert_str_eq(gp_resolve_host(r, 3), "gp-test.invalid");
	gp_resolve_free(r);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(test_resolve_cancel)
{
	uv_loop_t loop;
	gp_resolve_t *r = NULL, *got = NULL;
	const char *hosts[] = {"localhost", "localhost", "gp-test.invalid"};
	const uint16_t ports[] = {1, 2, 3};
	resolved_calls = 0;
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(gp_resolve_start(&loop, 3, hosts, ports, on_resolved, &got, &r), GP_OK);
	/* Shutdown while the lookups run: no callback, and (under ASan) no leak. */
	gp_resolve_cancel(r);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(resolved_calls, 0);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	gp_resolve_cancel(NULL);
	gp_resolve_free(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("net");
	TCase *tc = tcase_create("refuse");
	tcase_add_test(tc, test_refuse_burst_then_serve);
	tcase_add_test(tc, test_refuse_listener_closed_while_waiting);
	suite_add_tcase(s, tc);
	tc = tcase_create("resolve");
	tcase_add_test(tc, test_resolve_numeric);
	tcase_add_test(tc, test_resolve_batch);
	tcase_add_test(tc, test_resolve_cancel);
	suite_add_tcase(s, tc);
	return gp_check_run(s, CK_NORMAL);
}
