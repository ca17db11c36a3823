/* cmd-manifest.c - kiln manifest verify|show: an image version's signed record. */
#define _GNU_SOURCE
#include "cli.h"
#include "cmdline.h"
#include "manifest.h"

#include <getopt.h>
#include <jansson.h>
#include <string.h>
#include <unistd.h>

static const struct kiln_opt verify_opts[] = {
	{ "pubkey", "KEY", 'p', "verify: the signer's public key (kiln keygen)" },
	{ "deep", NULL, 'd', "verify: every file inside the initramfs too" },
	{ "allow-unsigned", NULL, 'u', "verify: accept a manifest without manifest.json.sig" },
	KILN_OPT_STORE,
	KILN_OPT_HELP,
	{ 0 },
};

static const struct kiln_opt show_opts[] = {
	{ "json", NULL, 'j', "show: the manifest itself; diff: one JSON document" },
	KILN_OPT_STORE,
	KILN_OPT_HELP,
	{ 0 },
};

static const struct kiln_opt diff_opts[] = {
	{ "json", NULL, 'j', "show: the manifest itself; diff: one JSON document" },
	KILN_OPT_STORE,
	KILN_OPT_HELP,
	{ 0 },
};

static const struct kiln_opt vex_opts[] = {
	KILN_OPT_STORE,
	KILN_OPT_HELP,
	{ 0 },
};

static const struct kiln_opt sbom_opts[] = {
	{ "format", "FORMAT", 'F', "sbom: cyclonedx (CycloneDX 1.5 JSON, the default) or spdx\n" "(SPDX 2.3 JSON)" },
	KILN_OPT_STORE,
	KILN_OPT_HELP,
	{ 0 },
};

static int
access_sig(const char *dir)
{
	_cleanup_free_ char *p = kiln_asprintf("%s/manifest.json.sig", dir);

	return access(p, F_OK) == 0;
}

/*
 * The start every "kiln manifest SUB FAMILY/VERSION" without options of its
 * own shares: the common options, one image name, the context. Returns 0 with
 * *@ret_dir set (caller frees), or the exit code after printing why.
 */
static int
image_command(const char *cmd, int argc, char **argv, const struct kiln_opt *opts, struct kiln_cli_common *co,
	      struct kiln_ctx *ctx, char **ret_dir)
{
	int rc;

	if (kiln_cli_getopt(argc, argv, opts, cmd, "manifest", co, &rc) != -1)
		return rc;
	if (optind != argc - 1)
		return kiln_cli_usage_error(cmd, "expected one FAMILY/VERSION");
	if ((rc = kiln_cli_setup(cmd, co, ctx)) != 0)
		return rc;
	*ret_dir = kiln_cli_image_dir(ctx, argv[optind], NULL, NULL);
	if (!*ret_dir)
		return kiln_cli_usage_error(cmd, "bad image name '%s': use FAMILY/VERSION", argv[optind]);
	return 0;
}

static int
manifest_verify(int argc, char **argv)
{
	struct kiln_verify_opts o = { 0 };
	struct kiln_cli_common co = { 0 };
	_cleanup_free_ char *dir = NULL, *report = NULL;
	struct kiln_ctx ctx;
	int c, rc;

	while ((c = kiln_cli_getopt(argc, argv, verify_opts, "manifest verify", "manifest", &co, &rc)) != -1) {
		switch (c) {
		case 'p': o.pubkey = optarg; break;
		case 'd': o.deep = 1; break;
		case 'u': o.allow_unsigned = 1; break;
		default:
			return rc;
		}
	}
	if (optind != argc - 1)
		return kiln_cli_usage_error("manifest verify", "expected one FAMILY/VERSION");
	if ((rc = kiln_cli_setup("manifest verify", &co, &ctx)) != 0)
		return rc;
	dir = kiln_cli_image_dir(&ctx, argv[optind], NULL, NULL);
	if (!dir)
		return kiln_cli_usage_error("manifest verify", "bad image name '%s': use FAMILY/VERSION", argv[optind]);
	o.store = ctx.set->store;
	if (kiln_manifest_verify(&ctx, dir, &o, &report) < 0)
		return kiln_cli_fail("manifest verify", &ctx);
	fputs(report, stdout);
	printf("%s: verified\n", argv[optind]);
	return 0;
}

static void
print_ids(json_t *a)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
		printf("%s%s", i ? " " : "", json_string_value(v));
	if (!json_array_size(a))
		printf("-");
}

/* Has the manifest's @packages list @name as dropped (no file in the image)? */
static int
dropped(json_t *packages, const char *name)
{
	size_t i;
	json_t *p;

	json_array_foreach(packages, i, p)
		if (name && strcmp(json_string_value(json_object_get(p, "name")) ?: "", name) == 0)
			return strcmp(json_string_value(json_object_get(p, "in_image")) ?: "", "dropped") == 0;
	return 0;
}

/* The security updates table; @packages (or NULL) marks the updates of packages the image dropped. */
static void
print_updates(json_t *updates, json_t *packages)
{
	size_t i, n = 0;
	json_t *u;

	json_array_foreach(updates, i, u)
		n += strcmp(json_string_value(json_object_get(u, "classification")), "security") == 0;
	printf("\nsecurity updates: %zu (of %zu updated packages)\n", n, json_array_size(updates));
	if (!json_array_size(updates))
		return;
	printf("%-24s %-26s %-26s %-9s %s\n", "PACKAGE", "VERSION", "PREVIOUS", "CLASS", "FIXES");
	json_array_foreach(updates, i, u) {
		printf("%-24s %-26s %-26s %-9s ", json_string_value(json_object_get(u, "package")),
		       json_string_value(json_object_get(u, "version")),
		       json_string_value(json_object_get(u, "previous")) ?: "-",
		       json_string_value(json_object_get(u, "classification")));
		print_ids(json_object_get(u, "cves"));
		if (json_array_size(json_object_get(u, "advisories"))) {
			printf(" ");
			print_ids(json_object_get(u, "advisories"));
		}
		if (dropped(packages, json_string_value(json_object_get(u, "package"))))
			printf("   (not in the image)");
		printf("\n");
	}
}

/* An argv as one line, quoted where needed (so it splits back to the same words). */
static char *
argv_line(json_t *a)
{
	struct kiln_strv sv = { 0 };
	json_t *w;
	size_t i;
	char *line;

	json_array_foreach(a, i, w)
		kiln_strv_push(&sv, json_string_value(w) ?: "?");
	line = kiln_cmdline_quote(&sv);
	kiln_strv_release(&sv);
	return line;
}

/* What runs in the image (manifests before the 'image' object have none). */
static void
print_image(json_t *img)
{
	json_t *p, *state = json_object_get(img, "state");
	char *line;
	size_t i;

	if (!json_is_object(img))
		return;
	line = argv_line(json_object_get(img, "argv"));
	printf("command    %s\n", line);
	free(line);
	printf("user       %s\n", json_string_value(json_object_get(img, "user")) ?: "?");
	json_array_foreach(json_object_get(img, "exec_start_pre"), i, p) {
		line = argv_line(json_object_get(p, "argv"));
		printf("%-10s %s\n", strcmp(json_string_value(json_object_get(p, "when")) ?: "", "first-boot") == 0 ?
		       "first-boot" : "pre-start", line);
		free(line);
	}
	if (json_is_object(state))
		printf("state      %s (%s)\n", json_string_value(json_object_get(state, "path")) ?: "?",
		       json_string_value(json_object_get(state, "storage")) ?: "?");
	if (json_array_size(json_object_get(img, "not_acted_on")))
		printf("not acted  %zu package declarations (manifest.json: image.not_acted_on)\n",
		       json_array_size(json_object_get(img, "not_acted_on")));
}

static int
manifest_show(int argc, char **argv)
{
	struct kiln_cli_common co = { 0 };
	_cleanup_free_ char *dir = NULL, *path = NULL, *data = NULL;
	struct kiln_ctx ctx;
	json_t *root, *p;
	size_t len, i;
	int rc;

	if ((rc = image_command("manifest show", argc, argv, show_opts, &co, &ctx, &dir)) != 0)
		return rc;
	path = kiln_asprintf("%s/manifest.json", dir);
	if (kiln_read_file(&ctx, path, KILN_MANIFEST_MAX, &data, &len) < 0)
		return kiln_cli_fail("manifest show", &ctx);
	if (co.json) {
		fwrite(data, 1, len, stdout);
		if (len && data[len - 1] != '\n')
			putchar('\n');
		return 0;
	}
	root = kiln_manifest_parse(&ctx, path, data, len);
	if (!root)
		return kiln_cli_fail("manifest show", &ctx);
	printf("family     %s\nversion    %s\nbuilt      %s\n",
	       json_string_value(json_object_get(root, "family")) ?: "?",
	       json_string_value(json_object_get(root, "version")) ?: "?",
	       json_string_value(json_object_get(root, "built")) ?: "?");
	p = json_object_get(root, "kernel");
	printf("kernel     %s %s\n", json_string_value(json_object_get(p, "package")) ?: "?",
	       json_string_value(json_object_get(p, "version")) ?: "?");
	{
		size_t kept = 0, gone = 0;

		json_array_foreach(json_object_get(root, "packages"), i, p) {
			const char *in = json_string_value(json_object_get(p, "in_image"));

			kept += in && strcmp(in, "kept") == 0;
			gone += in && strcmp(in, "dropped") == 0;
		}
		if (kept + gone)
			printf("packages   %zu (%zu with files in the image, %zu dropped)\n",
			       json_array_size(json_object_get(root, "packages")), kept, gone);
		else
			printf("packages   %zu\n", json_array_size(json_object_get(root, "packages")));
	}
	print_image(json_object_get(root, "image"));
	p = json_object_get(root, "previous_manifest");
	printf("previous   %s\n", json_string_value(json_object_get(p, "version")) ?: "(none)");
	printf("signed     %s\n", access_sig(dir) ? "yes (manifest.json.sig)" : "no");
	json_array_foreach(json_object_get(root, "artifacts"), i, p)
		printf("artifact   %-12s %10lld bytes  sha256 %s\n", json_string_value(json_object_get(p, "name")) ?: "?",
		       (long long)json_integer_value(json_object_get(p, "size")),
		       json_string_value(json_object_get(p, "sha256")) ?: "?");
	print_updates(json_object_get(root, "security_updates"), json_object_get(root, "packages"));
	json_decref(root);
	return 0;
}

static int
manifest_diff(int argc, char **argv)
{
	struct kiln_cli_common co = { 0 };
	_cleanup_free_ char *od = NULL, *nd = NULL;
	struct kiln_ctx ctx;
	struct kiln_manifest om, nm;
	json_t *old, *new, *d, *x;
	size_t i;
	int c, rc;

	while ((c = kiln_cli_getopt(argc, argv, diff_opts, "manifest diff", "manifest", &co, &rc)) != -1) {
		switch (c) {
		default:
			return rc;
		}
	}
	if (optind != argc - 2)
		return kiln_cli_usage_error("manifest diff", "expected OLD and NEW, each FAMILY/VERSION");
	if ((rc = kiln_cli_setup("manifest diff", &co, &ctx)) != 0)
		return rc;
	od = kiln_cli_image_dir(&ctx, argv[optind], NULL, NULL);
	nd = kiln_cli_image_dir(&ctx, argv[optind + 1], NULL, NULL);
	if (!od || !nd)
		return kiln_cli_usage_error("manifest diff", "bad image name: use FAMILY/VERSION");
	old = kiln_manifest_load(&ctx, od, NULL);
	new = old ? kiln_manifest_load(&ctx, nd, NULL) : NULL;
	if (!new) {
		json_decref(old);
		return kiln_cli_fail("manifest diff", &ctx);
	}
	kiln_manifest_read(old, &om);
	kiln_manifest_read(new, &nm);
	d = kiln_manifest_diff(&om, &nm);
	kiln_manifest_release(&om);
	kiln_manifest_release(&nm);
	json_decref(old);
	json_decref(new);
	if (co.json) {
		json_dumpf(d, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	} else {
		printf("%s → %s\n", argv[optind], argv[optind + 1]);
		json_array_foreach(json_object_get(d, "added"), i, x)
			printf("  added     %-28s %s\n", json_string_value(json_object_get(x, "name")),
			       json_string_value(json_object_get(x, "version")));
		json_array_foreach(json_object_get(d, "removed"), i, x)
			printf("  removed   %-28s %s\n", json_string_value(json_object_get(x, "name")),
			       json_string_value(json_object_get(x, "version")));
		json_array_foreach(json_object_get(d, "upgraded"), i, x)
			printf("  upgraded  %-28s %s → %s\n", json_string_value(json_object_get(x, "name")),
			       json_string_value(json_object_get(x, "from")), json_string_value(json_object_get(x, "to")));
		print_updates(json_object_get(d, "security_updates"), NULL);
		json_array_foreach(json_object_get(d, "artifacts"), i, x)
			printf("artifact  %-12s %lld → %lld bytes\n", json_string_value(json_object_get(x, "name")),
			       (long long)json_integer_value(json_object_get(x, "old_size")),
			       (long long)json_integer_value(json_object_get(x, "new_size")));
	}
	json_decref(d);
	return 0;
}

/* kiln manifest vex|sbom: a document made from the manifest, on stdout. */
static int
manifest_document(const char *cmd, int argc, char **argv, const struct kiln_opt *opts,
		  json_t *(*make)(const struct kiln_manifest *m, const char *sha))
{
	struct kiln_cli_common co = { 0 };
	_cleanup_free_ char *dir = NULL;
	struct kiln_ctx ctx;
	struct kiln_manifest mm;
	char sha[65];
	json_t *m, *doc;
	int c, rc;

	while ((c = kiln_cli_getopt(argc, argv, opts, cmd, "manifest", &co, &rc)) != -1) {
		switch (c) {
		case 'F':
			if (!strcmp(optarg, "cyclonedx"))
				make = kiln_manifest_cyclonedx;
			else if (!strcmp(optarg, "spdx"))
				make = kiln_manifest_spdx;
			else
				return kiln_cli_usage_error(cmd, "bad --format '%s': use cyclonedx or spdx", optarg);
			break;
		default:
			return rc;
		}
	}
	if (optind != argc - 1)
		return kiln_cli_usage_error(cmd, "expected one FAMILY/VERSION");
	if ((rc = kiln_cli_setup(cmd, &co, &ctx)) != 0)
		return rc;
	dir = kiln_cli_image_dir(&ctx, argv[optind], NULL, NULL);
	if (!dir)
		return kiln_cli_usage_error(cmd, "bad image name '%s': use FAMILY/VERSION", argv[optind]);
	m = kiln_manifest_load(&ctx, dir, sha);
	if (!m)
		return kiln_cli_fail(cmd, &ctx);
	kiln_manifest_read(m, &mm);
	doc = make(&mm, sha);
	kiln_manifest_release(&mm);
	json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(doc);
	json_decref(m);
	return 0;
}

int
cmd_manifest(int argc, char **argv)
{
	if (argc < 2)
		return kiln_cli_usage_error("manifest", "expected show, verify, diff, vex or sbom");
	if (strcmp(argv[1], "verify") == 0)
		return manifest_verify(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return manifest_show(argc - 1, argv + 1);
	if (strcmp(argv[1], "diff") == 0)
		return manifest_diff(argc - 1, argv + 1);
	if (strcmp(argv[1], "vex") == 0)
		return manifest_document("manifest vex", argc - 1, argv + 1, vex_opts, kiln_manifest_vex);
	if (strcmp(argv[1], "sbom") == 0)
		return manifest_document("manifest sbom", argc - 1, argv + 1, sbom_opts, kiln_manifest_cyclonedx);
	return kiln_cli_usage_error("manifest", "unknown subcommand '%s' (show, verify, diff, vex, sbom)", argv[1]);
}

/* kiln help manifest: the usage and what it does; the options print from their tables above */
const struct kiln_cmd kiln_cmd_manifest = {
	.name = "manifest",
	.fn = cmd_manifest,
	.summary = "show or verify an image version's manifest",
	.forms = (const struct kiln_form[]){
		{ "show", "FAMILY/VERSION", "json store" },
		{ "verify", "FAMILY/VERSION", "!pubkey deep allow-unsigned store" },
		{ "diff", "OLD NEW", "json store" },
		{ "vex", "FAMILY/VERSION", "store" },
		{ "sbom", "FAMILY/VERSION", "format store" },
		{ 0 },
	},
	.usage = "show prints the summary and the table of security updates (package,\n"
		 "version, previous version, class, CVE and DSA ids); diff lists packages\n"
		 "added, removed and upgraded, the security updates new in NEW and the\n"
		 "artifacts' sizes; vex prints an OpenVEX document with a \"fixed\"\n"
		 "statement per CVE the image's packages fix; sbom prints the manifest as an\n"
		 "SBOM (CycloneDX 1.5 or SPDX 2.3 JSON): the image as the root, the kernel\n"
		 "and packages as purls (pkg:deb/debian/NAME@VERSION?arch=ARCH) with their\n"
		 ".debs' SHA-256, the artifacts as files, for scanners that read them.\n"
		 "\n"
		 "verify checks, in order: the Ed25519 signature over the exact bytes of\n"
		 "manifest.json (before parsing it), every artifact's size and SHA-256,\n"
		 "files.tsv's hash, the previous_manifest link when that version is in the\n"
		 "store, and with --deep every entry of initrd.img against files.tsv.\n",
	.opts = { show_opts, verify_opts, diff_opts, vex_opts, sbom_opts },
	.footer = "Exit: 0 verified, 2 bad usage or unreadable manifest, 4 signature, hash,\n"
		  "chain or content mismatch (the message names what differs).\n",
};
