/* fuzz-packages.c - a Packages index through libsolv and kiln's Size pass, then a resolve. */
#include <stdint.h>

#include "solve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kiln_solver *s = kiln_solver_new("amd64");
	struct kiln_strv sv = { 0 };
	struct kiln_pkgset ps;
	struct kiln_ctx ctx;
	struct kiln_pkg k;
	char *rel;

	kiln_ctx_init(&ctx);
	if (kiln_solver_add_packages_text(&ctx, s, "file:///f", "fuzz", (const char *)data, size) == 0) {
		kiln_strv_push(&sv, "app");
		if (kiln_solver_resolve(&ctx, s, &sv, &ps) == 0)
			kiln_pkgset_release(&ps);
		if (kiln_solver_kernel(&ctx, s, "linux-image-amd64", &k, &rel) == 0) {
			kiln_pkg_release(&k);
			free(rel);
		}
	}
	kiln_strv_release(&sv);
	kiln_solver_free(s);
	return 0;
}
