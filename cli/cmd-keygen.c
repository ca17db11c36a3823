/* cmd-keygen.c - kiln keygen: an Ed25519 key pair for signing manifests. */
#define _GNU_SOURCE
#include "cli.h"

#include <getopt.h>

static const struct kiln_opt keygen_opts[] = {
	{ "out", "KEY", 'O', "where to write the key pair" },
	KILN_OPT_HELP,
	{ 0 },
};

int
cmd_keygen(int argc, char **argv)
{
	const char *out = NULL;
	struct kiln_cli_common co = { 0 };
	struct kiln_ctx ctx;
	int c, rc = 0;

	while ((c = kiln_cli_getopt(argc, argv, keygen_opts, "keygen", "keygen", &co, &rc)) != -1) {
		switch (c) {
		case 'O': out = optarg; break;
		default:
			return rc;
		}
	}
	if (!out || optind != argc)
		return kiln_cli_usage_error("keygen", "expected --out KEY");
	kiln_ctx_init(&ctx);
	if (kiln_keygen(&ctx, out) < 0)
		return kiln_cli_fail("keygen", &ctx);
	printf("%s\n%s.pub\n", out, out);
	return 0;
}

/* kiln help keygen: the usage and what it does; the options print from their tables above */
const struct kiln_cmd kiln_cmd_keygen = {
	.name = "keygen",
	.fn = cmd_keygen,
	.summary = "create an Ed25519 key pair for signing manifests",
	.forms = (const struct kiln_form[]){
		{ NULL, "", "!out" },
		{ 0 },
	},
	.usage = "Writes KEY (PEM private key, mode 0600) and KEY.pub (PEM public key).\n"
		 "Refuses to overwrite either (exit 2).\n",
	.opts = { keygen_opts },
};
