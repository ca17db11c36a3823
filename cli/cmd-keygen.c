/* cmd-keygen.c - kiln keygen: an Ed25519 key pair for signing manifests. */
#define _GNU_SOURCE
#include "cli.h"

#include <getopt.h>

int
cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *out = NULL;
	struct kiln_cli_common co = { 0 };
	struct kiln_ctx ctx;
	int c, rc = 0;

	while ((c = kiln_cli_getopt(argc, argv, opts, "keygen", "keygen", &co, &rc)) != -1) {
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
