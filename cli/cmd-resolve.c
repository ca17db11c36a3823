/* cmd-resolve.c - kiln resolve: a recipe's exact package set, as a table or JSON. */
#define _GNU_SOURCE
#include "cli.h"
#include "recipe.h"
#include "resolve.h"

#include <getopt.h>
#include <string.h>

static const struct kiln_opt resolve_opts[] = {
	{ "json", NULL, 'j', "one JSON document instead of the table" },
	KILN_OPT_STORE,
	KILN_OPT_OFFLINE,
	KILN_OPT_ALLOW_EXPIRED,
	KILN_OPT_ALLOW_OLDER_INDEX,
	KILN_OPT_ARCH,
	KILN_OPT_NOW,
	KILN_OPT_HELP,
	{ 0 },
};

static void
print_table(const struct kiln_resolution *res)
{
	int wn = 4, wv = 7;

	for (size_t i = 0; i < res->set.n; i++) {
		int n = (int)strlen(res->set.pkgs[i].name), v = (int)strlen(res->set.pkgs[i].version);

		wn = n > wn ? n : wn;
		wv = v > wv ? v : wv;
	}
	printf("%-*s  %-*s  %-5s  %s\n", wn, "NAME", wv, "VERSION", "ARCH", "SUITE");
	for (size_t i = 0; i < res->set.n; i++) {
		const struct kiln_pkg *p = &res->set.pkgs[i];

		printf("%-*s  %-*s  %-5s  %s\n", wn, p->name, wv, p->version, p->arch, p->suite);
	}
	printf("\n%zu packages; kernel %s %s (%s)\n", res->set.n, res->kernel.name, res->kernel.version,
	       res->kernel.suite);
}

int
cmd_resolve(int argc, char **argv)
{
	struct kiln_cli_common co = { 0 };
	_cleanup_(kiln_recipe_freep) struct kiln_recipe *r = NULL;
	struct kiln_resolution res;
	const char *arch = "amd64", *apt_root = getenv("KILN_APT_ROOT");
	struct kiln_ctx ctx;
	int c, rc;

	while ((c = kiln_cli_getopt(argc, argv, resolve_opts, "resolve", "resolve", &co, &rc)) != -1) {
		switch (c) {
		case 'a': arch = optarg; break;
		default:
			return rc;
		}
	}
	if (optind != argc - 1)
		return kiln_cli_usage_error("resolve", "expected one RECIPE");
	if ((rc = kiln_cli_setup("resolve", &co, &ctx)) != 0)
		return rc;
	if (kiln_recipe_load(&ctx, argv[optind], &r) < 0)
		return kiln_cli_fail("resolve", &ctx);
	if (kiln_resolve(&ctx, r, arch, apt_root && *apt_root ? apt_root : "/", &res) < 0)
		return kiln_cli_fail("resolve", &ctx);
	for (size_t i = 0; i < res.n_indexes; i++) {
		char *w = kiln_repo_index_rollback_note(&res.indexes[i]);

		if (w)
			fprintf(stderr, "kiln resolve: warning: %s\n", w);
		free(w);
	}
	if (co.json) {
		char *j = kiln_resolution_json(&res);

		puts(j);
		free(j);
	} else {
		print_table(&res);
	}
	kiln_resolution_release(&res);
	return 0;
}

/* kiln help resolve: the usage and what it does; the options print from their tables above */
const struct kiln_cmd kiln_cmd_resolve = {
	.name = "resolve",
	.fn = cmd_resolve,
	.summary = "resolve a recipe to the exact package set of its image",
	.operands = "RECIPE",
	.usage = "Reads the recipe's sources (From=host: the host's apt sources), verifies each\n"
		 "InRelease against its keyring, checks every Packages index against the signed\n"
		 "SHA256, caches both in STORE/cache/, and resolves [Packages] Install= and the\n"
		 "[Kernel] package as apt would (no Recommends).\n",
	.opts = { resolve_opts },
	.footer = "Exit: 0 ok, 2 bad recipe or unresolvable, 4 signature or hash mismatch,\n"
		  "5 fetch error or (--offline) not cached.\n",
};
