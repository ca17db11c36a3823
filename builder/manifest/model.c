/* model.c - struct kiln_manifest to manifest.json's canonical bytes, and back. */
#include "model.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *
kiln_strv_json(const struct kiln_strv *sv)
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

		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", p->name, "version", p->version, "arch", p->arch,
				      "suite", p->suite, "sha256", p->sha256);

		if (p->files >= 0) {	/* provenance: how many of the image's files are the package's */
			json_object_set_new(o, "files", json_integer(p->files));
			json_object_set_new(o, "in_image", json_string(p->files ? "kept" : "dropped"));
		}
		json_array_append_new(a, o);
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
						   "cves", kiln_strv_json(&u->cves), "advisories", kiln_strv_json(&u->advisories),
						   "fixed_cves", kiln_strv_json(&u->fixed_cves), "changelog", u->changelog));
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

		json_array_append_new(pre, json_pack("{s:o, s:s}", "argv", kiln_strv_json(e->argv), "when",
						     e->first_boot ? "first-boot" : "every-boot"));
	}
	return json_pack("{s:o, s:s, s:o, s:o, s:o, s:o}", "argv", kiln_strv_json(m->image.argv), "user", m->image.user,
			 "environment", kiln_strv_json(m->image.environment), "exec_start_pre", pre,
			 "state", m->image.state ? json_pack("{s:s, s:s}", "path", m->image.state, "storage", "memory")
						 : json_null(),
			 "not_acted_on", kiln_strv_json(m->image.not_acted_on));
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
	if (m->disk.cmdline)
		json_object_set_new(root, "disk",
				    json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:s, s:s, s:s, s:I}", "boot_path",
					      "/EFI/BOOT/BOOTX64.EFI", "cmdline", m->disk.cmdline, "uefi_stub", "package",
					      m->disk.stub_package, "version", m->disk.stub_version, "sha256",
					      m->disk.stub_sha256, "disk_guid", m->disk.disk_guid, "esp_guid", m->disk.esp_guid,
					      "fat_serial", m->disk.fat_serial, "size", (json_int_t)m->disk.size));
	if (m->rebake) {
		json_t *why = json_loads(m->rebake, 0, NULL);

		if (why)
			json_object_set_new(root, "rebake", why);
	}
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

static const char *
str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void
strv_read(json_t *a, struct kiln_strv *out)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
		if (json_is_string(v))
			kiln_strv_push(out, json_string_value(v));
}

struct kiln_manifest_owned {
	struct kiln_manifest_source *sources;
	const char **modules;
	struct kiln_manifest_pkg *packages;
	struct kiln_manifest_artifact *artifacts;
	struct kiln_manifest_update *updates;
	size_t n_updates;
	struct kiln_strv argv, environment, not_acted_on;
	struct kiln_manifest_exec *pre;
	struct kiln_strv *pre_argv;
	size_t n_pre;
};

static time_t
date_of(json_t *o, const char *key)
{
	time_t t;

	return str(o, key) && kiln_parse_iso8601(str(o, key), &t) == 0 ? t : 0;
}

static void
read_image(json_t *img, struct kiln_manifest *m, struct kiln_manifest_owned *w)
{
	json_t *pre = json_object_get(img, "exec_start_pre"), *v;
	size_t i;

	strv_read(json_object_get(img, "argv"), &w->argv);
	strv_read(json_object_get(img, "environment"), &w->environment);
	strv_read(json_object_get(img, "not_acted_on"), &w->not_acted_on);
	w->pre = kiln_calloc(json_array_size(pre) + 1, sizeof(*w->pre));
	w->pre_argv = kiln_calloc(json_array_size(pre) + 1, sizeof(*w->pre_argv));
	json_array_foreach(pre, i, v) {
		strv_read(json_object_get(v, "argv"), &w->pre_argv[w->n_pre]);
		w->pre[w->n_pre] = (struct kiln_manifest_exec){ &w->pre_argv[w->n_pre],
								 kiln_streq_ptr(str(v, "when"), "first-boot") };
		w->n_pre++;
	}
	m->image.argv = &w->argv;
	m->image.environment = &w->environment;
	m->image.not_acted_on = &w->not_acted_on;
	m->image.user = str(img, "user");
	m->image.exec_start_pre = w->pre;
	m->image.n_exec_start_pre = w->n_pre;
	m->image.state = str(json_object_get(img, "state"), "path");
}

void
kiln_manifest_read(json_t *root, struct kiln_manifest *m)
{
	json_t *a, *v, *k = json_object_get(root, "kernel"), *prev = json_object_get(root, "previous_manifest");
	struct kiln_manifest_pkg *pkgs;
	struct kiln_manifest_artifact *arts;
	struct kiln_manifest_update *upd;
	size_t i;

	struct kiln_manifest_owned *w = kiln_calloc(1, sizeof(*w));

	*m = (struct kiln_manifest){ .family = str(root, "family"), .version = str(root, "version"), .owned = w };
	m->built = date_of(root, "built");
	a = json_object_get(root, "sources");
	m->sources = w->sources = kiln_calloc(json_array_size(a) + 1, sizeof(*w->sources));
	json_array_foreach(a, i, v)
		w->sources[m->n_sources++] = (struct kiln_manifest_source){ str(v, "uri"), str(v, "suite"),
									     str(v, "inrelease_sha256"), date_of(v, "date"),
									     date_of(v, "accepted_older_than") };
	a = json_object_get(k, "modules");
	m->kernel.modules = w->modules = kiln_calloc(json_array_size(a) + 1, sizeof(*w->modules));
	json_array_foreach(a, i, v)
		if (json_is_string(v))
			w->modules[m->kernel.n_modules++] = json_string_value(v);
	m->base.package = str(json_object_get(root, "base"), "package");
	m->base.version = str(json_object_get(root, "base"), "version");
	m->base.suite = str(json_object_get(root, "base"), "suite");
	m->base.sha256 = str(json_object_get(root, "base"), "sha256");
	{
		json_t *d = json_object_get(root, "disk"), *stub = json_object_get(d, "uefi_stub");
		json_int_t size = json_integer_value(json_object_get(d, "size"));

		m->disk.cmdline = str(d, "cmdline");
		m->disk.stub_package = str(stub, "package");
		m->disk.stub_version = str(stub, "version");
		m->disk.stub_sha256 = str(stub, "sha256");
		m->disk.disk_guid = str(d, "disk_guid");
		m->disk.esp_guid = str(d, "esp_guid");
		m->disk.fat_serial = str(d, "fat_serial");
		m->disk.size = size > 0 ? (uint64_t)size : 0;
	}
	{
		json_t *f = json_object_get(root, "files");
		json_int_t count = json_integer_value(json_object_get(f, "count"));

		m->files.count = count > 0 ? (uint64_t)count : 0;
		snprintf(m->files.sha256, sizeof(m->files.sha256), "%s", str(f, "sha256") ? str(f, "sha256") : "");
	}
	read_image(json_object_get(root, "image"), m, w);
	m->recipe_name = str(json_object_get(root, "recipe"), "name");
	m->recipe_sha256 = str(json_object_get(root, "recipe"), "sha256");
	m->kernel.package = str(k, "package");
	m->kernel.version = str(k, "version");
	m->kernel.release = str(k, "release");
	m->kernel.cmdline = str(k, "cmdline");
	m->kernel.sha256 = str(k, "sha256");

	a = json_object_get(root, "packages");
	m->packages = w->packages = pkgs = kiln_calloc(json_array_size(a) + 1, sizeof(*pkgs));
	json_array_foreach(a, i, v)
		pkgs[m->n_packages++] = (struct kiln_manifest_pkg){ str(v, "name"), str(v, "version"), str(v, "arch"),
								     str(v, "suite"), str(v, "sha256"),
								     json_is_integer(json_object_get(v, "files")) ?
								     json_integer_value(json_object_get(v, "files")) : -1 };
	a = json_object_get(root, "artifacts");
	m->artifacts = w->artifacts = arts = kiln_calloc(json_array_size(a) + 1, sizeof(*arts));
	json_array_foreach(a, i, v) {
		struct kiln_manifest_artifact *x = &arts[m->n_artifacts++];
		json_int_t size = json_integer_value(json_object_get(v, "size"));

		x->name = str(v, "name");
		x->size = size > 0 ? (uint64_t)size : 0;
		snprintf(x->sha256, sizeof(x->sha256), "%s", str(v, "sha256") ? str(v, "sha256") : "");
	}
	a = json_object_get(root, "security_updates");
	m->updates = w->updates = upd = kiln_calloc(json_array_size(a) + 1, sizeof(*upd));
	json_array_foreach(a, i, v) {
		struct kiln_manifest_update *u = &upd[m->n_updates++];
		const char *c = str(v, "classification");

		u->package = str(v, "package");
		u->version = str(v, "version");
		u->suite = str(v, "suite");
		u->previous = str(v, "previous") ? kiln_strdup(str(v, "previous")) : NULL;
		u->security = c && strcmp(c, "security") == 0;
		u->changelog = json_is_true(json_object_get(v, "changelog"));
		strv_read(json_object_get(v, "cves"), &u->cves);
		strv_read(json_object_get(v, "advisories"), &u->advisories);
		strv_read(json_object_get(v, "fixed_cves"), &u->fixed_cves);
	}
	w->n_updates = m->n_updates;
	m->previous_version = str(prev, "version");
	m->previous_sha256 = str(prev, "sha256");
}

void
kiln_manifest_release(struct kiln_manifest *m)
{
	struct kiln_manifest_owned *w = m->owned;

	if (w) {
		free(w->sources);
		free(w->modules);
		free(w->packages);
		free(w->artifacts);
		kiln_manifest_updates_free(w->updates, w->n_updates);
		kiln_strv_release(&w->argv);
		kiln_strv_release(&w->environment);
		kiln_strv_release(&w->not_acted_on);
		for (size_t i = 0; i < w->n_pre; i++)
			kiln_strv_release(&w->pre_argv[i]);
		free(w->pre_argv);
		free(w->pre);
		free(w);
	}
	*m = (struct kiln_manifest){ 0 };
}
