/* cmd-release.c - kiln release: record a built, signed version in the catalog (lifecycle/releases.c verifies it). */
#define _GNU_SOURCE
#include "cli.h"
#include "releases.h"

#include <getopt.h>
#include <string.h>

static const struct kiln_opt release_opts[] = {
	{ "pubkey", "KEY", 'p', "the signer's public key" },
	{ "released", "DATE", 'r', "the release date (default: today, by --now)" },
	KILN_OPT_STORE,
	KILN_OPT_NOW,
	KILN_OPT_HELP,
	{ 0 },
};

int
cmd_release(int argc, char **argv)
{
	struct kiln_cli_common co = { 0 };
	const char *pubkey = NULL, *released = NULL;
	_cleanup_(kiln_catalog_closep) struct kiln_catalog *cat = NULL;
	_cleanup_free_ char *dir = NULL, *family = NULL, *version = NULL;
	struct kiln_release_result res;
	struct kiln_ctx ctx;
	time_t when;
	char day[21];
	int c, rc;

	while ((c = kiln_cli_getopt(argc, argv, release_opts, "release", "release", &co, &rc)) != -1) {
		switch (c) {
		case 'p': pubkey = optarg; break;
		case 'r': released = optarg; break;
		default:
			return rc;
		}
	}
	if (optind != argc - 1)
		return kiln_cli_usage_error("release", "expected one FAMILY/VERSION");
	if ((rc = kiln_cli_setup("release", &co, &ctx)) != 0)
		return rc;
	dir = kiln_cli_image_dir(&ctx, argv[optind], &family, &version);
	if (!dir)
		return kiln_cli_usage_error("release", "bad image name '%s': use FAMILY/VERSION", argv[optind]);
	when = ctx.set->now - ctx.set->now % KILN_DAY;
	if (released && kiln_parse_iso8601(released, &when) < 0)
		return kiln_cli_usage_error("release", "bad --released '%s': use YYYY-MM-DD", released);
	if ((rc = kiln_cli_catalog("release", &ctx, &cat)) != 0)
		return rc;
	if (kiln_release(&ctx, cat, family, version, pubkey, when, &res) < 0)
		return kiln_cli_fail("release", &ctx);
	kiln_format_iso8601(when, day);
	day[10] = '\0';
	if (res.is_new)
		printf("released %s/%s on %s (signed by %.16s…, %d security updates)\n", family, version, day, res.signer,
		       res.security_updates);
	else
		printf("%s/%s was already released with this manifest: nothing changed\n", family, version);
	return 0;
}

/* kiln help release: the usage and what it does; the options print from their tables above */
const struct kiln_cmd kiln_cmd_release = {
	.name = "release",
	.fn = cmd_release,
	.summary = "record a built version in the catalog, after verifying it",
	.operands = "FAMILY/VERSION",
	.usage = "Verifies manifest.json's signature (against --pubkey, else against the keys\n"
		 "'kiln policy trust' added) and the artifacts before recording anything.\n"
		 "Releasing the same version again is a no-op; with another manifest, exit 4.\n",
	.opts = { release_opts },
};
