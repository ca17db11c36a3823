/* cmd-release.c - kiln release: record a built, signed version in the catalog (lifecycle/releases.c verifies it). */
#define _GNU_SOURCE
#include "cli.h"
#include "releases.h"

#include <getopt.h>
#include <string.h>

int
cmd_release(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pubkey", required_argument, NULL, 'p' },
		{ "released", required_argument, NULL, 'r' },
		{ "store", required_argument, NULL, 's' },
		{ "now", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct kiln_cli_common co = { 0 };
	const char *pubkey = NULL, *released = NULL;
	_cleanup_(kiln_catalog_closep) struct kiln_catalog *cat = NULL;
	_cleanup_free_ char *dir = NULL, *family = NULL, *version = NULL;
	struct kiln_release_result res;
	struct kiln_ctx ctx;
	time_t when;
	char day[21];
	int c, rc;

	while ((c = kiln_cli_getopt(argc, argv, opts, "release", "release", &co, &rc)) != -1) {
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
	when = ctx.now - ctx.now % KILN_DAY;
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
