/* test_vault.c - Check unit tests for the memory that keeps learned secrets (session/vault.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gp_check.h"
#include "session/auth.h"
#include "session/vault.h"

/* The VmFlags line of the mapping that holds addr, from /proc/self/smaps ("" if none). */
static void vm_flags(const void *addr, char *out, size_t cap)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool in = false;
	uintptr_t a = (uintptr_t)addr;

	out[0] = '\0';
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, ' ') &&
		    line[strcspn(line, " ") - 1] != ':') {
			in = a >= lo && a < hi;
			continue;
		}
		if (in && strncmp(line, "VmFlags:", 8) == 0) {
			snprintf(out, cap, "%s", line + 8);
			break;
		}
	}
	fclose(f);
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

START_TEST(test_vault_flags)
{
	gp_vault_t v;
	char flags[600];
	void *s;

	ck_assert_int_eq(gp_vault_init(&v, sizeof(gp_auth_secret_t), 100), GP_OK);
	s = gp_vault_get(&v);
	ck_assert_ptr_nonnull(s);
	/* the kernel's own word: "dd" do not dump, "dc" do not copy on fork */
	vm_flags(s, flags, sizeof(flags));
	ck_assert_msg(strstr(flags, " dd") != NULL, "no dd in VmFlags:%s", flags);
	ck_assert_msg(strstr(flags, " dc") != NULL, "no dc in VmFlags:%s", flags);
	/* an ordinary heap block has neither */
	void *heap = malloc(64);
	vm_flags(heap, flags, sizeof(flags));
	ck_assert_ptr_null(strstr(flags, " dd"));
	free(heap);
	gp_vault_put(&v, s);
	gp_vault_destroy(&v);
	ck_assert_ptr_null(v.base);
}
END_TEST

START_TEST(test_vault_slots)
{
	gp_vault_t v;
	gp_auth_secret_t *s[5];

	ck_assert_int_eq(gp_vault_init(&v, sizeof(gp_auth_secret_t), 4), GP_OK);
	ck_assert_uint_eq(v.slot_size % 16, 0);
	for (int i = 0; i < 4; i++) {
		s[i] = gp_vault_get(&v);
		ck_assert_ptr_nonnull(s[i]);
		ck_assert(all_zero(s[i], sizeof(*s[i])));
		memset(s[i]->sha1, 0xA0 + i, sizeof(s[i]->sha1));
		for (int j = 0; j < i; j++)
			ck_assert_ptr_ne(s[i], s[j]);
	}
	ck_assert_uint_eq(v.used, 4);
	ck_assert_ptr_null(gp_vault_get(&v)); /* full */
	/* put back: wiped (all but the free-list link), handed out again zeroed */
	gp_vault_put(&v, s[2]);
	ck_assert(all_zero((uint8_t *)s[2] + sizeof(uint32_t), v.slot_size - sizeof(uint32_t)));
	ck_assert_uint_eq(v.used, 3);
	s[4] = gp_vault_get(&v);
	ck_assert_ptr_eq(s[4], s[2]);
	ck_assert(all_zero(s[4], sizeof(*s[4])));
	ck_assert_uint_eq(s[3]->sha1[0], 0xA3); /* the others untouched */
	gp_vault_put(&v, NULL);
	gp_vault_put(&v, (uint8_t *)s[3] + 1); /* not a slot: ignored */
	gp_vault_put(&v, &v);
	ck_assert_uint_eq(v.used, 4);
	ck_assert_uint_eq(s[3]->sha1[0], 0xA3);
	for (int i = 0; i < 4; i++)
		gp_vault_put(&v, i == 2 ? s[4] : s[i]);
	ck_assert_uint_eq(v.used, 0);
	for (int i = 0; i < 4; i++)
		ck_assert_ptr_nonnull(gp_vault_get(&v));
	gp_vault_destroy(&v);
	ck_assert_ptr_null(gp_vault_get(&v));
	gp_vault_destroy(&v); /* twice: nothing */
}
END_TEST

START_TEST(test_vault_bad)
{
	gp_vault_t v;

	ck_assert_int_eq(gp_vault_init(&v, 0, 4), GP_EINVAL);
	ck_assert_int_eq(gp_vault_init(&v, 16, 0), GP_EINVAL);
	ck_assert_int_eq(gp_vault_init(&v, SIZE_MAX / 2, 4), GP_EINVAL);
	ck_assert_ptr_null(v.base);
	/* a tiny slot still holds a free-list link */
	ck_assert_int_eq(gp_vault_init(&v, 1, 3), GP_OK);
	ck_assert_uint_ge(v.slot_size, sizeof(uint32_t));
	ck_assert_ptr_nonnull(gp_vault_get(&v));
	gp_vault_destroy(&v);
}
END_TEST

static Suite *vault_suite(void)
{
	Suite *s = suite_create("vault");
	TCase *tc = tcase_create("vault");

	tcase_add_test(tc, test_vault_flags);
	tcase_add_test(tc, test_vault_slots);
	tcase_add_test(tc, test_vault_bad);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return gp_check_run(vault_suite(), CK_ENV);
}
