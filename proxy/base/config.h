/* config.h - the daemon's configuration, declared once as a table of keys (GP_CONFIG_TABLE). */
#ifndef GP_CONFIG_H
#define GP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "base/status.h"

#define GP_MAX_BACKENDS 32
#define GP_NAME_MAX     64
#define GP_ADDR_MAX     128
#define GP_IP_MAX       46 /* an IPv6 address as text, with its NUL (INET6_ADDRSTRLEN) */
#define GP_WARM_MAX     64 /* handshake.warm: greeted connections kept ahead per backend */

/*
 * X(section, field, key, type, default, help) for every scalar key.
 * section: top for top level, else the group name. type: STR, INT (int64, >= 0), BOOL, or
 * SECRET: a string that may instead be read from a file named by its twin key KEY_file
 * (field_file in the struct), so the configuration itself can be world-readable. The twin
 * is generated here, not listed. A secret never reaches a log line, /status, or an error
 * message, and it is wiped when freed.
 * The struct fields, the defaults, the unknown-key check and the README table all
 * come from this one list.
 */
#define GP_CONFIG_TABLE(X)                                                                         \
	X(top, listen, "listen", STR, "", "read-write endpoint HOST:PORT (required)")              \
	X(top, listen_ro, "listen_ro", STR, "", "read-only endpoint HOST:PORT (empty = off)")      \
	X(top, http_listen, "http_listen", STR, "", "HTTP /metrics /health /status (empty = off)") \
	X(top, http_admin_token, "http_admin_token", SECRET, "",                                   \
	  "bearer token for POST from other hosts")                                                \
	X(top, name, "name", STR, "",                                                              \
	  "this proxy's name: /status, peer tie-break (default: host name)")                       \
	X(top, log_level, "log_level", STR, "info", "debug|info|warn|error")                       \
	X(top, vip, "vip", STR, "", "keepalived VIP (optional)")                                   \
	X(top, peer, "peer", STR, "", "the other proxy's http_listen (optional)")                  \
	X(limits, max_client_connections, "max_client_connections", INT, 10000,                    \
	  "clients beyond this get ERR 1040")                                                      \
	X(limits, client_handshake_timeout_ms, "client_handshake_timeout_ms", INT, 10000,          \
	  "a client must finish authenticating within this")                                       \
	X(limits, client_idle_timeout_ms, "client_idle_timeout_ms", INT, 0,                        \
	  "close clients idle this long (0 = off)")                                                \
	X(limits, backend_connect_timeout_ms, "backend_connect_timeout_ms", INT, 3000,             \
	  "TCP connect + greeting from a backend")                                                 \
	X(limits, shutdown_timeout_ms, "shutdown_timeout_ms", INT, 10000,                          \
	  "on SIGTERM, wait this long for sessions to finish")                                     \
	X(monitor, user, "user", STR, "monitor", "monitor account")                                \
	X(monitor, password, "password", SECRET, "", "monitor password")                           \
	X(monitor, interval_ms, "interval_ms", INT, 250, "probe interval")                         \
	X(monitor, timeout_ms, "timeout_ms", INT, 1000, "probe timeout")                           \
	X(monitor, fall, "fall", INT, 2, "failures that mark a node down")                         \
	X(monitor, rise, "rise", INT, 2, "successes that mark it up")                              \
	X(routing, connect_wait_ms, "connect_wait_ms", INT, 3000,                                  \
	  "a new session waits this long for a writer")                                            \
	X(routing, drain_timeout_ms, "drain_timeout_ms", INT, 5000,                                \
	  "drained sessions are closed after this")                                                \
	X(routing, failback, "failback", BOOL, false, "move the writer back to a better node")     \
	X(routing, failback_after_ms, "failback_after_ms", INT, 30000,                             \
	  "how long the better node must be eligible first")                                       \
	X(routing, donor_is_reader, "donor_is_reader", BOOL, false, "a Donor may serve reads")     \
	X(routing, max_recv_queue, "max_recv_queue", INT, 100,                                     \
	  "readers with a longer wsrep_local_recv_queue are skipped")                              \
	X(routing, fence_timeout_ms, "fence_timeout_ms", INT, 5000,                                \
	  "BACKUP/FAULT: sessions are drained within this")                                        \
	X(routing, ro_causal_reads, "ro_causal_reads", BOOL, false,                                \
	  "listen_ro sessions read with wsrep_sync_wait=1: they see every earlier commit")         \
	X(eviction, enabled, "enabled", BOOL, true, "evict a dead writer from the group")          \
	X(eviction, user, "user", STR, "", "eviction account (default: monitor's)")                \
	X(eviction, password, "password", SECRET, "", "its password (default: monitor's)")         \
	X(auth, user, "user", STR, "",                                                             \
	  "account that reads mysql.global_priv to learn logins (default: monitor's)")             \
	X(auth, password, "password", SECRET, "", "its password (default: monitor's)")             \
	X(auth, refresh_ms, "refresh_ms", INT, 10000,                                              \
	  "re-read mysql.global_priv this often (an unknown user: sooner)")                        \
	X(handshake, proxy_protocol, "proxy_protocol", STR, "off",                                 \
	  "off|v1|v2: send a PROXY protocol header naming the client to every backend")            \
	X(handshake, park, "park", BOOL, true,                                                     \
	  "keep a greeting a client left unanswered for the next client (off with "                \
	  "proxy_protocol)")                                                                       \
	X(handshake, client_compression, "client_compression", BOOL, true,                         \
	  "offer clients the compressed protocol when the backend offers it")                      \
	X(handshake, greeting_timeout_ms, "greeting_timeout_ms", INT, 5000,                        \
	  "a client must answer the backend's greeting within this (< servers' connect_timeout)")  \
	X(handshake, slots, "slots", INT, 50,                                                      \
	  "per backend: connections of clients not yet authenticated (0 = unbounded)")             \
	X(handshake, defer, "defer", BOOL, true,                                                   \
	  "slots full: greet from the proxy and connect once the client answers")                  \
	X(handshake, warm, "warm", INT, 0,                                                         \
	  "per backend: connections greeted ahead, ready for arriving clients (0 = off)")          \
	X(tls, cert, "cert", STR, "",                                                              \
	  "PEM certificate chain offered to clients (with key: TLS on; empty = off)")              \
	X(tls, key, "key", STR, "", "PEM private key of cert (unencrypted)")                       \
	X(tls, ca, "ca", STR, "",                                                                  \
	  "PEM CA file: clients must show a certificate it signed (empty = no)")                   \
	X(tls, require, "require", BOOL, false, "refuse clients that do not ask for TLS")          \
	X(tls, min_version, "min_version", STR, "TLSv1.2", "lowest TLS version: TLSv1.2|TLSv1.3")  \
	X(tls, ciphers, "ciphers", STR, "",                                                        \
	  "TLS 1.2 cipher list, OpenSSL syntax (empty = default)")                                 \
	X(tls, ciphersuites, "ciphersuites", STR, "",                                              \
	  "TLS 1.3 suites, OpenSSL syntax (empty = default)")                                      \
	X(tls, backend, "backend", STR, "off",                                                     \
	  "TLS to the nodes (sessions, monitor): off|on (no check)|verify (CA and host name)")     \
	X(tls, backend_ca, "backend_ca", STR, "",                                                  \
	  "PEM CA file the nodes' certificates chain to (verify)")                                 \
	X(tls, backend_cert, "backend_cert", STR, "",                                              \
	  "PEM client certificate shown to the nodes (REQUIRE X509 accounts; with backend_key)")   \
	X(tls, backend_key, "backend_key", STR, "", "PEM private key of backend_cert (unencrypted)")

typedef struct gp_backend_conf {
	char name[GP_NAME_MAX];       /* unique name, used in logs and metrics */
	char address[GP_ADDR_MAX];    /* HOST:PORT as written */
	char host[GP_ADDR_MAX];       /* host part */
	uint16_t port;                /* port part */
	int64_t priority;             /* lower is preferred for the writer */
	struct sockaddr_storage addr; /* host resolved; the daemon fills it before it runs this */
	char ip[GP_IP_MAX];           /* addr's IP as text ("" until resolved): what libmariadb
	                               * gets, so it never resolves a name on the loop thread */
} gp_backend_conf_t;

#define GP_CONF_TYPE_STR    char *
#define GP_CONF_TYPE_INT    int64_t
#define GP_CONF_TYPE_BOOL   bool
#define GP_CONF_TYPE_SECRET char *

#define GP_SECRET_MAX 4096 /* bytes a secret file may hold */

/* A SECRET's twin: the file it was read from ("": given inline, or not at all). */
#define GP_CONF_TWIN_STR(sec, field)
#define GP_CONF_TWIN_INT(sec, field)
#define GP_CONF_TWIN_BOOL(sec, field)
#define GP_CONF_TWIN_SECRET(sec, field) char *sec##_##field##_file;

typedef struct gp_config {
#define GP_CONF_FIELD(sec, field, key, type, def, help) \
	GP_CONF_TYPE_##type sec##_##field;              \
	GP_CONF_TWIN_##type(sec, field)
	GP_CONFIG_TABLE(GP_CONF_FIELD)
#undef GP_CONF_FIELD
	gp_backend_conf_t backends[GP_MAX_BACKENDS]; /* in file order */
	size_t nbackends;                            /* how many */
	char *path;                                  /* file it was read from */
	uint64_t generation; /* unique per load (gp_config_generation); 0: not loaded from a file */
} gp_config_t;

/* Load and fully validate FILE. On failure returns GP_ECONFIG and writes a
 * "file:line: message" text into err (NUL-terminated, truncated to errcap).
 * On success *out is owned by the caller (gp_config_free). */
GP_WUR gp_status_t gp_config_load(const char *path, gp_config_t **out, char *err, size_t errcap);
void gp_config_free(gp_config_t *c);
/* Wipe a copy of a secret (explicit_bzero) and free it; NULL is fine. */
void gp_config_secret_free(char *s);

/* A number no other configuration loaded by this process shares (1, 2, ... in load order).
 * "Was there a reload?" compares these, never addresses: a freed configuration's address
 * can come back from the next allocation. */
uint64_t gp_config_generation(const gp_config_t *c);

/* Split "HOST:PORT" ("[v6]:PORT" too). GP_EINVAL if malformed. */
GP_WUR gp_status_t gp_config_split_addr(const char *addr, char *host, size_t hostcap,
                                        uint16_t *port);

/* Record the address b's host resolved to (port included), in addr and ip. */
void gp_config_backend_resolved(gp_backend_conf_t *b, const struct sockaddr_storage *addr);

/* tls.backend as a number: 0 off, 1 on, 2 verify (-1: not a valid value). */
int gp_config_backend_tls(const gp_config_t *c);
/* What is wrong with the tls.backend* keys (*key: the one to point at), or NULL. */
const char *gp_config_backend_tls_check(const gp_config_t *c, const char **key);

/* handshake.proxy_protocol as a number: 0 off, 1 v1, 2 v2 (-1: not a valid value). */
int gp_config_proxy_protocol(const gp_config_t *c);

/* Print a Markdown table of every key (section, key, type, default, description) from
 * GP_CONFIG_TABLE, plus the backend entry keys; the README embeds this output. */
void gp_config_describe(FILE *f);

#endif
