/* advisories.c - turn OSV or Debian-tracker JSON into (source, release, fixed version, ids). */
#define _GNU_SOURCE
#include "advisories.h"

#include <jansson.h>
#include <string.h>

void
kiln_advisories_release(struct kiln_advisories *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].package);
		free(a->v[i].release);
		free(a->v[i].fixed);
		kiln_strv_release(&a->v[i].ids);
	}
	free(a->v);
	memset(a, 0, sizeof(*a));
}

static struct kiln_advisory *
adv_new(struct kiln_advisories *a, const char *pkg, const char *release, const char *fixed)
{
	struct kiln_advisory *v;

	a->v = kiln_realloc(a->v, (a->n + 1) * sizeof(*a->v));
	v = &a->v[a->n++];
	memset(v, 0, sizeof(*v));
	v->package = kiln_strdup(pkg);
	v->release = release ? kiln_strdup(release) : NULL;
	v->fixed = kiln_strdup(fixed);
	return v;
}

static int
id_ok(const char *s)
{
	return s && (kiln_startswith(s, "CVE-") || kiln_startswith(s, "DSA-") || kiln_startswith(s, "DLA-")) &&
	       strlen(s) < 40 && !strpbrk(s, " \t\n\"");
}

/* One OSV record: affected[] Debian packages with a "fixed" event. */
static void
osv_record(json_t *r, struct kiln_advisories *a)
{
	const char *id = json_string_value(json_object_get(r, "id"));
	json_t *aff, *al;
	size_t i, j, k;

	json_array_foreach(json_object_get(r, "affected"), i, aff) {
		json_t *pkg = json_object_get(aff, "package"), *range, *ev;
		const char *eco = json_string_value(json_object_get(pkg, "ecosystem"));
		const char *name = json_string_value(json_object_get(pkg, "name"));

		if (!eco || !name || !kiln_startswith(eco, "Debian"))
			continue;
		json_array_foreach(json_object_get(aff, "ranges"), j, range)
			json_array_foreach(json_object_get(range, "events"), k, ev) {
				const char *fixed = json_string_value(json_object_get(ev, "fixed"));
				struct kiln_advisory *v;
				size_t l;

				if (!fixed)
					continue;
				v = adv_new(a, name, NULL, fixed);
				if (id_ok(id))
					kiln_strv_push(&v->ids, id);
				json_array_foreach(json_object_get(r, "aliases"), l, al)
					if (id_ok(json_string_value(al)) && !kiln_strv_contains(&v->ids, json_string_value(al)))
						kiln_strv_push(&v->ids, json_string_value(al));
			}
	}
}

int
kiln_advisories_parse(struct kiln_ctx *ctx, const char *what, const char *data, size_t len,
		      struct kiln_advisories *ret)
{
	struct kiln_advisories a = { 0 };
	json_error_t jerr;
	json_t *root = json_loadb(data, len, 0, &jerr), *v, *cves, *info, *rel;
	const char *src, *cve, *codename;
	size_t i;

	if (!root)
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: %s", what, jerr.line, jerr.text);
	if (json_is_array(root)) {
		json_array_foreach(root, i, v)
			osv_record(v, &a);
	} else if (json_is_object(root) && json_object_get(root, "affected")) {
		osv_record(root, &a);
	} else if (json_is_object(root)) {
		json_object_foreach(root, src, cves) {
			if (!json_is_object(cves))
				continue;
			json_object_foreach(cves, cve, info) {
				if (!id_ok(cve))
					continue;
				json_object_foreach(json_object_get(info, "releases"), codename, rel) {
					const char *status = json_string_value(json_object_get(rel, "status"));
					const char *fixed = json_string_value(json_object_get(rel, "fixed_version"));

					if (status && strcmp(status, "resolved") == 0 && fixed && strcmp(fixed, "0") != 0)
						kiln_strv_push(&adv_new(&a, src, codename, fixed)->ids, cve);
				}
			}
		}
	} else {
		json_decref(root);
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: neither OSV records nor the security tracker's JSON", what);
	}
	json_decref(root);
	*ret = a;
	return 0;
}

int
kiln_advisories_load(struct kiln_ctx *ctx, const char *path, struct kiln_advisories *ret)
{
	_cleanup_free_ char *data = NULL;
	size_t len;

	if (kiln_read_file(ctx, path, KILN_ADVISORIES_MAX, &data, &len) < 0)
		return -1;
	return kiln_advisories_parse(ctx, path, data, len, ret);
}
