/* test-solve.c - resolution on in-memory Packages indexes: versions, alternatives, providers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "solve.h"

#define PKG(name, ver, extra) \
	"Package: " name "\nVersion: " ver "\nArchitecture: amd64\nFilename: pool/" name "_" ver ".deb\n" \
	"Size: 1000\nSHA256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n" extra "\n"

static const char main_suite[] =
	PKG("app", "1.0", "Depends: lib (>= 1.0), first | second, libsys, mta\nRecommends: extra\n")
	PKG("lib", "1.0", "")
	PKG("first", "1.0", "Depends: first-dep\n")
	PKG("first-dep", "1.0", "")
	PKG("second", "1.0", "")
	PKG("libsys", "252", "")
	PKG("libelog", "246", "Provides: libsys (= 246)\nConflicts: libsys\n")
	PKG("postfix-lite", "1.0", "Provides: mta\n")
	PKG("extra", "1.0", "")
	PKG("lsb", "11.6", "Depends: sysv\n")
	PKG("sysv", "3.06", "Provides: lsb (= 11.1)\n")
	PKG("svc", "1.0", "Depends: lsb (>= 3.2), sysv\n")
	PKG("broken", "1.0", "Depends: nothing-here\n")
	PKG("linux-image-cloud-amd64", "6.1.99-1", "Depends: linux-image-6.1.0-9-cloud-amd64 (= 6.1.99-1)\n")
	PKG("linux-image-6.1.0-9-cloud-amd64", "6.1.99-1", "Depends: kmod\n")
	PKG("linux-image-6.1.0-8-cloud-amd64", "6.1.90-1", "")
	PKG("kmod", "30", "")
	PKG("linux-image-weird", "1", "Depends: kmod\n");

static const char security_suite[] = PKG("lib", "1.1", "");

static struct kiln_solver *
setup(void)
{
	struct kiln_solver *s = kiln_solver_new("amd64");
	struct kiln_ctx ctx;

	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_solver_add_packages_text(&ctx, s, "file:///r", "main", main_suite, strlen(main_suite)), 0);
	assert_int_equal(kiln_solver_add_packages_text(&ctx, s, "file:///r", "main-security", security_suite,
						       strlen(security_suite)), 0);
	return s;
}

static char *
names(const struct kiln_pkgset *ps)
{
	struct kiln_buf b = { 0 };

	for (size_t i = 0; i < ps->n; i++)
		kiln_buf_addf(&b, "%s%s=%s", i ? " " : "", ps->pkgs[i].name, ps->pkgs[i].version);
	return kiln_buf_detach(&b, NULL);
}

static void
resolve_expect(const char *install, const char *want)
{
	struct kiln_solver *s = setup();
	struct kiln_strv sv = { 0 };
	struct kiln_pkgset ps;
	struct kiln_ctx ctx;
	char *got;

	kiln_ctx_init(&ctx);
	kiln_strv_split(&sv, install);
	if (kiln_solver_resolve(&ctx, s, &sv, &ps) < 0)
		fail_msg("%s", ctx.msg);
	got = names(&ps);
	if (strcmp(got, want))
		print_error("install %s\n  got:  %s\n  want: %s\n", install, got, want);
	assert_string_equal(got, want);
	free(got);
	kiln_pkgset_release(&ps);
	kiln_strv_release(&sv);
	kiln_solver_free(s);
}

static void
test_apt_choices(void **state)
{
	(void)state;
	/* security's lib 1.1 wins; first alternative; real libsys over libelog; a provider of mta; no Recommends */
	resolve_expect("app", "app=1.0 first=1.0 first-dep=1.0 lib=1.1 libsys=252 postfix-lite=1.0");
	/* lsb is met by sysv's Provides, yet apt installs the real lsb */
	resolve_expect("svc", "lsb=11.6 svc=1.0 sysv=3.06");
	/* naming the other alternatives in Install= takes them */
	resolve_expect("app second libelog", "app=1.0 lib=1.1 libelog=246 postfix-lite=1.0 second=1.0");
}

static void
test_record(void **state)
{
	struct kiln_solver *s = setup();
	struct kiln_strv sv = { 0 };
	struct kiln_pkgset ps;
	struct kiln_ctx ctx;

	(void)state;
	kiln_ctx_init(&ctx);
	kiln_strv_push(&sv, "lib");
	assert_int_equal(kiln_solver_resolve(&ctx, s, &sv, &ps), 0);
	assert_int_equal(ps.n, 1);
	assert_string_equal(ps.pkgs[0].suite, "main-security");
	assert_string_equal(ps.pkgs[0].uri, "file:///r");
	assert_string_equal(ps.pkgs[0].filename, "pool/lib_1.1.deb");
	assert_string_equal(ps.pkgs[0].arch, "amd64");
	assert_int_equal(ps.pkgs[0].size, 1000);
	assert_string_equal(ps.pkgs[0].sha256, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
	kiln_pkgset_release(&ps);
	kiln_strv_release(&sv);
	kiln_solver_free(s);
}

static void
resolve_fails(const char *install, const char *msg)
{
	struct kiln_solver *s = setup();
	struct kiln_strv sv = { 0 };
	struct kiln_pkgset ps;
	struct kiln_ctx ctx;

	kiln_ctx_init(&ctx);
	kiln_strv_split(&sv, install);
	assert_int_equal(kiln_solver_resolve(&ctx, s, &sv, &ps), -1);
	assert_int_equal(ctx.code, KILN_EXIT_USAGE);
	if (!strstr(ctx.msg, msg))
		print_error("wanted '%s', got '%s'\n", msg, ctx.msg);
	assert_non_null(strstr(ctx.msg, msg));
	kiln_strv_release(&sv);
	kiln_solver_free(s);
}

static void
test_failures(void **state)
{
	(void)state;
	resolve_fails("nosuch", "package 'nosuch' is not in any of the recipe's sources");
	resolve_fails("mta", "package 'mta' is virtual: name one of its providers in Install= (postfix-lite)");
	resolve_fails("broken", "cannot resolve: nothing provides nothing-here needed by broken-1.0.amd64");
	resolve_fails("libsys libelog", "cannot resolve:");
}

static void
test_kernel(void **state)
{
	struct kiln_solver *s = setup();
	struct kiln_ctx ctx;
	struct kiln_pkg k;
	char *rel;

	(void)state;
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_solver_kernel(&ctx, s, "linux-image-cloud-amd64", &k, &rel), 0);
	assert_string_equal(k.name, "linux-image-6.1.0-9-cloud-amd64");
	assert_string_equal(rel, "6.1.0-9-cloud-amd64");
	kiln_pkg_release(&k);
	free(rel);
	assert_int_equal(kiln_solver_kernel(&ctx, s, "linux-image-6.1.0-8-cloud-amd64", &k, &rel), 0);
	assert_string_equal(k.version, "6.1.90-1");
	kiln_pkg_release(&k);
	free(rel);
	assert_int_equal(kiln_solver_kernel(&ctx, s, "linux-image-weird", &k, &rel), -1);
	assert_non_null(strstr(ctx.msg, "does not lead to a linux-image-<version> package"));
	kiln_solver_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apt_choices),
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_kernel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
