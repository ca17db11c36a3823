/* manifest.h - reading and verifying an image version's signed manifest. */
#ifndef KILN_MANIFEST_H
#define KILN_MANIFEST_H

#include "kiln.h"
#include "model.h"

#include <jansson.h>

#define KILN_MANIFEST_MAX (64 * 1024 * 1024)

struct kiln_verify_opts {
	const char *pubkey;	/* PEM Ed25519 public key file, or NULL */
	const char *pubkey_pem;	/* ... or its PEM text */
	int allow_unsigned;	/* no manifest.json.sig is not an error */
	int deep;		/* every file of files.tsv inside initrd.img too */
	const char *store;	/* to check the chain against the previous version */
	/* on success, when not NULL: the SHA-256 of the very bytes verified, and their parsed form (caller decrefs) */
	char *out_sha256;	/* [65] */
	json_t **out_manifest;
};

/*
 * kiln_manifest_verify() - check a version directory
 * In order: the signature over the exact bytes of manifest.json (before the
 * JSON is parsed), every artifact's size and SHA-256, files.tsv's hash, the
 * previous_manifest link when that version is in the store, and with @deep
 * every entry of the initramfs against files.tsv. Exit 4 naming what differs;
 * exit 2 for a missing or unparsable manifest. *@ret_report (caller frees)
 * lists what was checked.
 */
int kiln_manifest_verify(struct kiln_ctx *ctx, const char *dir, const struct kiln_verify_opts *o, char **ret_report);

/*
 * kiln_manifest_previous() - the newest version of @family in @store older
 * than @version that has a manifest: its version and the manifest's SHA-256.
 * Returns 1 and fills the outputs (caller frees *@ret_version), 0 if none.
 */
int kiln_manifest_previous(const char *store, const char *family, const char *version, char **ret_version,
			   char ret_sha256[65]);

#include <jansson.h>

/*
 * kiln_manifest_parse() - parse and check the shape of a manifest
 * Checks schema, family, version, packages[] and security_updates[] (types
 * of every field kiln reads): the shape kiln_manifest_format() (write.h)
 * writes from struct kiln_manifest. Returns the document (json_decref() it) or
 * NULL with exit 2 naming @what.
 */
json_t *kiln_manifest_parse(struct kiln_ctx *ctx, const char *what, const char *data, size_t len);

/* Reads STORE-relative DIR/manifest.json and parses it; *@ret_sha256 gets its hash when not NULL. */
json_t *kiln_manifest_load(struct kiln_ctx *ctx, const char *dir, char ret_sha256[65]);

/* kiln manifest diff as one JSON object: packages added/removed/upgraded, new security updates, artifacts. */
json_t *kiln_manifest_diff(const struct kiln_manifest *old, const struct kiln_manifest *new);

/* The package URL of a Debian package: pkg:deb/debian/NAME@VERSION?arch=ARCH, percent-encoded as purl wants (caller frees). */
char *kiln_purl(const char *name, const char *version, const char *arch);

/*
 * An SBOM of the version @m describes (its manifest's bytes hash to
 * @manifest_sha256): the image as the root component, the kernel, the
 * packages as purls with their .debs' SHA-256, base-passwd and a disk's EFI
 * stub, the artifacts as files with their hashes. CycloneDX 1.5 JSON, or
 * SPDX 2.3 JSON. Deterministic: the same manifest gives the same bytes.
 */
json_t *kiln_manifest_cyclonedx(const struct kiln_manifest *m, const char *manifest_sha256);
json_t *kiln_manifest_spdx(const struct kiln_manifest *m, const char *manifest_sha256);

/*
 * An OpenVEX document: per CVE the image's packages fix, a "fixed" statement
 * for the packages the image holds and a "not_affected" one (justification
 * vulnerable_code_not_present) for those it dropped.
 */
json_t *kiln_manifest_vex(const struct kiln_manifest *m, const char *manifest_sha256);

/*
 * One fix a version carries: a CVE, DSA or DLA id, and the package (version)
 * that fixes it; @in_image is 0 when the package has no file in the image
 * (its code is not there: the version is not affected rather than fixed).
 */
struct kiln_fix {
	char *id, *package, *package_version;
	int in_image;
};

/* Does the image hold a file of @package? (1 also when the manifest does not say: older manifests kept every package.) */
int kiln_manifest_package_in_image(const struct kiln_manifest *m, const char *package);

/*
 * kiln_manifest_fixes() - every fix @m's security updates list (their cves,
 * fixed_cves and advisories, each id once per update), in manifest order.
 * Returns the count; *@ret is a new array: free with kiln_fixes_free().
 */
size_t kiln_manifest_fixes(const struct kiln_manifest *m, struct kiln_fix **ret);
void kiln_fixes_free(struct kiln_fix *f, size_t n);

/*
 * kiln_files_tsv_check() - @tsv (of @len bytes, from version @dir) is @count
 * lines of seven tab-separated fields (path, mode, uid, gid, size, sha256,
 * package; six, without the package, as builds before it wrote them), each
 * ending in a newline, with no control character but the tabs: 0, or -1
 * with exit 4 naming the line.
 */
int kiln_files_tsv_check(struct kiln_ctx *ctx, const char *dir, const char *tsv, size_t len, long long count);

/* files.tsv without its package column: what the initramfs itself can tell (a new string). */
char *kiln_files_tsv_without_packages(const char *tsv);

/*
 * kiln_fixes_find() - which versions in @store contain the fix for @id (a CVE
 * or DSA/DLA id): a JSON object {id, families: [{family, first, versions:
 * [{version, package, package_version}]}]}, versions in order. With @only
 * ("FAMILY/VERSION" strings), only those versions are looked at: the HTTP
 * API passes the released ones.
 */
json_t *kiln_fixes_find(struct kiln_ctx *ctx, const char *store, const char *id, const struct kiln_strv *only);

#endif
