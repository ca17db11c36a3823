/* cmd-tenant.c - kiln tenant token: a bearer token for the HTTP API (only its hash is kept). */
#define _GNU_SOURCE
#include "catalog.h"
#include "cli.h"

#include <getopt.h>
#include <string.h>

static const struct kiln_opt tenant_opts[] = {
	KILN_OPT_STORE,
	KILN_OPT_HELP,
	{ 0 },
};

int
cmd_tenant(int argc, char **argv)
{
	struct kiln_cli_common co = { 0 };
	_cleanup_(kiln_catalog_closep) struct kiln_catalog *cat = NULL;
	_cleanup_free_ char *token = NULL;
	struct kiln_ctx ctx;
	int rc;

	if (argc < 2 || strcmp(argv[1], "token"))
		return kiln_cli_usage_error("tenant", "expected token TENANT");
	argc--;
	argv++;
	if (kiln_cli_getopt(argc, argv, tenant_opts, "tenant", "tenant", &co, &rc) != -1)
		return rc;
	if (optind != argc - 1)
		return kiln_cli_usage_error("tenant token", "expected one TENANT");
	if ((rc = kiln_cli_setup("tenant", &co, &ctx)) != 0 || (rc = kiln_cli_catalog("tenant", &ctx, &cat)) != 0)
		return rc;
	if (kiln_catalog_begin(&ctx, cat) < 0 || kiln_catalog_token_new(&ctx, cat, argv[optind], &token) < 0 ||
	    kiln_catalog_commit(&ctx, cat) < 0) {
		kiln_catalog_rollback(cat);
		return kiln_cli_fail("tenant token", &ctx);
	}
	printf("%s\n", token);
	return 0;
}

/* kiln help tenant: the usage and what it does; the options print from their tables above */
const struct kiln_cmd kiln_cmd_tenant = {
	.name = "tenant",
	.fn = cmd_tenant,
	.summary = "create a bearer token for a tenant (HTTP API)",
	.forms = (const struct kiln_form[]){
		{ "token", "TENANT", "store" },
		{ 0 },
	},
	.usage = "Prints a new token; only its SHA-256 is stored.\n",
	.opts = { tenant_opts },
};
