/* cmd-events.c - kiln events: what the lifecycle did, and to whom. */
#define _GNU_SOURCE
#include "catalog.h"
#include "render.h"
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
	struct kiln_event *ev = NULL;
	size_t n = 0;
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
	if (kiln_catalog_events(&ctx, cat, tenant, t, &ev, &n) < 0)
		return kiln_cli_fail("events", &ctx);
	if (co.json) {
		json_t *j = kiln_events_json(ev, n);

		kiln_cli_print_json(j);
		json_decref(j);
	} else {
		for (size_t i = 0; i < n; i++) {
			const struct kiln_event *e = &ev[i];
			char at[21];

			kiln_format_iso8601(e->at, at);
			printf("%.10s  %-15s %s/%s", at, e->kind, e->family ?: "-", e->version ?: "-");
			if (e->deployment)
				printf("  %s/%s", e->tenant ?: "-", e->deployment);
			if (e->from && e->to)
				printf("  %s → %s", e->from, e->to);
			printf("  %s\n", e->reason ?: "");
		}
	}
	kiln_events_free(ev, n);
	free(ev);
	return 0;
}

/* kiln help events: the usage and what it does; the options print from their tables above */
const struct kiln_cmd kiln_cmd_events = {
	.name = "events",
	.fn = cmd_events,
	.summary = "what the lifecycle did: releases, transitions, upgrades, notices",
	.operands = "",
	.opts = { events_opts },
};
