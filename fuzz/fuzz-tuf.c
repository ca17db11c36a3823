/*
 * fuzz-tuf.c - the checks verify-published runs on untrusted metadata: the
 * input as a role document under a fixed root (one Ed25519 key for every
 * role, threshold 1), as each role; a valid signature cannot be forged, so
 * this exercises the parsing, the key and threshold bookkeeping and the
 * expiry and type checks, which must reject without crashing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kiln.h"
#include "tuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char root_text[] =
	"{\"_type\":\"root\",\"expires\":\"2030-01-01T00:00:00Z\",\"version\":1,"
	"\"keys\":{\"k\":{\"keytype\":\"ed25519\",\"scheme\":\"ed25519\",\"keyval\":{\"public\":"
	"\"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a\"}}},"
	"\"roles\":{\"root\":{\"keyids\":[\"k\"],\"threshold\":1},\"targets\":{\"keyids\":[\"k\"],\"threshold\":1},"
	"\"snapshot\":{\"keyids\":[\"k\"],\"threshold\":1},\"timestamp\":{\"keyids\":[\"k\"],\"threshold\":1}}}";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const roles[] = { "root", "targets", "snapshot", "timestamp" };
	json_t *root = json_loads(root_text, 0, NULL), *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);

	if (!root)
		abort();
	for (size_t i = 0; doc && i < sizeof(roles) / sizeof(roles[0]); i++) {
		struct kiln_ctx ctx;

		kiln_ctx_init(&ctx);
		/* nothing here is signed by the key: every check must fail, with exit 4 */
		if (kiln_tuf_check(&ctx, root, roles[i], doc, 1700000000) || ctx.code != KILN_EXIT_INTEGRITY)
			abort();
		free(kiln_tuf_canonical(doc));
	}
	json_decref(doc);
	json_decref(root);
	return 0;
}
