/* releases.h - releasing a built version: verify it, then record exactly the verified manifest in the catalog. */
#ifndef KILN_RELEASES_H
#define KILN_RELEASES_H

#include "catalog.h"

struct kiln_release_result {
	char signer[65];	/* SHA-256 of the public key (PEM) that verified it */
	char manifest_sha256[65];	/* of the bytes that were verified, and recorded */
	int security_updates;
	int is_new;		/* 0: released before with this same manifest, nothing changed */
};

/*
 * kiln_release() - release @family/@version, built in @ctx->store
 * Verifies the version (signature by @pubkey_path, or by one of the
 * catalog's trusted keys when NULL; artifacts; files.tsv; that the manifest
 * is for @family/@version) and records it, released at @released, in one
 * transaction. The hash recorded is the hash of the bytes the signature was
 * checked on. Errors: exit 2 for a missing version, 4 for any verification
 * failure, no trusted key, or a version already released with another
 * manifest.
 */
int kiln_release(struct kiln_ctx *ctx, struct kiln_catalog *cat, const char *family, const char *version,
		 const char *pubkey_path, time_t released, struct kiln_release_result *ret);

#endif
