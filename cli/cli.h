/* cli.h - the kiln command line: one cmd_<name>() per subcommand. */
#ifndef KILN_CLI_H
#define KILN_CLI_H

#include "kiln.h"

#include <jansson.h>

/*
 * One option of a command: what getopt needs and its help line, side by
 * side, so that the help cannot forget an option (git's OPT_*).
 */
struct kiln_opt {
	const char *name;	/* the long option, without "--" */
	const char *arg;	/* the name of its value ("DIR"), or NULL for a flag */
	int val;		/* what kiln_cli_getopt() returns for it */
	const char *help;	/* lines separated by '\n'; NULL: not listed (--help) */
};

/* The options many commands share, spelled once (kiln_cli_getopt() handles their letters). */
#define KILN_OPT_STORE { "store", "DIR", 's', "image store (default: $KILN_STORE or ./images)" }
#define KILN_OPT_NOW { "now", "DATE", 'n', "the clock, ISO 8601 (default: $KILN_NOW or the real time)" }
#define KILN_OPT_ARCH { "arch", "ARCH", 'a', "Debian architecture (default: amd64)" }
#define KILN_OPT_OFFLINE { "offline", NULL, 'o', "use only the cache; exit 5 if something is missing" }
#define KILN_OPT_ALLOW_EXPIRED { "allow-expired", NULL, 'e', "accept an index whose Valid-Until has passed" }
#define KILN_OPT_ALLOW_OLDER_INDEX { "allow-older-index", NULL, 'R', "accept a signed index older than one kiln already\n" \
	"accepted for that source and suite (a rollback); the\n" "manifest records it" }
#define KILN_OPT_HELP { "help", NULL, 'h', NULL }

#define KILN_CMD_TABLES 6

/*
 * One form of a command with subcommands, for its usage line: the
 * subcommand, its operands, and the options that form takes by name, in
 * order, separated by spaces: "name" is optional ([--name ARG]), "!name"
 * required (--name ARG), "a|b" one or the other ([--a A | --b]). Each
 * option's ARG comes from the command's tables, so the line cannot drift
 * from what the parser takes; a name not in them, or an option the help
 * lists that no form names, aborts 'kiln help' (t0001 runs it for every
 * command).
 */
struct kiln_form {
	const char *sub;	/* NULL: the command itself (no subcommand word) */
	const char *operands;	/* "" for none */
	const char *opts;
};

/* A subcommand: defined in its cmd-<name>.c, beside its option tables. */
struct kiln_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	const char *operands;	/* its operands ("RECIPE"; "" for none): the usage line is made from them and
				 * every option of the tables; NULL: @forms gives the usage lines */
	const struct kiln_form *forms;	/* one usage line each, { 0 }-terminated (subcommands, required options) */
	const char *usage;	/* what the command does (after the usage lines), or NULL */
	const struct kiln_opt *opts[KILN_CMD_TABLES];	/* its option tables (one per subcommand at most) */
	const char *footer;	/* after the options (exit codes), or NULL */
};

/* The commands, sorted by name, NULL-terminated. */
extern const struct kiln_cmd *const kiln_commands[];

/* Prints 'kiln help CMD' for @c to @f: its usage, then every option of its tables (each once), then the footer. */
void kiln_cli_help(FILE *f, const struct kiln_cmd *c);

/* Prints "kiln CMD: message" for the error on @ctx and returns its exit code. */
int kiln_cli_fail(const char *cmd, const struct kiln_ctx *ctx);
/* Prints "kiln CMD: message" plus a usage hint and returns exit 2. */
int kiln_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Options most commands share (see kiln_cli_getopt()). */
struct kiln_cli_common {
	const char *store;
	const char *now;
	int offline, allow_expired, allow_older_index, json;
	struct kiln_settings settings;	/* made by kiln_cli_setup(); the ctx points here */
};

/*
 * Sets up @ctx from the common options and the environment (KILN_STORE,
 * KILN_NOW). Returns 0, or 2 after printing a usage error.
 */
int kiln_cli_setup(const char *cmd, struct kiln_cli_common *co, struct kiln_ctx *ctx);

struct kiln_catalog;
/* Opens STORE/catalog.db; on failure prints and returns the exit code (else 0). */
int kiln_cli_catalog(const char *cmd, struct kiln_ctx *ctx, struct kiln_catalog **ret);
/* The kiln-init binary builds put in images: $KILN_INIT, next to this binary, or PREFIX/lib/kiln/ (caller frees). */
char *kiln_cli_find_init(void);
/* The newest version of @family built in @store (one with a manifest.json; caller frees), or NULL. */
char *kiln_cli_newest_built(const char *store, const char *family);
/* STORE/FAMILY/VERSION for "FAMILY/VERSION" (caller frees), NULL if malformed; @ret_family/@ret_version split it. */
char *kiln_cli_image_dir(const struct kiln_ctx *ctx, const char *name, char **ret_family, char **ret_version);
/*
 * kiln_cli_getopt() - getopt_long over @opts for command @cmd (help topic
 * @topic). The options every command spells alike go to @co: store 's',
 * now 'n', json 'j', offline 'o', allow-expired 'e', allow-older-index 'R';
 * 'h' prints the help.
 * Returns the next option of the command's own, -1 at the end, or '?' with
 * *@ret_exit set after printing the help or a usage error.
 */
int kiln_cli_getopt(int argc, char **argv, const struct kiln_opt *opts, const char *cmd, const char *topic,
		    struct kiln_cli_common *co, int *ret_exit);

/* Prints @j as one JSON document on stdout. */
void kiln_cli_print_json(json_t *j);

extern const struct kiln_cmd kiln_cmd_assess, kiln_cmd_audit, kiln_cmd_boot, kiln_cmd_build, kiln_cmd_deploy, kiln_cmd_events, kiln_cmd_fixes,
	kiln_cmd_help, kiln_cmd_keygen, kiln_cmd_manifest, kiln_cmd_policy, kiln_cmd_publish, kiln_cmd_rebake, kiln_cmd_release, kiln_cmd_resolve,
	kiln_cmd_serve, kiln_cmd_tenant, kiln_cmd_tick, kiln_cmd_verify_published, kiln_cmd_version, kiln_cmd_versions;

int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif
