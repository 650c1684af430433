/* config_keys.h - the configuration keys as a table the loader walks (config_keys.c). */
#ifndef GP_CONFIG_KEYS_H
#define GP_CONFIG_KEYS_H

#include <stddef.h>
#include <stdint.h>

typedef enum gp_cfg_type {
	GP_CFG_STR,
	GP_CFG_INT,
	GP_CFG_BOOL,
	GP_CFG_SECRET, /* a string never shown; wiped when freed */
	GP_CFG_FILE,   /* a SECRET's twin: the file to read it from */
} gp_cfg_type_t;

/* One row of GP_CONFIG_TABLE (or a SECRET's twin), in a form the loader can walk. */
typedef struct gp_cfg_key {
	const char *section; /* "top" for the top level, else the group name */
	const char *key;     /* name in the file */
	gp_cfg_type_t type;  /* what the file must hold */
	size_t offset;       /* of the field in gp_config_t */
	const char *def_str; /* default of a string key */
	int64_t def_int;     /* default of an INT or BOOL key */
	const char *help;    /* one line for gp_config_describe() */
	size_t secret;       /* FILE: offset of the SECRET it fills */
} gp_cfg_key_t;

extern const gp_cfg_key_t gp_cfg_keys[]; /* every key of GP_CONFIG_TABLE, twins included */
extern const size_t gp_cfg_nkeys;        /* its rows */
#define GP_CFG_NKEYS gp_cfg_nkeys

#endif
