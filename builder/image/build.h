/* build.h - kiln build: recipe → image version in the store (atomic, reproducible). */
#ifndef KILN_BUILD_H
#define KILN_BUILD_H

#include "kiln.h"
#include "names.h"
#include "recipe.h"

/* Where a build is, for a progress display (kiln_build_opts.progress). */
struct kiln_progress {
	const char *stage;	/* "fetch": bytes of packages downloaded; "compose": packages streamed into the image; "finish": compressing the last of it */
	uint64_t done, total;
	const char *item;	/* the package at hand, or NULL */
};

struct kiln_build_opts {
	const char *arch;	/* "amd64" */
	const char *apt_root;	/* for From=host */
	const char *version;	/* --version, or NULL for YYYY.MM.R */
	int force;		/* replace an existing version */
	const char *init_path;	/* the kiln-init binary */
	const char *key_path;	/* Ed25519 private key: sign manifest.json, or NULL */
	const char *advisories_path;	/* OSV or security-tracker JSON, or NULL */
	int64_t source_date_epoch;	/* -1: the newest Release Date */
	const struct kiln_strv *released;	/* versions of the family the catalog released: never built again; may be NULL */
	const char *rebake;		/* JSON text recorded as the manifest's "rebake" (why it was built), or NULL */
	/* called as the build goes (never for errors); may be NULL */
	void (*progress)(void *data, const struct kiln_progress *p);
	void *progress_data;
};

struct kiln_build_result {
	char *dir;		/* STORE/FAMILY/VERSION */
	char *version;
	size_t n_packages, n_files, n_modules;
	size_t n_dropped;	/* packages with no file in the image */
	uint64_t vmlinuz_size, initrd_size;
	size_t segments, reused;	/* initrd.img's compressed segments; of them, from STORE/cache/initrd/ */
	struct kiln_strv ignored;	/* package declarations kiln did not act on, each with its origin */
	struct kiln_strv warnings;	/* overrides that took effect (an older index accepted, a downgrade allowed) */
	size_t n_fetched;		/* packages downloaded (the rest came from the cache) */
	uint64_t fetched_bytes;
};

/*
 * kiln_build() - resolve, fetch, compose and write one image version
 * The version is assembled in STORE/.build-PID-FAMILY-VERSION and renamed
 * into place last. Users, groups and directories come from base-passwd's
 * master files, the packages' sysusers.d and tmpfiles.d, and the recipe.
 * Errors: as resolve, plus exit 2 for an existing version (without @force),
 * a recipe that does not fit the packages (Cmd or a step missing, unknown
 * user or group) or a package declaration kiln cannot make (naming package,
 * file and line), 4 for unsafe package content.
 */
int kiln_build(struct kiln_ctx *ctx, const struct kiln_recipe *r, const struct kiln_build_opts *o,
	       struct kiln_build_result *ret);
void kiln_build_result_release(struct kiln_build_result *res);


#endif
