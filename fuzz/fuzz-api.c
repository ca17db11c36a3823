/* fuzz-api.c - what an HTTP request brings: the path and a POST /v1/deployments body. */
#include <stdint.h>
#include <string.h>

#include "catalog.h"
#include "serve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kiln_deploy_req r = { 0 };
	struct kiln_ctx ctx;
	char seg[4][128], *url = kiln_strndup((const char *)data, size);
	json_t *b;

	kiln_api_split_path(url, seg);
	free(url);
	kiln_ctx_init(&ctx);
	b = kiln_api_deploy_body(&ctx, (const char *)data, size, &r);
	json_decref(b);
	return 0;
}
