/* fuzz-sources.c - apt sources in both formats, and ASCII-armored keys. */
#include <stdint.h>

#include "aptsources.h"
#include "pgp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kiln_apt_sources s = { 0 };
	struct kiln_ctx ctx;
	unsigned char *bin;
	size_t len;

	kiln_ctx_init(&ctx);
	kiln_apt_sources_parse_deb822(&ctx, "/", "fuzz.sources", (const char *)data, size, &s);
	kiln_apt_sources_release(&s);
	kiln_ctx_init(&ctx);
	kiln_apt_sources_parse_list(&ctx, "/", "fuzz.list", (const char *)data, size, &s);
	kiln_apt_sources_release(&s);
	if (kiln_pgp_dearmor((const char *)data, size, &bin, &len) == 0)
		free(bin);
	return 0;
}
