/* strbuf.h - a growable text buffer with a sticky out-of-memory flag. */
#ifndef GP_STRBUF_H
#define GP_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

/* A growable text buffer; failed is sticky (out of memory), checked once at the end. */
typedef struct gp_strbuf {
	char *data;  /* NUL-terminated text, malloc'd */
	size_t len;  /* bytes used, without the NUL */
	size_t cap;  /* bytes allocated */
	bool failed; /* an allocation failed: the text is incomplete */
} gp_strbuf_t;

void gp_strbuf_append(gp_strbuf_t *b, const char *s, size_t n);
void gp_strbuf_printf(gp_strbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gp_strbuf_free(gp_strbuf_t *b);

#endif
