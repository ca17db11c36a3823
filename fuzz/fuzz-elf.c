/* fuzz-elf.c - the ELF reader (every binary, library and module of a package passes through it) and path normalization. */
#include <stdint.h>
#include <string.h>

#include "compose.h"
#include "elffile.h"
#include "kernel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kiln_strv deps = { 0 };
	struct kiln_elf elf;
	struct kiln_ctx ctx;
	char *name = NULL, *s, *copy = kiln_malloc(size + 1);

	kiln_ctx_init(&ctx);
	memcpy(copy, data, size);	/* libelf may convert a file in place: kiln hands it its own buffer */
	if (kiln_modinfo_parse(copy, size, &name, &deps) == 0)
		free(name);
	kiln_strv_release(&deps);
	memcpy(copy, data, size);
	if (kiln_elf_read(&ctx, copy, size, &elf) == 0) {
		for (size_t i = 0; i < elf.needed.n; i++)
			if (!*elf.needed.v[i] || strchr(elf.needed.v[i], '\n'))
				__builtin_trap();	/* refused by the reader: they would forge build output */
		kiln_elf_release(&elf);
	}
	free(copy);
	s = kiln_strndup((const char *)data, size);
	free(kiln_path_normalize(s));
	free(s);
	return 0;
}
