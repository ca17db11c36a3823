/* fuzz-recipe.c - the recipe parser on arbitrary bytes. */
#include <stdint.h>

#include "recipe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kiln_recipe *r = NULL;
	struct kiln_ctx ctx;

	kiln_ctx_init(&ctx);
	if (kiln_recipe_parse(&ctx, "fuzz.recipe", (const char *)data, size, &r) == 0)
		kiln_recipe_free(r);
	return 0;
}
