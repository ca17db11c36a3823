/* write.c - struct kiln_manifest to manifest.json's canonical bytes. */
#include "write.h"

#include <jansson.h>
#include <stdlib.h>

static json_t *
strv_json(const struct kiln_strv *sv)
{
	json_t *a = json_array();

	for (size_t i = 0; sv && i < sv->n; i++)
		json_array_append_new(a, json_string(sv->v[i]));
	return a;
}

static json_t *
nullable(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *
sources_json(const struct kiln_manifest *m)
{
	json_t *a = json_array();
	char when[21];

	for (size_t i = 0; i < m->n_sources; i++) {
		const struct kiln_manifest_source *s = &m->sources[i];
		json_t *o;

		kiln_format_iso8601(s->date, when);
		o = json_pack("{s:s, s:s, s:s, s:s}", "uri", s->uri, "suite", s->suite, "date", when,
			      "inrelease_sha256", s->inrelease_sha256);
		if (s->accepted_older_than) {	/* the override stays on record */
			kiln_format_iso8601(s->accepted_older_than, when);
			json_object_set_new(o, "accepted_older_than", json_string(when));
		}
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *
kernel_json(const struct kiln_manifest *m)
{
	json_t *mods = json_array();

	for (size_t i = 0; i < m->kernel.n_modules; i++)
		json_array_append_new(mods, json_string(m->kernel.modules[i]));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "package", m->kernel.package, "version", m->kernel.version,
			 "release", m->kernel.release, "cmdline", m->kernel.cmdline, "sha256", m->kernel.sha256,
			 "modules", mods);
}

static json_t *
packages_json(const struct kiln_manifest *m)
{
	json_t *a = json_array();

	for (size_t i = 0; i < m->n_packages; i++) {
		const struct kiln_manifest_pkg *p = &m->packages[i];

		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", p->name, "version", p->version,
						   "arch", p->arch, "suite", p->suite, "sha256", p->sha256));
	}
	return a;
}

static json_t *
artifacts_json(const struct kiln_manifest *m)
{
	json_t *a = json_array();

	for (size_t i = 0; i < m->n_artifacts; i++) {
		const struct kiln_manifest_artifact *x = &m->artifacts[i];

		json_array_append_new(a, json_pack("{s:s, s:I, s:s}", "name", x->name, "size", (json_int_t)x->size,
						   "sha256", x->sha256));
	}
	return a;
}

static json_t *
updates_json(const struct kiln_manifest *m)
{
	json_t *a = json_array();

	for (size_t i = 0; i < m->n_updates; i++) {
		const struct kiln_manifest_update *u = &m->updates[i];

		json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:s, s:s, s:o, s:o, s:o, s:b}",
						   "package", u->package, "version", u->version,
						   "previous", nullable(u->previous), "suite", u->suite,
						   "classification", u->security ? "security" : "other",
						   "cves", strv_json(&u->cves), "advisories", strv_json(&u->advisories),
						   "fixed_cves", strv_json(&u->fixed_cves), "changelog", u->changelog));
	}
	return a;
}

/*
 * What runs in the image and how, fixed at build time: the command's argv,
 * its user and environment, the steps before it, where its state lives (in
 * memory, until a deployment gives it a volume) and what kiln did not act on.
 */
static json_t *
image_json(const struct kiln_manifest *m)
{
	json_t *pre = json_array();

	for (size_t i = 0; i < m->image.n_exec_start_pre; i++) {
		const struct kiln_manifest_exec *e = &m->image.exec_start_pre[i];

		json_array_append_new(pre, json_pack("{s:o, s:s}", "argv", strv_json(e->argv), "when",
						     e->first_boot ? "first-boot" : "every-boot"));
	}
	return json_pack("{s:o, s:s, s:o, s:o, s:o, s:o}", "argv", strv_json(m->image.argv), "user", m->image.user,
			 "environment", strv_json(m->image.environment), "exec_start_pre", pre,
			 "state", m->image.state ? json_pack("{s:s, s:s}", "path", m->image.state, "storage", "memory")
						 : json_null(),
			 "not_acted_on", strv_json(m->image.not_acted_on));
}

char *
kiln_manifest_format(const struct kiln_manifest *m)
{
	json_t *root;
	char built[21];
	char *out, *dump;

	kiln_format_iso8601(m->built, built);
	root = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:o, s:o, s:o, s:o, s:{s:s, s:I, s:s}, s:o, s:o}",
			 "schema", "kiln.manifest/1", "family", m->family, "version", m->version, "built", built,
			 "recipe", "name", m->recipe_name, "sha256", m->recipe_sha256,
			 "sources", sources_json(m), "kernel", kernel_json(m),
			 "packages", packages_json(m), "artifacts", artifacts_json(m),
			 "files", "name", "files.tsv", "count", (json_int_t)m->files.count, "sha256", m->files.sha256,
			 "security_updates", updates_json(m), "image", image_json(m));
	if (!root)
		abort();	/* only a NULL where the struct promises a string */
	json_object_set_new(root, "base", json_pack("{s:s, s:s, s:s, s:s}", "package", m->base.package, "version",
						    m->base.version, "suite", m->base.suite, "sha256", m->base.sha256));
	json_object_set_new(root, "previous_manifest",
			    m->previous_version ? json_pack("{s:s, s:s}", "version", m->previous_version, "sha256",
							    m->previous_sha256)
						: json_null());
	dump = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	if (!dump)
		abort();
	out = kiln_asprintf("%s\n", dump);	/* a text file ends with a newline */
	free(dump);
	return out;
}

void
kiln_manifest_updates_free(struct kiln_manifest_update *u, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(u[i].previous);
		kiln_strv_release(&u[i].cves);
		kiln_strv_release(&u[i].advisories);
		kiln_strv_release(&u[i].fixed_cves);
	}
	free(u);
}
