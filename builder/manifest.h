/* manifest.h - reading and verifying an image version's signed manifest. */
#ifndef KILN_MANIFEST_H
#define KILN_MANIFEST_H

#include "kiln.h"

#define KILN_MANIFEST_MAX (64 * 1024 * 1024)

struct kiln_verify_opts {
	const char *pubkey;	/* PEM Ed25519 public key, or NULL */
	int allow_unsigned;	/* no manifest.json.sig is not an error */
	int deep;		/* every file of files.tsv inside initrd.img too */
	const char *store;	/* to check the chain against the previous version */
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

#endif
