/* cmd-audit.c - kiln audit: a version's image or any disk image against a policy, and a kiln image against what was signed. */
#define _GNU_SOURCE
#include "cli.h"
#include "image.h"
#include "manifest.h"
#include "policy.h"

#include <getopt.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct kiln_opt audit_opts[] = {
	{ "policy", "FILE", 'P', "the policy (default: the one shipped, audit/default.policy)" },
	{ "pubkey", "KEY", 'p', "a version's manifest must carry a good signature by KEY" },
	{ "json", NULL, 'j', "one JSON document: {image, kind, os, ..., findings: [{rule, path, expected, actual}]}" },
	KILN_OPT_STORE,
	KILN_OPT_HELP,
	{ 0 },
};

struct audit {
	const char *target, *policy_path, *pubkey;
	struct kiln_audit_policy policy;
	struct kiln_audit_image img;
	char *dir;		/* the kiln version the image is (in the store), or NULL */
	json_t *manifest;	/* its verified manifest */
	const char *integrity;	/* "checked", or why not */
	const char *signature;	/* "verified", "not checked (no --pubkey)" */
	struct kiln_finding *f;
	size_t n;
};

/* The version at @dir: its manifest verified (exit 4 naming what differs), kept in @a. */
static int
verify_version(struct kiln_ctx *ctx, struct audit *a, const char *dir)
{
	struct kiln_verify_opts vo = { .pubkey = a->pubkey, .allow_unsigned = !a->pubkey, .store = ctx->set->store,
				       .out_manifest = &a->manifest };
	_cleanup_free_ char *report = NULL;

	if (kiln_manifest_verify(ctx, dir, &vo, &report) < 0)
		return -1;
	a->dir = kiln_strdup(dir);
	a->signature = a->pubkey ? "verified" : "not checked (no --pubkey)";
	return 0;
}

static const char *
artifact_sha(json_t *m, const char *name)
{
	size_t i;
	json_t *x;

	json_array_foreach(json_object_get(m, "artifacts"), i, x)
		if (!strcmp(json_string_value(json_object_get(x, "name")) ?: "", name))
			return json_string_value(json_object_get(x, "sha256"));
	return NULL;
}

/* The image's files against the version's files.tsv; a kiln disk's kernel and command line against the manifest. */
static int
integrity(struct kiln_ctx *ctx, struct audit *a)
{
	_cleanup_free_ char *tsv = NULL;
	size_t len;

	if (kiln_read_file_beneath(ctx, a->dir, "files.tsv", (size_t)1 << 30, &tsv, &len) < 0)
		return kiln_error_replace(ctx, KILN_EXIT_INTEGRITY, "%s", ctx->msg);
	kiln_audit_integrity(tsv, a->img.tsv, &a->f, &a->n);
	if (a->img.kind == KILN_AUDIT_KILN_DISK) {
		const char *want = artifact_sha(a->manifest, "vmlinuz");
		const char *cmd = json_string_value(json_object_get(json_object_get(a->manifest, "disk"), "cmdline"));

		if (!want || strcmp(want, a->img.uki.linux_sha256))
			kiln_finding_add(&a->f, &a->n, "changed-kernel", KILN_ESP_BOOT_PATH, want ? want : "(no vmlinuz signed)",
					 a->img.uki.linux_sha256[0] ? a->img.uki.linux_sha256 : "(no .linux section)");
		if (!cmd || !a->img.uki.cmdline || strcmp(cmd, a->img.uki.cmdline))
			kiln_finding_add(&a->f, &a->n, "changed-cmdline", KILN_ESP_BOOT_PATH, cmd ? cmd : "(no disk signed)",
					 a->img.uki.cmdline ? a->img.uki.cmdline : "(no .cmdline section)");
	}
	a->integrity = "checked";
	return 0;
}

static int
read_target(struct kiln_ctx *ctx, struct audit *a)
{
	struct stat st;

	if (stat(a->target, &st) == 0 && !S_ISDIR(st.st_mode)) {
		/* a disk image file: a kiln disk names its version, checked when the store has it */
		if (kiln_audit_read_disk(ctx, a->target, ctx->set->store, &a->img) < 0)
			return -1;
		if (a->img.kind == KILN_AUDIT_KILN_DISK) {
			_cleanup_free_ char *name = kiln_asprintf("%s/%s", a->img.family ?: "", a->img.version ?: "");
			_cleanup_free_ char *dir = kiln_cli_image_dir(ctx, name, NULL, NULL);
			_cleanup_free_ char *mpath = dir ? kiln_asprintf("%s/manifest.json", dir) : NULL;

			if (!mpath || access(mpath, F_OK) < 0) {
				a->integrity = "not checked: its version is not in the store";
				return 0;
			}
			if (verify_version(ctx, a, dir) < 0)
				return -1;
			return integrity(ctx, a);
		}
		a->integrity = "not applicable (not a kiln image)";
		return 0;
	}
	if (strchr(a->target, '/') && !kiln_startswith(a->target, "/") && !kiln_startswith(a->target, ".")) {
		_cleanup_free_ char *dir = kiln_cli_image_dir(ctx, a->target, NULL, NULL), *disk = NULL;
		_cleanup_free_ char *initrd = NULL;
		const char *format;

		if (!dir || stat(dir, &st) < 0)
			return kiln_error(ctx, KILN_EXIT_USAGE, "'%s' is neither an image file nor a version in %s", a->target,
					  ctx->set->store);
		if (verify_version(ctx, a, dir) < 0)
			return -1;
		if (kiln_disk_find(dir, &disk, &format)) {
			if (kiln_audit_read_disk(ctx, disk, ctx->set->store, &a->img) < 0)
				return -1;
			if (a->img.kind != KILN_AUDIT_KILN_DISK)
				return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: not a kiln disk", disk);
		} else {
			initrd = kiln_asprintf("%s/initrd.img", dir);
			if (kiln_audit_read_initrd(ctx, initrd, &a->img) < 0)
				return -1;
		}
		return integrity(ctx, a);
	}
	return kiln_error(ctx, KILN_EXIT_USAGE, "'%s': no such image file", a->target);
}

static const char *const kinds[] = { "kiln-initramfs", "kiln-disk", "foreign" };

static void
print_json(struct audit *a)
{
	json_t *f = json_array(), *root;

	for (size_t i = 0; i < a->n; i++)
		json_array_append_new(f, json_pack("{s:s, s:s, s:s, s:s}", "rule", a->f[i].rule, "path", a->f[i].path,
						   "expected", a->f[i].expected, "actual", a->f[i].actual));
	root = json_pack("{s:s, s:s, s:s?, s:s, s:I, s:s, s:s?, s:o}", "image", a->target, "kind", kinds[a->img.kind],
			 "os", a->img.os, "policy", a->policy_path ? a->policy_path : "default",
			 "files", (json_int_t)a->img.n_files, "integrity", a->integrity, "signature", a->signature,
			 "findings", f);
	if (a->img.family)
		json_object_set_new(root, "family", json_string(a->img.family));
	if (a->img.version)
		json_object_set_new(root, "version", json_string(a->img.version));
	if (a->img.kind == KILN_AUDIT_FOREIGN && a->img.dpkg_status)
		json_object_set_new(root, "packages", kiln_audit_dpkg_packages(a->img.dpkg_status));
	json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(root);
}

static void
print_table(struct audit *a)
{
	printf("%s: %s, %zu files; policy %s; integrity %s%s%s\n", a->target, a->img.os, a->img.n_files,
	       a->policy_path ? a->policy_path : "(default)", a->integrity, a->signature ? "; signature " : "",
	       a->signature ? a->signature : "");
	if (!a->n) {
		printf("no findings\n");
		return;
	}
	printf("%-16s %-40s %-28s %s\n", "RULE", "PATH", "EXPECTED", "ACTUAL");
	for (size_t i = 0; i < a->n; i++)
		printf("%-16s %-40s %-28s %s\n", a->f[i].rule, a->f[i].path, a->f[i].expected, a->f[i].actual);
}

int
cmd_audit(int argc, char **argv)
{
	struct kiln_cli_common co = { 0 };
	struct audit a = { 0 };
	struct kiln_ctx ctx;
	_cleanup_free_ char *ptext = NULL;
	size_t plen = 0;
	int c, rc;

	while ((c = kiln_cli_getopt(argc, argv, audit_opts, "audit", "audit", &co, &rc)) != -1) {
		switch (c) {
		case 'P': a.policy_path = optarg; break;
		case 'p': a.pubkey = optarg; break;
		default:
			return rc;
		}
	}
	if (optind != argc - 1)
		return kiln_cli_usage_error("audit", "expected one FAMILY/VERSION or IMAGE-FILE");
	a.target = argv[optind];
	if ((rc = kiln_cli_setup("audit", &co, &ctx)) != 0)
		return rc;
	if (a.policy_path) {
		if (kiln_read_file(&ctx, a.policy_path, KILN_AUDIT_POLICY_MAX, &ptext, &plen) < 0)
			return kiln_cli_fail("audit", &ctx);
	} else {
		ptext = kiln_strdup(kiln_audit_default_policy);
		plen = strlen(ptext);
	}
	if (kiln_audit_policy_parse(&ctx, a.policy_path ? a.policy_path : "default policy", ptext, plen, &a.policy) < 0)
		return kiln_cli_fail("audit", &ctx);
	rc = read_target(&ctx, &a);
	if (rc == 0) {
		struct kiln_audit_file *files = NULL;
		_cleanup_free_ char *tsv = kiln_strdup(a.img.tsv ? a.img.tsv : "");
		size_t n = kiln_audit_files(tsv, &files);

		kiln_audit_evaluate(&a.policy, files, n, a.img.passwd, a.img.group, a.img.shadow, &a.f, &a.n);
		free(files);
		if (co.json)
			print_json(&a);
		else
			print_table(&a);
		rc = a.n ? KILN_EXIT_FAILED : 0;
	} else {
		rc = kiln_cli_fail("audit", &ctx);
	}
	kiln_findings_free(a.f, a.n);
	free(a.f);
	kiln_audit_image_release(&a.img);
	kiln_audit_policy_release(&a.policy);
	json_decref(a.manifest);
	free(a.dir);
	return rc;
}

/* kiln help audit: the usage and what it does; the options print from their tables above */
const struct kiln_cmd kiln_cmd_audit = {
	.name = "audit",
	.fn = cmd_audit,
	.summary = "check an image's files against a policy, and a kiln image against what was signed",
	.operands = "FAMILY/VERSION|IMAGE-FILE",
	.usage = "Opens a version's disk image (else its initramfs), or any disk image file\n"
		 "(qcow2, raw, vmdk, vhd) read-only through libguestfs, and checks its files\n"
		 "against the policy: modes and owners of named paths, world-writable files\n"
		 "outside the allowed directories, setuid/setgid files not allowed, files\n"
		 "with no account, empty passwords, uid 0 besides root. A kiln image (a\n"
		 "version, or a disk whose unified kernel image names a version the store\n"
		 "has) is also checked file by file against the version's signed files.tsv,\n"
		 "and a kiln disk's kernel and command line against its manifest. For a\n"
		 "Debian or Ubuntu image, --json lists its installed packages (dpkg status)\n"
		 "as a manifest lists packages.\n"
		 "Exit 0: no findings; 1: findings; 2: bad policy or usage; 4: the image\n"
		 "cannot be read, or the version does not match its manifest.\n",
	.opts = { audit_opts },
};
