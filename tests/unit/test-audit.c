/* test-audit.c - kiln audit's policy: parsing (errors name file:line) and each rule's findings, nothing else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy.h"

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1::/:/usr/sbin/nologin\n"
			     "redis:x:999:999::/var/lib/redis:/usr/sbin/nologin\n";
static const char group[] = "root:x:0:\ndaemon:x:1:\nshadow:x:42:\nredis:x:999:\n";
static const char shadow[] = "root:*:19000:0:99999:7:::\ndaemon:*:19000::::::\nredis:!:19000::::::\n";

/* A clean image, as the default policy wants it. */
static const struct kiln_audit_file clean[] = {
	{ "/etc/passwd", 'f', 0644, 0, 0 },
	{ "/etc/group", 'f', 0644, 0, 0 },
	{ "/etc/shadow", 'f', 0640, 0, 42 },
	{ "/etc/gshadow", 'f', 0640, 0, 42 },
	{ "/tmp", 'd', 01777, 0, 0 },
	{ "/dev/null", 'c', 0666, 0, 0 },	/* a device node's mode is its interface */
	{ "/srv/drop", 'd', 01777, 0, 0 },	/* world-writable with the sticky bit: fine anywhere */
	{ "/tmp/x", 'f', 0666, 999, 999 },
	{ "/usr/bin/passwd", 'f', 04755, 0, 0 },
	{ "/usr/bin/redis-server", 'f', 0755, 0, 0 },
	{ "/usr/lib/x", 'l', 0777, 0, 0 },
	{ "/var/lib/redis", 'd', 0750, 999, 999 },
};

static struct kiln_audit_policy
load_default(void)
{
	struct kiln_audit_policy p;
	struct kiln_ctx ctx;
	char *data = NULL;
	size_t len = 0;

	kiln_ctx_init(&ctx);
	assert_int_equal(kiln_read_file(&ctx, "audit/default.policy", KILN_AUDIT_POLICY_MAX, &data, &len), 0);
	if (kiln_audit_policy_parse(&ctx, "audit/default.policy", data, len, &p) < 0)
		fail_msg("%s", ctx.msg);
	free(data);
	return p;
}

static void
test_clean(void **state)
{
	struct kiln_audit_policy p = load_default();
	struct kiln_finding *f = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(p.n_paths, 4);
	kiln_audit_evaluate(&p, clean, ARRAY_SIZE(clean), passwd, group, shadow, &f, &n);
	for (size_t i = 0; i < n; i++)
		print_error("unexpected: %s %s\n", f[i].rule, f[i].path);
	assert_int_equal(n, 0);
	free(f);
	kiln_audit_policy_release(&p);
}

/* Finds exactly one finding of @rule on @path among (f, n), with @actual. */
static void
expect_one(const struct kiln_finding *f, size_t n, const char *rule, const char *path, const char *actual)
{
	int found = 0;

	for (size_t i = 0; i < n; i++)
		if (!strcmp(f[i].rule, rule) && !strcmp(f[i].path, path)) {
			found++;
			if (actual)
				assert_string_equal(f[i].actual, actual);
		}
	if (found != 1)
		fail_msg("%d findings %s on %s", found, rule, path);
}

static void
test_findings(void **state)
{
	struct kiln_audit_policy p = load_default();
	struct kiln_audit_file bad[ARRAY_SIZE(clean) + 3];
	struct kiln_finding *f = NULL;
	size_t n = 0;
	const char bad_passwd[] = "root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/:/bin/sh\nredis:x:999:999::/:/bin/false\n";
	const char bad_shadow[] = "root:*:1::::::\ntoor::1::::::\nredis:!:1::::::\n";

	(void)state;
	memcpy(bad, clean, sizeof(clean));
	bad[0].mode = 0666;			/* /etc/passwd: mode and world-writable */
	bad[2].mode = 0644;			/* /etc/shadow world-readable */
	bad[1].uid = 999;			/* /etc/group owned by redis */
	bad[ARRAY_SIZE(clean)] = (struct kiln_audit_file){ "/usr/local/bin/sh", 'f', 04755, 0, 0 };
	bad[ARRAY_SIZE(clean) + 1] = (struct kiln_audit_file){ "/srv/data", 'f', 0644, 1234, 999 };
	bad[ARRAY_SIZE(clean) + 2] = (struct kiln_audit_file){ "/srv/share", 'd', 0777, 0, 0 };
	kiln_audit_evaluate(&p, bad, ARRAY_SIZE(bad), bad_passwd, group, bad_shadow, &f, &n);
	expect_one(f, n, "mode", "/etc/passwd", "0666");
	expect_one(f, n, "world-writable", "/etc/passwd", "0666");
	expect_one(f, n, "mode", "/etc/shadow", "0644");
	expect_one(f, n, "owner", "/etc/group", "redis");
	expect_one(f, n, "setuid", "/usr/local/bin/sh", "4755");
	expect_one(f, n, "unowned", "/srv/data", "uid 1234, gid 999");
	expect_one(f, n, "world-writable", "/srv/share", "0777");
	expect_one(f, n, "empty-password", "toor", "empty");
	expect_one(f, n, "uid0", "toor", "uid 0");
	assert_int_equal(n, 9);	/* nothing else */
	kiln_findings_free(f, n);
	free(f);

	/* a file the policy names that is not there; a policy that allows what the default denies */
	f = NULL;
	n = 0;
	kiln_audit_evaluate(&p, clean + 1, ARRAY_SIZE(clean) - 1, passwd, group, shadow, &f, &n);
	expect_one(f, n, "missing", "/etc/passwd", "absent");
	assert_int_equal(n, 1);
	kiln_findings_free(f, n);
	free(f);
	kiln_audit_policy_release(&p);
}

static void
test_parse_errors(void **state)
{
	static const struct { const char *text, *msg; } bad[] = {
		{ "[Paths]\n/etc/passwd=644\n", "p:2: '/etc/passwd': expected [max] MODE" },
		{ "[Paths]\netc/passwd=0644\n", "p:2: 'etc/passwd': a path is absolute" },
		{ "[Paths]\n/etc/../passwd=0644\n", "a path is absolute and normalized" },
		{ "[Paths]\n/etc/passwd=0644 root root extra\n", "expected [max] MODE" },
		{ "\n\n[Accounts]\nEmptyPasswords=sometimes\n", "p:4: EmptyPasswords=sometimes: deny or allow" },
		{ "[Setuid]\nAllow=usr/bin/su\n", "[Setuid] Allow: 'usr/bin/su' is not an absolute path" },
		{ "[Nope]\nX=1\n", "p:2: unknown key 'X' in [Nope]" },
		{ "[Paths\n", "p:1: syntax error" },
	};
	struct kiln_audit_policy p;
	struct kiln_ctx ctx;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		kiln_ctx_init(&ctx);
		assert_int_equal(kiln_audit_policy_parse(&ctx, "p", bad[i].text, strlen(bad[i].text), &p), -1);
		assert_int_equal(ctx.code, KILN_EXIT_USAGE);
		if (!strstr(ctx.msg, bad[i].msg))
			fail_msg("'%s': got '%s'", bad[i].text, ctx.msg);
	}
	/* allow turns a check off; max bounds the bits */
	kiln_ctx_init(&ctx);
	{
		const char *t = "[Paths]\n/etc/shadow=max 0600 - shadow\n[Accounts]\nExtraUid0=allow\nUnowned=allow\n";
		const struct kiln_audit_file files[] = { { "/etc/shadow", 'f', 0400, 0, 42 }, { "/x", 'f', 0600, 7, 7 } };
		struct kiln_finding *f = NULL;
		size_t n = 0;

		assert_int_equal(kiln_audit_policy_parse(&ctx, "p", t, strlen(t), &p), 0);
		kiln_audit_evaluate(&p, files, 2, "root:x:0:0::/:/bin/sh\nr2:x:0:0::/:/bin/sh\n", group, shadow, &f, &n);
		assert_int_equal(n, 0);
		free(f);
		kiln_audit_policy_release(&p);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_findings),
		cmocka_unit_test(test_parse_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
