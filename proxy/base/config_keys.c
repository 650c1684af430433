/* config_keys.c - the table of configuration keys, also printed by --describe-config. */
#include "base/config_keys.h"

#include <stdio.h>
#include <string.h>

#include "base/config.h"

/* The table's default is a string, a number or a bool: route it to the right member. */
#define GP_CFG_DEF_STR(d)    d, 0
#define GP_CFG_DEF_INT(d)    NULL, (d)
#define GP_CFG_DEF_BOOL(d)   NULL, (d)
#define GP_CFG_DEF_SECRET(d) d, 0

/* Every SECRET row is followed by its twin KEY_file. */
#define GP_CFG_TWIN_STR(sec, field, key)
#define GP_CFG_TWIN_INT(sec, field, key)
#define GP_CFG_TWIN_BOOL(sec, field, key)
#define GP_CFG_TWIN_SECRET(sec, field, key)                   \
	{#sec,                                                \
	 key "_file",                                         \
	 GP_CFG_FILE,                                         \
	 offsetof(gp_config_t, sec##_##field##_file),         \
	 "",                                                  \
	 0,                                                   \
	 "read " key " from this file instead (see Secrets)", \
	 offsetof(gp_config_t, sec##_##field)},

const gp_cfg_key_t gp_cfg_keys[] = {
#define GP_CFG_KEY(sec, field, key, type, def, help)                                             \
	{#sec, key, GP_CFG_##type, offsetof(gp_config_t, sec##_##field), GP_CFG_DEF_##type(def), \
	 help, 0},                                                                               \
	        GP_CFG_TWIN_##type(sec, field, key)
        GP_CONFIG_TABLE(GP_CFG_KEY)
#undef GP_CFG_KEY
};

const size_t gp_cfg_nkeys = sizeof(gp_cfg_keys) / sizeof(gp_cfg_keys[0]);

static const char *gp_cfg_type_name(gp_cfg_type_t t)
{
	switch (t) {
	case GP_CFG_STR:
	case GP_CFG_SECRET:
	case GP_CFG_FILE:
		return "string";
	case GP_CFG_INT:
		return "integer";
	case GP_CFG_BOOL:
		return "boolean";
	}
	return "?";
}

/* ---- documentation ---------------------------------------------------- */

/* Markdown table cells must not contain a bare '|'. */
static void gp_cfg_put_cell(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '|')
			fputc('\\', f);
		fputc(*s, f);
	}
}

void gp_config_describe(FILE *f)
{
	fputs("| section | key | type | default | description |\n", f);
	fputs("|---|---|---|---|---|\n", f);
	for (size_t i = 0; i < GP_CFG_NKEYS; i++) {
		const gp_cfg_key_t *k = &gp_cfg_keys[i];
		int top = strcmp(k->section, "top") == 0;

		fprintf(f, "| %s | `%s` | %s | `", top ? "(top level)" : k->section, k->key,
		        gp_cfg_type_name(k->type));
		switch (k->type) {
		case GP_CFG_STR:
		case GP_CFG_SECRET:
		case GP_CFG_FILE:
			fputc('"', f);
			gp_cfg_put_cell(f, k->def_str);
			fputc('"', f);
			break;
		case GP_CFG_INT:
			fprintf(f, "%lld", (long long)k->def_int);
			break;
		case GP_CFG_BOOL:
			fputs(k->def_int ? "true" : "false", f);
			break;
		}
		fputs("` | ", f);
		gp_cfg_put_cell(f, k->help);
		fputs(" |\n", f);
	}
	/* The backend list is not a scalar key, so it is not in the table. */
	fputs("| backends | `name` | string | (required) | unique, 1-63 of A-Z a-z 0-9 _ . - |\n"
	      "| backends | `address` | string | (required) | HOST:PORT, [IPv6]:PORT |\n"
	      "| backends | `priority` | integer | position in the list | "
	      "lower is preferred for the writer |\n",
	      f);
}
