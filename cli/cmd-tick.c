/* cmd-tick.c - kiln tick: move the lifecycle clock: transitions, forced upgrades, auto-updates, notices. */
#define _GNU_SOURCE
#include "catalog.h"
#include "cli.h"

#include <getopt.h>
#include <signal.h>

static const struct kiln_opt tick_opts[] = {
	{ "json", NULL, 'j', "the counts as one JSON document" },
	KILN_OPT_STORE,
	KILN_OPT_NOW,
	KILN_OPT_HELP,
	{ 0 },
};

int
cmd_tick(int argc, char **argv)
{
	struct kiln_cli_common co = { 0 };
	_cleanup_(kiln_catalog_closep) struct kiln_catalog *cat = NULL;
	struct kiln_ctx ctx;
	json_t *sum = NULL;
	int rc;

	if (kiln_cli_getopt(argc, argv, tick_opts, "tick", "tick", &co, &rc) != -1)
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

/* kiln help tick: the usage and what it does; the options print from their tables above */
const struct kiln_cmd kiln_cmd_tick = {
	.name = "tick",
	.fn = cmd_tick,
	.summary = "move the lifecycle clock: transitions, forced upgrades, notices",
	.usage = "usage: kiln tick [--json] [--store DIR] [--now DATE]\n"
		 "\n"
		 "Records state transitions as events, moves deployments on expired versions\n"
		 "to the newest active version (auto_update on), moves auto_update deployments\n"
		 "to the newest active version, emits each notice (notice_days before disable\n"
		 "and expiry) once per deployment. One transaction; idempotent.\n",
	.opts = { tick_opts },
};
