/* test-elf.c - the libelf reader on objects the test compiles itself, and on broken ones. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "elffile.h"

static char dir[] = "/tmp/kiln-test-elf-XXXXXX";

static int
setup(void **state)
{
	_cleanup_free_ char *cmd = NULL;
	FILE *f;

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	cmd = kiln_asprintf("%s/kt.c", dir);
	f = fopen(cmd, "w");
	if (!f)
		return -1;
	fputs("#include <unistd.h>\nint kt(void) { return getpid() > 0 ? 42 : 0; }\n", f);
	fclose(f);
	free(cmd);
	f = fopen((cmd = kiln_asprintf("%s/main.c", dir)), "w");
	if (!f)
		return -1;
	fputs("int kt(void);\nint main(void) { return kt() - 42; }\n", f);
	fclose(f);
	free(cmd);
	/* a library with a soname and a RUNPATH, an executable that needs it, a static one */
	cmd = kiln_asprintf("cd %s && cc -shared -fPIC -o libkt.so.1 -Wl,-soname,libkt.so.1 "
			    "-Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/../lib:/opt/kt' kt.c && "
			    "cc -o main main.c -L. -l:libkt.so.1 -Wl,--disable-new-dtags -Wl,-rpath,/opt/rp && "
			    "cc -static -o static main.c kt.c", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	_cleanup_free_ char *cmd = kiln_asprintf("rm -rf %s", dir);

	(void)state;
	return system(cmd) == 0 ? 0 : -1;
}

static char *
load(const char *name, size_t *ret_len)
{
	_cleanup_free_ char *p = kiln_asprintf("%s/%s", dir, name);
	struct kiln_ctx ctx;
	char *data;

	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_read_file(&ctx, p, KILN_ELF_MAX, &data, ret_len), 0);
	return data;
}

static void
test_library(void **state)
{
	size_t len;
	_cleanup_free_ char *data = load("libkt.so.1", &len);
	struct kiln_elf e;
	struct kiln_ctx ctx;

	(void)state;
	kiln_ctx_init(&ctx);
	assert_true(kiln_elf_magic(data, len));
	assert_int_equal(kiln_elf_read(&ctx, data, len, &e), 0);
	assert_true(e.dynamic);
	assert_null(e.interp);
	assert_string_equal(e.soname, "libkt.so.1");
	assert_true(kiln_strv_contains(&e.needed, "libc.so.6"));
	assert_int_equal(e.runpath.n, 2);	/* DT_RUNPATH, split, $ORIGIN as written */
	assert_string_equal(e.runpath.v[0], "$ORIGIN/../lib");
	assert_string_equal(e.runpath.v[1], "/opt/kt");
	kiln_elf_release(&e);
}

static void
test_executable(void **state)
{
	size_t len;
	_cleanup_free_ char *data = load("main", &len), *st = NULL;
	struct kiln_elf e;
	struct kiln_ctx ctx;

	(void)state;
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_elf_read(&ctx, data, len, &e), 0);
	assert_non_null(e.interp);
	assert_string_equal(e.interp, "/lib64/ld-linux-x86-64.so.2");
	assert_int_equal(e.needed.n, 2);	/* in the file's order */
	assert_string_equal(e.needed.v[0], "libkt.so.1");
	assert_string_equal(e.needed.v[1], "libc.so.6");
	assert_int_equal(e.runpath.n, 1);	/* DT_RPATH when there is no DT_RUNPATH */
	assert_string_equal(e.runpath.v[0], "/opt/rp");
	kiln_elf_release(&e);

	st = load("static", &len);
	assert_int_equal(kiln_elf_read(&ctx, st, len, &e), 0);
	assert_null(e.interp);
	assert_int_equal(e.needed.n, 0);
	kiln_elf_release(&e);
}

static void
test_sections(void **state)
{
	size_t len, n;
	_cleanup_free_ char *data = load("libkt.so.1", &len);
	_cleanup_free_ char *text = NULL;
	struct kiln_ctx ctx;

	(void)state;
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_elf_section(&ctx, data, len, ".dynstr", &text, &n), 0);
	assert_non_null(memmem(text, n, "libkt.so.1", 10));
	assert_int_equal(kiln_elf_section(&ctx, data, len, ".modinfo", &text, &n), 1);	/* none: text unchanged */
}

/* Broken files: each refused with one error, none crashes the reader. */
static void
test_broken(void **state)
{
	size_t len;
	_cleanup_free_ char *data = load("main", &len);
	char junk[] = "\177ELF\002\001\001\0 this is no ELF header at all";
	struct kiln_elf e;
	struct kiln_ctx ctx;

	(void)state;
	kiln_ctx_init(&ctx);
	assert_false(kiln_elf_magic("#!/bin/sh\n", 10));
	assert_int_equal(kiln_elf_read(&ctx, "#!/bin/sh\n", 10, &e), -1);
	assert_int_equal(ctx.code, KILN_EXIT_INTEGRITY);
	assert_string_equal(ctx.msg, "not an ELF file");
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_elf_read(&ctx, junk, sizeof(junk), &e), -1);
	assert_int_equal(ctx.code, KILN_EXIT_INTEGRITY);
	/* cut anywhere: never a crash, and what is returned is whole */
	for (size_t cut = 4; cut < len; cut += len / 97 + 1) {
		_cleanup_free_ char *part = kiln_malloc(cut);

		memcpy(part, data, cut);
		kiln_ctx_init(&ctx);
		if (kiln_elf_read(&ctx, part, cut, &e) == 0) {
			for (size_t i = 0; i < e.needed.n; i++)
				assert_true(*e.needed.v[i] != '\0');
			kiln_elf_release(&e);
		} else {
			assert_int_equal(ctx.code, KILN_EXIT_INTEGRITY);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_library),
		cmocka_unit_test(test_executable),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_broken),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
