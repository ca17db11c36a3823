/* cmd-publish.c - kiln publish: the catalog as a static, signed repository. */
#define _GNU_SOURCE
#include "cli.h"
#include "publish.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const struct kiln_opt publish_opts[] = {
	{ "out", "DIR", 'O', "where the repository goes (made when missing)" },
	{ "key", "KEY", 'k', "an Ed25519 key (kiln keygen) that signs every role; repeat it\n" "for more keys" },
	{ "threshold", "N", 't', "signatures each role needs (default: every key given)" },
	{ "json", NULL, 'j', "{files, written, unchanged, root, targets, snapshot, timestamp}" },
	KILN_OPT_STORE,
	KILN_OPT_NOW,
	KILN_OPT_HELP,
	{ 0 },
};

int
cmd_publish(int argc, char **argv)
{
	struct kiln_cli_common co = { 0 };
	struct kiln_publish_opts o = { 0 };
	_cleanup_(kiln_catalog_closep) struct kiln_catalog *cat = NULL;
	struct kiln_ctx ctx;
	json_t *sum = NULL;
	char *end;
	int c, rc;

	while ((c = kiln_cli_getopt(argc, argv, publish_opts, "publish", "publish", &co, &rc)) != -1) {
		switch (c) {
		case 'O': o.out = optarg; break;
		case 'k': kiln_strv_push(&o.keys, optarg); break;
		case 't':
			o.threshold = (int)strtol(optarg, &end, 10);
			if (*end || o.threshold < 1 || o.threshold > 16)
				return kiln_cli_usage_error("publish", "bad --threshold '%s' (1 to 16)", optarg);
			break;
		default:
			kiln_strv_release(&o.keys);
			return rc;
		}
	}
	if (optind != argc || !o.out || !o.keys.n) {
		kiln_strv_release(&o.keys);
		return kiln_cli_usage_error("publish", "expected --out DIR and at least one --key");
	}
	if ((rc = kiln_cli_setup("publish", &co, &ctx)) != 0 || (rc = kiln_cli_catalog("publish", &ctx, &cat)) != 0) {
		kiln_strv_release(&o.keys);
		return rc;
	}
	o.now = ctx.set->now;
	rc = kiln_publish(&ctx, cat, &o, &sum);
	kiln_strv_release(&o.keys);
	if (rc < 0)
		return kiln_cli_fail("publish", &ctx);
	if (co.json)
		kiln_cli_print_json(sum);
	else
		printf("%s: %lld files (%lld written, %lld unchanged); root v%lld, targets v%lld, snapshot v%lld, timestamp v%lld\n",
		       o.out, (long long)json_integer_value(json_object_get(sum, "files")),
		       (long long)json_integer_value(json_object_get(sum, "written")),
		       (long long)json_integer_value(json_object_get(sum, "unchanged")),
		       (long long)json_integer_value(json_object_get(sum, "root")),
		       (long long)json_integer_value(json_object_get(sum, "targets")),
		       (long long)json_integer_value(json_object_get(sum, "snapshot")),
		       (long long)json_integer_value(json_object_get(sum, "timestamp")));
	json_decref(sum);
	return 0;
}

/* kiln help publish: the usage and what it does; the options print from their tables above */
const struct kiln_cmd kiln_cmd_publish = {
	.name = "publish",
	.fn = cmd_publish,
	.summary = "publish the catalog as a static repository signed in TUF's model",
	.operands = "",
	.usage = "Writes every released version's manifest.json and signature, its SBOMs\n"
		 "(sbom.cdx.json, sbom.spdx.json), lifecycle.json (versions, dates, states,\n"
		 "security counts, fixed CVEs), the trusted manifest signer keys (keys/), a\n"
		 "page per family and an index, an Atom feed of lifecycle notices, and TUF\n"
		 "metadata over all of it: root.json (keys, thresholds), targets.json (each\n"
		 "file's length and SHA-256), snapshot.json, timestamp.json, with expiry dates\n"
		 "(365, 90, 30 and 1 days). Any web server or CDN can serve the directory;\n"
		 "clients check it with kiln verify-published. Run again (after kiln tick)\n"
		 "it rewrites only what changed, bumps a role's version only when its content\n"
		 "does (or its expiry nears) and re-signs the timestamp.\n",
	.opts = { publish_opts },
	.footer = "Exit: 0 ok, 2 bad usage or other keys than the root's (no rotation), 4 a\n"
		  "released manifest that is not the one the catalog recorded.\n",
};
