/* status.h - the project's one error enum (gp_status_t), with its strerror. */
#ifndef GP_STATUS_H
#define GP_STATUS_H

#define GP_WUR __attribute__((warn_unused_result))

/* X(name, text): every failure the daemon reports, mapped at module edges. */
#define GP_STATUS_TABLE(X)                       \
	X(GP_OK, "ok")                           \
	X(GP_ENOMEM, "out of memory")            \
	X(GP_EINVAL, "invalid argument")         \
	X(GP_ECONFIG, "invalid configuration")   \
	X(GP_EIO, "input/output error")          \
	X(GP_EUV, "event loop error")            \
	X(GP_EPROTO, "protocol violation")       \
	X(GP_ETOOBIG, "packet too large")        \
	X(GP_ETIMEDOUT, "timed out")             \
	X(GP_ECONNREFUSED, "connection refused") \
	X(GP_ECLOSED, "connection closed")       \
	X(GP_ENOBACKEND, "no backend available") \
	X(GP_ELIMIT, "limit reached")            \
	X(GP_EDB, "database error")

typedef enum gp_status {
#define GP_STATUS_ENUM(name, text) name,
	GP_STATUS_TABLE(GP_STATUS_ENUM)
#undef GP_STATUS_ENUM
	        GP_STATUS__COUNT
} gp_status_t;

const char *gp_strerror(gp_status_t st);
/* Map a negative libuv error code to a gp_status_t. */
gp_status_t gp_status_from_uv(int uverr);

#endif
