/* test-cmdline.c - command lines split as systemd's ExecStart= splits them, and quoted back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "cmdline.h"

/* Splits @in and expects the NULL-terminated words that follow. */
static void
expect_words(const char *in, ...)
{
	struct kiln_strv sv = { 0 };
	const char *err = NULL, *w;
	va_list ap;
	size_t i = 0;

	if (kiln_cmdline_split(in, KILN_CMDLINE_DOLLAR, &sv, &err) < 0)
		fail_msg("'%s' refused: %s", in, err);
	va_start(ap, in);
	while ((w = va_arg(ap, const char *))) {
		if (i >= sv.n)
			fail_msg("'%s': only %zu words", in, sv.n);
		assert_string_equal(sv.v[i], w);
		i++;
	}
	va_end(ap);
	assert_int_equal(sv.n, i);
	/* quoting gives the same words back */
	{
		char *q = kiln_cmdline_quote(&sv);
		struct kiln_strv again = { 0 };

		assert_int_equal(kiln_cmdline_split(q, KILN_CMDLINE_DOLLAR, &again, &err), 0);
		assert_int_equal(again.n, sv.n);
		for (size_t j = 0; j < sv.n; j++)
			assert_string_equal(again.v[j], sv.v[j]);
		kiln_strv_release(&again);
		free(q);
	}
	kiln_strv_release(&sv);
}

static void
expect_refused(const char *in, const char *why)
{
	struct kiln_strv sv = { 0 };
	const char *err = NULL;

	assert_int_equal(kiln_cmdline_split(in, KILN_CMDLINE_DOLLAR, &sv, &err), -1);
	assert_non_null(err);
	if (!strstr(err, why))
		fail_msg("'%s': '%s' lacks '%s'", in, err, why);
	assert_int_equal(sv.n, 0);
}

static void
test_split(void **state)
{
	(void)state;
	expect_words("/usr/sbin/nginx -g \"daemon off;\"", "/usr/sbin/nginx", "-g", "daemon off;", NULL);
	expect_words("/usr/sbin/nginx -g 'daemon off; master_process on;'", "/usr/sbin/nginx", "-g",
		     "daemon off; master_process on;", NULL);
	expect_words("  /bin/a\t b  ", "/bin/a", "b", NULL);
	expect_words("/bin/a \"\" ''", "/bin/a", "", "", NULL);
	expect_words("/bin/a x\"y z\"w", "/bin/a", "xy zw", NULL);
	expect_words("/bin/a \"it's\" 'say \"hi\"'", "/bin/a", "it's", "say \"hi\"", NULL);
	expect_words("/bin/a a\\ b \\\"q\\\" \\\\", "/bin/a", "a b", "\"q\"", "\\", NULL);
	expect_words("/bin/a \"tab\\there\" \\x41\\102 \\s", "/bin/a", "tab\there", "AB", " ", NULL);
	expect_words("/bin/a \\u00e9 \\U0001F600", "/bin/a", "\xc3\xa9", "\xf0\x9f\x98\x80", NULL);
	expect_words("/bin/a 'single \\'escape\\''", "/bin/a", "single 'escape'", NULL);
	expect_words("/bin/a 100$ $$HOME a$", "/bin/a", "100$", "$HOME", "a$", NULL);
	expect_words("", NULL);
}

static void
test_refused(void **state)
{
	(void)state;
	expect_refused("/bin/a \"daemon off;", "unbalanced double quote");
	expect_refused("/bin/a 'x", "unbalanced single quote");
	expect_refused("/bin/a \"x\"\"", "unbalanced double quote");
	expect_refused("/bin/a x\\", "backslash at the end");
	expect_refused("/bin/a \\q", "unknown escape");
	expect_refused("/bin/a \\xZZ", "bad hexadecimal");
	expect_refused("/bin/a \\x0", "bad hexadecimal");
	expect_refused("/bin/a \\x00", "NUL");
	expect_refused("/bin/a \\000", "NUL");
	expect_refused("/bin/a \\n", "line break");
	expect_refused("/bin/a \"\\r\"", "line break");
	expect_refused("/bin/a \\ud800", "bad Unicode");
	expect_refused("/bin/a \\U00110000", "bad Unicode");
	expect_refused("/bin/a $HOME", "not expanded");
	expect_refused("/bin/a ${HOME}", "not expanded");
	expect_refused("/bin/a \"x$y\"", "not expanded");
}

static void
test_environment(void **state)
{
	struct kiln_strv sv = { 0 };
	const char *err = NULL;

	(void)state;
	/* systemd's own example: Environment="VAR1=word1 word2" VAR2=word3 "VAR3=$word 5 6" */
	assert_int_equal(kiln_cmdline_split("\"VAR1=word1 word2\" VAR2=word3 \"VAR3=$word 5 6\"", 0, &sv, &err), 0);
	assert_int_equal(sv.n, 3);
	assert_string_equal(sv.v[0], "VAR1=word1 word2");
	assert_string_equal(sv.v[1], "VAR2=word3");
	assert_string_equal(sv.v[2], "VAR3=$word 5 6");
	kiln_strv_release(&sv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_environment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
