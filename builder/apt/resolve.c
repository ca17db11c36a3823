/* resolve.c - drive sources, repository indexes and the solver for one recipe. */
#define _GNU_SOURCE
#include "resolve.h"
#include "disk.h"

#include <jansson.h>
#include <string.h>

void
kiln_resolution_release(struct kiln_resolution *res)
{
	for (size_t i = 0; i < res->n_indexes; i++)
		kiln_repo_index_release(&res->indexes[i]);
	free(res->indexes);
	kiln_pkgset_release(&res->set);
	kiln_pkg_release(&res->kernel);
	kiln_pkg_release(&res->uefi_stub);
	free(res->kernel_release);
	kiln_pkg_release(&res->base);
	free(res->arch);
	memset(res, 0, sizeof(*res));
}

int
kiln_resolve(struct kiln_ctx *ctx, const struct kiln_recipe *r, const char *arch,
	     const char *apt_root, struct kiln_resolution *ret)
{
	_cleanup_(kiln_solver_freep) struct kiln_solver *solver = NULL;
	struct kiln_resolution res = { .recipe = r };
	struct kiln_repo_spec *specs = NULL;
	size_t n_specs = 0;
	int rc = 0;

	if (kiln_sources_expand(ctx, r, apt_root, &specs, &n_specs) < 0)
		return -1;
	res.arch = kiln_strdup(arch);
	res.indexes = kiln_calloc(n_specs, sizeof(*res.indexes));
	solver = kiln_solver_new(arch);
	for (size_t i = 0; i < n_specs && rc == 0; i++) {
		rc = kiln_repo_index_load(ctx, &specs[i], arch, &res.indexes[i]);
		if (rc == 0) {
			res.n_indexes++;
			rc = kiln_solver_add_index(ctx, solver, &res.indexes[i]);
		}
	}
	kiln_repo_specs_free(specs, n_specs);
	if (rc == 0)
		rc = kiln_solver_resolve(ctx, solver, &r->install, &res.set);
	if (rc == 0)
		rc = kiln_solver_kernel(ctx, solver, r->kernel_package, &res.kernel, &res.kernel_release);
	/* /etc/passwd and /etc/group start from base-passwd's master files */
	if (rc == 0 && kiln_solver_package(ctx, solver, KILN_BASE_PACKAGE, &res.base) < 0)
		rc = kiln_error_replace(ctx, KILN_EXIT_USAGE, "package '%s' is not in the recipe's sources: kiln takes the base users and groups from its master files",
					KILN_BASE_PACKAGE);
	/* a disk image's unified kernel image starts from systemd's EFI stub, from the same sources */
	if (rc == 0 && kiln_recipe_wants_disk(r) &&
	    kiln_solver_package(ctx, solver, KILN_UKI_STUB_PACKAGE, &res.uefi_stub) < 0)
		rc = kiln_error_replace(ctx, KILN_EXIT_USAGE, "package '%s' is not in the recipe's sources: [Output] Formats=%s needs its EFI stub",
					KILN_UKI_STUB_PACKAGE, r->formats.v[r->formats.n - 1]);
	if (rc == 0) {
		/*
		 * a security suite: named -security, or labelled so by its Release
		 * (Debian-Security); the baseline is the release itself, so neither
		 * those nor -updates/-backports suites count for it
		 */
		struct kiln_strv sec = { 0 }, upd = { 0 };

		for (size_t i = 0; i < res.n_indexes; i++) {
			const struct kiln_repo_index *ri = &res.indexes[i];
			const char *dash = strrchr(ri->suite, '-');

			if ((dash && strcmp(dash, "-security") == 0) || (ri->label && strcmp(ri->label, "Debian-Security") == 0))
				kiln_strv_push(&sec, ri->suite);
			else if (dash && (strcmp(dash, "-updates") == 0 || strcmp(dash, "-backports") == 0))
				kiln_strv_push(&upd, ri->suite);
		}
		kiln_solver_mark_security(solver, &res.set, &sec, &upd);
		/* the packages outside the closure too: a kernel from the security suite is a security update */
		res.kernel.security = res.kernel.suite && kiln_strv_contains(&sec, res.kernel.suite);
		res.base.security = res.base.suite && kiln_strv_contains(&sec, res.base.suite);
		res.uefi_stub.security = res.uefi_stub.suite && kiln_strv_contains(&sec, res.uefi_stub.suite);
		kiln_strv_release(&sec);
		kiln_strv_release(&upd);
	}
	if (rc < 0) {
		kiln_resolution_release(&res);
		return -1;
	}
	*ret = res;
	return 0;
}

static json_t *
pkg_json(const struct kiln_pkg *p)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s}",
			 "name", p->name, "version", p->version, "arch", p->arch, "suite", p->suite,
			 "uri", p->uri, "filename", p->filename, "size", (json_int_t)p->size,
			 "sha256", p->sha256);
}

char *
kiln_resolution_json(const struct kiln_resolution *res)
{
	json_t *root, *sources = json_array(), *pkgs = json_array(), *kernel;
	char date[21];
	char *out;

	for (size_t i = 0; i < res->n_indexes; i++) {
		const struct kiln_repo_index *ri = &res->indexes[i];

		kiln_format_iso8601(ri->date, date);
		json_t *src = json_pack("{s:s, s:s, s:s, s:s, s:s}", "uri", ri->uri, "suite", ri->suite, "date", date,
					"inrelease_sha256", ri->inrelease_sha256, "signed_by", ri->fingerprint);

		if (ri->rollback_from) {
			kiln_format_iso8601(ri->rollback_from, date);
			json_object_set_new(src, "accepted_older_than", json_string(date));
		}
		json_array_append_new(sources, src);
	}
	for (size_t i = 0; i < res->set.n; i++)
		json_array_append_new(pkgs, pkg_json(&res->set.pkgs[i]));
	kernel = pkg_json(&res->kernel);
	json_object_set_new(kernel, "package", json_string(res->kernel.name));
	json_object_set_new(kernel, "requested", json_string(res->recipe->kernel_package));
	json_object_set_new(kernel, "release", json_string(res->kernel_release));
	root = json_pack("{s:s, s:{s:s, s:s}, s:s, s:s, s:o, s:o, s:o, s:o}",
			 "schema", "kiln.resolution/1",
			 "recipe", "name", res->recipe->name, "sha256", res->recipe->sha256,
			 "family", res->recipe->family, "arch", res->arch,
			 "sources", sources, "kernel", kernel, "base", pkg_json(&res->base), "packages", pkgs);
	if (res->uefi_stub.name)
		json_object_set_new(root, "uefi_stub", pkg_json(&res->uefi_stub));
	out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!out)
		abort();
	return out;
}
