/* publish.c - kiln publish: the catalog as static files, signed in TUF's model. */
#define _GNU_SOURCE
#include "publish.h"
#include "manifest.h"
#include "render.h"
#include "tuf.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#define DAY 86400
#define ROOT_DAYS 365
#define TARGETS_DAYS 90
#define SNAPSHOT_DAYS 30
#define TIMESTAMP_DAYS 1

/* One published file. */
struct pfile {
	char *path;
	char *data;
	size_t len;
	json_t *custom;		/* the target's "custom", or NULL */
};

struct site {
	struct pfile *v;
	size_t n;
	size_t written, unchanged;
};

static void
add_file(struct site *s, char *path, char *data, size_t len, json_t *custom)
{
	s->v = kiln_realloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = (struct pfile){ path, data, len, custom };
}

static void
add_json(struct site *s, char *path, json_t *j, json_t *custom)
{
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	char *data = kiln_asprintf("%s\n", text);

	free(text);
	json_decref(j);
	add_file(s, path, data, strlen(data), custom);
}

static void
site_release(struct site *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].path);
		free(s->v[i].data);
		json_decref(s->v[i].custom);
	}
	free(s->v);
}

/* @out/@path holds @data, written through a temporary file unless it already does. 1: written, 0: unchanged. */
static int
put(struct kiln_ctx *ctx, const char *out, const char *path, const char *data, size_t len)
{
	_cleanup_free_ char *full = kiln_asprintf("%s/%s", out, path), *dir = kiln_strdup(full), *old = NULL;
	struct kiln_ctx sub;
	size_t olen;

	kiln_ctx_sub(&sub, ctx);
	if (kiln_read_file(&sub, full, len + 1, &old, &olen) == 0 && olen == len && !memcmp(old, data, len))
		return 0;
	*strrchr(dir, '/') = '\0';
	if (kiln_mkdir_p(ctx, dir, 0755) < 0 || kiln_write_atomic(ctx, full, data, len, 0644) < 0)
		return -1;
	return 1;
}

static void
html_text(struct kiln_buf *b, const char *s)
{
	for (; s && *s; s++)
		switch (*s) {
		case '<': kiln_buf_add(b, "&lt;", 4); break;
		case '>': kiln_buf_add(b, "&gt;", 4); break;
		case '&': kiln_buf_add(b, "&amp;", 5); break;
		case '"': kiln_buf_add(b, "&quot;", 6); break;
		default: kiln_buf_add(b, s, 1);
		}
}

static const char *
jstr(json_t *o, const char *k, const char *def)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : def;
}

static const char style[] =
	"<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:1em 0}"
	"th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}th{background:#f3f3f3}"
	".active{color:#176117}.disabled{color:#9a5b00}.expired{color:#9b1c1c}svg text{font-size:11px}</style>";

/* Days since the epoch of "YYYY-MM-DD", or -1. */
static long
day_of(const char *s)
{
	time_t t;
	_cleanup_free_ char *iso = s ? kiln_asprintf("%sT00:00:00Z", s) : NULL;

	return iso && kiln_parse_iso8601(iso, &t) == 0 ? (long)(t / DAY) : -1;
}

/* The release matrix of one family: a timeline, the versions' dates, and each version's security updates. */
static char *
family_page(const char *family, json_t *versions, json_t *updates)
{
	struct kiln_buf b = { 0 };
	long lo = -1, hi = -1;
	size_t i, n = json_array_size(versions);
	json_t *v;

	json_array_foreach(versions, i, v) {
		long r = day_of(jstr(v, "released", NULL)), e = day_of(jstr(v, "expires_on", NULL));

		if (r >= 0 && (lo < 0 || r < lo))
			lo = r;
		if ((e >= 0 ? e : r + 120) > hi)
			hi = e >= 0 ? e : r + 120;
	}
	kiln_buf_addf(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
	html_text(&b, family);
	kiln_buf_addf(&b, " — kiln image versions</title>%s</head>\n<body>\n<h1>", style);
	html_text(&b, family);
	kiln_buf_addf(&b, "</h1>\n<p>Image versions of <b>");
	html_text(&b, family);
	kiln_buf_addf(&b, "</b>: when each was released, is disabled (no new deployments) and expires (its deployments "
			  "are upgraded). <a href=\"../feed.atom\">Notices</a> · <a href=\"../lifecycle.json\">lifecycle.json</a></p>\n");
	/* the timeline: one bar per version, supported then disabled */
	if (lo >= 0 && hi > lo) {
		double scale = 700.0 / (double)(hi - lo);

		kiln_buf_addf(&b, "<svg id=\"timeline\" role=\"img\" aria-label=\"version timeline\" width=\"860\" height=\"%zu\" "
				  "xmlns=\"http://www.w3.org/2000/svg\">\n", 24 * n + 10);
		json_array_foreach(versions, i, v) {
			long r = day_of(jstr(v, "released", NULL)), d = day_of(jstr(v, "disables_on", NULL));
			long e = day_of(jstr(v, "expires_on", NULL)), end = e >= 0 ? e : hi;
			double x0 = 150 + (r - lo) * scale, x1 = 150 + ((d >= 0 ? d : end) - lo) * scale, x2 = 150 + (end - lo) * scale;
			size_t y = 24 * i + 5;

			kiln_buf_addf(&b, "<g data-version=\"%s\"><text x=\"0\" y=\"%zu\">%s</text>", jstr(v, "version", ""), y + 13,
				      jstr(v, "version", ""));
			kiln_buf_addf(&b, "<rect x=\"%.1f\" y=\"%zu\" width=\"%.1f\" height=\"16\" fill=\"#3c9a3c\"><title>supported from %s</title></rect>",
				      x0, y, x1 - x0 > 1 ? x1 - x0 : 1, jstr(v, "released", ""));
			if (x2 > x1)
				kiln_buf_addf(&b, "<rect x=\"%.1f\" y=\"%zu\" width=\"%.1f\" height=\"16\" fill=\"%s\"><title>%s</title></rect>",
					      x1, y, x2 - x1, d >= 0 ? "#e0a030" : "#cfe8cf",
					      d >= 0 ? "disabled, until it expires" : "supported until newer versions come");
			kiln_buf_addf(&b, "</g>\n");
		}
		kiln_buf_addf(&b, "</svg>\n");
	}
	kiln_buf_addf(&b, "<table id=\"versions\">\n<thead><tr><th>Version</th><th>State</th><th>Released</th><th>Disabled on</th>"
			  "<th>Expires on</th><th>Security updates</th></tr></thead>\n<tbody>\n");
	json_array_foreach(versions, i, v) {
		const char *state = jstr(v, "state", "");

		kiln_buf_addf(&b, "<tr data-version=\"%s\"><td><a href=\"#v-%s\">%s</a></td><td class=\"%s\">%s</td><td>%s</td><td>",
			      jstr(v, "version", ""), jstr(v, "version", ""), jstr(v, "version", ""), state, state,
			      jstr(v, "released", ""));
		html_text(&b, jstr(v, "disables_on", jstr(v, "disable_forecast", "")));
		kiln_buf_addf(&b, "</td><td>%s</td><td>%lld</td></tr>\n", jstr(v, "expires_on", "—"),
			      (long long)json_integer_value(json_object_get(v, "security_updates")));
	}
	kiln_buf_addf(&b, "</tbody></table>\n");
	json_array_foreach(versions, i, v) {
		const char *ver = jstr(v, "version", "");
		json_t *ups = json_object_get(updates, ver), *u, *id;
		size_t k, c;

		kiln_buf_addf(&b, "<h2 id=\"v-%s\">%s: security updates</h2>\n", ver, ver);
		if (!json_array_size(ups)) {
			kiln_buf_addf(&b, "<p>None since the version before it.</p>\n");
			continue;
		}
		kiln_buf_addf(&b, "<table class=\"updates\" data-version=\"%s\"><thead><tr><th>Package</th><th>Version</th>"
				  "<th>Previous</th><th>Fixes</th></tr></thead><tbody>\n", ver);
		json_array_foreach(ups, k, u) {
			kiln_buf_addf(&b, "<tr><td>");
			html_text(&b, jstr(u, "package", ""));
			kiln_buf_addf(&b, "</td><td>");
			html_text(&b, jstr(u, "version", ""));
			kiln_buf_addf(&b, "</td><td>");
			html_text(&b, jstr(u, "previous", "—"));
			kiln_buf_addf(&b, "</td><td>");
			json_array_foreach(json_object_get(u, "cves"), c, id) {
				kiln_buf_addf(&b, "%s", c ? " " : "");
				html_text(&b, json_string_value(id));
			}
			kiln_buf_addf(&b, "</td></tr>\n");
		}
		kiln_buf_addf(&b, "</tbody></table>\n");
	}
	kiln_buf_addf(&b, "</body></html>\n");
	return kiln_buf_detach(&b, NULL);
}

static char *
index_page(json_t *families)
{
	struct kiln_buf b = { 0 };
	const char *f;
	json_t *vs;

	kiln_buf_addf(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>kiln image families</title>%s"
			  "<link rel=\"alternate\" type=\"application/atom+xml\" href=\"feed.atom\"></head>\n<body>\n"
			  "<h1>Image families</h1>\n<ul id=\"families\">\n", style);
	json_object_foreach(families, f, vs) {
		kiln_buf_addf(&b, "<li><a href=\"%s/index.html\">", f);
		html_text(&b, f);
		kiln_buf_addf(&b, "</a>: %zu versions</li>\n", json_array_size(vs));
	}
	kiln_buf_addf(&b, "</ul>\n<p><a href=\"feed.atom\">Lifecycle notices (Atom)</a> · <a href=\"lifecycle.json\">lifecycle.json</a> · "
			  "signed metadata: <a href=\"timestamp.json\">timestamp.json</a></p>\n</body></html>\n");
	return kiln_buf_detach(&b, NULL);
}

/* The Atom feed of the version-level events (released, notices, disabled, expired), newest first. */
static char *
feed(const struct kiln_event *e, size_t n)
{
	struct kiln_buf b = { 0 };
	char at[21] = "1970-01-01T00:00:00Z";

	for (size_t i = 0; i < n; i++)
		if (!e[i].tenant && e[i].family)
			kiln_format_iso8601(e[i].at, at);
	kiln_buf_addf(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n"
			  "<title>kiln image lifecycle notices</title>\n<id>urn:kiln:feed</id>\n<updated>%s</updated>\n"
			  "<author><name>kiln</name></author>\n", at);
	for (size_t k = n; k-- > 0;) {
		if (e[k].tenant || !e[k].family)
			continue;
		kiln_format_iso8601(e[k].at, at);
		kiln_buf_addf(&b, "<entry><id>urn:kiln:event:%lld</id><updated>%s</updated><title>", e[k].id, at);
		html_text(&b, e[k].family);
		kiln_buf_addf(&b, " ");
		html_text(&b, e[k].version ? e[k].version : "");
		kiln_buf_addf(&b, ": ");
		html_text(&b, e[k].kind);
		kiln_buf_addf(&b, "</title><link href=\"%s/index.html#v-%s\"/><content type=\"text\">", e[k].family,
			      e[k].version ? e[k].version : "");
		html_text(&b, e[k].reason ? e[k].reason : e[k].kind);
		kiln_buf_addf(&b, "</content></entry>\n");
	}
	kiln_buf_addf(&b, "</feed>\n");
	return kiln_buf_detach(&b, NULL);
}

/* Every released version's files, the SBOMs, lifecycle.json, the keys, the pages and the feed. */
static int
gather(struct kiln_ctx *ctx, struct kiln_catalog *cat, time_t now, struct site *s)
{
	struct kiln_version_info *vs = NULL;
	struct kiln_event *ev = NULL;
	size_t n = 0, ne = 0;
	struct kiln_strv pems = { 0 };
	json_t *families = json_object(), *updates = json_object();
	const char *f;
	json_t *list;
	int rc = 0;

	if (kiln_catalog_versions(ctx, cat, NULL, 1, now, &vs, &n) < 0 || kiln_catalog_trusted(ctx, cat, &pems) < 0 ||
	    kiln_catalog_events(ctx, cat, NULL, 0, &ev, &ne) < 0) {
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct kiln_version_info *v = &vs[i];
		_cleanup_free_ char *dir = kiln_asprintf("%s/%s/%s", ctx->set->store, v->family, v->version);
		_cleanup_free_ char *mpath = kiln_asprintf("%s/manifest.json", dir), *spath = kiln_asprintf("%s.sig", mpath);
		char *m = NULL, *sig = NULL, sha[65], recorded[65];
		size_t ml = 0, sl = 0;
		json_t *mj, *info, *cves, *ups = json_array();
		struct kiln_manifest mm;
		struct kiln_fix *fx = NULL;
		size_t nf;

		if (kiln_read_file(ctx, mpath, KILN_MANIFEST_MAX, &m, &ml) < 0 || kiln_read_file(ctx, spath, 4096, &sig, &sl) < 0) {
			free(m);
			json_decref(ups);
			rc = -1;
			break;
		}
		kiln_sha256_hex(m, ml, sha);
		/* the bytes released, and no others: a manifest swapped in the store is not published */
		if (kiln_catalog_manifest_sha256(cat, v->family, v->version, recorded) < 0 || strcmp(sha, recorded)) {
			rc = kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s/%s: manifest.json is not the one released (SHA-256 %s)", v->family,
					v->version, sha);
			free(m);
			free(sig);
			json_decref(ups);
			break;
		}
		mj = kiln_manifest_parse(ctx, mpath, m, ml);
		if (!mj) {
			free(m);
			free(sig);
			json_decref(ups);
			rc = -1;
			break;
		}
		kiln_manifest_read(mj, &mm);
		add_json(s, kiln_asprintf("%s/%s/sbom.cdx.json", v->family, v->version), kiln_manifest_cyclonedx(&mm, sha), NULL);
		add_json(s, kiln_asprintf("%s/%s/sbom.spdx.json", v->family, v->version), kiln_manifest_spdx(&mm, sha), NULL);
		add_file(s, kiln_asprintf("%s/%s/manifest.json", v->family, v->version), m, ml,
			 json_pack("{s:s, s:s}", "family", v->family, "version", v->version));
		add_file(s, kiln_asprintf("%s/%s/manifest.json.sig", v->family, v->version), sig, sl, NULL);
		cves = json_array();
		nf = kiln_manifest_fixes(&mm, &fx);
		for (size_t k = 0; k < nf; k++)
			if (kiln_startswith(fx[k].id, "CVE-"))
				json_array_append_new(cves, json_string(fx[k].id));
		kiln_fixes_free(fx, nf);
		for (size_t k = 0; k < mm.n_updates; k++) {
			const struct kiln_manifest_update *u = &mm.updates[k];
			json_t *ids = json_array();

			if (!u->security)
				continue;
			for (size_t c = 0; c < u->cves.n; c++)
				json_array_append_new(ids, json_string(u->cves.v[c]));
			json_array_append_new(ups, json_pack("{s:s, s:s, s:s?, s:o}", "package", u->package, "version", u->version,
							     "previous", u->previous, "cves", ids));
		}
		kiln_manifest_release(&mm);
		json_decref(mj);
		info = kiln_version_info_json(v);
		json_object_set_new(info, "manifest_sha256", json_string(sha));
		json_object_set_new(info, "fixed_cves", cves);
		if (!json_object_get(families, v->family))
			json_object_set_new(families, v->family, json_array());
		json_array_append_new(json_object_get(families, v->family), info);
		if (!json_object_get(updates, v->family))
			json_object_set_new(updates, v->family, json_object());
		json_object_set_new(json_object_get(updates, v->family), v->version, ups);
	}
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < pems.n; i++) {
		char fpr[65];

		kiln_sha256_hex(pems.v[i], strlen(pems.v[i]), fpr);
		add_file(s, kiln_asprintf("keys/%s.pem", fpr), kiln_strdup(pems.v[i]), strlen(pems.v[i]), NULL);
	}
	json_object_foreach(families, f, list) {
		char *page = family_page(f, list, json_object_get(updates, f));

		add_file(s, kiln_asprintf("%s/index.html", f), page, strlen(page), NULL);
	}
	{
		char *idx = index_page(families), *atom = feed(ev, ne);

		add_file(s, kiln_strdup("index.html"), idx, strlen(idx), NULL);
		add_file(s, kiln_strdup("feed.atom"), atom, strlen(atom), NULL);
	}
	add_json(s, kiln_strdup("lifecycle.json"), json_pack("{s:O}", "families", families), NULL);
out:
	kiln_version_infos_free(vs, n);
	free(vs);
	kiln_events_free(ev, ne);
	free(ev);
	kiln_strv_release(&pems);
	json_decref(families);
	json_decref(updates);
	return rc;
}

static json_t *
expiry(time_t now, int days)
{
	char out[21];

	kiln_format_iso8601(now + (time_t)days * DAY, out);
	return json_string(out);
}

/* The role file at @out/@name, parsed (NULL when absent or unreadable). */
static json_t *
old_role(const char *out, const char *name)
{
	_cleanup_free_ char *p = kiln_asprintf("%s/%s", out, name);

	return json_load_file(p, JSON_REJECT_DUPLICATES, NULL);
}

/* Whether @old (a signed role document) can stay: same content, and more than half its life left. */
static int
keep(json_t *old, const char *key, json_t *content, time_t now, int days)
{
	json_t *s = json_object_get(old, "signed");
	time_t exp;

	return s && json_equal(json_object_get(s, key), content) &&
	       kiln_parse_iso8601(json_string_value(json_object_get(s, "expires")) ?: "", &exp) == 0 &&
	       exp - now > (time_t)days * DAY / 2;
}

static json_t *
meta_of(long long version, const char *data, size_t len)
{
	char hex[65];

	kiln_sha256_hex(data, len, hex);
	return json_pack("{s:I, s:I, s:{s:s}}", "version", (json_int_t)version, "length", (json_int_t)len, "hashes", "sha256", hex);
}

/* A role kept as it is: its bytes as write_role() wrote them (it is written the same way). */
static char *
role_text(json_t *doc, size_t *ret_len)
{
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS), *out = kiln_asprintf("%s\n", text);

	free(text);
	*ret_len = strlen(out);
	return out;
}

/* Signs a role and writes it (through put()): its bytes in *@ret_text. */
static int
write_role(struct kiln_ctx *ctx, const struct kiln_publish_opts *o, const char *name, json_t *signed_obj, char **ret_text,
	   size_t *ret_len, struct site *s)
{
	json_t *doc = kiln_tuf_sign(ctx, signed_obj, &o->keys);
	char *text;
	int w;

	json_decref(signed_obj);
	if (!doc)
		return -1;
	text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(doc);
	*ret_text = kiln_asprintf("%s\n", text);
	free(text);
	*ret_len = strlen(*ret_text);
	w = put(ctx, o->out, name, *ret_text, *ret_len);
	if (w < 0)
		return -1;
	if (w)
		s->written++;
	return 0;
}

int
kiln_publish(struct kiln_ctx *ctx, struct kiln_catalog *cat, const struct kiln_publish_opts *o, json_t **ret_summary)
{
	struct site s = { 0 };
	json_t *keys = json_object(), *keyids = json_array(), *targets = json_object(), *roles;
	json_t *oroot = old_role(o->out, "root.json"), *otargets = old_role(o->out, "targets.json");
	json_t *osnap = old_role(o->out, "snapshot.json"), *ots = old_role(o->out, "timestamp.json");
	_cleanup_free_ char *root_text = NULL, *tg_text = NULL, *snap_text = NULL, *ts_text = NULL;
	size_t root_len = 0, tg_len = 0, snap_len = 0, ts_len = 0;
	long long rv, tv, sv, mv;
	int threshold = o->threshold > 0 ? o->threshold : (int)o->keys.n, rc = 0;
	const char *role_names[] = { "root", "targets", "snapshot", "timestamp" };

	if (!o->keys.n || threshold > (int)o->keys.n) {
		rc = kiln_error(ctx, KILN_EXIT_USAGE, "publish needs at least %d signing key%s", threshold, threshold == 1 ? "" : "s");
		goto out;
	}
	for (size_t i = 0; i < o->keys.n; i++) {
		char pub[65], id[65];

		if (kiln_key_public_hex(ctx, o->keys.v[i], 1, pub) < 0) {
			rc = -1;
			goto out;
		}
		kiln_tuf_keyid(pub, id);
		json_object_set_new(keys, id, kiln_tuf_key(pub));
		json_array_append_new(keyids, json_string(id));
	}
	roles = json_object();
	for (size_t i = 0; i < ARRAY_SIZE(role_names); i++)
		json_object_set_new(roles, role_names[i], json_pack("{s:O, s:i}", "keyids", keyids, "threshold", threshold));
	/* root: kept while its keys are these; no rotation (a client would need the old keys' signatures) */
	if (oroot && (!json_equal(json_object_get(json_object_get(oroot, "signed"), "keys"), keys) ||
		      !json_equal(json_object_get(json_object_get(oroot, "signed"), "roles"), roles))) {
		json_decref(roles);
		rc = kiln_error(ctx, KILN_EXIT_USAGE, "%s/root.json names other keys or thresholds: key rotation is not supported "
				"(publish into a new directory, and give clients its root.json)", o->out);
		goto out;
	}
	rv = kiln_tuf_version(json_object_get(oroot, "signed"));
	if (!oroot || !keep(oroot, "roles", roles, o->now, ROOT_DAYS)) {
		rv++;
		rc = write_role(ctx, o, "root.json",
				json_pack("{s:s, s:s, s:I, s:o, s:O, s:o, s:b}", "_type", "root", "spec_version", KILN_TUF_SPEC,
					  "version", (json_int_t)rv, "expires", expiry(o->now, ROOT_DAYS), "keys", keys, "roles",
					  roles, "consistent_snapshot", 0),
				&root_text, &root_len, &s);
		if (rc < 0)
			goto out;
	} else {
		json_decref(roles);
	}
	if (gather(ctx, cat, o->now, &s) < 0) {
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < s.n; i++) {
		char hex[65];
		json_t *t;
		int w = put(ctx, o->out, s.v[i].path, s.v[i].data, s.v[i].len);

		if (w < 0) {
			rc = -1;
			goto out;
		}
		w ? s.written++ : s.unchanged++;
		kiln_sha256_hex(s.v[i].data, s.v[i].len, hex);
		t = json_pack("{s:I, s:{s:s}}", "length", (json_int_t)s.v[i].len, "hashes", "sha256", hex);
		if (s.v[i].custom)
			json_object_set(t, "custom", s.v[i].custom);
		json_object_set_new(targets, s.v[i].path, t);
	}
	/* targets, snapshot: a new version only when what they say changes (or their expiry nears) */
	tv = kiln_tuf_version(json_object_get(otargets, "signed"));
	if (!keep(otargets, "targets", targets, o->now, TARGETS_DAYS)) {
		rc = write_role(ctx, o, "targets.json",
				json_pack("{s:s, s:s, s:I, s:o, s:O}", "_type", "targets", "spec_version", KILN_TUF_SPEC, "version",
					  (json_int_t)++tv, "expires", expiry(o->now, TARGETS_DAYS), "targets", targets),
				&tg_text, &tg_len, &s);
	} else {
		tg_text = role_text(otargets, &tg_len);
	}
	if (rc < 0)
		goto out;
	{
		json_t *meta = json_pack("{s:o}", "targets.json", meta_of(tv, tg_text, tg_len));

		sv = kiln_tuf_version(json_object_get(osnap, "signed"));
		if (!keep(osnap, "meta", meta, o->now, SNAPSHOT_DAYS)) {
			rc = write_role(ctx, o, "snapshot.json",
					json_pack("{s:s, s:s, s:I, s:o, s:o}", "_type", "snapshot", "spec_version", KILN_TUF_SPEC,
						  "version", (json_int_t)++sv, "expires", expiry(o->now, SNAPSHOT_DAYS), "meta", meta),
					&snap_text, &snap_len, &s);
		} else {
			json_decref(meta);
			snap_text = role_text(osnap, &snap_len);
		}
		if (rc < 0)
			goto out;
	}
	/* timestamp: re-signed every time (it is what says the repository is current) */
	mv = kiln_tuf_version(json_object_get(ots, "signed")) + 1;
	rc = write_role(ctx, o, "timestamp.json",
			json_pack("{s:s, s:s, s:I, s:o, s:{s:o}}", "_type", "timestamp", "spec_version", KILN_TUF_SPEC, "version",
				  (json_int_t)mv, "expires", expiry(o->now, TIMESTAMP_DAYS), "meta", "snapshot.json",
				  meta_of(sv, snap_text, snap_len)),
			&ts_text, &ts_len, &s);
	if (rc < 0)
		goto out;
	*ret_summary = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "files", (json_int_t)s.n, "written", (json_int_t)s.written,
				 "unchanged", (json_int_t)s.unchanged, "root", (json_int_t)rv, "targets", (json_int_t)tv,
				 "snapshot", (json_int_t)sv, "timestamp", (json_int_t)mv);
out:
	site_release(&s);
	json_decref(keys);
	json_decref(keyids);
	json_decref(targets);
	json_decref(oroot);
	json_decref(otargets);
	json_decref(osnap);
	json_decref(ots);
	return rc;
}
