/* fuzz-release.c - the Release parser (signed text, but parsed defensively anyway). */
#include <stdint.h>

#include "release.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kiln_release r;
	struct kiln_ctx ctx;

	kiln_ctx_init(&ctx);
	if (kiln_release_parse(&ctx, "fuzz", (const char *)data, size, &r) == 0) {
		kiln_release_find(&r, "main/binary-amd64/Packages.xz");
		kiln_release_release(&r);
	}
	return 0;
}
