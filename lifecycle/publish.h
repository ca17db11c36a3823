/*
 * publish.h - kiln publish: the catalog as a static, signed repository any
 * web server or CDN can serve. Under @out:
 *   FAMILY/VERSION/manifest.json, manifest.json.sig   every released version's, as signed
 *   FAMILY/VERSION/sbom.cdx.json, sbom.spdx.json      its SBOMs (CycloneDX 1.5, SPDX 2.3)
 *   lifecycle.json                                    versions, dates, states, security counts, fixed CVEs
 *   keys/FINGERPRINT.pem                              the manifest signer keys the catalog trusts
 *   index.html, FAMILY/index.html, feed.atom          the pages and the lifecycle notices
 *   root.json, targets.json, snapshot.json, timestamp.json   TUF metadata over all of it
 * Republishing rewrites only files whose bytes change, and bumps a role's
 * version only when its content changes (or its expiry nears); timestamp
 * is re-signed every time.
 */
#ifndef KILN_PUBLISH_H
#define KILN_PUBLISH_H

#include "catalog.h"

struct kiln_publish_opts {
	const char *out;
	struct kiln_strv keys;		/* private key files: every role is signed by each */
	int threshold;			/* signatures each role needs (default: all keys) */
	time_t now;
};

/*
 * kiln_publish() - write the repository. *@ret_summary: {files, written,
 * unchanged, root, targets, snapshot, timestamp (versions)}. Errors: exit 2
 * for keys that are not the root's (rotation is not supported), 1 on
 * write failures, 4 for a version whose manifest does not verify.
 */
int kiln_publish(struct kiln_ctx *ctx, struct kiln_catalog *cat, const struct kiln_publish_opts *o, json_t **ret_summary);

#endif
