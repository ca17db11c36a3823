/* test-setup.c - users, groups and tmpfiles.d as kiln makes them instead of maintainer scripts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "accounts.h"
#include "tmpfiles.h"

static const char passwd[] =
	"root:*:0:0:root:/root:/bin/bash\n"
	"daemon:*:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
	"www-data:*:33:33:www-data:/var/www:/usr/sbin/nologin\n"
	"nobody:*:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
static const char group[] = "root:*:0:\ndaemon:*:1:\nadm:*:4:\nwww-data:*:33:\nnogroup:*:65534:\n";

static void
load(struct kiln_accounts *a)
{
	struct kiln_ctx ctx;

	kiln_ctx_init(&ctx);
	memset(a, 0, sizeof(*a));
	assert_int_equal(kiln_accounts_load_base(&ctx, a, passwd, strlen(passwd), group, strlen(group), "base"), 0);
}

static int
sysusers(struct kiln_accounts *a, const char *text, struct kiln_ctx *ctx)
{
	kiln_ctx_init(ctx);
	return kiln_accounts_sysusers(ctx, a, text, strlen(text), "pkg: f.conf");
}

static void
expect_sysusers_error(const char *text, const char *msg)
{
	struct kiln_accounts a;
	struct kiln_ctx ctx;

	load(&a);
	assert_int_equal(sysusers(&a, text, &ctx), -1);
	if (!strstr(ctx.msg, msg))
		fail_msg("'%s': got '%s', wanted '%s'", text, ctx.msg, msg);
	assert_int_equal(ctx.code, KILN_EXIT_USAGE);
	kiln_accounts_release(&a);
}

static void
test_base(void **state)
{
	struct kiln_accounts a;
	struct kiln_ctx ctx;
	char *p, *g;

	(void)state;
	load(&a);
	kiln_accounts_render(&a, &p, &g);
	assert_string_equal(p, "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
			       "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
			       "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
	assert_string_equal(g, "root:x:0:\ndaemon:x:1:\nadm:x:4:\nwww-data:x:33:\nnogroup:x:65534:\n");
	assert_int_equal(kiln_accounts_user(&a, "nobody")->uid, 65534);
	assert_string_equal(kiln_accounts_user(&a, "33")->name, "www-data");
	assert_null(kiln_accounts_user(&a, "redis"));
	free(p);
	free(g);
	kiln_accounts_release(&a);

	kiln_ctx_init(&ctx);
	memset(&a, 0, sizeof(a));
	assert_int_equal(kiln_accounts_load_base(&ctx, &a, "root:*:0:0\n", 11, group, strlen(group), "base"), -1);
	assert_string_equal(ctx.msg, "base: passwd.master:1: not a passwd entry");
	kiln_accounts_release(&a);
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_accounts_load_base(&ctx, &a, "daemon:*:1:1:d:/:/x\n", 20, group, strlen(group), "base"), -1);
	assert_string_equal(ctx.msg, "base: no root user or group");
	kiln_accounts_release(&a);
}

static void
test_sysusers(void **state)
{
	struct kiln_accounts a;
	struct kiln_ctx ctx;
	unsigned gid;
	char *sup;

	(void)state;
	load(&a);
	assert_int_equal(sysusers(&a, "# c\n\nu svc - \"Service daemon\" /var/lib/svc\n"
				      "u fixed 500\nu shared 501:adm\ng grp -\ng fixedgrp 700\nm svc grp\nm svc newgrp\n"
				      "u www-data 9999\nr - 100-200\n", &ctx), 0);
	/* "-": the highest free id at or below 999; the user's group takes the same */
	assert_int_equal(kiln_accounts_user(&a, "svc")->uid, 999);
	assert_int_equal(kiln_accounts_user(&a, "svc")->gid, 999);
	assert_string_equal(kiln_accounts_user(&a, "svc")->gecos, "Service daemon");
	assert_string_equal(kiln_accounts_user(&a, "svc")->home, "/var/lib/svc");
	assert_string_equal(kiln_accounts_user(&a, "svc")->shell, "/usr/sbin/nologin");
	assert_int_equal(kiln_accounts_user(&a, "fixed")->gid, 500);
	assert_int_equal(kiln_accounts_user(&a, "shared")->gid, 4);
	assert_int_equal(kiln_accounts_gid(&a, "grp", &gid), 0);
	assert_int_equal(gid, 998);
	assert_int_equal(kiln_accounts_gid(&a, "fixedgrp", &gid), 0);
	assert_int_equal(gid, 700);
	assert_int_equal(kiln_accounts_gid(&a, "newgrp", &gid), 0);	/* 'm' makes a missing group */
	assert_int_equal(gid, 997);
	assert_int_equal(kiln_accounts_user(&a, "www-data")->uid, 33);	/* existing accounts are kept */
	sup = kiln_accounts_supplementary(&a, "svc");
	assert_string_equal(sup, "998,997");
	free(sup);
	assert_int_equal(a.ignored.n, 1);
	assert_string_equal(a.ignored.v[0], "pkg: f.conf:11: sysusers 'r 100-200'");
	kiln_accounts_release(&a);

	expect_sysusers_error("x svc -\n", "pkg: f.conf:1: sysusers type 'x' is not supported");
	expect_sysusers_error("u\n", "pkg: f.conf:1: expected TYPE NAME");
	expect_sysusers_error("u Bad -\n", "pkg: f.conf:1: bad name 'Bad'");
	expect_sysusers_error("u svc /etc/x\n", "pkg: f.conf:1: bad uid '/etc/x'");
	expect_sysusers_error("u svc 33\n", "pkg: f.conf:1: uid 33 of user 'svc' is taken by 'www-data'");
	expect_sysusers_error("g svc 4\n", "pkg: f.conf:1: gid 4 of group 'svc' is taken by 'adm'");
	expect_sysusers_error("u svc 70000\n", "bad uid '70000'");
	expect_sysusers_error("u svc - \"a:b\"\n", "bad GECOS 'a:b'");
	expect_sysusers_error("u svc - x home\n", "bad home 'home'");
	expect_sysusers_error("u svc - x /h /sh extra\n", "too many fields");
	expect_sysusers_error("u svc - \"unbalanced\n", "unbalanced double quote");
	expect_sysusers_error("u svc-%i -\n", "specifiers");
	expect_sysusers_error("u svc 600:nosuch\n", "unknown group 'nosuch'");
	expect_sysusers_error("m svc\n", "expected 'm USER GROUP'");
	{
		struct kiln_accounts b;

		load(&b);
		kiln_ctx_init(&ctx);
		assert_int_equal(kiln_accounts_sysusers(&ctx, &b, "u a -\0u b -\n", 12, "pkg: f.conf"), -1);
		assert_string_equal(ctx.msg, "pkg: f.conf: NUL byte");
		kiln_accounts_release(&b);
	}
}

static void
test_add(void **state)
{
	struct kiln_accounts a;
	struct kiln_ctx ctx;

	(void)state;
	load(&a);
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_accounts_add(&ctx, &a, "redis", 999, 999, "/var/lib/redis", "r.recipe:20"), 0);
	assert_int_equal(kiln_accounts_add(&ctx, &a, "redis", 999, 999, "/var/lib/redis", "r.recipe:21"), 0);
	assert_int_equal(kiln_accounts_add(&ctx, &a, "web", 1000, 33, "/srv", "r.recipe:22"), 0);	/* an existing group */
	assert_int_equal(kiln_accounts_add(&ctx, &a, "www-data", 33, 33, "/var/www", "r.recipe:23"), 0);	/* the same again */
	assert_int_equal(kiln_accounts_add(&ctx, &a, "nobody", 1001, 1001, "/", "r.recipe:24"), -1);
	assert_string_equal(ctx.msg, "r.recipe:24: user 'nobody' is already in the image as 65534:65534 (from base)");
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_accounts_add(&ctx, &a, "other", 999, 999, "/", "r.recipe:25"), -1);
	assert_string_equal(ctx.msg, "r.recipe:25: uid 999 of user 'other' is already taken by 'redis' (from r.recipe:20)");
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_accounts_add(&ctx, &a, "adm", 1002, 1002, "/", "r.recipe:26"), -1);
	assert_string_equal(ctx.msg, "r.recipe:26: group 'adm' is already in the image with gid 4 (from base)");
	kiln_accounts_release(&a);
}

static void
expect_tmpfiles_error(const char *text, const char *msg)
{
	struct kiln_tmpfiles t = { 0 };
	struct kiln_ctx ctx;

	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_tmpfiles_parse(&ctx, &t, text, strlen(text), "pkg: t.conf"), -1);
	if (!strstr(ctx.msg, msg))
		fail_msg("'%s': got '%s', wanted '%s'", text, ctx.msg, msg);
	assert_int_equal(ctx.code, KILN_EXIT_USAGE);
	kiln_tmpfiles_release(&t);
}

static void
test_tmpfiles(void **state)
{
	static const char text[] =
		"# comment\n"
		"d /run/postgresql 2775 postgres postgres - -\n"
		"d! /var/log/x :0750 - adm 10d\n"
		"f /etc/flag 0640 root adm - \"on and off\"\n"
		"L+ /etc/link - - - - /etc/flag\n"
		"z /var/lib/x 0700 svc\n"
		"x /tmp/svc-*\n"
		"R /var/tmp/old\n"
		"v /var/lib/machines 0700\n";
	struct kiln_tmpfiles t = { 0 };
	struct kiln_ctx ctx;

	(void)state;
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_tmpfiles_parse(&ctx, &t, text, strlen(text), "pkg: t.conf"), 0);
	assert_int_equal(t.n, 6);
	assert_int_equal(t.v[0].kind, KILN_TMPFILE_DIR);
	assert_int_equal(t.v[0].mode, 02775);
	assert_string_equal(t.v[0].user, "postgres");
	assert_null(t.v[0].arg);
	assert_string_equal(t.v[0].origin, "pkg: t.conf:2");
	assert_int_equal(t.v[1].mode, 0750);
	assert_null(t.v[1].user);
	assert_string_equal(t.v[1].group, "adm");
	assert_int_equal(t.v[2].kind, KILN_TMPFILE_FILE);
	assert_string_equal(t.v[2].arg, "on and off");
	assert_int_equal(t.v[3].kind, KILN_TMPFILE_SYMLINK);
	assert_int_equal(t.v[3].mode, -1);
	assert_string_equal(t.v[3].arg, "/etc/flag");
	assert_int_equal(t.v[4].kind, KILN_TMPFILE_ADJUST);
	assert_int_equal(t.v[5].kind, KILN_TMPFILE_DIR);
	assert_int_equal(t.ignored.n, 2);
	assert_string_equal(t.ignored.v[0], "pkg: t.conf:7: tmpfiles 'x /tmp/svc-*' (cleanup at run time)");
	kiln_tmpfiles_release(&t);

	expect_tmpfiles_error("c /dev/null 0666 - - - 1:3\n", "pkg: t.conf:1: tmpfiles type 'c' is not supported");
	expect_tmpfiles_error("C /etc/x - - - - /usr/share/x\n", "tmpfiles type 'C' is not supported");
	expect_tmpfiles_error("a+ /var/x - - - - u:x:rw\n", "tmpfiles type 'a+' is not supported");
	expect_tmpfiles_error("d~ /var/x\n", "tmpfiles modifier in 'd~' is not supported");
	expect_tmpfiles_error("d\n", "pkg: t.conf:1: expected TYPE PATH");
	expect_tmpfiles_error("d var/x\n", "bad path 'var/x'");
	expect_tmpfiles_error("d /var/../etc\n", "bad path '/var/../etc'");
	expect_tmpfiles_error("d /var//x\n", "bad path '/var//x'");
	expect_tmpfiles_error("d /run/%t\n", "specifiers");
	expect_tmpfiles_error("d /x 0999\n", "bad mode '0999'");
	expect_tmpfiles_error("d /x ~0755\n", "bad mode '~0755'");
	expect_tmpfiles_error("f /x 0644 - - 1d on\n", "an age on 'f' is not supported");
	expect_tmpfiles_error("L /x\n", "'L' needs a target");
	expect_tmpfiles_error("d /x - - - - arg\n", "an argument on 'd' is not supported");
	expect_tmpfiles_error("f /x - - - - a b\n", "too many fields");
	expect_tmpfiles_error("d \"/x\n", "unbalanced double quote");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base),
		cmocka_unit_test(test_sysusers),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_tmpfiles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
