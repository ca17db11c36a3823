/* solve.h - Debian dependency resolution with libsolv, choosing as apt does. */
#ifndef KILN_SOLVE_H
#define KILN_SOLVE_H

#include "kiln.h"
#include "repo.h"

/* One resolved binary package and where to get it. */
struct kiln_pkg {
	char *name, *version, *arch;
	char *suite, *uri;	/* the repository suite it was chosen from */
	char *filename;		/* relative to uri, e.g. pool/main/r/redis/redis-server_….deb */
	uint64_t size;
	char sha256[65];
	char *source;		/* source package name */
	char *baseline;		/* best version outside the security suites, or NULL */
	int security;		/* chosen from a security suite */
};

struct kiln_pkgset {
	struct kiln_pkg *pkgs;	/* sorted by name */
	size_t n;
	unsigned rounds;	/* solver runs needed to agree with apt's choices */
};

struct kiln_solver;

/* A new, empty pool for @arch. Free with kiln_solver_free(). */
struct kiln_solver *kiln_solver_new(const char *arch);
void kiln_solver_free(struct kiln_solver *s);
static inline void kiln_solver_freep(struct kiln_solver **s) { kiln_solver_free(*s); }

/*
 * kiln_solver_add_index() - add every Packages index of a verified suite
 * Loads the parsed form from STORE/cache/solv/ when present, else parses the
 * cached Packages file and saves the parsed form there. @ri must outlive @s.
 */
int kiln_solver_add_index(struct kiln_ctx *ctx, struct kiln_solver *s, const struct kiln_repo_index *ri);

/* Adds an uncompressed Packages text as suite @suite of @uri (tests, fuzzing). */
int kiln_solver_add_packages_text(struct kiln_ctx *ctx, struct kiln_solver *s, const char *uri,
				  const char *suite, const char *text, size_t len);

/*
 * kiln_solver_resolve() - the closure of @install over Depends/Pre-Depends
 * Highest version wins across all suites; Recommends are not installed;
 * alternatives and virtual packages are chosen as apt chooses them.
 * Returns 0 and fills @ret (release with kiln_pkgset_release()), or -1 with
 * exit 2 and libsolv's problem text on @ctx.
 */
int kiln_solver_resolve(struct kiln_ctx *ctx, struct kiln_solver *s, const struct kiln_strv *install,
			struct kiln_pkgset *ret);

/* kiln_solver_package() - the highest version of package @name, without its dependencies (release with kiln_pkg_release()). */
int kiln_solver_package(struct kiln_ctx *ctx, struct kiln_solver *s, const char *name, struct kiln_pkg *ret);

/*
 * kiln_solver_kernel() - the concrete kernel image package for @name
 * Follows a metapackage (linux-image-cloud-amd64) through its Depends to the
 * versioned linux-image-ABI-FLAVOUR package. Its own dependencies are not
 * followed. Fills @ret (release with kiln_pkg_release()) and @ret_release
 * ("6.1.0-…-cloud-amd64", caller frees).
 */
int kiln_solver_kernel(struct kiln_ctx *ctx, struct kiln_solver *s, const char *name,
		       struct kiln_pkg *ret, char **ret_release);

/*
 * kiln_solver_mark_security() - flag the packages of @ps chosen from one of
 * @security_suites and record, for each package, the best version of that
 * name (else of its source) outside them and @update_suites — the release's
 * own — as pkg->baseline.
 */
void kiln_solver_mark_security(struct kiln_solver *s, struct kiln_pkgset *ps, const struct kiln_strv *security_suites,
			       const struct kiln_strv *update_suites);

/* Debian version comparison (dpkg's order): <0, 0, >0. */
int kiln_deb_version_cmp(const char *a, const char *b);

void kiln_pkg_release(struct kiln_pkg *p);
void kiln_pkgset_release(struct kiln_pkgset *ps);

#endif
