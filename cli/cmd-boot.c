/* cmd-boot.c - kiln boot: run FAMILY/VERSION under QEMU, console on stdout, exit with the guest's status. */
#define _GNU_SOURCE
#include "cli.h"
#include "qemu.h"

#include <getopt.h>
#include <string.h>

static const struct kiln_opt boot_opts[] = {
	KILN_OPT_STORE,
	{ "timeout", "S", 't', "stop the guest after S seconds (exit 1)" },
	{ "forward", "H:G", 'f', "forward 127.0.0.1:H on the host to port G of the guest\n" "(QEMU user networking; repeatable)" },
	{ "append", "ARGS", 'a', "extra kernel arguments (e.g. kiln.ip=10.0.2.15/24,10.0.2.2)" },
	{ "memory", "MIB", 'm', "guest memory (default 512)" },
	{ "disk", NULL, 'd', "boot the version's disk image (disk.qcow2, .raw or .vhd) under UEFI\n"
				"with OVMF, instead of its kernel directly; the disk is not written" },
	{ "accel", "A", 'A', "auto (KVM when usable, else TCG; default, or $KILN_ACCEL), kvm, tcg" },
	KILN_OPT_HELP,
	{ 0 },
};

int
cmd_boot(int argc, char **argv)
{
	struct kiln_cli_common co = { 0 };
	struct kiln_boot_opts o = { .console = stdout, .memory_mb = 512, .accel = getenv("KILN_ACCEL") };
	_cleanup_free_ char *dir = NULL;
	struct kiln_ctx ctx;
	char *end;
	int c, rc, status;

	while ((c = kiln_cli_getopt(argc, argv, boot_opts, "boot", "boot", &co, &rc)) != -1) {
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
		case 'd': o.disk = 1; break;
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
	o.store = ctx.set->store;
	rc = kiln_boot(&ctx, &o, &status);
	kiln_strv_release(&o.forwards);
	if (rc < 0)
		return kiln_cli_fail("boot", &ctx);
	return status;
}

/* kiln help boot: the usage and what it does; the options print from their tables above */
const struct kiln_cmd kiln_cmd_boot = {
	.name = "boot",
	.fn = cmd_boot,
	.summary = "boot an image version under QEMU, console on stdout",
	.operands = "FAMILY/VERSION",
	.usage = "Direct kernel boot (-kernel/-initrd/-append with the manifest's command line)\n"
		 "under KVM when /dev/kvm is usable, TCG otherwise; the serial console goes to\n"
		 "stdout. With --disk, the disk image boots under UEFI (OVMF, q35) from its\n"
		 "EFI system partition instead, its unified kernel image's own command line.\n"
		 "Exits with the status kiln-init reports for the image's command.\n",
	.opts = { boot_opts },
};
