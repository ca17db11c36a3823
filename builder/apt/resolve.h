/* resolve.h - recipe → verified indexes → the exact package set of the image. */
#ifndef KILN_RESOLVE_H
#define KILN_RESOLVE_H

#include "kiln.h"
#include "recipe.h"
#include "repo.h"
#include "solve.h"

/* The package the image's base users and groups come from (its master files; the package is not installed). */
#define KILN_BASE_PACKAGE "base-passwd"

struct kiln_resolution {
	const struct kiln_recipe *recipe;	/* borrowed */
	char *arch;
	struct kiln_repo_index *indexes;	/* one per suite read */
	size_t n_indexes;
	struct kiln_pkgset set;
	struct kiln_pkg kernel;
	char *kernel_release;
	struct kiln_pkg base;		/* KILN_BASE_PACKAGE */
	struct kiln_pkg uefi_stub;	/* KILN_UKI_STUB_PACKAGE, when the recipe wants a disk image; else name NULL */
};

/*
 * kiln_resolve() - resolve @r's packages and kernel for @arch
 * Reads sources (From=host below @apt_root), verifies and caches their
 * indexes in @ctx->set->store, and solves Install=; finds the kernel and
 * KILN_BASE_PACKAGE. Returns 0 and fills @ret (release with
 * kiln_resolution_release()), or -1 with an error on @ctx.
 */
int kiln_resolve(struct kiln_ctx *ctx, const struct kiln_recipe *r, const char *arch,
		 const char *apt_root, struct kiln_resolution *ret);
void kiln_resolution_release(struct kiln_resolution *res);

/* The resolution as one JSON document (caller frees). */
char *kiln_resolution_json(const struct kiln_resolution *res);

#endif
