/* fixture.h - the codec tests' fixtures: hex strings with |literal| runs, exact-size copies. */
#ifndef GP_TEST_FIXTURE_H
#define GP_TEST_FIXTURE_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Fixture checks work outside a running test too (the corpus writer): no mark_point. */
#define fix_check(cond, ...)                       \
	do {                                       \
		if (!(cond))                       \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

/* Decode a fixture string into out; returns its length. */
static inline size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		if (*s == '|') {
			const char *end = strchr(s + 1, '|');

			fix_check(end && hi < 0, "bad literal in fixture");
			fix_check((size_t)(end - s - 1) <= cap - n, "fixture too long");
			memcpy(out + n, s + 1, (size_t)(end - s - 1));
			n += (size_t)(end - s - 1);
			s = end;
			continue;
		}
		if (*s == ' ' || *s == '\n')
			continue;
		int v = (*s >= '0' && *s <= '9')   ? *s - '0'
		        : (*s >= 'a' && *s <= 'f') ? *s - 'a' + 10
		        : (*s >= 'A' && *s <= 'F') ? *s - 'A' + 10
		                                   : -1;
		fix_check(v >= 0, "bad hex digit '%c' in fixture", *s);
		if (hi < 0) {
			hi = v;
		} else {
			fix_check(n < cap, "fixture too long");
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	fix_check(hi < 0, "odd number of hex digits in fixture");
	return n;
}

/* An exactly-sized heap copy: reading p[n] is caught by valgrind/ASan. */
static inline uint8_t *dup_exact(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n); /* glibc gives a distinct block for 0 too */

	if (!d && n == 0)
		d = malloc(1);
	fix_check(d, "out of memory");
	if (n)
		memcpy(d, p, n);
	return d;
}

static inline bool slice_eq(const uint8_t *s, size_t n, const char *want)
{
	size_t wn = want ? strlen(want) : 0;

	return n == wn && (n == 0 || memcmp(s, want, n) == 0);
}

#endif
