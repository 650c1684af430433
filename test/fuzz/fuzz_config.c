/* fuzz_config.c - libFuzzer target: the configuration parser and validator (gp_config_load). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"
#include "base/log.h"

/*
 * Input: the bytes of a configuration file. They are written to one temporary file per
 * process (in its own directory, so an @include finds only what the input names) and loaded
 * the way the daemon and --check-config do. A loaded config must satisfy what the rest of the
 * daemon assumes of a validated one; a refused one must come with a message.
 */

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* libconfig 1.5 leaks a string token its parser discards on a syntax error (corpus:
 * libconfig_string_leak.conf). Not ours to fix; anything else that leaks is reported. */
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

static char dir[] = "/tmp/gp-fuzz-config.XXXXXX";
static char path[sizeof(dir) + 16];

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!path[0]) {
		gp_log_min_level = (gp_log_level_t)(GP_LOG_ERROR + 1);
		CHECK(mkdtemp(dir));
		snprintf(path, sizeof(path), "%s/fuzz.conf", dir);
		atexit(cleanup);
	}
	FILE *f = fopen(path, "wb");
	CHECK(f);
	CHECK(fwrite(data, 1, size, f) == size);
	CHECK(fclose(f) == 0);

	gp_config_t *c = NULL;
	char err[512];
	memset(err, 0x55, sizeof(err));
	gp_status_t st = gp_config_load(path, &c, err, sizeof(err));
	CHECK(memchr(err, 0, sizeof(err))); /* NUL-terminated within errcap, whatever happened */
	if (st != GP_OK) {
		CHECK(err[0] != '\0');
		return 0;
	}
	CHECK(c);
	CHECK(c->top_listen && c->top_listen[0]);
	CHECK(c->nbackends >= 1 && c->nbackends <= GP_MAX_BACKENDS);
	for (size_t i = 0; i < c->nbackends; i++) {
		const gp_backend_conf_t *b = &c->backends[i];
		CHECK(memchr(b->name, 0, sizeof(b->name)) && b->name[0]);
		CHECK(memchr(b->host, 0, sizeof(b->host)) && b->port != 0);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(b->name, c->backends[j].name) != 0);
	}
	char host[GP_ADDR_MAX];
	uint16_t port;
	CHECK(gp_config_split_addr(c->top_listen, host, sizeof(host), &port) == GP_OK);
	gp_config_free(c);
	return 0;
}
