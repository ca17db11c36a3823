/* cmd-serve.c - kiln serve: the HTTP JSON API (read-only but for POST /v1/deployments). */
#define _GNU_SOURCE
#include "cli.h"
#include "serve.h"

#include <getopt.h>

int
cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "threads", required_argument, NULL, 't' },
		{ "max-per-client", required_argument, NULL, 'P' },
		{ "client-timeout", required_argument, NULL, 'T' },
		{ "store", required_argument, NULL, 's' },
		{ "now", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct kiln_cli_common co = { 0 };
	struct kiln_serve_opts o = { .listen = "127.0.0.1:8080", .threads = 2, .per_client = 64, .timeout = 10 };
	struct kiln_ctx ctx;
	char *end;
	int c, rc;

	while ((c = kiln_cli_getopt(argc, argv, opts, "serve", "serve", &co, &rc)) != -1) {
		switch (c) {
		case 'l': o.listen = optarg; break;
		case 't':
			o.threads = (unsigned)strtoul(optarg, &end, 10);
			if (*end || o.threads < 1 || o.threads > 64)
				return kiln_cli_usage_error("serve", "bad --threads '%s'", optarg);
			break;
		case 'P':
			o.per_client = (unsigned)strtoul(optarg, &end, 10);
			if (*end || o.per_client < 1 || o.per_client > 1000)
				return kiln_cli_usage_error("serve", "bad --max-per-client '%s' (1 to 1000)", optarg);
			break;
		case 'T':
			o.timeout = (unsigned)strtoul(optarg, &end, 10);
			if (*end || o.timeout < 1 || o.timeout > 3600)
				return kiln_cli_usage_error("serve", "bad --client-timeout '%s' (seconds, 1 to 3600)", optarg);
			break;
		default:
			return rc;
		}
	}
	if (optind != argc)
		return kiln_cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
	if ((rc = kiln_cli_setup("serve", &co, &ctx)) != 0)
		return rc;
	o.store = ctx.store;
	o.fixed_now = (co.now || getenv("KILN_NOW")) ? ctx.now : 0;
	if (kiln_serve(&ctx, &o) < 0)
		return kiln_cli_fail("serve", &ctx);
	return 0;
}
