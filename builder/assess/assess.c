/* assess.c - a built version against what its recipe resolves to today. */
#define _GNU_SOURCE
#include "assess.h"
#include "changelog.h"
#include "manifest.h"
#include "pkgarchive.h"
#include "recipe.h"
#include "repo.h"
#include "solve.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEB_MAX ((uint64_t)2 * 1024 * 1024 * 1024)
#define CHANGELOG_GZ_MAX (16 * 1024 * 1024)

void
kiln_assessment_release(struct kiln_assessment *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].package);
		free(a->v[i].installed);
		free(a->v[i].candidate);
		free(a->v[i].suite);
		kiln_strv_release(&a->v[i].cves);
		kiln_strv_release(&a->v[i].advisories);
	}
	free(a->v);
	free(a->family);
	free(a->version);
	memset(a, 0, sizeof(*a));
}

/* One package on either side: name, version, SHA-256 of its .deb. */
struct side {
	const char *name, *version, *sha256;
	const struct kiln_pkg *pkg;	/* today's side only */
};

static int
side_cmp(const void *a, const void *b)
{
	return strcmp(((const struct side *)a)->name, ((const struct side *)b)->name);
}

static const char *
str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static void
add(struct kiln_assessment *a, const char *name, const char *installed, const char *candidate, const struct kiln_pkg *p)
{
	struct kiln_pending *x;

	a->v = kiln_realloc(a->v, (a->n + 1) * sizeof(*a->v));
	x = &a->v[a->n++];
	memset(x, 0, sizeof(*x));
	x->package = kiln_strdup(name);
	x->installed = installed ? kiln_strdup(installed) : NULL;
	x->candidate = candidate ? kiln_strdup(candidate) : NULL;
	x->suite = p ? kiln_strdup(p->suite) : NULL;
	x->security = p ? p->security : 0;
	x->pkg = p;
	a->n_security += x->security;
}

void
kiln_assess_compare(const struct kiln_resolution *res, json_t *m, struct kiln_assessment *ret)
{
	json_t *pkgs = json_object_get(m, "packages"), *x;
	json_t *k = json_object_get(m, "kernel"), *base = json_object_get(m, "base");
	json_t *stub = json_object_get(json_object_get(m, "disk"), "uefi_stub");
	size_t nb = 0, nn = 0, i = 0, j = 0, idx;
	struct side *before = kiln_calloc(json_array_size(pkgs) + 3, sizeof(*before));
	struct side *now = kiln_calloc(res->set.n + 3, sizeof(*now));
	struct kiln_assessment a = { 0 };

	a.family = kiln_strdup(str(m, "family"));
	a.version = kiln_strdup(str(m, "version"));
	a.recipe_changed = strcmp(str(json_object_get(m, "recipe"), "sha256"), res->recipe->sha256) != 0;
	json_array_foreach(pkgs, idx, x)
		before[nb++] = (struct side){ str(x, "name"), str(x, "version"), str(x, "sha256"), NULL };
	before[nb++] = (struct side){ str(base, "package"), str(base, "version"), str(base, "sha256"), NULL };
	if (stub)
		before[nb++] = (struct side){ str(stub, "package"), str(stub, "version"), str(stub, "sha256"), NULL };
	for (size_t n = 0; n < res->set.n; n++) {
		const struct kiln_pkg *p = &res->set.pkgs[n];

		now[nn++] = (struct side){ p->name, p->version, p->sha256, p };
	}
	now[nn++] = (struct side){ res->base.name, res->base.version, res->base.sha256, &res->base };
	if (res->uefi_stub.name)
		now[nn++] = (struct side){ res->uefi_stub.name, res->uefi_stub.version, res->uefi_stub.sha256, &res->uefi_stub };
	qsort(before, nb, sizeof(*before), side_cmp);
	qsort(now, nn, sizeof(*now), side_cmp);
	/* the kernel: one slot, whatever its package is called (an ABI bump renames it) */
	if (strcmp(str(k, "package"), res->kernel.name) || strcmp(str(k, "version"), res->kernel.version) ||
	    strcmp(str(k, "sha256"), res->kernel.sha256))
		add(&a, res->kernel.name, str(k, "version"), res->kernel.version, &res->kernel);
	while (i < nb || j < nn) {
		int c = i == nb ? 1 : j == nn ? -1 : strcmp(before[i].name, now[j].name);

		if (c < 0) {
			add(&a, before[i].name, before[i].version, NULL, NULL);
			i++;
		} else if (c > 0) {
			add(&a, now[j].name, NULL, now[j].version, now[j].pkg);
			j++;
		} else {
			if (strcmp(before[i].version, now[j].version) || strcmp(before[i].sha256, now[j].sha256))
				add(&a, now[j].name, before[i].version, now[j].version, now[j].pkg);
			i++;
			j++;
		}
	}
	free(before);
	free(now);
	*ret = a;
}

struct doc_read {
	const char *name;	/* the package whose doc directory is read */
	char *gz;		/* its changelog.Debian.gz */
	size_t len;
	char *link;		/* or where its doc directory links to */
};

static int
on_doc(struct kiln_ctx *ctx, void *user, const struct kiln_deb_entry *e, struct kiln_deb_reader *r)
{
	struct doc_read *d = user;
	const char *p = kiln_startswith(e->path, "./") ? e->path + 1 : e->path;
	_cleanup_free_ char *dir = kiln_asprintf("/usr/share/doc/%s", d->name);
	_cleanup_free_ char *log = kiln_asprintf("%s/changelog.Debian.gz", dir);

	if (e->type == KILN_ENT_SYMLINK && !strcmp(p, dir) && e->link && !d->link)
		d->link = kiln_strdup(strrchr(e->link, '/') ? strrchr(e->link, '/') + 1 : e->link);
	else if (e->type == KILN_ENT_FILE && !strcmp(p, log) && !d->gz)
		return kiln_deb_read(ctx, r, CHANGELOG_GZ_MAX, &d->gz, &d->len);
	return 0;
}

/* @p's .deb in the cache (fetched and checked when missing): its path (caller frees). */
static char *
fetch(struct kiln_ctx *ctx, const struct kiln_pkg *p)
{
	_cleanup_free_ char *url = kiln_asprintf("%s/%s", p->uri, p->filename);
	char *path = NULL;

	if (kiln_cache_fetch(ctx, url, NULL, p->size, p->sha256, DEB_MAX, &path, NULL) < 0)
		return NULL;
	return path;
}

/*
 * The gzip'd changelog that documents @p: STORE/cache/changelog/SHA256
 * (the .deb's hash) when read before, else from the package, or from the
 * package its doc directory links to.
 */
static int
changelog_gz(struct kiln_ctx *ctx, const struct kiln_resolution *res, const struct kiln_pkg *p, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *dir = kiln_asprintf("%s/cache/changelog", ctx->set->store);
	_cleanup_free_ char *cached = kiln_asprintf("%s/%s", dir, p->sha256);
	const struct kiln_pkg *q = p;
	struct doc_read d = { 0 };
	struct kiln_ctx sub;

	kiln_ctx_sub(&sub, ctx);
	if (kiln_read_file(&sub, cached, CHANGELOG_GZ_MAX, ret, ret_len) == 0)
		return 0;
	for (int hop = 0; hop < 2 && q; hop++) {
		_cleanup_free_ char *deb = fetch(ctx, q), *tar = NULL;

		if (!deb)
			return -1;
		tar = kiln_cache_data_tar_path(ctx, q->sha256);
		free(d.link);
		d = (struct doc_read){ .name = q->name };
		if (kiln_deb_foreach(ctx, deb, q->name, tar, NULL, on_doc, &d) < 0) {
			free(d.link);
			free(d.gz);
			return -1;
		}
		if (d.gz || !d.link)
			break;
		q = NULL;
		for (size_t i = 0; i < res->set.n && !q; i++)
			if (!strcmp(res->set.pkgs[i].name, d.link))
				q = &res->set.pkgs[i];
	}
	free(d.link);
	if (!d.gz) {
		*ret = NULL;
		*ret_len = 0;
		return 0;	/* no changelog: no ids, not an error */
	}
	if (kiln_mkdir_p(&sub, dir, 0755) == 0)
		kiln_write_atomic(&sub, cached, d.gz, d.len, 0644);
	*ret = d.gz;
	*ret_len = d.len;
	return 0;
}

static void
push_unique(struct kiln_strv *sv, const char *s)
{
	if (!kiln_strv_contains(sv, s))
		kiln_strv_push(sv, s);
}

void
kiln_assess_advisories(const struct kiln_advisories *adv, struct kiln_assessment *a)
{
	for (size_t i = 0; i < a->n; i++) {
		struct kiln_pending *x = &a->v[i];
		_cleanup_free_ char *rel = NULL;
		int hit = 0;

		if (!x->pkg || !x->candidate || !x->installed)
			continue;
		/* the release an advisory names: the suite's codename ("bookworm" for bookworm-security) */
		rel = kiln_strndup(x->pkg->suite, strcspn(x->pkg->suite, "-/"));
		for (size_t k = 0; k < adv->n; k++) {
			const struct kiln_advisory *d = &adv->v[k];

			if (strcmp(d->package, x->pkg->source ? x->pkg->source : x->package) && strcmp(d->package, x->package))
				continue;
			if ((d->release && strcmp(d->release, rel)) || kiln_deb_version_cmp(d->fixed, x->candidate) > 0 ||
			    kiln_deb_version_cmp(d->fixed, x->installed) <= 0)
				continue;
			hit = 1;
			for (size_t j = 0; j < d->ids.n; j++)
				push_unique(kiln_startswith(d->ids.v[j], "CVE-") ? &x->cves : &x->advisories, d->ids.v[j]);
		}
		if (hit && !x->security) {
			x->security = 1;
			a->n_security++;
		}
	}
}

int
kiln_assess_changelogs(struct kiln_ctx *ctx, const struct kiln_resolution *res, struct kiln_assessment *a)
{
	for (size_t i = 0; i < a->n; i++) {
		struct kiln_pending *x = &a->v[i];
		_cleanup_free_ char *gz = NULL, *text = NULL;
		size_t len = 0, tlen = 0;

		if (!x->pkg || !x->candidate)
			continue;
		if (changelog_gz(ctx, res, x->pkg, &gz, &len) < 0)
			return -1;
		if (!gz)
			continue;
		if (kiln_gunzip(ctx, gz, len, KILN_CHANGELOG_MAX, &text, &tlen) < 0)
			return kiln_error_replace(ctx, KILN_EXIT_INTEGRITY, "%s %s: its changelog: %s", x->package, x->candidate,
						  ctx->msg);
		kiln_changelog_fixes(text, tlen, x->installed, x->candidate, &x->cves, &x->advisories);
	}
	a->changelogs = 1;
	return 0;
}

int
kiln_assess_version(struct kiln_ctx *ctx, const char *family, const char *version, const char *recipe_path,
		    const char *arch, const char *apt_root, const struct kiln_advisories *adv, struct kiln_assessment *ret)
{
	_cleanup_free_ char *dir = kiln_asprintf("%s/%s/%s", ctx->set->store, family, version);
	_cleanup_free_ char *rpath = kiln_asprintf("%s/recipe", dir), *text = NULL;
	struct kiln_recipe *r = NULL;
	struct kiln_resolution res;
	struct stat st;
	json_t *m;
	size_t len;
	int rc;

	m = kiln_manifest_load(ctx, dir, NULL);
	if (!m)
		return -1;
	if (recipe_path) {
		/* against another recipe (the family's as it is now): what a rebuild from it would change */
		rc = kiln_recipe_load(ctx, recipe_path, &r);
		if (rc == 0 && strcmp(r->family, family))
			rc = kiln_error(ctx, KILN_EXIT_USAGE, "%s is a recipe for '%s', not '%s'", recipe_path, r->family, family);
		goto resolve;
	}
	if (stat(rpath, &st) < 0) {
		json_decref(m);
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s/%s has no recipe kept beside its manifest (built before kiln kept them): "
				  "rebuild it to assess it, or name one with --recipe", family, version);
	}
	rc = kiln_read_file(ctx, rpath, 1 << 20, &text, &len);
	if (rc == 0) {
		char hex[65];

		kiln_sha256_hex(text, len, hex);
		if (strcmp(hex, str(json_object_get(m, "recipe"), "sha256")))
			rc = kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: its SHA-256 is not the manifest's recipe.sha256", rpath);
	}
	/* the recipe as it was; its own name for messages (its [Files] are not read) */
	if (rc == 0)
		rc = kiln_recipe_parse(ctx, rpath, text, len, &r);
resolve:
	if (rc == 0)
		rc = kiln_resolve(ctx, r, arch, apt_root, &res);
	if (rc == 0) {
		kiln_assess_compare(&res, m, ret);
		if (adv)
			kiln_assess_advisories(adv, ret);
		rc = kiln_assess_changelogs(ctx, &res, ret);
		if (rc < 0)
			kiln_assessment_release(ret);
		else
			for (size_t i = 0; i < ret->n; i++)
				ret->v[i].pkg = NULL;	/* the resolution goes now */
		kiln_resolution_release(&res);
	}
	kiln_recipe_free(r);
	json_decref(m);
	return rc;
}

json_t *
kiln_assessment_json(const struct kiln_assessment *a)
{
	json_t *pending = json_array();

	for (size_t i = 0; i < a->n; i++) {
		const struct kiln_pending *x = &a->v[i];
		json_t *cves = json_array(), *advs = json_array();

		for (size_t k = 0; k < x->cves.n; k++)
			json_array_append_new(cves, json_string(x->cves.v[k]));
		for (size_t k = 0; k < x->advisories.n; k++)
			json_array_append_new(advs, json_string(x->advisories.v[k]));
		json_array_append_new(pending,
				      json_pack("{s:s, s:s?, s:s?, s:s?, s:s, s:o, s:o}", "package", x->package, "installed",
						x->installed, "candidate", x->candidate, "suite", x->suite, "classification",
						x->security ? "security" : "other", "cves", cves, "advisories", advs));
	}
	return json_pack("{s:s, s:s, s:b, s:I, s:I, s:o}", "family", a->family, "version", a->version, "up_to_date",
			 a->n == 0 && !a->recipe_changed, "security", (json_int_t)a->n_security, "other",
			 (json_int_t)(a->n - a->n_security), "pending", pending);
}
