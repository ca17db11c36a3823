/* cmd-versions.c - kiln versions: supported versions, their state and every date the lifecycle gives. */
#define _GNU_SOURCE
#include "catalog.h"
#include "cli.h"

#include <getopt.h>

static const char *
s_or(json_t *o, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : def;
}

int
cmd_versions(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "family", required_argument, NULL, 'f' },
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "store", required_argument, NULL, 's' },
		{ "now", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct kiln_cli_common co = { 0 };
	_cleanup_(kiln_catalog_closep) struct kiln_catalog *cat = NULL;
	const char *family = NULL;
	struct kiln_ctx ctx;
	int c, rc, all = 0;
	json_t *vs, *v;
	size_t i;

	while ((c = kiln_cli_getopt(argc, argv, opts, "versions", "versions", &co, &rc)) != -1) {
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
	vs = kiln_catalog_versions(&ctx, cat, family, all, ctx.now);
	if (!vs)
		return kiln_cli_fail("versions", &ctx);
	if (co.json) {
		kiln_cli_print_json(vs);
	} else {
		printf("%-16s %-12s %-9s %-11s %-24s %-11s %s\n", "FAMILY", "VERSION", "STATE", "RELEASED", "DISABLES ON",
		       "EXPIRES ON", "SECURITY UPDATES");
		json_array_foreach(vs, i, v)
			printf("%-16s %-12s %-9s %-11s %-24s %-11s %lld\n", s_or(v, "family", ""), s_or(v, "version", ""),
			       s_or(v, "state", ""), s_or(v, "released", "-"),
			       s_or(v, "disables_on", s_or(v, "disable_forecast", "-")), s_or(v, "expires_on", "-"),
			       (long long)json_integer_value(json_object_get(v, "security_updates")));
	}
	json_decref(vs);
	return 0;
}
