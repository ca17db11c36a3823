/* cmd-assess.c - kiln assess: what each version lacks today, security or other, and who runs it. */
#define _GNU_SOURCE
#include "cli.h"
#include "assess.h"
#include "catalog.h"
#include "names.h"

#include <dirent.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

static const struct kiln_opt assess_opts[] = {
	{ "arch", "ARCH", 'a', "the architecture (default amd64)" },
	{ "advisories", "F", 'A', "an advisory feed (OSV records or the Debian security\n"
				   "tracker's JSON): an update it names as a fix is security too" },
	{ "recipe", "FILE", 'r', "resolve this recipe of the family (e.g. as it is now) instead\n"
				 "of the one each version was built from" },
	{ "json", NULL, 'j', "[{family, version, up_to_date, security, other, deployments,\n"
			     "pending: [{package, installed, candidate, suite, classification, cves, advisories}]}]" },
	KILN_OPT_STORE,
	KILN_OPT_NOW,
	KILN_OPT_HELP,
	{ 0 },
};

/* The versions to assess: the one named, else the family's active released ones, else its newest build. */
static int
versions_of(struct kiln_ctx *ctx, const char *family, const char *version, struct kiln_strv *ret)
{
	_cleanup_free_ char *db = kiln_asprintf("%s/catalog.db", ctx->set->store), *newest = NULL;

	if (version) {
		kiln_strv_push(ret, version);
		return 0;
	}
	if (access(db, F_OK) == 0) {
		_cleanup_(kiln_catalog_closep) struct kiln_catalog *cat = NULL;
		struct kiln_version_info *vs = NULL;
		size_t n = 0;

		if (kiln_catalog_open(ctx, ctx->set->store, &cat) < 0 ||
		    kiln_catalog_versions(ctx, cat, family, 0, ctx->set->now, &vs, &n) < 0)
			return -1;
		for (size_t i = 0; i < n; i++)
			kiln_strv_push(ret, vs[i].version);
		kiln_version_infos_free(vs, n);
		free(vs);
		if (ret->n)
			return 0;
	}
	newest = kiln_cli_newest_built(ctx->set->store, family);
	if (!newest)
		return kiln_error(ctx, KILN_EXIT_USAGE, "no version of '%s' in %s", family, ctx->set->store);
	kiln_strv_push(ret, newest);
	return 0;
}

/* Tenant/name of every deployment the catalog records on @family/@version. */
static json_t *
deployments_on(struct kiln_ctx *ctx, const char *family, const char *version)
{
	_cleanup_free_ char *db = kiln_asprintf("%s/catalog.db", ctx->set->store);
	_cleanup_(kiln_catalog_closep) struct kiln_catalog *cat = NULL;
	struct kiln_deployment *d = NULL;
	json_t *out = json_array();
	struct kiln_ctx sub;
	size_t n = 0;

	kiln_ctx_sub(&sub, ctx);
	if (access(db, F_OK) < 0 || kiln_catalog_open(&sub, ctx->set->store, &cat) < 0 ||
	    kiln_catalog_deployments(&sub, cat, NULL, &d, &n) < 0)
		return out;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(d[i].family, family) && !strcmp(d[i].version, version))
			json_array_append_new(out, json_sprintf("%s/%s", d[i].tenant, d[i].name));
	kiln_deployments_free(d, n);
	free(d);
	return out;
}

/* The counts kiln versions and the API show: STORE/assessments/FAMILY/VERSION.json, replaced atomically. */
static void
keep_counts(struct kiln_ctx *ctx, json_t *a)
{
	const char *family = json_string_value(json_object_get(a, "family"));
	const char *version = json_string_value(json_object_get(a, "version"));
	_cleanup_free_ char *dir = kiln_asprintf("%s/assessments/%s", ctx->set->store, family);
	_cleanup_free_ char *path = kiln_asprintf("%s/%s.json", dir, version), *text = NULL;
	char when[21];
	struct kiln_ctx sub;
	json_t *c;

	kiln_format_iso8601(ctx->set->now, when);
	c = json_pack("{s:s, s:O, s:O}", "assessed", when, "security", json_object_get(a, "security"), "other",
		      json_object_get(a, "other"));
	text = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	kiln_ctx_sub(&sub, ctx);
	if (kiln_mkdir_p(&sub, dir, 0755) == 0)
		kiln_write_atomic(&sub, path, text, strlen(text), 0644);
}

static void
print_table(json_t *a)
{
	json_t *p, *deps = json_object_get(a, "deployments"), *x;
	size_t i, k;

	printf("%s/%s: %s", json_string_value(json_object_get(a, "family")), json_string_value(json_object_get(a, "version")),
	       json_is_true(json_object_get(a, "up_to_date")) ? "up to date" : "");
	if (!json_is_true(json_object_get(a, "up_to_date")))
		printf("%lld security, %lld other", (long long)json_integer_value(json_object_get(a, "security")),
		       (long long)json_integer_value(json_object_get(a, "other")));
	printf("; deployments: ");
	json_array_foreach(deps, i, x)
		printf("%s%s", i ? ", " : "", json_string_value(x));
	printf("%s\n", json_array_size(deps) ? "" : "none");
	if (!json_array_size(json_object_get(a, "pending")))
		return;
	printf("  %-28s %-24s %-24s %-22s %-9s %s\n", "PACKAGE", "INSTALLED", "CANDIDATE", "SUITE", "CLASS", "FIXES");
	json_array_foreach(json_object_get(a, "pending"), i, p) {
		const char *inst = json_string_value(json_object_get(p, "installed"));
		const char *cand = json_string_value(json_object_get(p, "candidate"));

		printf("  %-28s %-24s %-24s %-22s %-9s ", json_string_value(json_object_get(p, "package")), inst ? inst : "(new)",
		       cand ? cand : "(dropped)", json_string_value(json_object_get(p, "suite")) ?: "-",
		       json_string_value(json_object_get(p, "classification")));
		json_array_foreach(json_object_get(p, "cves"), k, x)
			printf("%s%s", k ? " " : "", json_string_value(x));
		json_array_foreach(json_object_get(p, "advisories"), k, x)
			printf("%s%s", k || json_array_size(json_object_get(p, "cves")) ? " " : "", json_string_value(x));
		putchar('\n');
	}
}

int
cmd_assess(int argc, char **argv)
{
	struct kiln_cli_common co = { 0 };
	_cleanup_(kiln_strv_releasep) struct kiln_strv versions = { 0 };
	_cleanup_free_ char *family = NULL;
	const char *arch = "amd64", *apt_root = getenv("KILN_APT_ROOT"), *slash, *recipe = NULL, *advisories = NULL;
	struct kiln_advisories adv = { 0 };
	struct kiln_ctx ctx;
	json_t *all;
	int c, rc;

	while ((c = kiln_cli_getopt(argc, argv, assess_opts, "assess", "assess", &co, &rc)) != -1) {
		switch (c) {
		case 'a': arch = optarg; break;
		case 'r': recipe = optarg; break;
		case 'A': advisories = optarg; break;
		default:
			return rc;
		}
	}
	if (optind != argc - 1)
		return kiln_cli_usage_error("assess", "expected one FAMILY or FAMILY/VERSION");
	slash = strchr(argv[optind], '/');
	family = slash ? kiln_strndup(argv[optind], slash - argv[optind]) : kiln_strdup(argv[optind]);
	if (!kiln_family_name_valid(family) || (slash && !kiln_version_valid(slash + 1)))
		return kiln_cli_usage_error("assess", "bad name '%s': use FAMILY or FAMILY/VERSION", argv[optind]);
	if ((rc = kiln_cli_setup("assess", &co, &ctx)) != 0)
		return rc;
	if (versions_of(&ctx, family, slash ? slash + 1 : NULL, &versions) < 0 ||
	    (advisories && kiln_advisories_load(&ctx, advisories, &adv) < 0))
		return kiln_cli_fail("assess", &ctx);
	all = json_array();
	for (size_t i = 0; i < versions.n; i++) {
		struct kiln_assessment a;
		json_t *j;

		if (kiln_assess_version(&ctx, family, versions.v[i], recipe, arch, apt_root && *apt_root ? apt_root : "/",
					advisories ? &adv : NULL, &a) < 0) {
			json_decref(all);
			kiln_advisories_release(&adv);
			return kiln_cli_fail("assess", &ctx);
		}
		j = kiln_assessment_json(&a);
		kiln_assessment_release(&a);
		json_object_set_new(j, "deployments", deployments_on(&ctx, family, versions.v[i]));
		keep_counts(&ctx, j);
		json_array_append_new(all, j);
	}
	if (co.json) {
		kiln_cli_print_json(all);
	} else {
		size_t i;
		json_t *a;

		json_array_foreach(all, i, a)
			print_table(a);
	}
	json_decref(all);
	kiln_advisories_release(&adv);
	return 0;
}

/* kiln help assess: the usage and what it does; the options print from their tables above */
const struct kiln_cmd kiln_cmd_assess = {
	.name = "assess",
	.fn = cmd_assess,
	.summary = "what each version lacks today: pending updates, security or other, with their CVEs",
	.operands = "FAMILY[/VERSION]",
	.usage = "Resolves the recipe each version was built from (kept beside its manifest,\n"
		 "its hash checked) against the sources as they are now and lists every\n"
		 "package whose candidate differs: installed and candidate versions, the\n"
		 "candidate's suite, its classification (security when it comes from a\n"
		 "security suite, else other), and the CVE and DSA/DLA ids its changelog\n"
		 "gives since the installed version (the .deb fetched into the cache). Without\n"
		 "a version: every active released version of the family, else its newest\n"
		 "build. Also names the deployments that run each version, and keeps the\n"
		 "counts for kiln versions and the API (STORE/assessments/).\n",
	.opts = { assess_opts },
	.footer = "Exit: 0 ok (pending updates are not an error), 2 bad usage or a version\n"
		  "without its recipe, 4 a recipe that does not match its manifest, or a\n"
		  "signature, hash or rollback failure of the sources, 5 fetch error.\n",
};
