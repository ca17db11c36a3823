/* manifest.c - verify a version directory: signature first, then artifacts, files, chain. */
#define _GNU_SOURCE
#include "manifest.h"
#include "build.h"
#include "pkgarchive.h"
#include "recipe.h"

#include <dirent.h>
#include <jansson.h>
#include <string.h>
#include <sys/stat.h>

int
kiln_manifest_previous(const char *store, const char *family, const char *version, char **ret_version,
		       char ret_sha256[65])
{
	_cleanup_free_ char *dir = kiln_asprintf("%s/%s", store, family);
	char *best = NULL;
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		_cleanup_free_ char *m = NULL;
		struct stat st;

		if (!kiln_version_valid(de->d_name) || kiln_version_cmp(de->d_name, version) >= 0)
			continue;
		m = kiln_asprintf("%s/%s/manifest.json", dir, de->d_name);
		if (stat(m, &st) < 0 || (best && kiln_version_cmp(de->d_name, best) <= 0))
			continue;
		free(best);
		best = kiln_strdup(de->d_name);
	}
	closedir(d);
	if (!best)
		return 0;
	{
		_cleanup_free_ char *m = kiln_asprintf("%s/%s/manifest.json", dir, best);
		_cleanup_free_ char *data = NULL;
		struct kiln_ctx sub;
		size_t len;

		kiln_ctx_init(&sub);
		if (kiln_read_file(&sub, m, KILN_MANIFEST_MAX, &data, &len) < 0) {
			free(best);
			return 0;
		}
		kiln_sha256_hex(data, len, ret_sha256);
	}
	*ret_version = best;
	return 1;
}

static int
check_blob(struct kiln_ctx *ctx, const char *dir, const char *name, json_int_t size, const char *sha256,
	   struct kiln_buf *report)
{
	_cleanup_free_ char *path = kiln_asprintf("%s/%s", dir, name);
	_cleanup_free_ char *data = NULL;
	char actual[65];
	size_t len;

	if (strchr(name, '/') || !strcmp(name, "..") || !strcmp(name, "."))
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: bad artifact name '%s' in the manifest", dir, name);
	if (kiln_read_file(ctx, path, (size_t)4 << 30, &data, &len) < 0)
		return kiln_error_replace(ctx, KILN_EXIT_INTEGRITY, "%s: %s", dir, ctx->msg);
	kiln_sha256_hex(data, len, actual);
	if ((json_int_t)len != size)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: %s is %zu bytes, the manifest says %lld", dir, name, len,
				  (long long)size);
	if (strcmp(actual, sha256) != 0)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: %s has SHA256 %s, the manifest says %s", dir, name, actual, sha256);
	kiln_buf_addf(report, "ok %s (%zu bytes, sha256 %s)\n", name, len, actual);
	return 0;
}

/* Sorted copy of the lines of @text. Caller releases. */
static void
sorted_lines(const char *text, struct kiln_strv *out)
{
	const char *p = text;

	while (*p) {
		const char *nl = strchrnul(p, '\n');

		kiln_strv_push_take(out, kiln_strndup(p, nl - p));
		p = *nl ? nl + 1 : nl;
	}
	qsort(out->v, out->n, sizeof(*out->v), kiln_strcmp_p);
}

static int
check_deep(struct kiln_ctx *ctx, const char *dir, struct kiln_buf *report)
{
	_cleanup_free_ char *initrd = kiln_asprintf("%s/initrd.img", dir), *tsv_path = kiln_asprintf("%s/files.tsv", dir);
	_cleanup_free_ char *real = NULL, *tsv = NULL;
	_cleanup_(kiln_strv_releasep) struct kiln_strv a = { 0 };
	_cleanup_(kiln_strv_releasep) struct kiln_strv b = { 0 };
	size_t count, len;

	if (kiln_initrd_files_tsv(ctx, initrd, &real, &count) < 0 ||
	    kiln_read_file(ctx, tsv_path, (size_t)1 << 30, &tsv, &len) < 0)
		return -1;
	sorted_lines(tsv, &a);
	sorted_lines(real, &b);
	for (size_t i = 0; i < a.n || i < b.n; i++) {
		const char *x = i < a.n ? a.v[i] : NULL, *y = i < b.n ? b.v[i] : NULL;

		if (x && y && strcmp(x, y) == 0)
			continue;
		if (x && (!y || strcmp(x, y) < 0))
			return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: initrd.img differs from files.tsv at '%.*s'", dir,
					  (int)strcspn(x, "\t"), x);
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: initrd.img differs from files.tsv at '%.*s'", dir,
				  (int)strcspn(y, "\t"), y);
	}
	kiln_buf_addf(report, "ok every one of the %zu entries of initrd.img matches files.tsv\n", count);
	return 0;
}

static int
check_chain(struct kiln_ctx *ctx, const char *dir, json_t *root, const struct kiln_verify_opts *o,
	    struct kiln_buf *report)
{
	json_t *prev = json_object_get(root, "previous_manifest");
	const char *family = json_string_value(json_object_get(root, "family"));
	const char *pv = json_string_value(json_object_get(prev, "version"));
	const char *ps = json_string_value(json_object_get(prev, "sha256"));
	_cleanup_free_ char *path = NULL, *data = NULL;
	struct kiln_ctx sub;
	char actual[65];
	size_t len;

	if (!prev || json_is_null(prev)) {
		kiln_buf_addf(report, "ok first version of its family (no previous manifest)\n");
		return 0;
	}
	if (!family || !kiln_family_name_valid(family) || !pv || !kiln_version_valid(pv) || !ps)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: malformed previous_manifest", dir);
	path = kiln_asprintf("%s/%s/%s/manifest.json", o->store, family, pv);
	kiln_ctx_init(&sub);
	if (!o->store || kiln_read_file(&sub, path, KILN_MANIFEST_MAX, &data, &len) < 0) {
		kiln_buf_addf(report, "-- previous manifest %s/%s is not in the store: chain not checked\n", family, pv);
		return 0;
	}
	kiln_sha256_hex(data, len, actual);
	if (strcmp(actual, ps) != 0)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: the previous manifest %s/%s has SHA256 %s, this one links %s",
				  dir, family, pv, actual, ps);
	kiln_buf_addf(report, "ok chained to %s/%s (sha256 %s)\n", family, pv, ps);
	return 0;
}

static int
verify_parsed(struct kiln_ctx *ctx, const char *dir, const char *mpath, json_t *root,
	      const struct kiln_verify_opts *o, struct kiln_buf *report)
{
	json_t *arts = json_object_get(root, "artifacts"), *files = json_object_get(root, "files"), *a;
	const char *schema = json_string_value(json_object_get(root, "schema"));
	const char *fname = json_string_value(json_object_get(files, "name"));
	const char *fsha = json_string_value(json_object_get(files, "sha256"));
	_cleanup_free_ char *fp = NULL;
	struct stat st;
	size_t i;

	if (!json_is_array(arts) || !schema || strcmp(schema, "kiln.manifest/1") != 0)
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: not a kiln.manifest/1 document", mpath);
	json_array_foreach(arts, i, a) {
		const char *name = json_string_value(json_object_get(a, "name"));
		const char *sha = json_string_value(json_object_get(a, "sha256"));
		json_t *size = json_object_get(a, "size");

		if (!name || !sha || !json_is_integer(size))
			return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: malformed artifact entry %zu", mpath, i);
		if (check_blob(ctx, dir, name, json_integer_value(size), sha, report) < 0)
			return -1;
	}
	if (!fname || !fsha)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: malformed files entry", mpath);
	fp = kiln_asprintf("%s/%s", dir, fname);
	if (stat(fp, &st) < 0)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: %s is missing", dir, fname);
	if (check_blob(ctx, dir, fname, st.st_size, fsha, report) < 0 || check_chain(ctx, dir, root, o, report) < 0)
		return -1;
	if (o->deep && check_deep(ctx, dir, report) < 0)
		return -1;
	return 0;
}

int
kiln_manifest_verify(struct kiln_ctx *ctx, const char *dir, const struct kiln_verify_opts *o, char **ret_report)
{
	_cleanup_free_ char *mpath = kiln_asprintf("%s/manifest.json", dir), *spath = kiln_asprintf("%s/manifest.json.sig", dir);
	_cleanup_free_ char *data = NULL, *sig = NULL;
	struct kiln_buf report = { 0 };
	struct kiln_ctx sub;
	json_error_t jerr;
	json_t *root;
	size_t len, slen;
	int rc;

	if (kiln_read_file(ctx, mpath, KILN_MANIFEST_MAX, &data, &len) < 0)
		return -1;
	/* verify, then parse */
	kiln_ctx_init(&sub);
	if (kiln_read_file(&sub, spath, 4096, &sig, &slen) < 0) {
		if (!o->allow_unsigned)
			return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: unsigned (no manifest.json.sig; --allow-unsigned accepts it)", dir);
		kiln_buf_addf(&report, "-- unsigned: accepted by --allow-unsigned\n");
	} else if (!o->pubkey) {
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: signed manifest: --pubkey KEY.pub is needed to verify it", dir);
	} else {
		if (kiln_verify(ctx, o->pubkey, data, len, sig, slen, mpath) < 0)
			return -1;
		kiln_buf_addf(&report, "ok signature of manifest.json by %s\n", o->pubkey);
	}
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		kiln_buf_release(&report);
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: %s", mpath, jerr.line, jerr.text);
	}
	rc = verify_parsed(ctx, dir, mpath, root, o, &report);
	json_decref(root);
	if (rc < 0) {
		kiln_buf_release(&report);
		return -1;
	}
	*ret_report = kiln_buf_detach(&report, NULL);
	return 0;
}
