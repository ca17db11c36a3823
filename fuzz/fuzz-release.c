/* fuzz-release.c - the Release parser (signed text, but parsed defensively anyway) and the rollback memory's lines. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "release.h"
#include "repo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kiln_release r;
	struct kiln_ctx ctx;

	kiln_ctx_init(&ctx);
	time_t t;

	if (kiln_release_parse(&ctx, "fuzz", (const char *)data, size, &r) == 0) {
		/* what a parsed Date: becomes in the rollback memory reads back the same */
		if (r.date >= 0) {
			char *line = kiln_index_date_format(r.date, "file:///fuzz/dists/x/InRelease");

			if (kiln_index_date_parse(line, strlen(line), &t) < 0 || t != r.date)
				abort();
			free(line);
		}
		kiln_release_find(&r, "main/binary-amd64/Packages.xz");
		kiln_release_release(&r);
	}
	/* the memory file itself, as the store holds it (a damaged one must not crash or go negative) */
	if (kiln_index_date_parse((const char *)data, size, &t) == 0 && t < 0)
		abort();
	return 0;
}
