/* manifest.c - verify a version directory: signature first, then artifacts, files, chain. */
#define _GNU_SOURCE
#include "manifest.h"
#include "model.h"
#include "names.h"
#include "initrd.h"

#include <dirent.h>
#include <errno.h>
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
	char actual[65];
	struct stat st;

	if (strchr(name, '/') || !strcmp(name, "..") || !strcmp(name, "."))
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: bad artifact name '%s' in the manifest", dir, name);
	/* the size first: a disk image is read (streamed) only when it can match */
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: %s: %s", dir, name,
				  errno == ENOENT ? "missing" : "not a regular file");
	if ((json_int_t)st.st_size != size)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: %s is %lld bytes, the manifest says %lld", dir, name,
				  (long long)st.st_size, (long long)size);
	if (kiln_file_sha256(path, actual) < 0)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: cannot read %s: %s", dir, name, strerror(errno));
	if (strcmp(actual, sha256) != 0)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: %s has SHA256 %s, the manifest says %s", dir, name, actual, sha256);
	kiln_buf_addf(report, "ok %s (%lld bytes, sha256 %s)\n", name, (long long)st.st_size, actual);
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
	kiln_strv_sort(out);
}

char *
kiln_files_tsv_without_packages(const char *tsv)
{
	struct kiln_buf b = { 0 };

	kiln_buf_add(&b, "", 0);
	for (const char *p = tsv; *p;) {
		const char *nl = strchrnul(p, '\n'), *end = p;

		for (int tabs = 0; end < nl && !(*end == '\t' && ++tabs == 6); end++)
			;
		kiln_buf_add(&b, p, (size_t)(end - p));
		kiln_buf_add(&b, "\n", *nl ? 1 : 0);
		p = *nl ? nl + 1 : nl;
	}
	return kiln_buf_detach(&b, NULL);
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
	{
		_cleanup_free_ char *bare = kiln_files_tsv_without_packages(tsv);	/* the archive knows no packages */

		sorted_lines(bare, &a);
	}
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

/* The manifest says which FAMILY/VERSION it is: it must be the one at STORE/FAMILY/VERSION. */
static int
check_place(struct kiln_ctx *ctx, const char *dir, json_t *root, struct kiln_buf *report)
{
	const char *family = json_string_value(json_object_get(root, "family"));
	const char *version = json_string_value(json_object_get(root, "version"));
	_cleanup_free_ char *d = kiln_strdup(dir);
	char *v, *f;

	while (strlen(d) > 1 && d[strlen(d) - 1] == '/')
		d[strlen(d) - 1] = '\0';
	v = strrchr(d, '/');
	if (!v)
		return kiln_error(ctx, KILN_EXIT_USAGE, "'%s' is not STORE/FAMILY/VERSION", dir);
	*v++ = '\0';
	f = strrchr(d, '/') ? strrchr(d, '/') + 1 : d;
	if (!family || !version)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: the manifest names no family or version", dir);
	if (strcmp(family, f) != 0 || strcmp(version, v) != 0)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: the manifest is for %s/%s, not %s/%s (a bundle copied to another version)",
				  dir, family, version, f, v);
	kiln_buf_addf(report, "ok the manifest is for %s/%s\n", family, version);
	return 0;
}

int
kiln_files_tsv_check(struct kiln_ctx *ctx, const char *dir, const char *tsv, size_t len, long long count)
{
	size_t lines = 0;

	for (const char *p = tsv; p < tsv + len; lines++) {
		const char *nl = memchr(p, '\n', tsv + len - p);
		int tabs = 0;

		if (!nl)
			return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: files.tsv does not end with a newline", dir);
		for (const char *c = p; c < nl; c++) {
			tabs += *c == '\t';
			if ((unsigned char)*c < 0x20 && *c != '\t')
				return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: files.tsv line %zu has a control character", dir, lines + 1);
		}
		if (tabs != 5 && tabs != 6)	/* six fields before kiln recorded each file's package */
			return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: files.tsv line %zu has %d fields, not 7", dir, lines + 1, tabs + 1);
		p = nl + 1;
	}
	if ((long long)lines != count)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: files.tsv has %zu entries, the manifest counts %lld", dir, lines,
				  count);
	return 0;
}

/* files.tsv: as many well-formed lines (seven fields, or six as older builds wrote it; no control characters) as the manifest counts. */
static int
check_files_tsv(struct kiln_ctx *ctx, const char *dir, const char *path, json_t *count, struct kiln_buf *report)
{
	_cleanup_free_ char *tsv = NULL;
	size_t len;

	if (!json_is_integer(count) || json_integer_value(count) < 0)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: the manifest has no files count", dir);
	if (kiln_read_file(ctx, path, (size_t)1 << 30, &tsv, &len) < 0)
		return kiln_error_replace(ctx, KILN_EXIT_INTEGRITY, "%s: %s", dir, ctx->msg);
	if (kiln_files_tsv_check(ctx, dir, tsv, len, (long long)json_integer_value(count)) < 0)
		return -1;
	kiln_buf_addf(report, "ok files.tsv: %lld entries, as the manifest counts\n", (long long)json_integer_value(count));
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
	if (check_place(ctx, dir, root, report) < 0)
		return -1;
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
	if (check_blob(ctx, dir, fname, st.st_size, fsha, report) < 0 ||
	    check_files_tsv(ctx, dir, fp, json_object_get(files, "count"), report) < 0 ||
	    check_chain(ctx, dir, root, o, report) < 0)
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
	} else if (o->pubkey_pem) {
		if (kiln_verify_pem(ctx, o->pubkey_pem, data, len, sig, slen, mpath) < 0)
			return -1;
		kiln_buf_addf(&report, "ok signature of manifest.json by a trusted key\n");
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
	if (rc == 0 && o->out_sha256)
		kiln_sha256_hex(data, len, o->out_sha256);
	if (rc == 0 && o->out_manifest)
		*o->out_manifest = json_incref(root);
	json_decref(root);
	if (rc < 0) {
		kiln_buf_release(&report);
		return -1;
	}
	*ret_report = kiln_buf_detach(&report, NULL);
	return 0;
}

static int
strings_array(json_t *a)
{
	size_t i;
	json_t *v;

	if (!json_is_array(a))
		return 0;
	json_array_foreach(a, i, v)
		if (!json_is_string(v))
			return 0;
	return 1;
}

json_t *
kiln_manifest_parse(struct kiln_ctx *ctx, const char *what, const char *data, size_t len)
{
	json_error_t jerr;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr), *a, *v;
	const char *schema, *family, *version;
	size_t i;

	if (!root) {
		kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: %s", what, jerr.line, jerr.text);
		return NULL;
	}
	schema = json_string_value(json_object_get(root, "schema"));
	family = json_string_value(json_object_get(root, "family"));
	version = json_string_value(json_object_get(root, "version"));
	if (!json_is_object(root) || !schema || strcmp(schema, "kiln.manifest/1") != 0)
		goto bad;
	if (!family || !kiln_family_name_valid(family) || !version || !kiln_version_valid(version))
		goto bad;
	a = json_object_get(root, "packages");
	if (!json_is_array(a))
		goto bad;
	json_array_foreach(a, i, v)
		if (!json_is_string(json_object_get(v, "name")) || !json_is_string(json_object_get(v, "version")))
			goto bad;
	a = json_object_get(root, "security_updates");
	if (a && !json_is_array(a))
		goto bad;
	json_array_foreach(a, i, v) {
		json_t *prev = json_object_get(v, "previous");

		const char *c = json_string_value(json_object_get(v, "classification"));

		if (!json_is_string(json_object_get(v, "package")) || !json_is_string(json_object_get(v, "version")) ||
		    !c || (strcmp(c, "security") != 0 && strcmp(c, "other") != 0) || (prev && !json_is_null(prev) && !json_is_string(prev)) ||
		    !strings_array(json_object_get(v, "cves")) || !strings_array(json_object_get(v, "advisories")) ||
		    !strings_array(json_object_get(v, "fixed_cves")))
			goto bad;
	}
	a = json_object_get(root, "artifacts");
	if (!json_is_array(a))
		goto bad;
	json_array_foreach(a, i, v)
		if (!json_is_string(json_object_get(v, "name")) || !json_is_integer(json_object_get(v, "size")))
			goto bad;
	return root;
bad:
	json_decref(root);
	kiln_error(ctx, KILN_EXIT_USAGE, "%s: not a well-formed kiln.manifest/1 document", what);
	return NULL;
}

json_t *
kiln_manifest_load(struct kiln_ctx *ctx, const char *dir, char ret_sha256[65])
{
	char *path = kiln_asprintf("%s/manifest.json", dir), *data = NULL;
	json_t *m = NULL;
	size_t len;

	if (kiln_read_file(ctx, path, KILN_MANIFEST_MAX, &data, &len) == 0) {
		m = kiln_manifest_parse(ctx, path, data, len);
		if (ret_sha256)
			kiln_sha256_hex(data, len, ret_sha256);
	}
	free(path);
	free(data);
	return m;
}

static const struct kiln_manifest_pkg *
find_pkg(const struct kiln_manifest *m, const char *name)
{
	for (size_t i = 0; i < m->n_packages; i++)
		if (strcmp(m->packages[i].name, name) == 0)
			return &m->packages[i];
	return NULL;
}

static const char *
pkg_version(const struct kiln_manifest *m, const char *name)
{
	const struct kiln_manifest_pkg *p = find_pkg(m, name);

	return p ? p->version : NULL;
}

json_t *
kiln_manifest_diff(const struct kiln_manifest *old, const struct kiln_manifest *new)
{
	json_t *added = json_array(), *removed = json_array(), *upgraded = json_array(), *updates = json_array();
	json_t *arts = json_array();

	for (size_t i = 0; i < new->n_packages; i++) {
		const struct kiln_manifest_pkg *p = &new->packages[i];
		const char *ov = pkg_version(old, p->name);

		if (!ov)
			json_array_append_new(added, json_pack("{s:s, s:s}", "name", p->name, "version", p->version));
		else if (strcmp(ov, p->version) != 0)
			json_array_append_new(upgraded, json_pack("{s:s, s:s, s:s}", "name", p->name, "from", ov, "to",
								  p->version));
	}
	for (size_t i = 0; i < old->n_packages; i++) {
		const struct kiln_manifest_pkg *p = &old->packages[i];

		if (!pkg_version(new, p->name))
			json_array_append_new(removed, json_pack("{s:s, s:s}", "name", p->name, "version", p->version));
	}
	/* a security update is new when OLD did not already have that package at that version */
	for (size_t i = 0; i < new->n_updates; i++) {
		const struct kiln_manifest_update *u = &new->updates[i];
		const char *ov = pkg_version(old, u->package);

		if (ov && strcmp(ov, u->version) == 0)
			continue;
		json_array_append_new(updates, json_pack("{s:s, s:s, s:o, s:s, s:o, s:o}", "package", u->package,
							 "version", u->version, "previous", ov ? json_string(ov) : json_null(),
							 "classification", u->security ? "security" : "other",
							 "cves", kiln_strv_json(&u->cves), "advisories", kiln_strv_json(&u->advisories)));
	}
	for (size_t i = 0; i < new->n_artifacts; i++) {
		const struct kiln_manifest_artifact *a = &new->artifacts[i];
		json_int_t osize = -1;

		for (size_t j = 0; j < old->n_artifacts; j++)
			if (strcmp(old->artifacts[j].name, a->name) == 0)
				osize = (json_int_t)old->artifacts[j].size;
		json_array_append_new(arts, json_pack("{s:s, s:o, s:I}", "name", a->name,
						      "old_size", osize >= 0 ? json_integer(osize) : json_null(),
						      "new_size", (json_int_t)a->size));
	}
	return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "old", old->version, "new", new->version,
			 "added", added, "removed", removed, "upgraded", upgraded,
			 "security_updates", updates, "artifacts", arts);
}

char *
kiln_purl(const char *name, const char *version, const char *arch)
{
	static const char unreserved[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_~";
	struct kiln_buf b = { 0 };

	kiln_buf_add(&b, "pkg:deb/debian/", 15);
	for (int part = 0; part < 2; part++) {
		if (part)
			kiln_buf_add(&b, "@", 1);
		for (const char *c = part ? version : name; *c; c++)
			if (strchr(unreserved, *c))
				kiln_buf_add(&b, c, 1);
			else	/* "5:7.0.15" → 5%3A7.0.15, "libstdc++6" → libstdc%2B%2B6 */
				kiln_buf_addf(&b, "%%%02X", (unsigned char)*c);
	}
	kiln_buf_addf(&b, "?arch=%s", arch ? arch : "amd64");
	return kiln_buf_detach(&b, NULL);
}

int
kiln_manifest_package_in_image(const struct kiln_manifest *m, const char *package)
{
	const struct kiln_manifest_pkg *p = find_pkg(m, package);

	return !p || p->files != 0;
}

json_t *
kiln_manifest_vex(const struct kiln_manifest *m, const char *manifest_sha256)
{
	json_t *statements = json_array(), *out;
	json_t *by_cve[2] = { json_object(), json_object() };	/* [in image]: CVE → the packages that fix it */
	char *image = kiln_asprintf("urn:kiln:image:%s/%s", m->family, m->version);
	const char *cve;
	json_t *subs;
	char built[21];

	for (size_t i = 0; i < m->n_updates; i++) {
		const struct kiln_manifest_update *u = &m->updates[i];
		const struct kiln_manifest_pkg *p = find_pkg(m, u->package);
		json_t *map = by_cve[kiln_manifest_package_in_image(m, u->package)];

		for (size_t j = 0; j < u->fixed_cves.n; j++) {
			char *id = kiln_purl(u->package, u->version, p ? p->arch : NULL);

			cve = u->fixed_cves.v[j];
			if (!json_object_get(map, cve))
				json_object_set_new(map, cve, json_array());
			json_array_append_new(json_object_get(map, cve), json_pack("{s:s}", "@id", id));
			free(id);
		}
	}
	json_object_foreach(by_cve[1], cve, subs)
		json_array_append_new(statements, json_pack("{s:{s:s}, s:[{s:s, s:{s:s}, s:O}], s:s}",
							    "vulnerability", "name", cve,
							    "products", "@id", image, "hashes", "sha-256", manifest_sha256,
							    "subcomponents", subs,
							    "status", "fixed"));
	/* a package with no file in the image: whatever it fixes, its code is not there */
	json_object_foreach(by_cve[0], cve, subs)
		json_array_append_new(statements, json_pack("{s:{s:s}, s:[{s:s, s:{s:s}, s:O}], s:s, s:s, s:s}",
							    "vulnerability", "name", cve,
							    "products", "@id", image, "hashes", "sha-256", manifest_sha256,
							    "subcomponents", subs,
							    "status", "not_affected",
							    "justification", "vulnerable_code_not_present",
							    "impact_statement", "the package that fixes it has no file in the image"));
	json_decref(by_cve[0]);
	json_decref(by_cve[1]);
	kiln_format_iso8601(m->built, built);
	out = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:o}",
			"@context", "https://openvex.dev/ns/v0.2.0",
			"@id", image, "author", "kiln", "timestamp", built,
			"version", 1, "tooling", "kiln " KILN_VERSION, "statements", statements);
	free(image);
	return out;
}

static int
version_cmp_p(const void *a, const void *b)
{
	return kiln_version_cmp(*(char *const *)a, *(char *const *)b);
}

size_t
kiln_manifest_fixes(const struct kiln_manifest *m, struct kiln_fix **ret)
{
	struct kiln_fix *out = NULL;
	size_t n = 0;

	for (size_t i = 0; i < m->n_updates; i++) {
		const struct kiln_manifest_update *u = &m->updates[i];
		const struct kiln_strv *lists[] = { &u->fixed_cves, &u->cves, &u->advisories };
		struct kiln_strv ids = { 0 };

		for (size_t f = 0; f < ARRAY_SIZE(lists); f++)
			for (size_t j = 0; j < lists[f]->n; j++)
				if (!kiln_strv_contains(&ids, lists[f]->v[j]))
					kiln_strv_push(&ids, lists[f]->v[j]);
		for (size_t k = 0; k < ids.n; k++) {
			out = kiln_realloc(out, (n + 1) * sizeof(*out));
			out[n].id = kiln_strdup(ids.v[k]);
			out[n].package = kiln_strdup(u->package);
			out[n].in_image = kiln_manifest_package_in_image(m, u->package);
			out[n++].package_version = kiln_strdup(u->version);
		}
		kiln_strv_release(&ids);
	}
	*ret = out;
	return n;
}

void
kiln_fixes_free(struct kiln_fix *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].id);
		free(f[i].package);
		free(f[i].package_version);
	}
	free(f);
}

json_t *
kiln_fixes_find(struct kiln_ctx *ctx, const char *store, const char *id, const struct kiln_strv *only)
{
	json_t *families = json_array();
	struct kiln_strv fams = { 0 };
	DIR *d = opendir(store);
	struct dirent *de;

	while (d && (de = readdir(d)))
		if (kiln_family_name_valid(de->d_name))
			kiln_strv_push(&fams, de->d_name);
	if (d)
		closedir(d);
	kiln_strv_sort(&fams);
	for (size_t f = 0; f < fams.n; f++) {
		_cleanup_free_ char *fdir = kiln_asprintf("%s/%s", store, fams.v[f]);
		_cleanup_(kiln_strv_releasep) struct kiln_strv vers = { 0 };
		json_t *versions = json_array();

		d = opendir(fdir);
		while (d && (de = readdir(d)))
			if (kiln_version_valid(de->d_name))
				kiln_strv_push(&vers, de->d_name);
		if (d)
			closedir(d);
		if (vers.n > 1)
			qsort(vers.v, vers.n, sizeof(*vers.v), version_cmp_p);
		for (size_t v = 0; v < vers.n; v++) {
			_cleanup_free_ char *vdir = kiln_asprintf("%s/%s", fdir, vers.v[v]);
			struct kiln_ctx sub;
			json_t *m;

			if (only) {
				_cleanup_free_ char *fv = kiln_asprintf("%s/%s", fams.v[f], vers.v[v]);

				if (!kiln_strv_contains(only, fv))
					continue;
			}
			kiln_ctx_init(&sub);
			m = kiln_manifest_load(&sub, vdir, NULL);
			if (!m)
				continue;	/* not a (readable) image version: skipped */
			{
				struct kiln_fix *fx = NULL;
				struct kiln_manifest mm;
				size_t nf;

				kiln_manifest_read(m, &mm);
				nf = kiln_manifest_fixes(&mm, &fx);
				kiln_manifest_release(&mm);

				for (size_t k = 0; k < nf; k++)
					if (strcmp(fx[k].id, id) == 0)
						json_array_append_new(versions, json_pack("{s:s, s:s, s:s, s:b}", "version", vers.v[v],
											  "package", fx[k].package,
											  "package_version", fx[k].package_version,
											  "in_image", fx[k].in_image));
				kiln_fixes_free(fx, nf);
			}
			json_decref(m);
		}
		if (json_array_size(versions))
			json_array_append_new(families, json_pack("{s:s, s:O, s:o}", "family", fams.v[f], "first",
								  json_object_get(json_array_get(versions, 0), "version"),
								  "versions", versions));
		else
			json_decref(versions);
	}
	kiln_strv_release(&fams);
	(void)ctx;
	return json_pack("{s:s, s:o}", "id", id, "families", families);
}
