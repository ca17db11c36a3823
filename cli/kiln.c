/* kiln.c - main(): dispatch to the subcommand, from one sorted table. */
#define _GNU_SOURCE
#include "cli.h"

#include <string.h>

const struct kiln_cmd kiln_commands[] = {
	{ "boot", cmd_boot, "boot an image version under QEMU, console on stdout",
	  "usage: kiln boot FAMILY/VERSION [--timeout S] [--forward HOSTPORT:GUESTPORT]...\n"
	  "                 [--append ARGS] [--memory MIB] [--accel A] [--store DIR]\n"
	  "\n"
	  "Direct kernel boot (-kernel/-initrd/-append with the manifest's command line)\n"
	  "under KVM when /dev/kvm is usable, TCG otherwise; the serial console goes to\n"
	  "stdout. Exits with the status kiln-init reports for the image's command.\n"
	  "\n"
	  "  --timeout S      stop the guest after S seconds (exit 1)\n"
	  "  --forward H:G    forward 127.0.0.1:H on the host to port G of the guest\n"
	  "                   (QEMU user networking; repeatable)\n"
	  "  --append ARGS    extra kernel arguments (e.g. kiln.ip=10.0.2.15/24,10.0.2.2)\n"
	  "  --memory MIB     guest memory (default 512)\n"
	  "  --accel A        auto (KVM when usable, else TCG; default, or $KILN_ACCEL), kvm, tcg\n"
	  "  --store DIR      image store (default: $KILN_STORE or ./images)\n" },
	{ "build", cmd_build, "bake a recipe into an image version in the store",
	  "usage: kiln build RECIPE [--store DIR] [--key KEY] [--advisories FILE] [--version V]\n"
	  "                  [--force] [--offline]\n"
	  "                  [--allow-expired] [--allow-older-index] [--arch ARCH] [--now DATE]\n"
	  "\n"
	  "Resolves the recipe (see 'kiln help resolve'), fetches every package into the\n"
	  "cache (size and SHA256 checked against the signed index), and streams their\n"
	  "files into a cpio initramfs with kiln-init as /init, next to the kernel's\n"
	  "vmlinuz. The version directory STORE/FAMILY/VERSION holds vmlinuz, initrd.img,\n"
	  "manifest.json and files.tsv; it is assembled aside and renamed into place\n"
	  "last. Its path is printed last. SOURCE_DATE_EPOCH (default: the newest Date\n"
	  "of the sources' Release files) sets every mtime: the same recipe and\n"
	  "repository state give bit-identical images.\n"
	  "\n"
	  "  --store DIR      image store (default: $KILN_STORE or ./images)\n"
	  "  --key KEY        sign manifest.json with this Ed25519 key (kiln keygen):\n"
	  "                   manifest.json.sig\n"
	  "  --advisories F   an advisory feed (OSV records, or the Debian security\n"
	  "                   tracker's JSON): a package whose chosen version it marks\n"
	  "                   fixed counts as a security update, with those ids\n"
	  "  --version V      YYYY.MM.R (default: the patch month and the next free R)\n"
	  "  --force          rebuild a version that exists\n"
	  "  --offline        use only the cache; exit 5 if something is missing\n"
	  "  --allow-expired  accept an index whose Valid-Until has passed\n"
	  "  --allow-older-index  accept a signed index older than one kiln already\n"
	  "                   accepted for that source and suite (a rollback); the\n"
	  "                   manifest records it\n"
	  "  --arch ARCH      Debian architecture (default: amd64)\n"
	  "  --now DATE       the clock, ISO 8601 (default: $KILN_NOW or the real time)\n"
	  "\n"
	  "Exit: 0 ok, 2 bad recipe or existing version, 3 a released version (never\n"
	  "rebuilt), 4 signature, hash, unsafe package content, a limit passed, a\n"
	  "rolled-back index or a downgrade, 5 fetch error.\n" },
	{ "deploy", cmd_deploy, "create, update or list deployments",
	  "usage: kiln deploy create NAME --tenant T --family F [--version V | --auto]\n"
	  "       kiln deploy update NAME [--tenant T] [--config KEY=VALUE] [--version V] [--auto | --pin]\n"
	  "       kiln deploy list [--tenant T] [--json]\n"
	  "\n"
	  "The lifecycle's rules: a deployment is created on, and moves to, active\n"
	  "versions only; a deployment on a disabled version keeps running but may not\n"
	  "change unless it also moves to an active version. Refusals are exit 3 and\n"
	  "name the supported versions. Without --version, the newest active version.\n"
	  "\n"
	  "  --tenant T       the tenant (default: default)\n"
	  "  --family F       create: the image family\n"
	  "  --version V      the version to run\n"
	  "  --auto           follow the newest active version at each tick\n"
	  "  --pin            stay on the version (default for create)\n"
	  "  --config K=V     update: set one configuration key\n"
	  "  --json           one JSON document\n"
	  "  --store DIR      image store (default: $KILN_STORE or ./images)\n"
	  "  --now DATE       the clock (default: $KILN_NOW or the real time)\n" },
	{ "events", cmd_events, "what the lifecycle did: releases, transitions, upgrades, notices",
	  "usage: kiln events [--tenant T] [--since DATE] [--json] [--store DIR]\n"
	  "\n"
	  "  --tenant T       only this tenant's deployments' events\n"
	  "  --since DATE     only events at or after DATE\n"
	  "  --json           [{id, at, kind, tenant, deployment, family, version, from, to, reason}]\n"
	  "  --store DIR      image store (default: $KILN_STORE or ./images)\n" },
	{ "fixes", cmd_fixes, "which image versions contain the fix for a CVE or DSA/DLA",
	  "usage: kiln fixes CVE-ID|DSA-ID|DLA-ID [--json] [--store DIR]\n"
	  "\n"
	  "Searches the manifests in the store: every family/version whose packages\n"
	  "fix the id (from the security updates' changelog entries; fixes are\n"
	  "cumulative), and the first version of each family that did.\n"
	  "\n"
	  "  --json           one JSON document: {id, families: [{family, first, versions}]}\n"
	  "  --store DIR      image store (default: $KILN_STORE or ./images)\n" },
	{ "help", cmd_help, "show help for kiln or one command",
	  "usage: kiln help [COMMAND]\n" },
	{ "keygen", cmd_keygen, "create an Ed25519 key pair for signing manifests",
	  "usage: kiln keygen --out KEY\n"
	  "\n"
	  "Writes KEY (PEM private key, mode 0600) and KEY.pub (PEM public key).\n"
	  "Refuses to overwrite either (exit 2).\n"
	  "\n"
	  "  --out KEY        where to write the key pair\n" },
	{ "manifest", cmd_manifest, "show or verify an image version's manifest",
	  "usage: kiln manifest show FAMILY/VERSION [--json] [--store DIR]\n"
	  "       kiln manifest verify FAMILY/VERSION --pubkey KEY.pub [--deep]\n"
	  "                            [--allow-unsigned] [--store DIR]\n"
	  "       kiln manifest diff OLD NEW [--json] [--store DIR]\n"
	  "       kiln manifest vex FAMILY/VERSION [--store DIR]\n"
	  "\n"
	  "show prints the summary and the table of security updates (package,\n"
	  "version, previous version, class, CVE and DSA ids); diff lists packages\n"
	  "added, removed and upgraded, the security updates new in NEW and the\n"
	  "artifacts' sizes; vex prints an OpenVEX document with a \"fixed\"\n"
	  "statement per CVE the image's packages fix.\n"
	  "\n"
	  "verify checks, in order: the Ed25519 signature over the exact bytes of\n"
	  "manifest.json (before parsing it), every artifact's size and SHA-256,\n"
	  "files.tsv's hash, the previous_manifest link when that version is in the\n"
	  "store, and with --deep every entry of initrd.img against files.tsv.\n"
	  "\n"
	  "  --json           show: the manifest itself; diff: one JSON document\n"
	  "  --pubkey KEY     verify: the signer's public key (kiln keygen)\n"
	  "  --deep           verify: every file inside the initramfs too\n"
	  "  --allow-unsigned verify: accept a manifest without manifest.json.sig\n"
	  "  --store DIR      image store (default: $KILN_STORE or ./images)\n"
	  "\n"
	  "Exit: 0 verified, 2 bad usage or unreadable manifest, 4 signature, hash,\n"
	  "chain or content mismatch (the message names what differs).\n" },
	{ "policy", cmd_policy, "show or set lifecycle policy; trust signing keys",
	  "usage: kiln policy show [--json]\n"
	  "       kiln policy set [--family F] KEY=VALUE...\n"
	  "       kiln policy trust KEY.pub\n"
	  "\n"
	  "Keys: keep (2), disable_after_days (60), expire_after_days (30), notice_days (30);\n"
	  "without --family the default for every family is set.\n"
	  "\n"
	  "  --family F       set: this family's policy\n"
	  "  --json           show: one JSON document\n"
	  "  --store DIR      image store (default: $KILN_STORE or ./images)\n" },
	{ "release", cmd_release, "record a built version in the catalog, after verifying it",
	  "usage: kiln release FAMILY/VERSION [--pubkey KEY.pub] [--released DATE] [--store DIR] [--now DATE]\n"
	  "\n"
	  "Verifies manifest.json's signature (against --pubkey, else against the keys\n"
	  "'kiln policy trust' added) and the artifacts before recording anything.\n"
	  "Releasing the same version again is a no-op; with another manifest, exit 4.\n"
	  "\n"
	  "  --pubkey KEY     the signer's public key\n"
	  "  --released DATE  the release date (default: today, by --now)\n"
	  "  --store DIR      image store (default: $KILN_STORE or ./images)\n"
	  "  --now DATE       the clock (default: $KILN_NOW or the real time)\n" },
	{ "resolve", cmd_resolve, "resolve a recipe to the exact package set of its image",
	  "usage: kiln resolve RECIPE [--json] [--store DIR] [--offline] [--allow-expired] [--allow-older-index]\n"
	  "                    [--arch ARCH] [--now DATE]\n"
	  "\n"
	  "Reads the recipe's sources (From=host: the host's apt sources), verifies each\n"
	  "InRelease against its keyring, checks every Packages index against the signed\n"
	  "SHA256, caches both in STORE/cache/, and resolves [Packages] Install= and the\n"
	  "[Kernel] package as apt would (no Recommends).\n"
	  "\n"
	  "  --json           one JSON document instead of the table\n"
	  "  --store DIR      image store (default: $KILN_STORE or ./images)\n"
	  "  --offline        use only the cache; exit 5 if something is missing\n"
	  "  --allow-expired  accept an index whose Valid-Until has passed\n"
	  "  --allow-older-index  accept a signed index older than one kiln already\n"
	  "                   accepted for that source and suite (a rollback); the\n"
	  "                   manifest records it\n"
	  "  --arch ARCH      Debian architecture (default: amd64)\n"
	  "  --now DATE       the clock, ISO 8601 (default: $KILN_NOW or the real time)\n"
	  "\n"
	  "Exit: 0 ok, 2 bad recipe or unresolvable, 4 signature or hash mismatch,\n"
	  "5 fetch error or (--offline) not cached.\n" },
	{ "serve", cmd_serve, "the HTTP JSON API",
	  "usage: kiln serve [--listen ADDR:PORT] [--threads N] [--max-per-client N] [--client-timeout S]\n"
	  "                  [--store DIR] [--now DATE]\n"
	  "\n"
	  "GET /v1/families, /v1/families/F/versions[?all=1], /v1/versions/F/V,\n"
	  "/v1/versions/F/V/manifest and /manifest.sig, /v1/fixes/ID; with a tenant's\n"
	  "bearer token (kiln tenant token): GET /v1/deployments and /v1/events (its\n"
	  "own), POST /v1/deployments {name, family, version?, auto?}. Errors are JSON\n"
	  "{\"error\": ...}: 400, 401, 403 (lifecycle refusal), 404, 405, 409 (exists), 413.\n"
	  "\n"
	  "  --listen A:P     address and port (default 127.0.0.1:8080)\n"
	  "  --threads N      worker threads (default 2)\n"
	  "  --max-per-client N  connections one client address may hold (default 64;\n"
	  "                   of 1000 in all): slow clients cannot take every slot\n"
	  "  --client-timeout S  a connection idle this long, in its headers or body\n"
	  "                   too, is closed (default 10)\n"
	  "  --store DIR      image store (default: $KILN_STORE or ./images)\n"
	  "  --now DATE       a fixed clock for every request (tests)\n" },
	{ "tenant", cmd_tenant, "create a bearer token for a tenant (HTTP API)",
	  "usage: kiln tenant token TENANT [--store DIR]\n"
	  "\n"
	  "Prints a new token; only its SHA-256 is stored.\n"
	  "\n"
	  "  --store DIR      image store (default: $KILN_STORE or ./images)\n" },
	{ "tick", cmd_tick, "move the lifecycle clock: transitions, forced upgrades, notices",
	  "usage: kiln tick [--json] [--store DIR] [--now DATE]\n"
	  "\n"
	  "Records state transitions as events, moves deployments on expired versions\n"
	  "to the newest active version (auto_update on), moves auto_update deployments\n"
	  "to the newest active version, emits each notice (notice_days before disable\n"
	  "and expiry) once per deployment. One transaction; idempotent.\n"
	  "\n"
	  "  --json           the counts as one JSON document\n"
	  "  --store DIR      image store (default: $KILN_STORE or ./images)\n"
	  "  --now DATE       the clock (default: $KILN_NOW or the real time)\n" },
	{ "version", cmd_version_lc, "disable or extend one version by hand, with a reason",
	  "usage: kiln version disable FAMILY/VERSION --reason TEXT [--at DATE] [--until DATE]\n"
	  "       kiln version extend FAMILY/VERSION --until DATE --reason TEXT\n"
	  "\n"
	  "disable: disabled from --at (default: now) and, with --until, expired then (the\n"
	  "operator's batch date); extend: active at least until --until.\n"
	  "kiln's own version is 'kiln --version'.\n"
	  "\n"
	  "  --at DATE        disable: from when\n"
	  "  --until DATE     disable: the expiry date; extend: supported until\n"
	  "  --reason TEXT    recorded in the event log\n"
	  "  --store DIR      image store (default: $KILN_STORE or ./images)\n"
	  "  --now DATE       the clock (default: $KILN_NOW or the real time)\n" },
	{ "versions", cmd_versions, "supported versions, their state and lifecycle dates",
	  "usage: kiln versions [--family F] [--all] [--json] [--store DIR] [--now DATE]\n"
	  "\n"
	  "  --family F       one family\n"
	  "  --all            disabled and expired versions too\n"
	  "  --json           [{family, version, state, released, disables_on, expires_on,\n"
	  "                   disable_forecast, security_updates}]\n"
	  "  --store DIR      image store (default: $KILN_STORE or ./images)\n"
	  "  --now DATE       the clock (default: $KILN_NOW or the real time)\n" },
	{ NULL, NULL, NULL, NULL },
};

static const struct kiln_cmd *
find_cmd(const char *name)
{
	for (const struct kiln_cmd *c = kiln_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void
overview(FILE *f)
{
	fputs("usage: kiln COMMAND [ARGS...]\n\ncommands:\n", f);
	for (const struct kiln_cmd *c = kiln_commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fputs("\n'kiln help COMMAND' tells more.\n", f);
}

int
cmd_help(int argc, char **argv)
{
	const struct kiln_cmd *c;

	if (argc < 2) {
		overview(stdout);
		return 0;
	}
	c = find_cmd(argv[1]);
	if (!c)
		return kiln_cli_usage_error("help", "unknown command '%s'", argv[1]);
	fputs(c->usage, stdout);
	return 0;
}

int
cmd_version(int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return kiln_cli_usage_error("version", "unexpected argument '%s'", argv[1]);
	printf("kiln %s\n", KILN_VERSION);
	return 0;
}

int
main(int argc, char **argv)
{
	const struct kiln_cmd *c;

	if (argc < 2) {
		overview(stderr);
		return KILN_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(1, argv);
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(1, argv);
	c = find_cmd(argv[1]);
	if (!c) {
		fprintf(stderr, "kiln: unknown command '%s'; 'kiln help' lists them\n", argv[1]);
		return KILN_EXIT_USAGE;
	}
	return c->fn(argc - 1, argv + 1);
}
