/* cmd-fixes.c - kiln fixes: which image versions contain the fix for a CVE or DSA/DLA. */
#define _GNU_SOURCE
#include "cli.h"
#include "manifest.h"

#include <getopt.h>
#include <string.h>

static const struct kiln_opt fixes_opts[] = {
	{ "json", NULL, 'j', "one JSON document: {id, families: [{family, first, versions}]}" },
	KILN_OPT_STORE,
	KILN_OPT_HELP,
	{ 0 },
};

static int
id_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 5 || n > 32 || !(kiln_startswith(s, "CVE-") || kiln_startswith(s, "DSA-") || kiln_startswith(s, "DLA-")))
		return 0;
	for (size_t i = 4; i < n; i++)
		if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
			return 0;
	return 1;
}

int
cmd_fixes(int argc, char **argv)
{
	struct kiln_cli_common co = { 0 };
	struct kiln_ctx ctx;
	json_t *r, *f, *v;
	size_t i, j;
	int rc;

	if (kiln_cli_getopt(argc, argv, fixes_opts, "fixes", "fixes", &co, &rc) != -1)
		return rc;
	if (optind != argc - 1 || !id_valid(argv[optind]))
		return kiln_cli_usage_error("fixes", "expected one CVE-YYYY-NNNN, DSA-NNNN-N or DLA-NNNN-N");
	if ((rc = kiln_cli_setup("fixes", &co, &ctx)) != 0)
		return rc;
	r = kiln_fixes_find(&ctx, ctx.set->store, argv[optind], NULL);
	if (co.json) {
		json_dumpf(r, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	} else if (!json_array_size(json_object_get(r, "families"))) {
		printf("no image version in %s contains a fix for %s\n", ctx.set->store, argv[optind]);
	} else {
		printf("%-16s %-12s %-24s %s\n", "FAMILY", "VERSION", "PACKAGE", "PACKAGE VERSION");
		json_array_foreach(json_object_get(r, "families"), i, f)
			json_array_foreach(json_object_get(f, "versions"), j, v)
				printf("%-16s %-12s %-24s %s%s%s\n", json_string_value(json_object_get(f, "family")),
				       json_string_value(json_object_get(v, "version")),
				       json_string_value(json_object_get(v, "package")),
				       json_string_value(json_object_get(v, "package_version")), j == 0 ? "   (first)" : "",
				       json_is_false(json_object_get(v, "in_image")) ?
				       "   (not in the image: not affected)" : "");
	}
	json_decref(r);
	return 0;
}

/* kiln help fixes: the usage and what it does; the options print from their tables above */
const struct kiln_cmd kiln_cmd_fixes = {
	.name = "fixes",
	.fn = cmd_fixes,
	.summary = "which image versions contain the fix for a CVE or DSA/DLA",
	.operands = "CVE-ID|DSA-ID|DLA-ID",
	.usage = "Searches the manifests in the store: every family/version whose packages\n"
		 "fix the id (from the security updates' changelog entries; fixes are\n"
		 "cumulative), and the first version of each family that did.\n",
	.opts = { fixes_opts },
};
