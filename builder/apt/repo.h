/* repo.h - verified Debian repository indexes, cached by content hash. */
#ifndef KILN_REPO_H
#define KILN_REPO_H

#include "kiln.h"
#include "fetch.h"
#include "recipe.h"

#define KILN_PACKAGES_MAX ((size_t)512 * 1024 * 1024)

/* One repository suite to read: where it is, which components, whom to trust. */
struct kiln_repo_spec {
	char *uri;
	char *suite;
	struct kiln_strv components;
	struct kiln_strv keyrings;
	char *inline_key;
};

/* A Packages index, verified and in the cache. */
struct kiln_packages_index {
	char *component;
	char *path;		/* relative to dists/SUITE, e.g. main/binary-amd64/Packages.xz */
	char sha256[65];
	uint64_t size;
	char *cache_path;	/* STORE/cache/sha256/HASH */
};

/* One suite, after its InRelease verified. */
struct kiln_repo_index {
	char *uri, *suite;
	char *origin, *label, *codename;
	time_t date;
	time_t rollback_from;	/* with --allow-older-index: the newer Date it replaced, else 0 */
	char inrelease_sha256[65];
	char fingerprint[65];	/* of the key that signed it */
	struct kiln_packages_index *packages;
	size_t n_packages;
};

/*
 * kiln_sources_expand() - turn a recipe's [Source] sections into suites to read
 * From=host sources are looked up in the apt sources below @apt_root.
 * Returns 0 and a new array in *@ret (free with kiln_repo_specs_free()), or -1
 * with an error on @ctx (exit 2 if a suite is not in the host's sources).
 */
int kiln_sources_expand(struct kiln_ctx *ctx, const struct kiln_recipe *r, const char *apt_root,
			struct kiln_repo_spec **ret, size_t *ret_n);
void kiln_repo_specs_free(struct kiln_repo_spec *s, size_t n);

/*
 * kiln_repo_index_load() - fetch (or take from the cache) and verify one suite
 * Fetches InRelease, verifies its OpenPGP signature against the spec's
 * keyrings, checks Suite/Codename and Valid-Until, then makes sure the
 * Packages index of each component for @arch is in @ctx->set->store's cache with
 * the size and SHA256 the signed index gives. Nothing unverified is cached.
 * Errors: exit 4 on signature/hash mismatch or expiry, 5 on fetch failure
 * (or missing from the cache with @ctx->set->offline), 2 on a bad index.
 */
int kiln_repo_index_load(struct kiln_ctx *ctx, const struct kiln_repo_spec *spec, const char *arch,
			 struct kiln_repo_index *ret);
void kiln_repo_index_release(struct kiln_repo_index *ri);

/*
 * The rollback memory: STORE/cache/dates/ holds, per InRelease URL, one line
 * "EPOCH ISO-DATE URL" with the newest Date: kiln accepted from it.
 * kiln_index_date_format() makes the line (caller frees);
 * kiln_index_date_parse() reads EPOCH back: 0, or -1 if it is not such a line.
 */
char *kiln_index_date_format(time_t date, const char *url);
int kiln_index_date_parse(const char *text, size_t len, time_t *ret);
/* "accepted URL dated D, older than D' seen before (--allow-older-index)" for an override, else NULL (caller frees). */
char *kiln_repo_index_rollback_note(const struct kiln_repo_index *ri);

/*
 * kiln_cache_fetch() - a file the signed index describes, from the cache or fetched
 * Fetches @url (first @alt_url, e.g. by-hash, when given), checks @size and
 * @sha256, stores it in STORE/cache/sha256/ atomically and returns its path
 * there (caller frees). Exit 4 on mismatch (nothing cached), 5 on fetch errors.
 * @watch (may be NULL) hears of the bytes as a download goes.
 */
int kiln_cache_fetch(struct kiln_ctx *ctx, const char *url, const char *alt_url, uint64_t size,
		     const char *sha256, uint64_t max, char **ret_path, const struct kiln_fetch_watch *watch);

/* STORE/cache/data/SHA256.tar: the decompressed data.tar of a cached .deb. Caller frees. */
char *kiln_cache_data_tar_path(struct kiln_ctx *ctx, const char *deb_sha256);

/* The cache paths: STORE/cache/sha256/HASH, STORE/cache/solv/HASH.solv. Caller frees. */
char *kiln_cache_blob_path(const char *store, const char *sha256);

#endif
