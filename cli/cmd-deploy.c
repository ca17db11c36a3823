/* cmd-deploy.c - kiln deploy create|update|list: deployments, under the lifecycle's rules. */
#define _GNU_SOURCE
#include "catalog.h"
#include "render.h"
#include "cli.h"

#include <getopt.h>
#include <string.h>

static const struct kiln_opt deploy_opts[] = {
	{ "tenant", "T", 't', "the tenant (default: default)" },
	{ "family", "F", 'f', "create: the image family" },
	{ "version", "V", 'v', "the version to run" },
	{ "auto", NULL, 'a', "follow the newest active version at each tick" },
	{ "pin", NULL, 'p', "stay on the version (default for create)" },
	{ "config", "K=V", 'c', "update: set one configuration key" },
	{ "json", NULL, 'j', "one JSON document" },
	KILN_OPT_STORE,
	KILN_OPT_NOW,
	KILN_OPT_HELP,
	{ 0 },
};

static void
print_deployments(const struct kiln_deployment *d, size_t n)
{
	printf("%-12s %-16s %-12s %-12s %-5s %s\n", "TENANT", "NAME", "FAMILY", "VERSION", "AUTO", "CONFIG");
	for (size_t i = 0; i < n; i++)
		printf("%-12s %-16s %-12s %-12s %-5s %s\n", d[i].tenant, d[i].name, d[i].family, d[i].version,
		       d[i].auto_update ? "yes" : "no", d[i].config);
}

/* The deployments as --json or as the table. */
static void
show_deployments(const struct kiln_deployment *d, size_t n, int json)
{
	if (json) {
		json_t *j = kiln_deployments_json(d, n);

		kiln_cli_print_json(j);
		json_decref(j);
	} else {
		print_deployments(d, n);
	}
}

int
cmd_deploy(int argc, char **argv)
{
	struct kiln_cli_common co = { 0 };
	struct kiln_deploy_req r = { .tenant = "default", .auto_update = -1 };
	_cleanup_(kiln_catalog_closep) struct kiln_catalog *cat = NULL;
	_cleanup_free_ char *key = NULL;
	const char *sub, *tenant = NULL;
	struct kiln_ctx ctx;
	struct kiln_deployment one = { 0 };
	int c, rc;

	if (argc < 2 || (strcmp(argv[1], "create") && strcmp(argv[1], "update") && strcmp(argv[1], "list")))
		return kiln_cli_usage_error("deploy", "expected create, update or list");
	sub = argv[1];
	argc--;
	argv++;
	while ((c = kiln_cli_getopt(argc, argv, deploy_opts, "deploy", "deploy", &co, &rc)) != -1) {
		switch (c) {
		case 't': tenant = optarg; break;
		case 'f': r.family = optarg; break;
		case 'v': r.version = optarg; break;
		case 'a': r.auto_update = 1; break;
		case 'p': r.auto_update = 0; break;
		case 'c':
			if (!strchr(optarg, '=') || optarg[0] == '=')
				return kiln_cli_usage_error("deploy", "bad --config '%s': use KEY=VALUE", optarg);
			free(key);
			key = kiln_strndup(optarg, strchr(optarg, '=') - optarg);
			r.config_key = key;
			r.config_value = strchr(optarg, '=') + 1;
			break;
		default:
			return rc;
		}
	}
	if (tenant)
		r.tenant = tenant;
	if (strcmp(sub, "list") && optind != argc - 1)
		return kiln_cli_usage_error("deploy", "expected one deployment NAME");
	if (!strcmp(sub, "create") && !r.family)
		return kiln_cli_usage_error("deploy create", "expected --family F");
	if (!strcmp(sub, "create") && r.version && r.auto_update > 0)
		return kiln_cli_usage_error("deploy create", "--version and --auto exclude each other");
	if (!strcmp(sub, "update") && !r.version && !r.config_key && r.auto_update < 0)
		return kiln_cli_usage_error("deploy update", "expected --config KEY=VALUE, --version V, --auto or --pin");
	if ((rc = kiln_cli_setup("deploy", &co, &ctx)) != 0 || (rc = kiln_cli_catalog("deploy", &ctx, &cat)) != 0)
		return rc;
	if (!strcmp(sub, "list")) {
		struct kiln_deployment *list = NULL;
		size_t n = 0;

		if (kiln_catalog_deployments(&ctx, cat, tenant, &list, &n) < 0)
			return kiln_cli_fail("deploy list", &ctx);
		show_deployments(list, n, co.json);
		kiln_deployments_free(list, n);
		free(list);
		return 0;
	}
	r.name = argv[optind];
	if (kiln_catalog_begin(&ctx, cat) < 0)
		return kiln_cli_fail("deploy", &ctx);
	rc = !strcmp(sub, "create") ? kiln_catalog_deploy_create(&ctx, cat, &r, ctx.set->now, &one)
				    : kiln_catalog_deploy_update(&ctx, cat, &r, ctx.set->now, &one);
	if (rc < 0 || kiln_catalog_commit(&ctx, cat) < 0) {
		kiln_catalog_rollback(cat);
		return kiln_cli_fail(!strcmp(sub, "create") ? "deploy create" : "deploy update", &ctx);
	}
	if (co.json) {
		json_t *j = kiln_deployment_json(&one);

		kiln_cli_print_json(j);
		json_decref(j);
	} else {
		print_deployments(&one, 1);
	}
	kiln_deployments_free(&one, 1);
	return 0;
}

/* kiln help deploy: the usage and what it does; the options print from their tables above */
const struct kiln_cmd kiln_cmd_deploy = {
	.name = "deploy",
	.fn = cmd_deploy,
	.summary = "create, update or list deployments",
	.forms = (const struct kiln_form[]){
		{ "create", "NAME", "tenant !family version|auto pin json store now" },
		{ "update", "NAME", "tenant config version auto|pin json store now" },
		{ "list", "", "tenant json store now" },
		{ 0 },
	},
	.usage = "The lifecycle's rules: a deployment is created on, and moves to, active\n"
		 "versions only; a deployment on a disabled version keeps running but may not\n"
		 "change unless it also moves to an active version. Refusals are exit 3 and\n"
		 "name the supported versions. Without --version, the newest active version.\n",
	.opts = { deploy_opts },
};
