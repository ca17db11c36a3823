/* cmd-build.c - kiln build: bake a recipe into FAMILY/VERSION in the store; the path is printed last. */
#define _GNU_SOURCE
#include "build.h"
#include "catalog.h"
#include "cli.h"
#include "recipe.h"

#include <getopt.h>
#include <limits.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const struct kiln_opt build_opts[] = {
	KILN_OPT_STORE,
	{ "version", "V", 'v', "YYYY.MM.R (default: the patch month and the next free R)" },
	{ "key", "KEY", 'k', "sign manifest.json with this Ed25519 key (kiln keygen):\n" "manifest.json.sig" },
	{ "advisories", "F", 'A', "an advisory feed (OSV records, or the Debian security\n" "tracker's JSON): a package whose chosen version it marks\n" "fixed counts as a security update, with those ids" },
	{ "force", NULL, 'f', "rebuild a version that exists" },
	KILN_OPT_OFFLINE,
	KILN_OPT_ALLOW_EXPIRED,
	KILN_OPT_ALLOW_OLDER_INDEX,
	KILN_OPT_ARCH,
	KILN_OPT_NOW,
	KILN_OPT_HELP,
	{ 0 },
};

/* A one-line display on a terminal, as apt's: redrawn at most ten times a second. */
struct display {
	double t0, fetch_t0, last;
	int shown;
};


static void
show_progress(void *data, const struct kiln_progress *p)
{
	struct display *d = data;
	double t = kiln_monotonic_s();
	char line[160];

	if (strcmp(p->stage, "fetch") == 0 && p->done == 0)
		d->fetch_t0 = t;
	if (t - d->last < 0.1 && p->done && p->done != p->total)
		return;
	d->last = t;
	if (strcmp(p->stage, "fetch") == 0) {
		double secs = t - d->fetch_t0;

		snprintf(line, sizeof(line), "Get: %.1f of %.1f MB (%d%%)%s%.1f MB/s%s%s", p->done / 1e6, p->total / 1e6,
			 p->total ? (int)(100 * p->done / p->total) : 100, "  ", secs > 0.05 ? p->done / 1e6 / secs : 0.0,
			 p->item ? "  " : "", p->item ? p->item : "");
	} else if (strcmp(p->stage, "compose") == 0) {
		snprintf(line, sizeof(line), "Composing: %llu of %llu packages%s%s", (unsigned long long)p->done,
			 (unsigned long long)p->total, p->item ? "  " : "", p->item ? p->item : "");
	} else {
		snprintf(line, sizeof(line), "Compressing the image");
	}
	fprintf(stderr, "\r\033[K%s", line);
	d->shown = 1;
}

static void
display_end(struct display *d)
{
	if (d->shown)
		fputs("\r\033[K", stderr);
}

int
cmd_build(int argc, char **argv)
{
	struct kiln_cli_common co = { 0 };
	struct kiln_build_opts o = { .arch = "amd64", .source_date_epoch = -1 };
	_cleanup_(kiln_recipe_freep) struct kiln_recipe *r = NULL;
	_cleanup_free_ char *init = NULL;
	struct kiln_build_result res;
	_cleanup_(kiln_strv_releasep) struct kiln_strv released = { 0 };
	struct display disp = { .t0 = kiln_monotonic_s() };
	const char *sde = getenv("SOURCE_DATE_EPOCH"), *apt_root = getenv("KILN_APT_ROOT");
	struct kiln_ctx ctx;
	int c, rc;

	while ((c = kiln_cli_getopt(argc, argv, build_opts, "build", "build", &co, &rc)) != -1) {
		switch (c) {
		case 'v': o.version = optarg; break;
		case 'k': o.key_path = optarg; break;
		case 'A': o.advisories_path = optarg; break;
		case 'f': o.force = 1; break;
		case 'a': o.arch = optarg; break;
		default:
			return rc;
		}
	}
	if (optind != argc - 1)
		return kiln_cli_usage_error("build", "expected one RECIPE");
	if ((rc = kiln_cli_setup("build", &co, &ctx)) != 0)
		return rc;
	if (sde && *sde) {
		char *end;

		o.source_date_epoch = strtoll(sde, &end, 10);
		if (*end || o.source_date_epoch < 0)
			return kiln_cli_usage_error("build", "bad SOURCE_DATE_EPOCH '%s'", sde);
	}
	o.apt_root = apt_root && *apt_root ? apt_root : "/";
	o.init_path = init = kiln_cli_find_init();
	if (kiln_recipe_load(&ctx, argv[optind], &r) < 0)
		return kiln_cli_fail("build", &ctx);
	{
		/* released versions are immutable: the catalog says which (if there is one) */
		_cleanup_free_ char *db = kiln_asprintf("%s/catalog.db", ctx.set->store);

		if (access(db, F_OK) == 0) {
			_cleanup_(kiln_catalog_closep) struct kiln_catalog *cat = NULL;

			if (kiln_catalog_open(&ctx, ctx.set->store, &cat) < 0 ||
			    kiln_catalog_released_versions(&ctx, cat, r->family, &released) < 0)
				return kiln_cli_fail("build", &ctx);
			o.released = &released;
		}
	}
	if (isatty(STDERR_FILENO)) {
		o.progress = show_progress;
		o.progress_data = &disp;
	}
	rc = kiln_build(&ctx, r, &o, &res);
	display_end(&disp);
	if (rc < 0)
		return kiln_cli_fail("build", &ctx);
	fprintf(stderr, "kiln build: %s/%s: %zu packages (%zu with files in the image), %zu files, %zu modules; vmlinuz %llu bytes, "
		"initrd.img %llu bytes (%s, %zu segments, %zu from the cache); downloaded %zu packages (%.1f MB); %.1f s\n",
		r->family, res.version, res.n_packages, res.n_packages - res.n_dropped, res.n_files, res.n_modules,
		(unsigned long long)res.vmlinuz_size, (unsigned long long)res.initrd_size, r->compression, res.segments,
		res.reused, res.n_fetched,
		res.fetched_bytes / 1e6, kiln_monotonic_s() - disp.t0);
	for (size_t i = 0; i < res.warnings.n; i++)
		fprintf(stderr, "kiln build: warning: %s\n", res.warnings.v[i]);
	for (size_t i = 0; i < res.ignored.n; i++)
		fprintf(stderr, "kiln build: not acted on: %s\n", res.ignored.v[i]);
	printf("%s\n", res.dir);
	kiln_build_result_release(&res);
	return 0;
}

/* kiln help build: the usage and what it does; the options print from their tables above */
const struct kiln_cmd kiln_cmd_build = {
	.name = "build",
	.fn = cmd_build,
	.summary = "bake a recipe into an image version in the store",
	.operands = "RECIPE",
	.usage = "Resolves the recipe (see 'kiln help resolve'), fetches every package into the\n"
		 "cache (size and SHA256 checked against the signed index), and streams their\n"
		 "files into a cpio initramfs with kiln-init as /init, next to the kernel's\n"
		 "vmlinuz. The version directory STORE/FAMILY/VERSION holds vmlinuz, initrd.img,\n"
		 "manifest.json and files.tsv; it is assembled aside and renamed into place\n"
		 "last. Its path is printed last. SOURCE_DATE_EPOCH (default: the newest Date\n"
		 "of the sources' Release files) sets every mtime: the same recipe and\n"
		 "repository state give bit-identical images.\n",
	.opts = { build_opts },
	.footer = "Exit: 0 ok, 2 bad recipe or existing version, 3 a released version (never\n"
		  "rebuilt), 4 signature, hash, unsafe package content, a limit passed, a\n"
		  "rolled-back index or a downgrade, 5 fetch error.\n",
};
