/* cmd-keygen.c - kiln keygen: an Ed25519 key pair for signing manifests. */
#define _GNU_SOURCE
#include "cli.h"

#include <getopt.h>

int
cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *out = NULL;
	struct kiln_ctx ctx;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'h': return cmd_help(2, (char *[]){ "help", "keygen", NULL });
		default:
			return kiln_cli_usage_error("keygen", "unknown option '%s'", argv[optind - 1]);
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
