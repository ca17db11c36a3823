/* test-changelog.c - fixes named in Debian changelogs, the manifest's shape checks, package URLs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "changelog.h"
#include "manifest.h"
#include "solve.h"
#include "model.h"

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
		/* only the two classifications the README names */
		"{\"schema\":\"kiln.manifest/1\",\"family\":\"a\",\"version\":\"2026.11.0\",\"packages\":[],\"artifacts\":[],"
		"\"security_updates\":[{\"package\":\"a\",\"version\":\"1\",\"classification\":\"maybe\",\"cves\":[],"
		"\"advisories\":[],\"fixed_cves\":[]}]}",
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

/* What the writer produces, the reader accepts, field for field, and the same struct gives the same bytes. */
static void
test_manifest_round_trip(void **state)
{
	struct kiln_strv argv = { 0 }, env = { 0 }, none = { 0 }, init = { 0 };
	const char *mods[] = { "virtio_pci", "virtio_net" };
	struct kiln_manifest_source src[] = {
		{ "file:///r", "kilntest", "aa", 1700000000, 0 },
		{ "file:///r", "kilntest-security", "bb", 1700000000, 1710000000 },
	};
	struct kiln_manifest_pkg pkgs[] = { { "app", "1.0-1", "amd64", "kilntest", "cc", -1 } };
	struct kiln_manifest_artifact arts[] = { { "vmlinuz", 4096, "dd" } };
	struct kiln_manifest_update upd[] = { { .package = "app", .version = "1.0-1", .suite = "kilntest-security",
						 .previous = NULL, .security = 1, .changelog = 1 } };
	struct kiln_manifest_exec pre[] = { { &init, 1 } };
	struct kiln_manifest m = {
		.family = "app", .version = "2026.11.0", .built = 1700000000,
		.recipe_name = "app", .recipe_sha256 = "ee",
		.sources = src, .n_sources = 2,
		.kernel = { "linux-image-kilntest", "6.1", "6.1.0-kilntest", "console=ttyS0", "ff", mods, 2 },
		.base = { "base-passwd", "3.6.1", "kilntest", "99" },
		.packages = pkgs, .n_packages = 1,
		.artifacts = arts, .n_artifacts = 1,
		.files = { 67, "ab" },
		.updates = upd, .n_updates = 1,
		.image = { &argv, &env, &none, "app", pre, 1, "/var/lib/app" },
	};
	struct kiln_ctx ctx;
	char *a, *b;
	json_t *j, *u;

	(void)state;
	kiln_strv_split(&argv, "/usr/bin/app --serve");
	kiln_strv_push(&env, "MODE=test");
	kiln_strv_push(&init, "/usr/bin/app");
	kiln_strv_push(&upd[0].cves, "CVE-2026-1");
	kiln_strv_push(&upd[0].fixed_cves, "CVE-2026-1");
	a = kiln_manifest_format(&m);
	b = kiln_manifest_format(&m);
	assert_string_equal(a, b);
	assert_int_equal(a[strlen(a) - 1], '\n');
	kiln_ctx_init(&ctx);
	j = kiln_manifest_parse(&ctx, "m.json", a, strlen(a));
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "built")), "2023-11-14T22:13:20Z");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "kernel"), "release")),
			    "6.1.0-kilntest");
	assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(j, "kernel"), "modules"), 1)),
			    "virtio_net");
	/* accepted_older_than only where an older index was accepted */
	assert_null(json_object_get(json_array_get(json_object_get(j, "sources"), 0), "accepted_older_than"));
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "sources"), 1),
							      "accepted_older_than")), "2024-03-09T16:00:00Z");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "files"), "count")), 67);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "files"), "name")), "files.tsv");
	u = json_array_get(json_object_get(j, "security_updates"), 0);
	assert_true(json_is_null(json_object_get(u, "previous")));
	assert_string_equal(json_string_value(json_object_get(u, "classification")), "security");
	assert_string_equal(json_string_value(json_array_get(json_object_get(u, "cves"), 0)), "CVE-2026-1");
	assert_true(json_is_true(json_object_get(u, "changelog")));
	assert_true(json_is_null(json_object_get(j, "previous_manifest")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(j, "image"), "state"),
							      "storage")), "memory");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(json_object_get(j, "image"),
											     "exec_start_pre"), 0), "when")),
			    "first-boot");
	/* read back into the struct, it writes the very same bytes */
	{
		struct kiln_manifest back;

		kiln_manifest_read(j, &back);
		assert_int_equal(back.n_updates, 1);
		assert_true(back.updates[0].security);
		assert_null(back.updates[0].previous);
		assert_int_equal(back.sources[1].accepted_older_than, 1710000000);
		free(b);
		b = kiln_manifest_format(&back);
		assert_string_equal(a, b);
		kiln_manifest_release(&back);
		assert_null(back.owned);
	}
	json_decref(j);
	free(b);

	/* a chained version names its predecessor; no state path is null */
	m.previous_version = "2026.10.0";
	m.previous_sha256 = "12";
	m.image.state = NULL;
	b = kiln_manifest_format(&m);
	assert_string_not_equal(a, b);
	j = kiln_manifest_parse(&ctx, "m.json", b, strlen(b));
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "previous_manifest"), "version")),
			    "2026.10.0");
	assert_true(json_is_null(json_object_get(json_object_get(j, "image"), "state")));
	{
		struct kiln_manifest back;
		char *c;

		kiln_manifest_read(j, &back);
		assert_string_equal(back.previous_version, "2026.10.0");
		c = kiln_manifest_format(&back);
		assert_string_equal(b, c);
		free(c);
		kiln_manifest_release(&back);
	}
	json_decref(j);
	free(a);
	free(b);
	kiln_strv_release(&upd[0].cves);
	kiln_strv_release(&upd[0].fixed_cves);
	kiln_strv_release(&argv);
	kiln_strv_release(&env);
	kiln_strv_release(&init);
}

/* Package URLs as scanners match them: the epoch's ':' and a name's '+' percent-encoded, '~' kept. */
static void
test_purl(void **state)
{
	static const char *const cases[][4] = {
		{ "redis-server", "5:7.0.15-1~deb12u10", "amd64", "pkg:deb/debian/redis-server@5%3A7.0.15-1~deb12u10?arch=amd64" },
		{ "libstdc++6", "12.2.0-14+deb12u1", "amd64", "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14%2Bdeb12u1?arch=amd64" },
		{ "adduser", "3.134", "all", "pkg:deb/debian/adduser@3.134?arch=all" },
		{ "x", "1.0", NULL, "pkg:deb/debian/x@1.0?arch=amd64" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = kiln_purl(cases[i][0], cases[i][1], cases[i][2]);

		assert_string_equal(p, cases[i][3]);
		free(p);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_purl),
		cmocka_unit_test(test_changelog),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_manifest_shape),
		cmocka_unit_test(test_manifest_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
