/* compose.h - the image's file tree, streamed from packages into a cpio initramfs. */
#ifndef KILN_COMPOSE_H
#define KILN_COMPOSE_H

#include "kiln.h"
#include "pkgarchive.h"
#include "initrd.h"

struct kiln_compose;

/*
 * A file a package ships that says what its maintainer scripts would have
 * made: sysusers.d and tmpfiles.d configuration (unless excluded).
 */
struct kiln_declaration {
	char *package;
	char *path;		/* in the image, e.g. /usr/lib/tmpfiles.d/memcached.conf */
	char *data;
	size_t len;
};

/* A changelog.Debian.gz read on the way (issue: the manifest needs it). */
struct kiln_changelog {
	char *package;		/* the /usr/share/doc/ directory's name */
	char *data;		/* changelog.Debian.gz, or NULL when ... */
	size_t len;
	char *link_to;		/* ... the directory is a symlink to this one's */
};

/*
 * kiln_compose_new() - start an initramfs at @path
 * @out: its compression and the cache of its segments (see initrd.h);
 * @mtime: SOURCE_DATE_EPOCH, the clamp for every mtime; @exclude: fnmatch
 * patterns of paths to leave out; @reserved: paths kiln generates itself
 * (package files there are skipped); @limits (NULL: the defaults) bound what
 * each package and the whole image expand to. Writes the merged-/usr
 * skeleton first.
 */
struct kiln_compose *kiln_compose_new(struct kiln_ctx *ctx, const char *path, const struct kiln_initrd_opts *out,
				      int64_t mtime, const struct kiln_strv *exclude,
				      const struct kiln_strv *reserved, const struct kiln_limits *limits);

/*
 * Streams every entry of the .deb at @deb (package @pkg; @data_tar: see
 * kiln_deb_foreach()) into the image, file content in chunks. Exit 4 on
 * unsafe paths (.., absolute, through a symlink, control characters), device
 * nodes, hard links out of the package, or a limit passed.
 */
int kiln_compose_add_deb(struct kiln_ctx *ctx, struct kiln_compose *c, const char *deb, const char *data_tar,
			 const char *pkg);

/* Adds a file kiln generates (or a directory when @data is NULL and @type is KILN_ENT_DIR). */
int kiln_compose_add(struct kiln_ctx *ctx, struct kiln_compose *c, const char *path, enum kiln_entry_type type,
		     unsigned mode, unsigned uid, unsigned gid, const void *data, size_t len, const char *link);

/*
 * kiln_compose_set_dir() - make @path a directory with this mode and owner
 * Creates it (parents root 0755) or, when a package already made it, gives
 * it the new mode and owner; either way the closure keeps it. Exit 2 if
 * @path is not a directory.
 */
int kiln_compose_set_dir(struct kiln_ctx *ctx, struct kiln_compose *c, const char *path, unsigned mode,
			 unsigned uid, unsigned gid, const char *why);

/*
 * kiln_compose_entry() - what the image holds at @path: 0 and its type, mode,
 * uid and gid, or -1 when nothing is there.
 */
int kiln_compose_entry(struct kiln_compose *c, const char *path, enum kiln_entry_type *ret_type, unsigned *ret_mode,
		       unsigned *ret_uid, unsigned *ret_gid);

/* The declarations read so far, in package order (borrowed until kiln_compose_finish()). */
const struct kiln_declaration *kiln_compose_declarations(const struct kiln_compose *c, size_t *ret_n);

/* Does the image hold a regular file (or symlink) at @path? */
int kiln_compose_exists(struct kiln_compose *c, const char *path);

struct kiln_closure_opts;

/*
 * kiln_compose_set_closure() - make the image file-level ([Packages]
 * Closure=files): ELF files and scripts are read as they stream, and
 * kiln_compose_finish() keeps only what closure.h's kiln_closure_run() finds
 * from @opts (borrowed until then; its libdirs are the image's own
 * ld.so.conf, read on the way).
 */
void kiln_compose_set_closure(struct kiln_compose *c, const struct kiln_closure_opts *opts);

/* What kiln_compose_finish() found, besides the image. */
struct kiln_compose_report {
	struct kiln_strv warnings;	/* for the build's output: Keep= patterns matching nothing, ELF files not understood, ... */
	struct kiln_strv packages;	/* every package added, in order */
	size_t *files;		/* per package: its entries in the image but directories (0: dropped) */
	size_t segments, reused;	/* the initramfs's compressed segments; of them, taken from the cache */
};
void kiln_compose_report_release(struct kiln_compose_report *r);

/*
 * kiln_compose_finish() - write the archive and return files.tsv (sorted:
 * path, mode, uid, gid, size, sha256, package or "-" for what kiln made),
 * the entry count, the changelogs read and (when @ret_report) the report.
 * The archive is segments (see initrd.h): directories and what kiln made,
 * the kernel's modules, then each package's files; each holds its entries
 * in the order they came, once each, with the
 * attributes they were given last; a hard link's names share one copy of
 * its content. Frees @c; on error the archive file is left for the caller
 * to remove. Exit 2 when the closure fails (kiln_closure_run()).
 */
int kiln_compose_finish(struct kiln_ctx *ctx, struct kiln_compose *c, char **ret_tsv, size_t *ret_count,
			struct kiln_changelog **ret_logs, size_t *ret_n_logs, struct kiln_compose_report *ret_report);
void kiln_compose_abort(struct kiln_compose *c);
void kiln_changelogs_free(struct kiln_changelog *logs, size_t n);

/*
 * kiln_path_normalize() - an archive member name as an absolute image path
 * Strips "./", drops "." components and trailing '/', maps merged-/usr
 * directories (/bin → /usr/bin, /lib → /usr/lib, ...) and /var/run, /var/lock
 * to /run, /run/lock (base-files' symlinks). Returns a new string,
 * "" for the root, or NULL for an absolute name or a ".." component.
 */
char *kiln_path_normalize(const char *raw);

#endif
