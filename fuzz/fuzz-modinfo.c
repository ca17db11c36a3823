/* fuzz-modinfo.c - the ELF .modinfo reader (module files come from packages) and path normalization. */
#include <stdint.h>
#include <string.h>

#include "compose.h"
#include "kernel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kiln_strv deps = { 0 };
	char *name = NULL, *s;

	if (kiln_modinfo_parse((const char *)data, size, &name, &deps) == 0)
		free(name);
	kiln_strv_release(&deps);
	s = kiln_strndup((const char *)data, size);
	free(kiln_path_normalize(s));
	free(s);
	return 0;
}
