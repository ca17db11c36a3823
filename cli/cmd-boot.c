/* cmd-boot.c - kiln boot: run FAMILY/VERSION under QEMU, console on stdout, exit with the guest's status. */
#define _GNU_SOURCE
#include "cli.h"
#include "qemu.h"

#include <getopt.h>
#include <string.h>

int
cmd_boot(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "forward", required_argument, NULL, 'f' },
		{ "append", required_argument, NULL, 'a' },
		{ "memory", required_argument, NULL, 'm' },
		{ "accel", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct kiln_cli_common co = { 0 };
	struct kiln_boot_opts o = { .console = stdout, .memory_mb = 512, .accel = getenv("KILN_ACCEL") };
	_cleanup_free_ char *dir = NULL;
	struct kiln_ctx ctx;
	char *end;
	int c, rc, status;

	while ((c = kiln_cli_getopt(argc, argv, opts, "boot", "boot", &co, &rc)) != -1) {
		switch (c) {
		case 't':
			o.timeout = (int)strtol(optarg, &end, 10);
			if (*end || o.timeout < 0)
				return kiln_cli_usage_error("boot", "bad --timeout '%s'", optarg);
			break;
		case 'f': kiln_strv_push(&o.forwards, optarg); break;
		case 'a': o.append = optarg; break;
		case 'm':
			o.memory_mb = (int)strtol(optarg, &end, 10);
			if (*end || o.memory_mb < 64)
				return kiln_cli_usage_error("boot", "bad --memory '%s' (MiB, at least 64)", optarg);
			break;
		case 'A': o.accel = optarg; break;
		default:
			return rc;
		}
	}
	if (optind != argc - 1 || !strchr(argv[optind], '/')) {
		kiln_strv_release(&o.forwards);
		return kiln_cli_usage_error("boot", "expected one FAMILY/VERSION");
	}
	if ((rc = kiln_cli_setup("boot", &co, &ctx)) != 0) {
		kiln_strv_release(&o.forwards);
		return rc;
	}
	o.dir = dir = kiln_cli_image_dir(&ctx, argv[optind], NULL, NULL);
	if (!dir) {
		kiln_strv_release(&o.forwards);
		return kiln_cli_usage_error("boot", "bad image name '%s': use FAMILY/VERSION", argv[optind]);
	}
	o.store = ctx.store;
	rc = kiln_boot(&ctx, &o, &status);
	kiln_strv_release(&o.forwards);
	if (rc < 0)
		return kiln_cli_fail("boot", &ctx);
	return status;
}
