/* cmd-release.c - kiln release: record a built, signed version in the catalog (after verifying it). */
#define _GNU_SOURCE
#include "catalog.h"
#include "cli.h"
#include "manifest.h"

#include <getopt.h>
#include <string.h>

static int
count_security(json_t *m)
{
	size_t i;
	json_t *u;
	int n = 0;

	json_array_foreach(json_object_get(m, "security_updates"), i, u)
		n += strcmp(json_string_value(json_object_get(u, "classification")), "security") == 0;
	return n;
}

/* Verifies @dir against --pubkey or one of the catalog's trusted keys; the signer's fingerprint in @fpr. */
static int
verify_release(struct kiln_ctx *ctx, struct kiln_catalog *cat, const char *dir, const char *pubkey, char fpr[65])
{
	struct kiln_verify_opts o = { .store = ctx->store };
	struct kiln_strv pems = { 0 };
	char *report = NULL;
	int rc = -1;

	if (pubkey) {
		char *pem = NULL;
		size_t len;

		o.pubkey = pubkey;
		if (kiln_read_file(ctx, pubkey, 65536, &pem, &len) < 0)
			return -1;
		kiln_sha256_hex(pem, len, fpr);
		free(pem);
		rc = kiln_manifest_verify(ctx, dir, &o, &report);
		free(report);
		return rc;
	}
	if (kiln_catalog_trusted(ctx, cat, &pems) < 0)
		return -1;
	if (pems.n == 0) {
		kiln_strv_release(&pems);
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "no trusted key to verify %s: 'kiln policy trust KEY.pub' or --pubkey", dir);
	}
	for (size_t i = 0; i < pems.n && rc < 0; i++) {
		struct kiln_ctx sub;

		kiln_ctx_init(&sub);
		sub.store = ctx->store;
		o.pubkey_pem = pems.v[i];
		rc = kiln_manifest_verify(&sub, dir, &o, &report);
		free(report);
		report = NULL;
		if (rc == 0)
			kiln_sha256_hex(pems.v[i], strlen(pems.v[i]), fpr);
		else if (i + 1 == pems.n)
			kiln_error(ctx, sub.code, "%s", sub.msg);
	}
	kiln_strv_release(&pems);
	return rc;
}

int
cmd_release(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pubkey", required_argument, NULL, 'p' },
		{ "released", required_argument, NULL, 'r' },
		{ "store", required_argument, NULL, 's' },
		{ "now", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct kiln_cli_common co = { 0 };
	const char *pubkey = NULL, *released = NULL;
	_cleanup_(kiln_catalog_closep) struct kiln_catalog *cat = NULL;
	_cleanup_free_ char *dir = NULL, *family = NULL, *version = NULL;
	struct kiln_release_info ri = { 0 };
	struct kiln_ctx ctx;
	char fpr[65], sha[65], day[21];
	json_t *m;
	int c, rc, is_new;

	while ((c = kiln_cli_getopt(argc, argv, opts, "release", "release", &co, &rc)) != -1) {
		switch (c) {
		case 'p': pubkey = optarg; break;
		case 'r': released = optarg; break;
		default:
			return rc;
		}
	}
	if (optind != argc - 1)
		return kiln_cli_usage_error("release", "expected one FAMILY/VERSION");
	if ((rc = kiln_cli_setup("release", &co, &ctx)) != 0)
		return rc;
	dir = kiln_cli_image_dir(&ctx, argv[optind], &family, &version);
	if (!dir)
		return kiln_cli_usage_error("release", "bad image name '%s': use FAMILY/VERSION", argv[optind]);
	ri.released = ctx.now - ctx.now % KILN_DAY;
	if (released && kiln_parse_iso8601(released, &ri.released) < 0)
		return kiln_cli_usage_error("release", "bad --released '%s': use YYYY-MM-DD", released);
	if ((rc = kiln_cli_catalog("release", &ctx, &cat)) != 0)
		return rc;
	/* verify before recording anything */
	if (verify_release(&ctx, cat, dir, pubkey, fpr) < 0 || !(m = kiln_manifest_load(&ctx, dir, sha)))
		return kiln_cli_fail("release", &ctx);
	if (strcmp(json_string_value(json_object_get(m, "family")), family) != 0 ||
	    strcmp(json_string_value(json_object_get(m, "version")), version) != 0) {
		kiln_error(&ctx, KILN_EXIT_INTEGRITY, "%s: the manifest is for %s/%s", dir,
			   json_string_value(json_object_get(m, "family")), json_string_value(json_object_get(m, "version")));
		json_decref(m);
		return kiln_cli_fail("release", &ctx);
	}
	ri.family = family;
	ri.version = version;
	ri.manifest_sha256 = sha;
	ri.signer = fpr;
	ri.security_updates = count_security(m);
	json_decref(m);
	if (kiln_catalog_begin(&ctx, cat) < 0)
		return kiln_cli_fail("release", &ctx);
	if (kiln_catalog_release(&ctx, cat, &ri, &is_new) < 0 || kiln_catalog_commit(&ctx, cat) < 0) {
		kiln_catalog_rollback(cat);
		return kiln_cli_fail("release", &ctx);
	}
	kiln_format_iso8601(ri.released, day);
	day[10] = '\0';
	if (is_new)
		printf("released %s/%s on %s (signed by %.16s…, %d security updates)\n", family, version, day, fpr,
		       ri.security_updates);
	else
		printf("%s/%s was already released with this manifest: nothing changed\n", family, version);
	return 0;
}
