/* test_net.c - the net layer: refusals, socket peeks, HTTP over io, lookups off the loop. */
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
#include "net/bufpool.h"
#include "net/http.h"
#include "net/io.h"
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

/* ---- io: accept, peek ------------------------------------------------- */

static void quiet_ended(gp_io_t *io, gp_status_t st)
{
	(void)io;
	(void)st;
}

static void quiet_closed(gp_io_t *io)
{
	free(io);
}

static int io_packets; /* packets the wipe test's io was handed */
static gp_pkt_action_t count_drop(gp_io_t *io, gp_pkt_t *pkt)
{
	(void)io;
	(void)pkt;
	io_packets++;
	return GP_PKT_DROP;
}

static const gp_io_proto_t quiet_proto = {
        .packet = count_drop, .ended = quiet_ended, .closed = quiet_closed};
static gp_io_t *accepted;
static bool accept_wipe; /* gp_io_set_wipe on the accepted io */

static void on_conn_io(uv_stream_t *l, int status)
{
	ck_assert_int_eq(status, 0);
	gp_io_t *io = malloc(sizeof(*io));
	ck_assert_ptr_nonnull(io);
	ck_assert_int_eq(gp_io_init(io, l->loop, &quiet_proto, NULL), GP_OK);
	ck_assert_int_eq(gp_io_accept(io, l), GP_OK);
	gp_io_tune(io);
	if (accept_wipe)
		gp_io_set_wipe(io);
	accepted = io;
}

/* The bench's listener replaced by one whose connections become gp_io_t (accepted); a client
 * connected to it, its descriptor returned once the io exists. */
static int io_pair(bool wipe)
{
	bench_open();
	uv_close((uv_handle_t *)&B.listener, NULL);
	uv_run(&B.loop, UV_RUN_DEFAULT);
	struct sockaddr_in sa;
	struct sockaddr_storage got;
	int len = sizeof(got);
	uv_tcp_init(&B.loop, &B.listener);
	uv_ip4_addr("127.0.0.1", 0, &sa);
	ck_assert_int_eq(uv_tcp_bind(&B.listener, (const struct sockaddr *)&sa, 0), 0);
	ck_assert_int_eq(uv_listen((uv_stream_t *)&B.listener, 8, on_conn_io), 0);
	ck_assert_int_eq(uv_tcp_getsockname(&B.listener, (struct sockaddr *)&got, &len), 0);
	B.port = ntohs(((struct sockaddr_in *)&got)->sin_port);
	accepted = NULL;
	accept_wipe = wipe;
	int fd = client();
	RUN_UNTIL(accepted != NULL);
	return fd;
}

/* A client's bytes are wiped from the read buffer before it goes back to the pool (under
 * gp_io_set_wipe), and only then: the pool hands the same buffer out next (LIFO). */
START_TEST(test_io_wipe_before_pool)
{
	static const char pkt[] = "\x0d\x00\x00\x00"
	                          "\x03SET PASSWORD"; /* a 13-byte COM_QUERY */
	const size_t n = sizeof(pkt) - 1;
	int wipe = _i;
	int fd = io_pair(wipe);
	io_packets = 0;
	gp_io_read(accepted, true);
	ck_assert_int_eq(send(fd, pkt, n, 0), (ssize_t)n);
	RUN_UNTIL(io_packets == 1);
	uint8_t *buf = gp_bufpool_get();    /* the one the io just gave back */
	const size_t link = sizeof(void *); /* the pool's free-list link overlays the start */
	ck_assert_int_eq(memcmp(buf + link, pkt + link, n - link) != 0, wipe);
	if (wipe)
		for (size_t i = link; i < n; i++)
			ck_assert_uint_eq(buf[i], 0);
	gp_bufpool_put(buf);
	close(fd);
	gp_io_close(accepted, false);
	bench_close();
}
END_TEST

/* gp_io_quiet peeks at the kernel's queue: unread bytes and a FIN count, nothing is consumed. */
START_TEST(test_io_quiet_peeks)
{
	int fd = io_pair(false);
	ck_assert(gp_io_quiet(accepted));
	ck_assert_int_eq(send(fd, "x", 1, 0), 1);
	usleep(20000);
	ck_assert(!gp_io_quiet(accepted));
	ck_assert(!gp_io_quiet(accepted)); /* a peek: the byte is still there */
	int dup_fd = gp_io_dup(accepted);
	ck_assert_int_ge(dup_fd, 0);
	char c;
	ck_assert_int_eq(recv(dup_fd, &c, 1, 0), 1); /* the same socket, through the duplicate */
	ck_assert_int_eq(c, 'x');
	close(dup_fd);
	ck_assert(gp_io_quiet(accepted));
	close(fd);
	usleep(20000);
	ck_assert(!gp_io_quiet(accepted)); /* the FIN */
	gp_io_close(accepted, false);
	bench_close();
}
END_TEST

/* ---- http: server and client over the I/O engine -------------------------- */

static struct {
	int requests;   /* handler calls */
	int done_calls; /* client reports */
	bool ok;        /* last report */
	int code;       /* its status */
	char body[128]; /* its body */
} H;

static void status_handler(void *arg, const gp_http_request_t *rq, gp_http_answer_t *a)
{
	(void)arg;
	H.requests++;
	if (rq->path_len == 7 && !memcmp(rq->path, "/status", 7)) {
		a->code = 200;
		a->ctype = "application/json";
		a->handler = "status";
		snprintf(a->text, sizeof(a->text), "{\"vrrp_state\":\"BACKUP\",\"same\":%d}",
		         rq->same_host);
		a->body = a->text;
		a->body_len = strlen(a->text);
		return;
	}
	gp_http_answer_text(a, 404, "not found\n");
}

static void on_got(void *arg, bool ok, int code, const char *body, size_t len)
{
	(void)arg;
	H.done_calls++;
	H.ok = ok;
	H.code = code;
	snprintf(H.body, sizeof(H.body), "%.*s", (int)len, body ? body : "");
}

/* A port nothing listens on right now (bound, read and released). */
static uint16_t free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static void count_cb(void *arg, const char *handler, int code, uint64_t n)
{
	if (!strcmp(handler, "status") && code == 200)
		*(uint64_t *)arg += n;
}

START_TEST(test_http_get_roundtrip)
{
	int before = fd_count();
	memset(&H, 0, sizeof(H));
	ck_assert_int_eq(uv_loop_init(&B.loop), 0);
	uint16_t port = free_port();
	char addr[32];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	gp_http_t *h = NULL;
	ck_assert_int_eq(gp_http_start(&B.loop, addr, status_handler, NULL, &h), GP_OK);
	struct sockaddr_in sa;
	uv_ip4_addr("127.0.0.1", port, &sa);
	gp_http_get_t *g = NULL;

	/* A whole answer: status and body reach the caller once. */
	ck_assert_int_eq(
	        gp_http_get(&B.loop, (struct sockaddr *)&sa, "/status", 1024, on_got, NULL, &g),
	        GP_OK);
	RUN_UNTIL(H.done_calls == 1);
	ck_assert(H.ok);
	ck_assert_int_eq(H.code, 200);
	ck_assert_str_eq(H.body, "{\"vrrp_state\":\"BACKUP\",\"same\":1}");
	uint64_t served = 0;
	gp_http_each_count(h, count_cb, &served);
	ck_assert_uint_eq(served, 1);

	/* Another path: the handler's 404 comes back as such. */
	ck_assert_int_eq(
	        gp_http_get(&B.loop, (struct sockaddr *)&sa, "/nope", 1024, on_got, NULL, &g),
	        GP_OK);
	RUN_UNTIL(H.done_calls == 2);
	ck_assert(H.ok);
	ck_assert_int_eq(H.code, 404);

	/* A body larger than the caller takes fails the request. */
	ck_assert_int_eq(
	        gp_http_get(&B.loop, (struct sockaddr *)&sa, "/status", 8, on_got, NULL, &g),
	        GP_OK);
	RUN_UNTIL(H.done_calls == 3);
	ck_assert(!H.ok);

	/* Cancelled: never reported, and nothing stays open. */
	ck_assert_int_eq(
	        gp_http_get(&B.loop, (struct sockaddr *)&sa, "/status", 1024, on_got, NULL, &g),
	        GP_OK);
	gp_http_get_cancel(g);
	for (int i = 0; i < 50; i++) {
		uv_run(&B.loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	ck_assert_int_eq(H.done_calls, 3);

	/* Nobody listens: a failure, reported once. */
	gp_http_stop(h);
	uv_run(&B.loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(
	        gp_http_get(&B.loop, (struct sockaddr *)&sa, "/status", 1024, on_got, NULL, &g),
	        GP_OK);
	RUN_UNTIL(H.done_calls == 4);
	ck_assert(!H.ok);
	uv_run(&B.loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&B.loop), 0);
	ck_assert_int_eq(fd_count(), before);
}
END_TEST

/* A keep-alive client sends two requests in one write: two answers, in order; its EOF closes
 * the connection. */
START_TEST(test_http_server_pipelined)
{
	memset(&H, 0, sizeof(H));
	ck_assert_int_eq(uv_loop_init(&B.loop), 0);
	B.port = free_port();
	char addr[32];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", B.port);
	gp_http_t *h = NULL;
	ck_assert_int_eq(gp_http_start(&B.loop, addr, status_handler, NULL, &h), GP_OK);
	int fd = client();
	static const char two[] = "GET /status HTTP/1.1\r\nHost: x\r\n\r\n"
	                          "GET /other HTTP/1.1\r\nHost: x\r\n\r\n";
	ck_assert_int_eq(send(fd, two, sizeof(two) - 1, 0), (ssize_t)sizeof(two) - 1);
	RUN_UNTIL(H.requests == 2);
	char buf[2048] = "";
	size_t got = 0;
	for (int i = 0; i < 200 && !strstr(buf, "not found\n"); i++) {
		uv_run(&B.loop, UV_RUN_NOWAIT);
		ssize_t n = recv(fd, buf + got, sizeof(buf) - 1 - got, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
		buf[got] = '\0';
		usleep(1000);
	}
	char *first = strstr(buf, "HTTP/1.1 200 OK\r\n");
	char *second = strstr(buf, "HTTP/1.1 404 Not Found\r\n");
	ck_assert_ptr_nonnull(first);
	ck_assert_ptr_nonnull(second);
	ck_assert(first < second);
	ck_assert_ptr_null(strstr(buf, "Connection: close"));
	close(fd);
	for (int i = 0; i < 50; i++) {
		uv_run(&B.loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	gp_http_stop(h);
	uv_run(&B.loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&B.loop), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("net");
	TCase *tc = tcase_create("refuse");
	tcase_add_test(tc, test_refuse_burst_then_serve);
	tcase_add_test(tc, test_refuse_listener_closed_while_waiting);
	suite_add_tcase(s, tc);
	tc = tcase_create("io");
	tcase_add_test(tc, test_io_quiet_peeks);
	tcase_add_loop_test(tc, test_io_wipe_before_pool, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("http");
	tcase_add_test(tc, test_http_get_roundtrip);
	tcase_add_test(tc, test_http_server_pipelined);
	suite_add_tcase(s, tc);
	tc = tcase_create("resolve");
	tcase_add_test(tc, test_resolve_numeric);
	tcase_add_test(tc, test_resolve_batch);
	tcase_add_test(tc, test_resolve_cancel);
	suite_add_tcase(s, tc);
	return gp_check_run(s, CK_NORMAL);
}
