/*
 * tuf.h - the published repository's signed metadata, in The Update
 * Framework's model: root (the keys and thresholds of every role), targets
 * (every published file's length and SHA-256), snapshot (the targets
 * metadata's version and hash), timestamp (the snapshot's; short-lived).
 * Each is {"signed": {...}, "signatures": [{keyid, sig}]}; a signature is
 * Ed25519 (hex) over the "signed" object as canonical JSON (keys sorted, no
 * whitespace); a keyid is the SHA-256 of the key's canonical JSON.
 */
#ifndef KILN_TUF_H
#define KILN_TUF_H

#include "kiln.h"

#include <jansson.h>

#define KILN_TUF_SPEC "1.0.31"
#define KILN_TUF_META_MAX (64 * 1024 * 1024)
#define KILN_MANIFEST_MAX_PUB (64 * 1024 * 1024)

/* The canonical bytes of @j (a new string). */
char *kiln_tuf_canonical(json_t *j);

/* The key object of an Ed25519 public key (hex), and its keyid. */
json_t *kiln_tuf_key(const char *pub_hex);
void kiln_tuf_keyid(const char *pub_hex, char out[65]);

/* {"signed": @signed_obj, "signatures": [...]} signed with each of @keys (private key files); NULL with an error. */
json_t *kiln_tuf_sign(struct kiln_ctx *ctx, json_t *signed_obj, const struct kiln_strv *keys);

/*
 * kiln_tuf_check() - @doc as role @role under @root_signed (the trusted
 * root's "signed"): its _type, at least the role's threshold of distinct
 * keys of the role with good signatures, and not expired at @now. Returns
 * its "signed" (borrowed from @doc), or NULL with exit 4 naming what failed.
 */
json_t *kiln_tuf_check(struct kiln_ctx *ctx, json_t *root_signed, const char *role, json_t *doc, time_t now);

/* The version a role's "signed" says (0 when absent). */
long long kiln_tuf_version(json_t *signed_obj);

/*
 * kiln_tuf_client() - what a tenant or CI runs before trusting a published
 * repository at @src (a directory, file:// or http(s):// URL): timestamp,
 * snapshot and targets checked against the root at @root_path (signatures,
 * thresholds, expiry; snapshot and targets must agree with what the role
 * above them names: no mix-and-match), role versions never below what the
 * client last saw (the state file @state_path, updated after success: no
 * rollback), then every target's length and SHA-256, and every manifest's
 * Ed25519 signature by one of the published signer keys. *@ret_report
 * lists what was checked. Exit 4 naming the first failure, 5 fetch errors.
 */
int kiln_tuf_client(struct kiln_ctx *ctx, const char *src, const char *root_path, const char *state_path, time_t now,
		    json_t **ret_report);

#endif
