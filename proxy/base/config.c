/* config.c - the configuration loader: a file checked against GP_CONFIG_TABLE. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/config.h"
#include "base/config_keys.h"
#include "base/log.h"

#define GP_HOSTNAME_MAX 253 /* DNS limit for a textual host name */

static uint64_t gp_cfg_generations; /* configurations loaded so far (the loop thread loads) */

static int gp_cfg_is_string(gp_cfg_type_t t)
{
	return t == GP_CFG_STR || t == GP_CFG_SECRET || t == GP_CFG_FILE;
}

/* Where errors go while one file is loaded; only the first error is kept. */
typedef struct gp_cfg_ctx {
	const char *path; /* file being loaded, for settings without a source file */
	char *err;        /* caller's buffer */
	size_t errcap;    /* its size */
} gp_cfg_ctx_t;

/* Format "file:line: message" (or "file: message" when there is no setting to point at). */
__attribute__((format(printf, 3, 4))) static gp_status_t
gp_cfg_error(gp_cfg_ctx_t *ctx, const config_setting_t *s, const char *fmt, ...)
{
	const char *file = ctx->path;
	va_list ap;
	int n;

	if (ctx->err == NULL || ctx->errcap == 0)
		return GP_ECONFIG;
	if (s != NULL && config_setting_source_file(s) != NULL)
		file = config_setting_source_file(s);
	if (s != NULL && config_setting_source_line(s) > 0)
		n = snprintf(ctx->err, ctx->errcap, "%s:%u: ", file, config_setting_source_line(s));
	else
		n = snprintf(ctx->err, ctx->errcap, "%s: ", file);
	if (n < 0 || (size_t)n >= ctx->errcap)
		return GP_ECONFIG;
	va_start(ap, fmt);
	vsnprintf(ctx->err + n, ctx->errcap - (size_t)n, fmt, ap);
	va_end(ap);
	return GP_ECONFIG;
}

static gp_status_t gp_cfg_oom(gp_cfg_ctx_t *ctx)
{
	(void)gp_cfg_error(ctx, NULL, "out of memory");
	return GP_ENOMEM;
}

static const gp_cfg_key_t *gp_cfg_find_key(const char *section, const char *key)
{
	for (size_t i = 0; i < GP_CFG_NKEYS; i++)
		if (strcmp(gp_cfg_keys[i].section, section) == 0 &&
		    strcmp(gp_cfg_keys[i].key, key) == 0)
			return &gp_cfg_keys[i];
	return NULL;
}

/* A group is known if the table has at least one key in it. */
static int gp_cfg_is_group(const char *name)
{
	if (strcmp(name, "top") == 0)
		return 0;
	for (size_t i = 0; i < GP_CFG_NKEYS; i++)
		if (strcmp(gp_cfg_keys[i].section, name) == 0)
			return 1;
	return 0;
}

static int gp_cfg_is_int(const config_setting_t *s)
{
	int t = config_setting_type(s);
	return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;
}

static gp_status_t gp_cfg_set_defaults(gp_config_t *c)
{
	for (size_t i = 0; i < GP_CFG_NKEYS; i++) {
		const gp_cfg_key_t *k = &gp_cfg_keys[i];
		char *field = (char *)c + k->offset;

		switch (k->type) {
		case GP_CFG_STR:
		case GP_CFG_SECRET:
		case GP_CFG_FILE:
			if ((*(char **)field = strdup(k->def_str)) == NULL)
				return GP_ENOMEM;
			break;
		case GP_CFG_INT:
			*(int64_t *)field = k->def_int;
			break;
		case GP_CFG_BOOL:
			*(bool *)field = k->def_int != 0;
			break;
		}
	}
	return GP_OK;
}

/* Type-check one scalar setting against its table row and store it. */
static gp_status_t gp_cfg_apply_key(gp_cfg_ctx_t *ctx, gp_config_t *c, const gp_cfg_key_t *k,
                                    const config_setting_t *s)
{
	char *field = (char *)c + k->offset;

	switch (k->type) {
	case GP_CFG_STR:
	case GP_CFG_SECRET:
	case GP_CFG_FILE: {
		if (config_setting_type(s) != CONFIG_TYPE_STRING)
			return gp_cfg_error(ctx, s, "'%s' must be a string", k->key);
		char *dup = strdup(config_setting_get_string(s));
		if (dup == NULL)
			return gp_cfg_oom(ctx);
		gp_config_secret_free(*(char **)field); /* a key given twice */
		*(char **)field = dup;
		return GP_OK;
	}
	case GP_CFG_INT: {
		if (!gp_cfg_is_int(s))
			return gp_cfg_error(ctx, s, "'%s' must be an integer", k->key);
		long long v = config_setting_get_int64(s);
		if (v < 0)
			return gp_cfg_error(ctx, s, "'%s' must not be negative", k->key);
		*(int64_t *)field = v;
		return GP_OK;
	}
	case GP_CFG_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			return gp_cfg_error(ctx, s, "'%s' must be true or false", k->key);
		*(bool *)field = config_setting_get_bool(s) != 0;
		return GP_OK;
	}
	return GP_EINVAL;
}

/* ---- addresses -------------------------------------------------------- */

static int gp_cfg_is_ip_literal(const char *h)
{
	unsigned char bin[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, h, bin) == 1 || inet_pton(AF_INET6, h, bin) == 1;
}

/* RFC 1123 names, plus '_' because container runtimes hand out names with it. */
static int gp_cfg_is_hostname(const char *h)
{
	size_t len = strlen(h), label = 0;
	int all_numeric = 1;

	if (len == 0 || len > GP_HOSTNAME_MAX)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		char ch = h[i];
		if (ch == '.' || ch == '\0') {
			if (label == 0 || label > 63 || h[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return 0;
		if (label == 0 && ch == '-')
			return 0;
		if (ch < '0' || ch > '9')
			all_numeric = 0;
		label++;
	}
	/* "300.1.1.1" looks like a name but is a mistyped IPv4 address. */
	unsigned char bin[sizeof(struct in_addr)];
	return !all_numeric || inet_pton(AF_INET, h, bin) == 1;
}

gp_status_t gp_config_split_addr(const char *addr, char *host, size_t hostcap, uint16_t *port)
{
	char tmp[GP_HOSTNAME_MAX + 1];
	const char *hs, *he, *ps;
	unsigned long p = 0;
	size_t hlen, plen;
	int v6 = 0;

	if (addr == NULL || host == NULL || hostcap == 0 || port == NULL)
		return GP_EINVAL;
	if (addr[0] == '[') {
		hs = addr + 1;
		he = strchr(hs, ']');
		if (he == NULL || he[1] != ':')
			return GP_EINVAL;
		ps = he + 2;
		v6 = 1;
	} else {
		hs = addr;
		he = strrchr(addr, ':');
		if (he == NULL || memchr(hs, ':', (size_t)(he - hs)) != NULL)
			return GP_EINVAL; /* no port, or an IPv6 address without brackets */
		ps = he + 1;
	}
	hlen = (size_t)(he - hs);
	if (hlen == 0 || hlen >= sizeof(tmp) || hlen >= hostcap)
		return GP_EINVAL;
	memcpy(tmp, hs, hlen);
	tmp[hlen] = '\0';
	if (v6) {
		unsigned char bin[sizeof(struct in6_addr)];
		if (inet_pton(AF_INET6, tmp, bin) != 1)
			return GP_EINVAL;
	} else if (!gp_cfg_is_hostname(tmp)) {
		return GP_EINVAL;
	}
	plen = strlen(ps);
	if (plen == 0 || plen > 5)
		return GP_EINVAL;
	for (size_t i = 0; i < plen; i++) {
		if (ps[i] < '0' || ps[i] > '9')
			return GP_EINVAL;
		p = p * 10 + (unsigned long)(ps[i] - '0');
	}
	if (p == 0 || p > 65535)
		return GP_EINVAL;
	memcpy(host, tmp, hlen + 1);
	*port = (uint16_t)p;
	return GP_OK;
}

static int gp_cfg_is_wildcard(const char *h)
{
	return strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0;
}

/* Would binding both addresses collide? A wildcard host collides with any on its port. */
static int gp_cfg_same_endpoint(const char *a, const char *b)
{
	char ha[GP_HOSTNAME_MAX + 1], hb[GP_HOSTNAME_MAX + 1];
	unsigned char ba[sizeof(struct in6_addr)], bb[sizeof(struct in6_addr)];
	uint16_t pa, pb;

	if (gp_config_split_addr(a, ha, sizeof(ha), &pa) != GP_OK ||
	    gp_config_split_addr(b, hb, sizeof(hb), &pb) != GP_OK || pa != pb)
		return 0;
	if (gp_cfg_is_wildcard(ha) || gp_cfg_is_wildcard(hb))
		return 1;
	if (inet_pton(AF_INET6, ha, ba) == 1 && inet_pton(AF_INET6, hb, bb) == 1)
		return memcmp(ba, bb, sizeof(struct in6_addr)) == 0;
	return strcasecmp(ha, hb) == 0;
}

/* ---- backends --------------------------------------------------------- */

static int gp_cfg_is_backend_name(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= GP_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-'))
			return 0;
	}
	return 1;
}

static gp_status_t gp_cfg_load_backend(gp_cfg_ctx_t *ctx, gp_config_t *c, size_t idx,
                                       const config_setting_t *e)
{
	gp_backend_conf_t *b = &c->backends[idx];
	const config_setting_t *name = NULL, *address = NULL;
	unsigned no = (unsigned)idx + 1; /* people count backends from 1 */

	if (!config_setting_is_group(e))
		return gp_cfg_error(
		        ctx, e, "backend %u must be a group { name = ...; address = ...; }", no);
	b->priority = (int64_t)no;
	for (int j = 0; j < config_setting_length(e); j++) {
		const config_setting_t *s = config_setting_get_elem(e, (unsigned)j);
		const char *key = config_setting_name(s);

		if (strcmp(key, "name") == 0 || strcmp(key, "address") == 0) {
			if (config_setting_type(s) != CONFIG_TYPE_STRING)
				return gp_cfg_error(ctx, s, "'%s' must be a string", key);
			*(strcmp(key, "name") == 0 ? &name : &address) = s;
		} else if (strcmp(key, "priority") == 0) {
			if (!gp_cfg_is_int(s))
				return gp_cfg_error(ctx, s, "'priority' must be an integer");
			b->priority = config_setting_get_int64(s);
			if (b->priority < 0)
				return gp_cfg_error(ctx, s, "'priority' must not be negative");
		} else {
			return gp_cfg_error(ctx, s, "unknown key '%s' in backend %u", key, no);
		}
	}
	if (name == NULL)
		return gp_cfg_error(ctx, e, "backend %u: 'name' is required", no);
	if (address == NULL)
		return gp_cfg_error(ctx, e, "backend %u: 'address' is required", no);

	const char *nm = config_setting_get_string(name);
	if (!gp_cfg_is_backend_name(nm))
		return gp_cfg_error(
		        ctx, name,
		        "backend %u: 'name' must be 1-%d characters of A-Z a-z 0-9 _ . -", no,
		        GP_NAME_MAX - 1);
	const char *ad = config_setting_get_string(address);
	if (strlen(ad) >= GP_ADDR_MAX ||
	    gp_config_split_addr(ad, b->host, sizeof(b->host), &b->port) != GP_OK)
		return gp_cfg_error(ctx, address,
		                    "backend '%s': 'address' must be HOST:PORT with port 1-65535, "
		                    "got '%s'",
		                    nm, ad);
	for (size_t i = 0; i < idx; i++) {
		if (strcmp(c->backends[i].name, nm) == 0)
			return gp_cfg_error(ctx, name, "duplicate backend name '%s'", nm);
		if (gp_cfg_same_endpoint(c->backends[i].address, ad))
			return gp_cfg_error(ctx, address,
			                    "backends '%s' and '%s' have the same address",
			                    c->backends[i].name, nm);
	}
	strcpy(b->name, nm);    /* length checked above */
	strcpy(b->address, ad); /* length checked above */
	return GP_OK;
}

static gp_status_t gp_cfg_load_backends(gp_cfg_ctx_t *ctx, gp_config_t *c,
                                        const config_setting_t *list)
{
	/* An empty array "[]" is the only array libconfig can give us here. */
	if (!config_setting_is_list(list) && !config_setting_is_array(list))
		return gp_cfg_error(ctx, list,
		                    "'backends' must be a list ( { name = ...; } , ... )");
	int n = config_setting_length(list);
	if (n == 0)
		return gp_cfg_error(ctx, list, "'backends' must name at least one backend");
	if (n > GP_MAX_BACKENDS)
		return gp_cfg_error(ctx, list, "too many backends: %d (at most %d)", n,
		                    GP_MAX_BACKENDS);
	for (int i = 0; i < n; i++) {
		gp_status_t st = gp_cfg_load_backend(ctx, c, (size_t)i,
		                                     config_setting_get_elem(list, (unsigned)i));
		if (st != GP_OK)
			return st;
	}
	c->nbackends = (size_t)n;
	return GP_OK;
}

/* ---- the file --------------------------------------------------------- */

/* Walk one group (section "top" is the root) and reject anything the table does not know. */
static gp_status_t gp_cfg_load_group(gp_cfg_ctx_t *ctx, gp_config_t *c, const char *section,
                                     const config_setting_t *grp, int *saw_backends)
{
	int top = strcmp(section, "top") == 0;

	for (int i = 0; i < config_setting_length(grp); i++) {
		const config_setting_t *s = config_setting_get_elem(grp, (unsigned)i);
		const char *name = config_setting_name(s);
		const gp_cfg_key_t *k = gp_cfg_find_key(section, name);
		gp_status_t st;

		if (k != NULL) {
			st = gp_cfg_apply_key(ctx, c, k, s);
		} else if (top && strcmp(name, "backends") == 0) {
			*saw_backends = 1;
			st = gp_cfg_load_backends(ctx, c, s);
		} else if (top && gp_cfg_is_group(name)) {
			if (!config_setting_is_group(s))
				return gp_cfg_error(ctx, s, "'%s' must be a group { ... }", name);
			st = gp_cfg_load_group(ctx, c, name, s, saw_backends);
		} else if (top) {
			st = gp_cfg_error(ctx, s, "unknown key '%s' at top level", name);
		} else {
			st = gp_cfg_error(ctx, s, "unknown key '%s' in %s", name, section);
		}
		if (st != GP_OK)
			return st;
	}
	return GP_OK;
}

/* The setting a key came from, so validation errors can name its line. */
static const config_setting_t *gp_cfg_lookup(const config_t *cf, const char *section,
                                             const char *key)
{
	char path[128];

	if (strcmp(section, "top") == 0)
		return config_lookup(cf, key);
	snprintf(path, sizeof(path), "%s.%s", section, key);
	return config_lookup(cf, path);
}

static gp_status_t gp_cfg_check_addr(gp_cfg_ctx_t *ctx, const config_t *cf, const char *key,
                                     const char *value)
{
	char host[GP_HOSTNAME_MAX + 1];
	uint16_t port;

	if (value[0] == '\0' || gp_config_split_addr(value, host, sizeof(host), &port) == GP_OK)
		return GP_OK;
	return gp_cfg_error(ctx, gp_cfg_lookup(cf, "top", key),
	                    "'%s' must be HOST:PORT with port 1-65535, got '%s'", key, value);
}

/* Lower bounds beyond "not negative"; keys not listed accept 0. */
static const struct gp_cfg_min {
	const char *section; /* as in the table */
	const char *key;     /* as in the table */
	size_t offset;       /* of the int64_t field */
	int64_t min;         /* smallest sensible value */
} gp_cfg_mins[] = {
        {"limits", "max_client_connections", offsetof(gp_config_t, limits_max_client_connections),
         1},
        {"monitor", "interval_ms", offsetof(gp_config_t, monitor_interval_ms), 10},
        {"monitor", "timeout_ms", offsetof(gp_config_t, monitor_timeout_ms), 10},
        {"monitor", "fall", offsetof(gp_config_t, monitor_fall), 1},
        {"monitor", "rise", offsetof(gp_config_t, monitor_rise), 1},
        {"auth", "refresh_ms", offsetof(gp_config_t, auth_refresh_ms), 100},
        {"handshake", "greeting_timeout_ms", offsetof(gp_config_t, handshake_greeting_timeout_ms),
         200},
};

/* Cross-key rules, run once the whole file has been read. */
/* The tls section: cert and key go together; the rest needs them. Files are read (and
 * the context built) by the daemon, which names a file that does not load. */
static gp_status_t gp_cfg_check_tls(gp_cfg_ctx_t *ctx, const config_t *cf, const gp_config_t *c)
{
	bool cert = c->tls_cert[0] != '\0', key = c->tls_key[0] != '\0';
	if (cert != key)
		return gp_cfg_error(ctx, gp_cfg_lookup(cf, "tls", cert ? "cert" : "key"),
		                    "'cert' and 'key' in tls go together");
	if (!cert && (c->tls_require || c->tls_ca[0] != '\0'))
		return gp_cfg_error(
		        ctx, gp_cfg_lookup(cf, "tls", c->tls_require ? "require" : "ca"),
		        "'%s' in tls needs 'cert' and 'key'", c->tls_require ? "require" : "ca");
	if (strcmp(c->tls_min_version, "TLSv1.2") != 0 &&
	    strcmp(c->tls_min_version, "TLSv1.3") != 0)
		return gp_cfg_error(ctx, gp_cfg_lookup(cf, "tls", "min_version"),
		                    "'min_version' in tls must be TLSv1.2 or TLSv1.3");
	const char *bk, *bm = gp_config_backend_tls_check(c, &bk);
	if (bm)
		return gp_cfg_error(ctx, gp_cfg_lookup(cf, "tls", bk), "%s", bm);
	return GP_OK;
}

static gp_status_t gp_cfg_validate(gp_cfg_ctx_t *ctx, const config_t *cf, gp_config_t *c,
                                   int saw_backends)
{
	gp_status_t st;

	if (c->top_listen[0] == '\0')
		return gp_cfg_error(ctx, gp_cfg_lookup(cf, "top", "listen"),
		                    "'listen' is required");
	if ((st = gp_cfg_check_addr(ctx, cf, "listen", c->top_listen)) != GP_OK ||
	    (st = gp_cfg_check_addr(ctx, cf, "listen_ro", c->top_listen_ro)) != GP_OK ||
	    (st = gp_cfg_check_addr(ctx, cf, "http_listen", c->top_http_listen)) != GP_OK ||
	    (st = gp_cfg_check_addr(ctx, cf, "peer", c->top_peer)) != GP_OK)
		return st;

	const char *ends[] = {"listen", "listen_ro", "http_listen"};
	const char *vals[] = {c->top_listen, c->top_listen_ro, c->top_http_listen};
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (vals[j][0] != '\0' && gp_cfg_same_endpoint(vals[i], vals[j]))
				return gp_cfg_error(ctx, gp_cfg_lookup(cf, "top", ends[j]),
				                    "'%s' and '%s' must be different addresses",
				                    ends[i], ends[j]);

	if (gp_log_level_parse(c->top_log_level) < 0)
		return gp_cfg_error(ctx, gp_cfg_lookup(cf, "top", "log_level"),
		                    "'log_level' must be one of debug, info, warn, error");
	if (c->top_vip[0] != '\0' && !gp_cfg_is_ip_literal(c->top_vip))
		return gp_cfg_error(ctx, gp_cfg_lookup(cf, "top", "vip"),
		                    "'vip' must be an IPv4 or IPv6 address, got '%s'", c->top_vip);

	for (size_t i = 0; i < sizeof(gp_cfg_mins) / sizeof(gp_cfg_mins[0]); i++) {
		const struct gp_cfg_min *m = &gp_cfg_mins[i];
		if (*(const int64_t *)((const char *)c + m->offset) < m->min)
			return gp_cfg_error(ctx, gp_cfg_lookup(cf, m->section, m->key),
			                    "'%s' in %s must be at least %lld", m->key, m->section,
			                    (long long)m->min);
	}
	if (gp_config_proxy_protocol(c) < 0)
		return gp_cfg_error(ctx, gp_cfg_lookup(cf, "handshake", "proxy_protocol"),
		                    "'proxy_protocol' in handshake must be one of off, v1, v2");
	if (c->handshake_warm > GP_WARM_MAX)
		return gp_cfg_error(ctx, gp_cfg_lookup(cf, "handshake", "warm"),
		                    "'warm' in handshake must be at most %d", GP_WARM_MAX);
	if (c->handshake_warm > 0 && (!c->handshake_park || gp_config_proxy_protocol(c) != 0))
		return gp_cfg_error(
		        ctx, gp_cfg_lookup(cf, "handshake", "warm"),
		        "'warm' in handshake needs park = true and proxy_protocol = \"off\" "
		        "(a greeting fetched ahead cannot name a client)");
	if (c->handshake_warm > 0 && c->handshake_slots > 0 &&
	    c->handshake_warm > c->handshake_slots)
		return gp_cfg_error(ctx, gp_cfg_lookup(cf, "handshake", "warm"),
		                    "'warm' in handshake must not exceed 'slots' (%lld)",
		                    (long long)c->handshake_slots);
	if ((st = gp_cfg_check_tls(ctx, cf, c)) != GP_OK)
		return st;
	if (c->monitor_user[0] == '\0')
		return gp_cfg_error(ctx, gp_cfg_lookup(cf, "monitor", "user"),
		                    "'user' in monitor must not be empty");
	if (!saw_backends)
		return gp_cfg_error(ctx, NULL, "'backends' is required");
	return GP_OK;
}

void gp_config_backend_resolved(gp_backend_conf_t *b, const struct sockaddr_storage *addr)
{
	b->addr = *addr;
	b->ip[0] = '\0';
	if (addr->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, b->ip,
		          sizeof(b->ip));
	else if (addr->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, b->ip,
		          sizeof(b->ip));
}

int gp_config_proxy_protocol(const gp_config_t *c)
{
	const char *v = c->handshake_proxy_protocol;
	return !strcmp(v, "off") ? 0 : !strcmp(v, "v1") ? 1 : !strcmp(v, "v2") ? 2 : -1;
}

/* Eviction and auth use the monitor account unless told otherwise; store the effective
 * value. */
static gp_status_t gp_cfg_inherit_eviction(gp_config_t *c)
{
	char **dst[] = {&c->eviction_user, &c->eviction_password, &c->auth_user, &c->auth_password};
	const char *src[] = {c->monitor_user, c->monitor_password, c->monitor_user,
	                     c->monitor_password};

	for (int i = 0; i < 4; i++) {
		if ((*dst[i])[0] != '\0')
			continue;
		char *dup = strdup(src[i]);
		if (dup == NULL)
			return GP_ENOMEM;
		free(*dst[i]);
		*dst[i] = dup;
	}
	return GP_OK;
}

/* ---- secrets ---------------------------------------------------------- */

/* " in SECTION" for messages, or nothing at the top level. */
static const char *gp_cfg_in(const gp_cfg_key_t *k, char *buf, size_t cap)
{
	if (strcmp(k->section, "top") == 0)
		return "";
	snprintf(buf, cap, " in %s", k->section);
	return buf;
}

/*
 * The secret in FILE (relative: to the configuration file's directory): a regular file
 * holding it on one line, 1 to GP_SECRET_MAX bytes, one trailing LF or CRLF dropped.
 * Messages name the key and the path, never what the file holds.
 */
static gp_status_t gp_cfg_read_secret(gp_cfg_ctx_t *ctx, const config_setting_t *s,
                                      const gp_cfg_key_t *k, const char *file, char **out)
{
	char path[PATH_MAX], where[64], buf[GP_SECRET_MAX + 3];
	const char *in = gp_cfg_in(k, where, sizeof(where));
	const char *slash = strrchr(ctx->path, '/');
	struct stat st;
	size_t n = 0;
	int err = 0;

	if (file[0] == '/' || slash == NULL)
		n = (size_t)snprintf(path, sizeof(path), "%s", file);
	else
		n = (size_t)snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - ctx->path),
		                     ctx->path, file);
	if (n >= sizeof(path))
		return gp_cfg_error(ctx, s, "'%s'%s: path too long", k->key, in);
	/* O_NONBLOCK: a FIFO must not hold the loop (a reload reads this) until a writer comes. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return gp_cfg_error(ctx, s, "'%s'%s: cannot read '%s': %s", k->key, in, path,
		                    strerror(errno));
	if (fstat(fd, &st) != 0) {
		err = errno;
		close(fd);
		return gp_cfg_error(ctx, s, "'%s'%s: cannot read '%s': %s", k->key, in, path,
		                    strerror(err));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return gp_cfg_error(ctx, s, "'%s'%s: '%s' is not a regular file", k->key, in, path);
	}
	n = 0;
	while (n < sizeof(buf)) {
		ssize_t r = read(fd, buf + n, sizeof(buf) - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			err = errno;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	gp_status_t rc = GP_OK;
	if (err != 0) {
		rc = gp_cfg_error(ctx, s, "'%s'%s: cannot read '%s': %s", k->key, in, path,
		                  strerror(err));
		goto out;
	}
	if (n > 0 && buf[n - 1] == '\n') {
		n--;
		if (n > 0 && buf[n - 1] == '\r')
			n--;
	}
	if (n > GP_SECRET_MAX) {
		rc = gp_cfg_error(ctx, s, "'%s'%s: '%s' holds more than %d bytes", k->key, in, path,
		                  GP_SECRET_MAX);
		goto out;
	}
	if (n == 0) {
		rc = gp_cfg_error(ctx, s, "'%s'%s: '%s' is empty", k->key, in, path);
		goto out;
	}
	if (memchr(buf, '\0', n) || memchr(buf, '\n', n) || memchr(buf, '\r', n)) {
		rc = gp_cfg_error(ctx, s,
		                  "'%s'%s: '%s' must hold one line (a NUL byte or a line break "
		                  "inside it)",
		                  k->key, in, path);
		goto out;
	}
	if ((*out = malloc(n + 1)) == NULL) {
		rc = gp_cfg_oom(ctx);
		goto out;
	}
	memcpy(*out, buf, n);
	(*out)[n] = '\0';
out:
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

/* Fill every SECRET whose twin names a file; both non-empty is an error. */
static gp_status_t gp_cfg_read_secrets(gp_cfg_ctx_t *ctx, const config_t *cf, gp_config_t *c)
{
	for (size_t i = 0; i < GP_CFG_NKEYS; i++) {
		const gp_cfg_key_t *k = &gp_cfg_keys[i];
		if (k->type != GP_CFG_FILE)
			continue;
		const char *file = *(char **)((char *)c + k->offset);
		char **secret = (char **)((char *)c + k->secret);
		const config_setting_t *s = gp_cfg_lookup(cf, k->section, k->key);
		char where[64], *val = NULL;
		if (file[0] == '\0')
			continue;
		if ((*secret)[0] != '\0')
			return gp_cfg_error(ctx, s, "'%.*s' and '%s'%s are both set: use one",
			                    (int)(strlen(k->key) - 5), k->key, k->key,
			                    gp_cfg_in(k, where, sizeof(where)));
		gp_status_t st = gp_cfg_read_secret(ctx, s, k, file, &val);
		if (st != GP_OK)
			return st;
		gp_config_secret_free(*secret);
		*secret = val;
	}
	return GP_OK;
}

/* libconfig keeps the strings it parsed; wipe the inline secrets before it frees them. */
static void gp_cfg_wipe_parsed(const config_t *cf)
{
	for (size_t i = 0; i < GP_CFG_NKEYS; i++) {
		const config_setting_t *s;
		if (gp_cfg_keys[i].type != GP_CFG_SECRET ||
		    (s = gp_cfg_lookup(cf, gp_cfg_keys[i].section, gp_cfg_keys[i].key)) == NULL ||
		    config_setting_type(s) != CONFIG_TYPE_STRING)
			continue;
		char *v = (char *)config_setting_get_string(s); /* libconfig's own heap copy */
		if (v != NULL)
			explicit_bzero(v, strlen(v));
	}
}

void gp_config_secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static gp_status_t gp_cfg_read(gp_cfg_ctx_t *ctx, config_t *cf, gp_config_t *c)
{
	int saw_backends = 0;
	gp_status_t st;

	/* @include paths are relative to the including file, not the daemon's cwd. */
	char *dircopy = strdup(ctx->path);
	if (dircopy == NULL)
		return gp_cfg_oom(ctx);
	config_set_include_dir(cf, dirname(dircopy));
	free(dircopy);

	errno = 0;
	if (config_read_file(cf, ctx->path) != CONFIG_TRUE) {
		if (config_error_type(cf) == CONFIG_ERR_FILE_IO)
			return gp_cfg_error(ctx, NULL, "cannot read: %s",
			                    errno != 0 ? strerror(errno) : config_error_text(cf));
		const char *file = config_error_file(cf) ? config_error_file(cf) : ctx->path;
		if (ctx->err != NULL && ctx->errcap > 0)
			snprintf(ctx->err, ctx->errcap, "%s:%d: %s", file, config_error_line(cf),
			         config_error_text(cf));
		return GP_ECONFIG;
	}
	if ((st = gp_cfg_load_group(ctx, c, "top", config_root_setting(cf), &saw_backends)) !=
	    GP_OK)
		return st;
	if ((st = gp_cfg_read_secrets(ctx, cf, c)) != GP_OK)
		return st;
	if ((st = gp_cfg_validate(ctx, cf, c, saw_backends)) != GP_OK)
		return st;
	if (gp_cfg_inherit_eviction(c) != GP_OK)
		return gp_cfg_oom(ctx);
	return GP_OK;
}

gp_status_t gp_config_load(const char *path, gp_config_t **out, char *err, size_t errcap)
{
	gp_cfg_ctx_t ctx = {.path = path, .err = err, .errcap = errcap};
	gp_config_t *c;
	config_t cf;
	gp_status_t st;

	if (err != NULL && errcap > 0)
		err[0] = '\0';
	if (out == NULL || path == NULL)
		return GP_EINVAL;
	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return gp_cfg_oom(&ctx);
	if (gp_cfg_set_defaults(c) != GP_OK || (c->path = strdup(path)) == NULL) {
		gp_config_free(c);
		return gp_cfg_oom(&ctx);
	}
	config_init(&cf);
	st = gp_cfg_read(&ctx, &cf, c);
	gp_cfg_wipe_parsed(&cf);
	config_destroy(&cf);
	if (st != GP_OK) {
		gp_config_free(c);
		return st;
	}
	c->generation = ++gp_cfg_generations;
	*out = c;
	return GP_OK;
}

uint64_t gp_config_generation(const gp_config_t *c)
{
	return c->generation;
}

void gp_config_free(gp_config_t *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < GP_CFG_NKEYS; i++) {
		/* Only string keys hold a pointer (a bool's offset need not be aligned for one). */
		if (!gp_cfg_is_string(gp_cfg_keys[i].type))
			continue;
		char *v = *(char **)((char *)c + gp_cfg_keys[i].offset);
		if (gp_cfg_keys[i].type == GP_CFG_SECRET)
			gp_config_secret_free(v);
		else
			free(v);
	}
	free(c->path);
	free(c);
}
