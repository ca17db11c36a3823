/* tuf.c - signed metadata in TUF's model: canonical bytes, keys, signing, checking, and the client. */
#define _GNU_SOURCE
#include "tuf.h"
#include "fetch.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

char *
kiln_tuf_canonical(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	if (!s)
		abort();
	return s;
}

json_t *
kiln_tuf_key(const char *pub_hex)
{
	return json_pack("{s:s, s:s, s:{s:s}}", "keytype", "ed25519", "scheme", "ed25519", "keyval", "public", pub_hex);
}

void
kiln_tuf_keyid(const char *pub_hex, char out[65])
{
	json_t *k = kiln_tuf_key(pub_hex);
	_cleanup_free_ char *c = kiln_tuf_canonical(k);

	kiln_sha256_hex(c, strlen(c), out);
	json_decref(k);
}

json_t *
kiln_tuf_sign(struct kiln_ctx *ctx, json_t *signed_obj, const struct kiln_strv *keys)
{
	_cleanup_free_ char *bytes = kiln_tuf_canonical(signed_obj);
	json_t *sigs = json_array();

	for (size_t i = 0; i < keys->n; i++) {
		char pub[65], id[65], sig[129];

		if (kiln_key_public_hex(ctx, keys->v[i], 1, pub) < 0 ||
		    kiln_sign_hex(ctx, keys->v[i], bytes, strlen(bytes), sig) < 0) {
			json_decref(sigs);
			return NULL;
		}
		kiln_tuf_keyid(pub, id);
		json_array_append_new(sigs, json_pack("{s:s, s:s}", "keyid", id, "sig", sig));
	}
	return json_pack("{s:O, s:o}", "signed", signed_obj, "signatures", sigs);
}

long long
kiln_tuf_version(json_t *signed_obj)
{
	return json_integer_value(json_object_get(signed_obj, "version"));
}

json_t *
kiln_tuf_check(struct kiln_ctx *ctx, json_t *root_signed, const char *role, json_t *doc, time_t now)
{
	json_t *s = json_object_get(doc, "signed"), *r = json_object_get(json_object_get(root_signed, "roles"), role);
	json_t *keys = json_object_get(root_signed, "keys"), *sigs = json_object_get(doc, "signatures"), *x;
	json_t *good = json_object();
	const char *type = json_string_value(json_object_get(s, "_type"));
	const char *exp = json_string_value(json_object_get(s, "expires"));
	long long threshold = json_integer_value(json_object_get(r, "threshold"));
	_cleanup_free_ char *bytes = NULL;
	time_t expires;
	size_t i;
	int n;

	if (!json_is_object(s) || !type || strcmp(type, role)) {
		json_decref(good);
		kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s.json: not %s metadata", role, role);
		return NULL;
	}
	if (!r || threshold < 1) {
		json_decref(good);
		kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s.json: the root gives the %s role no keys or threshold", role, role);
		return NULL;
	}
	bytes = kiln_tuf_canonical(s);
	json_array_foreach(sigs, i, x) {
		const char *id = json_string_value(json_object_get(x, "keyid"));
		const char *pub = json_string_value(json_object_get(json_object_get(json_object_get(keys, id ? id : ""), "keyval"), "public"));
		int listed = 0;
		size_t k;
		json_t *y;

		json_array_foreach(json_object_get(r, "keyids"), k, y)
			listed |= id && json_is_string(y) && !strcmp(json_string_value(y), id);
		/* a key counts once, whatever it signed twice */
		if (listed && pub && !json_object_get(good, id) &&
		    kiln_verify_raw_hex(pub, bytes, strlen(bytes), json_string_value(json_object_get(x, "sig"))))
			json_object_set_new(good, id, json_true());
	}
	n = (int)json_object_size(good);
	json_decref(good);
	if (n < threshold) {
		kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s.json: %d good signature%s of the %s role's keys, its threshold is %lld", role,
			   n, n == 1 ? "" : "s", role, threshold);
		return NULL;
	}
	if (!exp || kiln_parse_iso8601(exp, &expires) < 0) {
		kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s.json: no expiry date", role);
		return NULL;
	}
	if (expires <= now) {
		kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s.json: expired %s (a frozen repository, or a replayed one)", role, exp);
		return NULL;
	}
	return s;
}

/* @name of the repository at @src: a directory, or a file://, http:// or https:// URL. */
static int
get(struct kiln_ctx *ctx, const char *src, const char *name, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *where = NULL;
	size_t n = strlen(src);

	while (n > 1 && src[n - 1] == '/')
		n--;
	where = kiln_asprintf("%.*s/%s", (int)n, src, name);
	if (kiln_startswith(src, "http://") || kiln_startswith(src, "https://") || kiln_startswith(src, "file://"))
		return kiln_fetch(ctx, where, max, ret, ret_len, NULL, NULL);
	if (kiln_read_file(ctx, where, max, ret, ret_len) < 0)
		return kiln_error_replace(ctx, KILN_EXIT_FETCH, "%s", ctx->msg);
	return 0;
}

/* A target's path: relative, no "..", no empty or dot components, printable. */
static int
path_ok(const char *p)
{
	if (!*p || *p == '/' || strlen(p) > 512)
		return 0;
	for (const char *c = p; *c; c++)
		if ((unsigned char)*c < 0x21 || *c == '\\' || *c == 0x7f)
			return 0;
	for (const char *seg = p; seg;) {
		const char *slash = strchr(seg, '/');
		size_t l = slash ? (size_t)(slash - seg) : strlen(seg);

		if (l == 0 || (l == 1 && seg[0] == '.') || (l == 2 && !strncmp(seg, "..", 2)))
			return 0;
		seg = slash ? slash + 1 : NULL;
	}
	return 1;
}

/* The role's version against the client's memory: never back. */
static int
not_older(struct kiln_ctx *ctx, json_t *seen, const char *role, long long v)
{
	long long before = json_integer_value(json_object_get(seen, role));

	if (v < before)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s.json: version %lld is older than version %lld seen before (a rollback)",
				  role, v, before);
	return 0;
}

/* A role named by the one above: fetched, its length and hash (when given) checked, then the role itself. */
static json_t *
fetch_role(struct kiln_ctx *ctx, const char *src, json_t *root_s, const char *role, json_t *meta, time_t now, json_t **ret_doc)
{
	_cleanup_free_ char *name = kiln_asprintf("%s.json", role), *data = NULL;
	const char *want = json_string_value(json_object_get(json_object_get(meta, "hashes"), "sha256"));
	json_int_t length = json_integer_value(json_object_get(meta, "length"));
	json_t *doc, *s;
	char hex[65];
	size_t len;

	if (get(ctx, src, name, KILN_TUF_META_MAX, &data, &len) < 0)
		return NULL;
	kiln_sha256_hex(data, len, hex);
	if ((length && (json_int_t)len != length) || (want && strcmp(want, hex))) {
		kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: its length or SHA-256 is not what the role above it signed", name);
		return NULL;
	}
	doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL);
	if (!doc) {
		kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: not JSON", name);
		return NULL;
	}
	s = kiln_tuf_check(ctx, root_s, role, doc, now);
	if (!s) {
		json_decref(doc);
		return NULL;
	}
	if (meta && json_is_integer(json_object_get(meta, "version")) &&
	    kiln_tuf_version(s) != json_integer_value(json_object_get(meta, "version"))) {
		kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: version %lld, but the role above it names version %lld (mixed metadata)", name,
			   kiln_tuf_version(s), (long long)json_integer_value(json_object_get(meta, "version")));
		json_decref(doc);
		return NULL;
	}
	*ret_doc = doc;
	return s;
}

/* Every target: its length and hash; the manifests' signatures by a published signer key. */
static int
check_targets(struct kiln_ctx *ctx, const char *src, json_t *targets, size_t *ret_files, size_t *ret_manifests)
{
	json_t *t, *pems = json_array();
	const char *path;
	size_t files = 0, manifests = 0;
	int rc = 0;

	json_object_foreach(targets, path, t) {
		_cleanup_free_ char *data = NULL;
		json_int_t length = json_integer_value(json_object_get(t, "length"));
		const char *want = json_string_value(json_object_get(json_object_get(t, "hashes"), "sha256"));
		char hex[65];
		size_t len;

		if (!path_ok(path) || length < 0 || !want) {
			rc = kiln_error(ctx, KILN_EXIT_INTEGRITY, "targets.json: bad target '%s'", path);
			break;
		}
		/* one byte more than signed: a longer file is a mismatch, not a fetch error */
		if (get(ctx, src, path, (size_t)length + 1, &data, &len) < 0) {
			if (ctx->code == KILN_EXIT_FETCH && strstr(ctx->msg, "too large"))
				kiln_error_replace(ctx, KILN_EXIT_INTEGRITY, "%s: its length or SHA-256 is not what targets.json signed", path);
			rc = -1;
			break;
		}
		kiln_sha256_hex(data, len, hex);
		if ((json_int_t)len != length || strcmp(hex, want)) {
			rc = kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: its length or SHA-256 is not what targets.json signed", path);
			break;
		}
		if (kiln_startswith(path, "keys/") && strlen(path) > 4 && !strcmp(path + strlen(path) - 4, ".pem"))
			json_array_append_new(pems, json_string(data));
		files++;
	}
	/* every manifest with its signature, by one of the signer keys the repository publishes */
	json_object_foreach(targets, path, t) {
		_cleanup_free_ char *sigpath = NULL, *m = NULL, *sig = NULL;
		size_t ml, sl, k;
		json_t *pem;
		int good = 0;

		if (rc < 0)
			break;
		if (strlen(path) < 14 || strcmp(path + strlen(path) - 14, "/manifest.json"))
			continue;
		sigpath = kiln_asprintf("%s.sig", path);
		if (!json_object_get(targets, sigpath)) {
			rc = kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: published without its signature", path);
			break;
		}
		if (get(ctx, src, path, KILN_MANIFEST_MAX_PUB, &m, &ml) < 0 || get(ctx, src, sigpath, 4096, &sig, &sl) < 0) {
			rc = -1;
			break;
		}
		json_array_foreach(pems, k, pem) {
			struct kiln_ctx sub;

			kiln_ctx_sub(&sub, ctx);
			good |= kiln_verify_pem(&sub, json_string_value(pem), m, ml, sig, sl, path) == 0;
		}
		if (!good) {
			rc = kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: its signature does not verify with any published signer key", path);
			break;
		}
		manifests++;
	}
	json_decref(pems);
	*ret_files = files;
	*ret_manifests = manifests;
	return rc;
}

int
kiln_tuf_client(struct kiln_ctx *ctx, const char *src, const char *root_path, const char *state_path, time_t now,
		json_t **ret_report)
{
	_cleanup_free_ char *rootdata = NULL, *state_text = NULL;
	json_t *root = NULL, *ts = NULL, *snap = NULL, *tg = NULL, *state = NULL, *seen, *root_s, *ts_s, *snap_s, *tg_s;
	size_t len, files = 0, manifests = 0;
	struct kiln_ctx sub;
	int rc = -1;

	if (kiln_read_file(ctx, root_path, KILN_TUF_META_MAX, &rootdata, &len) < 0)
		return -1;
	root = json_loadb(rootdata, len, JSON_REJECT_DUPLICATES, NULL);
	if (!root) {
		kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: not JSON", root_path);
		goto out;
	}
	/* the trusted root signs itself */
	root_s = kiln_tuf_check(ctx, json_object_get(root, "signed"), "root", root, now);
	if (!root_s)
		goto out;
	kiln_ctx_sub(&sub, ctx);
	if (state_path && kiln_read_file(&sub, state_path, 1 << 20, &state_text, &len) == 0)
		state = json_loadb(state_text, len, 0, NULL);
	if (!json_is_object(state)) {
		json_decref(state);
		state = json_object();
	}
	seen = json_object_get(state, src);
	if (!json_is_object(seen)) {
		json_object_set_new(state, src, json_object());
		seen = json_object_get(state, src);
	}
	if (not_older(ctx, seen, "root", kiln_tuf_version(root_s)) < 0)
		goto out;
	if (!(ts_s = fetch_role(ctx, src, root_s, "timestamp", NULL, now, &ts)) ||
	    not_older(ctx, seen, "timestamp", kiln_tuf_version(ts_s)) < 0)
		goto out;
	if (!(snap_s = fetch_role(ctx, src, root_s, "snapshot", json_object_get(json_object_get(ts_s, "meta"), "snapshot.json"),
				  now, &snap)) ||
	    not_older(ctx, seen, "snapshot", kiln_tuf_version(snap_s)) < 0)
		goto out;
	if (!json_object_get(json_object_get(ts_s, "meta"), "snapshot.json") ||
	    !json_object_get(json_object_get(snap_s, "meta"), "targets.json")) {
		kiln_error(ctx, KILN_EXIT_INTEGRITY, "timestamp.json or snapshot.json names no role below it");
		goto out;
	}
	if (!(tg_s = fetch_role(ctx, src, root_s, "targets", json_object_get(json_object_get(snap_s, "meta"), "targets.json"), now,
				&tg)) ||
	    not_older(ctx, seen, "targets", kiln_tuf_version(tg_s)) < 0)
		goto out;
	if (check_targets(ctx, src, json_object_get(tg_s, "targets"), &files, &manifests) < 0)
		goto out;
	/* remembered only once everything held */
	json_object_set_new(seen, "root", json_integer(kiln_tuf_version(root_s)));
	json_object_set_new(seen, "timestamp", json_integer(kiln_tuf_version(ts_s)));
	json_object_set_new(seen, "snapshot", json_integer(kiln_tuf_version(snap_s)));
	json_object_set_new(seen, "targets", json_integer(kiln_tuf_version(tg_s)));
	if (state_path) {
		_cleanup_free_ char *text = json_dumps(state, JSON_INDENT(2) | JSON_SORT_KEYS);

		if (kiln_write_atomic(ctx, state_path, text, strlen(text), 0644) < 0)
			goto out;
	}
	*ret_report = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "repository", src, "root", kiln_tuf_version(root_s),
				"timestamp", kiln_tuf_version(ts_s), "snapshot", kiln_tuf_version(snap_s), "targets",
				kiln_tuf_version(tg_s), "files", (json_int_t)files, "manifests", (json_int_t)manifests);
	rc = 0;
out:
	json_decref(root);
	json_decref(ts);
	json_decref(snap);
	json_decref(tg);
	json_decref(state);
	return rc;
}
