/* cmd-versions.c - kiln versions: supported versions, their state and every date the lifecycle gives. */
#define _GNU_SOURCE
#include "catalog.h"
#include "render.h"
#include "cli.h"

#include <getopt.h>

static const struct kiln_opt versions_opts[] = {
	{ "family", "F", 'f', "one family" },
	{ "all", NULL, 'a', "disabled and expired versions too" },
	{ "json", NULL, 'j', "[{family, version, state, released, disables_on, expires_on,\n" "disable_forecast, security_updates, pending_security, pending_other,\n" "assessed}]" },
	KILN_OPT_STORE,
	KILN_OPT_NOW,
	KILN_OPT_HELP,
	{ 0 },
};

static const char *
s_or(json_t *o, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : def;
}

int
cmd_versions(int argc, char **argv)
{
	struct kiln_cli_common co = { 0 };
	_cleanup_(kiln_catalog_closep) struct kiln_catalog *cat = NULL;
	const char *family = NULL;
	struct kiln_ctx ctx;
	int c, rc, all = 0;
	struct kiln_version_info *vs = NULL;
	size_t n = 0;

	while ((c = kiln_cli_getopt(argc, argv, versions_opts, "versions", "versions", &co, &rc)) != -1) {
		switch (c) {
		case 'f': family = optarg; break;
		case 'a': all = 1; break;
		default:
			return rc;
		}
	}
	if (optind != argc)
		return kiln_cli_usage_error("versions", "unexpected argument '%s'", argv[optind]);
	if ((rc = kiln_cli_setup("versions", &co, &ctx)) != 0 || (rc = kiln_cli_catalog("versions", &ctx, &cat)) != 0)
		return rc;
	if (kiln_catalog_versions(&ctx, cat, family, all, ctx.set->now, &vs, &n) < 0)
		return kiln_cli_fail("versions", &ctx);
	if (co.json) {
		json_t *j = kiln_version_infos_json(vs, n);

		kiln_cli_print_json(j);
		json_decref(j);
	} else {
		printf("%-16s %-12s %-9s %-11s %-24s %-11s %-16s %s\n", "FAMILY", "VERSION", "STATE", "RELEASED", "DISABLES ON",
		       "EXPIRES ON", "SECURITY UPDATES", "PENDING (kiln assess)");
		for (size_t i = 0; i < n; i++) {
			/* the same words as the JSON: one renderer */
			json_t *v = kiln_version_info_json(&vs[i]);
			char pending[64] = "not assessed";

			if (json_is_integer(json_object_get(v, "pending_security")))
				snprintf(pending, sizeof(pending), "%lld security, %lld other (%.10s)",
					 (long long)json_integer_value(json_object_get(v, "pending_security")),
					 (long long)json_integer_value(json_object_get(v, "pending_other")), s_or(v, "assessed", ""));
			printf("%-16s %-12s %-9s %-11s %-24s %-11s %-16lld %s\n", s_or(v, "family", ""), s_or(v, "version", ""),
			       s_or(v, "state", ""), s_or(v, "released", "-"),
			       s_or(v, "disables_on", s_or(v, "disable_forecast", "-")), s_or(v, "expires_on", "-"),
			       (long long)json_integer_value(json_object_get(v, "security_updates")), pending);
			json_decref(v);
		}
	}
	kiln_version_infos_free(vs, n);
	free(vs);
	return 0;
}

/* kiln help versions: the usage and what it does; the options print from their tables above */
const struct kiln_cmd kiln_cmd_versions = {
	.name = "versions",
	.fn = cmd_versions,
	.summary = "supported versions, their state and lifecycle dates",
	.operands = "",
	.opts = { versions_opts },
};
