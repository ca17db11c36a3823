/* cmd-rebake.c - kiln rebake: build (sign, release) what needs it, and only that. */
#define _GNU_SOURCE
#include "cli.h"
#include "assess.h"
#include "build.h"
#include "catalog.h"
#include "manifest.h"
#include "recipe.h"
#include "releases.h"
#include "resolve.h"

#include <getopt.h>
#include <string.h>
#include <unistd.h>

static const struct kiln_opt rebake_opts[] = {
	{ "key", "KEY", 'k', "sign each new manifest with this Ed25519 key (required)" },
	{ "release", NULL, 'r', "release each new version (its signer must be trusted:\n" "kiln policy trust)" },
	{ "when", "WHEN", 'w', "security: build only when a security update is pending;\n"
			       "any (default): when anything differs (packages, the\n"
			       "recipe, kiln-init); always" },
	{ "advisories", "F", 'A', "an advisory feed (OSV records or the Debian security\n"
				   "tracker's JSON): for the classification, and the build" },
	{ "arch", "ARCH", 'a', "the architecture (default amd64)" },
	KILN_OPT_STORE,
	KILN_OPT_NOW,
	KILN_OPT_HELP,
	{ 0 },
};

enum when { WHEN_SECURITY, WHEN_ANY, WHEN_ALWAYS };

struct rebake {
	const char *key, *arch, *apt_root, *init, *advisories_path;
	struct kiln_advisories adv;
	int release;
	enum when when;
};

/* The SHA-256 files.tsv gives /init in @dir (a new string), or NULL. */
static char *
init_sha_of(struct kiln_ctx *ctx, const char *dir)
{
	_cleanup_free_ char *tsv = NULL, *path = kiln_asprintf("%s/files.tsv", dir);
	struct kiln_ctx sub;
	size_t len;
	char *line;

	kiln_ctx_sub(&sub, ctx);
	if (kiln_read_file(&sub, path, 1 << 30, &tsv, &len) < 0)
		return NULL;
	line = strstr(tsv, "\n/init\t");
	line = line ? line + 1 : !strncmp(tsv, "/init\t", 6) ? tsv : NULL;
	if (!line)
		return NULL;
	line[strcspn(line, "\n")] = '\0';
	for (int i = 0; i < 5 && line; i++)	/* the sixth field: path, mode, uid, gid, size, sha256[, package] */
		line = strchr(line, '\t') ? strchr(line, '\t') + 1 : NULL;
	return line && strcspn(line, "\t") == 64 ? kiln_strndup(line, 64) : NULL;
}

/* Why @a calls for a build under @when (a static string), or NULL: nothing to do. */
static const char *
reason(const struct rebake *o, const struct kiln_assessment *a, int init_changed)
{
	if (o->when == WHEN_ALWAYS)
		return "always";
	if (a->n_security)
		return "security updates";
	if (o->when == WHEN_SECURITY)
		return NULL;
	if (a->n)
		return "updates";
	if (a->recipe_changed)
		return "recipe changed";
	if (init_changed)
		return "kiln-init changed";
	return NULL;
}

static int
rebake_one(struct kiln_ctx *ctx, const struct rebake *o, const char *path)
{
	_cleanup_(kiln_recipe_freep) struct kiln_recipe *r = NULL;
	_cleanup_(kiln_strv_releasep) struct kiln_strv released = { 0 };
	_cleanup_free_ char *newest = NULL, *dir = NULL, *init_sha = NULL, *old_init = NULL, *why_json = NULL;
	_cleanup_(kiln_catalog_closep) struct kiln_catalog *cat = NULL;
	_cleanup_free_ char *db = kiln_asprintf("%s/catalog.db", ctx->set->store);
	struct kiln_assessment a = { 0 };
	struct kiln_resolution res;
	struct kiln_build_opts bo = { .arch = o->arch, .apt_root = o->apt_root, .init_path = o->init,
				      .key_path = o->key, .advisories_path = o->advisories_path, .source_date_epoch = -1 };
	struct kiln_build_result br;
	const char *why;
	json_t *m = NULL, *rec;
	char hex[65];
	int rc;

	if (kiln_recipe_load(ctx, path, &r) < 0)
		return -1;
	if (kiln_resolve(ctx, r, o->arch, o->apt_root, &res) < 0)
		return -1;
	newest = kiln_cli_newest_built(ctx->set->store, r->family);
	if (newest) {
		dir = kiln_asprintf("%s/%s/%s", ctx->set->store, r->family, newest);
		m = kiln_manifest_load(ctx, dir, NULL);
		if (!m) {
			kiln_resolution_release(&res);
			return -1;
		}
		kiln_assess_compare(&res, m, &a);
		if (o->advisories_path)
			kiln_assess_advisories(&o->adv, &a);
		json_decref(m);
		old_init = init_sha_of(ctx, dir);
	}
	if (kiln_file_sha256(o->init, hex) < 0) {
		kiln_resolution_release(&res);
		kiln_assessment_release(&a);
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot read kiln-init '%s'", o->init);
	}
	why = !newest ? "first version" : reason(o, &a, !old_init || strcmp(old_init, hex));
	if (!why) {
		printf("%s: up to date (%s/%s%s)\n", r->family, r->family, newest,
		       a.n ? "; no security update pending" : "");
		kiln_resolution_release(&res);
		kiln_assessment_release(&a);
		return 0;
	}
	/* the assessment goes into the manifest, with the ids each update fixes */
	rc = newest ? kiln_assess_changelogs(ctx, &res, &a) : 0;
	kiln_resolution_release(&res);
	if (rc < 0) {
		kiln_assessment_release(&a);
		return -1;
	}
	rec = newest ? kiln_assessment_json(&a) : json_object();
	json_object_set_new(rec, "reason", json_string(why));
	json_object_set_new(rec, "previous", newest ? json_string(newest) : json_null());
	json_object_del(rec, "family");
	json_object_del(rec, "version");
	json_object_del(rec, "up_to_date");
	why_json = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(rec);
	kiln_assessment_release(&a);
	bo.rebake = why_json;
	if (access(db, F_OK) == 0 || o->release) {
		if (kiln_catalog_open(ctx, ctx->set->store, &cat) < 0 ||
		    kiln_catalog_released_versions(ctx, cat, r->family, &released) < 0)
			return -1;
		bo.released = &released;
	}
	if (kiln_build(ctx, r, &bo, &br) < 0)
		return -1;
	printf("%s: built %s/%s (%s)\n", r->family, r->family, br.version, why);
	if (o->release) {
		struct kiln_release_result rr;

		if (kiln_release(ctx, cat, r->family, br.version, NULL, ctx->set->now, &rr) < 0) {
			kiln_build_result_release(&br);
			return -1;
		}
		printf("%s: released %s/%s (%d security updates)\n", r->family, r->family, br.version, rr.security_updates);
	}
	kiln_build_result_release(&br);
	return 0;
}

int
cmd_rebake(int argc, char **argv)
{
	struct kiln_cli_common co = { 0 };
	struct rebake o = { .arch = "amd64", .when = WHEN_ANY };
	_cleanup_free_ char *init = NULL;
	const char *apt_root = getenv("KILN_APT_ROOT");
	struct kiln_ctx ctx;
	int c, rc;

	while ((c = kiln_cli_getopt(argc, argv, rebake_opts, "rebake", "rebake", &co, &rc)) != -1) {
		switch (c) {
		case 'k': o.key = optarg; break;
		case 'r': o.release = 1; break;
		case 'a': o.arch = optarg; break;
		case 'A': o.advisories_path = optarg; break;
		case 'w':
			if (!strcmp(optarg, "security"))
				o.when = WHEN_SECURITY;
			else if (!strcmp(optarg, "any"))
				o.when = WHEN_ANY;
			else if (!strcmp(optarg, "always"))
				o.when = WHEN_ALWAYS;
			else
				return kiln_cli_usage_error("rebake", "bad --when '%s': use security, any or always", optarg);
			break;
		default:
			return rc;
		}
	}
	if (optind == argc)
		return kiln_cli_usage_error("rebake", "expected one or more RECIPEs");
	if (!o.key)
		return kiln_cli_usage_error("rebake", "--key is required: every version it builds is signed");
	if ((rc = kiln_cli_setup("rebake", &co, &ctx)) != 0)
		return rc;
	o.apt_root = apt_root && *apt_root ? apt_root : "/";
	o.init = init = kiln_cli_find_init();
	if (o.advisories_path && kiln_advisories_load(&ctx, o.advisories_path, &o.adv) < 0)
		return kiln_cli_fail("rebake", &ctx);
	for (int i = optind; i < argc; i++) {
		kiln_error_clear(&ctx);
		if (rebake_one(&ctx, &o, argv[i]) < 0) {
			kiln_advisories_release(&o.adv);
			return kiln_cli_fail("rebake", &ctx);
		}
	}
	kiln_advisories_release(&o.adv);
	return 0;
}

/* kiln help rebake: the usage and what it does; the options print from their tables above */
const struct kiln_cmd kiln_cmd_rebake = {
	.name = "rebake",
	.fn = cmd_rebake,
	.summary = "build, sign and release the recipes that need it, and only those",
	.operands = "RECIPE...",
	.usage = "Resolves each recipe now and compares the result with the family's newest\n"
		 "version in the store: packages (names, versions, hashes; the kernel, the\n"
		 "base and a disk's EFI stub included), the recipe's hash and kiln-init's. When\n"
		 "all agree it prints 'up to date' and builds nothing. Otherwise (see --when)\n"
		 "it builds the next version, signed, with the assessment that called for it\n"
		 "(the reason, the pending updates and the CVEs they fix) recorded as the\n"
		 "manifest's \"rebake\", and with --release releases it. Meant to run daily: see\n"
		 "contrib/systemd/ and the README.\n",
	.opts = { rebake_opts },
	.footer = "Exit: 0 ok (up to date or built), then as kiln build and kiln release\n"
		  "for the first recipe that fails (the ones after it are not tried).\n",
};
