/* tls.h - TLS on memory BIOs (OpenSSL 3): bytes in, bytes out, no sockets. */
#ifndef GP_TLS_H
#define GP_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

/*
 * The I/O engine owns the socket; a gp_tls_conn_t only transforms bytes (nghttp2's
 * mem_recv/mem_send shape): the engine feeds the ciphertext it read (gp_tls_feed), pulls
 * plaintext out (gp_tls_read), gives plaintext to send (gp_tls_write) and takes the
 * ciphertext to write (gp_tls_out). Two rules the engine must keep, because no socket
 * event will remind it:
 *  - after EVERY call (read included: TLS 1.3 session tickets, key updates and alerts are
 *    written while reading) take what gp_tls_out_pending says and send it;
 *  - after pausing reads, gp_tls_readable() may still be true: decrypted plaintext
 *    (gp_tls_pending) or fed records not yet decrypted. Drain those when resuming.
 * Memory BIOs grow without bound: feed only as much as the engine would buffer (read the
 * socket only while gp_tls_readable() is false) and write in chunks, taking the output.
 *
 * A context holds the configuration (certificates, verification, versions, resumption
 * state). It is refcounted: a reload builds a new context for new connections while
 * connections keep the one they started with. All of it runs on the loop thread.
 */

typedef struct gp_tls_ctx gp_tls_ctx_t;
typedef struct gp_tls_conn gp_tls_conn_t;

typedef enum gp_tls_role {
	GP_TLS_SERVER, /* we accept: the proxy's client leg (and HTTPS) */
	GP_TLS_CLIENT  /* we connect: the backend leg */
} gp_tls_role_t;

typedef enum gp_tls_verify {
	GP_TLS_VERIFY_OFF,  /* client: encrypt, trust any certificate */
	GP_TLS_VERIFY_ON,   /* client: the chain must lead to ca (or the system store) */
	GP_TLS_VERIFY_NAME, /* client: and the certificate must name the peer (DNS or IP) */
} gp_tls_verify_t;

typedef enum gp_tls_version {
	GP_TLS_ANY = 0, /* OpenSSL's bound (min: TLS 1.2 by our default, max: newest) */
	GP_TLS_1_2,
	GP_TLS_1_3,
} gp_tls_version_t;

typedef struct gp_tls_opts {
	gp_tls_role_t role;           /* server or client */
	const char *cert;             /* PEM certificate chain; server: required */
	const char *key;              /* PEM private key (unencrypted); with cert */
	const char *ca;               /* PEM CA file. Server: client certificates are required
	                               * and verified against it. Client: the trust store */
	gp_tls_version_t min_version; /* lowest version; ANY means TLS 1.2 */
	gp_tls_version_t max_version; /* highest; ANY means the newest (tests pin 1.2) */
	const char *ciphers;          /* TLS 1.2 cipher list, OpenSSL syntax; NULL: default */
	const char *ciphersuites;     /* TLS 1.3 suites, OpenSSL syntax; NULL: default */
	gp_tls_verify_t verify;       /* client role: how the server is checked */
	uint32_t session_timeout_s;   /* resumption lifetime; 0: 300 s */
} gp_tls_opts_t;

/* Parse "TLSv1.2" / "TLSv1.3" (also "1.2", "1.3"); false if neither. */
bool gp_tls_version_parse(const char *s, gp_tls_version_t *out);

/* Build a context. On failure err (errlen bytes) says what and which file, never the
 * content of a key. Keys with a passphrase are refused, not prompted for. */
GP_WUR gp_status_t gp_tls_ctx_new(const gp_tls_opts_t *o, gp_tls_ctx_t **out, char *err,
                                  size_t errlen);
gp_tls_ctx_t *gp_tls_ctx_ref(gp_tls_ctx_t *ctx);
/* Drop a reference; the last one (contexts' and connections') frees it. NULL is fine. */
void gp_tls_ctx_unref(gp_tls_ctx_t *ctx);
/* The context's own certificate's notAfter (Unix seconds), for an expiry gauge; 0: none. */
int64_t gp_tls_ctx_not_after(const gp_tls_ctx_t *ctx);

/* A connection on ctx (takes a reference). Client role: peer is the name or address the
 * certificate must show under VERIFY_NAME, the SNI (for names), and the key under which
 * its session is kept for resumption; it may be NULL for the server role. */
GP_WUR gp_status_t gp_tls_conn_new(gp_tls_ctx_t *ctx, const char *peer, gp_tls_conn_t **out);
void gp_tls_conn_free(gp_tls_conn_t *c);

/* Ciphertext read from the socket. Takes all of it (GP_ENOMEM only if OpenSSL cannot). */
GP_WUR gp_status_t gp_tls_feed(gp_tls_conn_t *c, const void *p, size_t n);
/* Advance the handshake with what was fed. GP_OK with *done telling whether it finished;
 * GP_EPROTO (reason in gp_tls_reason) when it failed; GP_ECLOSED if the peer closed. */
GP_WUR gp_status_t gp_tls_handshake(gp_tls_conn_t *c, bool *done);
/* Plaintext out: up to cap bytes into buf, *got of them. GP_OK with *got == 0: feed more.
 * GP_ECLOSED: the peer sent close_notify. GP_EPROTO: the connection failed (reason).
 * Drives the handshake too if it is not finished. */
GP_WUR gp_status_t gp_tls_read(gp_tls_conn_t *c, void *buf, size_t cap, size_t *got);
/* Plaintext in: all n bytes are encrypted (memory BIOs never push back), take the
 * output. Before the handshake finished: GP_OK with *took == 0, retry after it. */
GP_WUR gp_status_t gp_tls_write(gp_tls_conn_t *c, const void *p, size_t n, size_t *took);
/* Queue a close_notify (take the output, then close the socket). */
void gp_tls_shutdown(gp_tls_conn_t *c);

/* Ciphertext waiting to be written to the socket. */
size_t gp_tls_out_pending(const gp_tls_conn_t *c);
/* Move up to cap bytes of it into buf; returns how many. */
size_t gp_tls_out(gp_tls_conn_t *c, void *buf, size_t cap);

/* Decrypted plaintext buffered inside OpenSSL (SSL_pending). */
size_t gp_tls_pending(const gp_tls_conn_t *c);
/* Plaintext or fed ciphertext is waiting: gp_tls_read may return data without new input. */
bool gp_tls_readable(const gp_tls_conn_t *c);

bool gp_tls_handshake_done(const gp_tls_conn_t *c);
/* This connection resumed an earlier session (no full handshake). */
bool gp_tls_session_reused(const gp_tls_conn_t *c);
/* Negotiated "TLSv1.3" etc. and cipher name; "" before the handshake. */
const char *gp_tls_version(const gp_tls_conn_t *c);
const char *gp_tls_cipher(const gp_tls_conn_t *c);
/* The last failure, readable, without secrets; "" if none. */
const char *gp_tls_reason(const gp_tls_conn_t *c);
/* The last failure was the peer's certificate failing verification. */
bool gp_tls_failed_verify(const gp_tls_conn_t *c);

#endif
