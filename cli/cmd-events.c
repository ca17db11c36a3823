/* cmd-events.c - kiln events: what the lifecycle did, and to whom. */
#define _GNU_SOURCE
#include "catalog.h"
#include "cli.h"

#include <getopt.h>

static const struct kiln_opt events_opts[] = {
	{ "tenant", "T", 't', "only this tenant's deployments' events" },
	{ "since", "DATE", 'S', "only events at or after DATE" },
	{ "json", NULL, 'j', "[{id, at, kind, tenant, deployment, family, version, from, to, reason}]" },
	KILN_OPT_STORE,
	KILN_OPT_HELP,
	{ 0 },
};

int
cmd_events(int argc, char **argv)
{
	struct kiln_cli_common co = { 0 };
	_cleanup_(kiln_catalog_closep) struct kiln_catalog *cat = NULL;
	const char *tenant = NULL, *since = NULL;
	time_t t = 0;
	struct kiln_ctx ctx;
	json_t *ev, *e;
	size_t i;
	int c, rc;

	while ((c = kiln_cli_getopt(argc, argv, events_opts, "events", "events", &co, &rc)) != -1) {
		switch (c) {
		case 't': tenant = optarg; break;
		case 'S': since = optarg; break;
		default:
			return rc;
		}
	}
	if (optind != argc)
		return kiln_cli_usage_error("events", "unexpected argument '%s'", argv[optind]);
	if (since && kiln_parse_iso8601(since, &t) < 0)
		return kiln_cli_usage_error("events", "bad --since '%s': use YYYY-MM-DD", since);
	if ((rc = kiln_cli_setup("events", &co, &ctx)) != 0 || (rc = kiln_cli_catalog("events", &ctx, &cat)) != 0)
		return rc;
	ev = kiln_catalog_events(&ctx, cat, tenant, t);
	if (co.json) {
		kiln_cli_print_json(ev);
	} else {
		json_array_foreach(ev, i, e) {
			const char *dep = json_string_value(json_object_get(e, "deployment"));

			printf("%.10s  %-15s %s/%s", json_string_value(json_object_get(e, "at")),
			       json_string_value(json_object_get(e, "kind")),
			       json_string_value(json_object_get(e, "family")) ?: "-",
			       json_string_value(json_object_get(e, "version")) ?: "-");
			if (dep)
				printf("  %s/%s", json_string_value(json_object_get(e, "tenant")), dep);
			if (json_string_value(json_object_get(e, "from")) && json_string_value(json_object_get(e, "to")))
				printf("  %s → %s", json_string_value(json_object_get(e, "from")),
				       json_string_value(json_object_get(e, "to")));
			printf("  %s\n", json_string_value(json_object_get(e, "reason")) ?: "");
		}
	}
	json_decref(ev);
	return 0;
}

/* kiln help events: the usage and what it does; the options print from their tables above */
const struct kiln_cmd kiln_cmd_events = {
	.name = "events",
	.fn = cmd_events,
	.summary = "what the lifecycle did: releases, transitions, upgrades, notices",
	.usage = "usage: kiln events [--tenant T] [--since DATE] [--json] [--store DIR]\n",
	.opts = { events_opts },
};
