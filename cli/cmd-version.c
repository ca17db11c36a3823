/* cmd-version.c - kiln version disable|extend: an operator's override of one version's dates, with a reason. */
#define _GNU_SOURCE
#include "catalog.h"
#include "cli.h"

#include <getopt.h>
#include <string.h>

static const struct kiln_opt version_opts[] = {
	{ "until", "DATE", 'u', "disable: the expiry date; extend: supported until" },
	{ "at", "DATE", 'a', "disable: from when" },
	{ "reason", "TEXT", 'r', "recorded in the event log" },
	KILN_OPT_STORE,
	KILN_OPT_NOW,
	KILN_OPT_HELP,
	{ 0 },
};

int
cmd_version_lc(int argc, char **argv)
{
	struct kiln_cli_common co = { 0 };
	_cleanup_(kiln_catalog_closep) struct kiln_catalog *cat = NULL;
	_cleanup_free_ char *dir = NULL, *family = NULL, *version = NULL;
	const char *until = NULL, *at = NULL, *reason = NULL, *sub;
	time_t tu = 0, ta;
	struct kiln_ctx ctx;
	int c, rc;

	if (argc < 2 || (strcmp(argv[1], "disable") && strcmp(argv[1], "extend")))
		return kiln_cli_usage_error("version", "expected disable or extend");
	sub = argv[1];
	argc--;
	argv++;
	while ((c = kiln_cli_getopt(argc, argv, version_opts, "version", "version", &co, &rc)) != -1) {
		switch (c) {
		case 'u': until = optarg; break;
		case 'a': at = optarg; break;
		case 'r': reason = optarg; break;
		default:
			return rc;
		}
	}
	if (optind != argc - 1 || !reason || !*reason)
		return kiln_cli_usage_error("version", "expected FAMILY/VERSION and --reason TEXT");
	if (!strcmp(sub, "extend") && !until)
		return kiln_cli_usage_error("version extend", "expected --until DATE");
	if ((rc = kiln_cli_setup("version", &co, &ctx)) != 0)
		return rc;
	dir = kiln_cli_image_dir(&ctx, argv[optind], &family, &version);
	if (!dir)
		return kiln_cli_usage_error("version", "bad image name '%s': use FAMILY/VERSION", argv[optind]);
	if ((until && kiln_parse_iso8601(until, &tu) < 0) || (at && kiln_parse_iso8601(at, &ta) < 0))
		return kiln_cli_usage_error("version", "bad date: use YYYY-MM-DD");
	if (!at)
		ta = ctx.set->now;
	if ((rc = kiln_cli_catalog("version", &ctx, &cat)) != 0)
		return rc;
	if (kiln_catalog_begin(&ctx, cat) < 0 ||
	    kiln_catalog_override(&ctx, cat, family, version, sub, ta, tu, reason, ctx.set->now) < 0 ||
	    kiln_catalog_commit(&ctx, cat) < 0) {
		kiln_catalog_rollback(cat);
		return kiln_cli_fail("version", &ctx);
	}
	printf("%s/%s: %s recorded\n", family, version, sub);
	return 0;
}

/* kiln help version: the usage and what it does; the options print from their tables above */
const struct kiln_cmd kiln_cmd_version = {
	.name = "version",
	.fn = cmd_version_lc,
	.summary = "disable or extend one version by hand, with a reason",
	.forms = (const struct kiln_form[]){
		{ "disable", "FAMILY/VERSION", "!reason at until store now" },
		{ "extend", "FAMILY/VERSION", "!until !reason store now" },
		{ 0 },
	},
	.usage = "disable: disabled from --at (default: now) and, with --until, expired then (the\n"
		 "operator's batch date); extend: active at least until --until.\n"
		 "kiln's own version is 'kiln --version'.\n",
	.opts = { version_opts },
};
