/* test-util.c - the error context (kinds, wrapping), bounded file reads, config lines. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "kiln.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/kiln-test-util-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void
put(const char *name, const char *text)
{
	char *p = kiln_asprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

static void
test_kinds(void **state)
{
	struct kiln_ctx ctx;
	char *data = NULL, *p = kiln_asprintf("%s/nope", dir);
	size_t len;

	(void)state;
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_read_file(&ctx, p, 10, &data, &len), -1);
	assert_int_equal(ctx.kind, KILN_ERR_NOT_FOUND);
	assert_int_equal(ctx.err, ENOENT);
	free(p);
	put("big", "0123456789abcdef");
	p = kiln_asprintf("%s/big", dir);
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_read_file(&ctx, p, 10, &data, &len), -1);
	assert_int_equal(ctx.kind, KILN_ERR_TOO_LARGE);
	/* context added to a message reads the old text whole, and keeps its kind */
	kiln_error_replace(&ctx, KILN_EXIT_USAGE, "wrapped: %s", ctx.msg);
	assert_true(kiln_startswith(ctx.msg, "wrapped: '"));
	assert_non_null(strstr(ctx.msg, "big' is too large (over 10 bytes)"));
	assert_int_equal(ctx.kind, KILN_ERR_TOO_LARGE);
	/* a new error starts with no kind; the first one wins */
	kiln_ctx_init(&ctx);
	kiln_error(&ctx, KILN_EXIT_USAGE, "first");
	kiln_error(&ctx, KILN_EXIT_FAILED, "second");
	assert_string_equal(ctx.msg, "first");
	assert_int_equal(ctx.code, KILN_EXIT_USAGE);
	assert_int_equal(ctx.kind, KILN_ERR_OTHER);
	free(p);
}

static void
test_beneath(void **state)
{
	struct kiln_ctx ctx;
	char *data = NULL, *sub = kiln_asprintf("%s/r", dir), *link = kiln_asprintf("%s/r/out", dir);
	size_t len;

	(void)state;
	mkdir(sub, 0755);
	put("r/in.txt", "inside");
	put("secret", "outside");
	assert_int_equal(symlink("../secret", link), 0);
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_read_file_beneath(&ctx, sub, "in.txt", 100, &data, &len), 0);
	assert_string_equal(data, "inside");
	free(data);
	assert_int_equal(kiln_read_file_beneath(&ctx, sub, "../secret", 100, &data, &len), -1);
	assert_non_null(strstr(ctx.msg, "leads outside"));
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_read_file_beneath(&ctx, sub, "out", 100, &data, &len), -1);
	assert_non_null(strstr(ctx.msg, "leads outside"));
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_read_file_beneath(&ctx, sub, "/etc/hostname", 100, &data, &len), -1);
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_read_file_beneath(&ctx, sub, "in.txt", 3, &data, &len), -1);
	assert_non_null(strstr(ctx.msg, "too large (6 bytes, at most 3)"));
	free(sub);
	free(link);
}

static int
count_line(struct kiln_ctx *ctx, void *user, char *line, int lineno)
{
	struct kiln_strv *sv = user;

	(void)ctx;
	kiln_strv_push_take(sv, kiln_asprintf("%d:%s", lineno, line));
	return 0;
}

static void
test_config_lines(void **state)
{
	static const char text[] = "# comment\n\n  u a -  \t\r\n\tg b\nlast";
	struct kiln_strv sv = { 0 };
	struct kiln_ctx ctx;

	(void)state;
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_foreach_config_line(&ctx, text, strlen(text), "t", &sv, count_line), 0);
	assert_int_equal(sv.n, 3);
	assert_string_equal(sv.v[0], "3:u a -");
	assert_string_equal(sv.v[1], "4:g b");
	assert_string_equal(sv.v[2], "5:last");
	kiln_strv_release(&sv);
	assert_int_equal(kiln_foreach_config_line(&ctx, "a\0b", 3, "t.conf", &sv, count_line), -1);
	assert_string_equal(ctx.msg, "t.conf: NUL byte");
}

static void
test_sizes(void **state)
{
	static const struct { const char *in; uint64_t v; } good[] = {
		{ "1", 1 }, { "512K", 512 << 10 }, { "1G", 1ULL << 30 }, { "64M", 64ULL << 20 }, { "2T", 2ULL << 40 },
		{ "16777215T", 16777215ULL << 40 },
	};
	static const char *const bad[] = { "", "0", "0G", "G", "-1G", "+1G", " 1G", "1G ", "1g", "1GB", "1.5G",
					   "16777216T", "18446744073709551616", "1KK" };
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		assert_int_equal(kiln_parse_size(good[i].in, &v), 0);
		assert_true(v == good[i].v);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(kiln_parse_size(bad[i], &v), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_beneath, setup, teardown),
		cmocka_unit_test(test_config_lines),
		cmocka_unit_test(test_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
