/* cmd-tick.c - kiln tick: move the lifecycle clock: transitions, forced upgrades, auto-updates, notices. */
#define _GNU_SOURCE
#include "catalog.h"
#include "cli.h"

#include <getopt.h>
#include <signal.h>

int
cmd_tick(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "store", required_argument, NULL, 's' },
		{ "now", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct kiln_cli_common co = { 0 };
	_cleanup_(kiln_catalog_closep) struct kiln_catalog *cat = NULL;
	struct kiln_ctx ctx;
	json_t *sum = NULL;
	int rc;

	if (kiln_cli_getopt(argc, argv, opts, "tick", "tick", &co, &rc) != -1)
		return rc;
	if (optind != argc)
		return kiln_cli_usage_error("tick", "unexpected argument '%s'", argv[optind]);
	if ((rc = kiln_cli_setup("tick", &co, &ctx)) != 0 || (rc = kiln_cli_catalog("tick", &ctx, &cat)) != 0)
		return rc;
	/* one transaction: a tick killed midway leaves the catalog as it was */
	if (kiln_catalog_begin(&ctx, cat) < 0 || kiln_catalog_tick(&ctx, cat, ctx.now, &sum) < 0 ||
	    (getenv("KILN_TEST_KILL_IN_TICK") && (raise(SIGKILL), 0)) || kiln_catalog_commit(&ctx, cat) < 0) {
		kiln_catalog_rollback(cat);
		json_decref(sum);
		return kiln_cli_fail("tick", &ctx);
	}
	if (co.json)
		kiln_cli_print_json(sum);
	else
		printf("tick %s: %lld transitions, %lld forced upgrades, %lld automatic updates, %lld notices\n",
		       json_string_value(json_object_get(sum, "now")),
		       (long long)json_integer_value(json_object_get(sum, "transitions")),
		       (long long)json_integer_value(json_object_get(sum, "forced_upgrades")),
		       (long long)json_integer_value(json_object_get(sum, "auto_updates")),
		       (long long)json_integer_value(json_object_get(sum, "notices")));
	json_decref(sum);
	return 0;
}
