/* releases.c - releasing a version: verify, then record the very bytes that were verified. */
#define _GNU_SOURCE
#include "releases.h"
#include "manifest.h"

#include <string.h>

static int
count_security(const struct kiln_manifest *m)
{
	int n = 0;

	for (size_t i = 0; i < m->n_updates; i++)
		n += m->updates[i].security;
	return n;
}

/* Verifies @dir with the key file @pubkey, or with one of the catalog's trusted keys; *@ret_m is what was verified. */
static int
verify(struct kiln_ctx *ctx, struct kiln_catalog *cat, const char *dir, const char *pubkey,
       struct kiln_release_result *res, json_t **ret_m)
{
	struct kiln_verify_opts o = { .store = ctx->set->store, .out_sha256 = res->manifest_sha256, .out_manifest = ret_m };
	_cleanup_(kiln_strv_releasep) struct kiln_strv pems = { 0 };
	_cleanup_free_ char *report = NULL;

	if (pubkey) {
		_cleanup_free_ char *pem = NULL;
		size_t len;

		o.pubkey = pubkey;
		if (kiln_read_file(ctx, pubkey, 65536, &pem, &len) < 0)
			return -1;
		kiln_sha256_hex(pem, len, res->signer);
		return kiln_manifest_verify(ctx, dir, &o, &report);
	}
	if (kiln_catalog_trusted(ctx, cat, &pems) < 0)
		return -1;
	if (pems.n == 0)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "no trusted key to verify %s: 'kiln policy trust KEY.pub' or --pubkey", dir);
	for (size_t i = 0; i < pems.n; i++) {
		struct kiln_ctx sub;

		kiln_ctx_sub(&sub, ctx);
		o.pubkey_pem = pems.v[i];
		free(report);
		report = NULL;
		if (kiln_manifest_verify(&sub, dir, &o, &report) == 0) {
			kiln_sha256_hex(pems.v[i], strlen(pems.v[i]), res->signer);
			return 0;
		}
		if (i + 1 == pems.n)
			return kiln_error(ctx, sub.code, "%s", sub.msg);
	}
	return -1;
}

int
kiln_release(struct kiln_ctx *ctx, struct kiln_catalog *cat, const char *family, const char *version,
	     const char *pubkey_path, time_t released, struct kiln_release_result *ret)
{
	_cleanup_free_ char *dir = kiln_asprintf("%s/%s/%s", ctx->set->store, family, version);
	struct kiln_release_result res = { 0 };
	struct kiln_release_info ri = { 0 };
	struct kiln_fix *fixes = NULL;
	struct kiln_manifest mm;
	json_t *m = NULL;
	int rc;

	/* verify before recording anything; the manifest's place (family, version) is part of it */
	if (verify(ctx, cat, dir, pubkey_path, &res, &m) < 0)
		return -1;
	kiln_manifest_read(m, &mm);
	res.security_updates = count_security(&mm);
	ri.n_fixes = kiln_manifest_fixes(&mm, &fixes);
	kiln_manifest_release(&mm);
	ri.fixes = fixes;
	json_decref(m);
	ri.family = family;
	ri.version = version;
	ri.released = released;
	ri.manifest_sha256 = res.manifest_sha256;
	ri.signer = res.signer;
	ri.security_updates = res.security_updates;
	rc = kiln_catalog_begin(ctx, cat);
	if (rc == 0)
		rc = kiln_catalog_release(ctx, cat, &ri, &res.is_new);
	if (rc == 0)
		rc = kiln_catalog_commit(ctx, cat);
	kiln_fixes_free(fixes, ri.n_fixes);
	if (rc < 0) {
		kiln_catalog_rollback(cat);
		return -1;
	}
	*ret = res;
	return 0;
}
