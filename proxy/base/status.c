/* status.c - the project's strerror, with libuv errors mapped to gp_status_t. */
#include <uv.h>

#include "base/status.h"

static const char *const gp_status_text[GP_STATUS__COUNT] = {
#define GP_STATUS_TEXT(name, text) [name] = text,
        GP_STATUS_TABLE(GP_STATUS_TEXT)
#undef GP_STATUS_TEXT
};

const char *gp_strerror(gp_status_t st)
{
	/* Cast so a garbage negative value is caught by the same bound check. */
	if ((unsigned)st >= GP_STATUS__COUNT)
		return "unknown error";
	return gp_status_text[st];
}

gp_status_t gp_status_from_uv(int uverr)
{
	switch (uverr) {
	case 0:
		return GP_OK;
	case UV_ECONNREFUSED:
		return GP_ECONNREFUSED;
	case UV_ETIMEDOUT:
		return GP_ETIMEDOUT;
	case UV_ENOMEM:
		return GP_ENOMEM;
	case UV_EOF:
	case UV_ECONNRESET:
	case UV_EPIPE:
		return GP_ECLOSED;
	case UV_EINVAL:
		return GP_EINVAL;
	default:
		return GP_EUV;
	}
}
