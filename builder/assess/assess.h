/*
 * assess.h - what a built version lacks today: its recipe resolved again
 * against the sources as they are now, compared package by package with
 * its manifest. Security updates are those chosen from a security suite;
 * their CVE and DSA/DLA ids come from the candidate's changelog, as a
 * build's do (the .deb fetched into the cache, its changelog kept there).
 */
#ifndef KILN_ASSESS_H
#define KILN_ASSESS_H

#include "kiln.h"
#include "advisories.h"
#include "resolve.h"

#include <jansson.h>

/* One difference between a version and what its recipe resolves to now. */
struct kiln_pending {
	char *package;
	char *installed;	/* the version's; NULL: new in the closure */
	char *candidate;	/* today's; NULL: no longer in the closure */
	char *suite;		/* the candidate's suite */
	int security;		/* the candidate comes from a security suite */
	struct kiln_strv cves, advisories;	/* fixed since @installed, from the candidate's changelog */
	const struct kiln_pkg *pkg;	/* the candidate in the resolution (borrowed), or NULL */
};

struct kiln_assessment {
	char *family, *version;
	struct kiln_pending *v;
	size_t n, n_security;
	int recipe_changed;	/* the recipe's hash differs from the manifest's */
	int changelogs;		/* the CVEs were read */
};
void kiln_assessment_release(struct kiln_assessment *a);

/*
 * kiln_assess_compare() - @res (a resolution now) against the version's
 * parsed manifest @m: packages, the kernel, the base-passwd package and a
 * disk's EFI stub, by name, version and SHA-256; the recipe by its hash.
 * Pending entries are sorted by package name.
 */
void kiln_assess_compare(const struct kiln_resolution *res, json_t *m, struct kiln_assessment *ret);

/*
 * kiln_assess_advisories() - an advisory feed's say: a pending update whose
 * candidate reaches an advisory's fixed version (for its source package and
 * release) that the installed version did not is a security update, with
 * the advisory's ids. The build's --advisories feed, for assess and rebake.
 */
void kiln_assess_advisories(const struct kiln_advisories *adv, struct kiln_assessment *a);

/*
 * kiln_assess_changelogs() - the CVE and DSA/DLA ids of each pending update
 * newer than the installed version, from its candidate's changelog (fetched
 * into STORE/cache: exit 4/5 as kiln_cache_fetch(); the changelog found in
 * the package, or through its doc directory's symlink in another package
 * of the resolution).
 */
int kiln_assess_changelogs(struct kiln_ctx *ctx, const struct kiln_resolution *res, struct kiln_assessment *a);

/*
 * kiln_assess_version() - assess FAMILY/VERSION of the store: its manifest
 * and the recipe it was built from (STORE/F/V/recipe, checked against the
 * manifest's recipe.sha256: exit 4 when it differs), or the recipe at
 * @recipe_path (a recipe of the same family, e.g. as it is now), resolved
 * again now (exit 5 without the sources), compared, with the changelogs'
 * ids. A version built before kiln kept its recipe, with no @recipe_path,
 * is exit 2.
 */
int kiln_assess_version(struct kiln_ctx *ctx, const char *family, const char *version, const char *recipe_path,
			const char *arch, const char *apt_root, const struct kiln_advisories *adv, struct kiln_assessment *ret);

/* {family, version, up_to_date, security, other, pending: [{package, installed, candidate, suite, classification, cves, advisories}]} */
json_t *kiln_assessment_json(const struct kiln_assessment *a);

#endif
