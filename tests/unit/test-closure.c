/* test-closure.c - the file-level closure on image trees made here: symlinks, loaders, libraries, patterns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "closure.h"

#define D(p, pkg) { p, KILN_ENT_DIR, NULL, pkg, NULL, NULL, 0, 0 }
#define F(p, pkg) { p, KILN_ENT_FILE, NULL, pkg, NULL, NULL, 0, 0 }
#define L(p, to, pkg) { p, KILN_ENT_SYMLINK, to, pkg, NULL, NULL, 0, 0 }

static struct kiln_elf app_elf, libfoo_elf, priv_elf, libc_elf;

static void
elf_set(struct kiln_elf *e, const char *interp, const char *needed, const char *runpath)
{
	memset(e, 0, sizeof(*e));
	e->interp = interp ? kiln_strdup(interp) : NULL;
	e->dynamic = 1;
	kiln_strv_split(&e->needed, needed);
	kiln_strv_split(&e->runpath, runpath);
}

/* An image as compose would hand it over: kiln's skeleton, libc, an application and packages around it. */
static struct kiln_closure_node tree[] = {
	D("/usr", ""), D("/usr/bin", ""), D("/usr/lib", ""), D("/usr/lib64", ""), D("/etc", ""),
	L("/lib", "usr/lib", ""), L("/lib64", "usr/lib64", ""), L("/bin", "usr/bin", ""),
	F("/etc/passwd", ""),
	D("/usr/lib/x86_64-linux-gnu", "libc6"),
	F("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "libc6"),
	L("/usr/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "libc6"),
	F("/usr/lib/x86_64-linux-gnu/libc.so.6", "libc6"),
	D("/etc/ld.so.conf.d", "libc6"),
	F("/etc/ld.so.conf.d/x86_64-linux-gnu.conf", "libc6"),
	F("/usr/lib/x86_64-linux-gnu/libfoo.so.1.2", "libfoo1"),
	L("/usr/lib/x86_64-linux-gnu/libfoo.so.1", "libfoo.so.1.2", "libfoo1"),
	F("/etc/foo.conf", "libfoo1"),
	D("/var", ""), D("/var/lib", "libfoo1"), D("/var/lib/foo", "libfoo1"), D("/var/lib/unused", "unused"),
	D("/usr/share", "libfoo1"), D("/usr/share/foo", "libfoo1"), F("/usr/share/foo/data", "libfoo1"),
	D("/usr/lib/x86_64-linux-gnu/foo", "libfoo1"), F("/usr/lib/x86_64-linux-gnu/foo/plugin.so", "libfoo1"),
	F("/usr/bin/app", "app"),
	D("/usr/share/doc", "app"), D("/usr/share/doc/app", "app"), F("/usr/share/doc/app/README", "app"),
	D("/usr/lib/app", "app-priv"), F("/usr/lib/app/libpriv.so", "app-priv"),
	L("/usr/bin/start", "../lib/app/../../bin/run", "app-tools"),
	F("/usr/bin/run", "app-tools"),
	F("/usr/bin/unused", "unused"), F("/etc/unused.conf", "unused"),
	L("/usr/bin/loop1", "loop2", "unused"), L("/usr/bin/loop2", "loop1", "unused"),
	F("/usr/bin/sh", "dash"),
};

static ssize_t
find(const char *path)
{
	for (size_t i = 0; i < ARRAY_SIZE(tree); i++)
		if (strcmp(tree[i].path, path) == 0)
			return (ssize_t)i;
	fail_msg("no node '%s'", path);
	return -1;
}

static int
kept(const char *path)
{
	return tree[find(path)].keep;
}

static int
setup(void **state)
{
	(void)state;
	elf_set(&app_elf, "/lib64/ld-linux-x86-64.so.2", "libfoo.so.1 libpriv.so libc.so.6", "$ORIGIN/../lib/app");
	elf_set(&libfoo_elf, NULL, "libc.so.6", "");
	elf_set(&priv_elf, NULL, "libc.so.6", "");
	elf_set(&libc_elf, NULL, "ld-linux-x86-64.so.2", "");
	tree[find("/usr/bin/app")].elf = &app_elf;
	tree[find("/usr/lib/x86_64-linux-gnu/libfoo.so.1.2")].elf = &libfoo_elf;
	tree[find("/usr/lib/app/libpriv.so")].elf = &priv_elf;
	tree[find("/usr/lib/x86_64-linux-gnu/libc.so.6")].elf = &libc_elf;
	tree[find("/usr/bin/run")].script = "/bin/sh";
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	kiln_elf_release(&app_elf);
	kiln_elf_release(&libfoo_elf);
	kiln_elf_release(&priv_elf);
	kiln_elf_release(&libc_elf);
	return 0;
}

static void
test_follows(void **state)
{
	struct kiln_strv programs = { 0 }, keep = { 0 }, install = { 0 }, libdirs = { 0 }, warnings = { 0 };
	struct kiln_closure_opts o = { &programs, &keep, &install, &libdirs };
	struct kiln_ctx ctx;

	(void)state;
	kiln_ctx_init(&ctx);
	kiln_strv_push(&programs, "/bin/app");	/* through kiln's /bin symlink */
	kiln_strv_push(&programs, "/usr/bin/start");
	kiln_strv_push(&install, "app");
	kiln_strv_push(&libdirs, "/usr/lib/x86_64-linux-gnu");
	assert_int_equal(kiln_closure_run(&ctx, tree, ARRAY_SIZE(tree), &o, &warnings), 0);
	assert_int_equal(warnings.n, 0);
	/* the loader through /lib64 -> usr/lib64 and libc6's absolute symlink */
	assert_true(kept("/usr/lib64/ld-linux-x86-64.so.2"));
	assert_true(kept("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"));
	/* DT_NEEDED: the soname's symlink and its file, RUNPATH's $ORIGIN, libc */
	assert_true(kept("/usr/lib/x86_64-linux-gnu/libfoo.so.1"));
	assert_true(kept("/usr/lib/x86_64-linux-gnu/libfoo.so.1.2"));
	assert_true(kept("/usr/lib/app/libpriv.so"));
	assert_true(kept("/usr/lib/app"));	/* and the directories above what is kept */
	assert_true(kept("/usr/lib/x86_64-linux-gnu/libc.so.6"));
	/* a kept package's /etc, not its data; an Install= package's files, not its docs */
	assert_true(kept("/etc/foo.conf"));
	assert_true(kept("/var/lib/foo"));	/* an empty directory of a kept package: for it to write into */
	assert_false(kept("/var/lib/unused"));
	assert_true(kept("/etc/ld.so.conf.d/x86_64-linux-gnu.conf"));
	assert_false(kept("/usr/share/foo/data"));
	assert_false(kept("/usr/lib/x86_64-linux-gnu/foo/plugin.so"));
	assert_false(kept("/usr/share/doc/app/README"));
	/* a relative symlink with '..' to a script, and the script's interpreter */
	assert_true(kept("/usr/bin/start"));
	assert_true(kept("/usr/bin/run"));
	assert_true(kept("/usr/bin/sh"));
	/* nothing of a package nothing needs */
	assert_false(kept("/usr/bin/unused"));
	assert_false(kept("/etc/unused.conf"));
	assert_false(kept("/usr/bin/loop1"));
	assert_true(kept("/etc/passwd"));	/* kiln's own */
	kiln_strv_release(&programs);
	kiln_strv_release(&install);
	kiln_strv_release(&libdirs);
}

static void
test_patterns(void **state)
{
	struct kiln_strv programs = { 0 }, keep = { 0 }, warnings = { 0 };
	struct kiln_closure_opts o = { &programs, &keep, NULL, NULL };
	struct kiln_ctx ctx;

	(void)state;
	kiln_ctx_init(&ctx);
	kiln_strv_push(&programs, "/usr/bin/app");
	kiln_strv_push(&keep, "/usr/share/foo");	/* a directory: its tree */
	kiln_strv_push(&keep, "/usr/lib/*/foo/*.so");	/* '*' crosses '/' */
	kiln_strv_push(&keep, "/opt/nothing/*");
	kiln_strv_push(&keep, "/usr/bin/loop1");	/* a symlink loop is kept as asked, and ends */
	assert_int_equal(kiln_closure_run(&ctx, tree, ARRAY_SIZE(tree), &o, &warnings), 0);
	assert_true(kept("/usr/share/foo/data"));
	assert_true(kept("/usr/lib/x86_64-linux-gnu/foo/plugin.so"));
	assert_true(kept("/usr/bin/loop1"));
	assert_true(kept("/usr/bin/loop2"));
	assert_int_equal(warnings.n, 1);
	assert_string_equal(warnings.v[0], "Keep= pattern '/opt/nothing/*' matches nothing in the image");
	assert_false(kept("/usr/share/doc/app/README"));	/* app is no Install= package here */
	kiln_strv_release(&programs);
	kiln_strv_release(&keep);
	kiln_strv_release(&warnings);
}

static void
test_missing(void **state)
{
	struct kiln_strv programs = { 0 }, warnings = { 0 };
	struct kiln_closure_opts o = { &programs, NULL, NULL, NULL };
	struct kiln_elf broken;
	struct kiln_ctx ctx;
	ssize_t run = find("/usr/bin/run");

	(void)state;
	kiln_ctx_init(&ctx);
	kiln_strv_push(&programs, "/usr/bin/nothere");
	assert_int_equal(kiln_closure_run(&ctx, tree, ARRAY_SIZE(tree), &o, &warnings), -1);
	assert_int_equal(ctx.code, KILN_EXIT_USAGE);
	assert_string_equal(ctx.msg, "'/usr/bin/nothere' is not a file of the image");

	/* a kept binary needing a library nobody ships */
	elf_set(&broken, NULL, "libc.so.6 libgone.so.3", "");
	tree[run].elf = &broken;
	kiln_ctx_init(&ctx);
	kiln_strv_release(&programs);
	kiln_strv_push(&programs, "/usr/bin/run");
	assert_int_equal(kiln_closure_run(&ctx, tree, ARRAY_SIZE(tree), &o, &warnings), -1);
	assert_int_equal(ctx.code, KILN_EXIT_USAGE);
	assert_string_equal(ctx.msg, "'/usr/bin/run' (package 'app-tools') needs the library 'libgone.so.3', "
			    "which no package of the image provides");
	tree[run].elf = NULL;
	kiln_elf_release(&broken);

	/* a script whose interpreter is missing is a warning */
	tree[run].script = "/usr/bin/perl";
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_closure_run(&ctx, tree, ARRAY_SIZE(tree), &o, &warnings), 0);
	assert_int_equal(warnings.n, 1);
	assert_string_equal(warnings.v[0], "'/usr/bin/run' (package 'app-tools') is a script for '/usr/bin/perl', "
			    "which the image does not have");
	tree[run].script = "/bin/sh";
	kiln_strv_release(&programs);
	kiln_strv_release(&warnings);
}

static void
test_doc(void **state)
{
	(void)state;
	assert_true(kiln_closure_is_doc("/usr/share/doc/redis/README"));
	assert_true(kiln_closure_is_doc("/usr/share/man/man1/redis-server.1.gz"));
	assert_false(kiln_closure_is_doc("/usr/share/docs"));
	assert_false(kiln_closure_is_doc("/etc/redis/redis.conf"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_follows),
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_doc),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
