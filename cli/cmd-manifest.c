/* cmd-manifest.c - kiln manifest verify|show: an image version's signed record. */
#define _GNU_SOURCE
#include "cli.h"
#include "manifest.h"

#include <getopt.h>
#include <jansson.h>
#include <string.h>
#include <unistd.h>

static int
access_sig(const char *dir)
{
	_cleanup_free_ char *p = kiln_asprintf("%s/manifest.json.sig", dir);

	return access(p, F_OK) == 0;
}

static char *
version_dir(const struct kiln_ctx *ctx, const char *name)
{
	if (!strchr(name, '/') || strstr(name, "..") || name[0] == '/')
		return NULL;
	return kiln_asprintf("%s/%s", ctx->store, name);
}

static int
manifest_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pubkey", required_argument, NULL, 'p' },
		{ "deep", no_argument, NULL, 'd' },
		{ "allow-unsigned", no_argument, NULL, 'u' },
		{ "store", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct kiln_verify_opts o = { 0 };
	struct kiln_cli_common co = { 0 };
	_cleanup_free_ char *dir = NULL, *report = NULL;
	struct kiln_ctx ctx;
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': o.pubkey = optarg; break;
		case 'd': o.deep = 1; break;
		case 'u': o.allow_unsigned = 1; break;
		case 's': co.store = optarg; break;
		case 'h': return cmd_help(2, (char *[]){ "help", "manifest", NULL });
		default:
			return kiln_cli_usage_error("manifest verify", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return kiln_cli_usage_error("manifest verify", "expected one FAMILY/VERSION");
	if ((rc = kiln_cli_setup("manifest verify", &co, &ctx)) != 0)
		return rc;
	dir = version_dir(&ctx, argv[optind]);
	if (!dir)
		return kiln_cli_usage_error("manifest verify", "bad image name '%s': use FAMILY/VERSION", argv[optind]);
	o.store = ctx.store;
	if (kiln_manifest_verify(&ctx, dir, &o, &report) < 0)
		return kiln_cli_fail("manifest verify", &ctx);
	fputs(report, stdout);
	printf("%s: verified\n", argv[optind]);
	return 0;
}

static int
manifest_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "store", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct kiln_cli_common co = { 0 };
	_cleanup_free_ char *dir = NULL, *path = NULL, *data = NULL;
	struct kiln_ctx ctx;
	json_error_t jerr;
	json_t *root, *p;
	size_t len, i;
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'j': co.json = 1; break;
		case 's': co.store = optarg; break;
		case 'h': return cmd_help(2, (char *[]){ "help", "manifest", NULL });
		default:
			return kiln_cli_usage_error("manifest show", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return kiln_cli_usage_error("manifest show", "expected one FAMILY/VERSION");
	if ((rc = kiln_cli_setup("manifest show", &co, &ctx)) != 0)
		return rc;
	dir = version_dir(&ctx, argv[optind]);
	if (!dir)
		return kiln_cli_usage_error("manifest show", "bad image name '%s': use FAMILY/VERSION", argv[optind]);
	path = kiln_asprintf("%s/manifest.json", dir);
	if (kiln_read_file(&ctx, path, KILN_MANIFEST_MAX, &data, &len) < 0)
		return kiln_cli_fail("manifest show", &ctx);
	if (co.json) {
		fwrite(data, 1, len, stdout);
		if (len && data[len - 1] != '\n')
			putchar('\n');
		return 0;
	}
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		kiln_error(&ctx, KILN_EXIT_USAGE, "%s:%d: %s", path, jerr.line, jerr.text);
		return kiln_cli_fail("manifest show", &ctx);
	}
	printf("family     %s\nversion    %s\nbuilt      %s\n",
	       json_string_value(json_object_get(root, "family")) ?: "?",
	       json_string_value(json_object_get(root, "version")) ?: "?",
	       json_string_value(json_object_get(root, "built")) ?: "?");
	p = json_object_get(root, "kernel");
	printf("kernel     %s %s\n", json_string_value(json_object_get(p, "package")) ?: "?",
	       json_string_value(json_object_get(p, "version")) ?: "?");
	printf("packages   %zu\n", json_array_size(json_object_get(root, "packages")));
	p = json_object_get(root, "previous_manifest");
	printf("previous   %s\n", json_string_value(json_object_get(p, "version")) ?: "(none)");
	printf("signed     %s\n", access_sig(dir) ? "yes (manifest.json.sig)" : "no");
	json_array_foreach(json_object_get(root, "artifacts"), i, p)
		printf("artifact   %-12s %10lld bytes  sha256 %s\n", json_string_value(json_object_get(p, "name")) ?: "?",
		       (long long)json_integer_value(json_object_get(p, "size")),
		       json_string_value(json_object_get(p, "sha256")) ?: "?");
	json_decref(root);
	return 0;
}

int
cmd_manifest(int argc, char **argv)
{
	if (argc < 2)
		return kiln_cli_usage_error("manifest", "expected show or verify");
	if (strcmp(argv[1], "verify") == 0)
		return manifest_verify(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return manifest_show(argc - 1, argv + 1);
	return kiln_cli_usage_error("manifest", "unknown subcommand '%s' (show, verify)", argv[1]);
}
