/* config_btls.c - the tls.backend* keys: their mode and the rules between them. */
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

const char *gp_config_backend_tls_check(const gp_config_t *c, const char **key)
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
