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
	struct archive *outer;	/* the .deb (ar) */
	struct archive *inner;	/* its data.tar.* */
	char buf[65536];
};

static la_ssize_t
inner_read(struct archive *a, void *user, const void **buf)
{
	struct kiln_deb_reader *r = user;
	la_ssize_t n = archive_read_data(r->outer, r->buf, sizeof(r->buf));

	(void)a;
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

static int
foreach_data(struct kiln_ctx *ctx, struct kiln_deb_reader *r, const char *what,
	     int (*cb)(struct kiln_ctx *, void *, const struct kiln_deb_entry *, struct kiln_deb_reader *),
	     void *user)
{
	struct archive_entry *ae;
	int rc;

	r->inner = archive_read_new();
	archive_read_support_filter_all(r->inner);
	archive_read_support_format_tar(r->inner);
	if (archive_read_open(r->inner, r, NULL, inner_read, NULL) != ARCHIVE_OK)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': bad data.tar: %s", what,
				  archive_error_string(r->inner));
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
		if (e.type == KILN_ENT_HARDLINK)
			e.link = archive_entry_hardlink(ae);
		else if (e.type == KILN_ENT_SYMLINK)
			e.link = archive_entry_symlink(ae);
		if ((e.type == KILN_ENT_SYMLINK || e.type == KILN_ENT_HARDLINK) && !e.link)
			return kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': link '%s' without a target", what, e.path);
		if (cb(ctx, user, &e, r) < 0)
			return -1;
	}
	if (rc != ARCHIVE_EOF)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': bad data.tar: %s", what,
				  archive_error_string(r->inner));
	return 0;
}

static void
reader_free(struct kiln_deb_reader *r)
{
	if (r->inner)
		archive_read_free(r->inner);
	archive_read_free(r->outer);
	free(r);
}

/* Decompresses the current member of @outer (data.tar.*) into @fd: one raw stream. */
static int
decompress_member(struct kiln_ctx *ctx, struct kiln_deb_reader *r, const char *what, int fd)
{
	struct archive_entry *ae;
	char buf[65536];
	la_ssize_t n;

	r->inner = archive_read_new();
	archive_read_support_filter_all(r->inner);
	archive_read_support_format_raw(r->inner);
	if (archive_read_open(r->inner, r, NULL, inner_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(r->inner, &ae) != ARCHIVE_OK)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': bad data.tar: %s", what,
				  archive_error_string(r->inner));
	while ((n = archive_read_data(r->inner, buf, sizeof(buf))) > 0)
		if (write(fd, buf, n) != n)
			return kiln_error(ctx, KILN_EXIT_FAILED, "cannot write the package cache: %s", strerror(errno));
	if (n < 0)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': bad data.tar: %s", what,
				  archive_error_string(r->inner));
	archive_read_free(r->inner);
	r->inner = NULL;
	return 0;
}

/* Writes the decompressed data.tar of the .deb at @path to @tar (atomically). */
static int
unpack_data_tar(struct kiln_ctx *ctx, const char *path, const char *what, const char *tar)
{
	struct kiln_deb_reader *r = kiln_calloc(1, sizeof(*r));
	char *tmp = kiln_asprintf("%s.tmp.XXXXXX", tar);
	struct archive_entry *ae;
	int rc = -1, found = 0, arc, fd = mkostemp(tmp, O_CLOEXEC);

	if (fd < 0) {
		kiln_error(ctx, KILN_EXIT_FAILED, "cannot create '%s': %s", tmp, strerror(errno));
		free(tmp);
		free(r);
		return -1;
	}
	r->outer = archive_read_new();
	archive_read_support_format_ar(r->outer);
	if (archive_read_open_filename(r->outer, path, 65536) != ARCHIVE_OK) {
		kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': not a .deb: %s", what, archive_error_string(r->outer));
		goto out;
	}
	while ((arc = archive_read_next_header(r->outer, &ae)) == ARCHIVE_OK) {
		const char *n = archive_entry_pathname(ae);

		if (n && kiln_startswith(n, "data.tar")) {
			found = 1;
			rc = decompress_member(ctx, r, what, fd);
			break;
		}
	}
	if (!found && arc != ARCHIVE_OK && arc != ARCHIVE_EOF)
		kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': not a .deb: %s", what, archive_error_string(r->outer));
	else if (!found)
		kiln_error(ctx, KILN_EXIT_INTEGRITY, "package '%s': no data.tar member", what);
	if (rc == 0 && (fsync(fd) < 0 || rename(tmp, tar) < 0))
		rc = kiln_error(ctx, KILN_EXIT_FAILED, "cannot write '%s': %s", tar, strerror(errno));
out:
	close(fd);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	reader_free(r);
	return rc;
}

int
kiln_deb_foreach(struct kiln_ctx *ctx, const char *path, const char *what, const char *data_tar,
		 int (*cb)(struct kiln_ctx *, void *, const struct kiln_deb_entry *, struct kiln_deb_reader *),
		 void *user)
{
	struct kiln_deb_reader *r;
	struct stat st;
	int rc;

	if (stat(data_tar, &st) < 0 && unpack_data_tar(ctx, path, what, data_tar) < 0)
		return -1;
	r = kiln_calloc(1, sizeof(*r));
	r->outer = archive_read_new();	/* the data.tar itself, uncompressed */
	archive_read_support_format_raw(r->outer);
	if (archive_read_open_filename(r->outer, data_tar, 1 << 20) != ARCHIVE_OK ||
	    archive_read_next_header(r->outer, &(struct archive_entry *){ NULL }) != ARCHIVE_OK) {
		rc = kiln_error(ctx, KILN_EXIT_FAILED, "cannot read '%s': %s", data_tar, archive_error_string(r->outer));
	} else {
		rc = foreach_data(ctx, r, what, cb, user);
	}
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
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "cannot read entry: %s", archive_error_string(r->inner));
	}
	*ret = kiln_buf_detach(&b, ret_len);
	return 0;
}

struct kiln_cpio {
	struct archive *a;
	int64_t ino;
};

struct kiln_cpio *
kiln_cpio_open(struct kiln_ctx *ctx, const char *path, const char *compression)
{
	struct kiln_cpio *c = kiln_calloc(1, sizeof(*c));
	char *alg, *level;
	int rc = ARCHIVE_OK;

	c->a = archive_write_new();
	archive_write_set_format_cpio_newc(c->a);
	alg = kiln_strdup(compression);
	level = strchr(alg, ':');
	if (level)
		*level++ = '\0';
	if (strcmp(alg, "zstd") == 0) {
		rc = archive_write_add_filter_zstd(c->a);
		if (rc == ARCHIVE_OK)
			rc = archive_write_set_filter_option(c->a, "zstd", "compression-level", level ? level : "9");
		/* a fixed worker count: zstd's output then depends on the data and level only */
		if (rc == ARCHIVE_OK)
			rc = archive_write_set_filter_option(c->a, "zstd", "threads", "2");
	} else if (strcmp(alg, "gzip") == 0) {
		rc = archive_write_add_filter_gzip(c->a);
		if (rc == ARCHIVE_OK)	/* no timestamp in the gzip header: reproducible */
			rc = archive_write_set_filter_option(c->a, "gzip", "timestamp", NULL);
		if (rc == ARCHIVE_OK && level)
			rc = archive_write_set_filter_option(c->a, "gzip", "compression-level", level);
	} else if (strcmp(alg, "xz") == 0) {
		rc = archive_write_add_filter_xz(c->a);
		if (rc == ARCHIVE_OK)	/* the kernel's xz decoder wants CRC32 */
			rc = archive_write_set_filter_option(c->a, "xz", "threads", "1");
		if (rc == ARCHIVE_OK && level)
			rc = archive_write_set_filter_option(c->a, "xz", "compression-level", level);
	}
	free(alg);
	/* cpio's bytes-per-block padding must not depend on anything but the content */
	if (rc == ARCHIVE_OK)
		rc = archive_write_set_bytes_per_block(c->a, 0);
	if (rc != ARCHIVE_OK || archive_write_open_filename(c->a, path) != ARCHIVE_OK) {
		kiln_error(ctx, KILN_EXIT_FAILED, "cannot create '%s': %s", path, archive_error_string(c->a));
		kiln_cpio_abort(c);
		return NULL;
	}
	return c;
}

int
kiln_cpio_add(struct kiln_ctx *ctx, struct kiln_cpio *c, const char *path, enum kiln_entry_type type,
	      unsigned mode, unsigned uid, unsigned gid, int64_t mtime, const void *data, size_t len,
	      const char *link, unsigned rdev_major, unsigned rdev_minor)
{
	struct archive_entry *e = archive_entry_new();
	int rc = 0;

	archive_entry_set_pathname(e, path[0] == '/' ? path + 1 : path);
	archive_entry_set_uid(e, uid);
	archive_entry_set_gid(e, gid);
	archive_entry_set_mtime(e, mtime, 0);
	archive_entry_set_ino64(e, ++c->ino);
	archive_entry_set_dev(e, 0);
	archive_entry_set_size(e, 0);
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
	case KILN_ENT_CHAR:
		archive_entry_set_mode(e, AE_IFCHR | mode);
		archive_entry_set_rdevmajor(e, rdev_major);
		archive_entry_set_rdevminor(e, rdev_minor);
		archive_entry_set_nlink(e, 1);
		break;
	default:
		archive_entry_set_mode(e, AE_IFREG | mode);
		archive_entry_set_size(e, (la_int64_t)len);
		archive_entry_set_nlink(e, 1);
		break;
	}
	if (archive_write_header(c->a, e) != ARCHIVE_OK ||
	    (type == KILN_ENT_FILE && len && archive_write_data(c->a, data, len) != (la_ssize_t)len))
		rc = kiln_error(ctx, KILN_EXIT_FAILED, "cannot write '%s' to the initramfs: %s", path,
				archive_error_string(c->a));
	archive_entry_free(e);
	return rc;
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

struct seqline {
	const char *line;
	size_t seq;
};

static size_t
path_len(const char *line)
{
	return strcspn(line, "\t");
}

/* By path, then by position in the archive. */
static int
seqline_cmp(const void *a, const void *b)
{
	const struct seqline *x = a, *y = b;
	size_t lx = path_len(x->line), ly = path_len(y->line);
	int c = memcmp(x->line, y->line, lx < ly ? lx : ly);

	if (c)
		return c;
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int
kiln_initrd_files_tsv(struct kiln_ctx *ctx, const char *path, char **ret_tsv, size_t *ret_count)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	struct kiln_strv lines = { 0 };
	struct kiln_buf out = { 0 };
	char buf[65536];
	int rc;

	archive_read_support_filter_all(a);
	archive_read_support_format_cpio(a);
	if (archive_read_open_filename(a, path, 1 << 20) != ARCHIVE_OK) {
		kiln_error(ctx, KILN_EXIT_INTEGRITY, "cannot read '%s': %s", path, archive_error_string(a));
		archive_read_free(a);
		return -1;
	}
	while ((rc = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ae);
		unsigned mode = archive_entry_mode(ae);
		char hex[65] = "-";
		int64_t size = 0;

		if (!name)
			break;
		if (S_ISREG(mode)) {
			struct kiln_sha256_stream *h = kiln_sha256_stream_new();
			la_ssize_t n;

			while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
				kiln_sha256_stream_add(h, buf, n);
				size += n;
			}
			kiln_sha256_stream_end(h, hex);
			if (n < 0) {
				rc = ARCHIVE_FATAL;
				break;
			}
		} else if (S_ISLNK(mode) && archive_entry_symlink(ae)) {
			size = (int64_t)strlen(archive_entry_symlink(ae));
			kiln_sha256_hex(archive_entry_symlink(ae), (size_t)size, hex);
		}
		kiln_strv_push_take(&lines, kiln_asprintf("/%s\t%06o\t%u\t%u\t%lld\t%s\n", name, mode,
							  (unsigned)archive_entry_uid(ae), (unsigned)archive_entry_gid(ae),
							  (long long)size, hex));
	}
	if (rc != ARCHIVE_EOF) {
		kiln_error(ctx, KILN_EXIT_INTEGRITY, "'%s' is not a readable initramfs: %s", path, archive_error_string(a));
		archive_read_free(a);
		kiln_strv_release(&lines);
		return -1;
	}
	archive_read_free(a);
	/* as the kernel unpacks it: a path given twice is what its last entry says */
	{
		struct seqline *sl = kiln_calloc(lines.n ? lines.n : 1, sizeof(*sl));
		size_t count = 0;

		for (size_t i = 0; i < lines.n; i++) {
			sl[i].line = lines.v[i];
			sl[i].seq = i;
		}
		qsort(sl, lines.n, sizeof(*sl), seqline_cmp);
		for (size_t i = 0; i < lines.n; i++) {
			if (i + 1 < lines.n && path_len(sl[i].line) == path_len(sl[i + 1].line) &&
			    memcmp(sl[i].line, sl[i + 1].line, path_len(sl[i].line)) == 0)
				continue;
			kiln_buf_add(&out, sl[i].line, strlen(sl[i].line));
			count++;
		}
		free(sl);
		*ret_count = count;
	}
	kiln_strv_release(&lines);
	*ret_tsv = kiln_buf_detach(&out, NULL);
	return 0;
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
