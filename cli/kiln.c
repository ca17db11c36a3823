/* kiln.c - main(): dispatch to the subcommand, from one sorted table. */
#define _GNU_SOURCE
#include "cli.h"

#include <string.h>

const struct kiln_cmd kiln_cmd_help = {
	.name = "help",
	.fn = cmd_help,
	.summary = "show help for kiln or one command",
	.forms = (const struct kiln_form[]){
		{ NULL, "[COMMAND]", "" },
		{ 0 },
	},
};

/* Sorted by name; each command's help is beside it, in cli/cmd-<name>.c. */
const struct kiln_cmd *const kiln_commands[] = {
	&kiln_cmd_assess, &kiln_cmd_audit, &kiln_cmd_boot, &kiln_cmd_build, &kiln_cmd_deploy, &kiln_cmd_events, &kiln_cmd_fixes, &kiln_cmd_help,
	&kiln_cmd_keygen, &kiln_cmd_manifest, &kiln_cmd_policy, &kiln_cmd_publish, &kiln_cmd_rebake, &kiln_cmd_release, &kiln_cmd_resolve, &kiln_cmd_serve,
	&kiln_cmd_tenant, &kiln_cmd_tick, &kiln_cmd_verify_published, &kiln_cmd_version, &kiln_cmd_versions, NULL,
};

static const struct kiln_cmd *
find_cmd(const char *name)
{
	for (const struct kiln_cmd *const *c = kiln_commands; *c; c++)
		if (strcmp((*c)->name, name) == 0)
			return *c;
	return NULL;
}

static void
overview(FILE *f)
{
	fputs("usage: kiln COMMAND [ARGS...]\n\ncommands:\n", f);
	for (const struct kiln_cmd *const *c = kiln_commands; *c; c++)
		fprintf(f, "  %-16s %s\n", (*c)->name, (*c)->summary);
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
	kiln_cli_help(stdout, c);
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
