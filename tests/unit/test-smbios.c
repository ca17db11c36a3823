/* test-smbios.c - the deployment's configuration as kiln-init reads it from the DMI table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "smbios.h"

struct seen {
	char s[8][64];
	int n;
};

static void
collect(const char *s, size_t len, void *data)
{
	struct seen *z = data;

	if (z->n < 8)
		snprintf(z->s[z->n++], 64, "%.*s", (int)len, s);
}

/* type 1 (two strings), type 11 (three), a type with no string, the end */
static const unsigned char table[] = {
	1, 8, 0, 1, 1, 2, 0, 0, 'Q', 'E', 'M', 'U', 0, 'p', 'c', 0, 0,
	11, 5, 1, 0, 3, 'k', 'i', 'l', 'n', '.', 'e', 'n', 'v', ':', 'A', '=', '1', 0, 'o', 't', 'h', 'e', 'r', 0,
	'k', 'i', 'l', 'n', '.', 'e', 'n', 'v', ':', 'B', '=', 'x', ' ', 'y', 0, 0,
	32, 11, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	127, 4, 3, 0, 0, 0,
	11, 5, 4, 0, 1, 'n', 'o', 't', 0, 0,	/* after the end: not read */
};

static void
test_table(void **state)
{
	struct seen z = { 0 };

	(void)state;
	assert_int_equal(kiln_smbios_oem_strings(table, sizeof(table), collect, &z), 3);
	assert_string_equal(z.s[0], "kiln.env:A=1");
	assert_string_equal(z.s[1], "other");
	assert_string_equal(z.s[2], "kiln.env:B=x y");
}

static void
test_truncated(void **state)
{
	struct seen z = { 0 };

	(void)state;
	/* cut anywhere, the table yields only whole strings of whole structures, and never reads past the end */
	for (size_t n = 0; n < 61; n++) {
		memset(&z, 0, sizeof(z));
		assert_int_equal(kiln_smbios_oem_strings(table, n, collect, &z), n >= 57 ? 3 : 0);
	}
	/* a formatted area shorter than the header, a length past the end */
	{
		const unsigned char bad1[] = { 11, 2, 0, 0, 'a', 0, 0 }, bad2[] = { 11, 200, 0, 0, 1, 'a', 0, 0 };

		assert_int_equal(kiln_smbios_oem_strings(bad1, sizeof(bad1), collect, &z), 0);
		assert_int_equal(kiln_smbios_oem_strings(bad2, sizeof(bad2), collect, &z), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
