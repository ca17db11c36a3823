/* cli.h - the kiln command line: one cmd_<name>() per subcommand. */
#ifndef KILN_CLI_H
#define KILN_CLI_H

#include "kiln.h"

#include <jansson.h>

struct kiln_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	const char *usage;	/* full help: every option the command takes */
};

extern const struct kiln_cmd kiln_commands[];

/* Prints "kiln CMD: message" for the error on @ctx and returns its exit code. */
int kiln_cli_fail(const char *cmd, const struct kiln_ctx *ctx);
/* Prints "kiln CMD: message" plus a usage hint and returns exit 2. */
int kiln_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Options most commands share (see kiln_cli_getopt()). */
struct kiln_cli_common {
	const char *store;
	const char *now;
	int offline, allow_expired, allow_older_index, json;
};

/*
 * Sets up @ctx from the common options and the environment (KILN_STORE,
 * KILN_NOW). Returns 0, or 2 after printing a usage error.
 */
int kiln_cli_setup(const char *cmd, const struct kiln_cli_common *co, struct kiln_ctx *ctx);

struct kiln_catalog;
/* Opens STORE/catalog.db; on failure prints and returns the exit code (else 0). */
int kiln_cli_catalog(const char *cmd, struct kiln_ctx *ctx, struct kiln_catalog **ret);
/* STORE/FAMILY/VERSION for "FAMILY/VERSION" (caller frees), NULL if malformed; @ret_family/@ret_version split it. */
char *kiln_cli_image_dir(const struct kiln_ctx *ctx, const char *name, char **ret_family, char **ret_version);
struct option;
/*
 * kiln_cli_getopt() - getopt_long over @opts for command @cmd (help topic
 * @topic). The options every command spells alike go to @co: store 's',
 * now 'n', json 'j', offline 'o', allow-expired 'e', allow-older-index 'R';
 * 'h' prints the help.
 * Returns the next option of the command's own, -1 at the end, or '?' with
 * *@ret_exit set after printing the help or a usage error.
 */
int kiln_cli_getopt(int argc, char **argv, const struct option *opts, const char *cmd, const char *topic,
		    struct kiln_cli_common *co, int *ret_exit);

/* Prints @j as one JSON document on stdout. */
void kiln_cli_print_json(json_t *j);

int cmd_boot(int argc, char **argv);
int cmd_deploy(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_release(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_tenant(int argc, char **argv);
int cmd_tick(int argc, char **argv);
int cmd_version_lc(int argc, char **argv);
int cmd_versions(int argc, char **argv);
int cmd_build(int argc, char **argv);
int cmd_fixes(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_manifest(int argc, char **argv);
int cmd_resolve(int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif
