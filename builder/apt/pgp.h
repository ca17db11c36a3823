/* pgp.h - OpenPGP verification of InRelease files, by gpgv. */
#ifndef KILN_PGP_H
#define KILN_PGP_H

#include "kiln.h"

/*
 * kiln_pgp_verify_clearsigned() - verify a clearsigned document with gpgv
 * @what:     the document's URL, for messages
 * @keyrings: keyring files (binary or ASCII-armored) holding the trusted keys
 * @inline_key: an ASCII-armored key block to trust as well, or NULL
 *
 * Returns 0 with the signed text, as gpgv extracted it, in *@ret_text
 * (caller frees) and the signing key's fingerprint in @ret_fpr; -1 with an
 * error on @ctx: exit 4 when the signature is bad, missing or made by a key
 * not in the keyrings, exit 2 when a keyring cannot be read.
 */
int kiln_pgp_verify_clearsigned(struct kiln_ctx *ctx, const char *what,
				const struct kiln_strv *keyrings, const char *inline_key,
				const char *data, size_t len, char **ret_text, size_t *ret_len,
				char ret_fpr[65]);

/*
 * kiln_pgp_dearmor() - turn ASCII-armored key blocks into binary packets
 * Returns 0 and a new buffer, or -1 if @data holds no well-formed block.
 */
int kiln_pgp_dearmor(const char *data, size_t len, unsigned char **ret, size_t *ret_len);

#endif
