/* cmd-policy.c - kiln policy show|set|trust: lifecycle policy per family, trusted signing keys. */
#define _GNU_SOURCE
#include "catalog.h"
#include "cli.h"
#include "recipe.h"

#include <getopt.h>
#include <string.h>

static const struct kiln_opt policy_opts[] = {
	{ "family", "F", 'f', "set: this family's policy" },
	{ "json", NULL, 'j', "show: one JSON document" },
	KILN_OPT_STORE,
	KILN_OPT_HELP,
	{ 0 },
};

static int
set_field(struct kiln_policy *p, const char *kv)
{
	static const struct { const char *name; size_t off; } f[] = {
		{ "keep", offsetof(struct kiln_policy, keep) },
		{ "disable_after_days", offsetof(struct kiln_policy, disable_after_days) },
		{ "expire_after_days", offsetof(struct kiln_policy, expire_after_days) },
		{ "notice_days", offsetof(struct kiln_policy, notice_days) },
		{ "health_timeout_s", offsetof(struct kiln_policy, health_timeout_s) },
	};
	const char *eq = strchr(kv, '=');
	char *end;
	long v;

	if (!eq)
		return -1;
	v = strtol(eq + 1, &end, 10);
	if (*end || eq[1] == '\0' || v < 0 || v > 3650 || (!strncmp(kv, "health_timeout_s=", 17) && v < 1))
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(f); i++)
		if (strlen(f[i].name) == (size_t)(eq - kv) && strncmp(kv, f[i].name, eq - kv) == 0) {
			*(int *)((char *)p + f[i].off) = (int)v;
			return 0;
		}
	return -1;
}

int
cmd_policy(int argc, char **argv)
{
	struct kiln_cli_common co = { 0 };
	_cleanup_(kiln_catalog_closep) struct kiln_catalog *cat = NULL;
	const char *family = NULL, *sub;
	struct kiln_ctx ctx;
	struct kiln_policy p;
	int c, rc;

	if (argc < 2)
		return kiln_cli_usage_error("policy", "expected show, set or trust");
	sub = argv[1];
	argc--;
	argv++;
	while ((c = kiln_cli_getopt(argc, argv, policy_opts, "policy", "policy", &co, &rc)) != -1) {
		switch (c) {
		case 'f': family = optarg; break;
		default:
			return rc;
		}
	}
	if (strcmp(sub, "show") && strcmp(sub, "set") && strcmp(sub, "trust"))
		return kiln_cli_usage_error("policy", "unknown subcommand '%s' (show, set, trust)", sub);
	if (!strcmp(sub, "set") && (optind == argc || (family && strcmp(family, "*") && !kiln_family_name_valid(family))))
		return kiln_cli_usage_error("policy set", "expected KEY=VALUE... (keep, disable_after_days, expire_after_days, notice_days, health_timeout_s)");
	if (!strcmp(sub, "trust") && optind != argc - 1)
		return kiln_cli_usage_error("policy trust", "expected one KEY.pub");
	if ((rc = kiln_cli_setup("policy", &co, &ctx)) != 0 || (rc = kiln_cli_catalog("policy", &ctx, &cat)) != 0)
		return rc;
	if (!strcmp(sub, "show")) {
		json_t *all = kiln_catalog_policies(&ctx, cat), *x;
		size_t i;

		if (co.json) {
			kiln_cli_print_json(all);
		} else {
			printf("%-16s %5s %19s %18s %12s %17s\n", "FAMILY", "KEEP", "DISABLE_AFTER_DAYS", "EXPIRE_AFTER_DAYS",
			       "NOTICE_DAYS", "HEALTH_TIMEOUT_S");
			json_array_foreach(all, i, x)
				printf("%-16s %5lld %19lld %18lld %12lld %17lld\n", json_string_value(json_object_get(x, "family")),
				       (long long)json_integer_value(json_object_get(x, "keep")),
				       (long long)json_integer_value(json_object_get(x, "disable_after_days")),
				       (long long)json_integer_value(json_object_get(x, "expire_after_days")),
				       (long long)json_integer_value(json_object_get(x, "notice_days")),
				       (long long)json_integer_value(json_object_get(x, "health_timeout_s")));
		}
		json_decref(all);
		return 0;
	}
	if (kiln_catalog_begin(&ctx, cat) < 0)
		return kiln_cli_fail("policy", &ctx);
	if (!strcmp(sub, "set")) {
		rc = kiln_catalog_policy(&ctx, cat, family ? family : "*", &p);
		for (int i = optind; rc == 0 && i < argc; i++)
			if (set_field(&p, argv[i]) < 0) {
				kiln_catalog_rollback(cat);
				return kiln_cli_usage_error("policy set", "bad setting '%s': keep, disable_after_days, expire_after_days, notice_days = 0..3650, health_timeout_s = 1..3650", argv[i]);
			}
		if (rc == 0)
			rc = kiln_catalog_policy_set(&ctx, cat, family ? family : "*", &p);
	} else {
		_cleanup_free_ char *pem = NULL;
		size_t len;
		char fpr[65];

		rc = kiln_read_file(&ctx, argv[optind], 65536, &pem, &len);
		/* only a key OpenSSL reads as an Ed25519 public key is trusted */
		if (rc == 0 && kiln_verify_pem(&ctx, pem, "", 0, "AAAA", 4, argv[optind]) < 0 && ctx.code == KILN_EXIT_USAGE)
			rc = -1;
		else
			kiln_error_clear(&ctx);
		if (rc == 0 && (rc = kiln_catalog_trust(&ctx, cat, pem, fpr)) == 0)
			printf("trusted %s (fingerprint %s)\n", argv[optind], fpr);
	}
	if (rc < 0 || kiln_catalog_commit(&ctx, cat) < 0) {
		kiln_catalog_rollback(cat);
		return kiln_cli_fail("policy", &ctx);
	}
	return 0;
}

/* kiln help policy: the usage and what it does; the options print from their tables above */
const struct kiln_cmd kiln_cmd_policy = {
	.name = "policy",
	.fn = cmd_policy,
	.summary = "show or set lifecycle policy; trust signing keys",
	.forms = (const struct kiln_form[]){
		{ "show", "", "json store" },
		{ "set", "KEY=VALUE...", "family store" },
		{ "trust", "KEY.pub", "store" },
		{ 0 },
	},
	.usage = "Keys: keep (2), disable_after_days (60), expire_after_days (30), notice_days (30),\n"
		 "health_timeout_s (180: how long a started guest has to become healthy, unless\n"
		 "its deployment says --health-timeout);\n"
		 "without --family the default for every family is set.\n",
	.opts = { policy_opts },
};
