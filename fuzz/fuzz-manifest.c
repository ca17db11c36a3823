/* fuzz-manifest.c - the manifest parser, its reader into struct kiln_manifest and what reads that (diff, vex), and changelogs. */
#include <stdint.h>

#include "changelog.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kiln_strv c = { 0 }, a = { 0 };
	struct kiln_ctx ctx;
	json_t *m;

	kiln_ctx_init(&ctx);
	m = kiln_manifest_parse(&ctx, "fuzz", (const char *)data, size);
	if (m) {
		struct kiln_manifest mm;

		kiln_manifest_read(m, &mm);
		json_decref(kiln_manifest_diff(&mm, &mm));
		json_decref(kiln_manifest_vex(&mm, "0"));
		kiln_manifest_release(&mm);
		json_decref(m);
	}
	kiln_changelog_fixes((const char *)data, size, "1.0", NULL, &c, &a);
	kiln_strv_release(&c);
	kiln_strv_release(&a);
	return 0;
}
