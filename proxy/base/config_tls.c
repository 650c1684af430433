/* config_tls.c - the tls section and http_tls: the rules between their keys. */
#include <string.h>

#include "base/config.h"

int gp_config_backend_tls(const gp_config_t *c)
{
	static const char *const modes[] = {"off", "on", "verify"};
	for (int i = 0; i < 3; i++)
		if (strcmp(c->tls_backend, modes[i]) == 0)
			return i;
	return -1;
}

static const char *config_backend_tls_check(const gp_config_t *c, const char **key)
{
	int mode = gp_config_backend_tls(c);
	bool cert = c->tls_backend_cert[0] != '\0', key_set = c->tls_backend_key[0] != '\0';
	*key = "backend";
	if (mode < 0)
		return "'backend' in tls must be one of off, on, verify";
	if (mode == 2 && c->tls_backend_ca[0] == '\0')
		return "'backend' = \"verify\" in tls needs 'backend_ca' (the nodes' CA)";
	*key = "backend_ca";
	/* on means "encrypt, trust any certificate": a CA there would promise a check */
	if (mode != 2 && c->tls_backend_ca[0] != '\0')
		return "'backend_ca' in tls needs backend = \"verify\"";
	*key = cert ? "backend_cert" : "backend_key";
	if (cert != key_set)
		return "'backend_cert' and 'backend_key' in tls go together";
	if (cert && mode == 0)
		return "'backend_cert' in tls needs backend = \"on\" or \"verify\"";
	return NULL;
}

/* Files are read (and the contexts built) by the daemon, which names a file that does not
 * load; here only the keys' relations. */
const char *gp_config_tls_check(const gp_config_t *c, const char **section, const char **key)
{
	bool cert = c->tls_cert[0] != '\0', key_set = c->tls_key[0] != '\0';
	*section = "tls";
	*key = cert ? "cert" : "key";
	if (cert != key_set)
		return "'cert' and 'key' in tls go together";
	*key = c->tls_require ? "require" : "ca";
	if (!cert && c->tls_require)
		return "'require' in tls needs 'cert' and 'key'";
	if (!cert && c->tls_ca[0] != '\0')
		return "'ca' in tls needs 'cert' and 'key'";
	if (!cert && c->top_http_tls) {
		*section = "top";
		*key = "http_tls";
		return "'http_tls' needs 'cert' and 'key' in tls";
	}
	*key = "min_version";
	if (strcmp(c->tls_min_version, "TLSv1.2") != 0 &&
	    strcmp(c->tls_min_version, "TLSv1.3") != 0)
		return "'min_version' in tls must be TLSv1.2 or TLSv1.3";
	return config_backend_tls_check(c, key);
}
