/* recipe.h - the recipe: one image family, parsed from INI (see the README, "Recipes"). */
#ifndef KILN_RECIPE_H
#define KILN_RECIPE_H

#include "kiln.h"
#include "bounds.h"
#include "names.h"

#define KILN_RECIPE_MAX (1024 * 1024)	/* recipes over 1 MiB are refused */
#define KILN_RECIPE_LINE_MAX 199	/* longest line; continue values on indented lines */

struct kiln_source {
	int line;		/* line of its [Source] header */
	int from_host;		/* From=host: URIs and keyrings come from apt's sources */
	char *uri;		/* URI= (http://, https://, file://), else NULL */
	char *keyring;		/* Keyring=, else NULL */
	struct kiln_strv suites;
	struct kiln_strv components;	/* empty: "main" (or the host's own) */
};

struct kiln_file_entry {
	int line;
	char *dest;		/* absolute path in the image */
	char *src;		/* path on the host, relative to the recipe's directory */
	unsigned mode;
};

struct kiln_user {
	int line;
	char *name;
	unsigned uid, gid;
	char *home;
};

/* A step that runs before Cmd, as the same user: ExecStartPre= (every boot) or FirstBoot= (State= empty). */
struct kiln_exec {
	int line;
	int first_boot;
	struct kiln_strv argv;
};

/* A directory the image must hold: [Directories] PATH=MODE[:USER[:GROUP]]. */
struct kiln_dir_entry {
	int line;
	char *path;
	unsigned mode;
	char *user, *group;	/* names or numbers, resolved against the image's users at build time */
};

struct kiln_recipe {
	char *path;		/* as given */
	char *name;		/* basename */
	char *dir;		/* directory holding the recipe */
	char sha256[65];	/* of the recipe's bytes */
	char *text;		/* the recipe's bytes (a build keeps them beside the manifest) */
	size_t text_len;

	char *family, *description, *cmd, *hostname, *user, *on_exit;
	struct kiln_strv argv;		/* Cmd= split as systemd's ExecStart= */
	struct kiln_strv environment;	/* NAME=VALUE, split as systemd's Environment= */
	char *state;			/* State=: where the application keeps its data, or NULL */
	struct kiln_exec *execs;	/* ExecStartPre= and FirstBoot=, in recipe order */
	size_t n_execs;

	struct kiln_source *sources;
	size_t n_sources;

	char *kernel_package, *kernel_cmdline;
	struct kiln_strv kernel_modules;

	struct kiln_strv install, exclude;
	struct kiln_strv allow_downgrade;	/* packages that may be older than in the family's previous version */
	int closure_files;		/* Closure=files: only the files the application needs */
	struct kiln_strv keep;		/* Keep=: patterns of paths the file-level closure keeps */

	struct kiln_file_entry *files;
	size_t n_files;
	struct kiln_user *users;
	size_t n_users;
	struct kiln_dir_entry *dirs;
	size_t n_dirs;

	char *net_address, *net_gateway;

	struct kiln_strv formats;
	char *compression;

	struct kiln_limits limits;	/* [Limits], else KILN_LIMITS_DEFAULT */
};

/*
 * kiln_recipe_load() - read and validate a recipe file
 * Returns 0 and a new recipe in *@ret (free with kiln_recipe_free()), or -1
 * with an error naming "file:line:" and the key on @ctx (exit 2).
 */
int kiln_recipe_load(struct kiln_ctx *ctx, const char *path, struct kiln_recipe **ret);

/* Same, from memory; @path is used for messages and the recipe's name. */
int kiln_recipe_parse(struct kiln_ctx *ctx, const char *path, const char *data,
		      size_t len, struct kiln_recipe **ret);

void kiln_recipe_free(struct kiln_recipe *r);
static inline void kiln_recipe_freep(struct kiln_recipe **r) { kiln_recipe_free(*r); }


/*
 * kiln_recipe_wants_disk() - whether [Output] Formats= names a disk image
 * (raw, qcow2, vhd). The initramfs and the kernel are built either way: the
 * disk holds them, and direct kernel boots use them.
 */
int kiln_recipe_wants_disk(const struct kiln_recipe *r);

#endif
