/* test-index.c - control data, Release files, apt sources, dates and armor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "aptsources.h"
#include "deb822.h"
#include "pgp.h"
#include "release.h"

static void
test_deb822(void **state)
{
	static const char text[] = "A: 1\nB-Long:  two words  \n continued\n .\n end\n\n# comment\nC: 3\n";
	struct kiln_deb822 d;
	struct kiln_ctx ctx;

	(void)state;
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_deb822_parse(&ctx, "x", text, strlen(text), &d), 0);
	assert_int_equal(d.n_paras, 2);
	assert_string_equal(kiln_deb822_get(&d.paras[0], "b-long")->value, "two words\ncontinued\n\nend");
	assert_int_equal(kiln_deb822_get(&d.paras[1], "C")->line, 8);
	assert_null(kiln_deb822_get(&d.paras[1], "A"));
	kiln_deb822_release(&d);

	assert_int_equal(kiln_deb822_parse(&ctx, "x", " leading\n", 9, &d), -1);
	assert_string_equal(ctx.msg, "x:1: continuation line without a field");
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_deb822_parse(&ctx, "x", "A: 1\nnocolon\n", 13, &d), -1);
	assert_string_equal(ctx.msg, "x:2: expected 'Field: value'");
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_deb822_parse(&ctx, "x", "A: 1\0\n", 6, &d), -1);
}

static const char release_text[] =
	"Origin: Debian\nLabel: Debian-Security\nSuite: stable-security\nCodename: bookworm-security\n"
	"Date: Sat, 17 May 2025 08:33:43 UTC\nValid-Until: Sat, 24 May 2025 08:33:43 UTC\n"
	"Acquire-By-Hash: yes\nArchitectures: amd64 arm64\nComponents: main\n"
	"MD5Sum:\n 0123 12 main/binary-amd64/Packages\n"
	"SHA256:\n"
	" 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 1234 main/binary-amd64/Packages.xz\n"
	" 60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752 99 main/binary-amd64/Packages\n";

static void
test_release(void **state)
{
	struct kiln_release r;
	struct kiln_ctx ctx;
	const struct kiln_release_file *f;
	char when[21];

	(void)state;
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_release_parse(&ctx, "R", release_text, strlen(release_text), &r), 0);
	assert_string_equal(r.label, "Debian-Security");
	assert_string_equal(r.codename, "bookworm-security");
	assert_true(r.acquire_by_hash);
	assert_true(r.has_valid_until);
	kiln_format_iso8601(r.date, when);
	assert_string_equal(when, "2025-05-17T08:33:43Z");
	assert_int_equal(r.valid_until - r.date, 7 * 86400);
	assert_int_equal(r.n_files, 2);
	f = kiln_release_find(&r, "main/binary-amd64/Packages.xz");
	assert_non_null(f);
	assert_int_equal(f->size, 1234);
	assert_string_equal(f->sha256, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
	assert_null(kiln_release_find(&r, "main/binary-arm64/Packages.xz"));
	kiln_release_release(&r);
}

static void
release_error(const char *text, const char *msg)
{
	struct kiln_release r;
	struct kiln_ctx ctx;

	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_release_parse(&ctx, "R", text, strlen(text), &r), -1);
	if (!strstr(ctx.msg, msg))
		print_error("wanted '%s', got '%s'\n", msg, ctx.msg);
	assert_non_null(strstr(ctx.msg, msg));
}

static void
test_release_errors(void **state)
{
	(void)state;
	release_error("Suite: x\nSHA256:\n", "R: no Date field");
	release_error("Date: yesterday\nSHA256:\n", "R:1: bad Date 'yesterday'");
	release_error("Date: Sat, 17 May 2025 08:33:43 UTC\n", "R: no SHA256 field");
	release_error("Date: Sat, 17 May 2025 08:33:43 UTC\nValid-Until: never\nSHA256:\n", "R:2: bad Valid-Until");
	release_error("Date: Sat, 17 May 2025 08:33:43 UTC\nSHA256:\n xyz 12 main/Packages\n", "R:3: bad SHA256 entry");
	release_error("Date: Sat, 17 May 2025 08:33:43 UTC\nSHA256:\n"
		      " 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 1 ../../etc/passwd\n",
		      "R:3: bad SHA256 entry");
	release_error("A: 1\n\nB: 2\n", "R: expected one paragraph, found 2");
}

static void
test_dates(void **state)
{
	time_t t;
	char s[21];

	(void)state;
	assert_int_equal(kiln_parse_iso8601("2026-11-23", &t), 0);
	kiln_format_iso8601(t, s);
	assert_string_equal(s, "2026-11-23T00:00:00Z");
	assert_int_equal(kiln_parse_iso8601("2024-02-29T23:59:59Z", &t), 0);
	assert_int_equal(kiln_parse_iso8601("2023-02-29", &t), -1);
	assert_int_equal(kiln_parse_iso8601("2026-13-01", &t), -1);
	assert_int_equal(kiln_parse_iso8601("2026-11-23x", &t), -1);
	assert_int_equal(kiln_parse_iso8601("", &t), -1);
	assert_int_equal(kiln_parse_rfc2822("Sat, 17 May 2025 08:33:43 UTC", &t), 0);
	assert_int_equal(kiln_parse_rfc2822("17 May 2025 08:33:43 +0000", &t), 0);
	assert_int_equal(kiln_parse_rfc2822("Sat, 17 Mai 2025 08:33:43 UTC", &t), -1);
	assert_int_equal(kiln_parse_rfc2822("Sat, 17 May 2025 08:33:43 CEST", &t), -1);
	assert_int_equal(kiln_parse_rfc2822("Sat, 17 ayM 2025 08:33:43 UTC", &t), -1);
}

static void
test_sources_deb822(void **state)
{
	static const char text[] =
		"Types: deb deb-src\nURIs: http://a.example/debian/ http://b.example/debian\n"
		"Suites: bookworm bookworm-updates\nComponents: main contrib\n"
		"Signed-By: /usr/share/keyrings/k.gpg\n\n"
		"Types: deb\nURIs: http://c.example/sec\nSuites: bookworm-security\nComponents: main\nEnabled: no\n\n"
		"Types: deb-src\nURIs: http://d.example\nSuites: x\n\n"
		"Types: deb\nURIs: http://e.example\nSuites: e\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n abc\n -----END PGP PUBLIC KEY BLOCK-----\n";
	struct kiln_apt_sources s = { 0 };
	struct kiln_ctx ctx;

	(void)state;
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_apt_sources_parse_deb822(&ctx, "/root", "f.sources", text, strlen(text), &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.entries[0].uri, "http://a.example/debian");
	assert_string_equal(s.entries[1].uri, "http://b.example/debian");
	assert_int_equal(s.entries[1].suites.n, 2);
	assert_int_equal(s.entries[1].components.n, 2);
	assert_string_equal(s.entries[0].keyrings.v[0], "/root/usr/share/keyrings/k.gpg");
	assert_string_equal(s.entries[2].uri, "http://e.example");
	assert_non_null(s.entries[2].inline_key);
	assert_non_null(strstr(s.entries[2].inline_key, "\n\nabc\n"));
	kiln_apt_sources_release(&s);

	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_apt_sources_parse_deb822(&ctx, "/", "g.sources", "Types: deb\nURIs: http://x\n", 26, &s), -1);
	assert_string_equal(ctx.msg, "g.sources:1: entry lacks Types, URIs or Suites");
	kiln_apt_sources_release(&s);
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_apt_sources_parse_deb822(&ctx, "/", "h.sources",
		"Types: deb\nURIs: http://x\nSuites: s\nSigned-By: 0123456789ABCDEF\n", 63, &s), -1);
	assert_non_null(strstr(ctx.msg, "key fingerprints are not supported"));
	kiln_apt_sources_release(&s);
}

static void
test_sources_list(void **state)
{
	static const char text[] =
		"# comment\n\n"
		"deb http://a.example/debian bookworm main contrib # trailing\n"
		"deb-src http://a.example/debian bookworm main\n"
		"deb [arch=amd64 signed-by=/k1.gpg,/k2.asc] https://b.example/x/ stable main\n";
	struct kiln_apt_sources s = { 0 };
	struct kiln_ctx ctx;

	(void)state;
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_apt_sources_parse_list(&ctx, "/", "s.list", text, strlen(text), &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.entries[0].suites.v[0], "bookworm");
	assert_int_equal(s.entries[0].components.n, 2);
	assert_int_equal(s.entries[0].line, 3);
	assert_string_equal(s.entries[1].uri, "https://b.example/x");
	assert_int_equal(s.entries[1].keyrings.n, 2);
	assert_string_equal(s.entries[1].keyrings.v[1], "/k2.asc");
	kiln_apt_sources_release(&s);

	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_apt_sources_parse_list(&ctx, "/", "t.list", "deb http://x\n", 13, &s), -1);
	assert_string_equal(ctx.msg, "t.list:1: expected 'deb URI SUITE [COMPONENT...]'");
	kiln_apt_sources_release(&s);
	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_apt_sources_parse_list(&ctx, "/", "u.list", "rpm http://x s\n", 15, &s), -1);
	assert_string_equal(ctx.msg, "u.list:1: unknown type 'rpm'");
	kiln_apt_sources_release(&s);
}

static void
test_dearmor(void **state)
{
	static const char armored[] =
		"-----BEGIN PGP PUBLIC KEY BLOCK-----\nComment: x\n\naGVsbG8g\nd29ybGQ=\n=abcd\n"
		"-----END PGP PUBLIC KEY BLOCK-----\n"
		"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nIQ==\n-----END PGP PUBLIC KEY BLOCK-----\n";
	unsigned char *bin;
	size_t len;

	(void)state;
	assert_int_equal(kiln_pgp_dearmor(armored, strlen(armored), &bin, &len), 0);
	assert_int_equal(len, 12);
	assert_memory_equal(bin, "hello world!", 12);
	free(bin);
	assert_int_equal(kiln_pgp_dearmor("nothing here", 12, &bin, &len), -1);
	assert_int_equal(kiln_pgp_dearmor("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!\n-----END PGP PUBLIC KEY BLOCK-----\n",
					  78, &bin, &len), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deb822),
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_release_errors),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_sources_deb822),
		cmocka_unit_test(test_sources_list),
		cmocka_unit_test(test_dearmor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
