/* pkgarchive.c - every libarchive call of kiln: ar → data.tar.* → entries; cpio newc writer. */
#define _GNU_SOURCE
#include "pkgarchive.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct kiln_deb_reader {
	struct archive *outer;	/* the .deb (ar), when unpacking */
	struct archive *raw;	/* its data.tar.* member, decompressed */
	struct archive *inner;	/* the tar stream read from one of them */
	int fd_in;		/* the cached data.tar, or -1 when unpacking */
	int fd_cache;		/* the new cache file a fresh unpack tees into, or -1 */
	struct kiln_sha256_stream *hash;	/* of the raw tar stream, as it passes */
	uint64_t raw_bytes, raw_max;	/* read so far; allowed by the headers seen (and a little read-ahead) */
	int raw_too_big, io_error;
	char buf[65536];	/* the tar stream */
	char mbuf[65536];	/* the compressed member */
	char buf2[65536];	/* an entry's content */
};

/* The compressed data.tar.* member of the .deb, for the decompressor. */
static la_ssize_t
member_read(struct archive *a, void *user, const void **buf)
{
	struct kiln_deb_reader *r = user;
	la_ssize_t n = archive_read_data(r->outer, r->mbuf, sizeof(r->mbuf));

	(void)a;
	*buf = r->mbuf;
	return n;
}

/* The tar stream: from the cached file, or decompressed from the .deb and teed into a new cache file. */
static la_ssize_t
inner_read(struct archive *a, void *user, const void **buf)
{
	struct kiln_deb_reader *r = user;
	la_ssize_t n;

	(void)a;
	if (r->fd_in >= 0) {
		do
			n = read(r->fd_in, r->buf, sizeof(r->buf));
		while (n < 0 && errno == EINTR);
		if (n < 0)
			r->io_error = errno;
	} else {
		n = archive_read_data(r->raw, r->buf, sizeof(r->buf));
	}
	if (n <= 0)
		return n;
	r->raw_bytes += (uint64_t)n;
	if (r->raw_bytes > r->raw_max) {	/* a stream far beyond what its headers declare */
		r->raw_too_big = 1;
		return -1;
	}
	if (r->hash)
		kiln_sha256_stream_add(r->hash, r->buf, (size_t)n);
	if (r->fd_cache >= 0) {
		const char *p = r->buf;
		size_t left = (size_t)n;

		while (left) {
			ssize_t w = write(r->fd_cache, p, left);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				r->io_error = w < 0 ? errno : EIO;
				return -1;
			}
			p += w;
			left -= (size_t)w;
		}
	}
	*buf = r->buf;
	return n;
}

static enum kiln_entry_type
entry_type(struct archive_entry *e)
{
	if (archive_entry_hardlink(e))
		return KILN_ENT_HARDLINK;
	switch (archive_entry_filetype(e)) {
	case AE_IFREG: return KILN_ENT_FILE;
	case AE_IFDIR: return KILN_ENT_DIR;
	case AE_IFLNK: return KILN_ENT_SYMLINK;
	case AE_IFCHR: return KILN_ENT_CHAR;
	default: return KILN_ENT_OTHER;
	}
}

/* "1073741824 bytes (1 GiB)" for messages. */
static void
human(uint64_t v, char out[64])
{
	if (v >= (1ull << 30) && v % (1ull << 30) == 0)
		snprintf(out, 64, "%llu bytes (%llu GiB)", (unsigned long long)v, (unsigned long long)(v >> 30));
	else if (v >= (1ull << 20) && v % (1ull << 20) == 0)
		snprintf(out, 64, "%llu bytes (%llu MiB)", (unsigned long long)v, (unsigned long long)(v >> 20));
	else
		snprintf(out, 64, "%llu bytes", (unsigned long long)v);
}

int
kiln_limit_error(struct kiln_ctx *ctx, const char *what, const char *whole, uint64_t limit, int entries,
		 const char *key)
{
	char h[64];

	if (entries)
		snprintf(h, sizeof(h), "%llu entries", (unsigned long long)limit);
	else
		human(limit, h);
	return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: expands to more than %s, the limit for %s ([Limits] %s= raises it)",
			  what, h, whole, key);
}

static const char *
reader_error(struct kiln_deb_reader *r, struct archive *a)
{
	if (r->io_error)
		return strerror(r->io_error);
	return archive_error_string(a) ? archive_error_string(a) : "malformed";
}

static int
foreach_data(struct kiln_ctx *ctx, struct kiln_deb_reader *r, const char *what, const struct kiln_limits *lim,
	     int (*cb)(struct kiln_ctx *, void *, const struct kiln_deb_entry *, struct kiln_deb_reader *),
	     void *user)
{
	_cleanup_free_ char *pkg = kiln_asprintf("package '%s'", what);
	struct archive_entry *ae;
	uint64_t entries = 0, bytes = 0;
	int rc;

	r->inner = archive_read_new();
	archive_read_support_format_tar(r->inner);
	if (archive_read_open(r->inner, r, NULL, inner_read, NULL) != ARCHIVE_OK)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': bad data.tar: %s", what, reader_error(r, r->inner));
	while ((rc = archive_read_next_header(r->inner, &ae)) == ARCHIVE_OK) {
		struct kiln_deb_entry e = {
			.path = archive_entry_pathname(ae),
			.type = entry_type(ae),
			.mode = archive_entry_perm(ae) & 07777,
			.uid = (unsigned)archive_entry_uid(ae),
			.gid = (unsigned)archive_entry_gid(ae),
			.size = archive_entry_size(ae),
			.mtime = archive_entry_mtime(ae),
		};

		if (!e.path)
			return kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': entry without a name", what);
		/* the limits hold before anything is read: a header is enough to refuse a bomb */
		if (++entries > lim->package_entries)
			return kiln_limit_error(ctx, pkg, "one package", lim->package_entries, 1, "PackageEntries");
		if (e.size < 0 || (uint64_t)e.size > lim->package_bytes - bytes)
			return kiln_limit_error(ctx, pkg, "one package", lim->package_bytes, 0, "PackageSize");
		bytes += (uint64_t)e.size;
		/* the stream may hold this entry's data, padding and (long-name) headers; no more */
		r->raw_max += (uint64_t)e.size + 2048 + 2 * strlen(e.path) +
			      2 * strlen(archive_entry_hardlink(ae) ? archive_entry_hardlink(ae) :
					 archive_entry_symlink(ae) ? archive_entry_symlink(ae) : "");
		if (e.type == KILN_ENT_HARDLINK)
			e.link = archive_entry_hardlink(ae);
		else if (e.type == KILN_ENT_SYMLINK)
			e.link = archive_entry_symlink(ae);
		if ((e.type == KILN_ENT_SYMLINK || e.type == KILN_ENT_HARDLINK) && !e.link)
			return kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': link '%s' without a target", what, e.path);
		if (cb(ctx, user, &e, r) < 0)
			return -1;
	}
	if (rc != ARCHIVE_EOF && r->raw_too_big)
		return kiln_limit_error(ctx, pkg, "one package", lim->package_bytes, 0, "PackageSize");
	if (rc != ARCHIVE_EOF)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': bad data.tar: %s", what, reader_error(r, r->inner));
	/* the rest of the stream (tar's end blocks, padding): hashed and cached like the rest */
	while ((rc = (int)inner_read(r->inner, r, &(const void *){ NULL })) > 0)
		;
	if (rc < 0 && r->raw_too_big)
		return kiln_limit_error(ctx, pkg, "one package", lim->package_bytes, 0, "PackageSize");
	if (rc < 0)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': bad data.tar: %s", what,
				  reader_error(r, r->fd_in >= 0 ? r->inner : r->raw));
	return 0;
}

static void
reader_free(struct kiln_deb_reader *r)
{
	if (r->inner)
		archive_read_free(r->inner);
	if (r->raw)
		archive_read_free(r->raw);
	if (r->outer)
		archive_read_free(r->outer);
	if (r->fd_in >= 0)
		close(r->fd_in);
	if (r->fd_cache >= 0)
		close(r->fd_cache);
	if (r->hash) {
		char discard[65];

		kiln_sha256_stream_end(r->hash, discard);
	}
	free(r);
}

static struct kiln_deb_reader *
reader_new(const struct kiln_limits *lim)
{
	struct kiln_deb_reader *r = kiln_calloc(1, sizeof(*r));

	r->fd_in = r->fd_cache = -1;
	r->hash = kiln_sha256_stream_new();
	/* before any header: the first headers, end blocks and libarchive's read-ahead; grows per entry */
	r->raw_max = 1u << 20;
	(void)lim;
	return r;
}

/* Opens the .deb at @path and positions @r on its data.tar.* member, decompressed. */
static int
open_member(struct kiln_ctx *ctx, struct kiln_deb_reader *r, const char *path, const char *what)
{
	struct archive_entry *ae;
	int arc;

	r->outer = archive_read_new();
	archive_read_support_format_ar(r->outer);
	if (archive_read_open_filename(r->outer, path, 65536) != ARCHIVE_OK)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': not a .deb: %s", what, archive_error_string(r->outer));
	while ((arc = archive_read_next_header(r->outer, &ae)) == ARCHIVE_OK) {
		const char *n = archive_entry_pathname(ae);

		if (n && kiln_startswith(n, "data.tar")) {
			r->raw = archive_read_new();
			archive_read_support_filter_all(r->raw);
			archive_read_support_format_raw(r->raw);
			if (archive_read_open(r->raw, r, NULL, member_read, NULL) != ARCHIVE_OK ||
			    archive_read_next_header(r->raw, &ae) != ARCHIVE_OK)
				return kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': bad data.tar: %s", what,
						  archive_error_string(r->raw));
			return 0;
		}
	}
	if (arc != ARCHIVE_OK && arc != ARCHIVE_EOF)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': not a .deb: %s", what, archive_error_string(r->outer));
	return kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': no data.tar member", what);
}

/*
 * Cached files this process has hashed and found right, by identity: a second
 * pass over one (a kernel's modules, hard links) is read without hashing it
 * again as long as it is the same inode, unchanged (a write moves ctime,
 * which no one can set back).
 */
static struct verified {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec ctime;
} verified[64];
static size_t n_verified;

static int
same_file(const struct stat *a, const struct verified *v)
{
	return a->st_dev == v->dev && a->st_ino == v->ino && a->st_size == v->size &&
	       a->st_ctim.tv_sec == v->ctime.tv_sec && a->st_ctim.tv_nsec == v->ctime.tv_nsec;
}

static int
was_verified(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return 0;
	for (size_t i = 0; i < n_verified && i < ARRAY_SIZE(verified); i++)	/* a ring: the newest 64 */
		if (same_file(&st, &verified[i]))
			return 1;
	return 0;
}

static void
remember_verified(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return;
	verified[n_verified++ % ARRAY_SIZE(verified)] =
		(struct verified){ st.st_dev, st.st_ino, st.st_size, st.st_ctim };
}

/* The sidecar that holds a cached data.tar's own SHA-256, written when kiln made it. */
static char *
sidecar_path(const char *data_tar)
{
	return kiln_asprintf("%s.sha256", data_tar);
}

int
kiln_deb_foreach(struct kiln_ctx *ctx, const char *path, const char *what, const char *data_tar,
		 const struct kiln_limits *limits,
		 int (*cb)(struct kiln_ctx *, void *, const struct kiln_deb_entry *, struct kiln_deb_reader *),
		 void *user)
{
	static const struct kiln_limits defaults = KILN_LIMITS_DEFAULT;
	const struct kiln_limits *lim = limits ? limits : &defaults;
	struct kiln_deb_reader *r = reader_new(lim);
	_cleanup_free_ char *side = sidecar_path(data_tar), *want = NULL, *tmp = NULL;
	char got[65];
	size_t len;
	struct kiln_ctx sub;
	int rc;

	kiln_ctx_init(&sub);
	if (kiln_read_file(&sub, side, 128, &want, &len) == 0 && (want[strcspn(want, "\n")] = '\0', kiln_is_sha256_hex(want)))
		r->fd_in = open(data_tar, O_RDONLY | O_CLOEXEC);
	if (r->fd_in < 0) {
		/* not cached (or from an older kiln): decompress from the verified .deb, teeing into the cache */
		tmp = kiln_asprintf("%s.tmp.%d.XXXXXX", data_tar, (int)getpid());
		r->fd_cache = mkostemp(tmp, O_CLOEXEC);
		if (r->fd_cache < 0) {
			rc = kiln_error(ctx, KILN_EXIT_FAILED, "cannot create '%s': %s", tmp, strerror(errno));
			reader_free(r);
			return rc;
		}
		rc = open_member(ctx, r, path, what);
	} else {
		rc = 0;
	}
	if (rc == 0 && r->fd_in >= 0 && was_verified(r->fd_in)) {	/* hashed earlier in this run, unchanged since */
		kiln_sha256_stream_end(r->hash, got);
		r->hash = NULL;
		free(want);
		want = NULL;
	}
	if (rc == 0)
		rc = foreach_data(ctx, r, what, lim, cb, user);
	if (r->hash) {
		kiln_sha256_stream_end(r->hash, got);
		r->hash = NULL;
	}
	if (rc == 0 && want && strcmp(got, want) == 0)
		remember_verified(r->fd_in);
	if (rc == 0 && want && strcmp(got, want) != 0) {
		/* the cache changed since kiln wrote it: never trusted, removed, re-derived next time */
		unlink(data_tar);
		unlink(side);
		rc = kiln_error(ctx, KILN_EXIT_INTEGRITY,
				"package '%s': the cached '%s' changed since kiln made it (SHA256 %s, not %s); removed, the next build unpacks the verified .deb again",
				what, data_tar, got, want);
	}
	if (rc == 0 && r->fd_cache >= 0) {
		char line[66];

		snprintf(line, sizeof(line), "%s\n", got);
		if (fsync(r->fd_cache) < 0 || rename(tmp, data_tar) < 0)
			rc = kiln_error(ctx, KILN_EXIT_FAILED, "cannot write '%s': %s", data_tar, strerror(errno));
		else
			rc = kiln_write_atomic(ctx, side, line, strlen(line), 0644);
	}
	if (tmp && (rc < 0 || r->fd_cache < 0))
		unlink(tmp);
	reader_free(r);
	return rc;
}

int
kiln_deb_read(struct kiln_ctx *ctx, struct kiln_deb_reader *r, size_t max, char **ret, size_t *ret_len)
{
	struct kiln_buf b = { 0 };
	char chunk[65536];
	la_ssize_t n;

	while ((n = archive_read_data(r->inner, chunk, sizeof(chunk))) > 0) {
		if (b.len + (size_t)n > max) {
			kiln_buf_release(&b);
			return kiln_error(ctx, KILN_EXIT_INTEGRITY, "entry larger than %zu bytes", max);
		}
		kiln_buf_add(&b, chunk, n);
	}
	if (n < 0) {
		kiln_buf_release(&b);
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "cannot read entry: %s", reader_error(r, r->inner));
	}
	kiln_buf_add(&b, "", 0);
	*ret = kiln_buf_detach(&b, ret_len);
	return 0;
}

int
kiln_deb_stream(struct kiln_ctx *ctx, struct kiln_deb_reader *r,
		int (*fn)(struct kiln_ctx *ctx, void *user, const void *data, size_t len), void *user)
{
	la_ssize_t n;

	while ((n = archive_read_data(r->inner, r->buf2, sizeof(r->buf2))) > 0)
		if (fn(ctx, user, r->buf2, (size_t)n) < 0)
			return -1;
	if (n < 0)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "cannot read entry: %s", reader_error(r, r->inner));
	return 0;
}

struct kiln_cpio {
	struct archive *a;
	int64_t ino;
};

/* @compression's filter on @a: zstd (level 9 unless ":LEVEL"), gzip or xz; "none" adds nothing. */
static int
add_filter(struct archive *a, const char *compression)
{
	_cleanup_free_ char *alg = kiln_strdup(compression);
	char *level = strchr(alg, ':');
	int rc = ARCHIVE_OK;

	if (level)
		*level++ = '\0';
	if (strcmp(alg, "zstd") == 0) {
		rc = archive_write_add_filter_zstd(a);
		if (rc == ARCHIVE_OK)
			rc = archive_write_set_filter_option(a, "zstd", "compression-level", level ? level : "9");
		/* a fixed worker count: zstd's output then depends on the data and level only */
		if (rc == ARCHIVE_OK)
			rc = archive_write_set_filter_option(a, "zstd", "threads", "2");
	} else if (strcmp(alg, "gzip") == 0) {
		rc = archive_write_add_filter_gzip(a);
		if (rc == ARCHIVE_OK)	/* no timestamp in the gzip header: reproducible */
			rc = archive_write_set_filter_option(a, "gzip", "timestamp", NULL);
		if (rc == ARCHIVE_OK && level)
			rc = archive_write_set_filter_option(a, "gzip", "compression-level", level);
	} else if (strcmp(alg, "xz") == 0) {
		rc = archive_write_add_filter_xz(a);
		if (rc == ARCHIVE_OK)
			rc = archive_write_set_filter_option(a, "xz", "threads", "1");
		if (rc == ARCHIVE_OK && level)
			rc = archive_write_set_filter_option(a, "xz", "compression-level", level);
	}
	/* the padding to blocks must not depend on anything but the content */
	if (rc == ARCHIVE_OK)
		rc = archive_write_set_bytes_per_block(a, 0);
	return rc;
}

struct kiln_cpio *
kiln_cpio_open(struct kiln_ctx *ctx, const char *path, const char *compression)
{
	struct kiln_cpio *c = kiln_calloc(1, sizeof(*c));

	c->a = archive_write_new();
	archive_write_set_format_cpio_newc(c->a);
	if (add_filter(c->a, compression) != ARCHIVE_OK || archive_write_open_filename(c->a, path) != ARCHIVE_OK) {
		kiln_error(ctx, KILN_EXIT_FAILED, "cannot create '%s': %s", path, archive_error_string(c->a));
		kiln_cpio_abort(c);
		return NULL;
	}
	return c;
}

/* Where an uncompressed archive goes: a file, and a hash of what passed. */
struct fd_sink {
	int fd;
	struct kiln_sha256_stream *hash;
};

static la_ssize_t
fd_sink_write(struct archive *a, void *user, const void *buf, size_t len)
{
	struct fd_sink *s = user;

	if (kiln_write_all(s->fd, buf, len) < 0) {
		archive_set_error(a, errno, "%s", strerror(errno));
		return -1;
	}
	if (s->hash)
		kiln_sha256_stream_add(s->hash, buf, len);
	return (la_ssize_t)len;
}

static int
fd_sink_close(struct archive *a, void *user)
{
	(void)a;
	free(user);
	return ARCHIVE_OK;
}

struct kiln_cpio *
kiln_cpio_open_fd(struct kiln_ctx *ctx, int fd, struct kiln_sha256_stream *hash)
{
	struct kiln_cpio *c = kiln_calloc(1, sizeof(*c));
	struct fd_sink *s = kiln_calloc(1, sizeof(*s));

	s->fd = fd;
	s->hash = hash;
	c->a = archive_write_new();
	archive_write_set_format_cpio_newc(c->a);
	if (archive_write_set_bytes_per_block(c->a, 0) != ARCHIVE_OK ||
	    archive_write_open2(c->a, s, NULL, fd_sink_write, NULL, fd_sink_close) != ARCHIVE_OK) {
		kiln_error(ctx, KILN_EXIT_FAILED, "cannot start an archive: %s", archive_error_string(c->a));
		kiln_cpio_abort(c);
		return NULL;
	}
	return c;
}

int
kiln_compress_fd(struct kiln_ctx *ctx, int in, int out, const char *compression)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	struct fd_sink sink = { out, NULL };
	char buf[65536];
	ssize_t n = 0;
	int rc = 0;

	archive_write_set_format_raw(a);
	archive_entry_set_pathname(e, "data");
	archive_entry_set_mode(e, AE_IFREG | 0644);
	if (add_filter(a, compression) != ARCHIVE_OK ||
	    archive_write_open2(a, &sink, NULL, fd_sink_write, NULL, NULL) != ARCHIVE_OK ||
	    archive_write_header(a, e) != ARCHIVE_OK)
		rc = kiln_error(ctx, KILN_EXIT_FAILED, "cannot compress: %s", archive_error_string(a));
	while (rc == 0 && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = kiln_error(ctx, KILN_EXIT_FAILED, "cannot read what to compress: %s", strerror(errno));
		else if (archive_write_data(a, buf, (size_t)n) != n)
			rc = kiln_error(ctx, KILN_EXIT_FAILED, "cannot compress: %s", archive_error_string(a));
	}
	if (rc == 0 && archive_write_close(a) != ARCHIVE_OK)
		rc = kiln_error(ctx, KILN_EXIT_FAILED, "cannot compress: %s", archive_error_string(a));
	archive_entry_free(e);
	archive_write_free(a);
	return rc;
}

/* An entry's header with what every entry has: name, owner, mtime, a fresh inode number. */
static struct archive_entry *
entry_new(struct kiln_cpio *c, const char *path, unsigned uid, unsigned gid, int64_t mtime)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, path[0] == '/' ? path + 1 : path);
	archive_entry_set_uid(e, uid);
	archive_entry_set_gid(e, gid);
	archive_entry_set_mtime(e, mtime, 0);
	archive_entry_set_ino64(e, ++c->ino);
	archive_entry_set_dev(e, 0);
	archive_entry_set_size(e, 0);
	return e;
}

static int
write_header(struct kiln_ctx *ctx, struct kiln_cpio *c, struct archive_entry *e, const char *path)
{
	int rc = 0;

	if (archive_write_header(c->a, e) != ARCHIVE_OK)
		rc = kiln_error(ctx, KILN_EXIT_FAILED, "cannot write '%s' to the initramfs: %s", path,
				archive_error_string(c->a));
	archive_entry_free(e);
	return rc;
}

int
kiln_cpio_add(struct kiln_ctx *ctx, struct kiln_cpio *c, const char *path, enum kiln_entry_type type,
	      unsigned mode, unsigned uid, unsigned gid, int64_t mtime, const void *data, size_t len,
	      const char *link, unsigned rdev_major, unsigned rdev_minor)
{
	struct archive_entry *e;

	if (type != KILN_ENT_DIR && type != KILN_ENT_SYMLINK && type != KILN_ENT_CHAR)
		return kiln_cpio_begin_file(ctx, c, path, mode, uid, gid, mtime, len, 1, NULL) < 0 ? -1
			: kiln_cpio_write(ctx, c, data, len);
	e = entry_new(c, path, uid, gid, mtime);
	switch (type) {
	case KILN_ENT_DIR:
		archive_entry_set_mode(e, AE_IFDIR | mode);
		archive_entry_set_nlink(e, 2);
		break;
	case KILN_ENT_SYMLINK:
		archive_entry_set_mode(e, AE_IFLNK | 0777);
		archive_entry_set_symlink(e, link);
		archive_entry_set_nlink(e, 1);
		break;
	default:
		archive_entry_set_mode(e, AE_IFCHR | mode);
		archive_entry_set_rdevmajor(e, rdev_major);
		archive_entry_set_rdevminor(e, rdev_minor);
		archive_entry_set_nlink(e, 1);
		break;
	}
	return write_header(ctx, c, e, path);
}

int
kiln_cpio_begin_file(struct kiln_ctx *ctx, struct kiln_cpio *c, const char *path, unsigned mode, unsigned uid,
		     unsigned gid, int64_t mtime, uint64_t size, unsigned nlink, int64_t *ino)
{
	struct archive_entry *e = entry_new(c, path, uid, gid, mtime);

	if (ino && *ino)	/* another name of an inode already written */
		archive_entry_set_ino64(e, *ino);
	else if (ino)
		*ino = archive_entry_ino64(e);
	archive_entry_set_mode(e, AE_IFREG | mode);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_nlink(e, nlink);
	return write_header(ctx, c, e, path);
}

int
kiln_cpio_write(struct kiln_ctx *ctx, struct kiln_cpio *c, const void *data, size_t len)
{
	if (len && archive_write_data(c->a, data, len) != (la_ssize_t)len)
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot write to the initramfs: %s", archive_error_string(c->a));
	return 0;
}

int
kiln_cpio_close(struct kiln_ctx *ctx, struct kiln_cpio *c)
{
	int rc = 0;

	if (archive_write_close(c->a) != ARCHIVE_OK)
		rc = kiln_error(ctx, KILN_EXIT_FAILED, "cannot finish the initramfs: %s", archive_error_string(c->a));
	archive_write_free(c->a);
	free(c);
	return rc;
}

void
kiln_cpio_abort(struct kiln_cpio *c)
{
	if (!c)
		return;
	archive_write_free(c->a);
	free(c);
}

int
kiln_gunzip(struct kiln_ctx *ctx, const void *data, size_t len, size_t max, char **ret, size_t *ret_len)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	struct kiln_buf b = { 0 };
	char chunk[65536];
	la_ssize_t n = 0;

	archive_read_support_filter_gzip(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK || archive_read_next_header(a, &ae) != ARCHIVE_OK) {
		archive_read_free(a);
		return kiln_error(ctx, KILN_EXIT_USAGE, "not gzip data");
	}
	while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0) {
		if (b.len + (size_t)n > max) {
			n = -2;
			break;
		}
		kiln_buf_add(&b, chunk, n);
	}
	archive_read_free(a);
	if (n < 0) {
		kiln_buf_release(&b);
		if (n == -2)
			return kiln_error(ctx, KILN_EXIT_USAGE, "larger than %zu bytes once decompressed", max);
		return kiln_error(ctx, KILN_EXIT_USAGE, "corrupt gzip data");
	}
	*ret = kiln_buf_detach(&b, ret_len);
	return 0;
}
