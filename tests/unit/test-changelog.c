/* test-changelog.c - fixes named in Debian changelogs, and the manifest's shape checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "changelog.h"
#include "manifest.h"
#include "solve.h"

static const char log_text[] =
	"openssl (3.0.17-1~deb12u2) bookworm-security; urgency=medium\n"
	"\n"
	"  * CVE-2025-9230: out-of-bounds read (DSA-6015-1)\n"
	"  * CVE-2025-9232, CVE-2025-9231.\n"
	"\n"
	" -- Security Team <team@security.debian.org>  Tue, 30 Sep 2025 00:00:00 +0000\n"
	"\n"
	"openssl (3.0.17-1~deb12u1) bookworm; urgency=medium\n"
	"\n"
	"  * New upstream; fixes CVE-2024-13176 (DLA-4000-1). Also see XCVE-2020-1234 and CVE-20-1.\n"
	"\n"
	" -- Maintainer <m@example.org>  Fri, 04 Jul 2025 00:00:00 +0000\n"
	"\n"
	"openssl (3.0.16-1~deb12u1) bookworm; urgency=medium\n"
	"\n"
	"  * CVE-2024-12797\n";

static void
fixes(const char *after, const char *upto, const char *want_cves, const char *want_advs)
{
	struct kiln_strv c = { 0 }, a = { 0 };
	struct kiln_buf bc = { 0 }, ba = { 0 };

	assert_int_equal(kiln_changelog_fixes(log_text, strlen(log_text), after, upto, &c, &a), 3);
	for (size_t i = 0; i < c.n; i++)
		kiln_buf_addf(&bc, "%s%s", i ? " " : "", c.v[i]);
	for (size_t i = 0; i < a.n; i++)
		kiln_buf_addf(&ba, "%s%s", i ? " " : "", a.v[i]);
	assert_string_equal(bc.data ? bc.data : "", want_cves);
	assert_string_equal(ba.data ? ba.data : "", want_advs);
	kiln_buf_release(&bc);
	kiln_buf_release(&ba);
	kiln_strv_release(&c);
	kiln_strv_release(&a);
}

static void
test_changelog(void **state)
{
	(void)state;
	fixes("3.0.17-1~deb12u1", NULL, "CVE-2025-9230 CVE-2025-9231 CVE-2025-9232", "DSA-6015-1");
	fixes("3.0.16-1~deb12u1", NULL, "CVE-2024-13176 CVE-2025-9230 CVE-2025-9231 CVE-2025-9232", "DLA-4000-1 DSA-6015-1");
	fixes("3.0.16-1~deb12u1", "3.0.17-1~deb12u1", "CVE-2024-13176", "DLA-4000-1");
	fixes(NULL, NULL, "CVE-2024-12797 CVE-2024-13176 CVE-2025-9230 CVE-2025-9231 CVE-2025-9232", "DLA-4000-1 DSA-6015-1");
	fixes("3.0.17-1~deb12u2", NULL, "", "");
}

static void
test_versions(void **state)
{
	(void)state;
	assert_true(kiln_deb_version_cmp("1.0", "1.0~rc1") > 0);
	assert_true(kiln_deb_version_cmp("1:1.0", "2.0") > 0);
	assert_true(kiln_deb_version_cmp("3.0.17-1~deb12u2", "3.0.17-1~deb12u10") < 0);
	assert_int_equal(kiln_deb_version_cmp("5:7.0.15-1", "5:7.0.15-1"), 0);
}

static void
test_manifest_shape(void **state)
{
	static const char good[] = "{\"schema\":\"kiln.manifest/1\",\"family\":\"redis\",\"version\":\"2026.11.0\","
		"\"packages\":[{\"name\":\"a\",\"version\":\"1\"}],\"artifacts\":[{\"name\":\"vmlinuz\",\"size\":1}],"
		"\"security_updates\":[{\"package\":\"a\",\"version\":\"1\",\"previous\":null,\"classification\":\"security\","
		"\"cves\":[\"CVE-2026-1\"],\"advisories\":[],\"fixed_cves\":[]}]}";
	const char *bad[] = {
		"{",
		"[]",
		"{\"schema\":\"other/1\"}",
		"{\"schema\":\"kiln.manifest/1\",\"family\":\"Bad!\",\"version\":\"2026.11.0\",\"packages\":[],\"artifacts\":[]}",
		"{\"schema\":\"kiln.manifest/1\",\"family\":\"a\",\"version\":\"../x\",\"packages\":[],\"artifacts\":[]}",
		"{\"schema\":\"kiln.manifest/1\",\"family\":\"a\",\"version\":\"2026.11.0\",\"packages\":[1],\"artifacts\":[]}",
		"{\"schema\":\"kiln.manifest/1\",\"family\":\"a\",\"version\":\"2026.11.0\",\"packages\":[],\"artifacts\":[],"
		"\"security_updates\":[{\"package\":\"a\",\"version\":\"1\",\"classification\":\"security\",\"cves\":[1],"
		"\"advisories\":[],\"fixed_cves\":[]}]}",
		"{\"schema\":\"kiln.manifest/1\",\"schema\":\"kiln.manifest/1\"}",
	};
	struct kiln_ctx ctx;
	json_t *m;

	(void)state;
	kiln_ctx_init(&ctx);
	m = kiln_manifest_parse(&ctx, "m.json", good, strlen(good));
	assert_non_null(m);
	json_decref(m);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kiln_ctx_init(&ctx);
		assert_null(kiln_manifest_parse(&ctx, "m.json", bad[i], strlen(bad[i])));
		assert_int_equal(ctx.code, KILN_EXIT_USAGE);
		assert_non_null(strstr(ctx.msg, "m.json"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_changelog),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_manifest_shape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
