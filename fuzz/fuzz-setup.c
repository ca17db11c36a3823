/* fuzz-setup.c - what packages declare for their setup (sysusers.d, tmpfiles.d, base-passwd's master files) and command lines. */
#include <stdint.h>
#include <string.h>

#include "accounts.h"
#include "cmdline.h"
#include "tmpfiles.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char passwd[] = "root:*:0:0:root:/root:/bin/bash\nnobody:*:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
static const char group[] = "root:*:0:\nadm:*:4:\nnogroup:*:65534:\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kiln_accounts a = { 0 }, b = { 0 };
	struct kiln_tmpfiles t = { 0 };
	struct kiln_strv words = { 0 };
	struct kiln_ctx ctx;
	char *text = kiln_strndup((const char *)data, size), *p = NULL, *g = NULL, *q;
	const char *why;

	/* the input as a sysusers.d file, on top of fixed base entries */
	kiln_ctx_init(&ctx);
	if (kiln_accounts_load_base(&ctx, &a, passwd, strlen(passwd), group, strlen(group), "base") == 0 &&
	    kiln_accounts_sysusers(&ctx, &a, (const char *)data, size, "fuzz") == 0) {
		kiln_accounts_render(&a, &p, &g);
		/* what kiln writes must read back as base entries */
		kiln_ctx_init(&ctx);
		if (kiln_accounts_load_base(&ctx, &b, p, strlen(p), g, strlen(g), "again") < 0)
			abort();
		free(kiln_accounts_supplementary(&a, "root"));
		free(p);
		free(g);
	}
	/* as base-passwd's master files */
	kiln_ctx_init(&ctx);
	kiln_accounts_release(&b);
	kiln_accounts_load_base(&ctx, &b, (const char *)data, size, group, strlen(group), "fuzz");
	/* as a tmpfiles.d file */
	kiln_ctx_init(&ctx);
	kiln_tmpfiles_parse(&ctx, &t, (const char *)data, size, "fuzz");
	/* as a command line: quoting what was split splits back to the same words */
	if (kiln_cmdline_split(text, KILN_CMDLINE_DOLLAR, &words, &why) == 0) {
		struct kiln_strv again = { 0 };

		q = kiln_cmdline_quote(&words);
		if (kiln_cmdline_split(q, KILN_CMDLINE_DOLLAR, &again, &why) < 0 || again.n != words.n)
			abort();
		for (size_t i = 0; i < words.n; i++)
			if (strcmp(again.v[i], words.v[i]) != 0)
				abort();
		kiln_strv_release(&again);
		free(q);
	}
	kiln_strv_release(&words);
	kiln_tmpfiles_release(&t);
	kiln_accounts_release(&a);
	kiln_accounts_release(&b);
	free(text);
	return 0;
}
