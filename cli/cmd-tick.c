/* cmd-tick.c - kiln tick: move the lifecycle clock: transitions, forced upgrades, auto-updates, notices. */
#define _GNU_SOURCE
#include "catalog.h"
#include "fleet.h"
#include "cli.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>

static const struct kiln_opt tick_opts[] = {
	{ "json", NULL, 'j', "the counts (with --dry-run, the plan) as one JSON document" },
	{ "dry-run", NULL, 'd', "print the plan, change nothing: per version, its state\n"
				 "change, the deployments that would move where, the notices due" },
	{ "parallel", "N", 'p', "deployments the executor works on at once (default 4)" },
	KILN_OPT_STORE,
	KILN_OPT_NOW,
	KILN_OPT_HELP,
	{ 0 },
};

/* --dry-run: the plan the tick would carry out, as it stands: the catalog's, then the guests'. */
static int
print_plan(struct kiln_ctx *ctx, struct kiln_catalog *cat, int json)
{
	json_t *plan = kiln_catalog_tick_plan(ctx, cat, ctx->set->now), *s, *n, *guests;
	struct kiln_fleet *f;
	size_t i, j;

	if (!plan)
		return kiln_cli_fail("tick", ctx);
	f = kiln_fleet_new(cat, ctx->set->store, NULL);
	guests = kiln_fleet_plan(ctx, f, ctx->set->now, plan);
	kiln_fleet_free(f);
	if (!guests) {
		json_decref(plan);
		return kiln_cli_fail("tick", ctx);
	}
	if (json) {
		json_t *both = json_pack("{s:o, s:o}", "versions", plan, "guests", guests);

		kiln_cli_print_json(both);
		json_decref(both);
		return 0;
	}
	json_array_foreach(plan, i, s) {
		json_t *t = json_object_get(s, "transition");

		printf("%s/%s", json_string_value(json_object_get(s, "family")), json_string_value(json_object_get(s, "version")));
		if (json_is_object(t))
			printf(": %s -> %s", json_string_value(json_object_get(t, "from")), json_string_value(json_object_get(t, "to")));
		if (json_is_string(json_object_get(s, "move")))
			printf("; %s of %lld deployments to %s", json_string_value(json_object_get(s, "move")),
			       (long long)json_integer_value(json_object_get(s, "deployments")),
			       json_string_value(json_object_get(s, "to")));
		json_array_foreach(json_object_get(s, "notices"), j, n)
			printf("; notice: %s on %s", json_string_value(json_object_get(n, "kind")),
			       json_string_value(json_object_get(n, "on")));
		putchar('\n');
	}
	json_array_foreach(guests, i, s) {
		json_t *w = json_object_get(s, "window_opens");

		printf("guest %s/%s.%lld on %s: %s %s -> %s (%s)%s%s\n", json_string_value(json_object_get(s, "tenant")),
		       json_string_value(json_object_get(s, "name")), (long long)json_integer_value(json_object_get(s, "instance")),
		       json_string_value(json_object_get(s, "host")), json_string_value(json_object_get(s, "action")),
		       json_string_value(json_object_get(s, "from")), json_string_value(json_object_get(s, "to")),
		       json_string_value(json_object_get(s, "why")), json_is_string(w) ? "; window opens " : "",
		       json_is_string(w) ? json_string_value(w) : "");
	}
	if (!json_array_size(plan) && !json_array_size(guests))
		puts("nothing to do");
	json_decref(plan);
	json_decref(guests);
	return 0;
}

int
cmd_tick(int argc, char **argv)
{
	struct kiln_cli_common co = { 0 };
	_cleanup_(kiln_catalog_closep) struct kiln_catalog *cat = NULL;
	struct kiln_ctx ctx;
	struct kiln_fleet *f;
	json_t *sum = NULL, *guests = NULL;
	int c, rc, dry = 0, parallel = KILN_FLEET_PARALLEL;

	while ((c = kiln_cli_getopt(argc, argv, tick_opts, "tick", "tick", &co, &rc)) != -1) {
		char *end;

		if (c == 'd')
			dry = 1;
		else if (c == 'p') {
			parallel = (int)strtol(optarg, &end, 10);
			if (*end || parallel < 1 || parallel > KILN_FLEET_MAX_PARALLEL)
				return kiln_cli_usage_error("tick", "bad --parallel '%s': 1 to %d", optarg, KILN_FLEET_MAX_PARALLEL);
		} else
			return rc;
	}
	if (optind != argc)
		return kiln_cli_usage_error("tick", "unexpected argument '%s'", argv[optind]);
	if ((rc = kiln_cli_setup("tick", &co, &ctx)) != 0 || (rc = kiln_cli_catalog("tick", &ctx, &cat)) != 0)
		return rc;
	if (dry)
		return print_plan(&ctx, cat, co.json);
	/* one transaction: a tick killed midway leaves the catalog as it was */
	if (kiln_catalog_begin(&ctx, cat) < 0 || kiln_catalog_tick(&ctx, cat, ctx.set->now, &sum) < 0 ||
	    (getenv("KILN_TEST_KILL_IN_TICK") && (raise(SIGKILL), 0)) || kiln_catalog_commit(&ctx, cat) < 0) {
		kiln_catalog_rollback(cat);
		json_decref(sum);
		return kiln_cli_fail("tick", &ctx);
	}
	/* then the guests: each step its own transaction, so that a killed tick leaves what the next reconciles */
	f = kiln_fleet_new(cat, ctx.set->store, NULL);
	kiln_fleet_set_parallel(f, parallel);
	rc = kiln_fleet_tick(&ctx, f, ctx.set->now, &guests);
	kiln_fleet_free(f);
	json_object_set_new(sum, "guests", guests);
	if (co.json)
		kiln_cli_print_json(sum);
	else {
		printf("tick %s: %lld transitions, %lld forced upgrades, %lld automatic updates, %lld notices\n",
		       json_string_value(json_object_get(sum, "now")),
		       (long long)json_integer_value(json_object_get(sum, "transitions")),
		       (long long)json_integer_value(json_object_get(sum, "forced_upgrades")),
		       (long long)json_integer_value(json_object_get(sum, "auto_updates")),
		       (long long)json_integer_value(json_object_get(sum, "notices")));
		if (guests)
			printf("guests: %lld upgraded, %lld pending a restart, %lld failed and rolled back, %lld deferred,"
			       " %lld waiting for their window, %lld reconciled\n",
			       (long long)json_integer_value(json_object_get(guests, "upgraded")),
			       (long long)json_integer_value(json_object_get(guests, "pending")),
			       (long long)json_integer_value(json_object_get(guests, "failed")),
			       (long long)json_integer_value(json_object_get(guests, "deferred")),
			       (long long)json_integer_value(json_object_get(guests, "waiting")),
			       (long long)json_integer_value(json_object_get(guests, "reconciled")));
	}
	json_decref(sum);
	return rc < 0 ? kiln_cli_fail("tick", &ctx) : 0;
}

/* kiln help tick: the usage and what it does; the options print from their tables above */
const struct kiln_cmd kiln_cmd_tick = {
	.name = "tick",
	.fn = cmd_tick,
	.summary = "move the lifecycle clock: transitions, forced upgrades, notices",
	.operands = "",
	.usage = "Records state transitions as events, moves deployments on expired versions\n"
		 "to the newest active version (auto_update on), moves auto_update deployments\n"
		 "to the newest active version, emits each notice (notice_days before disable\n"
		 "and expiry) once per deployment. One transaction; idempotent. The decisions\n"
		 "are a plan computed first (lifecycle/lifecycle.c); --dry-run prints it.\n"
		 "\n"
		 "Then the executor makes the guests follow: it reconciles every instance a\n"
		 "killed tick left midway, then, inside each deployment's window (at once\n"
		 "without one), moves instances whose version differs from the deployment's,\n"
		 "one at a time: redefined on the new version, restarted as the reboot policy\n"
		 "says, health-checked, rolled back when not healthy (upgrade-failed, retried\n"
		 "at the next window). Exit 1 when a host could not be reached or an upgrade\n"
		 "failed; the rest is still done.\n",
	.opts = { tick_opts },
};
