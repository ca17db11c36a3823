/* cmd-serve.c - kiln serve: the HTTP JSON API (read-only but for POST /v1/deployments). */
#define _GNU_SOURCE
#include "cli.h"
#include "serve.h"

#include <getopt.h>

static const struct kiln_opt serve_opts[] = {
	{ "listen", "A:P", 'l', "address and port (default 127.0.0.1:8080)" },
	{ "threads", "N", 't', "worker threads (default 2)" },
	{ "max-per-client", "N", 'P', "connections one client address may hold (default 64;\n" "of 1000 in all): slow clients cannot take every slot" },
	{ "client-timeout", "S", 'T', "a connection idle this long, in its headers or body\n" "too, is closed (default 10)" },
	{ "host", "URI", 'H', "POST /v1/deployments runs each as libvirt guests there\n"
			      "(default: records only)" },
	{ "network", "NET", 'N', "the libvirt network of those guests' NIC" },
	KILN_OPT_STORE,
	{ "now", "DATE", 'n', "a fixed clock for every request (tests)" },
	KILN_OPT_HELP,
	{ 0 },
};

int
cmd_serve(int argc, char **argv)
{
	struct kiln_cli_common co = { 0 };
	struct kiln_serve_opts o = { .listen = "127.0.0.1:8080", .threads = 2, .per_client = 64, .timeout = 10 };
	struct kiln_ctx ctx;
	char *end;
	int c, rc;

	while ((c = kiln_cli_getopt(argc, argv, serve_opts, "serve", "serve", &co, &rc)) != -1) {
		switch (c) {
		case 'l': o.listen = optarg; break;
		case 'H': o.host = optarg; break;
		case 'N': o.network = optarg; break;
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
	o.store = ctx.set->store;
	o.fixed_now = (co.now || getenv("KILN_NOW")) ? ctx.set->now : 0;
	if (kiln_serve(&ctx, &o) < 0)
		return kiln_cli_fail("serve", &ctx);
	return 0;
}

/* kiln help serve: the usage and what it does; the options print from their tables above */
const struct kiln_cmd kiln_cmd_serve = {
	.name = "serve",
	.fn = cmd_serve,
	.summary = "the HTTP JSON API",
	.operands = "",
	.usage = "GET /v1/families, /v1/families/F/versions[?all=1], /v1/versions/F/V,\n"
		 "/v1/versions/F/V/manifest and /manifest.sig, /v1/fixes/ID; with a tenant's\n"
		 "bearer token (kiln tenant token): GET /v1/deployments and /v1/events (its\n"
		 "own), POST /v1/deployments {name, family, version?, auto?}. Errors are JSON\n"
		 "{\"error\": ...}: 400, 401, 403 (lifecycle refusal), 404, 405, 409 (exists), 413.\n",
	.opts = { serve_opts },
};
