/* close.h - why a session closes: one table of reasons (enum, metric label, cut or drained). */
#ifndef GP_CLOSE_H
#define GP_CLOSE_H

#include <stdbool.h>

/*
 * X(ENUM, label, cut): label is the reason= of the session_close log line and of
 * client_connections_closed_total; cut marks closes that end a session instead of waiting
 * for an idle point (counted in sessions_killed). The order is the metric's series order.
 */
#define GP_CLOSE_TABLE(X)                                                   \
	X(GP_CLOSE_CLIENT_QUIT, "client_quit", false)                       \
	X(GP_CLOSE_CLIENT_CLOSED, "client_closed", false)                   \
	X(GP_CLOSE_CLIENT_ERROR, "client_error", false)                     \
	X(GP_CLOSE_IDLE_TIMEOUT, "idle_timeout", false)                     \
	X(GP_CLOSE_DRAINED, "drained", false)                               \
	X(GP_CLOSE_DRAIN_TIMEOUT, "drain_timeout", true)                    \
	X(GP_CLOSE_WRITER_CHANGED, "writer_changed", false)                 \
	X(GP_CLOSE_WRITER_DOWN, "writer_down", true)                        \
	X(GP_CLOSE_READER_DOWN, "reader_down", true)                        \
	X(GP_CLOSE_READER_INELIGIBLE, "reader_ineligible", false)           \
	X(GP_CLOSE_BACKEND_LOST, "backend_lost", false)                     \
	X(GP_CLOSE_BACKEND_TIMEOUT, "backend_timeout", false)               \
	X(GP_CLOSE_AUTH_FAILED, "auth_failed", false)                       \
	X(GP_CLOSE_HANDSHAKE_TIMEOUT, "handshake_timeout", false)           \
	X(GP_CLOSE_SHUTDOWN, "shutdown", false)                             \
	X(GP_CLOSE_SHUTDOWN_TIMEOUT, "shutdown_timeout", true)              \
	X(GP_CLOSE_LIMIT, "limit", false)                                   \
	X(GP_CLOSE_NO_BACKEND, "no_backend", false)                         \
	X(GP_CLOSE_PROTOCOL_ERROR, "protocol_error", false)                 \
	X(GP_CLOSE_ADMIN_DRAIN, "admin_drain", false)                       \
	X(GP_CLOSE_BACKEND_REMOVED, "backend_removed", false)               \
	X(GP_CLOSE_HANDSHAKE_SLOTS, "handshake_slots", false)               \
	X(GP_CLOSE_AUTH_UNSUPPORTED, "auth_unsupported", false)             \
	X(GP_CLOSE_MAINTENANCE, "maintenance", false)                       \
	X(GP_CLOSE_FENCED, "fenced", false)                                 \
	X(GP_CLOSE_OUT_OF_MEMORY, "out_of_memory", false)                   \
	X(GP_CLOSE_BACKEND_REFUSED, "backend_refused", false)               \
	X(GP_CLOSE_BACKEND_PROTOCOL, "backend_protocol", false)             \
	X(GP_CLOSE_BACKEND_PROTOCOL_ERROR, "backend_protocol_error", false) \
	X(GP_CLOSE_BAD_HANDSHAKE, "bad_handshake", false)                   \
	X(GP_CLOSE_SSL_REQUESTED, "ssl_requested", false)                   \
	X(GP_CLOSE_COMPRESS_REQUESTED, "compress_requested", false)         \
	X(GP_CLOSE_TLS_REQUIRED, "tls_required", false)                     \
	X(GP_CLOSE_TLS_FAILED, "tls_failed", false)                         \
	X(GP_CLOSE_BACKEND_TLS_FAILED, "backend_tls_failed", false)         \
	X(GP_CLOSE_TXN_CHECK_FAILED, "txn_check_failed", false)             \
	X(GP_CLOSE_CAUSAL_READS_FAILED, "causal_reads_failed", false)       \
	X(GP_CLOSE_READ_ONLY_FAILED, "read_only_failed", false)

typedef enum gp_close {
#define GP_CLOSE_ENUM(e, name, cut) e,
	GP_CLOSE_TABLE(GP_CLOSE_ENUM)
#undef GP_CLOSE_ENUM
	        GP_CLOSE__COUNT,
	GP_CLOSE_NONE = GP_CLOSE__COUNT /* not closing (yet) */
} gp_close_t;

/* The reason's label ("-" for GP_CLOSE_NONE or out of range). */
const char *gp_close_name(gp_close_t r);
/* Whether the close cut the session rather than waiting for an idle point. */
bool gp_close_is_cut(gp_close_t r);

#endif
