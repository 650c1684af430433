/* fuzz_http.c - libFuzzer target: the HTTP request path (parser, limits, dispatch, answers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/admin.h"
#include "ops/routes.h"
#include "net/http.h"
#include "base/log.h"
#include "core/proxy.h"
#include "ha/vrrp.h"
#include "ops/metrics.h"

/*
 * Input: flags (1 byte; bit 0: a client on the same host, so POST actions run; bit 1: end
 * with the connection's deadline; bit 2: end with the client's EOF), then chunks: length
 * (1 byte), then that many bytes, each fed to one socketless connection as one read (the
 * split points matter to the parser). The proxy is a fake with two backends and a writer,
 * enough for /health, /status and /metrics; POST actions from the same host run against it.
 * Each answer must be a well-formed HTTP/1.1 response with a matching Content-Length.
 */

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uv_loop_t loop;
static gp_config_t cfg;
static gp_proxy_t proxy;
static gp_metrics_t metrics;
static gp_vrrp_t vrrp;
static gp_admin_t admin;
static gp_http_t *http;

static void set_STR(char **f, const char *def)
{
	*f = (char *)def;
}

static void set_SECRET(char **f, const char *def)
{
	*f = (char *)def;
}

static void set_INT(int64_t *f, int64_t def)
{
	*f = def;
}

static void set_BOOL(bool *f, bool def)
{
	*f = def;
}

static void fake_proxy(void)
{
#define GP_CONF_DEFAULT(sec, field, key, type, def, help) set_##type(&cfg.sec##_##field, def);
	GP_CONFIG_TABLE(GP_CONF_DEFAULT)
#undef GP_CONF_DEFAULT
	cfg.top_listen = (char *)"127.0.0.1:6033";
	cfg.top_http_listen = (char *)"127.0.0.1:9480";
	uv_loop_init(&loop);
	gp_log_min_level = (gp_log_level_t)(GP_LOG_ERROR + 1); /* quiet: logs cost time */
	cfg.nbackends = 2;
	snprintf(cfg.backends[0].name, GP_NAME_MAX, "db1");
	snprintf(cfg.backends[1].name, GP_NAME_MAX, "db2");
	snprintf(cfg.backends[0].address, GP_ADDR_MAX, "127.0.0.1:3306");
	snprintf(cfg.backends[1].address, GP_ADDR_MAX, "127.0.0.1:3307");
	cfg.backends[0].priority = 1;
	cfg.backends[1].priority = 2;
	cfg.top_http_admin_token = (char *)"fuzz-token";
	cfg.path = (char *)"/nonexistent/galera-proxy.conf"; /* POST /reload: fails to read */
	proxy.loop = &loop;
	proxy.cfg = &cfg;
	proxy.nbackends = 2;
	for (int i = 0; i < 2; i++)
		proxy.backends[i].conf = &cfg.backends[i];
	for (int i = 0; i < GP_SS__COUNT; i++)
		gp_list_init(&proxy.sessions[i]);
	gp_list_init(&proxy.draining);
	gp_cluster_init(&proxy.cluster, NULL, &cfg, NULL);
	proxy.metrics = &metrics;
	proxy.vrrp = &vrrp;
	gp_metrics_init(proxy.metrics);
	proxy.cluster.decided = true;
	proxy.cluster.gout.state[0] = GP_NODE_SYNCED;
	proxy.cluster.gout.state[1] = GP_NODE_SYNCED;
	proxy.cluster.writer = 0;
	proxy.cluster.barrier_from = -1;
	proxy.listening[GP_EP_RW] = true;
	proxy.vrrp->notified = proxy.vrrp->effective = GP_VRRP_UNKNOWN;
	proxy.cluster.gin.node[0].up = proxy.cluster.gin.node[1].up = true;
	http = gp_http_test_new(&loop, gp_routes_handle, &proxy);
	CHECK(http);
	admin.proxy = &proxy;
	admin.http = http;
	admin.config_version = 1;
	uv_timer_init(&loop, &admin.tick); /* admin drains watch with it */
	admin.tick.data = &admin;
	admin.tick_open = true;
	proxy.admin = &admin;
}

/* Every answer in out: a status line, headers, and exactly Content-Length bytes of body. */
static void check_answers(const gp_strbuf_t *out, bool head_only_possible)
{
	size_t off = 0;
	while (off < out->len) {
		const char *a = out->data + off;
		CHECK(out->len - off >= 12 && !memcmp(a, "HTTP/1.1 ", 9));
		const char *end = memmem(a, out->len - off, "\r\n\r\n", 4);
		CHECK(end);
		const char *cl = memmem(a, (size_t)(end - a), "Content-Length: ", 16);
		CHECK(cl);
		size_t blen = strtoul(cl + 16, NULL, 10);
		size_t hlen = (size_t)(end - a) + 4;
		size_t next = off + hlen + blen;
		if (next > out->len ||
		    (next < out->len && memcmp(out->data + next, "HTTP/1.1 ", 9))) {
			/* a HEAD answer carries the length but not the body */
			CHECK(head_only_possible);
			next = off + hlen;
		}
		off = next;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!http)
		fake_proxy();
	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	gp_strbuf_t out = {0};
	gp_http_conn_t *c = gp_http_test_open(http, flags & 1, &out);
	CHECK(c);
	bool open = true;
	size_t off = 1;
	while (open && off < size) {
		size_t n = data[off++];
		if (n > size - off)
			n = size - off;
		if (n == 0)
			continue; /* an empty read means EOF to the seam: only the flag ends that
			             way */
		/* an exactly-sized copy, so ASan sees any overread */
		char *chunk = malloc(n);
		CHECK(chunk);
		memcpy(chunk, data + off, n);
		open = gp_http_test_feed(c, chunk, n);
		free(chunk);
		off += n;
	}
	if (open && (flags & 2))
		gp_http_test_timeout(c);
	else if (open && (flags & 4))
		gp_http_test_feed(c, NULL, 0);
	/* Whatever is still open is closed (idempotent: a closing connection is freed only by
	 * its close callbacks), and the loop runs those callbacks. */
	gp_http_test_close(c);
	uv_run(&loop, UV_RUN_NOWAIT);
	check_answers(&out, memmem(data, size, "HEAD ", 5) != NULL);
	gp_strbuf_free(&out);
	return 0;
}
