/* cmd-verify-published.c - kiln verify-published: check a published repository before trusting it. */
#define _GNU_SOURCE
#include "cli.h"
#include "tuf.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const struct kiln_opt vp_opts[] = {
	{ "root", "FILE", 'r', "the repository's root.json, obtained out of band (required)" },
	{ "state", "FILE", 'S', "the role versions seen before (default:\n"
				"$XDG_STATE_HOME/kiln/published.json or ~/.local/state/kiln/...)" },
	{ "json", NULL, 'j', "{repository, root, timestamp, snapshot, targets, files, manifests}" },
	KILN_OPT_NOW,
	KILN_OPT_HELP,
	{ 0 },
};

static char *
default_state(void)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (x && *x)
		return kiln_asprintf("%s/kiln/published.json", x);
	return home && *home ? kiln_asprintf("%s/.local/state/kiln/published.json", home) : NULL;
}

int
cmd_verify_published(int argc, char **argv)
{
	struct kiln_cli_common co = { 0 };
	_cleanup_free_ char *state = NULL, *dir = NULL;
	const char *root = NULL;
	struct kiln_ctx ctx;
	json_t *report = NULL;
	int c, rc;

	while ((c = kiln_cli_getopt(argc, argv, vp_opts, "verify-published", "verify-published", &co, &rc)) != -1) {
		switch (c) {
		case 'r': root = optarg; break;
		case 'S':
			free(state);
			state = kiln_strdup(optarg);
			break;
		default:
			return rc;
		}
	}
	if (optind != argc - 1 || !root)
		return kiln_cli_usage_error("verify-published", "expected one DIR or URL and --root FILE");
	if ((rc = kiln_cli_setup("verify-published", &co, &ctx)) != 0)
		return rc;
	if (!state)
		state = default_state();
	if (state) {
		dir = kiln_strdup(state);
		if (strrchr(dir, '/')) {
			*strrchr(dir, '/') = '\0';
			if (kiln_mkdir_p(&ctx, dir, 0700) < 0)
				return kiln_cli_fail("verify-published", &ctx);
		}
	}
	if (kiln_tuf_client(&ctx, argv[optind], root, state, ctx.set->now, &report) < 0)
		return kiln_cli_fail("verify-published", &ctx);
	if (co.json)
		kiln_cli_print_json(report);
	else
		printf("%s: verified: root v%lld, timestamp v%lld, snapshot v%lld, targets v%lld; %lld files, %lld signed manifests\n",
		       argv[optind], (long long)json_integer_value(json_object_get(report, "root")),
		       (long long)json_integer_value(json_object_get(report, "timestamp")),
		       (long long)json_integer_value(json_object_get(report, "snapshot")),
		       (long long)json_integer_value(json_object_get(report, "targets")),
		       (long long)json_integer_value(json_object_get(report, "files")),
		       (long long)json_integer_value(json_object_get(report, "manifests")));
	json_decref(report);
	return 0;
}

/* kiln help verify-published: the usage and what it does; the options print from their tables above */
const struct kiln_cmd kiln_cmd_verify_published = {
	.name = "verify-published",
	.fn = cmd_verify_published,
	.summary = "check a published repository (signatures, expiry, rollback, every file)",
	.operands = "DIR|URL",
	.usage = "What a tenant or CI runs before trusting a repository kiln publish wrote, from\n"
		 "a directory, file:// or http(s):// (libcurl). With the root.json given (it\n"
		 "signs itself), in order: timestamp.json (signatures of its role's keys up to\n"
		 "the threshold, not expired), snapshot.json (its length and hash as the\n"
		 "timestamp says, its version the one named), targets.json (the same against\n"
		 "the snapshot), no role older than the client saw before (the state file,\n"
		 "written only after success), then every file's length and SHA-256 and every\n"
		 "manifest's Ed25519 signature by a published signer key.\n",
	.opts = { vp_opts },
	.footer = "Exit: 0 verified, 2 bad usage, 4 any check failing (the message names it),\n"
		  "5 fetch error.\n",
};
