/* test-recipe.c - the recipe parser: what it accepts, and every error with file:line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "recipe.h"

static const char base[] =
	"[Image]\n"			/* 1 */
	"Family=redis\n"		/* 2 */
	"Cmd=/usr/bin/redis-server\n"	/* 3 */
	"\n"				/* 4 */
	"[Source]\n"			/* 5 */
	"From=host\n"			/* 6 */
	"Suites=bookworm bookworm-security\n"	/* 7 */
	"\n"				/* 8 */
	"[Kernel]\n"			/* 9 */
	"Package=linux-image-cloud-amd64\n"	/* 10 */
	"\n"				/* 11 */
	"[Packages]\n"			/* 12 */
	"Install=redis-server\n";	/* 13 */

static struct kiln_recipe *
parse(const char *text, struct kiln_ctx *ctx)
{
	struct kiln_recipe *r = NULL;

	kiln_ctx_init(ctx);
	if (kiln_recipe_parse(ctx, "t.recipe", text, strlen(text), &r) < 0)
		return NULL;
	return r;
}

/* Parses @text (which it frees) and expects the error @msg, exit 2. */
static void
expect_text_error(char *text, const char *msg)
{
	struct kiln_ctx ctx;
	struct kiln_recipe *r = parse(text, &ctx);

	if (r || !strstr(ctx.msg, msg))
		print_error("recipe:\n%s\nwanted: %s\ngot: %s\n", text, msg, ctx.msg);
	assert_null(r);
	assert_int_equal(ctx.code, KILN_EXIT_USAGE);
	assert_non_null(strstr(ctx.msg, msg));
	free(text);
}

/* Parses base + @extra and expects the error @msg, exit 2. */
static void
expect_error(const char *extra, const char *msg)
{
	expect_text_error(kiln_asprintf("%s%s", base, extra), msg);
}

/* A recipe whose [Image] is @image (lines 1..), the rest as in base. */
static char *
with_image(const char *image)
{
	return kiln_asprintf("[Image]\nFamily=redis\n%s\n[Source]\nFrom=host\nSuites=bookworm\n"
			     "[Kernel]\nPackage=linux-image-cloud-amd64\n[Packages]\nInstall=redis-server\n", image);
}

static void
expect_image_error(const char *image, const char *msg)
{
	expect_text_error(with_image(image), msg);
}

static void
test_commands(void **state)
{
	char *text = with_image("Cmd=/usr/sbin/nginx -g \"daemon off;\"\n"
				"Environment=\"A=x y\" B=2\nState=/var/lib/redis\n"
				"FirstBoot=/usr/bin/init-db --dir \"/var/lib/redis\"\n"
				"ExecStartPre=/usr/bin/check\nExecStartPre=/usr/bin/check --again\n");
	struct kiln_ctx ctx;
	struct kiln_recipe *r = parse(text, &ctx);

	(void)state;
	if (!r)
		print_error("%s\n", ctx.msg);
	assert_non_null(r);
	assert_int_equal(r->argv.n, 3);
	assert_string_equal(r->argv.v[2], "daemon off;");
	assert_string_equal(r->cmd, "/usr/sbin/nginx -g \"daemon off;\"");
	assert_int_equal(r->environment.n, 2);
	assert_string_equal(r->environment.v[0], "A=x y");
	assert_string_equal(r->state, "/var/lib/redis");
	assert_int_equal(r->n_execs, 3);	/* in recipe order, ExecStartPre= repeatable */
	assert_true(r->execs[0].first_boot);
	assert_string_equal(r->execs[0].argv.v[2], "/var/lib/redis");
	assert_false(r->execs[1].first_boot);
	assert_int_equal(r->execs[2].argv.n, 2);
	kiln_recipe_free(r);
	free(text);

	expect_image_error("Cmd=/usr/sbin/nginx -g \"daemon off;\n", "t.recipe:3: bad value for key 'Cmd' in [Image]: unbalanced double quote");
	expect_image_error("Cmd=/bin/a 'x\n", "t.recipe:3: bad value for key 'Cmd' in [Image]: unbalanced single quote");
	expect_image_error("Cmd=/bin/a \\q\n", "t.recipe:3: bad value for key 'Cmd' in [Image]: unknown escape");
	expect_image_error("Cmd=/bin/a $HOME\n", "t.recipe:3: bad value for key 'Cmd' in [Image]: variables");
	expect_image_error("Cmd=bin/a\n", "t.recipe:3: key 'Cmd' in [Image] must start with an absolute path, not 'bin/a'");
	expect_image_error("Cmd=\"\" /bin/a\n", "t.recipe:3: key 'Cmd' in [Image] must start with an absolute path, not ''");
	expect_image_error("Cmd=-/bin/a\n", "systemd's prefixes @-:+! are not supported");
	expect_image_error("Cmd=/bin/a\nExecStartPre=run-me\n", "t.recipe:4: key 'ExecStartPre' in [Image] must start with an absolute path");
	expect_image_error("Cmd=/bin/a\nFirstBoot=/bin/init\n", "t.recipe:4: key 'FirstBoot' in [Image] needs 'State'");
	expect_image_error("Cmd=/bin/a\nState=var/lib/x\n", "t.recipe:4: bad path 'var/lib/x' for key 'State'");
	expect_image_error("Cmd=/bin/a\nState=/var/lib/../x\n", "t.recipe:4: bad path '/var/lib/../x' for key 'State'");
	expect_image_error("Cmd=/bin/a\nState=/run/x\n", "t.recipe:4: key 'State' in [Image] cannot be '/run/x'");
	expect_image_error("Cmd=/bin/a\nState=/var/lib\n", "t.recipe:4: key 'State' in [Image] cannot be '/var/lib'");
	expect_image_error("Cmd=/bin/a\nState=/a\nState=/b\n", "t.recipe:5: duplicate key 'State' in [Image]");
	expect_image_error("Cmd=/bin/a\nEnvironment=\"A=1\n", "t.recipe:4: bad value for key 'Environment' in [Image]: unbalanced double quote");
	expect_image_error("Cmd=/bin/a\nEnvironment=1A=x\n", "t.recipe:4: bad value '1A=x' for key 'Environment'");
	expect_image_error("Cmd=/bin/a\nEnvironment=\"A B=x\"\n", "t.recipe:4: bad value 'A B=x' for key 'Environment'");
}

static void
test_directories(void **state)
{
	char *text = kiln_asprintf("%s[Directories]\n/var/log/nginx=0755:root:adm\n/srv/www=02775:www-data\n/run/app=0700\n", base);
	struct kiln_ctx ctx;
	struct kiln_recipe *r = parse(text, &ctx);

	(void)state;
	assert_non_null(r);
	assert_int_equal(r->n_dirs, 3);
	assert_string_equal(r->dirs[0].group, "adm");
	assert_int_equal(r->dirs[1].mode, 02775);
	assert_string_equal(r->dirs[1].group, "www-data");	/* the user's group when none is given */
	assert_string_equal(r->dirs[2].user, "root");
	kiln_recipe_free(r);
	free(text);
	expect_error("[Directories]\nvar/x=0755\n", "t.recipe:15: bad path 'var/x' in [Directories]");
	expect_error("[Directories]\n/var/../x=0755\n", "t.recipe:15: bad path '/var/../x' in [Directories]");
	expect_error("[Directories]\n/proc/x=0755\n", "t.recipe:15: bad path '/proc/x' in [Directories]: kiln-init mounts");
	expect_error("[Directories]\n/x=755\n", "t.recipe:15: bad value '755' for key '/x' in [Directories]");
	expect_error("[Directories]\n/x=0755:a:b:c\n", "t.recipe:15: bad value '0755:a:b:c'");
	expect_error("[Directories]\n/x=0755:Bad\n", "t.recipe:15: bad user 'Bad' for key '/x'");
	expect_error("[Directories]\n/x=0755:a:b c\n", "t.recipe:15: bad group 'b c' for key '/x'");
}

static void
test_minimal(void **state)
{
	struct kiln_ctx ctx;
	struct kiln_recipe *r = parse(base, &ctx);

	(void)state;
	assert_non_null(r);
	assert_string_equal(r->family, "redis");
	assert_string_equal(r->cmd, "/usr/bin/redis-server");
	assert_string_equal(r->hostname, "redis");
	assert_string_equal(r->on_exit, "poweroff");
	assert_int_equal(r->n_sources, 1);
	assert_true(r->sources[0].from_host);
	assert_int_equal(r->sources[0].suites.n, 2);
	assert_string_equal(r->sources[0].suites.v[1], "bookworm-security");
	assert_string_equal(r->kernel_package, "linux-image-cloud-amd64");
	assert_int_equal(r->install.n, 1);
	assert_true(kiln_strv_contains(&r->exclude, "/usr/share/doc/*"));
	assert_string_equal(r->compression, "xz");
	assert_string_equal(r->formats.v[0], "initramfs");
	assert_int_equal(strlen(r->sha256), 64);
	kiln_recipe_free(r);
}

static void
test_full(void **state)
{
	static const char text[] =
		"# comment\n; another\n"
		"[Image]\nFamily=web-1\nDescription=d\nCmd=/bin/busybox httpd -f\nHostname=web1\nOnExit=restart\n"
		"User=www\nEnvironment=A=1 B=two\n"
		"[Source]\nURI=https://mirror.example.org/debian/\nSuites=bookworm\nComponents=main contrib\n"
		"Keyring=/usr/share/keyrings/debian-archive-keyring.gpg\n"
		"[Source]\nFrom=host\nSuites=bookworm-security\n"
		"[Kernel]\nPackage=linux-image-cloud-amd64\nCmdline=console=ttyS0 quiet\nModules=virtio_pci\n virtio_net\n"
		"[Packages]\nInstall=busybox-static\n  redis-server\nExclude=/usr/share/doc/*\n"
		"[Files]\n/srv/www/index.html=files/index.html:0644\n/usr/local/bin/x=x:0755\n"
		"[Users]\nwww=33:33:/var/www\n"
		"[Network]\nAddress=10.0.2.15/24\nGateway=10.0.2.2\n"
		"[Output]\nFormats=initramfs qcow2\nCompression=xz\n";
	struct kiln_ctx ctx;
	struct kiln_recipe *r = parse(text, &ctx);

	(void)state;
	if (!r)
		print_error("%s\n", ctx.msg);
	assert_non_null(r);
	assert_string_equal(r->on_exit, "restart");
	assert_int_equal(r->environment.n, 2);
	assert_int_equal(r->n_sources, 2);
	assert_string_equal(r->sources[0].uri, "https://mirror.example.org/debian/");
	assert_int_equal(r->sources[0].components.n, 2);
	assert_int_equal(r->kernel_modules.n, 2);	/* continuation line */
	assert_string_equal(r->kernel_modules.v[1], "virtio_net");
	assert_int_equal(r->install.n, 2);
	assert_int_equal(r->n_files, 2);
	assert_string_equal(r->files[0].dest, "/srv/www/index.html");
	assert_string_equal(r->files[0].src, "files/index.html");
	assert_int_equal(r->files[1].mode, 0755);
	assert_int_equal(r->n_users, 1);
	assert_int_equal(r->users[0].uid, 33);
	assert_string_equal(r->users[0].home, "/var/www");
	assert_string_equal(r->net_gateway, "10.0.2.2");
	assert_int_equal(r->formats.n, 2);
	assert_string_equal(r->compression, "xz");
	kiln_recipe_free(r);
}

static void
test_errors(void **state)
{
	(void)state;
	expect_error("Instal=x\n", "t.recipe:14: unknown key 'Instal' in [Packages]");
	expect_error("Install=x\n", "t.recipe:14: duplicate key 'Install' in [Packages] (first at line 13)");
	expect_error("[Bogus]\n", "t.recipe:14: unknown section [Bogus]");
	expect_error("[Image]\n", "t.recipe:14: section [Image] given twice (first at line 1)");
	expect_error("[Files]\n/etc/x=src:0644x\n", "t.recipe:15: bad mode '0644x' for key '/etc/x'");
	expect_error("[Files]\n/etc/x=src:644\n", "t.recipe:15: bad mode '644'");
	expect_error("[Files]\n/etc/x=src:010000\n", "t.recipe:15: bad mode '010000'");
	expect_error("[Files]\n/etc/x=src\n", "t.recipe:15: bad value 'src' for key '/etc/x' in [Files]");
	expect_error("[Files]\n/etc/../x=src:0644\n", "t.recipe:15: bad path '/etc/../x'");
	expect_error("[Files]\netc/x=src:0644\n", "t.recipe:15: bad path 'etc/x'");
	expect_error("[Users]\nbob=1:2\n", "t.recipe:15: bad value '1:2' for key 'bob' in [Users]");
	expect_error("[Users]\nbob=x:2:/home/bob\n", "t.recipe:15: bad uid or gid");
	expect_error("[Network]\nAddress=10.0.2.300/24\n", "t.recipe:15: bad value '10.0.2.300/24' for key 'Address'");
	expect_error("[Network]\nGateway=10.0.2.2\n", "t.recipe:15: key 'Gateway' in [Network] needs 'Address'");
	expect_error("[Output]\nFormats=iso\n", "t.recipe:15: bad value 'iso' for key 'Formats'");
	expect_error("[Output]\nCompression=lz4\n", "t.recipe:15: bad value 'lz4' for key 'Compression'");
	expect_error("[Source]\nURI=ftp://x\nSuites=s\nKeyring=/k\n", "t.recipe:15: bad value 'ftp://x' for key 'URI'");
	expect_error("[Source]\nURI=http://x\nSuites=s\n", "t.recipe:14: missing required key 'Keyring' in [Source]");
	expect_error("[Source]\nURI=http://x\nFrom=host\nSuites=s\n", "t.recipe:15: key 'URI' in [Source] cannot be combined with 'From' (line 16)");
	expect_error("[Source]\nFrom=elsewhere\nSuites=s\n", "t.recipe:15: bad value 'elsewhere' for key 'From'");
	expect_error("[Source]\nFrom=host\n", "t.recipe:14: missing required key 'Suites' in [Source]");
	expect_error("[Source]\nFrom=host\nSuites=../x\n", "t.recipe:16: bad suite or component '../x'");
	expect_error("this is not ini\n", "t.recipe:14: syntax error");
	expect_error("[Unclosed\n", "t.recipe:14: syntax error");
}

static void
test_required(void **state)
{
	struct kiln_ctx ctx;
	struct kiln_recipe *r;

	(void)state;
	r = parse("[Image]\nFamily=a\n", &ctx);
	assert_null(r);
	assert_string_equal(ctx.msg, "t.recipe:1: missing required key 'Cmd' in [Image]");
	r = parse("[Image]\nFamily=a\nCmd=/x\n[Kernel]\nPackage=linux-image-x\n[Packages]\nInstall=x\n", &ctx);
	assert_null(r);
	assert_string_equal(ctx.msg, "t.recipe: missing section [Source] (it needs key 'Suites')");
	r = parse("[Image]\nFamily=a\nCmd=/x\n[Source]\nFrom=host\nSuites=s\n[Packages]\nInstall=x\n", &ctx);
	assert_null(r);
	assert_string_equal(ctx.msg, "t.recipe: missing section [Kernel] (it needs key 'Package')");
	r = parse("[Image]\nFamily=Bad!\nCmd=/x\n", &ctx);
	assert_null(r);
	assert_non_null(strstr(ctx.msg, "t.recipe:2: bad family name 'Bad!'"));
	r = parse("[Image]\nFamily=a\nCmd=relative\n", &ctx);
	assert_null(r);
	assert_non_null(strstr(ctx.msg, "t.recipe:3: key 'Cmd' in [Image] must start with an absolute path"));
	r = parse("Family=a\n", &ctx);
	assert_null(r);
	assert_string_equal(ctx.msg, "t.recipe:1: key 'Family' outside of any section");
	r = parse("[Image]\nFamily=\nCmd=/x\n", &ctx);
	assert_null(r);
	assert_string_equal(ctx.msg, "t.recipe:2: missing required key 'Family' in [Image]");
}

static void
test_limits(void **state)
{
	struct kiln_ctx ctx;
	struct kiln_recipe *r = NULL;
	char *big, *longline;

	(void)state;
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_recipe_parse(&ctx, "n.recipe", "[Image]\nFam\0ily=a\n", 18, &r), -1);
	assert_string_equal(ctx.msg, "n.recipe:2: NUL byte in recipe");

	big = kiln_calloc(1, KILN_RECIPE_MAX + 2);
	memset(big, '#', KILN_RECIPE_MAX + 1);
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_recipe_parse(&ctx, "b.recipe", big, KILN_RECIPE_MAX + 1, &r), -1);
	assert_non_null(strstr(ctx.msg, "recipe too large"));
	assert_int_equal(ctx.code, KILN_EXIT_USAGE);
	free(big);

	longline = kiln_calloc(1, 400);
	memcpy(longline, "[Image]\nDescription=", 20);
	memset(longline + 20, 'x', 300);
	longline[320] = '\n';
	r = parse(longline, &ctx);
	assert_null(r);
	assert_non_null(strstr(ctx.msg, "t.recipe:2: line too long"));
	free(longline);
}

static void
test_family_names(void **state)
{
	(void)state;
	assert_true(kiln_family_name_valid("redis"));
	assert_true(kiln_family_name_valid("web-2"));
	assert_false(kiln_family_name_valid(""));
	assert_false(kiln_family_name_valid("-x"));
	assert_false(kiln_family_name_valid("Redis"));
	assert_false(kiln_family_name_valid("a/b"));
	assert_false(kiln_family_name_valid("a_b"));
	assert_false(kiln_family_name_valid("0123456789012345678901234567890123456789012345678901234567890123"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_directories),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_required),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_family_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
