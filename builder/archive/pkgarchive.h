/* pkgarchive.h - reading .deb packages and writing cpio initramfs images (libarchive). */
#ifndef KILN_PKGARCHIVE_H
#define KILN_PKGARCHIVE_H

#include "kiln.h"
#include "bounds.h"

enum kiln_entry_type { KILN_ENT_FILE, KILN_ENT_DIR, KILN_ENT_SYMLINK, KILN_ENT_HARDLINK,
		       KILN_ENT_CHAR, KILN_ENT_OTHER };

/* One entry of a package's data.tar, as the archive states it. */
struct kiln_deb_entry {
	const char *path;	/* raw, e.g. "./usr/bin/redis-server" */
	enum kiln_entry_type type;
	unsigned mode;		/* permission bits only (07777) */
	unsigned uid, gid;
	int64_t size;
	int64_t mtime;
	const char *link;	/* symlink target or hardlink source, else NULL */
};

struct kiln_deb_reader;

/* Records exit 4 "WHAT: expands to more than LIMIT, the limit for WHOLE ([Limits] KEY= raises it)"; returns -1. */
int kiln_limit_error(struct kiln_ctx *ctx, const char *what, const char *whole, uint64_t limit, int entries,
		     const char *key);

/*
 * kiln_deb_foreach() - stream the data.tar of the .deb at @path
 * The first time, the member is decompressed from the .deb (which the caller
 * has verified) and teed into @data_tar, a cache file, with its SHA-256 in
 * @data_tar.sha256; later, the cached file is read instead and checked
 * against that hash as it streams (exit 4, and the cache file removed, when
 * it changed). @limits (NULL: the defaults) bound entries and declared bytes
 * before any content is read, and the raw stream too (exit 4 naming the
 * package and the limit). Calls @cb for each entry; the callback may read
 * the entry's content with kiln_deb_read() or kiln_deb_stream(). A callback
 * returning -1 (with an error on @ctx) stops. @what names the package in
 * messages. Exit 4 for a malformed archive.
 */
int kiln_deb_foreach(struct kiln_ctx *ctx, const char *path, const char *what, const char *data_tar,
		     const struct kiln_limits *limits,
		     int (*cb)(struct kiln_ctx *ctx, void *user, const struct kiln_deb_entry *e,
			       struct kiln_deb_reader *r),
		     void *user);

/* Reads the current entry's whole content (at most @max bytes) into a new NUL-terminated buffer. */
int kiln_deb_read(struct kiln_ctx *ctx, struct kiln_deb_reader *r, size_t max, char **ret, size_t *ret_len);

/* Streams the current entry's content to @fn in chunks (never all of it in memory); a -1 from @fn stops. */
int kiln_deb_stream(struct kiln_ctx *ctx, struct kiln_deb_reader *r,
		    int (*fn)(struct kiln_ctx *ctx, void *user, const void *data, size_t len), void *user);

struct kiln_cpio;

/* Creates a cpio newc archive at @path compressed with @compression: zstd, gzip, xz or none, with an optional ":LEVEL" (zstd default 9). */
struct kiln_cpio *kiln_cpio_open(struct kiln_ctx *ctx, const char *path, const char *compression);

/*
 * An uncompressed cpio newc archive written to @fd, its bytes also added to
 * @hash when not NULL (kiln_sha256_stream_new(); the caller ends it).
 */
struct kiln_cpio *kiln_cpio_open_fd(struct kiln_ctx *ctx, int fd, struct kiln_sha256_stream *hash);

/* Compresses what @in holds from its offset to its end onto @out with @compression (zstd, gzip or xz, ":LEVEL"). */
int kiln_compress_fd(struct kiln_ctx *ctx, int in, int out, const char *compression);

/* Appends one entry; @data/@len for files, @link for symlinks, @rdev for character devices. */
int kiln_cpio_add(struct kiln_ctx *ctx, struct kiln_cpio *c, const char *path, enum kiln_entry_type type,
		  unsigned mode, unsigned uid, unsigned gid, int64_t mtime, const void *data, size_t len,
		  const char *link, unsigned rdev_major, unsigned rdev_minor);

/*
 * A regular file written in pieces: its header (@size bytes follow), then
 * kiln_cpio_write() until @size bytes are written. Hard links: every name of
 * the inode has @nlink names and the same inode number, which @ino gives (0:
 * a fresh one, returned there); the first name carries the content, the
 * others none (@size 0): the kernel links them to the first name.
 */
int kiln_cpio_begin_file(struct kiln_ctx *ctx, struct kiln_cpio *c, const char *path, unsigned mode, unsigned uid,
			 unsigned gid, int64_t mtime, uint64_t size, unsigned nlink, int64_t *ino);
int kiln_cpio_write(struct kiln_ctx *ctx, struct kiln_cpio *c, const void *data, size_t len);

/* Finishes the archive; returns 0 or -1. Frees @c either way. */
int kiln_cpio_close(struct kiln_ctx *ctx, struct kiln_cpio *c);
/* Frees @c without finishing (after an error). */
void kiln_cpio_abort(struct kiln_cpio *c);

/* Decompresses gzip @data (at most @max bytes out) into a new buffer. */
int kiln_gunzip(struct kiln_ctx *ctx, const void *data, size_t len, size_t max, char **ret, size_t *ret_len);

#endif
